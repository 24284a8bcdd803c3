"""XLSForm exchange: import the .xlsx forms of KoboToolbox and ODK, and write a survey
back out as one that ODK's own converter (pyxform) accepts.

A form is read by pyxform itself (its spreadsheet reader, its column-header parser, and
its whole conversion, which refuses exactly the forms ODK and KoboToolbox refuse), then
mapped onto cohear's question kinds. Every non-empty cell is either imported or named
in the import report with what a user can do about it: nothing is dropped silently.

Imported: `text`, `audio`, `acknowledge` (consent), `range` (scale), `select_one` and
`select_multiple` with their choice lists, `integer`, `decimal`, `date` and `time` (a
simple `constraint` such as `. >= 0 and . <= 120` or `. <= today()` becomes their range);
labels, hints, constraint and required messages in every language (`label::Name (code)`,
`label::Name`, `label:Name (code)` as pyxform reads it, or unmarked for the default
language); `required`; the form's title, id and version. Reported (per row or cell):
groups and repeats (their questions are imported in order, asked once), notes,
relevant, calculate, other constraints, choice filters, defaults, appearance, media
files, and every type cohear cannot ask.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree import ElementTree

from lxml import etree

from cohear import cells, limits, safexml
from cohear.auth import User
from cohear.errors import BadInput, CohearError, TooLarge, Unprocessable
from cohear.store import Store
from surveys import links, service, values
from surveys.schema import NewSurvey

# -- bounds (the work done for one form is bounded by what the file really holds) -------
MAX_FORM_BYTES = 20 * 1024 * 1024
MAX_SHEETS = 50
MAX_COLUMNS = 500                 # non-empty header cells on one sheet
MAX_FILLED_ROWS = 20_000          # rows holding anything, over every sheet
MAX_CELLS = 400_000               # non-empty cells, over every sheet
MAX_QUESTIONS = NewSurvey.model_fields["questions"].metadata[0].max_length  # as the API's
MAX_CHOICES = limits.XLSFORM_CHOICE_ROWS  # rows of the choices sheet
ODK_EMPTY_ROWS = 60               # pyxform (so ODK) stops reading a sheet after this many
ODK_EMPTY_COLUMNS = 20            # ... and a header row after this many empty cells

KIND_COLUMN = "cohear::kind"      # written by cohear's own export, so a round trip keeps kinds
XLSFORM_SHEETS = ("survey", "choices", "settings")
ASKED = {"text", "audio", "acknowledge", "range", "integer", "decimal", "date", "time"}
TRANSLATABLE = {("label",): "label", ("hint",): "hint", ("guidance_hint",): "guidance_hint",
                ("bind", "jr:constraintMsg"): "constraint_message",
                ("bind", "jr:requiredMsg"): "required_message"}

# What a user should do about what cohear does not run, per XLSForm column.
NOT_RUN = {
    ("bind", "relevant"): "cohear asks every question; ask this one only when it applies "
                          "(the collector skips it), or split the survey",
    ("bind", "calculate"): "cohear does not calculate; compute it from the export",
    ("bind", "readonly"): "cohear has no read-only questions; remove the question or the "
                          "setting",
    ("bind", "constraint"): "cohear checks only ranges on number, date and time questions; "
                            "reviewers check the rest",
    ("default",): "cohear gives no default answer; the collector asks the question",
    ("choice_filter",): "cohear shows every choice of the list; filter by hand or split the "
                        "list",
    ("control", "jr:count"): "cohear asks a repeat's questions once",
    ("trigger",): "cohear does not recalculate on a trigger",
    ("control", "appearance"): "cohear's field page has one appearance per kind",
    ("control", "rows"): "cohear's field page sizes text boxes itself",
    ("control", "autoplay"): "record an audio prompt in cohear; the field page plays it on "
                             "request",
    ("guidance_hint",): "cohear shows one hint; put what the collector needs in hint",
    ("parameters",): "cohear does not use these parameters",
    ("media",): "the files are not in the .xlsx; record audio prompts in cohear (per "
                "language) instead",
}


@dataclass
class Cell:
    sheet: str
    row: int
    letter: str
    header: str        # the cleaned header of its column ("" when the column has none)
    value: str
    beyond: bool = False  # after the run of empty rows where ODK stops reading the sheet


@dataclass
class Ledger:
    """Every non-empty cell of the workbook and what became of it."""
    cells: dict[tuple[str, int, str], Cell] = field(default_factory=dict)
    used: set[tuple[str, int, str]] = field(default_factory=set)
    items: list[dict] = field(default_factory=list)
    by_row: dict[tuple[str, int], list[str]] = field(default_factory=dict)

    def add(self, cell: Cell) -> None:
        self.cells[(cell.sheet, cell.row, cell.header)] = cell
        self.by_row.setdefault((cell.sheet, cell.row), []).append(cell.header)

    def value(self, sheet: str, row: int, header: str) -> str:
        cell = self.cells.get((sheet, row, header))
        return cell.value if cell else ""

    def use(self, sheet: str, row: int, header: str | None) -> None:
        if header is not None and (sheet, row, header) in self.cells:
            self.used.add((sheet, row, header))

    def report(self, sheet: str, row: int | None, header: str | None, message: str,
               fix: str) -> None:
        """Name a cell (or a whole row, column or sheet, with None) in the report."""
        if row is not None:
            keys = [(sheet, row, h) for h in self.by_row.get((sheet, row), [])
                    if header is None or h == header]
        else:
            keys = [k for k in self.cells if k[0] == sheet and (header is None or k[2] == header)]
        if not keys:
            return  # an empty cell loses nothing
        self.used.update(keys)
        cell = self.cells.get((sheet, row, header)) if row and header is not None else None
        self.items.append({"sheet": sheet, "row": row, "column": header,
                           "cell": f"{cell.letter}{row}" if cell else None,
                           "message": message, "fix": fix})


# -- reading the workbook -------------------------------------------------------------

def _open(data: bytes):
    from openpyxl import load_workbook

    if not data:
        raise BadInput("the file is empty", fix="upload the .xlsx form from KoboToolbox or ODK")
    try:
        # openpyxl parses the workbook's XML itself: refuse any DTD in any of its parts first.
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            safexml.refuse_dtd_in_zip(archive, what="spreadsheet", fix=(
                "save the form again from Excel, LibreOffice or KoboToolbox"))
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, EOFError,
            SyntaxError) as exc:  # defusedxml's refusals (entities, DTDs) are ValueErrors
        raise BadInput(f"the file is not an XLSForm spreadsheet ({type(exc).__name__})",
                       fix="upload the .xlsx form from KoboToolbox or ODK (save an .xls or "
                           ".csv form as .xlsx first)") from None


def _text(value: Any) -> str:
    from pyxform.xls2json_backends import xlsx_value_to_str

    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return xlsx_value_to_str(value).strip()


def _scan(data: bytes) -> tuple[Ledger, list[str]]:
    """Every non-empty cell, reading only the rows and cells the file really holds (a
    sheet that claims a million rows and 16,384 columns costs what it contains). Sheets
    pyxform knows are named in lower case, as pyxform reads them; cells ODK would not
    read (beyond 60 empty rows, or under no header) are marked so."""
    from openpyxl.utils import get_column_letter
    from pyxform.xls2json_backends import RE_WHITESPACE

    wb = _open(data)
    ledger = Ledger()
    filled_rows = survey_rows = 0
    try:
        names = list(wb.sheetnames)
        if len(names) > MAX_SHEETS:
            raise TooLarge(f"the workbook has {len(names)} sheets (at most {MAX_SHEETS})",
                           fix="an XLSForm needs survey, choices and settings; remove the rest")
        for original in names:
            ws = wb[original]
            ws.reset_dimensions()  # trust the rows present, never the declared dimension
            name = original.lower() if original.lower() in XLSFORM_SHEETS else original
            headers: dict[int, str] = {}
            last_filled = 1
            for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
                texts = [(i, _text(v)) for i, v in enumerate(row)]
                texts = [(i, t) for i, t in texts if t]
                if not texts:
                    continue
                if number == 1:
                    if len(texts) > MAX_COLUMNS:
                        raise TooLarge(f"sheet {original!r} has {len(texts)} columns (at most "
                                       f"{MAX_COLUMNS})", fix="remove columns the form does "
                                                              "not use")
                    previous = -1
                    for i, t in texts:  # pyxform stops after 20 empty header cells in a row
                        if i - previous - 1 > ODK_EMPTY_COLUMNS:
                            break
                        headers[i] = RE_WHITESPACE.sub(" ", t)
                        previous = i
                    seen: set[str] = set()
                    for i, t in texts:
                        if i in headers and headers[i] in seen:
                            raise BadInput(f"sheet {original!r} has two columns called "
                                           f"{headers[i]!r}", fix="give each column its own "
                                                                 "header")
                        seen.add(headers.get(i, ""))
                        ledger.add(Cell(name, 1, get_column_letter(i + 1), f"#header:{i}", t))
                    continue
                beyond = number - last_filled - 1 > ODK_EMPTY_ROWS
                if any(i in headers for i, _ in texts) and not beyond:
                    last_filled = number
                filled_rows += 1
                if name == "survey":
                    survey_rows += 1
                    limits.check_count("rows on the survey sheet", survey_rows,
                                       limits.XLSFORM_SURVEY_ROWS,
                                       fix=f"a survey holds at most {limits.QUESTIONS_PER_SURVEY:,} "
                                           "questions: split the form into several surveys")
                if filled_rows > MAX_FILLED_ROWS:
                    raise TooLarge(f"the workbook has more than {MAX_FILLED_ROWS:,} filled rows",
                                   fix="split the form, or remove rows it does not use")
                for i, t in texts:
                    header = headers.get(i) or f"#nohead:{i}"
                    ledger.add(Cell(name, number, get_column_letter(i + 1), header, t,
                                    beyond=beyond))
                if len(ledger.cells) > MAX_CELLS:
                    raise TooLarge(f"the workbook has more than {MAX_CELLS:,} filled cells",
                                   fix="an XLSForm is far smaller; check the file")
    finally:
        wb.close()
    return ledger, names


# -- languages ----------------------------------------------------------------------------

_NAME_AND_CODE = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)\)$")
_PARENTHESES = re.compile(r"\s*\(([^()]*)\)")


@dataclass
class Languages:
    """The languages a form's columns name, as cohear's BCP-47 tags."""
    default_spec: str                 # pyxform's name for unmarked columns ("default" or a name)
    base: str = "en"
    tags: dict[str, str | None] = field(default_factory=dict)   # column language -> tag
    notes: dict[str, str] = field(default_factory=dict)

    def tag(self, spec: str | None) -> str | None:
        return self.tags.get(spec if spec is not None else self.default_spec)


def _tag_for(spec: str, texts: list[str]) -> tuple[str | None, str]:
    """(tag, how it was found) for a language as a column names it."""
    spec = spec.strip()
    coded = _NAME_AND_CODE.match(spec)
    if coded:
        refined = _refined_tag(coded.group("code"), coded.group("name"), texts)
        if refined:
            return refined
    candidates = [coded.group("code")] if coded else []
    candidates.append(spec)
    for candidate in candidates:
        if candidate.lower() in ("ku", "kur", "kurdish"):
            # Kurdish in two scripts: the words say which (Sorani in Arabic letters).
            arabic = any("\u0600" <= ch <= "\u06ff" for t in texts for ch in t)
            return ("ckb" if arabic else "kmr"), ("Kurdish written in Arabic letters is Sorani"
                                                  if arabic else "Kurdish written in Latin "
                                                  "letters is Kurmanji")
        try:
            return links.language(candidate.replace("_", "-")).tag, ""
        except CohearError:
            pass
    name = coded.group("name") if coded else spec
    found = links.tag_for_name(name)
    return found, ""


def _flat(name: str) -> str:
    return " ".join(re.sub(r"[()\[\],]", " ", name).casefold().split())


def _refined_tag(code: str, name: str, texts: list[str]) -> tuple[str, str] | None:
    """(tag, note) for a column whose code is only a primary subtag when its name or its
    words say more: the name of a script or region ("Punjabi Shahmukhi (pa)", as cohear
    exports, or "Serbian Latin (sr)"), else the letters of the column's words where the
    region has the language in two scripts ("Punjabi (pa)" over Shahmukhi words is
    pa-Arab). None when the code alone decides."""
    code = code.replace("_", "-")
    if "-" in code:
        return None
    siblings = links.languages_sharing(code)
    for lang in siblings:
        if _flat(lang.english_name) == _flat(name):
            return lang.tag, ""
    try:
        base = links.language(code)
    except CohearError:
        return None
    rest = _flat(name).removeprefix(_flat(base.english_name)).strip()
    if rest and rest != _flat(name):
        import langcodes
        for kind in ("script", "territory"):
            try:
                found = langcodes.find_name(kind, rest, "en")
            except LookupError:
                continue
            part = found.script if kind == "script" else found.territory
            try:
                return links.language(f"{code}-{part}").tag, ""
            except CohearError:
                continue
    if len(siblings) > 1 and any(t and t.strip() for t in texts):
        fitting = [lang for lang in siblings if links.written_in(texts, lang.tag)]
        if len(fitting) == 1:
            plain = base.tag == fitting[0].tag
            return fitting[0].tag, ("" if plain else f"{name} ({code}) is written in two "
                                    f"scripts; its words are {fitting[0].english_name}")
    return None


# -- the mapping -----------------------------------------------------------------------------

@dataclass
class Form:
    title: str
    purpose: str
    base_language: str
    target_languages: list[str]
    questions: list[dict]
    rows: dict[str, int]                    # question name -> its survey row
    report: dict


def _headers(ledger: Ledger, sheet: str, aliases: dict, columns: set) -> dict[str, tuple]:
    """header -> pyxform's tokens for it (how ODK reads that column)."""
    from pyxform.parsing.sheet_headers import process_header

    found = [c.value for k, c in ledger.cells.items() if k[0] == sheet and k[1] == 1]
    double = any("::" in h for h in found)
    out = {}
    for h in found:
        from pyxform.xls2json_backends import RE_WHITESPACE
        clean = RE_WHITESPACE.sub(" ", h)
        out[clean] = process_header(clean, double, aliases, columns)[1]
    return out


