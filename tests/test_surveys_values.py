"""Number, date and time questions end to end: the migration that admits them into an
existing database, answers checked over real HTTP (422 naming the question, never the
answer), the field page's survey JSON, every export typed, and the review app's view."""

from __future__ import annotations

import csv
import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest

from cohear import store as store_module
from cohear.errors import BadInput
from surveys import exports
from surveys import service as surveys

QUESTIONS = [
    {"kind": "consent", "name": "consent", "text": "Do you agree?"},
    {"kind": "integer", "name": "age", "text": "How old are you?",
     "options": {"min": 16, "max": 120, "hint": {"en": "In whole years", "ur": "پورے سال"},
                 "required": True, "constraint_message": {"en": "16 to 120"}}},
    {"kind": "decimal", "name": "temp", "text": "Temperature?", "options": {"min": 34.5,
                                                                          "max": 42}},
    {"kind": "date", "name": "last_visit", "text": "When did you last see a GP?",
     "options": {"max": "today"}},
    {"kind": "time", "name": "arrived", "text": "What time did you arrive?",
     "options": {"min": "07:00", "max": "20:00"}},
]


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def value_survey(store, users):
    s = surveys.create_survey(store, users["communicator"], title="Visits", purpose="Visits",
                              base_language="en", target_languages=["ur"],
                              questions=QUESTIONS)
    surveys.open_language(store, users["communicator"], s["id"], "en")
    surveys.open_language(store, users["communicator"], s["id"], "ur", accept_english=True)
    return s


def test_ranges_are_checked_when_a_question_is_made(store, users, value_survey):
    for kind, options, words in [
        ("integer", {"min": 10, "max": 1}, "empty"),
        ("integer", {"min": "ten"}, "whole number"),
        ("date", {"max": "31/12/2026"}, "YYYY-MM-DD"),
        ("time", {"min": "25:00"}, "HH:MM"),
        ("decimal", {"max": True}, "number"),
        ("integer", {"hint": "not per language"}, "per language"),
        ("integer", {"hint": {"xx": "unknown tag"}}, "not a language"),
    ]:
        with pytest.raises(BadInput) as err:
            surveys.add_question(store, users["communicator"], value_survey["id"], kind=kind,
                                 name="bad", text="Bad?", options=options)
        assert words in err.value.detail, (kind, options)


def _answer(api, session, question, value):
    return api["collector"].post(f"/api/sessions/{session}/answers",
                                 data={"question_id": question, "text": value})


def test_answers_are_checked_for_format_and_range_over_http(api, people):
    comm = api["communicator"]
    r = comm.post("/api/surveys", json={"title": "Visits", "purpose": "Visits",
                                        "base_language": "en", "questions": QUESTIONS})
    assert r.status_code == 201, r.text
    survey = r.json()
    assert comm.post(f"/api/surveys/{survey['id']}/languages/en", json={}).status_code == 200
    q = {x["name"]: x["id"] for x in survey["questions"]}
    session = api["collector"].post("/api/sessions", json={"survey_id": survey["id"],
                                                           "language": "en"}).json()["id"]
    api["collector"].post(f"/api/sessions/{session}/consent", data={"method": "tick"})
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    for name, value, words in [
        ("age", "forty", "is not a whole number"), ("age", "9", "outside its range"),
        ("age", "4.5", "is not a whole number"), ("temp", "hot", "is not a number"),
        ("temp", "50", "outside its range"), ("last_visit", "01/02/2026", "YYYY-MM-DD"),
        ("last_visit", tomorrow, "outside its range"), ("arrived", "6pm", "HH:MM"),
        ("arrived", "06:59", "outside its range"),
    ]:
        r = _answer(api, session, q[name], value)
        assert r.status_code == 422, (name, value, r.text)
        body = r.json()
        assert body["title"] == "Unprocessable content" and words in body["detail"]
        assert body["code"] == ("answer-out-of-range" if "range" in words else "answer-format")
        assert f"'{name}'" in body["detail"] and value not in body["detail"]
    for name, value, stored in [("age", " 42 ", "42"), ("temp", "37,50", "37.5"),
                                ("last_visit", "2026-01-31", "2026-01-31"),
                                ("arrived", "08:05", "08:05")]:
        r = _answer(api, session, q[name], value)
        assert r.status_code == 201, r.text
        assert r.json()["choices"] == [stored]
        assert r.json()["texts"]["original"]["text"] == stored
    # A value is not corrected as words.
    answer = r.json()["id"]
    r = api["reviewer"].post(f"/api/answers/{answer}/texts", json={"text": "eight"})
    assert r.status_code == 409


