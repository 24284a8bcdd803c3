"""PII redaction: suggestions found in answers' words (phone numbers, NHS numbers with a
valid mod-11 check digit, emails, full postcodes, dates of birth, ages, names from a
list), decided by a reviewer, and applied to text in exports with offsets mapped for
coded spans.

Names match whatever their case ("mohammed khan", "MOHAMMED KHAN"), compared after
Unicode case folding and canonical decomposition, so "STRAUSS" finds "Strauß" and a
name typed with combining accents finds the precomposed one. Common words that are also
names ("brown", "islam") are therefore suggested too; reviewers reject those.

Dates of birth: a full date in a common UK form (12/03/1987, 12.3.87, 12-03-1987,
12 March 1987, 12th Mar 1987, March 12th 1987, March 12, 1987) is suggested when its
year is at least ten years ago (an appointment date is rarely that old) or when it
follows a cue ("DOB", "D.O.B.", "date of birth", "born"); a year alone is suggested
after "born" ("born in 1987"). Ages: "aged 34", "age 34", "I'm 34", "I am 34",
"34 years old", "34-year-old". Only the date or the number is marked, so a redacted
text reads "born in [date_of_birth]" or "aged [age]".
"""

from __future__ import annotations

import bisect
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
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
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


def find_pii(text: str, names: Iterable[str] = NAMES, region: str = "GB"
             ) -> list[tuple[int, int, str]]:
    """Spans (start, end, kind) that look like personal data, without overlaps."""
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
    # POSSIBLE, not VALID: a number outside the allocated ranges is still someone's number.
    for match in phonenumbers.PhoneNumberMatcher(text, region,
                                                 leniency=phonenumbers.Leniency.POSSIBLE):
        if sum(ch.isdigit() for ch in match.raw_string) >= 7:  # not a year or an age
            found.append((match.start, match.end, "phone"))
    found += [(s, e, "name") for s, e in _names_in(text, names)]
    # Earlier kinds win an overlap (an NHS number is also a string of digits).
    kept: list[tuple[int, int, str]] = []
    for span in found:
        if not any(span[0] < k[1] and k[0] < span[1] for k in kept):
            kept.append(span)
    return sorted(kept)


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
    for s, e, kind in spans:
        if s < cursor:
            continue
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
