"""PII redaction: suggestions found in answers' words (phone numbers, NHS numbers with a
valid mod-11 check digit, emails, full postcodes, dates of birth, ages, names from a
list), decided by a reviewer, and applied to text in exports with offsets mapped for
coded spans.

Names match whatever their case ("mohammed khan", "MOHAMMED KHAN"), compared after
Unicode case folding and canonical decomposition, so "STRAUSS" finds "Strauß" and a
name typed with combining accents finds the precomposed one. Common words that are also
names ("brown", "islam") are therefore suggested too; reviewers reject those.

Staff's free text about answers (memos on an answer, memos on a code) is redacted for
readers of the pseudonymised view by the same suggestions, applied at once since nobody
decides them one by one (`redact_free_text`): a memo quoting "Sarah said call 07700
900456" reads "[name] said call [phone]". On an answer's memo the respondent's own
contact details are hidden too, wherever they appear (`contact_terms`).

Dates of birth: a full date in a common UK form (12/03/1987, 12.3.87, 12-03-1987,
12 March 1987, 12th Mar 1987, March 12th 1987, March 12, 1987) is suggested when its
year is at least ten years ago (an appointment date is rarely that old) or when it
follows a cue ("DOB", "D.O.B.", "date of birth", "born"); a year alone is suggested
after "born" ("born in 1987"). Ages: "aged 34", "age 34", "I'm 34", "I am 34",
"34 years old", "34-year-old". Only the date or the number is marked, so a redacted
text reads "born in [date_of_birth]" or "aged [age]".

Phone numbers: phonenumbers' matcher (POSSIBLE leniency) over the text, and, because it
reads a run of digit groups as one candidate ("07700 900123 943 476 5919" is no number),
each run split into the numbers written in a UK form (0 and 9-10 digits, or +/00) that
phonenumbers accepts. Any run of whitespace between digit groups is a separator as a
space is (a thin, narrow no-break or figure space, any other Unicode space, a tab, a line
break: "07700\u2009900123", "07700\n900123"), and a run of more digits than one UK number
holds ("0770090012307700900456") may be split anywhere between its digits. Where
suggestions of any kinds overlap, they become one span over all of them: more is hidden,
never less.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable

import phonenumbers

from cohear import audit
from cohear.auth import User
from cohear.errors import BadInput, NotFound
from cohear.permissions import register
from cohear.store import Store, utcnow

register({"redactions.decide": {"admin", "reviewer"}})

KINDS = ("phone", "nhs_number", "email", "postcode", "date_of_birth", "age", "name")
# What a respondent's own contact details are marked as, in free text (never suggested on
# answers' words, whose redactions are stored and decided).
CONTACT = "contact"
# Anchored at the start of a run of the characters an address may hold: unanchored, a
# 200,000-character word is tried from each of its characters (quadratic).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NHS = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b", re.IGNORECASE)
# Common given names and surnames in the West Midlands' communities; a data directory
# may add its own, one per line, in `redaction-names.txt`.
NAMES = ("Mohammed", "Muhammad", "Ahmed", "Ali", "Hussain", "Khan", "Begum", "Bibi", "Akhtar",
         "Fatima", "Ayesha", "Aisha", "Singh", "Kaur", "Patel", "Shah", "Sharma", "Kumar",
         "Rahman", "Islam", "Uddin", "Hassan", "Abdi", "Omar", "Yusuf", "Nowak", "Kowalski",
         "Kowalska", "Popescu", "Smith", "Jones", "Williams", "Brown", "Taylor", "Mary",
         "John", "David", "Sarah", "Priya", "Amir", "Zainab", "Bilal", "Imran", "Nadia")


def nhs_number_valid(digits: str) -> bool:
    """The NHS number's mod-11 check: weights 10..2 on the first nine digits; 11 minus
    the remainder is the check digit (11 counts as 0, 10 is never valid)."""
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


_MONTHS = {name: number for number, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1) for name in names}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)[0-9]{2}|[0-9]{2})"
_DATES = [re.compile(p, re.IGNORECASE) for p in (
    r"(?<![\w/.-])(?P<day>0?[1-9]|[12][0-9]|3[01])(?P<sep>[/.-])(?P<month>0?[1-9]|1[0-2])"
    r"(?P=sep)" + _YEAR + r"(?![\w/-]|\.[0-9])",          # 12/03/1987, 12.3.87, 12-03-1987
    r"(?<!\w)" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR + r"(?!\w)",  # 12 March 1987
    r"(?<!\w)" + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + r"(?!\w)",  # March 12th, 1987
)]
_DOB_CUE = re.compile(r"(?:\bd\.?o\.?b\b\.?|\bdate\s+of\s+birth\b(?:\s+(?:is|was))?|\bborn\b"
                      r"(?:\s+on)?)\s*[:,-]?\s*$", re.IGNORECASE)
_BORN_YEAR = re.compile(r"\bborn\s+(?:in\s+)?(?P<year>(?:19|20)[0-9]{2})\b", re.IGNORECASE)
_UNITS = r"(?!\s*(?:%|per\s?cent|weeks?|days?|months?|hours?|minutes?|mins?|miles?|km|kg|st\b|lb))"
_AGES = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(?:aged|age[:]?)\s+(?P<age>[0-9]{1,3})\b" + _UNITS,
    r"\b(?:i'?m|i’m|i\s+am)\s+(?P<age>[0-9]{1,3})\b" + _UNITS,
    r"(?<![\w.])(?P<age>[0-9]{1,3})(?:\s+|-)years?(?:\s+|-)old\b",
)]
_RECENT_YEARS = 10  # a full date at least this many years ago is probably a birth date


def _full_year(year: str, this_year: int) -> int:
    if len(year) == 4:
        return int(year)
    value = int(year)
    return 2000 + value if 2000 + value <= this_year else 1900 + value


def _dates_of_birth(text: str) -> list[tuple[int, int]]:
    import datetime as dt
    this_year = dt.date.today().year
    spans = []
    for pattern in _DATES:
        for m in pattern.finditer(text):
            month = m.group("month")
            if not month.isdigit():
                month = _MONTHS[month.lower().rstrip(".")]
            try:
                dt.date(_full_year(m.group("year"), this_year), int(month), int(m.group("day")))
            except ValueError:
                continue  # 31/02/1987 is not a date
            year = _full_year(m.group("year"), this_year)
            cued = bool(_DOB_CUE.search(text[max(0, m.start() - 30):m.start()]))
            if cued or 1900 <= year <= this_year - _RECENT_YEARS:
                spans.append((m.start(), m.end()))
    spans += [m.span("year") for m in _BORN_YEAR.finditer(text)]
    return spans


def _ages(text: str) -> list[tuple[int, int]]:
    return [m.span("age") for pattern in _AGES for m in pattern.finditer(text)
            if int(m.group("age")) <= 120]


def _fold(text: str) -> tuple[str, list[int]]:
    """The text case-folded and decomposed (NFD), with each folded character's offset in
    the original (casefold may lengthen a character: "ß" -> "ss")."""
    folded, origin = [], []
    for i, ch in enumerate(text):
        f = unicodedata.normalize("NFD", ch.casefold())
        folded.append(f)
        origin.extend([i] * len(f))
    origin.append(len(text))
    return "".join(folded), origin


def _names_in(text: str, names: Iterable[str]) -> list[tuple[int, int]]:
    wanted = {unicodedata.normalize("NFD", n.strip().casefold()) for n in names if n.strip()}
    if not wanted:
        return []
    folded, origin = _fold(text)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(
        re.escape(n) for n in sorted(wanted, key=len, reverse=True)) + r")(?![\w\u0300-\u036f])")
    return [(origin[m.start()], origin[m.end() - 1] + 1) for m in pattern.finditer(folded)]


# A run of digits that may hold phone numbers: digits with the separators people put
# between their groups (any whitespace: a thin or narrow no-break space, a tab, a line
# break; hyphens, dots, brackets), and a leading + for +44.
_DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().-]*\d\)?")
_DIGIT_GROUP = re.compile(r"\+?\(?\d+\)?")
_NUMERIC_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}")
_SPACES = re.compile(r"\s+")
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 7, 15
_UK_NATIONAL_DIGITS = 11  # a group of more digits than this may be two numbers run together


def _a_phone_number(candidate: str, region: str) -> bool:
    """phonenumbers' own judgement (POSSIBLE leniency, as for the whole text) of exactly
    these characters as one number, every whitespace run read as one space (phonenumbers
    splits a number at a thin space or a line break); a date written 12.03.1987 is never
    one."""
    digits = sum(ch.isdigit() for ch in candidate)
    if not _MIN_PHONE_DIGITS <= digits <= _MAX_PHONE_DIGITS + 2:  # + 2: a 00 or (0)
        return False
    if _NUMERIC_DATE.fullmatch(candidate):
        return False
    return _accepted(_SPACES.sub(" ", candidate), region)


@functools.lru_cache(maxsize=4096)
def _accepted(candidate: str, region: str) -> bool:
    # Cached: a long run of digits puts the same few candidates to phonenumbers again
    # and again (a transcript of 200,000 zeros is 40,000 tries of "00000000000").
    return any(m.start == 0 and m.end == len(candidate) for m in phonenumbers.PhoneNumberMatcher(
        candidate, region, leniency=phonenumbers.Leniency.POSSIBLE))


def _whole_number_shape(candidate: str) -> bool:
    """Written as a whole number is in the UK: 0 and 9 or 10 more digits (01214960000,
    07700 900123, (0121) 496 0000), or international (+44..., 0044..., +48...), in
    groups of two digits or more after the first (a count, "0 1 2 3 4 5 6 7 8 9", is not
    a number; "+44 (0)121" is)."""
    groups = [g for g in _DIGIT_GROUP.findall(candidate)[1:] if g.strip("()") != "0"]
    if any(sum(ch.isdigit() for ch in g) < 2 for g in groups):
        return False
    digits = "".join(ch for ch in candidate if ch.isdigit())
    if candidate.lstrip("(").startswith("+") or digits.startswith("00"):
        return True
    return digits.startswith("0") and len(digits) in (10, 11)


def _phones_in_run(text: str, start: int, end: int, region: str) -> list[tuple[int, int]]:
    """Phone numbers in one run of digit groups ("07700 900123 943 476 5919", "0121 496
    0000 07700 900123"): phonenumbers reads a run as one candidate, and a run of two
    numbers is no number at all. Every stretch of consecutive groups written as a whole
    number is (see `_whole_number_shape`) is put to phonenumbers, and of the splits of
    the run into the numbers it accepts, the one covering most digits wins (then the
    one with fewer numbers). Only stretches starting with 0 or + are tried, so a run of
    small numbers ("4 5 6 7 8") costs little and is not taken for a phone number. A group
    of more digits than a UK number holds ("0770090012307700900456") is taken digit by
    digit, so it may be split between any two of its digits."""
    groups = []
    for m in _DIGIT_GROUP.finditer(text[start:end]):
        s, e = start + m.start(), start + m.end()
        if sum(ch.isdigit() for ch in m.group()) > _UK_NATIONAL_DIGITS:
            cuts = [s] + [i for i in range(s + 1, e) if text[i].isdigit() and text[i - 1].isdigit()]
            groups += list(zip(cuts, [*cuts[1:], e], strict=True))
        else:
            groups.append((s, e))
    n = len(groups)
    # best[i]: (digits covered, -numbers, first span, the group after it) from group i on;
    # the spans are followed from group to group at the end, not copied at each step (a
    # run of 200,000 digits holds 18,000 numbers).
    best: list[tuple[int, int, tuple[int, int] | None, int]] = [(0, 0, None, n)] * (n + 1)
    for i in range(n - 1, -1, -1):
        choice = best[i + 1]
        first = text[groups[i][0]:groups[i][1]].lstrip("(")
        if first.startswith(("0", "+")):
            digits = 0
            for j in range(i, n):
                digits += sum(ch.isdigit() for ch in text[groups[j][0]:groups[j][1]])
                if digits > _MAX_PHONE_DIGITS + 2:  # + 2: a 00 or a (0)
                    break
                s, e = groups[i][0], groups[j][1]
                if not (_whole_number_shape(text[s:e]) and _a_phone_number(text[s:e], region)):
                    continue
                rest = best[j + 1]
                option = (digits + rest[0], rest[1] - 1, (s, e), j + 1)
                if option[:2] > choice[:2]:
                    choice = option
        best[i] = choice
    spans, i = [], 0
    while i < n:
        _, _, span, after = best[i]
        if span is None:
            break
        spans.append(span)
        i = after
    return spans


def _phone_numbers(text: str, region: str) -> list[tuple[int, int]]:
    # POSSIBLE, not VALID: a number outside the allocated ranges is still someone's number.
    spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.POSSIBLE)
        if sum(ch.isdigit() for ch in m.raw_string) >= _MIN_PHONE_DIGITS]  # not a year or an age
    for run in _DIGIT_RUN.finditer(text):
        groups = _DIGIT_GROUP.findall(run.group())
        if len(groups) > 1 or sum(ch.isdigit() for ch in run.group()) > _UK_NATIONAL_DIGITS:
            spans += _phones_in_run(text, run.start(), run.end(), region)
    return spans


def find_pii(text: str, names: Iterable[str] = NAMES, region: str = "GB"
             ) -> list[tuple[int, int, str]]:
    """Spans (start, end, kind) that look like personal data, without overlaps: where
    two overlap they become one span over both (redact more, never less), of the kind
    found first (an NHS number is also a string of digits)."""
    found: list[tuple[int, int, str]] = []
    for m in _NHS.finditer(text):
        if nhs_number_valid("".join(m.groups())):
            found.append((m.start(), m.end(), "nhs_number"))
    for m in _EMAIL.finditer(text):
        found.append((m.start(), m.end(), "email"))
    for m in _POSTCODE.finditer(text):
        found.append((m.start(), m.end(), "postcode"))
    # Before phone numbers: 12/03/1987 has enough digits to pass for one.
    found += [(s, e, "date_of_birth") for s, e in _dates_of_birth(text)]
    found += [(s, e, "age") for s, e in _ages(text)]
    found += [(s, e, "phone") for s, e in _phone_numbers(text, region)]
    found += [(s, e, "name") for s, e in _names_in(text, names)]
    return union(found)


def union(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans as one span over all of them, in order of where they start.
    Its kind is that of the longest span in it (of the one listed first, between equals):
    a stray ten digits across two phone numbers that pass the NHS check do not make the
    pair an NHS number."""
    rank: dict[tuple[int, int, str], int] = {}
    for i, span in enumerate(spans):
        rank.setdefault(span, i)
    merged: list[list] = []   # [start, end, kind, (-length, rank) of the span giving the kind]
    for span in sorted(rank, key=lambda sp: (sp[0], sp[1])):
        s, e, kind = span
        weight = (-(e - s), rank[span])
        if merged and s < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], e)
            if weight < last[3]:
                last[2], last[3] = kind, weight
        else:
            merged.append([s, e, kind, weight])
    return [(s, e, kind) for s, e, kind, _ in merged]


