"""Codebooks and coding: hierarchical codes (parents, descriptions, colours, memos),
CSV and REFI-QDA codebook (.qdc) exchange, and codes applied by named coders to a
whole answer or to a span of one version of its words.

Memos are staff's free text and may quote a respondent ("Sarah said call 07700
900456"). Whoever reads the pseudonymised view (`answers.read_identifiable` not granted:
researchers, and communicators reading codebooks) gets every memo, on an answer or on a
code, through `surveys.redaction.redact_free_text`: the suggestions made on answers'
words applied at once, and on an answer's memos the respondent's own contact details
too. Each memo says so (`redacted`, and the kinds hidden).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable

from cohear import audit, cells, limits, safexml
from cohear import text as text_rule
from cohear.auth import User
from cohear.errors import BadInput, Conflict, NotFound
from cohear.permissions import register
from cohear.store import Store, utcnow
from cohear.text import xml_safe
from surveys import redaction
from surveys.service import visible_answer_row

register({
    "codebooks.read": {"admin", "reviewer", "researcher", "communicator"},
    "codebooks.manage": {"admin", "reviewer", "researcher"},
    "coding.apply": {"admin", "reviewer", "researcher"},
})

CODEBOOK_CSV_COLUMNS = ("path", "parent", "description", "colour", "memo")
QDC_NS = "urn:QDA-XML:codebook:1.0"
_COLOUR = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")


def _check_colour(colour: str | None) -> str:
    colour = (colour or "#888888").strip()
    if not _COLOUR.match(colour):
        raise BadInput(f"{colour!r} is not a colour", fix="write colours as #RRGGBB, e.g. #1f77b4")
    return colour


def create_codebook(store: Store, actor: User, name: str, *, survey_id: int | None = None,
                    codes: Iterable[dict] = ()) -> dict:
    """A codebook; `codes` may name parents that come earlier in the list."""
    actor.require("codebooks.manage")
    text_rule.check(name, "codebook's name")
    name = (name or "").strip()
    if not name:
        raise BadInput("a codebook needs a name", fix="name it after the survey or theme")
    limits.check_chars("the codebook's name", name, limits.TITLE_CHARS)
    codes = list(codes)
    limits.check_count("codes in one codebook", len(codes), limits.CODES_PER_CODEBOOK,
                       fix="split the codebook by theme")
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM codebooks WHERE name = ?", (name,)).fetchone():
            raise Conflict(f"a codebook called {name!r} already exists", fix="choose another name")
        if survey_id is not None and not conn.execute("SELECT 1 FROM surveys WHERE id = ?",
                                                      (survey_id,)).fetchone():
            raise NotFound(f"survey {survey_id} does not exist", fix="check the id")
        cb = conn.execute("INSERT INTO codebooks (name, survey_id, created_by, created_at) "
                          "VALUES (?, ?, ?, ?)", (name, survey_id, actor.id or None,
                                                  utcnow())).lastrowid
        audit.record(conn, actor, "codebook.create", "codebook", cb, after={"name": name})
        for code in codes:
            _add_code(conn, actor, cb, **code)
    return get_codebook(store, cb, actor)


def _add_code(conn, actor: User, codebook_id: int, *, name: str, parent: str | int | None = None,
              description: str = "", colour: str | None = None, memo: str = "",
              guid: str | None = None) -> int:
    text_rule.check_all({"code's name": name, "code's description": description,
                         "code's memo": memo, "code's parent": parent if isinstance(parent, str)
                         else None})
    name = (name or "").strip()
    if not name:
        raise BadInput("a code needs a name", fix="name the theme it marks")
    limits.check_chars(f"the code name {name[:20]!r}", name, limits.TITLE_CHARS)
    limits.check_chars(f"the description of {name[:20]!r}", (description or "").strip(),
                       limits.CODE_DESCRIPTION_CHARS)
    limits.check_chars(f"the memo of {name[:20]!r}", (memo or "").strip(), limits.MEMO_CHARS)
    held = conn.execute("SELECT count(*) FROM codes WHERE codebook_id = ?",
                        (codebook_id,)).fetchone()[0]
    limits.check_count("codes in one codebook", held + 1, limits.CODES_PER_CODEBOOK,
                       fix="split the codebook by theme")
    parent_id = None
    if parent not in (None, ""):
        col = "id" if isinstance(parent, int) else "name"
        row = conn.execute(f"SELECT id FROM codes WHERE codebook_id = ? AND {col} = ?",
                           (codebook_id, parent)).fetchone()
        if row is None:
            raise BadInput(f"the parent code {parent!r} of {name!r} is not in the codebook",
                           fix="add the parent first (parents come before their children)")
        parent_id = row["id"]
    if conn.execute("SELECT 1 FROM codes WHERE codebook_id = ? AND name = ?",
                    (codebook_id, name)).fetchone():
        raise Conflict(f"the codebook already has a code called {name!r}",
                       fix="give each code its own name")
    try:
        guid = str(uuid.UUID(guid)) if guid else str(uuid.uuid4())
    except ValueError:
        guid = str(uuid.uuid4())
    if conn.execute("SELECT 1 FROM codes WHERE guid = ?", (guid,)).fetchone():
        guid = str(uuid.uuid4())
    cid = conn.execute("INSERT INTO codes (codebook_id, parent_id, name, description, colour, memo,"
                       " guid) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (codebook_id, parent_id, name, (description or "").strip(),
                        _check_colour(colour), (memo or "").strip(), guid)).lastrowid
    audit.record(conn, actor, "code.create", "code", cid,
                 after={"name": name, "description": description, "memo": memo})
    return cid


def add_code(store: Store, actor: User, codebook_id: int, name: str, *,
             parent: str | int | None = None, description: str = "", colour: str | None = None,
             memo: str = "") -> dict:
    actor.require("codebooks.manage")
    with store.transaction() as conn:
        if not conn.execute("SELECT 1 FROM codebooks WHERE id = ?", (codebook_id,)).fetchone():
            raise NotFound(f"codebook {codebook_id} does not exist", fix="check the id")
        cid = _add_code(conn, actor, codebook_id, name=name, parent=parent,
                        description=description, colour=colour, memo=memo)
    return dict(store.one("SELECT * FROM codes WHERE id = ?", (cid,)))


def memos_redacted_for(viewer: User | None) -> bool:
    """Whether `viewer` reads memos redacted: anyone who may not read respondents' words
    as stored (the same rule as `surveys.views.identifiable`). None is cohear itself."""
    return viewer is not None and not viewer.may("answers.read_identifiable")


def get_codebook(store: Store, codebook_id: int, viewer: User | None = None) -> dict:
    """A codebook with its codes; code memos redacted when `viewer` reads the
    pseudonymised view (`memos_redacted` says so)."""
    row = store.one("SELECT * FROM codebooks WHERE id = ?", (codebook_id,))
    if row is None:
        raise NotFound(f"codebook {codebook_id} does not exist", fix="check the id")
    out = dict(row)
    out["memos_redacted"] = memos_redacted_for(viewer)
    out["codes"] = codes_in_order(store, codebook_id, redacted=out["memos_redacted"])
    return out


def list_codebooks(store: Store) -> list[dict]:
    return [dict(r) for r in store.all(
        "SELECT b.*, (SELECT count(*) FROM codes c WHERE c.codebook_id = b.id) AS codes "
        "FROM codebooks b ORDER BY b.id")]


def redact_code_memos(store: Store, codes: Iterable[dict]) -> list[dict]:
    """Codes with their memos as a pseudonymised reader sees them (listed names, phone
    numbers and the rest replaced by `[kind]`)."""
    names = redaction.names(store)
    return [c | {"memo": redaction.redact_free_text(c["memo"], names)[0]} for c in codes]


def codes_in_order(store: Store, codebook_id: int, *, redacted: bool = False) -> list[dict]:
    """Codes depth first (each parent before its children), with `path` and `depth`;
    memos redacted with `redacted`."""
    rows = [dict(r) for r in store.all("SELECT * FROM codes WHERE codebook_id = ? ORDER BY id",
                                       (codebook_id,))]
    if redacted:
        rows = redact_code_memos(store, rows)
    children: dict[int | None, list[dict]] = {}
    for r in rows:
        children.setdefault(r["parent_id"], []).append(r)
    out: list[dict] = []

    def walk(parent_id: int | None, prefix: str, depth: int) -> None:
        for r in children.get(parent_id, []):
            r["path"] = f"{prefix}/{r['name']}" if prefix else r["name"]
            r["depth"] = depth
            out.append(r)
            walk(r["id"], r["path"], depth + 1)

    walk(None, "", 0)
    return out


# -- exchange: CSV and REFI-QDA codebook ---------------------------------------------------

def _path_part(name: str) -> str:
    return name.replace("\\", "\\\\").replace("/", "\\/")


def _split_path(path: str) -> list[str]:
    """'a/b\\/c' -> ['a', 'b/c']: `/` separates codes, `\\/` and `\\\\` are a slash and a
    backslash inside a name."""
    parts, current, chars = [], [], iter(path)
    for ch in chars:
        if ch == "\\":
            current.append(next(chars, "\\"))
        elif ch == "/":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def export_codebook_csv(store: Store, codebook_id: int, *, redacted: bool = False) -> str:
    """The codebook as CSV: `path` (`Parent/Child`, the column Taguette and spreadsheet
    users read; a `/` or `\\` inside a name is written `\\/` or `\\\\`), `parent`,
    `description`, `colour`, `memo` (redacted with `redacted`); parents come before
    their children. Cells are escaped so no spreadsheet runs them (`cohear.cells`)."""
    codes = codes_in_order(store, codebook_id, redacted=redacted)
    by_id = {c["id"]: c for c in codes}
    paths: dict[int, str] = {}
    for c in codes:
        own = _path_part(c["name"])
        paths[c["id"]] = f"{paths[c['parent_id']]}/{own}" if c["parent_id"] in paths else own
    buf = io.StringIO()
    writer = cells.csv_writer(buf)
    writer.writerow(CODEBOOK_CSV_COLUMNS)
    for c in codes:
        parent = by_id[c["parent_id"]]["name"] if c["parent_id"] else ""
        writer.writerow([paths[c["id"]], parent, c["description"], c["colour"], c["memo"]])
    return buf.getvalue()


def import_codebook_csv(store: Store, actor: User, name: str, text: str, *,
                        survey_id: int | None = None) -> dict:
    """A codebook from CSV. The code is named by a `path` column (`Parent/Child`, as
    cohear writes), a `tag` column (Taguette's export, the same form) or a `name` column
    (with an optional `parent`); `description`, `colour` (or `color`) and `memo` are
    optional. Cells cohear escaped for spreadsheets are read back unescaped. A file the
    csv module cannot read (a field past its 131,072 characters, far beyond the longest
    a code holds: `limits.MEMO_CHARS`; a NUL byte; a quote never closed, or followed by
    more than a comma: read strictly, since a lenient reader takes the rest of the file
    into that one field) is a 400 naming the line its record starts on."""
    reader = _Records(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), strict=True))
    try:
        return _import_codebook_rows(store, actor, name, reader, survey_id)
    except csv.Error as exc:
        # The csv module's messages name the fault, never the file's words.
        raise BadInput(f"the codebook CSV cannot be read from line {reader.line}: {exc} "
                       f"(a code's longest field, its memo, holds {limits.MEMO_CHARS:,} "
                       "characters)", fix="save the codebook as plain CSV from a "
                       "spreadsheet and send it again") from None


class _Records:
    """A csv.DictReader's rows, noting the line each record starts on (a quoted field may
    run over several lines), so an error names where the broken record begins."""

    def __init__(self, reader: csv.DictReader) -> None:
        self.reader = reader
        self.line = 1

    @property
    def fieldnames(self):
        return self.reader.fieldnames

    def __iter__(self):
        while True:
            self.line = self.reader.line_num + 1
            try:
                row = next(self.reader)
            except StopIteration:
                return
            yield row


def _import_codebook_rows(store: Store, actor: User, name: str, reader: _Records,
                          survey_id: int | None) -> dict:
    headers = [(f or "").strip().lower() for f in reader.fieldnames or []]
    key = next((k for k in ("path", "tag", "name") if k in headers), None)
    if key is None:
        raise BadInput("the codebook CSV has no 'path', 'tag' or 'name' column",
                       fix="the first row must name the columns: " +
                           ", ".join(CODEBOOK_CSV_COLUMNS))
    rows = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): cells.csv_uncell((v or "").strip())
               for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        if not row.get(key):
            raise BadInput(f"row {line} of the codebook CSV has no {key}", fix="fill it in")
        if key == "name":
            code, parent = row["name"], row.get("parent") or None
        else:
            parts = _split_path(row[key])
            if not all(parts):
                raise BadInput(f"row {line} of the codebook CSV has an empty part in its {key}",
                               fix="write paths as Parent/Child")
            code = parts[-1]
            parent = row.get("parent") or (parts[-2] if len(parts) > 1 else None)
        rows.append({"name": code, "parent": parent,
                     "description": row.get("description", ""),
                     "colour": row.get("colour") or row.get("color") or None,
                     "memo": row.get("memo", "")})
    return create_codebook(store, actor, name, survey_id=survey_id, codes=_parents_first(rows))


def _parents_first(rows: list[dict]) -> list[dict]:
    names = {r["name"] for r in rows}
    done: set[str] = set()
    out: list[dict] = []
    pending = list(rows)
    while pending:
        progress = False
        for r in list(pending):
            if r["parent"] is None or r["parent"] in done or r["parent"] not in names:
                out.append(r)
                done.add(r["name"])
                pending.remove(r)
                progress = True
        if not progress:
            raise BadInput("the codebook's parents form a loop: " +
                           ", ".join(r["name"] for r in pending), fix="fix the parent column")
    return out


def code_elements(codes: list[dict], maker) -> list:
    """REFI-QDA <Code> elements (nested by parent) made with `maker(tag, attrib)`; a
    character XML cannot hold (stored before cohear refused them) is written as U+FFFD."""
    built: dict[int, object] = {}
    roots = []
    for c in codes:
        el = maker("Code", {"guid": c["guid"], "name": xml_safe(c["name"]), "isCodable": "true",
                            "color": c["colour"]})
        if c["description"] or c["memo"]:
            desc = maker("Description", {})
            desc.text = xml_safe(c["description"] + (f"\n\nMemo: {c['memo']}" if c["memo"]
                                                     else ""))
            el.insert(0, desc)
        built[c["id"]] = el
        if c["parent_id"] and c["parent_id"] in built:
            built[c["parent_id"]].append(el)
        else:
            roots.append(el)
    return roots


def export_qdc(store: Store, codebook_id: int, *, redacted: bool = False) -> bytes:
    """The codebook as a REFI-QDA codebook file (.qdc); memos redacted with `redacted`."""
    from lxml import etree

    codes = codes_in_order(store, codebook_id, redacted=redacted)
    root = etree.Element(f"{{{QDC_NS}}}CodeBook", nsmap={None: QDC_NS}, origin="cohear")
    codes_el = etree.SubElement(root, f"{{{QDC_NS}}}Codes")

    def maker(tag, attrib):
        return etree.Element(f"{{{QDC_NS}}}{tag}", attrib)

    for el in code_elements(codes, maker):
        codes_el.append(el)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def import_qdc(store: Store, actor: User, name: str, data: bytes, *,
               survey_id: int | None = None) -> dict:
    from lxml import etree

    root = safexml.parse(data, what="codebook file",
                         fix="export it again as a REFI-QDA codebook (.qdc), without a DTD")
    if etree.QName(root).localname != "CodeBook":
        raise BadInput("the file is not a REFI-QDA codebook (no <CodeBook>)",
                       fix="export it again as a REFI-QDA codebook (.qdc)")
    rows: list[dict] = []

    def walk(el, parent: str | None) -> None:
        for child in el:
            if etree.QName(child).localname != "Code":
                continue
            desc = next((d.text or "" for d in child
                         if etree.QName(d).localname == "Description"), "")
            memo = ""
            if "\n\nMemo: " in desc:
                desc, memo = desc.split("\n\nMemo: ", 1)
            rows.append({"name": child.get("name", ""), "parent": parent,
                         "description": desc, "colour": child.get("color"), "memo": memo,
                         "guid": child.get("guid")})
            walk(child, child.get("name"))

    for codes_el in root:
        if etree.QName(codes_el).localname == "Codes":
            walk(codes_el, None)
    return create_codebook(store, actor, name, survey_id=survey_id, codes=rows)


# -- coding ---------------------------------------------------------------------------

def apply_code(store: Store, actor: User, answer_id: int, code_id: int, *,
               answer_text_id: int | None = None, start: int | None = None,
               end: int | None = None) -> dict:
    """Code a whole answer, or the span [start, end) of one version of its words."""
    actor.require("coding.apply")
    with store.transaction() as conn:
        visible_answer_row(conn, actor, answer_id)
        if not conn.execute("SELECT 1 FROM codes WHERE id = ?", (code_id,)).fetchone():
            raise NotFound(f"code {code_id} does not exist", fix="check the codebook")
        span = (start, end)
        if answer_text_id is None and span != (None, None):
            raise BadInput("a span needs the version of the words it is in",
                           fix="give answer_text_id with start and end")
        if answer_text_id is not None:
            text = conn.execute("SELECT text FROM answer_texts WHERE id = ? AND answer_id = ?",
                                (answer_text_id, answer_id)).fetchone()
            if text is None:
                raise NotFound(f"answer {answer_id} has no text {answer_text_id}",
                               fix="code one of the answer's own text versions")
            length = len(text["text"])
            if start is None or end is None:
                start, end = 0, length
            if not (isinstance(start, int) and isinstance(end, int)
                    and 0 <= start < end <= length):
                raise BadInput(f"the span {start}..{end} is outside the text, which is "
                               f"{length} characters long",
                               fix=f"choose 0 <= start < end <= {length}")
        cid = conn.execute(
            "INSERT INTO codings (answer_id, code_id, coder_id, answer_text_id, start_offset, "
            "end_offset, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (answer_id, code_id, actor.id, answer_text_id, start, end, utcnow())).lastrowid
        audit.record(conn, actor, "coding.apply", "answer", answer_id,
                     after={"coding": cid, "code": code_id, "text": answer_text_id,
                            "start": start, "end": end})
    return dict(store.one("SELECT * FROM codings WHERE id = ?", (cid,)))


def remove_coding(store: Store, actor: User, coding_id: int) -> None:
    actor.require("coding.apply")
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM codings WHERE id = ?", (coding_id,)).fetchone()
        if row is None:
            raise NotFound(f"coding {coding_id} does not exist", fix="check the id")
        if row["coder_id"] != actor.id and actor.role != "admin":
            raise Conflict(f"coding {coding_id} was made by another coder",
                           fix="coders remove only their own codings")
        conn.execute("DELETE FROM codings WHERE id = ?", (coding_id,))
        audit.record(conn, actor, "coding.remove", "answer", row["answer_id"],
                     before={"coding": coding_id, "code": row["code_id"]})


def codings_for_answer(store: Store, answer_id: int) -> list[dict]:
    return [dict(r) for r in store.all(
        "SELECT g.*, c.name AS code, u.name AS coder FROM codings g JOIN codes c ON "
        "c.id = g.code_id JOIN users u ON u.id = g.coder_id WHERE g.answer_id = ? ORDER BY g.id",
        (answer_id,))]


# -- memos -----------------------------------------------------------------------------
MAX_MEMO_CHARS = limits.MEMO_CHARS


def _memo_text(text: str) -> str:
    text_rule.check(text, "memo")
    return limits.check_chars("a memo", (text or "").strip(), MAX_MEMO_CHARS,
                              fix="shorten it, or split it into two memos")


def set_code_memo(store: Store, actor: User, code_id: int, memo: str) -> dict:
    """Replace a code's memo (the old one is kept in the audit log)."""
    actor.require("coding.apply")
    memo = _memo_text(memo)
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM codes WHERE id = ?", (code_id,)).fetchone()
        if row is None:
            raise NotFound(f"code {code_id} does not exist", fix="check the codebook")
        conn.execute("UPDATE codes SET memo = ? WHERE id = ?", (memo, code_id))
        audit.record(conn, actor, "code.memo", "code", code_id, before={"memo": row["memo"]},
                     after={"memo": memo})
    return dict(store.one("SELECT * FROM codes WHERE id = ?", (code_id,)))


