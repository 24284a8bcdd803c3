"""Hostile requests get a 4xx problem that says what was wrong, never a 500: JSON nested
far too deep or too large (on every kind of route, also the anonymous link exchange and
the LibreTranslate-compatible ones), ids beyond what SQLite can hold, and spreadsheets
that are broken or carry a DTD (external entities, "billion laughs")."""

from __future__ import annotations

import io
import zipfile

import pytest

from cohear.app import MAX_JSON_BYTES, MAX_JSON_DEPTH, json_too_deep

DEEP = "[" * 200_000 + "]" * 200_000
DEEP_OBJECT = '{"code": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}"


def assert_problem(r, status: int, *words: str) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    detail = body["detail"] if "detail" in body else body["error"]
    for word in words:
        assert word in detail, detail


@pytest.mark.parametrize("path,who", [
    ("/collect/api/links/exchange", "anonymous"),
    ("/translate", "communicator"),
    ("/detect", "communicator"),
    ("/api/surveys", "communicator"),
    ("/api/messages", "communicator"),
])
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_deeply_nested_json_is_refused_with_a_400(api, path, who, body):
    r = api[who].post(path, content=body, headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "nests", str(MAX_JSON_DEPTH))
    # LibreTranslate clients read `error`; everyone else reads the problem's `detail`.
    assert r.json()["error"] == r.json()["detail"]


def test_json_sent_without_a_content_type_is_checked_too(api):
    r = api["communicator"].post("/api/surveys", content=DEEP)
    assert_problem(r, 400, "nests")


def test_a_json_body_over_the_json_limit_is_refused_with_a_413(api):
    big = b'{"code": "' + b"a" * (MAX_JSON_BYTES + 10) + b'"}'
    r = api["anonymous"].post("/collect/api/links/exchange", content=big,
                              headers={"Content-Type": "application/json"})
    assert_problem(r, 413, f"{MAX_JSON_BYTES:,}")


def test_ordinary_json_still_passes_the_guard(api):
    nested = {"title": "t", "purpose": "p", "questions": [
        {"kind": "single_choice", "name": "q", "text": "Which?",
         "options": {"choices": [{"value": "a", "label": "A", "labels": {"ur": "اے"}},
                                 {"value": "b", "label": "B"}]}}]}
    r = api["communicator"].post("/api/surveys", json=nested)
    assert r.status_code == 201, r.text


def test_depth_counting_ignores_brackets_inside_strings():
    assert not json_too_deep(b'{"q": "' + b"[" * 1000 + b'"}', 32)
    assert not json_too_deep(b'{"q": "\\"' + b"[" * 1000 + b'"}', 32)
    assert json_too_deep(b"[" * 33 + b"]" * 33, 32)
    assert not json_too_deep(b"[" * 32 + b"]" * 32, 32)
    assert not json_too_deep(b"[" + b"[]," * 1000 + b"[]]", 32)


@pytest.mark.parametrize("path", ["/api/jobs/{id}", "/api/jobs/{id}/cancel",
                                  "/api/audit?before_id={id}"])
@pytest.mark.parametrize("big", [2**63, 2**64 + 1, 10**30])
def test_ids_beyond_sqlite_integers_are_a_422(api, path, big):
    url = path.format(id=big)
    r = (api["admin"].post(url) if url.endswith("cancel") else api["admin"].get(url))
    assert_problem(r, 422, "less than or equal to")


def test_every_id_in_the_schema_is_bounded(live_server):
    """No path or query id of any operation can be larger than what a row id can be."""
    from cohear.ids import MAX_ID
    schema = live_server.app.openapi()
    unbounded = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            for param in op.get("parameters", []):
                s = param["schema"]
                options = s.get("anyOf", [s])
                for option in options:
                    item = option.get("items", option)
                    if item.get("type") == "integer" and param["name"].endswith("id"):
                        if item.get("maximum") != MAX_ID or item.get("minimum") != 1:
                            unbounded.append(f"{method.upper()} {path} {param['name']}")
    assert not unbounded, unbounded


# -- spreadsheets ---------------------------------------------------------------------

LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">'.encode()
                     for i in range(2, 10)).replace(b"&lol1;", b"&lol;") + b"]>")
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _form() -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    sheet = wb.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label::English (en)"])
    sheet.append(["acknowledge", "consent", "Do you agree?"])
    sheet.append(["text", "story", "Hello there"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rewrite(data: bytes, member: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            part = zin.read(info.filename)
            zout.writestr(info, change(part) if info.filename == member else part)
    return out.getvalue()


def _with_dtd(dtd: bytes, entity: bytes, encoding: str = "utf-8"):
    def change(part: bytes) -> bytes:
        body = part[part.index(b"?>") + 2:] if part.startswith(b"<?xml") else part
        text = (dtd + body.replace(b"Hello there", entity)).decode()
        if encoding != "utf-8":
            text = text.replace('version="1.0"?>', f'version="1.0" encoding="{encoding}"?>')
            return b"\xff\xfe" + text.encode("utf-16-le")
        return text.encode()
    return change


SHEET = "xl/worksheets/sheet1.xml"
# A file that is not a readable workbook, and any DTD in any part (cohear.safexml's one
# rule for every XML reader), are 400s that say what was wrong.
BAD_FORMS = {
    "truncated": (lambda: _form()[: len(_form()) // 2], 400, "not an XLSForm"),
    "not xml": (lambda: _rewrite(_form(), SHEET, lambda p: b"<sheetData><row"), 400,
                "not an XLSForm"),
    "xxe": (lambda: _rewrite(_form(), SHEET, _with_dtd(XXE, b"&xxe;")), 400, "DTD"),
    "billion laughs": (lambda: _rewrite(_form(), SHEET, _with_dtd(LAUGHS, b"&lol9;")), 400,
                       "DTD"),
    "dtd in utf-16": (lambda: _rewrite(_form(), SHEET, _with_dtd(XXE, b"&xxe;", "utf-16")),
                      400, "DTD"),
    "dtd in the workbook": (lambda: _rewrite(_form(), "xl/workbook.xml",
                                             lambda p: XXE + p), 400, "DTD"),
}


@pytest.mark.parametrize("name", list(BAD_FORMS))
def test_hostile_spreadsheets_are_refused_and_create_nothing(api, name):
    make, status, word = BAD_FORMS[name]
    r = api["communicator"].post("/api/surveys/xlsform", files={
        "file": ("form.xlsx", make(), "application/vnd.openxmlformats-officedocument."
                                      "spreadsheetml.sheet")})
    assert_problem(r, status, word)
    assert api["communicator"].get("/api/surveys").json() == []


def test_the_same_form_without_the_attack_is_imported(api):
    r = api["communicator"].post("/api/surveys/xlsform",
                                 files={"file": ("form.xlsx", _form(), "application/octet-stream")})
    assert r.status_code == 201, r.text