def _translatable(tokens: tuple) -> tuple[str, str | None] | None:
    """(what, language spec or None) of a translatable column's tokens."""
    for prefix, what in TRANSLATABLE.items():
        if tokens[:len(prefix)] == prefix and len(tokens) <= len(prefix) + 1:
            return what, (tokens[len(prefix)] if len(tokens) > len(prefix) else None)
    return None


def _rows(ledger: Ledger, sheet: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, header -> text) for each data row holding anything, in order."""
    by_row: dict[int, dict[str, str]] = {}
    for (name, number, header), cell in ledger.cells.items():
        if name == sheet and number > 1 and not cell.beyond and not header.startswith("#"):
            by_row.setdefault(number, {})[header] = cell.value
    yield from sorted(by_row.items())


def _pyxform(data: bytes) -> list[str]:
    """Convert the form with pyxform as ODK and KoboToolbox do; its refusal is ours.
    Returns pyxform's warnings."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    try:
        convert(xlsform=io.BytesIO(data), file_type=".xlsx", warnings=warnings)
    except PyXFormError as exc:
        raise BadInput(f"ODK's form converter refuses the form: {str(exc).strip()[:600]}",
                       fix="correct the form as the message says (KoboToolbox and ODK Central "
                           "refuse it too), then import it again") from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise BadInput(f"ODK's form converter could not read the form ({type(exc).__name__})",
                       fix="open the form in KoboToolbox or ODK Central to find the problem"
                       ) from None
    return [w.strip() for w in warnings if w.strip()]