def contact_terms(contact: str | None) -> list[str]:
    """What to look for of a respondent's contact details in someone's notes: the whole
    detail, each part of it between commas, semicolons, slashes or line breaks (an
    address's lines), and each capitalised word in it (a name: "Sarah Jones, 07700
    900456" gives "Sarah" and "Jones"). Matched in any case, as names are."""
    contact = (contact or "").strip()
    if not contact:
        return []
    terms = {contact}
    terms.update(p.strip() for p in re.split(r"[,;/\n]+", contact) if len(p.strip()) >= 3)
    terms.update(w for w in re.findall(r"[^\W\d_][\w'-]*", contact)
                 if len(w) >= 2 and w[0].isupper())
    return sorted(terms, key=len, reverse=True)


def _contact_digits(contact: str | None) -> list[re.Pattern]:
    """A contact's numbers (7 digits or more) however they are spaced in the notes."""
    out = []
    for run in re.findall(r"\d[\d\s().+-]{5,}\d", contact or ""):
        digits = re.sub(r"\D", "", run)
        if len(digits) >= 7:
            out.append(re.compile(r"(?<!\d)" + r"[\s().+-]{0,3}".join(digits) + r"(?!\d)"))
    return out


def redact_free_text(text: str, names: Iterable[str] = NAMES, *,
                     contact: str | None = None) -> tuple[str, list[str]]:
    """Staff's free text (a memo) as a pseudonymised reader sees it: every suggestion
    `find_pii` makes, and the respondent's `contact` details where given, replaced by
    `[kind]` at once (a memo has no reviewer deciding its suggestions). Returns the text
    and the kinds hidden, in order."""
    if not text:
        return text or "", []
    found = find_pii(text, names)
    extra = [(s, e, CONTACT) for s, e in _names_in(text, contact_terms(contact))]
    extra += [(m.start(), m.end(), CONTACT) for p in _contact_digits(contact)
              for m in p.finditer(text)]
    # The contact's own words win an overlap: "[contact]" rather than "[name] [phone]".
    spans: list[tuple[int, int, str]] = []
    for span in sorted(extra, key=lambda x: (x[0], -x[1])) + found:
        if not any(span[0] < k[1] and k[0] < span[1] for k in spans):
            spans.append(span)
    spans.sort()
    shown, _ = redact(text, spans)
    return shown, [kind for _, _, kind in spans]


