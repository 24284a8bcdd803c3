"""Research exports of a survey: long CSV, wide CSV, XLSX, JSON and REFI-QDA (.qdpx),
each with a data dictionary; pseudonymised by default, streamed row by row, written
under a temporary name and renamed only when complete.

Pseudonymised (the default): respondents, sessions and answers appear as salted stable
pseudonyms (`P-…`, `S-…`, `A-…`), never cohear's internal ids, so a pseudonymised file
cannot be joined to an identifiable one; accepted and still-undecided redaction
suggestions are applied (only those a reviewer rejected stay), and there is never audio
or contact data. Identifiable (admin only, audit-logged): the cohear respondent,
session and answer ids, and only accepted redactions applied.

Memos: a code's memo travels with the code in a `.qdpx` project (in its description, as
in a `.qdc` codebook), redacted in a pseudonymised export as a researcher reads it
(`surveys.coding.redact_code_memos`). Memos on answers are never exported, in either
mode: they are coders' working notes about one person's answer, not survey data, and
they stay in cohear (where a researcher reads them redacted).

Spreadsheet cells never run (`cohear.cells`: CSV cells escaped, XLSX text stored as
text), and characters XML cannot hold are written as U+FFFD (`cohear.text.xml_safe`);
each data dictionary says both.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import html
import json
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cohear import audit, cells, temporaries
from cohear.auth import User
from cohear.errors import BadInput, Conflict, NotFound
from cohear.permissions import register
from cohear.store import Store, utcnow
from cohear.text import RULE as CHARACTER_RULE
from cohear.text import xml_safe
from surveys import links, values
from surveys.coding import code_elements, redact_code_memos
from surveys.redaction import parse_spans, redact
from surveys.service import sync_pending_transcripts
from surveys.views import concern_open

register({
    "exports.pseudonymised": {"admin", "researcher"},
    "exports.identifiable": {"admin"},
    # An export is its requester's, as its job is (jobs.read_all): admins see every
    # export; a researcher sees the ones they asked for, and another's is a 404.
    "exports.read_all": {"admin"},
})

FORMATS = {"csv": ".csv", "wide-csv": ".csv", "xlsx": ".xlsx", "json": ".json", "qdpx": ".qdpx"}
PROJECT_NS = "urn:QDA-XML:project:1.0"
# GUIDs in a REFI-QDA project are keyed hashes of the kind of thing and its id (see
# `_guid`): stable across exports, and never revealing an internal id.

LONG_COLUMNS = {
    "respondent": "the respondent: a salted stable pseudonym (identifiable exports: the cohear id)",
    "survey_id": "the survey's id in cohear",
    "survey_version": "the version of the survey the answer was given to",
    "session_id": "the collection session's id in cohear",
    "answer_id": "the answer's id in cohear",
    "question": "the question's short name",
    "question_type": "consent, open, single_choice, multiple_choice, scale, demographic, "
                     "integer, decimal, date or time (each question's type and range are "
                     "in the question: rows)",
    "language": "the language of the answer, as a BCP-47 tag",
    "nhs_language_code": "the NHS main spoken language code of that language",
    "answer_kind": "voice, text or choice",
    "choices": "the chosen option values, separated by ';' (scale point, category letter...); "
               "for integer, decimal, date and time questions the value itself",
    "answer_text": "the newest transcript or typed text, redacted",
    "answer_english": "the newest English rendering, redacted",
    "english_current": "1 when answer_english renders the newest answer_text; 0 when it "
                       "renders older words (the answer was corrected since and its English "
                       "not yet made again: read it with care); empty when there is no "
                       "English rendering",
    "status": "review status: new, transcribed or verified",
    "safeguarding": "1 while a safeguarding concern about the answer is open (identifiable "
                    "exports: 1 when one was ever raised)",
    "code": "the code applied (empty when nobody has coded the answer yet)",
    "code_path": "the code with its parents, separated by '/'",
    "coder": "who applied the code",
    "segment_rendering": "original or english: the words the span is in (empty: whole answer)",
    "segment_version": "the version of those words the span was marked in",
    "segment_start": "where the span starts, in characters of that version",
    "segment_end": "where the span ends (exclusive)",
    "segment_text": "the coded span's words, redacted",
    "coded_at": "when the code was applied (UTC)",
}
# Pseudonymised exports name sessions and answers by salted pseudonyms instead of ids.
PSEUDONYMOUS_REFERENCES = {
    "session_id": ("session", "the collection session: a salted stable pseudonym (S-…), the "
                   "same in every pseudonymised export, never cohear's internal id"),
    "answer_id": ("answer", "the answer: a salted stable pseudonym (A-…), the same in every "
                  "pseudonymised export, never cohear's internal id"),
}
CODING_COLUMNS = ("code", "code_path", "coder", "segment_rendering", "segment_version",
                  "segment_start", "segment_end", "segment_text", "coded_at")


def long_columns(identifiable: bool) -> dict[str, str]:
    """The long CSV's columns and their meanings (pseudonymised: references, not ids)."""
    if identifiable:
        return dict(LONG_COLUMNS)
    out = {}
    for column, meaning in LONG_COLUMNS.items():
        column, meaning = PSEUDONYMOUS_REFERENCES.get(column, (column, meaning))
        out[column] = meaning
    return out


# -- pseudonyms ------------------------------------------------------------------------

def salt(store: Store) -> bytes:
    """The install-wide pseudonym salt: from settings, or created once in the data
    directory (mode 0600) and kept, so pseudonyms stay stable across exports."""
    if store.settings.pseudonym_salt:
        return store.settings.pseudonym_salt.encode()
    path = store.settings.data_dir / "pseudonym-salt"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
        fh.flush()
        os.fsync(fh.fileno())
    return path.read_bytes().strip()


def pseudonym(key: bytes, cohear_id: str) -> str:
    digest = hmac.new(key, cohear_id.encode(), hashlib.sha256).digest()
    return "P-" + base64.b32encode(digest[:8]).decode().rstrip("=")


