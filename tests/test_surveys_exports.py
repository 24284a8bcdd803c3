"""Research exports: every format written completely or not at all, pseudonymised by
default (no names, phones, emails or NHS numbers), a valid REFI-QDA project, a data
dictionary for every column, and identifiable exports for admins only, audit-logged."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from cohear import audit
from cohear.errors import Conflict, Forbidden
from surveys import coding, exports, redaction, service

XSD = Path(__file__).resolve().parent / "data" / "refi-qda-Project.xsd"
PII = ["Khan", "07700 900123", "amina.k@example.org", "943 476 5919", "B11 4BW"]
STORY = ("My GP Dr Khan was kind but the phone line is hopeless. Call me on 07700 900123 or "
         "write to amina.k@example.org, my NHS number is 943 476 5919 and I live at B11 4BW.")


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def coded(store, users):
    """Two respondents (English, Urdu) answering open, scale and demographic questions,
    coded by two coders, one span on the English rendering."""
    comm, col = users["communicator"], users["collector"]
    s = service.create_survey(store, comm, title="GP access", purpose="Hear about GP access",
                              base_language="en", target_languages=["ur"], questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"},
                                  {"kind": "scale", "name": "trust", "text": "Trust?",
                                   "options": {"min": 1, "max": 5}},
                                  {"kind": "demographic", "name": "ethnicity", "text": "Group",
                                   "options": {"field": "ethnicity"}}])
    service.open_language(store, comm, s["id"], "en")
    service.open_language(store, comm, s["id"], "ur", accept_english=True)
    q = {x["name"]: x["id"] for x in s["questions"]}
    cb = coding.create_codebook(store, users["researcher"], "Themes", codes=[
        {"name": "access", "colour": "#123456"}, {"name": "phone", "parent": "access"},
        {"name": "kindness"}])
    code = {c["name"]: c["id"] for c in cb["codes"]}
    answers = []
    for lang, story, trust, group in (("en", STORY, "2", "J"),
                                      ("ur", "فون پر بہت انتظار کرنا پڑتا ہے", "4", "K")):
        sess = service.start_session(store, col, s["id"], lang)
        service.record_consent(store, col, sess["id"], method="tick")
        a = service.submit_answer(store, col, sess["id"], q["story"], text=story)
        service.submit_answer(store, col, sess["id"], q["trust"], text=trust)
        service.submit_answer(store, col, sess["id"], q["ethnicity"], choices=[group])
        answers.append(a)
    first = answers[0]
    english = service.add_text_version(store, users["reviewer"], answers[1]["id"],
                                       "You wait a long time on the phone", rendering="english")
    original = first["texts"]["original"]
    hopeless = original["text"].index("the phone line is hopeless")
    for coder in (users["reviewer"], users["researcher"]):
        coding.apply_code(store, coder, first["id"], code["phone"], answer_text_id=original["id"],
                          start=hopeless, end=hopeless + len("the phone line is hopeless"))
        coding.apply_code(store, coder, answers[1]["id"], code["phone"],
                          answer_text_id=english["id"], start=21, end=33)
    # A span that covers a redacted phone number: its words must come out redacted too.
    call = original["text"].index("Call me")
    coding.apply_code(store, users["reviewer"], first["id"], code["access"],
                      answer_text_id=original["id"], start=call, end=call + 24)
    coding.apply_code(store, users["researcher"], first["id"], code["kindness"])
    return {"survey": s, "answers": answers, "codes": code}


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_long_csv_one_row_per_coded_segment_pseudonymised(store, users, coded, tmp_path):
    out = tmp_path / "long.csv"
    report = exports.export_survey(store, users["researcher"], coded["survey"]["id"], "csv", out)
    rows = read_csv(out)
    text = out.read_text(encoding="utf-8-sig")
    for pii in PII:
        assert pii not in text
    assert "[phone]" in text and "[email]" in text and "[nhs_number]" in text
    # 4 codings on the English respondent's story + 1 on the Urdu one... counted exactly:
    story_en = [r for r in rows if r["question"] == "story" and r["language"] == "en"]
    story_ur = [r for r in rows if r["question"] == "story" and r["language"] == "ur"]
    assert len(story_en) == 4 and len(story_ur) == 2
    uncoded = [r for r in rows if r["question"] != "story"]
    assert len(uncoded) == 4 and all(r["code"] == "" for r in uncoded)
    assert report["rows"] == len(rows) == 10
    span = next(r for r in story_en if r["code"] == "phone" and r["coder"] == "test-reviewer")
    assert span["segment_text"] == "the phone line is hopeless"
    assert span["code_path"] == "access/phone" and span["segment_rendering"] == "original"
    covering = next(r for r in story_en if r["code"] == "access")
    assert covering["segment_text"].startswith("Call me on [phone]")
    urdu = story_ur[0]
    assert urdu["nhs_language_code"] == exports.links.language("ur").nhs_code
    assert urdu["segment_text"] == "on the phone" and urdu["segment_rendering"] == "english"
    pseudonyms = {r["respondent"] for r in rows}
    assert len(pseudonyms) == 2 and all(p.startswith("P-") for p in pseudonyms)
    cohear_ids = {r["cohear_id"] for r in store.all("SELECT cohear_id FROM respondents")}
    assert not pseudonyms & cohear_ids
    dictionary = read_csv(report["dictionary"])
    columns = [d["column"] for d in dictionary if not d["column"].startswith("question:")]
    assert columns[:-2] == list(rows[0].keys())
    assert columns[-2:] == ["(how cells are escaped)", "(characters XML cannot hold)"]
    assert all(d["meaning"] for d in dictionary)
    # Then each question's type, with its range or choices.
    assert {d["column"] for d in dictionary} - set(columns) == {
        f"question:{q}" for q in {r["question"] for r in rows} | {"consent"}}


def test_pseudonyms_are_stable_and_the_salt_is_private(store, users, coded, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    exports.export_survey(store, users["researcher"], coded["survey"]["id"], "csv", a)
    exports.export_survey(store, users["admin"], coded["survey"]["id"], "csv", b)
    assert {r["respondent"] for r in read_csv(a)} == {r["respondent"] for r in read_csv(b)}
    salt_file = store.settings.data_dir / "pseudonym-salt"
    assert stat.S_IMODE(os.stat(salt_file).st_mode) == 0o600
    assert len(salt_file.read_text().strip()) == 64


def test_wide_csv_one_row_per_respondent_with_question_and_code_columns(store, users, coded,
                                                                       tmp_path):
    out = tmp_path / "wide.csv"
    report = exports.export_survey(store, users["researcher"], coded["survey"]["id"],
                                   "wide-csv", out)
    rows = read_csv(out)
    assert len(rows) == 2 and report["rows"] == 2
    assert list(rows[0]) == ["respondent", "languages", "nhs_language_codes",
                             "q:story", "q:story:english", "q:story:english_current",
                             "q:trust", "q:ethnicity", "code:access", "code:access/phone",
                             "code:kindness"]
    en = next(r for r in rows if r["languages"] == "en")
    assert en["q:trust"] == "2" and en["q:ethnicity"] == "J"
    assert en["code:access/phone"] == "2" and en["code:kindness"] == "1"
    assert en["code:access"] == "1"
    assert "[phone]" in en["q:story"] and "07700" not in en["q:story"]
    ur = next(r for r in rows if r["languages"] == "ur")
    assert ur["q:story:english"] == "You wait a long time on the phone"
    assert ur["code:kindness"] == "0"
    assert ur["nhs_language_codes"] == exports.links.language("ur").nhs_code
    columns = [d["column"] for d in read_csv(report["dictionary"])
               if not d["column"].startswith("question:")]
    assert columns[:-2] == list(rows[0])


def test_a_long_and_a_wide_export_with_one_stem_keep_a_dictionary_each(store, users, coded,
                                                                        tmp_path):
    """`--format csv -o s2.csv` then `--format wide-csv -o s2.wide-csv`: the second
    export's dictionary does not replace the first's."""
    survey_id = coded["survey"]["id"]
    long = exports.export_survey(store, users["researcher"], survey_id, "csv",
                                 tmp_path / "s2.csv")
    wide = exports.export_survey(store, users["researcher"], survey_id, "wide-csv",
                                 tmp_path / "s2.wide-csv")
    assert long["dictionary"] != wide["dictionary"]
    assert Path(long["dictionary"]).name == "s2.dictionary.csv"
    assert Path(wide["dictionary"]).name == "s2.wide-dictionary.csv"
    # Each dictionary still describes its own file's columns, first to last.
    for report in (long, wide):
        header = list(read_csv(report["path"])[0])
        described = [d["column"] for d in read_csv(report["dictionary"])]
        assert described[:len(header)] == header
    # An export job names its files the same way, so withdrawal finds both.
    assert [p.name for p in exports.export_files(store, 7, "wide-csv")] == [
        "export-7.csv", "export-7.wide-dictionary.csv"]


def test_xlsx_has_one_row_per_respondent_and_a_dictionary_sheet(store, users, coded, tmp_path):
    from openpyxl import load_workbook

    xlsx, wide = tmp_path / "survey.xlsx", tmp_path / "wide.csv"
    report = exports.export_survey(store, users["researcher"], coded["survey"]["id"], "xlsx",
                                   xlsx)
    exports.export_survey(store, users["researcher"], coded["survey"]["id"], "wide-csv", wide)
    wb = load_workbook(xlsx, read_only=True)
    assert wb.sheetnames == ["respondents", "dictionary"]
    sheet = [["" if v is None else str(v) for v in row] for row in wb["respondents"].values]
    with open(wide, encoding="utf-8-sig", newline="") as fh:
        assert sheet == list(csv.reader(fh))  # the same table as the wide CSV
    assert report["rows"] == 2
    dictionary = list(wb["dictionary"].values)
    assert [d[0] for d in dictionary[1:-2] if not d[0].startswith("question:")] == sheet[0]
    flat = json.dumps(sheet, ensure_ascii=False)
    for pii in PII:
        assert pii not in flat


def test_json_export_lists_answers_with_their_codings(store, users, coded, tmp_path):
    out = tmp_path / "survey.json"
    exports.export_survey(store, users["researcher"], coded["survey"]["id"], "json", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["pseudonymised"] is True and doc["survey"]["title"] == "GP access"
    assert len(doc["answers"]) == 6 and len(doc["questions"]) == 4
    story = next(a for a in doc["answers"] if a["question"] == "story" and a["language"] == "en")
    assert len(story["codings"]) == 4
    assert {c["code_path"] for c in story["codings"]} == {"access/phone", "access", "kindness"}
    for pii in PII:
        assert pii not in out.read_text(encoding="utf-8")
    assert {k for k in doc["dictionary"] if not k.startswith("question:")} - {"characters"} <= \
        set(exports.long_columns(False)) | {"value"}
    assert set(story) - {"choices", "codings"} <= set(doc["dictionary"])


def test_qdpx_project_validates_against_the_refi_qda_schema(store, users, coded, tmp_path):
    from lxml import etree

    out = tmp_path / "survey.qdpx"
    exports.export_survey(store, users["researcher"], coded["survey"]["id"], "qdpx", out)
    with zipfile.ZipFile(out) as zf:
        qde = zf.read("project.qde")
        texts = {name: zf.read(name).decode("utf-8") for name in zf.namelist()
                 if name.startswith("sources/")}
    doc = etree.fromstring(qde)
    etree.XMLSchema(etree.parse(str(XSD))).assertValid(doc)
    ns = {"q": exports.PROJECT_NS}
    assert {u.get("name") for u in doc.findall("q:Users/q:User", ns)} == \
        {"test-reviewer", "test-researcher"}
    assert [c.get("name") for c in doc.iter("{urn:QDA-XML:project:1.0}Code")] == \
        ["access", "phone", "kindness"]
    for pii in PII:
        assert pii.encode() not in qde and all(pii not in t for t in texts.values())
    # Each selection's offsets point at the coded words in the (redacted) source text.
    seen = []
    for source in doc.findall("q:Sources/q:TextSource", ns):
        assert source.find("q:PlainTextContent", ns) is None
        text = texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]
        for sel in source.findall("q:PlainTextSelection", ns):
            seen.append(text[int(sel.get("startPosition")):int(sel.get("endPosition"))])
    assert seen.count("the phone line is hopeless") == 2
    assert "Call me on [phone] " in seen  # the span ran one space past the number
    assert seen.count("on the phone") == 2 and len(seen) == 6
    # The whole-answer code is a selection over the whole (redacted) story.
    assert any(s.startswith("My GP Dr [name]") and s.endswith("[postcode].") for s in seen)
    whole = doc.findall("q:Sources/q:TextSource/q:Coding", ns)
    assert len(whole) == 0
    # Each respondent is a case holding their sources, with their languages as variables.
    sources = {el.get("guid") for el in doc.findall("q:Sources/q:TextSource", ns)}
    cases = doc.findall("q:Cases/q:Case", ns)
    assert len(cases) == 2 and all(c.get("name").startswith("P-") for c in cases)
    refs = [r.get("targetGUID") for c in cases for r in c.findall("q:SourceRef", ns)]
    assert sorted(refs) == sorted(sources)
    languages = {c.find("q:VariableValue/q:TextValue", ns).text for c in cases}
    assert languages == {"en", "ur"}


def test_every_format_says_whether_the_english_renders_the_current_words(store, users, coded,
                                                                       tmp_path):
    """After a correction the English of the older words went out in every export as "the
    newest English rendering", with nothing to say it no longer matched the answer."""
    from lxml import etree
    from openpyxl import load_workbook

    urdu = coded["answers"][1]["id"]
    survey_id = coded["survey"]["id"]

    def export(fmt: str, name: str) -> Path:
        out = tmp_path / name
        exports.export_survey(store, users["researcher"], survey_id, fmt, out)
        return out

    def flags(tag: str) -> dict:
        """english_current of the English and the Urdu story, as each format gives it."""
        long = {r["language"]: r["english_current"] for r in read_csv(export("csv", tag + ".csv"))
                if r["question"] == "story"}
        wide = {r["languages"]: r["q:story:english_current"]
                for r in read_csv(export("wide-csv", tag + "-wide.csv"))}
        sheet = list(load_workbook(export("xlsx", tag + ".xlsx"), read_only=True)
                     ["respondents"].values)
        column = sheet[0].index("q:story:english_current")
        xlsx = {row[1]: row[column] for row in sheet[1:]}
        doc = json.loads(export("json", tag + ".json").read_text(encoding="utf-8"))
        as_json = {a["language"]: a["english_current"] for a in doc["answers"]
                   if a["question"] == "story"}
        with zipfile.ZipFile(export("qdpx", tag + ".qdpx")) as zf:
            qde = etree.fromstring(zf.read("project.qde"))
        etree.XMLSchema(etree.parse(str(XSD))).assertValid(qde)
        ns = {"q": exports.PROJECT_NS}
        var = next(v.get("guid") for v in qde.findall("q:Variables/q:Variable", ns)
                   if v.get("name") == "english_current")
        assert next(v for v in qde.findall("q:Variables/q:Variable", ns)
                    if v.get("guid") == var).get("typeOfVariable") == "Boolean"
        qdpx = [v.find("q:BooleanValue", ns).text
                for v in qde.iter("{urn:QDA-XML:project:1.0}VariableValue")
                if v.find("q:VariableRef", ns).get("targetGUID") == var]
        return {"csv": long, "wide": wide, "xlsx": xlsx, "json": as_json, "qdpx": qdpx}

    assert flags("before") == {"csv": {"en": "", "ur": "1"}, "wide": {"en": "", "ur": "1"},
                               "xlsx": {"en": None, "ur": 1},
                               "json": {"en": None, "ur": True}, "qdpx": ["true"]}
    # The Urdu words are corrected: the English made of the older words is out of date.
    service.add_text_version(store, users["reviewer"], urdu, "فون پر بہت دیر انتظار کرنا پڑتا ہے")
    assert flags("after") == {"csv": {"en": "", "ur": "0"}, "wide": {"en": "", "ur": "0"},
                              "xlsx": {"en": None, "ur": 0},
                              "json": {"en": None, "ur": False}, "qdpx": ["false"]}
    # A reviewer's English of the corrected words is current again.
    service.add_text_version(store, users["reviewer"], urdu, "You wait a very long time on the "
                             "phone", rendering="english")
    assert flags("again")["json"] == {"en": None, "ur": True}
    dictionary = {d["column"]: d["meaning"] for d in read_csv(tmp_path / "again.dictionary.csv")}
    assert "older words" in dictionary["english_current"]