def names(store: Store) -> tuple[str, ...]:
    """The listed names: cohear's own and the data directory's `redaction-names.txt`."""
    return _names(store)


def _names(store: Store) -> tuple[str, ...]:
    extra = store.settings.data_dir / "redaction-names.txt"
    if extra.exists():
        more = [n.strip() for n in extra.read_text(encoding="utf-8").splitlines() if n.strip()]
        return NAMES + tuple(more)
    return NAMES


def suggest(conn, store: Store, answer_text_id: int, text: str) -> int:
    """Store suggestions for one text version (inside the caller's transaction)."""
    added = 0
    for start, end, kind in find_pii(text, _names(store)):
        cur = conn.execute("INSERT OR IGNORE INTO redactions (answer_text_id, start_offset, "
                           "end_offset, kind) VALUES (?, ?, ?, ?)",
                           (answer_text_id, start, end, kind))
        added += cur.rowcount
    return added


def suggest_again(store: Store, *, batch: int = 500) -> dict[str, int]:
    """Run today's rules over every stored answer text again, adding what older rules
    missed (a phone number next to another number); suggestions already there, and
    reviewers' decisions on them, stay as they are. Number, date and time answers are
    checked values and get none, as when they were stored. Returns the texts read and
    the suggestions added."""
    from surveys.values import VALUE_KINDS
    marks = ",".join("?" * len(VALUE_KINDS))
    names = _names(store)
    texts = added = 0
    last = 0
    while True:
        rows = store.all(
            "SELECT t.id, t.text FROM answer_texts t JOIN answers a ON a.id = t.answer_id "
            f"JOIN survey_questions q ON q.id = a.question_id WHERE t.id > ? AND q.kind NOT "
            f"IN ({marks}) ORDER BY t.id LIMIT ?", (last, *VALUE_KINDS, batch))
        if not rows:
            return {"texts": texts, "added": added}
        with store.transaction() as conn:
            for row in rows:
                for start, end, kind in find_pii(row["text"] or "", names):
                    added += conn.execute(
                        "INSERT OR IGNORE INTO redactions (answer_text_id, start_offset, "
                        "end_offset, kind) VALUES (?, ?, ?, ?)",
                        (row["id"], start, end, kind)).rowcount
        texts += len(rows)
        last = rows[-1]["id"]