def reference(key: bytes, kind: str, row_id: int) -> str:
    """A salted stable pseudonym for a session (`S-…`) or an answer (`A-…`)."""
    digest = hmac.new(key, f"{kind}:{row_id}".encode(), hashlib.sha256).digest()
    return kind[0].upper() + "-" + base64.b32encode(digest[:8]).decode().rstrip("=")


# -- reading rows ----------------------------------------------------------------------------

_LATEST = ("(SELECT t.id FROM answer_texts t WHERE t.answer_id = a.id AND t.rendering = '{r}' "
           "ORDER BY t.version DESC LIMIT 1)")
_SPANS = ("(SELECT group_concat(r.start_offset || ':' || r.end_offset || ':' || r.kind) "
          "FROM redactions r WHERE r.answer_text_id = {t} AND r.status IN ({statuses}))")


@dataclass
class Plan:
    """What one export run reads and how it shows it."""
    store: Store
    survey: dict
    identifiable: bool
    key: bytes
    statuses: str
    languages: dict
    guid_key: bytes | None = None

    def who(self, cohear_id: str) -> str:
        return cohear_id if self.identifiable else pseudonym(self.key, cohear_id)

    def ref(self, kind: str, row_id: int) -> int | str:
        """A session's or an answer's id (identifiable) or its pseudonym."""
        return row_id if self.identifiable else reference(self.key, kind, row_id)

    def nhs(self, tag: str) -> str:
        if tag not in self.languages:
            self.languages[tag] = links.language(tag).nhs_code
        return self.languages[tag]


def export_plan(store: Store, survey_id: int, identifiable: bool) -> Plan:
    """What an export of this survey reads and how it shows respondents."""
    row = store.one("SELECT * FROM surveys WHERE id = ?", (survey_id,))
    if row is None:
        raise NotFound(f"survey {survey_id} does not exist", fix="see `cohear surveys list`")
    survey = dict(row)
    statuses = "'accepted'" if identifiable else "'accepted', 'suggested'"
    key = salt(store)
    return Plan(store, survey, identifiable, key, statuses, {})


def _answer_rows(plan: Plan, conn: sqlite3.Connection) -> Iterator[sqlite3.Row]:
    """Answers of the survey with their newest words and redaction spans, in respondent
    order (the respondent index, then one respondent's answers by question). One query,
    read row by row."""
    orig, eng = _LATEST.format(r="original"), _LATEST.format(r="english")
    sql = f"""
        SELECT a.*, r.cohear_id, q.name AS question, q.kind AS question_type,
               q.position, o.id AS original_id, o.text AS original,
               o.version AS original_version, e.id AS english_id, e.text AS english,
               e.of_version AS english_of_version,
               {_SPANS.format(t='o.id', statuses=plan.statuses)} AS original_spans,
               {_SPANS.format(t='e.id', statuses=plan.statuses)} AS english_spans
        FROM answers a
        JOIN respondents r ON r.id = a.respondent_id
        JOIN survey_questions q ON q.id = a.question_id
        JOIN survey_sessions s ON s.id = a.session_id
        LEFT JOIN answer_texts o ON o.id = {orig}
        LEFT JOIN answer_texts e ON e.id = {eng}
        WHERE s.survey_id = ?
        ORDER BY a.respondent_id, q.position, a.id"""
    yield from conn.execute(sql, (plan.survey["id"],))


def _coding_rows(plan: Plan, conn: sqlite3.Connection) -> Iterator[sqlite3.Row]:
    """Codings of the survey's answers, in the same respondent order as `_answer_rows`.
    Answers drive the loop (CROSS JOIN keeps that order), so SQLite walks the respondent
    index and sorts only one respondent's rows at a time instead of every coding."""
    sql = f"""
        SELECT g.*, a.respondent_id, c.name AS code, c.guid AS code_guid, u.name AS coder,
               t.rendering, t.version AS text_version, t.text AS coded_text,
               {_SPANS.format(t='t.id', statuses=plan.statuses)} AS coded_spans
        FROM answers a
        CROSS JOIN codings g ON g.answer_id = a.id
        JOIN survey_questions q ON q.id = a.question_id
        JOIN survey_sessions s ON s.id = a.session_id
        JOIN codes c ON c.id = g.code_id
        JOIN users u ON u.id = g.coder_id
        LEFT JOIN answer_texts t ON t.id = g.answer_text_id
        WHERE s.survey_id = ?
        ORDER BY a.respondent_id, q.position, a.id, g.id"""
    yield from conn.execute(sql, (plan.survey["id"],))


def _code_paths(store: Store, survey_id: int) -> dict[int, str]:
    """code id -> 'parent/child' for every code used in the survey (and its ancestors)."""
    rows = {r["id"]: r for r in store.all(
        "SELECT * FROM codes WHERE codebook_id IN (SELECT DISTINCT c.codebook_id FROM codings g "
        "JOIN codes c ON c.id = g.code_id JOIN answers a ON a.id = g.answer_id JOIN "
        "survey_sessions s ON s.id = a.session_id WHERE s.survey_id = ?)", (survey_id,))}

    def path(cid: int) -> str:
        r = rows[cid]
        return f"{path(r['parent_id'])}/{r['name']}" if r["parent_id"] in rows else r["name"]

    return {cid: path(cid) for cid in rows}


def _used_codes(store: Store, survey_id: int) -> list[tuple[int, str]]:
    paths = _code_paths(store, survey_id)
    used = [r[0] for r in store.all(
        "SELECT DISTINCT g.code_id FROM codings g JOIN answers a ON a.id = g.answer_id "
        "JOIN survey_sessions s ON s.id = a.session_id WHERE s.survey_id = ?", (survey_id,))]
    return sorted(((cid, paths[cid]) for cid in used), key=lambda kv: kv[1])


def _words(text: str | None, packed: str | None) -> str:
    if not text:
        return ""
    return redact(text, parse_spans(packed))[0]