def _settings(ledger: Ledger) -> dict[str, str]:
    from pyxform import aliases
    from pyxform.survey import Survey

    if "settings" not in {k[0] for k in ledger.cells}:
        return {}
    tokens = _headers(ledger, "settings", aliases.settings_header, set(Survey.get_slot_names()))
    out: dict[str, str] = {}
    for number, row in _rows(ledger, "settings"):
        if out or number != 2:
            ledger.report("settings", number, None, "ODK reads only the first row of the "
                          "settings sheet", "put the settings in row 2")
            continue
        for header, text in row.items():
            key = tokens.get(header, (header,))[0]
            key = {"title": "form_title", "id_string": "form_id"}.get(key, key)
            out[key] = text
            out[f"#{key}"] = header
    return out


def _broken_xml_refused(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """openpyxl reads a sheet's XML only as its rows are read: a part that is not
    well-formed XML fails there, and is refused as what it is."""

    @functools.wraps(parse)
    def checked(data: bytes):
        try:
            return parse(data)
        except (ElementTree.ParseError, etree.LxmlError, zipfile.BadZipFile) as exc:
            raise Unprocessable(f"the spreadsheet's XML is broken ({type(exc).__name__})",
                                fix="save the form again from Excel, LibreOffice or "
                                    "KoboToolbox and upload that file") from None

    return checked


@_broken_xml_refused
def parse_xlsform(data: bytes) -> tuple[Form, Ledger]:
    """The survey an XLSForm describes, with a report naming every cell left out."""
    from pyxform import aliases
    from pyxform.question import MultipleChoiceQuestion, Option

    if len(data) > MAX_FORM_BYTES:
        raise TooLarge(f"the form is larger than {MAX_FORM_BYTES:,} bytes",
                       fix="an XLSForm is rarely over 1 MB; check the file")
    ledger, sheets = _scan(data)
    lowered = [s.lower() for s in sheets]
    if "survey" not in lowered and len(sheets) != 1:
        raise BadInput("the spreadsheet has no 'survey' sheet",
                       fix="an XLSForm needs sheets called survey (and choices for selects)")
    # pyxform reads a workbook's only sheet as its survey, whatever its name.
    survey_sheet = "survey" if "survey" in lowered else sheets[0]
    choices_sheet = "choices" if "choices" in lowered else None
    for s in sheets:
        if s.lower() not in XLSFORM_SHEETS and s != survey_sheet:
            what = ("external choices, entities and OSM tags are not used by cohear"
                    if s.lower() in ("external_choices", "entities", "osm")
                    else "it is not part of an XLSForm; ODK does not read it either")
            ledger.report(s, None, None, f"sheet {s!r} was not read: {what}",
                          "move anything the survey needs onto the survey or choices sheet")
    warnings = _pyxform(data)
    settings = _settings(ledger)

    survey_tokens = _headers(ledger, survey_sheet, aliases.survey_header,
                             set(MultipleChoiceQuestion.get_slot_names()))
    choice_tokens = _headers(ledger, choices_sheet, aliases.list_header,
                             set(Option.get_slot_names())) if choices_sheet else {}
    langs = _languages(ledger, settings, survey_sheet, survey_tokens, choices_sheet,
                       choice_tokens)
    choices = _choice_lists(ledger, choices_sheet, choice_tokens, langs)
    questions, rows, used_lists = _questions(ledger, survey_sheet, survey_tokens, langs, choices)
    for list_name, items in choices.items():
        if list_name not in used_lists:
            for item in items:
                ledger.report(choices_sheet, item["#row"], None,
                              f"list {list_name!r} is used by no question cohear imported",
                              "nothing to do unless a question should use it")
    _settings_report(ledger, settings)
    _leftovers(ledger, survey_sheet, choices_sheet)
    if not questions:
        raise BadInput("the form has no question cohear can import",
                       fix="see the import report: text, audio, select_one, select_multiple, "
                           "acknowledge, range, integer, decimal, date and time questions "
                           "are supported")
    limits.check_count("questions in one survey", len(questions), MAX_QUESTIONS,
                       fix="split the form into several surveys")
    title = settings.get("form_title") or settings.get("form_id") or "Imported XLSForm"
    form_id = settings.get("form_id") or title
    version = f" (version {settings['version']})" if settings.get("version") else ""
    targets = [t for t in dict.fromkeys(langs.tags.values()) if t and t != langs.base]
    for q in questions:
        for c in q["options"].get("choices", []):
            c.pop("#row", None)
    report = {
        "imported": [q["name"] for q in questions],
        "rows": rows,
        "languages": [{"column": spec, "tag": tag, **({"note": langs.notes[spec]}
                                                     if spec in langs.notes else {}),
                       **_support(tag)} for spec, tag in langs.tags.items()],
        "items": ledger.items,
        "unsupported": [_line(i) for i in ledger.items],
        "warnings": warnings,
    }
    form = Form(title=title[:200], purpose=(settings.get("purpose") or
                                            f"Imported from the XLSForm {form_id!r}{version}"),
                base_language=langs.base, target_languages=targets, questions=questions,
                rows=rows, report=report)
    return form, ledger


def _support(tag: str | None) -> dict:
    if tag is None:
        return {"translation": None}
    try:
        from language_packs.registry import get_language
        lang = get_language(tag)
    except (ImportError, CohearError):
        return {"translation": "human translation only"}
    return {"in_region": lang.in_region, "speech_recognition": lang.whisper_code is not None,
            **({} if lang.in_region else {"translation": "human translation only"})}


def _line(item: dict) -> str:
    where = item["sheet"]
    if item["row"] is not None:
        where += f" row {item['row']}"
    if item["column"]:
        where += f" column {item['column']!r}"
    return f"{where}: {item['message']} ({item['fix']})"


def _languages(ledger: Ledger, settings: dict, survey_sheet: str, survey_tokens: dict,
               choices_sheet: str | None, choice_tokens: dict) -> Languages:
    default_spec = settings.get("default_language") or "default"
    langs = Languages(default_spec=default_spec)
    specs: dict[str, list[str]] = {}
    for sheet, tokens in ((survey_sheet, survey_tokens), (choices_sheet, choice_tokens)):
        for header, toks in tokens.items():
            found = _translatable(toks)
            if found is None and toks[:1] == ("media",) and len(toks) == 3:
                found = ("media", toks[2])
            if found is None:
                continue
            spec = found[1] if found[1] is not None else default_spec
            texts = specs.setdefault(spec, [])
            texts.extend(c.value for k, c in ledger.cells.items()
                         if k[0] == sheet and k[1] > 1 and k[2] == header)
    for spec, texts in specs.items():
        if spec == "default" and default_spec == "default":
            langs.tags[spec] = "en"
            langs.notes[spec] = ("columns without a language are taken as English (en); set "
                                 "default_language in settings if they are not")
            continue
        tag, note = _tag_for(spec, texts)
        langs.tags[spec] = tag
        if note:
            langs.notes[spec] = note
    if default_spec != "default":
        tag = langs.tags.get(default_spec) or _tag_for(default_spec, [])[0]
        if tag is None:
            raise BadInput(f"the settings' default_language {default_spec!r} names no language",
                           fix="write it as Name (code), e.g. English (en)")
        langs.tags[default_spec] = tag
        langs.base = tag
    else:
        label_specs = [_translatable(t)[1] for t in survey_tokens.values()
                       if _translatable(t) and _translatable(t)[0] == "label"]
        first = next((langs.tags.get(s if s is not None else "default") for s in label_specs
                      if langs.tags.get(s if s is not None else "default")), None)
        langs.base = first or "en"
    for sheet, tokens in ((survey_sheet, survey_tokens), (choices_sheet, choice_tokens)):
        for header, toks in tokens.items():
            found = _translatable(toks) or (("media", toks[2]) if toks[:1] == ("media",) and
                                            len(toks) == 3 else None)
            if found and langs.tag(found[1]) is None:
                ledger.report(sheet, None, header, f"the language {found[1]!r} has no code "
                              "cohear can read, so this column was not imported",
                              "write it as label::Name (code), e.g. label::Swahili (sw)")
    return langs


def _language_columns(ledger: Ledger, sheet: str, header: str, spec: str | None,
                      langs: Languages) -> str | None:
    """The tag of a translatable column (None: reported once, by `_languages`)."""
    return langs.tag(spec)


def _choice_lists(ledger: Ledger, sheet: str | None, tokens: dict,
                  langs: Languages) -> dict[str, list[dict]]:
    if sheet is None:
        return {}
    out: dict[str, list[dict]] = {}
    rows = list(_rows(ledger, sheet))
    if len(rows) > MAX_CHOICES:
        raise TooLarge(f"the choices sheet has {len(rows)} rows (at most {MAX_CHOICES:,})",
                       fix="split the lists, or use fewer choices")
    for number, row in rows:
        list_name = value = ""
        labels: dict[str, str] = {}
        for header, text in row.items():
            toks = tokens.get(header, (header,))
            if toks in (("list name",), ("list_name",)):
                list_name = text
            elif toks == ("name",):
                value = text
        if not list_name or not value:
            ledger.report(sheet, number, None, "a choice row needs list_name and name; ODK "
                          "skips it", "fill both in, or delete the row")
            continue
        item: dict = {"value": value, "#row": number, "#labels": labels, "#cells": []}
        for header, text in row.items():
            toks = tokens.get(header, (header,))
            found = _translatable(toks)
            if toks in (("list name",), ("list_name",), ("name",)):
                item["#cells"].append(header)  # used once a question takes the list
            elif found and found[0] == "label":
                tag = _language_columns(ledger, sheet, header, found[1], langs)
                if tag:
                    labels[tag] = text
                    item["#cells"].append(header)
            elif toks[:1] == ("media",):
                ledger.report(sheet, number, header, f"the choice's media file {text!r} is "
                              "not imported", NOT_RUN[("media",)])
            else:
                ledger.report(sheet, number, header, f"column {header!r} of the choices sheet "
                              "is not used by cohear (in ODK it serves choice_filter)",
                              "nothing to do unless a question filters its choices")
        earlier = next((c for c in out.get(list_name, []) if c["value"] == value), None)
        if earlier is not None:  # allowed by allow_choice_duplicates, for choice filters
            ledger.report(sheet, number, None, f"the value {value!r} is already in list "
                          f"{list_name!r} (row {earlier['#row']}); cohear keeps the first",
                          "give each choice of a list its own value, or filter by hand")
            continue
        out.setdefault(list_name, []).append(item)
    return out


def _use_list(ledger: Ledger, items: list[dict], base: str) -> list[dict]:
    out = []
    for item in items:
        for header in item["#cells"]:
            ledger.use("choices", item["#row"], header)
        labels = dict(item["#labels"])
        choice = {"value": item["value"], "label": labels.pop(base, "") or item["value"],
                  "#row": item["#row"]}
        if labels:
            choice["labels"] = labels
        out.append(choice)
    return out


def _question_kind(qtype: str) -> tuple[str, str | None]:
    """(XLSForm kind, list name) of a type cell, as pyxform reads it."""
    from pyxform import aliases
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT
    from pyxform.xls2json import RE_SELECT

    qtype = " ".join(qtype.split())
    select = RE_SELECT.search(qtype)
    if select:
        command = aliases.select[select.group("select_command")]
        kind = {"select one": "select_one", "select all that apply": "select_multiple"}.get(
            command, command)
        if "from_file" in select.group("select_command") or "from file" in \
                select.group("select_command"):
            kind = "select_from_file"
        return kind, select.group("list_name")
    lowered = qtype.lower()
    for word in ("begin", "end"):
        for what in ("group", "repeat", "loop", "lgroup", "looped group"):
            if lowered in (f"{word} {what}", f"{word}_{what}", f"{word}{what}"):
                return f"{word}_{'repeat' if what != 'group' else 'group'}", None
    spec = QUESTION_TYPE_DICT.get(aliases._type_alias_map.get(qtype, qtype))
    if spec is None:
        return qtype, None
    bind, control = spec.get("bind", {}), spec.get("control", {})
    if bind.get("readonly") == "true()" and control.get("tag") == "input":
        return "note", None
    if control.get("tag") == "trigger":
        return "acknowledge", None
    if control.get("tag") == "range":
        return "range", None
    if control.get("tag") == "upload" and control.get("mediatype") == "audio/*":
        return "audio", None
    if control.get("tag") == "input" and "jr:preload" not in bind:
        return {"string": "text", "int": "integer", "decimal": "decimal", "date": "date",
                "time": "time"}.get(bind.get("type", ""), qtype), None
    return qtype, None


def _questions(ledger: Ledger, sheet: str, tokens: dict, langs: Languages,
               choices: dict[str, list[dict]]) -> tuple[list[dict], dict[str, int], set[str]]:
    questions: list[dict] = []
    rows: dict[str, int] = {}
    used_lists: set[str] = set()
    stack: list[str] = []
    type_header = next((h for h, t in tokens.items() if t == ("type",)), None)
    name_header = next((h for h, t in tokens.items() if t == ("name",)), None)
    for number, row in _rows(ledger, sheet):
        qtype = row.get(type_header, "") if type_header else ""
        name = row.get(name_header, "") if name_header else ""
        disabled = next((text for h, text in row.items() if tokens.get(h) == ("disabled",)), "")
        if disabled.lower() in ("yes", "true", "true()"):
            ledger.report(sheet, number, None, "the row is disabled; ODK skips it",
                          "nothing to do")
            continue
        if not qtype:
            ledger.report(sheet, number, None, "the row has no type; ODK skips it as a comment",
                          "give it a type if it is a question")
            continue
        kind, list_name = _question_kind(qtype)
        if kind == "note" and not name:
            name = f"generated_note_name_{number}"  # the name pyxform gives it
        ledger.use(sheet, number, type_header)
        if name_header:
            ledger.use(sheet, number, name_header)
        where = f"{' / '.join(stack)}: " if stack else ""
        if kind in ("begin_group", "begin_repeat"):
            what = "repeat" if kind == "begin_repeat" else "group"
            stack.append(name)
            ledger.report(sheet, number, None, f"{what} {name!r} is not supported; its questions "
                          "are imported in order" + (" and asked once" if what == "repeat" else ""),
                          "ask its questions in order; " + ("a repeat's answers are one set per "
                                                             "respondent" if what == "repeat"
                                                             else "its label and logic are "
                                                                  "not shown"))
            continue
        if kind in ("end_group", "end_repeat"):
            if stack:
                stack.pop()
            for header in row:
                if header not in (type_header, name_header):
                    ledger.report(sheet, number, header, "an end row's other cells are not "
                                  "used", "nothing to do")
            continue
        if kind == "note":
            label = next((t for h, t in row.items()
                          if (_translatable(tokens.get(h, (h,))) or ("",))[0] == "label"), "")
            ledger.report(sheet, number, None, f"{where}note {name!r} ({label[:80]!r}) is shown "
                          "in ODK but cohear has no display-only question, so it was not "
                          "imported", "put its words in the next question's hint, or say them "
                                      "when collecting")
            continue
        if kind not in ASKED and kind not in ("select_one", "select_multiple"):
            advice = {"calculate": "compute it from the export",
                      "select_from_file": "copy the file's choices onto the choices sheet",
                      "rank": "ask it as select_multiple, or as one scale per item",
                      "datetime": "ask a date and a time question",
                      "dateTime": "ask a date and a time question"}.get(
                          kind, "ask it another way, or collect it outside cohear")
            ledger.report(sheet, number, None, f"{where}question {name!r} of type {qtype!r} is "
                          "not supported and was not imported", advice)
            continue
        question = _question(ledger, sheet, number, row, tokens, langs, kind, qtype, name,
                             list_name, choices, type_header, name_header)
        if question is None:
            continue
        if name in rows:  # ODK allows one name in two groups; cohear's names are the survey's
            unique = "_".join([*stack[-1:], name])
            while unique in rows:
                unique += "_"
            ledger.items.append({"sheet": sheet, "row": number, "column": name_header,
                                 "cell": None, "message": f"the name {name!r} is also used on "
                                 f"row {rows[name]}; this question is imported as {unique!r}",
                                 "fix": "give each question its own name"})
            name = question["name"] = unique
        if list_name and list_name in choices:
            used_lists.add(list_name)
        questions.append(question)
        rows[name] = number
    return questions, rows, used_lists


def _params(text: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in
                                                  re.split(r"[\s,;]+", text) if "=" in p)}