CONTEXT_CHARS = 40  # words shown either side of a suggestion, for the reviewer deciding it


def list_for_answer(store: Store, answer_id: int) -> list[dict]:
    """The answer's redactions, oldest first, each with the words it marks (`found`) and
    up to `CONTEXT_CHARS` characters either side (`before`, `after`). Each text version is
    read once and a suggestion carries only its snippet, never a copy of the whole text,
    so the list costs in proportion to the words and the suggestions (a 200,000-character
    transcript with 18,000 suggestions once took 18 s and 3.7 MB to list)."""
    texts = {r["id"]: r["text"] for r in store.all(
        "SELECT id, text FROM answer_texts WHERE answer_id = ?", (answer_id,))}
    rows = store.all("SELECT r.*, t.rendering, t.version FROM redactions r JOIN answer_texts t "
                     "ON t.id = r.answer_text_id WHERE t.answer_id = ? ORDER BY r.id",
                     (answer_id,))
    out = []
    for r in rows:
        item = dict(r)
        text, start, end = texts[r["answer_text_id"]], r["start_offset"], r["end_offset"]
        item["found"] = text[start:end]
        item["before"] = text[max(0, start - CONTEXT_CHARS):start]
        item["after"] = text[end:end + CONTEXT_CHARS]
        out.append(item)
    return out