def _segment(row) -> dict:
    if row["answer_text_id"] is None:
        return {"segment_rendering": "", "segment_version": "", "segment_start": "",
                "segment_end": "", "segment_text": ""}
    spans = parse_spans(row["coded_spans"])
    start, end = row["start_offset"], row["end_offset"]
    inside = [(max(s, start) - start, min(e, end) - start, k) for s, e, k in spans
              if s < end and start < e]
    return {"segment_rendering": row["rendering"], "segment_version": row["text_version"],
            "segment_start": start, "segment_end": end,
            "segment_text": redact(row["coded_text"][start:end], inside)[0]}


def english_current(a) -> bool | None:
    """Whether the answer's newest English renders its newest words (None: no English).
    After a correction the English of the older words stays until it is made again,
    exactly as the review app marks it OUT OF DATE (`surveys.english.english_state`)."""
    if not a["english"]:
        return None
    return a["original_version"] is not None and a["english_of_version"] == a["original_version"]


def _flag(value: bool | None) -> int | str:
    """A yes/no for a CSV or spreadsheet cell: 1, 0, or empty when it does not apply."""
    return "" if value is None else int(value)


def _answer_fields(plan: Plan, a) -> dict:
    choices = json.loads(a["choices_json"]) if a["choices_json"] else []
    session, answer = (("session_id", "answer_id") if plan.identifiable else
                       ("session", "answer"))
    return {"respondent": plan.who(a["cohear_id"]), "survey_id": plan.survey["id"],
            "survey_version": a["survey_version"], session: plan.ref("session", a["session_id"]),
            answer: plan.ref("answer", a["id"]), "question": a["question"],
            "question_type": a["question_type"],
            "language": a["language"], "nhs_language_code": plan.nhs(a["language"]),
            "answer_kind": a["kind"], "choices": ";".join(choices),
            "answer_text": _words(a["original"], a["original_spans"]),
            "answer_english": _words(a["english"], a["english_spans"]),
            "english_current": _flag(english_current(a)),
            "status": a["status"],
            # Pseudonymised: only whether a concern is open, as everywhere a researcher reads.
            "safeguarding": a["safeguarding"] if plan.identifiable else concern_open(a)}


def iter_answers_with_codings(plan: Plan) -> Iterator[tuple[sqlite3.Row, list[sqlite3.Row]]]:
    """(answer, its codings) pairs, merging two ordered cursors so neither is held whole."""
    conn, other = plan.store.connect(), plan.store.connect()
    codings = _coding_rows(plan, other)
    try:
        pending = next(codings, None)
        for a in _answer_rows(plan, conn):
            mine = []
            while pending is not None and pending["answer_id"] == a["id"]:
                mine.append(pending)
                pending = next(codings, None)
            yield a, mine
    finally:
        codings.close()
        conn.close()
        other.close()


def iter_long_rows(plan: Plan, paths: dict[int, str]) -> Iterator[dict]:
    """One row per coded segment, and one for each answer nobody has coded yet."""
    for a, codings in iter_answers_with_codings(plan):
        base = _answer_fields(plan, a)
        if not codings:
            yield base | dict.fromkeys(CODING_COLUMNS, "")
            continue
        for g in codings:
            yield base | {"code": g["code"], "code_path": paths.get(g["code_id"], g["code"]),
                          "coder": g["coder"], "coded_at": g["created_at"]} | _segment(g)


def wide_columns(plan: Plan, codes: list[tuple[int, str]]) -> tuple[list[str], dict[str, str]]:
    # Consent is recorded as consent, never as an answer, so it has no column here.
    questions = plan.store.all("SELECT name, kind, options_json FROM survey_questions WHERE "
                               "survey_id = ? AND kind != 'consent' GROUP BY name "
                               "ORDER BY min(position)", (plan.survey["id"],))
    columns = ["respondent", "languages", "nhs_language_codes"]
    meaning = {"respondent": LONG_COLUMNS["respondent"],
               "languages": "the languages the respondent answered in (BCP-47), ';' between",
               "nhs_language_codes": "their NHS main spoken language codes, in the same order"}
    for q in questions:
        columns.append(f"q:{q['name']}")
        if q["kind"] in values.VALUE_KINDS:
            meaning[f"q:{q['name']}"] = (f"the answer to {q['name']!r}: " + values.describe_range(
                q["kind"], json.loads(q["options_json"])))
        else:
            meaning[f"q:{q['name']}"] = (f"the answer to {q['name']!r} ({q['kind']}): chosen "
                                         "values, or the words (redacted)")
        if q["kind"] == "open":
            columns.append(f"q:{q['name']}:english")
            meaning[f"q:{q['name']}:english"] = f"the English rendering of {q['name']!r}"
            columns.append(f"q:{q['name']}:english_current")
            meaning[f"q:{q['name']}:english_current"] = (
                f"1 when the English of {q['name']!r} renders the newest words of the answer; "
                "0 when it renders older words (corrected since: read it with care); empty "
                "when there is no English")
    for _, path in codes:
        columns.append(f"code:{path}")
        meaning[f"code:{path}"] = (f"how many times {path!r} was applied to this "
                                   "respondent's answers")
    return columns, meaning


def iter_wide_rows(plan: Plan, codes: list[tuple[int, str]]) -> Iterator[dict]:
    """One row per respondent: a column per question and per code."""
    code_column = {cid: f"code:{path}" for cid, path in codes}
    current: dict | None = None
    current_id = None
    for a, codings in iter_answers_with_codings(plan):
        if a["respondent_id"] != current_id:
            if current is not None:
                yield current
            current_id = a["respondent_id"]
            current = {"respondent": plan.who(a["cohear_id"]), "languages": a["language"],
                       "nhs_language_codes": plan.nhs(a["language"])}
            current |= {col: 0 for col in code_column.values()}
        if a["language"] not in current["languages"].split(";"):
            current["languages"] += ";" + a["language"]
            current["nhs_language_codes"] += ";" + plan.nhs(a["language"])
        fields = _answer_fields(plan, a)
        current[f"q:{a['question']}"] = fields["choices"] or fields["answer_text"]
        if a["question_type"] == "open":
            current[f"q:{a['question']}:english"] = fields["answer_english"]
            current[f"q:{a['question']}:english_current"] = fields["english_current"]
        for g in codings:
            col = code_column[g["code_id"]]
            current[col] = current.get(col, 0) + 1
    if current is not None:
        yield current


