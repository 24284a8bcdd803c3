"""Research exports of a survey: long CSV, wide CSV, XLSX, JSON and REFI-QDA (.qdpx),
each with a data dictionary; pseudonymised by default, streamed row by row, written
under a temporary name and renamed only when complete.

Pseudonymised (the default): respondents appear as salted stable pseudonyms, accepted
and still-undecided redaction suggestions are applied (only those a reviewer rejected
stay), and there is never audio or contact data. Identifiable (admin only, audit-logged):
the cohear respondent id instead of the pseudonym, and only accepted redactions applied.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import hmac
import itertools
import json
import os
import secrets
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cohear import audit, temporaries
from cohear.auth import User
from cohear.errors import BadInput, Conflict, NotFound
from cohear.permissions import register
from cohear.store import Store, utcnow
from surveys import links
from surveys.coding import code_elements
from surveys.redaction import parse_spans, redact
from surveys.service import sync_pending_transcripts

register({
    "exports.pseudonymised": {"admin", "researcher"},
    "exports.identifiable": {"admin"},
})

FORMATS = {"csv": ".csv", "wide-csv": ".csv", "xlsx": ".xlsx", "json": ".json", "qdpx": ".qdpx"}
PROJECT_NS = "urn:QDA-XML:project:1.0"
# GUIDs in a REFI-QDA project: this installation's prefix (from the salt), the kind of
# thing and its id, so they are stable across exports and cheap to make row by row.
_GUID_KINDS = {"user": 1, "text": 2, "coding": 3, "selection": 4, "variable": 5, "case": 6}

LONG_COLUMNS = {
    "respondent": "the respondent: a salted stable pseudonym (identifiable exports: the cohear id)",
    "survey_id": "the survey's id in cohear",
    "survey_version": "the version of the survey the answer was given to",
    "session_id": "the collection session",
    "answer_id": "the answer's id in cohear",
    "question": "the question's short name",
    "question_type": "consent, open, single_choice, multiple_choice, scale or demographic",
    "language": "the language of the answer, as a BCP-47 tag",
    "nhs_language_code": "the NHS main spoken language code of that language",
    "answer_kind": "voice, text or choice",
    "choices": "the chosen option values, separated by ';' (scale point, category letter...)",
    "answer_text": "the newest transcript or typed text, redacted",
    "answer_english": "the newest English rendering, redacted",
    "status": "review status: new, transcribed or verified",
    "safeguarding": "1 when the answer was flagged as a safeguarding concern",
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
    guid_prefix: str

    def who(self, cohear_id: str) -> str:
        return cohear_id if self.identifiable else pseudonym(self.key, cohear_id)

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
    return Plan(store, survey, identifiable, key, statuses, {},
                hmac.new(key, b"refi-qda", hashlib.sha256).hexdigest()[:8])


def _answer_rows(plan: Plan, conn: sqlite3.Connection) -> Iterator[sqlite3.Row]:
    """Answers of the survey with their newest words and redaction spans, in respondent
    order (the respondent index, then one respondent's answers by question). One query,
    read row by row."""
    orig, eng = _LATEST.format(r="original"), _LATEST.format(r="english")
    sql = f"""
        SELECT a.*, r.cohear_id, q.name AS question, q.kind AS question_type,
               q.position, o.id AS original_id, o.text AS original,
               e.id AS english_id, e.text AS english,
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


def _answer_fields(plan: Plan, a) -> dict:
    choices = json.loads(a["choices_json"]) if a["choices_json"] else []
    return {"respondent": plan.who(a["cohear_id"]), "survey_id": plan.survey["id"],
            "survey_version": a["survey_version"], "session_id": a["session_id"],
            "answer_id": a["id"], "question": a["question"], "question_type": a["question_type"],
            "language": a["language"], "nhs_language_code": plan.nhs(a["language"]),
            "answer_kind": a["kind"], "choices": ";".join(choices),
            "answer_text": _words(a["original"], a["original_spans"]),
            "answer_english": _words(a["english"], a["english_spans"]),
            "status": a["status"], "safeguarding": a["safeguarding"]}


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
            yield base | {k: "" for k in list(LONG_COLUMNS)[15:]}
            continue
        for g in codings:
            yield base | {"code": g["code"], "code_path": paths.get(g["code_id"], g["code"]),
                          "coder": g["coder"], "coded_at": g["created_at"]} | _segment(g)


def wide_columns(plan: Plan, codes: list[tuple[int, str]]) -> tuple[list[str], dict[str, str]]:
    # Consent is recorded as consent, never as an answer, so it has no column here.
    questions = plan.store.all("SELECT name, kind FROM survey_questions WHERE survey_id = ? "
                               "AND kind != 'consent' GROUP BY name ORDER BY min(position)",
                               (plan.survey["id"],))
    columns = ["respondent", "languages", "nhs_language_codes"]
    meaning = {"respondent": LONG_COLUMNS["respondent"],
               "languages": "the languages the respondent answered in (BCP-47), ';' between",
               "nhs_language_codes": "their NHS main spoken language codes, in the same order"}
    for q in questions:
        columns.append(f"q:{q['name']}")
        meaning[f"q:{q['name']}"] = (f"the answer to {q['name']!r} ({q['kind']}): chosen "
                                     "values, or the words (redacted)")
        if q["kind"] == "open":
            columns.append(f"q:{q['name']}:english")
            meaning[f"q:{q['name']}:english"] = f"the English rendering of {q['name']!r}"
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


def _dictionary_rows(fmt: str, wide_meaning: dict[str, str] | None = None) -> list[tuple[str, str]]:
    if fmt == "wide-csv":
        return list((wide_meaning or {}).items())
    return list(LONG_COLUMNS.items())


def _write_csv(path: Path, columns: list[str], rows: Iterator[dict], tick: Callable) -> int:
    n = 0
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, restval="", extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
            tick(n)
    return n


def _write_dictionary_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(["column", "meaning"])
        writer.writerows(rows)


def _write_xlsx(plan: Plan, path: Path, codes: list, tick: Callable) -> int:
    """One row per respondent (a column per question and per code), and the dictionary."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)  # rows go to a temporary file as they come: memory stays flat
    sheet = wb.create_sheet("respondents")
    columns, meaning = wide_columns(plan, codes)
    sheet.append(columns)
    n = 0
    for row in iter_wide_rows(plan, codes):
        sheet.append([row.get(c, "") for c in columns])
        n += 1
        tick(n)
    dictionary = wb.create_sheet("dictionary")
    dictionary.append(["column", "meaning"])
    for col, text in meaning.items():
        dictionary.append([col, text])
    wb.save(path)
    return n


def _write_json(plan: Plan, path: Path, paths: dict, tick: Callable) -> int:
    n = 0
    questions = [dict(q) | {"options": json.loads(q["options_json"])} for q in plan.store.all(
        "SELECT id, survey_version, position, name, kind, text, options_json FROM "
        "survey_questions WHERE survey_id = ? ORDER BY survey_version, position",
        (plan.survey["id"],))]
    for q in questions:
        q.pop("options_json")
    head = {"survey": {k: plan.survey[k] for k in ("id", "title", "purpose", "base_language",
                                                   "version")},
            "pseudonymised": not plan.identifiable, "exported_at": utcnow(),
            "questions": questions,
            "dictionary": {k: v for k, v in LONG_COLUMNS.items() if not k.startswith("segment")
                           and k not in ("code", "code_path", "coder", "coded_at")}}
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "answers": [\n')
        for a, codings in iter_answers_with_codings(plan):
            item = _answer_fields(plan, a)
            item["choices"] = item["choices"].split(";") if item["choices"] else []
            item["codings"] = [{"code": g["code"], "code_path": paths.get(g["code_id"]),
                                "coder": g["coder"], "coded_at": g["created_at"]} | _segment(g)
                               for g in codings]
            fh.write(("" if n == 0 else ",\n") + json.dumps(item, ensure_ascii=False))
            n += 1
            tick(n)
        fh.write("\n]}\n")
    return n


def _guid(plan: Plan, kind: str, value: int) -> str:
    return f"{plan.guid_prefix}-{_GUID_KINDS[kind]:04x}-4000-8000-{value:012x}"


def _write_qdpx(plan: Plan, path: Path, tick: Callable) -> int:
    """A REFI-QDA project (a zip holding project.qde): each answer's newest words (and any
    coded older version) as text sources, the codebooks used, coders as users, codings
    as selections, and each respondent as a case (with their languages) holding their
    sources. The XML is written as the rows are read, then zipped."""
    from lxml import etree

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
    n = 0
    qde_tmp = path.with_name(path.name + ".qde")
    try:
        with etree.xmlfile(str(qde_tmp), encoding="utf-8") as xf:
            xf.write_declaration()
            with xf.element(f"{{{PROJECT_NS}}}Project", nsmap={None: PROJECT_NS},
                            name=plan.survey["title"], origin="cohear",
                            creationDateTime=_xml_time(utcnow())):
                users = etree.Element(f"{{{PROJECT_NS}}}Users")
                for u in coders:
                    etree.SubElement(users, f"{{{PROJECT_NS}}}User",
                                     guid=_guid(plan, "user", u["id"]),
                                     name=u["name"], id=str(u["id"]))
                if len(users):
                    xf.write(users)
                if codes:
                    book = etree.Element(f"{{{PROJECT_NS}}}CodeBook")
                    codes_el = etree.SubElement(book, f"{{{PROJECT_NS}}}Codes")
                    for el in code_elements([dict(c) for c in codes], lambda tag, attrib:
                                            etree.Element(f"{{{PROJECT_NS}}}{tag}", attrib)):
                        codes_el.append(el)
                    xf.write(book)
                _write_cases(plan, xf)
                with xf.element(f"{{{PROJECT_NS}}}Sources"):
                    for a, codings in iter_answers_with_codings(plan):
                        for source in _text_sources(plan, a, codings):
                            xf.write(_source_element(source))
                        n += 1
                        tick(n)
                description = etree.Element(f"{{{PROJECT_NS}}}Description")
                description.text = (f"{plan.survey['title']}: {plan.survey['purpose']}. "
                                     + ("Identifiable export." if plan.identifiable else
                                        "Pseudonymised export: respondents are salted "
                                        "pseudonyms and personal data is redacted."))
                xf.write(description)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.write(qde_tmp, "project.qde")
    finally:
        qde_tmp.unlink(missing_ok=True)
    return n


def _write_cases(plan: Plan, xf) -> None:
    """<Variables> and <Cases>: one case per respondent, referring to the same text
    sources `_text_sources` writes (newest original and English, and coded versions).
    Read respondent by respondent, so only one case is ever held."""
    from lxml import etree

    p = f"{{{PROJECT_NS}}}"
    variables = {"language": _guid(plan, "variable", 1), "nhs_language_code":
                 _guid(plan, "variable", 2)}
    vars_el = etree.Element(p + "Variables")
    for name, guid in variables.items():
        var = etree.SubElement(vars_el, p + "Variable", guid=guid, name=name,
                               typeOfVariable="Text")
        etree.SubElement(var, p + "Description").text = (
            "the languages the respondent answered in (BCP-47)" if name == "language" else
            "their NHS main spoken language codes")
    rows = plan.store.connect()
    try:
        cur = rows.execute(
            """SELECT a.respondent_id, r.cohear_id, a.language, t.id AS text_id
            FROM answers a JOIN respondents r ON r.id = a.respondent_id
            JOIN survey_sessions s ON s.id = a.session_id
            JOIN answer_texts t ON t.answer_id = a.id
            WHERE s.survey_id = ? AND (
                t.id = (SELECT x.id FROM answer_texts x WHERE x.answer_id = a.id
                        AND x.rendering = t.rendering ORDER BY x.version DESC LIMIT 1)
                OR t.id IN (SELECT g.answer_text_id FROM codings g WHERE g.answer_id = a.id))
            ORDER BY a.respondent_id, t.id""", (plan.survey["id"],))
        first = cur.fetchone()
        if first is None:
            return
        xf.write(vars_el)
        with xf.element(p + "Cases"):
            case: dict | None = None
            for row in itertools.chain([first], cur):
                if case is not None and row["respondent_id"] != case["id"]:
                    xf.write(_case_element(plan, variables, case))
                    case = None
                if case is None:
                    case = {"id": row["respondent_id"], "name": plan.who(row["cohear_id"]),
                            "languages": [], "sources": []}
                if row["language"] not in case["languages"]:
                    case["languages"].append(row["language"])
                case["sources"].append(_guid(plan, "text", row["text_id"]))
            xf.write(_case_element(plan, variables, case))
    finally:
        rows.close()


def _case_element(plan: Plan, variables: dict, case: dict):
    from lxml import etree

    p = f"{{{PROJECT_NS}}}"
    el = etree.Element(p + "Case", guid=_guid(plan, "case", case["id"]), name=case["name"])
    for name, value in (("language", ";".join(case["languages"])),
                        ("nhs_language_code", ";".join(plan.nhs(x) for x in case["languages"]))):
        vv = etree.SubElement(el, p + "VariableValue")
        etree.SubElement(vv, p + "VariableRef", targetGUID=variables[name])
        etree.SubElement(vv, p + "TextValue").text = value
    for guid in case["sources"]:
        etree.SubElement(el, p + "SourceRef", targetGUID=guid)
    return el


def _xml_time(ts: str) -> str:
    return ts.rstrip("Z").split(".")[0] + "Z"


def _text_sources(plan: Plan, a, codings: list) -> list[dict]:
    """The words of one answer as sources: newest original and English, plus any older
    version a coder marked, each redacted with its codings' offsets moved to match."""
    versions: dict[int, dict] = {}
    for key in ("original", "english"):
        if a[key]:
            versions[a[f"{key}_id"]] = {"rendering": key, "raw": a[key],
                             "spans": a[f"{key}_spans"], "codings": []}
    whole = []
    for g in codings:
        if g["answer_text_id"] is None:
            whole.append(g)
            continue
        v = versions.setdefault(g["answer_text_id"], {"rendering": g["rendering"],
                                                      "raw": g["coded_text"],
                                                      "spans": g["coded_spans"], "codings": []})
        v["codings"].append(g)
    out = []
    who = plan.who(a["cohear_id"])
    for i, (tid, v) in enumerate(versions.items()):
        text, moved = redact(v["raw"], parse_spans(v["spans"]))
        selections = []
        for g in v["codings"]:
            start, end = moved(g["start_offset"]), moved(g["end_offset"])
            if end <= start:
                end = start + 1 if start < len(text) else start
            selections.append({"guid": _guid(plan, "coding", g["id"]),
                               "selection": _guid(plan, "selection", g["id"]),
                               "start": start, "end": end,
                               "code": g["code_guid"],
                               "coder": _guid(plan, "user", g["coder_id"]),
                               "at": g["created_at"]})
        out.append({"guid": _guid(plan, "text", tid), "text": text,
                    "name": f"{who} {a['question']} {v['rendering']} (answer {a['id']})",
                    "selections": selections,
                    "whole": [{"guid": _guid(plan, "coding", g["id"]), "code": g["code_guid"],
                               "coder": _guid(plan, "user", g["coder_id"]), "at": g["created_at"]}
                              for g in whole] if i == 0 else []})
    return out