def decide(store: Store, actor: User, redaction_id: int, accept: bool) -> dict:
    actor.require("redactions.decide")
    with store.transaction() as conn:
        row = conn.execute("SELECT r.*, t.answer_id FROM redactions r JOIN answer_texts t ON "
                           "t.id = r.answer_text_id WHERE r.id = ?", (redaction_id,)).fetchone()
        if row is None:
            raise NotFound(f"redaction {redaction_id} does not exist", fix="check the id")
        status = "accepted" if accept else "rejected"
        conn.execute("UPDATE redactions SET status = ?, decided_by = ?, decided_at = ? "
                     "WHERE id = ?", (status, actor.id, utcnow(), redaction_id))
        audit.record(conn, actor, f"redaction.{'accept' if accept else 'reject'}", "answer",
                     row["answer_id"], detail=f"{row['kind']} at {row['start_offset']}..")
    return dict(store.one("SELECT * FROM redactions WHERE id = ?", (redaction_id,)))


def add_by_hand(store: Store, actor: User, answer_text_id: int, start: int, end: int,
                kind: str = "name") -> dict:
    """A reviewer marks a span themselves; it is accepted at once."""
    actor.require("redactions.decide")
    row = store.one("SELECT text FROM answer_texts WHERE id = ?", (answer_text_id,))
    if row is None:
        raise NotFound(f"text {answer_text_id} does not exist", fix="check the id")
    if not 0 <= start < end <= len(row["text"]):
        raise BadInput(f"the span {start}..{end} is outside the text",
                       fix=f"choose 0 <= start < end <= {len(row['text'])}")
    if kind not in KINDS:
        raise BadInput(f"{kind!r} is not a kind of personal data", fix="use " + ", ".join(KINDS))
    with store.transaction() as conn:
        conn.execute("INSERT INTO redactions (answer_text_id, start_offset, end_offset, kind, "
                     "status, decided_by, decided_at) VALUES (?, ?, ?, ?, 'accepted', ?, ?) "
                     "ON CONFLICT (answer_text_id, start_offset, end_offset) DO UPDATE SET "
                     "status = 'accepted', decided_by = excluded.decided_by, "
                     "decided_at = excluded.decided_at", (answer_text_id, start, end, kind,
                                                          actor.id, utcnow()))
        rid = conn.execute("SELECT id FROM redactions WHERE answer_text_id = ? AND "
                           "start_offset = ? AND end_offset = ?",
                           (answer_text_id, start, end)).fetchone()[0]
    return dict(store.one("SELECT * FROM redactions WHERE id = ?", (rid,)))