# -- writing ----------------------------------------------------------------------------------

@contextlib.contextmanager
def _partial(store: Store, out: Path) -> Iterator[Path]:
    """A temporary name next to `out`, renamed to `out` only if the block completes (a
    process killed mid-export leaves it to `cohear.temporaries` to remove)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporaries.path(store.settings.data_dir, out.parent, out.name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def question_dictionary(plan: Plan) -> list[tuple[str, str]]:
    """("question:NAME", its type, range or choices) for each question of the survey,
    so a typed value can be read without cohear."""
    out = []
    for q in plan.store.all("SELECT name, kind, options_json FROM survey_questions WHERE "
                            "survey_id = ? GROUP BY name ORDER BY min(position)",
                            (plan.survey["id"],)):
        opts = json.loads(q["options_json"])
        if q["kind"] in values.VALUE_KINDS:
            words = values.describe_range(q["kind"], opts)
        elif q["kind"] == "scale":
            words = f"scale from {opts['min']} to {opts['max']}" + "".join(
                f"; {k} = {v}" for k, v in sorted(opts.get("labels", {}).items(),
                                                  key=lambda kv: int(kv[0])))
        elif "choices" in opts:
            words = f"{q['kind']}: " + "; ".join(f"{c['value']} = {c['label']}"
                                                 for c in opts["choices"])
        else:
            words = q["kind"] + (f" ({opts['answer']})" if "answer" in opts else "")
        out.append((f"question:{q['name']}", words))
    return out


ESCAPING = {
    "csv": ("(how cells are escaped)", cells.ESCAPE_NOTE),
    "xlsx": ("(how cells are stored)", cells.XLSX_NOTE),
    "characters": ("(characters XML cannot hold)", "In every export, " + CHARACTER_RULE + "."),
}


def _dictionary_rows(plan: Plan, fmt: str, wide_meaning: dict[str, str] | None = None
                     ) -> list[tuple[str, str]]:
    """The dictionary: every column and its meaning, each question's type with its range
    or choices, then how values were escaped."""
    columns = (wide_meaning or {}) if fmt == "wide-csv" else long_columns(plan.identifiable)
    return [*columns.items(), *question_dictionary(plan), ESCAPING["csv"],
            ESCAPING["characters"]]


def _write_csv(path: Path, columns: list[str], rows: Iterator[dict], tick: Callable) -> int:
    n = 0
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = cells.csv_dict_writer(fh, fieldnames=columns, restval="", extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
            tick(n)
    return n


def _write_dictionary_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = cells.csv_writer(fh)
        writer.writerow(["column", "meaning"])
        writer.writerows(rows)


def _write_xlsx(plan: Plan, path: Path, codes: list, tick: Callable) -> int:
    """One row per respondent (a column per question and per code), and the dictionary.
    Every text cell is a string cell (`cells.xlsx_row`), never a formula."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)  # rows go to a temporary file as they come: memory stays flat
    sheet = wb.create_sheet("respondents")
    columns, meaning = wide_columns(plan, codes)
    sheet.append(cells.xlsx_row(sheet, columns))
    typed = {f"q:{q['name']}": q["kind"] for q in plan.store.all(
        "SELECT name, kind FROM survey_questions WHERE survey_id = ?", (plan.survey["id"],))
        if q["kind"] in values.VALUE_KINDS}
    n = 0
    for row in iter_wide_rows(plan, codes):
        sheet.append(cells.xlsx_row(sheet, [_typed_cell(typed.get(c), row.get(c, ""))
                                            for c in columns]))
        n += 1
        tick(n)
    dictionary = wb.create_sheet("dictionary")
    for line in [("column", "meaning"), *meaning.items(), *question_dictionary(plan),
                 ESCAPING["xlsx"], ESCAPING["characters"]]:
        dictionary.append(cells.xlsx_row(dictionary, line))
    wb.save(path)
    return n


def _typed_cell(kind: str | None, value):
    """A number, date or time answer as a spreadsheet number, date or time (so it sorts
    and sums as one); everything else as it is."""
    if kind is None or value in ("", None):
        return value
    try:
        parsed = values.parse(kind, value)
    except ValueError:
        return value
    if kind == "decimal":
        return float(parsed)
    return parsed


def _json_value(kind: str, choices: list[str]):
    if kind not in values.VALUE_KINDS or not choices:
        return None
    typed = _typed_cell(kind, choices[0])
    return typed if kind in ("integer", "decimal") else choices[0]


