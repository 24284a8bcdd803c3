"""XLSForm exchange: import the .xlsx forms of KoboToolbox and ODK (labels per
language, select_one/select_multiple with choice lists, audio and text questions) and
write a survey back out as one. What cohear cannot honour is listed, never dropped silently.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any
from xml.etree import ElementTree

from lxml import etree

from cohear.auth import User
from cohear.errors import BadInput, Unprocessable
from cohear.store import Store
from surveys import links, service

_LABEL = re.compile(r"^label(?:::(?P<lang>.+?))?$", re.IGNORECASE)
_LANG_CODE = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\)$")
# Columns with logic cohear does not run: questions are imported, the logic is listed.
LOGIC_COLUMNS = ("relevant", "constraint", "constraint_message", "calculation", "choice_filter",
                 "repeat_count", "default", "required", "read_only", "trigger", "appearance",
                 "hint")
KIND_COLUMN = "cohear::kind"  # written by cohear's own export so a round trip keeps types
UNSUPPORTED_TYPES = ("integer", "decimal", "date", "time", "datetime", "geopoint", "geotrace",
                     "geoshape", "image", "video", "file", "barcode", "note", "calculate",
                     "hidden", "start", "end", "today", "deviceid", "phonenumber", "username",
                     "email", "audit", "rank", "background-audio", "select_one_from_file",
                     "select_multiple_from_file")


def _rows(sheet) -> Iterator[tuple[int, dict[str, Any]]]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return
    names = [str(h).strip() if h is not None else "" for h in header]
    for number, values in enumerate(rows, start=2):
        row = {names[i]: v for i, v in enumerate(values) if i < len(names) and names[i]}
        if any(v not in (None, "") for v in row.values()):
            yield number, row


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _language_of(column: str, default: str | None) -> str | None:
    """The BCP-47 tag of a `label::Language (code)` column; None when unknown."""
    m = _LABEL.match(column.strip())
    if not m:
        return None
    spec = m.group("lang")
    if spec is None:
        return default
    coded = _LANG_CODE.match(spec.strip())
    if coded:
        return links.language(coded.group("code")).tag
    return links.tag_for_name(spec)


# A DTD must come before an XML part's root element; this much of each part is read
# to find one, in each encoding an XML part may use.
_PROLOG_BYTES = 64 * 1024
_DTD_MARKS = tuple(mark.encode(enc) for mark in ("<!DOCTYPE", "<!ENTITY")
                   for enc in ("utf-8", "utf-16-le", "utf-16-be"))


def _refuse_dtd(data: bytes) -> None:
    """Refuse a spreadsheet whose XML parts declare a DTD or entities. No spreadsheet
    program writes one; in an upload it is an attack (external entities reading files,
    "billion laughs" expansion), so it is refused before openpyxl reads anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if not info.filename.lower().endswith((".xml", ".rels")):
                    continue
                with zf.open(info) as fh:
                    head = fh.read(_PROLOG_BYTES).upper()
                if any(mark in head for mark in _DTD_MARKS):
                    raise Unprocessable(f"the spreadsheet part {info.filename[:100]!r} "
                                        "declares a DTD or entities, which cohear refuses",
                                        fix="save the form again from Excel, LibreOffice or "
                                            "KoboToolbox and upload that file")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError,
            EOFError) as exc:
        raise BadInput(f"the file is not an XLSForm spreadsheet ({type(exc).__name__})",
                       fix="upload the .xlsx form from KoboToolbox or ODK (not .xls or .csv)"
                       ) from None


def _load(data: bytes):
    from openpyxl import load_workbook

    _refuse_dtd(data)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise BadInput(f"the file is not an XLSForm spreadsheet ({type(exc).__name__})",
                       fix="upload the .xlsx form from KoboToolbox or ODK (not .xls or .csv)"
                       ) from None


def _broken_xml_refused(parse: Callable[[bytes], dict]) -> Callable[[bytes], dict]:
    """openpyxl reads a sheet's XML only as its rows are read: a part that is not
    well-formed XML fails there, and is refused as what it is."""

    @functools.wraps(parse)
    def checked(data: bytes) -> dict:
        try:
            return parse(data)
        except (ElementTree.ParseError, etree.LxmlError, zipfile.BadZipFile) as exc:
            raise Unprocessable(f"the spreadsheet's XML is broken ({type(exc).__name__})",
                                fix="save the form again from Excel, LibreOffice or "
                                    "KoboToolbox and upload that file") from None

    return checked