def test_the_field_pages_json_carries_kind_format_range_and_help(store, users, value_survey):
    from cohear.auth import create_user
    from webcollect import service as collect

    collector = create_user(store, "page-collector", "collector")[0]
    page = collect.survey_in(store, collector, value_survey["id"], "ur")
    q = {x["name"]: x for x in page["questions"]}
    assert {k: q["age"][k] for k in (
        "kind", "format", "min", "max", "required", "hint", "constraint_message")} == {
        "kind": "integer", "format": "integer", "min": 16, "max": 120, "required": True,
        "hint": "پورے سال", "constraint_message": "16 to 120"}
    assert q["age"]["constraint_message_in_base_language"] is True
    assert (q["temp"]["format"], q["temp"]["min"], q["temp"]["max"]) == ("decimal", 34.5, 42)
    assert (q["last_visit"]["format"], q["last_visit"]["max"]) == ("YYYY-MM-DD", "today")
    assert (q["arrived"]["format"], q["arrived"]["min"]) == ("HH:MM", "07:00")
    assert q["temp"]["required"] is False and "format_help" in q["temp"]


@pytest.fixture
def answered(store, users, value_survey):
    col = users["collector"]
    q = {x["name"]: x["id"] for x in value_survey["questions"]}
    for language, values in (("en", {"age": "42", "temp": "36.6", "last_visit": "2026-01-31",
                                     "arrived": "08:05"}),
                             ("ur", {"age": "70"})):
        s = surveys.start_session(store, col, value_survey["id"], language)
        surveys.record_consent(store, col, s["id"], method="tick")
        for name, value in values.items():
            surveys.submit_answer(store, col, s["id"], q[name], text=value)
    return value_survey


def test_every_export_carries_the_values_typed(store, users, answered, tmp_path):
    from openpyxl import load_workbook

    researcher = users["researcher"]
    sid = answered["id"]
    exports.export_survey(store, researcher, sid, "xlsx", tmp_path / "s.xlsx")
    wb = load_workbook(tmp_path / "s.xlsx")
    rows = list(wb["respondents"].values)
    col = {name: i for i, name in enumerate(rows[0])}
    first = rows[1]
    assert first[col["q:age"]] == 42 and isinstance(first[col["q:age"]], int)
    assert first[col["q:temp"]] == pytest.approx(36.6)
    assert first[col["q:last_visit"]].date() == dt.date(2026, 1, 31)
    assert first[col["q:arrived"]] == dt.time(8, 5)
    meaning = dict(list(wb["dictionary"].values)[1:])
    assert "integer from 16 to 120" in meaning["q:age"]
    assert meaning["question:last_visit"].startswith("date up to today")

    report = exports.export_survey(store, researcher, sid, "csv", tmp_path / "s.csv")
    with open(tmp_path / "s.csv", encoding="utf-8-sig", newline="") as fh:
        long = list(csv.DictReader(fh))
    ages = sorted(r["choices"] for r in long if r["question"] == "age")
    assert ages == ["42", "70"]
    with open(report["dictionary"], encoding="utf-8-sig", newline="") as fh:
        dictionary = {r["column"]: r["meaning"] for r in csv.DictReader(fh)}
    assert "decimal from 34.5 to 42" in dictionary["question:temp"]
    assert "time from 07:00 to 20:00" in dictionary["question:arrived"]

    exports.export_survey(store, researcher, sid, "wide-csv", tmp_path / "w.csv")
    with open(tmp_path / "w.csv", encoding="utf-8-sig", newline="") as fh:
        wide = list(csv.DictReader(fh))
    assert {r["q:age"] for r in wide} == {"42", "70"} and wide[0]["q:arrived"] == "08:05"

    exports.export_survey(store, researcher, sid, "json", tmp_path / "s.json")
    doc = json.loads((tmp_path / "s.json").read_text())
    values = {a["question"]: a["value"] for a in doc["answers"] if a["language"] == "en"}
    assert values == {"age": 42, "temp": 36.6, "last_visit": "2026-01-31", "arrived": "08:05"}
    assert "integer from 16 to 120" in doc["dictionary"]["question:age"]

    exports.export_survey(store, researcher, sid, "qdpx", tmp_path / "s.qdpx")
    with zipfile.ZipFile(tmp_path / "s.qdpx") as z:
        project = z.read("project.qde").decode()
    # Values are typed variables of the respondent's case, valid against the schema.
    from lxml import etree
    root = etree.fromstring(project.encode())
    ns = {"q": "urn:QDA-XML:project:1.0"}
    types = {v.get("name"): (v.get("guid"), v.get("typeOfVariable"))
             for v in root.iterfind(".//q:Variables/q:Variable", ns)}
    assert types["q:age"][1] == "Integer" and types["q:last_visit"][1] == "Date"
    assert types["q:temp"][1] == "Float" and types["q:arrived"][1] == "Text"
    by_guid = {guid: name for name, (guid, _) in types.items()}
    found = {(by_guid[vv.find("q:VariableRef", ns).get("targetGUID")], vv[1].tag.split("}")[1],
              vv[1].text) for vv in root.iterfind(".//q:Cases/q:Case/q:VariableValue", ns)}
    assert {("q:age", "IntegerValue", "42"), ("q:last_visit", "DateValue", "2026-01-31"),
            ("q:arrived", "TextValue", "08:05"), ("q:temp", "FloatValue", "36.6")} <= found
    schema = etree.XMLSchema(etree.parse(str(Path(__file__).parent / "data" /
                                             "refi-qda-Project.xsd")))
    assert schema.validate(root), schema.error_log