def test_identifiable_exports_need_an_admin_and_are_audit_logged(store, users, coded, tmp_path):
    out = tmp_path / "identifiable.csv"
    with pytest.raises(Forbidden):
        exports.export_survey(store, users["researcher"], coded["survey"]["id"], "csv", out,
                              identifiable=True)
    assert not out.exists()
    exports.export_survey(store, users["admin"], coded["survey"]["id"], "csv", out,
                          identifiable=True)
    ids = {r["respondent"] for r in read_csv(out)}
    assert ids == {r["cohear_id"] for r in store.all("SELECT cohear_id FROM respondents")}
    entries = audit.entries(store.conn, entity="survey", entity_id=coded["survey"]["id"])
    assert entries[0]["action"] == "survey.export.identifiable"
    assert entries[0]["actor_name"] == "test-admin"
    # Contact details are never exported, identifiable or not.
    service.add_contact(store, users["collector"], coded["answers"][0]["respondent_id"],
                        "Flat 2, 10 High St, 0121 496 0018")
    exports.export_survey(store, users["admin"], coded["survey"]["id"], "json",
                          tmp_path / "i.json", identifiable=True)
    assert "High St" not in (tmp_path / "i.json").read_text()


def test_accepted_redactions_apply_in_every_export_and_rejected_ones_do_not(store, users, coded,
                                                                          tmp_path):
    first = coded["answers"][0]["id"]
    found = {r["found"]: r for r in redaction.list_for_answer(store, first)}
    redaction.decide(store, users["reviewer"], found["Khan"]["id"], accept=False)
    redaction.decide(store, users["reviewer"], found["07700 900123"]["id"], accept=True)
    pseud, ident = tmp_path / "p.csv", tmp_path / "i.csv"
    exports.export_survey(store, users["researcher"], coded["survey"]["id"], "csv", pseud)
    exports.export_survey(store, users["admin"], coded["survey"]["id"], "csv", ident,
                          identifiable=True)
    p, i = pseud.read_text(encoding="utf-8-sig"), ident.read_text(encoding="utf-8-sig")
    assert "Dr Khan" in p and "Dr Khan" in i  # rejected: a doctor's name, not personal data
    assert "07700" not in p and "07700" not in i  # accepted: gone everywhere
    assert "amina.k@example.org" not in p and "amina.k@example.org" in i  # undecided


def test_an_empty_survey_cannot_be_exported_and_nothing_is_written(store, users, tmp_path):
    s = service.create_survey(store, users["communicator"], title="Empty", purpose="None yet",
                              base_language="en", questions=[
                                  {"kind": "open", "name": "x", "text": "?"}])
    out = tmp_path / "exports" / "empty.csv"
    with pytest.raises(Conflict) as err:
        exports.export_survey(store, users["researcher"], s["id"], "csv", out)
    assert "no answers" in err.value.detail
    assert not out.parent.exists()


def test_a_crash_mid_export_leaves_no_file_that_looks_complete(store, users, coded, tmp_path):
    out = tmp_path / "exports" / "crash.csv"

    def crash(done, total):
        raise OSError("disk unplugged")

    with pytest.raises(OSError):
        exports.export_survey(store, users["researcher"], coded["survey"]["id"], "csv", out,
                              progress=crash)
    assert list(out.parent.iterdir()) == []


def test_wide_csv_reads_back_as_csv(store, users, coded, tmp_path):
    out = tmp_path / "wide.csv"
    exports.export_survey(store, users["researcher"], coded["survey"]["id"], "wide-csv", out)
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len({len(r) for r in rows}) == 1