@_broken_xml_refused
def parse_xlsform(data: bytes) -> dict:
    """The survey an XLSForm describes, and a report of what was left out."""
    wb = _load(data)
    sheets = {name.lower(): wb[name] for name in wb.sheetnames}
    if "survey" not in sheets:
        raise BadInput("the spreadsheet has no 'survey' sheet",
                       fix="an XLSForm needs sheets called survey (and choices for selects)")
    settings = {}
    if "settings" in sheets:
        for _, row in _rows(sheets["settings"]):
            settings = {k.lower(): _text(v) for k, v in row.items()}
            break
    default_lang = None
    if settings.get("default_language"):
        spec = settings["default_language"]
        coded = _LANG_CODE.match(spec)
        default_lang = links.language(coded.group("code") if coded
                                      else links.tag_for_name(spec) or spec).tag
    survey_rows = list(_rows(sheets["survey"]))
    columns = list(dict.fromkeys(k for _, row in survey_rows for k in row))  # sheet order
    lower = {c.lower(): c for c in columns}
    if "type" not in lower or "name" not in lower:
        raise BadInput("the survey sheet needs 'type' and 'name' columns",
                       fix="check the first row of the survey sheet")
    label_columns = {c: _language_of(c, default_lang) for c in columns if _LABEL.match(c)}
    report: dict[str, list[str]] = {"unsupported": [], "imported": []}
    for col, lang in label_columns.items():
        if lang is None:
            report["unsupported"].append(f"column {col!r}: the language has no code; write it "
                                         "as label::Name (code)")
    languages = [lang for lang in dict.fromkeys(label_columns.values()) if lang]
    base = default_lang or (languages[0] if languages else "en")
    if base not in languages:
        languages.insert(0, base)
    for col in columns:
        if col.lower().startswith("media::"):
            report["unsupported"].append(f"column {col!r}: media files are not imported; record "
                                         "audio prompts in cohear")
    choices = _choices(sheets.get("choices"), default_lang, base)
    questions: list[dict] = []
    seen: set[str] = set()
    group_depth = 0
    for number, row in survey_rows:
        qtype = _text(row.get(lower["type"]))
        name = _text(row.get(lower["name"]))
        kind_word = qtype.split()[0].lower() if qtype else ""
        if kind_word in ("begin", "end", "begin_group", "end_group", "begin_repeat",
                         "end_repeat"):
            what = "repeat" if "repeat" in qtype.lower() else "group"
            if kind_word.startswith("begin"):
                group_depth += 1
                report["unsupported"].append(
                    f"row {number}: {what} {name!r} is not supported; its questions are "
                    "imported in order" + (" and asked once" if what == "repeat" else ""))
            else:
                group_depth = max(0, group_depth - 1)
            continue
        if not qtype:
            raise BadInput(f"row {number} of the survey sheet has no type",
                           fix="give every row a type, or delete the row")
        if not name:
            raise BadInput(f"row {number} ({qtype}) has no name", fix="give every question a name")
        if name in seen:
            raise BadInput(f"the name {name!r} is used twice (row {number})",
                           fix="give each question its own name")
        seen.add(name)
        if kind_word in UNSUPPORTED_TYPES or kind_word not in (
                "text", "audio", "select_one", "select_multiple", "acknowledge", "range"):
            report["unsupported"].append(f"row {number}: question {name!r} of type {qtype!r} "
                                         "is not supported and was not imported")
            continue
        for col in LOGIC_COLUMNS:
            real = lower.get(col)
            if real and _text(row.get(real)) and not (col == "required" and
                                                      _text(row[real]).lower() in ("no", "false")):
                report["unsupported"].append(f"row {number}: {col} {_text(row[real])!r} of "
                                             f"{name!r} is not supported")
        labels = {lang: _text(row.get(col)) for col, lang in label_columns.items()
                  if lang and _text(row.get(col))}
        text = labels.pop(base, "") or next(iter(labels.values()), "") or name
        question = {"name": name, "text": text, "texts": labels}
        explicit = _text(row.get(KIND_COLUMN)) if KIND_COLUMN in columns else ""
        question.update(_kind(kind_word, qtype, name, number, row, lower, choices, explicit))
        questions.append(question)
        report["imported"].append(name)
    if not questions:
        raise BadInput("the form has no question cohear can import",
                       fix="see the import report: text, audio, select_one, select_multiple, "
                           "acknowledge and range questions are supported")
    title = settings.get("form_title") or settings.get("form_id") or "Imported XLSForm"
    return {"title": title, "purpose": settings.get("purpose") or
            f"Imported from the XLSForm {settings.get('form_id') or title!r}",
            "base_language": base, "target_languages": [x for x in languages if x != base],
            "questions": questions, "report": report,
            "version": settings.get("version") or ""}