def _question(ledger: Ledger, sheet: str, number: int, row: dict, tokens: dict,
              langs: Languages, kind: str, qtype: str, name: str, list_name: str | None,
              choices: dict, type_header: str | None, name_header: str | None) -> dict | None:
    words: dict[str, dict[str, str]] = {}
    explicit = ""
    options: dict[str, Any] = {}
    constraint_header = parameters_header = None
    for header, text in row.items():
        if header in (type_header, name_header):
            continue
        toks = tokens.get(header, (header,))
        found = _translatable(toks)
        if header == KIND_COLUMN or toks == ("cohear", "kind"):
            explicit = text
            ledger.use(sheet, number, header)
        elif found and found[0] != "guidance_hint":
            tag = _language_columns(ledger, sheet, header, found[1], langs)
            if tag:
                words.setdefault(found[0], {})[tag] = text
                ledger.use(sheet, number, header)
        elif toks == ("bind", "required"):
            flag = text.strip().lower()
            if flag in ("yes", "true", "true()", "1"):
                options["required"] = True
                ledger.use(sheet, number, header)
            elif flag in ("no", "false", "false()", "0"):
                ledger.use(sheet, number, header)
            else:
                ledger.report(sheet, number, header, f"required {text!r} of {name!r} depends on "
                              "other answers, which cohear does not run",
                              "say yes or no; the collector judges when it applies")
        elif toks == ("bind", "constraint"):
            constraint_header = header
        elif toks == ("parameters",):
            parameters_header = header
        else:
            key = next((k for k in NOT_RUN if toks[:len(k)] == k), None)
            label = header if not key else " ".join(t for t in toks if t not in ("bind",
                                                                               "control"))
            fix = NOT_RUN.get(key, "cohear has no use for this column; nothing to do unless "
                                   "it holds words respondents should hear")
            if toks[:1] == ("media",):
                message = f"media file {text!r} of {name!r} is not imported"
            elif key:
                message = f"{label} {text!r} of {name!r} is not supported"
            elif ":" in header and "::" not in header and _translatable(
                    tuple(t.strip() for t in header.split(":"))[:2]):
                message = (f"column {header!r} is not read by ODK (a sheet that uses '::' "
                           "anywhere needs it in every language column)")
                fix = "rename it with '::', e.g. label::English (en)"
            else:
                message = f"column {header!r} ({text!r}) is not imported"
            ledger.report(sheet, number, header, message, fix)
    labels = words.pop("label", {})
    text = labels.pop(langs.base, "")
    if not text:
        text = name
        if labels:
            ledger.items.append({"sheet": sheet, "row": number, "column": None, "cell": None,
                                 "message": f"{name!r} has no {langs.base} label, so its name is "
                                            "its text in the base language",
                                 "fix": f"add a {langs.base} label"})
    for what, per_language in words.items():
        options[what] = per_language
    params = _params(ledger.value(sheet, number, parameters_header)) if parameters_header else {}
    constraint = ledger.value(sheet, number, constraint_header) if constraint_header else ""
    mapped = _kind(ledger, sheet, number, kind, qtype, name, list_name, choices, explicit,
                   params, constraint, langs.base)
    if mapped is None:
        return None
    cohear_kind, kind_options, used_params, used_constraint = mapped
    options |= kind_options
    if parameters_header:
        unused = {k: v for k, v in params.items() if k not in used_params}
        if unused or not params:
            ledger.report(sheet, number, parameters_header, f"parameters "
                          f"{' '.join(f'{k}={v}' for k, v in unused.items()) or '(none)'} of "
                          f"{name!r} are not used by cohear", NOT_RUN[("parameters",)])
        else:
            ledger.use(sheet, number, parameters_header)
    if constraint_header:
        if used_constraint:
            ledger.use(sheet, number, constraint_header)
        else:
            ledger.report(sheet, number, constraint_header, f"constraint {constraint!r} of "
                          f"{name!r} is not supported", NOT_RUN[("bind", "constraint")])
    try:
        options = service.normalise_options(cohear_kind, options)
    except CohearError as exc:
        raise BadInput(f"row {number} ({name!r}): {exc.detail}", fix=exc.fix or "") from None
    return {"name": name, "kind": cohear_kind, "text": text, "texts": labels,
            "options": options}