# -- applying ---------------------------------------------------------------------

def parse_spans(packed: str | None) -> list[tuple[int, int, str]]:
    """Spans packed by SQL as 'start:end:kind,...' (see exports)."""
    if not packed:
        return []
    out = []
    for part in packed.split(","):
        s, e, k = part.split(":", 2)
        out.append((int(s), int(e), k))
    return sorted(out)


def redact(text: str, spans: list[tuple[int, int, str]]) -> tuple[str, Callable[[int], int]]:
    """The text with each span replaced by `[kind]`, and a function mapping an offset in
    the original to the redacted text (an offset inside a span goes to its start). Linear
    in the text and the spans; each mapping is a binary search."""
    if not spans:
        return text, lambda p: p
    pieces, cursor, length = [], 0, 0
    starts: list[int] = []                   # kept spans' starts in the original
    ends: list[int] = []                     # ... and ends
    new_starts: list[int] = []               # where each label starts in the redacted text
    shifts: list[int] = []                   # the shift of an offset at or after its end
    shift = 0
    # Spans decided one by one may overlap (a reviewer's own and a suggestion): the
    # words of both are hidden, as one.
    for s, e, kind in union(spans):
        pieces.append(text[cursor:s])
        length += s - cursor
        label = f"[{kind}]"
        starts.append(s)
        ends.append(e)
        new_starts.append(length)
        pieces.append(label)
        length += len(label)
        shift += len(label) - (e - s)
        shifts.append(shift)
        cursor = e
    pieces.append(text[cursor:])

    def moved(p: int) -> int:
        i = bisect.bisect_left(starts, p) - 1      # the last span starting before p
        if i < 0:
            return p
        if p < ends[i]:
            return new_starts[i]
        return p + shifts[i]

    return "".join(pieces), moved