def _write_json(plan: Plan, path: Path, paths: dict, tick: Callable) -> int:
    n = 0
    questions = [dict(q) | {"options": json.loads(q["options_json"])} for q in plan.store.all(
        "SELECT id, survey_version, position, name, kind, text, options_json FROM "
        "survey_questions WHERE survey_id = ? ORDER BY survey_version, position",
        (plan.survey["id"],))]
    for q in questions:
        q.pop("options_json")
    dictionary = {k: v for k, v in long_columns(plan.identifiable).items()
                  if k not in CODING_COLUMNS}
    dictionary["characters"] = ("JSON holds every character exactly as stored (no cell "
                                "escaping); XML exports write " + CHARACTER_RULE.split("; ")[-1])
    dictionary["english_current"] = ("true when answer_english renders the newest "
                                     "answer_text; false when it renders older words (the "
                                     "answer was corrected since: read it with care); null "
                                     "when there is no English rendering")
    dictionary["value"] = ("for integer, decimal, date and time questions: the answer as a "
                           "number, or a YYYY-MM-DD / HH:MM string")
    dictionary |= dict(question_dictionary(plan))
    head = {"survey": {k: plan.survey[k] for k in ("id", "title", "purpose", "base_language",
                                                   "version")},
            "pseudonymised": not plan.identifiable, "exported_at": utcnow(),
            "questions": questions, "dictionary": dictionary}
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "answers": [\n')
        for a, codings in iter_answers_with_codings(plan):
            item = _answer_fields(plan, a)
            item["choices"] = item["choices"].split(";") if item["choices"] else []
            item["english_current"] = english_current(a)
            if a["question_type"] in values.VALUE_KINDS:
                item["value"] = _json_value(a["question_type"], item["choices"])
            item["codings"] = [{"code": g["code"], "code_path": paths.get(g["code_id"]),
                                "coder": g["coder"], "coded_at": g["created_at"]} | _segment(g)
                               for g in codings]
            fh.write(("" if n == 0 else ",\n") + json.dumps(item, ensure_ascii=False))
            n += 1
            tick(n)
        fh.write("\n]}\n")
    return n


# -- REFI-QDA project (.qdpx) --------------------------------------------------------------

def _guid(plan: Plan, kind: str, value: int | str) -> str:
    """A stable GUID for one thing in a project: a keyed hash (BLAKE2b with a key derived
    from the pseudonym salt) of what it is, different for pseudonymised and identifiable
    exports so the two cannot be joined by GUID, and revealing no internal id."""
    if plan.guid_key is None:
        mode = b"identifiable" if plan.identifiable else b"pseudonymised"
        plan.guid_key = hmac.new(plan.key, b"refi-qda:" + mode, hashlib.sha256).digest()
    d = bytearray(hashlib.blake2b(f"{kind}:{value}".encode(), key=plan.guid_key,
                                  digest_size=16).digest())
    d[6], d[8] = (d[6] & 0x0F) | 0x40, (d[8] & 0x3F) | 0x80  # a version 4 UUID's bits
    h = d.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _p(tag: str) -> str:
    return f"{{{PROJECT_NS}}}{tag}"


def _xml(el) -> bytes:
    from lxml import etree

    return etree.tostring(el, encoding="utf-8")


_SOURCE_VARIABLES = {
    "respondent": "the respondent (a salted pseudonym; identifiable exports: the cohear id)",
    "question": "the survey question the answer is to",
    "rendering": "original (the answer's own words), english, or choices (chosen values)",
    "language": "the language of these words (BCP-47)",
    "answer": "the answer (a salted pseudonym; identifiable exports: the cohear id)",
}
# Only on the source holding an answer's newest English (a Boolean variable).
_ENGLISH_VARIABLES = {
    "english_current": "true when this English renders the newest words of the answer; "
                       "false when it renders older words (corrected since: read it with care)",
}
_CASE_VARIABLES = {
    "languages": "the languages the respondent answered in (BCP-47), ';' between",
    "nhs_language_codes": "their NHS main spoken language codes, in the same order",
}


def _write_qdpx(plan: Plan, path: Path, tick: Callable) -> int:
    """A REFI-QDA project (a zip holding project.qde and sources/), written as the tools
    that import it expect (QualCoder, NVivo, ATLAS.ti, MAXQDA):

    - each text (an answer's newest original and English words, any older version a
      coder marked, or the chosen values of a coded choice answer) is a UTF-8 file
      `sources/<guid>.txt`, named by the TextSource's `plainTextPath` (`internal://…`);
    - every coding is its own PlainTextSelection with `creatingUser` and
      `creationDateTime`, so two coders' identical spans stay two codings; a code on a
      whole answer is a selection spanning the whole text;
    - every coder is a User; each respondent is a Case with a SourceRef to each of their
      sources; each source also carries respondent, question, rendering, language and
      answer as variable values (tools that ignore case links read those).

    Offsets count Unicode code points of the file's text. Sources, cases and the XML
    are written as the rows are read: one respondent is held at a time."""

    store = plan.store
    codes = store.all(
        "SELECT * FROM codes WHERE codebook_id IN (SELECT DISTINCT c.codebook_id FROM codings g "
        "JOIN codes c ON c.id = g.code_id JOIN answers a ON a.id = g.answer_id JOIN "
        "survey_sessions s ON s.id = a.session_id WHERE s.survey_id = ?) ORDER BY id",
        (plan.survey["id"],))
    coders = store.all(
        "SELECT DISTINCT u.id, u.name FROM codings g JOIN users u ON u.id = g.coder_id JOIN "
        "answers a ON a.id = g.answer_id JOIN survey_sessions s ON s.id = a.session_id "
        "WHERE s.survey_id = ? ORDER BY u.id", (plan.survey["id"],))
    # Number, date and time answers are facts about the respondent: typed case variables.
    value_kinds = {q["name"]: q["kind"] for q in store.all(
        "SELECT name, kind FROM survey_questions WHERE survey_id = ?", (plan.survey["id"],))
        if q["kind"] in values.VALUE_KINDS}
    described = _SOURCE_VARIABLES | _ENGLISH_VARIABLES | _CASE_VARIABLES | {
        f"q:{name}": f"the answer to {name!r} ({kind})" for name, kind in value_kinds.items()}
    variables = {name: _guid(plan, "variable", name) for name in described}
    from stream_zip import ZIP_AUTO, stream_zip

    n = 0
    cases_tmp = path.with_name(path.name + ".cases")
    sources_tmp = path.with_name(path.name + ".sources")
    qde_tmp = path.with_name(path.name + ".qde")
    now = datetime.now()

    def members():
        """The zip's members as they are made: each source's file, then project.qde."""
        nonlocal n
        with open(cases_tmp, "wb") as cases_fh, open(sources_tmp, "wb") as sources_fh:
            case: dict | None = None
            for a, codings in iter_answers_with_codings(plan):
                if case is not None and case["id"] != a["respondent_id"]:
                    cases_fh.write(_xml(_case_element(plan, variables, case)))
                    case = None
                if case is None:
                    case = {"id": a["respondent_id"], "name": plan.who(a["cohear_id"]),
                            "languages": [], "sources": [], "values": {}}
                if a["question"] in value_kinds and a["choices_json"]:
                    chosen = json.loads(a["choices_json"])
                    if chosen:
                        case["values"][a["question"]] = (value_kinds[a["question"]], chosen[0])
                if a["language"] not in case["languages"]:
                    case["languages"].append(a["language"])
                for source in _text_sources(plan, a, codings):
                    data = source["text"].encode("utf-8")
                    sources_fh.write(_source_xml(variables, source))
                    case["sources"].append(source["guid"])
                    yield (f"sources/{source['guid']}.txt", now, 0o600, ZIP_AUTO(len(data)),
                           (data,))
                n += 1
                tick(n)
            if case is not None:
                cases_fh.write(_xml(_case_element(plan, variables, case)))
        _write_qde(plan, qde_tmp, coders, codes, variables, described, value_kinds, cases_tmp,
                   sources_tmp)
        yield ("project.qde", now, 0o600, ZIP_AUTO(qde_tmp.stat().st_size), _chunks(qde_tmp))

    try:
        # stream-zip keeps each member's central-directory record as a few bytes; the
        # standard library's ZipFile keeps a ZipInfo object per member, about 1 KB each,
        # which grew a 100,000-answer export by 240 MB.
        with open(path, "wb") as out:
            for chunk in stream_zip(members()):
                out.write(chunk)
    finally:
        for tmp in (cases_tmp, sources_tmp, qde_tmp):
            tmp.unlink(missing_ok=True)
    return n


def _chunks(path: Path, size: int = 1 << 16) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(size):
            yield chunk


def _write_qde(plan: Plan, qde_path: Path, coders, codes, variables: dict, described: dict,
               value_kinds: dict, cases_tmp: Path, sources_tmp: Path) -> None:
    """project.qde: the head (users, codebook, variables), then the cases and sources
    already written to their temporary files, then the description."""
    from lxml import etree

    with open(qde_path, "wb") as qde:
        root = etree.Element(_p("Project"), nsmap={None: PROJECT_NS},
                             name=xml_safe(plan.survey["title"]), origin="cohear",
                             creationDateTime=_xml_time(utcnow()))
        start = _xml(root)
        qde.write(b"<?xml version='1.0' encoding='utf-8'?>\n" + start[:-2] + b">")
        if coders:
            users = etree.Element(_p("Users"))
            for u in coders:
                etree.SubElement(users, _p("User"), guid=_guid(plan, "user", u["id"]),
                                 name=xml_safe(u["name"]))
            qde.write(_xml(users))
        if codes:
            book = etree.Element(_p("CodeBook"))
            codes_el = etree.SubElement(book, _p("Codes"))
            rows = [dict(c) for c in codes]
            if not plan.identifiable:
                rows = redact_code_memos(plan.store, rows)
            for el in code_elements(rows,
                                    lambda tag, attrib: etree.Element(_p(tag), attrib)):
                codes_el.append(el)
            qde.write(_xml(book))
        qde.write(_xml(_variables_element(variables, described, value_kinds)))
        for tag, tmp in (("Cases", cases_tmp), ("Sources", sources_tmp)):
            if tmp.stat().st_size:
                # Within <Project xmlns=...>, unprefixed elements are in the project namespace.
                qde.write(f"<{tag}>".encode())
                with open(tmp, "rb") as part:
                    shutil.copyfileobj(part, qde)
                qde.write(f"</{tag}>".encode())
        description = etree.Element(_p("Description"))
        description.text = xml_safe(
            f"{plan.survey['title']}: {plan.survey['purpose']}. "
            + ("Identifiable export." if plan.identifiable else
               "Pseudonymised export: respondents, sessions and answers are salted "
               "pseudonyms and personal data is redacted.")
            + " Offsets count Unicode code points. In every export, " + CHARACTER_RULE + ".")
        qde.write(_xml(description) + b"</Project>\n")


# A value question's REFI-QDA variable type and value element (a time of day has none).
_VALUE_TYPES = {"integer": ("Integer", "IntegerValue"), "decimal": ("Float", "FloatValue"),
                "date": ("Date", "DateValue"), "time": ("Text", "TextValue")}


def _variables_element(variables: dict[str, str], described: dict[str, str],
                       value_kinds: dict[str, str]):
    from lxml import etree

    el = etree.Element(_p("Variables"))
    for name, guid in variables.items():
        kind = value_kinds.get(name.removeprefix("q:")) if name.startswith("q:") else None
        type_ = (_VALUE_TYPES[kind][0] if kind else
                 "Boolean" if name in _ENGLISH_VARIABLES else "Text")
        var = etree.SubElement(el, _p("Variable"), guid=guid, name=xml_safe(name),
                               typeOfVariable=type_)
        etree.SubElement(var, _p("Description")).text = xml_safe(described[name])
    return el


def _case_element(plan: Plan, variables: dict, case: dict):
    from lxml import etree

    el = etree.Element(_p("Case"), guid=_guid(plan, "case", case["id"]), name=case["name"])
    for name, value in (("languages", ";".join(case["languages"])),
                        ("nhs_language_codes", ";".join(plan.nhs(x) for x in case["languages"]))):
        vv = etree.SubElement(el, _p("VariableValue"))
        etree.SubElement(vv, _p("VariableRef"), targetGUID=variables[name])
        etree.SubElement(vv, _p("TextValue")).text = value
    for name, (kind, value) in case.get("values", {}).items():
        vv = etree.SubElement(el, _p("VariableValue"))
        etree.SubElement(vv, _p("VariableRef"), targetGUID=variables[f"q:{name}"])
        etree.SubElement(vv, _p(_VALUE_TYPES[kind][1])).text = xml_safe(value)
    for guid in case["sources"]:
        etree.SubElement(el, _p("SourceRef"), targetGUID=guid)
    return el


def _xml_time(ts: str) -> str:
    return ts.rstrip("Z").split(".")[0] + "Z"


def _text_sources(plan: Plan, a, codings: list) -> list[dict]:
    """The words of one answer as sources: newest original and English, plus any older
    version a coder marked, each redacted with its codings' offsets moved to match. A
    whole-answer coding becomes a selection over the whole of the answer's first source;
    a coded answer with no words (chosen values, an untranscribed recording) gets a source
    holding its chosen values so the coding has somewhere to be."""
    versions: dict[int | str, dict] = {}
    for key in ("original", "english"):
        if a[key]:
            versions[a[f"{key}_id"]] = {"rendering": key, "raw": a[key], "language":
                                        a["language"] if key == "original" else "en",
                                        "spans": a[f"{key}_spans"], "codings": []}
            if key == "english":
                versions[a["english_id"]]["english_current"] = english_current(a)
    whole = []
    for g in codings:
        if g["answer_text_id"] is None:
            whole.append(g)
            continue
        v = versions.setdefault(g["answer_text_id"], {
            "rendering": g["rendering"], "raw": g["coded_text"], "spans": g["coded_spans"],
            "label": f"{g['rendering']} version {g['text_version']}",
            "language": a["language"] if g["rendering"] == "original" else "en", "codings": []})
        v["codings"].append(g)
    if whole and not versions:
        choices = json.loads(a["choices_json"]) if a["choices_json"] else []
        versions[f"choices-{a['id']}"] = {"rendering": "choices",
                                         "raw": "; ".join(choices) or "[no words yet]",
                                         "language": a["language"], "spans": None,
                                         "codings": []}
    out = []
    who = plan.who(a["cohear_id"])
    answer = plan.ref("answer", a["id"])
    for i, (key, v) in enumerate(versions.items()):
        text, moved = redact(v["raw"], parse_spans(v["spans"]))
        text = xml_safe(text)
        selections = []
        for g in v["codings"]:
            start, end = moved(g["start_offset"]), moved(g["end_offset"])
            if end <= start:
                end = start + 1 if start < len(text) else start
            selections.append((g, start, end))
        if i == 0:
            selections += [(g, 0, len(text)) for g in whole]
        out.append({"guid": _guid(plan, "text", key), "text": text,
                    "name": f"{who} {a['question']} {v.get('label', v['rendering'])} ({answer})",
                    "at": a["created_at"], "respondent": who, "question": a["question"],
                    "rendering": v["rendering"], "language": v["language"], "answer": answer,
                    "english_current": v.get("english_current"),
                    "selections": [{"guid": _guid(plan, "selection", g["id"]),
                                    "coding": _guid(plan, "coding", g["id"]),
                                    "start": start, "end": end, "code": g["code_guid"],
                                    "coder": _guid(plan, "user", g["coder_id"]),
                                    "at": _xml_time(g["created_at"])}
                                   for g, start, end in selections]})
    return out


def _source_xml(variables: dict, source: dict) -> bytes:
    """One <TextSource> as XML text. Built as a string (names and words escaped, characters
    XML cannot hold replaced; GUIDs, offsets and times are cohear's own hex, digits and
    ISO times): at a text source per answer rendering, lxml's element objects were most
    of a large export's time. The tests parse and validate it."""
    guid, at = source["guid"], _xml_time(source["at"])
    parts = [f'<TextSource guid="{guid}" name="{_esc(source["name"])}" '
             f'plainTextPath="internal://{guid}.txt" creationDateTime="{at}">']
    for sel in source["selections"]:
        who, when = sel["coder"], sel["at"]
        parts.append(
            f'<PlainTextSelection guid="{sel["guid"]}" startPosition="{int(sel["start"])}" '
            f'endPosition="{int(sel["end"])}" creatingUser="{who}" creationDateTime="{when}">'
            f'<Coding guid="{sel["coding"]}" creatingUser="{who}" creationDateTime="{when}">'
            f'<CodeRef targetGUID="{_esc(sel["code"])}"/></Coding></PlainTextSelection>')
    for name in _SOURCE_VARIABLES:
        parts.append(f'<VariableValue><VariableRef targetGUID="{variables[name]}"/>'
                     f'<TextValue>{_esc(str(source[name]))}</TextValue></VariableValue>')
    if source.get("english_current") is not None:
        parts.append(f'<VariableValue><VariableRef targetGUID="{variables["english_current"]}"/>'
                     f'<BooleanValue>{str(source["english_current"]).lower()}</BooleanValue>'
                     '</VariableValue>')
    parts.append("</TextSource>")
    return "".join(parts).encode("utf-8")


def _esc(value: str) -> str:
    return html.escape(xml_safe(value), quote=True)


# -- the entry point ----------------------------------------------------------------------------

def export_survey(store: Store, actor: User, survey_id: int, fmt: str, out: Path | str, *,
                  identifiable: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> dict:
    """Write one export of a survey to `out`; returns what was written."""
    actor.require("exports.identifiable" if identifiable else "exports.pseudonymised")
    if fmt not in FORMATS:
        raise BadInput(f"{fmt!r} is not an export format", fix="use one of: " + ", ".join(FORMATS))
    out = Path(out)
    plan = export_plan(store, survey_id, identifiable)
    sync_pending_transcripts(store, survey_id)
    total = store.one("SELECT count(*) FROM answers a JOIN survey_sessions s ON "
                      "s.id = a.session_id WHERE s.survey_id = ?", (survey_id,))[0]
    if total == 0:
        raise Conflict(f"survey {survey_id} has no answers to export",
                       fix="collect some answers first; nothing was written")
    every = max(1, total // 200)

    def tick(n: int) -> None:
        if progress and (n % every == 0 or n == total):
            progress(min(n, total), total)

    paths = _code_paths(store, survey_id)
    codes = _used_codes(store, survey_id)
    dictionary_path = None
    with _partial(store, out) as tmp:
        if fmt == "csv":
            rows = _write_csv(tmp, list(long_columns(identifiable)), iter_long_rows(plan, paths),
                              tick)
            dictionary = _dictionary_rows(plan, fmt)
        elif fmt == "wide-csv":
            columns, meaning = wide_columns(plan, codes)
            rows = _write_csv(tmp, columns, iter_wide_rows(plan, codes), tick)
            dictionary = _dictionary_rows(plan, fmt, meaning)
        elif fmt == "xlsx":
            rows = _write_xlsx(plan, tmp, codes, tick)
            dictionary = None
        elif fmt == "json":
            rows = _write_json(plan, tmp, paths, tick)
            dictionary = None
        else:
            rows = _write_qdpx(plan, tmp, tick)
            dictionary = None
        if dictionary is not None:
            dictionary_path = dictionary_file(out, fmt)
            with _partial(store, dictionary_path) as dtmp:
                _write_dictionary_csv(dtmp, dictionary)
    with store.transaction() as conn:
        audit.record(conn, actor, "survey.export" + (".identifiable" if identifiable else ""),
                     "survey", survey_id,
                     detail=f"{fmt}, {rows} rows, "
                            + ("identifiable" if identifiable else "pseudonymised"))
    return {"survey_id": survey_id, "format": fmt, "path": str(out), "rows": rows,
            "identifiable": identifiable, "answers": total,
            "dictionary": str(dictionary_path) if dictionary_path else None}


# -- exports as durable jobs -------------------------------------------------------------------

EXPORT_JOB = "surveys.export"


def request_export(store: Store, actor: User, survey_id: int, fmt: str, *,
                   identifiable: bool = False, jobs=None) -> dict:
    """Queue an export as a `surveys.export` job; the file lands in the data directory."""
    from cohear.jobs import JobQueue

    actor.require("exports.identifiable" if identifiable else "exports.pseudonymised")
    if fmt not in FORMATS:
        raise BadInput(f"{fmt!r} is not an export format", fix="use one of: " + ", ".join(FORMATS))
    if store.one("SELECT 1 FROM surveys WHERE id = ?", (survey_id,)) is None:
        raise NotFound(f"survey {survey_id} does not exist", fix="see GET /api/surveys")
    if store.one("SELECT 1 FROM answers a JOIN survey_sessions s ON s.id = a.session_id "
                 "WHERE s.survey_id = ? LIMIT 1", (survey_id,)) is None:
        raise Conflict(f"survey {survey_id} has no answers to export",
                       fix="collect some answers first; nothing was queued")
    queue = jobs or JobQueue(store)
    with store.transaction() as conn:
        export_id = conn.execute(
            "INSERT INTO survey_exports (survey_id, format, identifiable, status, created_by, "
            "created_at) VALUES (?, ?, ?, 'queued', ?, ?)",
            (survey_id, fmt, int(identifiable), actor.id, utcnow())).lastrowid
        job_id = queue.enqueue(EXPORT_JOB, {"export_id": export_id}, actor=actor, conn=conn)
        conn.execute("UPDATE survey_exports SET job_id = ? WHERE id = ?", (job_id, export_id))
    queue.wake(job_id)
    return get_export(store, actor, export_id)


def export_path(store: Store, export_id: int, fmt: str) -> Path:
    return store.settings.data_dir / "exports" / f"export-{export_id}{FORMATS[fmt]}"


def export_files(store: Store, export_id: int, fmt: str) -> list[Path]:
    """Every file an export job writes under its final name (the export, and for CSV
    its data dictionary)."""
    path = export_path(store, export_id, fmt)
    return [path, dictionary_file(path, fmt)]


def dictionary_file(out: Path, fmt: str) -> Path:
    """Where a CSV export's data dictionary goes: `NAME.dictionary.csv` for the long CSV,
    `NAME.wide-dictionary.csv` for the wide one, so two exports of one name in the two
    formats (`s2.csv`, `s2.wide-csv`) keep a dictionary each."""
    return out.with_name(out.stem + (".wide-dictionary.csv" if fmt == "wide-csv"
                                     else ".dictionary.csv"))


_EXPORT = ("SELECT e.*, j.status AS job_status, j.progress, j.error FROM survey_exports e "
           "LEFT JOIN jobs j ON j.id = e.job_id")


def _visible(actor: User, row) -> bool:
    """Whether `actor` may know of the export in `row`: their own, or any for admins;
    an identifiable one only to those who may make one."""
    if row["identifiable"] and not actor.may("exports.identifiable"):
        return False
    return actor.may("exports.read_all") or row["created_by"] == actor.id


def get_export(store: Store, actor: User, export_id: int) -> dict:
    """One export, as its requester (or an admin) sees it; NotFound for anyone else, so
    another researcher's export, its job id and its state are not told."""
    actor.require("exports.pseudonymised")
    row = store.one(f"{_EXPORT} WHERE e.id = ?", (export_id,))
    if row is None or not _visible(actor, row):
        raise NotFound(f"export {export_id} does not exist", fix="see GET /api/exports")
    return _shown(row)


def _shown(row) -> dict:
    item = dict(row)
    if item["status"] == "queued" and item["job_status"] in ("failed", "cancelled"):
        item["status"] = "failed"
    item.pop("path", None)
    return item


def list_exports(store: Store, actor: User) -> list[dict]:
    """The newest 200 exports `actor` may see (`get_export`'s rule), newest first."""
    actor.require("exports.pseudonymised")
    mine = "" if actor.may("exports.read_all") else " AND e.created_by = ?"
    rows = store.all(f"{_EXPORT} WHERE (e.identifiable = 0 OR ?){mine} ORDER BY e.id DESC "
                     "LIMIT 200", (int(actor.may("exports.identifiable")),
                                   *(() if not mine else (actor.id,))))
    return [_shown(row) for row in rows if _visible(actor, row)]


def export_file(store: Store, actor: User, export_id: int) -> tuple[Path, str]:
    """(path, download name) of a finished export."""
    item = get_export(store, actor, export_id)
    if item["status"] != "done":
        raise Conflict(f"export {export_id} is {item['status']}",
                       fix="wait for its job to finish" if item["status"] == "queued"
                       else "ask for a new export")
    path = export_path(store, export_id, item["format"])
    return path, f"survey-{item['survey_id']}-export-{export_id}{FORMATS[item['format']]}"