def _source_element(source: dict):
    from lxml import etree

    # The words go inline (PlainTextContent), not as one zip entry per source: a zip keeps
    # every entry's header in memory, which would grow with the survey.
    p = f"{{{PROJECT_NS}}}"
    el = etree.Element(p + "TextSource", guid=source["guid"], name=source["name"])
    etree.SubElement(el, p + "PlainTextContent").text = source["text"]
    for sel in source["selections"]:
        s = etree.SubElement(el, p + "PlainTextSelection", guid=sel["selection"],
                             startPosition=str(sel["start"]), endPosition=str(sel["end"]))
        c = etree.SubElement(s, p + "Coding", guid=sel["guid"], creatingUser=sel["coder"],
                             creationDateTime=_xml_time(sel["at"]))
        etree.SubElement(c, p + "CodeRef", targetGUID=sel["code"])
    for whole in source["whole"]:
        c = etree.SubElement(el, p + "Coding", guid=whole["guid"], creatingUser=whole["coder"],
                             creationDateTime=_xml_time(whole["at"]))
        etree.SubElement(c, p + "CodeRef", targetGUID=whole["code"])
    return el


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
            rows = _write_csv(tmp, list(LONG_COLUMNS), iter_long_rows(plan, paths), tick)
            dictionary = _dictionary_rows(fmt)
        elif fmt == "wide-csv":
            columns, meaning = wide_columns(plan, codes)
            rows = _write_csv(tmp, columns, iter_wide_rows(plan, codes), tick)
            dictionary = _dictionary_rows(fmt, meaning)
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
            dictionary_path = out.with_name(out.stem + ".dictionary.csv")
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
    return [path, path.with_name(path.stem + ".dictionary.csv")]