def _kind(word: str, qtype: str, name: str, number: int, row: dict, lower: dict,
          choices: dict, explicit: str) -> dict:
    if explicit.startswith("demographic:"):
        return {"kind": "demographic", "options": {"field": explicit.split(":", 1)[1]} |
                ({"choices": choices[qtype.split()[1]]} if word.startswith("select") else {})}
    if word == "text":
        return {"kind": "open", "options": {"answer": "text"}}
    if word == "audio":
        return {"kind": "open", "options": {"answer": "voice"}}
    params = dict(p.split("=", 1) for p in
                  _text(row.get(lower.get("parameters", ""), "")).split() if "=" in p)
    if word == "acknowledge" or explicit == "consent":
        version = params.get("consent_version", "")
        return {"kind": "consent",
                "options": {"consent_version": int(version)} if version.isdigit() else {}}
    if word == "range":
        try:
            return {"kind": "scale", "options": {"min": int(params.get("start", 1)),
                                                 "max": int(params.get("end", 10))}}
        except ValueError:
            raise BadInput(f"row {number}: the range of {name!r} needs whole numbers",
                           fix="write parameters like 'start=1 end=5 step=1'") from None
    parts = qtype.split()
    if len(parts) != 2:
        raise BadInput(f"row {number}: {qtype!r} names no choice list",
                       fix="write it as 'select_one LIST_NAME'")
    if parts[1] not in choices:
        raise BadInput(f"row {number}: the choice list {parts[1]!r} of {name!r} is not on the "
                       "choices sheet", fix="add the list, or correct its name")
    kind = "single_choice" if word == "select_one" else "multiple_choice"
    return {"kind": kind, "options": {"choices": choices[parts[1]]}}


def _choices(sheet, default_lang: str | None, base: str) -> dict[str, list[dict]]:
    if sheet is None:
        return {}
    out: dict[str, list[dict]] = {}
    for number, row in _rows(sheet):
        lower = {k.lower(): k for k in row}
        list_name = _text(row.get(lower.get("list_name") or lower.get("list name", ""), ""))
        value = _text(row.get(lower.get("name", ""), ""))
        if not list_name or not value:
            raise BadInput(f"row {number} of the choices sheet needs list_name and name",
                           fix="fill both in, or delete the row")
        labels = {}
        for col, v in row.items():
            lang = _language_of(col, default_lang) if _LABEL.match(col) else None
            if lang and _text(v):
                labels[lang] = _text(v)
        item = {"value": value, "label": labels.pop(base, "") or value}
        if labels:
            item["labels"] = labels
        out.setdefault(list_name, []).append(item)
    return out


def import_xlsform(store: Store, actor: User, fileobj: IO[bytes] | bytes) -> dict:
    """Create a survey from an XLSForm; returns {"survey": ..., "report": ...}."""
    actor.require("surveys.build")
    data = fileobj if isinstance(fileobj, bytes) else fileobj.read()
    form = parse_xlsform(data)
    survey = service.create_survey(store, actor, title=form["title"], purpose=form["purpose"],
                                   base_language=form["base_language"],
                                   target_languages=form["target_languages"],
                                   questions=form["questions"])
    return {"survey": survey, "report": form["report"]}


def _column(tag: str) -> str:
    return f"label::{links.language(tag).english_name} ({tag})"


def export_xlsform(store: Store, survey_id: int) -> bytes:
    """The survey's current version as an XLSForm (.xlsx)."""
    from openpyxl import Workbook

    survey = service.get_survey(store, survey_id)
    languages = [survey["base_language"]] + [
        t for t in dict.fromkeys(survey["target_languages"] + [
            lang for q in survey["questions"] for lang in q["texts"]])
        if t != survey["base_language"]]
    wb = Workbook()
    sheet = wb.active
    sheet.title = "survey"
    sheet.append(["type", "name"] + [_column(t) for t in languages] + ["parameters", KIND_COLUMN])
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name"] + [_column(t) for t in languages])
    for q in survey["questions"]:
        labels = [q["text"]] + [q["texts"].get(t, {}).get("text", "") for t in languages[1:]]
        opts, params, kind_note = q["options"], "", ""
        if q["kind"] == "consent":
            qtype, params = "acknowledge", f"consent_version={opts['consent_version']}"
            kind_note = "consent"
        elif q["kind"] == "open":
            qtype = "audio" if opts["answer"] == "voice" else "text"
        elif q["kind"] == "scale":
            qtype, params = "range", f"start={opts['min']} end={opts['max']} step=1"
        else:
            word = "select_multiple" if q["kind"] == "multiple_choice" else "select_one"
            qtype = "text"
            if "choices" in opts:
                qtype = f"{word} {q['name']}_choices"
                for c in opts["choices"]:
                    choices.append([q["name"] + "_choices", c["value"], c["label"]] +
                                   [c.get("labels", {}).get(t, "") for t in languages[1:]])
            if q["kind"] == "demographic":
                kind_note = f"demographic:{opts['field']}"
        sheet.append([qtype, q["name"]] + labels + [params, kind_note])
    settings = wb.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language", "purpose"])
    settings.append([survey["title"], f"cohear_survey_{survey['id']}", str(survey["version"]),
                     _column(survey["base_language"]).removeprefix("label::"),
                     survey["purpose"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