def _kind(ledger: Ledger, sheet: str, number: int, kind: str, qtype: str, name: str,
          list_name: str | None, choices: dict, explicit: str, params: dict[str, str],
          constraint: str, base: str) -> tuple[str, dict, set[str], bool] | None:
    """(cohear kind, its options, the parameters used, whether the constraint was used)."""
    if kind in values.VALUE_KINDS:
        mapped = values.range_from_constraint(kind, constraint) if constraint else None
        return kind, mapped or {}, set(), mapped is not None
    if kind == "text":
        answer = explicit.split(":", 1)[1] if explicit.startswith("open:") else "text"
        if explicit.startswith("demographic:"):
            return "demographic", {"field": explicit.split(":", 1)[1]}, set(), False
        return "open", {"answer": answer if answer in ("text", "either") else "text"}, set(), \
            False
    if kind == "audio":
        return "open", {"answer": "voice"}, set(), False
    if kind == "acknowledge":
        version = params.get("consent_version", "")
        return "consent", ({"consent_version": int(version)} if version.isdigit() else {}), \
            ({"consent_version"} if version.isdigit() else set()), False
    if kind == "range":
        try:
            low, high = int(params.get("start", 1)), int(params.get("end", 10))
            step = int(params.get("step", 1))
        except ValueError:
            low = high = step = 0
        used = {"start", "end", "step"} & set(params)
        if step == 1 and low < high and high - low <= 10:
            return "scale", {"min": low, "max": high}, used, False
        if step == 1 and low < high:  # a wide range: a whole number within it
            return "integer", {"min": low, "max": high}, used, False
        ledger.report(sheet, number, None, f"range {name!r} ({' '.join(f'{k}={v}' for k, v in params.items())}) "
                      "is not a whole-number scale cohear can ask", "use start, end and step=1 "
                      "with whole numbers, or an integer or decimal question")
        return None
    # select_one / select_multiple
    if list_name not in choices:
        raise BadInput(f"row {number}: the choice list {list_name!r} of {name!r} is not on "
                       "the choices sheet", fix="add the list, or correct its name")
    items = _use_list(ledger, choices[list_name], base)
    clean = [{k: v for k, v in c.items() if k != "#row"} for c in items]
    used: set[str] = set()
    if explicit == "scale":
        points = [c["value"] for c in clean]
        if all(p.lstrip("-").isdigit() for p in points):
            labels = {c["value"]: c["label"] for c in clean if c["label"] != c["value"]}
            return "scale", {"min": min(map(int, points)), "max": max(map(int, points)),
                             "labels": labels}, used, False
    if explicit.startswith("demographic:"):
        field_name = explicit.split(":", 1)[1]
        return "demographic", {"field": field_name, "choices": clean}, used, False
    return ("single_choice" if kind == "select_one" else "multiple_choice"), \
        {"choices": clean}, used, False