@pytest.mark.anyio
async def test_the_review_app_shows_a_value_with_its_range_and_the_hint(store, users,
                                                                        answered):
    from tui.app import CohearApp
    from tui.screens.answer import AnswerScreen

    answer = store.one("SELECT a.id FROM answers a JOIN survey_questions q ON "
                       "q.id = a.question_id WHERE q.name = 'age' AND a.language = 'ur'")[0]
    app = CohearApp(store, users["reviewer"])
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.push_screen(AnswerScreen(answer))
        await pilot.pause()
        text = "\n".join(s.text for s in app.screen._compositor.render_strips())
    assert "value: 70" in text and "integer from 16 to 120" in text
    assert "hint:" in text


@pytest.fixture
def anyio_backend():
    return "asyncio"



def test_the_migration_keeps_existing_questions_and_answers(tmp_path, monkeypatch):
    """A database made before number, date and time questions (surveys 0001-0003) keeps
    every question and answer through the rebuild, with foreign keys intact."""
    known = store_module.discover_migrations()
    old = [m for m in known if m.key != "surveys/0010"]
    assert len(old) == len(known) - 1
    monkeypatch.setattr(store_module, "discover_migrations", lambda: old)
    from tests.conftest import make_settings
    fresh = store_module.Store(make_settings(tmp_path / "old"))
    fresh.migrate()
    from cohear.auth import create_user
    communicator = create_user(fresh, "old-comm", "communicator")[0]
    collector = create_user(fresh, "old-col", "collector")[0]
    s = surveys.create_survey(fresh, communicator, title="Old", purpose="Old",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"}])
    surveys.open_language(fresh, communicator, s["id"], "en")
    session = surveys.start_session(fresh, collector, s["id"], "en")
    surveys.record_consent(fresh, collector, session["id"], method="tick")
    answer = surveys.submit_answer(fresh, collector, session["id"], s["questions"][1]["id"],
                                   text="It was fine")
    with pytest.raises(Exception):  # noqa: B017 - the old CHECK refuses the new kinds
        with fresh.transaction() as conn:
            conn.execute("UPDATE survey_questions SET kind = 'integer' WHERE id = ?",
                         (s["questions"][1]["id"],))
    monkeypatch.setattr(store_module, "discover_migrations", lambda: known)
    assert fresh.migrate() == ["surveys/0010_value_questions"]
    again = surveys.get_survey(fresh, s["id"])
    assert [(q["id"], q["name"], q["kind"]) for q in again["questions"]] == \
        [(q["id"], q["name"], q["kind"]) for q in s["questions"]]
    assert surveys.get_answer(fresh, collector, answer["id"])["texts"]["original"]["text"] == \
        "It was fine"
    assert fresh.all("PRAGMA foreign_key_check") == []
    surveys.create_survey(fresh, communicator, title="New", purpose="New", base_language="en",
                          questions=[{"kind": "integer", "name": "age", "text": "Age?"}])
    with pytest.raises(Exception):  # noqa: B017 - foreign keys still hold
        with fresh.transaction() as conn:
            conn.execute("DELETE FROM survey_questions WHERE id = ?", (s["questions"][1]["id"],))
    fresh.close()