def add_answer_memo(store: Store, actor: User, answer_id: int, text: str) -> dict:
    """Add a memo to an answer; memos are never overwritten, only added."""
    actor.require("coding.apply")
    text = _memo_text(text)
    if not text:
        raise BadInput("the memo is empty", fix="write something, or cancel")
    with store.transaction() as conn:
        visible_answer_row(conn, actor, answer_id)
        mid = conn.execute("INSERT INTO answer_memos (answer_id, author_id, text, created_at) "
                           "VALUES (?, ?, ?, ?)", (answer_id, actor.id, text, utcnow())).lastrowid
        audit.record(conn, actor, "answer.memo", "answer", answer_id, after={"memo": text})
    return dict(store.one("SELECT * FROM answer_memos WHERE id = ?", (mid,)))


def answer_memos(store: Store, actor: User, answer_id: int) -> list[dict]:
    """The memos on an answer, oldest first. A reader of the pseudonymised view gets each
    memo redacted as the answer is, and the respondent's contact details hidden too
    (`redacted` true, `hidden` the kinds of what was hidden)."""
    actor.require("coding.apply")
    row = visible_answer_row(store.conn, actor, answer_id)
    memos = [dict(r) | {"redacted": False, "hidden": []} for r in store.all(
        "SELECT m.*, u.name AS author FROM answer_memos m JOIN users u ON u.id = m.author_id "
        "WHERE m.answer_id = ? ORDER BY m.id", (answer_id,))]
    if not memos or not memos_redacted_for(actor):
        return memos
    contact = store.one("SELECT contact FROM respondent_contacts WHERE respondent_id = ?",
                        (row["respondent_id"],))
    names = redaction.names(store)
    for memo in memos:
        memo["text"], memo["hidden"] = redaction.redact_free_text(
            memo["text"], names, contact=contact["contact"] if contact else None)
        memo["redacted"] = True
    return memos