def _settings_report(ledger: Ledger, settings: dict) -> None:
    imported = {"form_title", "form_id", "version", "default_language", "purpose"}
    for key, header in list(settings.items()):
        if not key.startswith("#"):
            continue
        key = key[1:]
        if key in imported:
            ledger.use("settings", 2, header)
        else:
            ledger.report("settings", 2, header, f"the setting {header} = "
                          f"{settings[key]!r} is not used by cohear",
                          "nothing to do: cohear stores answers itself")


def _leftovers(ledger: Ledger, survey_sheet: str, choices_sheet: str | None) -> None:
    """Whatever no rule took is still named: cells under no header, cells beyond where
    ODK stops reading, header cells of columns that lost everything."""
    for key, cell in sorted(ledger.cells.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if key in ledger.used:
            continue
        sheet, number, header = key
        if number == 1:
            ledger.used.add(key)  # a header names its column; its cells are accounted
            continue
        if header.startswith("#nohead"):
            ledger.report(sheet, number, header, f"cell {cell.letter}{number} "
                          f"({cell.value[:80]!r}) is in a column without a header; ODK "
                          "ignores it", "give the column a header, or delete the cell")
        elif cell.beyond:
            ledger.report(sheet, number, header, f"cell {cell.letter}{number} "
                          f"({cell.value[:80]!r}) comes after more than {ODK_EMPTY_ROWS} "
                          "empty rows, where ODK stops reading the sheet",
                          "delete the empty rows above it if it belongs to the form")
        else:
            ledger.report(sheet, number, header, f"cell {cell.letter}{number} "
                          f"({cell.value[:80]!r}) was not imported", "nothing cohear can "
                          "ask uses it")


# -- import and export --------------------------------------------------------------------

def import_xlsform(store: Store, actor: User, fileobj: IO[bytes] | bytes) -> dict:
    """Create a survey from an XLSForm; returns {"survey": ..., "report": ...}. A form
    ODK refuses, or one beyond the bounds, is refused and creates nothing."""
    actor.require("surveys.build")
    data = fileobj if isinstance(fileobj, bytes) else fileobj.read(MAX_FORM_BYTES + 1)
    form, _ = parse_xlsform(data)
    for q in form.questions:
        try:
            links.check_question_text(q["text"], form.base_language)
        except CohearError as exc:
            raise BadInput(f"row {form.rows[q['name']]} ({q['name']!r}): {exc.detail}",
                           fix=exc.fix or "") from None
    survey = service.create_survey(store, actor, title=form.title, purpose=form.purpose,
                                   base_language=form.base_language,
                                   target_languages=form.target_languages,
                                   questions=form.questions)
    return {"survey": survey, "report": form.report}


def column_language(tag: str) -> str:
    """How an exported form names a language: `Name (code)` with the code ODK and
    pyxform read, the tag's primary subtag (pyxform checks it against the IANA language
    subtags and warns about anything else, "zh-Hans" and "pa-Guru" included, and a name
    holding parentheses breaks its reading of the code). The script or region goes in
    the name instead ("Punjabi Gurmukhi (pa)", "Chinese Simplified (zh)"), and the
    import reads it back from there (`_refined_tag`)."""
    name = _PARENTHESES.sub(r" \1", links.language(tag).english_name).replace("(", " ")
    name = " ".join(name.replace(")", " ").split())
    return f"{name} ({tag.split('-')[0].lower()})"


def _column(what: str, tag: str) -> str:
    return f"{what}::{column_language(tag)}"


def export_xlsform(store: Store, survey_id: int) -> bytes:
    """The survey's current version as an XLSForm (.xlsx) that pyxform converts: kinds,
    labels, hints, required and constraint messages in every language, ranges, scale
    labels and choice labels; `cohear::kind` keeps what XLSForm has no word for."""
    from openpyxl import Workbook

    survey = service.get_survey(store, survey_id)
    base = survey["base_language"]
    languages = [base] + [t for t in dict.fromkeys(survey["target_languages"] + [
        lang for q in survey["questions"] for lang in q["texts"]] + [
        lang for q in survey["questions"] for what in service.WORDS_OPTIONS
        for lang in q["options"].get(what, {})] + [
        lang for q in survey["questions"] for c in q["options"].get("choices", [])
        for lang in c.get("labels", {})]) if t != base]
    used_words = [w for w in service.WORDS_OPTIONS
                  if any(q["options"].get(w) for q in survey["questions"])]
    header = ["type", "name"] + [_column("label", t) for t in languages]
    for what in used_words:
        header += [_column(what, t) for t in languages]
    header += ["required", "constraint", "parameters", KIND_COLUMN]
    survey_rows = [header]
    choice_rows = [["list_name", "name"] + [_column("label", t) for t in languages]]
    for q in survey["questions"]:
        row = _export_question(q, languages, choice_rows)
        labels = [q["text"]] + [q["texts"].get(t, {}).get("text", "") for t in languages[1:]]
        extra = []
        for what in used_words:
            per = q["options"].get(what, {})
            extra += [per.get(t, "") for t in languages]
        survey_rows.append([row["type"], q["name"]] + labels + extra + [
            "yes" if q["options"].get("required") else "", row.get("constraint", ""),
            row.get("parameters", ""), row.get("kind", "")])
    settings_rows = [["form_title", "form_id", "version", "default_language", "purpose"],
                     [survey["title"], f"cohear_survey_{survey['id']}", str(survey["version"]),
                      _column("label", base).removeprefix("label::"), survey["purpose"]]]
    # Every cell a string cell (never a formula, whatever a label starts with), with
    # characters XML cannot hold written as U+FFFD; rows are collected, then written.
    wb = Workbook(write_only=True)
    for title, rows in (("survey", survey_rows), ("choices", choice_rows),
                        ("settings", settings_rows)):
        sheet = wb.create_sheet(title)
        for r in rows:
            sheet.append(cells.xlsx_row(sheet, r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _export_question(q: dict, languages: list[str], choices) -> dict:
    opts, kind = q["options"], q["kind"]
    if kind == "consent":
        return {"type": "acknowledge", "parameters": f"consent_version={opts['consent_version']}",
                "kind": "consent"}
    if kind == "open":
        return {"voice": {"type": "audio"}, "text": {"type": "text"}}.get(
            opts["answer"], {"type": "text", "kind": "open:either"})
    if kind in values.VALUE_KINDS:
        return {"type": kind, "constraint": values.range_to_constraint(kind, opts)}
    if kind == "scale" and not opts.get("labels"):
        return {"type": "range", "parameters": f"start={opts['min']} end={opts['max']} step=1"}
    list_name = f"{q['name']}_choices"
    if kind == "scale":
        items = [{"value": str(p), "label": opts["labels"].get(str(p), str(p))}
                 for p in range(opts["min"], opts["max"] + 1)]
        out = {"type": f"select_one {list_name}", "kind": "scale"}
    elif "choices" in opts:
        items = opts["choices"]
        word = "select_multiple" if kind == "multiple_choice" else "select_one"
        out = {"type": f"{word} {list_name}"}
    else:
        items, out = [], {"type": "text"}
    for c in items:
        choices.append([list_name, c["value"], c["label"]] +
                       [c.get("labels", {}).get(t, "") for t in languages[1:]])
    if kind == "demographic":
        out["kind"] = f"demographic:{opts['field']}"
    return out