def get_export(store: Store, actor: User, export_id: int) -> dict:
    actor.require("exports.pseudonymised")
    row = store.one("SELECT e.*, j.status AS job_status, j.progress, j.error FROM survey_exports e"
                    " LEFT JOIN jobs j ON j.id = e.job_id WHERE e.id = ?", (export_id,))
    if row is None or (row["identifiable"] and not actor.may("exports.identifiable")):
        raise NotFound(f"export {export_id} does not exist", fix="see GET /api/exports")
    item = dict(row)
    if item["status"] == "queued" and item["job_status"] in ("failed", "cancelled"):
        item["status"] = "failed"
    item.pop("path", None)
    return item


def list_exports(store: Store, actor: User) -> list[dict]:
    actor.require("exports.pseudonymised")
    ids = [r[0] for r in store.all("SELECT id FROM survey_exports ORDER BY id DESC LIMIT 200")]
    out = []
    for export_id in ids:
        try:
            out.append(get_export(store, actor, export_id))
        except NotFound:
            continue
    return out


def export_file(store: Store, actor: User, export_id: int) -> tuple[Path, str]:
    """(path, download name) of a finished export."""
    item = get_export(store, actor, export_id)
    if item["status"] != "done":
        raise Conflict(f"export {export_id} is {item['status']}",
                       fix="wait for its job to finish" if item["status"] == "queued"
                       else "ask for a new export")
    path = export_path(store, export_id, item["format"])
    return path, f"survey-{item['survey_id']}-export-{export_id}{FORMATS[item['format']]}"
