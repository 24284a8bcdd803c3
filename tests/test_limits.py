"""Every structure a person or a file can send is bounded (cohear.limits), and a bound
answers a clear 413/422 with nothing written: an XLSForm of 20,000 questions, a message
whose audience is a megabyte, a survey or a question with too many parts, a JSON body
of many megabytes. A survey made before the bounds still loads and collects, read-only,
and the field page's survey list does the same work however large the surveys are."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import Workbook

from cohear import limits
from cohear.errors import BadInput, Conflict, TooLarge
from cohear.store import utcnow
from surveys import coding, service, xlsform
from tests.conftest import REPO
from webcollect import service as collect


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


def big_xlsform(questions: int) -> bytes:
    """A small file (a few hundred KB) that describes `questions` text questions."""
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("survey")
    sheet.append(["type", "name", "label::English (en)"])
    sheet.append(["acknowledge", "consent", "Do you agree?"])
    for i in range(questions):
        sheet.append(["text", f"q{i}", f"Question {i}?"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def legacy_survey(store, author, questions: int, *, consent_last: bool = True) -> int:
    """A survey over today's bound, as one made before the bound existed: rows written
    straight into the database (the services now refuse to make it), open in English."""
    now = utcnow()
    with store.transaction() as conn:
        sid = conn.execute(
            "INSERT INTO surveys (title, purpose, base_language, target_languages_json, "
            "version, created_by, created_at) VALUES ('Legacy', 'made before the bound', 'en', "
            "'[]', 1, ?, ?)", (author.id, now)).lastrowid
        kinds = ["open"] * questions
        kinds[-1 if consent_last else 0] = "consent"
        conn.executemany(
            "INSERT INTO survey_questions (survey_id, survey_version, position, name, kind, "
            "text, options_json) VALUES (?, 1, ?, ?, ?, ?, ?)",
            [(sid, i + 1, f"q{i}", kind, f"Question {i}?",
              json.dumps({"consent_version": 1} if kind == "consent" else {"answer": "text"}))
             for i, kind in enumerate(kinds)])
        conn.execute("INSERT INTO survey_languages (survey_id, language, opened_by, opened_at) "
                     "VALUES (?, 'en', ?, ?)", (sid, author.id, now))
    return sid


def small_survey(store, users, title: str = "Clinic") -> dict:
    s = service.create_survey(store, users["communicator"], title=title, purpose="Hear",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"}])
    service.open_language(store, users["communicator"], s["id"], "en")
    return s


def surveys_count(store) -> int:
    return store.one("SELECT count(*) FROM surveys")[0]


# -- one place, documented -----------------------------------------------------------------

def test_every_limit_is_listed_in_the_readme_with_its_value():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Limits", 1)[1].split("\n## ", 1)[0]
    names = [n for n in vars(limits) if re.fullmatch(r"[A-Z][A-Z_]+", n)]
    assert len(names) > 30
    for name in names:
        value = getattr(limits, name)
        row = next((line for line in section.splitlines() if f"`{name}`" in line), None)
        assert row is not None, f"README's Limits table lacks {name}"
        assert f"{value:,}" in row or (value >= 1024 * 1024 and f"{value // (1024 * 1024)} MiB"
                                       in row), f"README shows another value for {name}: {row}"


# -- surveys -------------------------------------------------------------------------------

def test_an_xlsform_of_20000_questions_is_refused_and_creates_nothing(api, store):
    data = big_xlsform(20_000)
    assert len(data) < 1_000_000
    r = api["communicator"].post("/api/surveys/xlsform", files={
        "file": ("huge.xlsx", data, "application/octet-stream")})
    assert r.status_code == 413, r.text
    assert "rows on the survey sheet" in r.json()["detail"]
    assert "split the form" in r.json()["detail"]
    assert surveys_count(store) == 0


def test_an_xlsform_just_over_the_question_bound_is_refused_by_the_survey(store, users):
    with pytest.raises(TooLarge, match="questions in one survey: 501"):
        xlsform.import_xlsform(store, users["communicator"],
                               big_xlsform(limits.QUESTIONS_PER_SURVEY))
    assert surveys_count(store) == 0
    made = xlsform.import_xlsform(store, users["communicator"],
                                  big_xlsform(limits.QUESTIONS_PER_SURVEY - 1))
    assert len(made["survey"]["questions"]) == limits.QUESTIONS_PER_SURVEY


def test_a_survey_body_with_too_many_questions_is_a_422(api, store):
    body = {"title": "Big", "purpose": "p", "questions": [
        {"kind": "open", "name": f"q{i}", "text": "?"} for i in range(limits.QUESTIONS_PER_SURVEY + 1)]}
    r = api["communicator"].post("/api/surveys", json=body)
    assert r.status_code == 422, r.text
    assert "questions" in r.json()["detail"]
    assert surveys_count(store) == 0


def test_a_question_is_not_added_past_the_bound(store, users):
    survey = service.create_survey(store, users["communicator"], title="Full", purpose="p",
                                   base_language="en", questions=[
        {"kind": "open", "name": f"q{i}", "text": "?"} for i in range(limits.QUESTIONS_PER_SURVEY)])
    with pytest.raises(TooLarge, match="questions in one survey"):
        service.add_question(store, users["communicator"], survey["id"], kind="open",
                             name="one_more", text="?")
    assert len(service.get_survey(store, survey["id"])["questions"]) == limits.QUESTIONS_PER_SURVEY


@pytest.mark.parametrize("options, error, words", [
    ({"choices": [f"c{i}" for i in range(limits.CHOICES_PER_QUESTION + 1)]}, TooLarge,
     "choices in one question: 501"),
    ({"choices": ["yes", "x" * (limits.CHOICE_VALUE_CHARS + 1)]}, TooLarge, "choice value"),
    ({"choices": [{"value": "yes", "label": "y" * (limits.CHOICE_LABEL_CHARS + 1)}, "no"]},
     TooLarge, "label of choice"),
    ({"choices": [{"value": "yes", "labels": {f"l{i}": "x" for i in range(1000)}}, "no"]},
     TooLarge, "labels of choice"),
    ({"choices": [["a", "list"], "no"]}, BadInput, "a choice is list"),
    ({"choices": [None, "no"]}, BadInput, "a choice is NoneType"),
])
def test_choices_are_bounded_and_checked(store, users, options, error, words):
    survey = small_survey(store, users)
    with pytest.raises(error, match=words):
        service.add_question(store, users["communicator"], survey["id"], kind="single_choice",
                             name="pick", text="Pick one", options=options)
    assert len(service.get_survey(store, survey["id"])["questions"]) == 2


def test_a_scale_label_is_bounded(store, users):
    survey = small_survey(store, users)
    with pytest.raises(TooLarge, match="label"):
        service.add_question(store, users["communicator"], survey["id"], kind="scale",
                             name="rate", text="Rate it", options={
                                 "min": 1, "max": 5, "labels": {"1": "x" * 10_000}})


def test_odd_choices_over_http_are_4xx_not_500(api, store, users):
    survey = small_survey(store, users)
    for choices in ([{"value": ""}, {"value": "b"}], [[1], [2]], "not a list", [True, None],
                    [{"value": "a", "labels": "not a mapping"}, "b"]):
        r = api["communicator"].post(f"/api/surveys/{survey['id']}/questions", json={
            "kind": "single_choice", "name": "pick", "text": "Pick", "options": {"choices": choices}})
        assert 400 <= r.status_code < 500, (choices, r.text)
    r = api["communicator"].post(f"/api/surveys/{survey['id']}/questions", json={
        "kind": "single_choice", "name": "pick", "text": "Pick",
        "options": {"choices": [str(i) for i in range(limits.CHOICES_PER_QUESTION + 1)]}})
    assert r.status_code == 413 and "choices in one question" in r.json()["detail"]


def test_text_fields_of_a_survey_and_its_answers_are_bounded(store, users):
    with pytest.raises(TooLarge, match="title"):
        service.create_survey(store, users["communicator"], title="t" * 201, purpose="p",
                              base_language="en")
    with pytest.raises(TooLarge, match="purpose"):
        service.create_survey(store, users["communicator"], title="t", purpose="p" * 2001,
                              base_language="en")
    survey = small_survey(store, users)
    with pytest.raises(TooLarge, match="text of question"):
        service.add_question(store, users["communicator"], survey["id"], kind="open",
                             name="long", text="w" * (limits.QUESTION_TEXT_CHARS + 1))
    with pytest.raises(TooLarge, match="contact detail"):
        service.start_session(store, users["collector"], survey["id"], "en",
                              contact="0" * (limits.CONTACT_CHARS + 1))
    session = service.start_session(store, users["collector"], survey["id"], "en")
    service.record_consent(store, users["collector"], session["id"], method="tick")
    story = survey["questions"][1]["id"]
    with pytest.raises(TooLarge, match="the answer"):
        service.submit_answer(store, users["collector"], session["id"], story,
                              text="a" * (limits.ANSWER_TEXT_CHARS + 1))
    answer = service.submit_answer(store, users["collector"], session["id"], story, text="ok")
    with pytest.raises(TooLarge, match="reason"):
        service.raise_safeguarding(store, users["reviewer"], answer["id"], "r" * 2001)
    with pytest.raises(TooLarge, match="code name"):
        coding.create_codebook(store, users["reviewer"], "Book", codes=[{"name": "c" * 201}])
    with pytest.raises(TooLarge, match="codes in one codebook"):
        coding.create_codebook(store, users["reviewer"], "Book", codes=[
            {"name": f"c{i}"} for i in range(limits.CODES_PER_CODEBOOK + 1)])
    assert store.one("SELECT count(*) FROM codebooks")[0] == 0


# -- surveys made before the bound ------------------------------------------------------------

def test_a_survey_over_the_bound_still_loads_and_collects_but_does_not_grow(store, users):
    sid = legacy_survey(store, users["communicator"], limits.QUESTIONS_PER_SURVEY + 100,
                        consent_last=False)
    with pytest.raises(TooLarge, match="questions in one survey") as err:
        service.add_question(store, users["communicator"], sid, kind="open", name="more",
                             text="?")
    assert "split it into several surveys" in err.value.fix
    with pytest.raises(TooLarge, match=f"questions in survey {sid}"):
        service.new_version(store, users["communicator"], sid)
    survey = service.get_survey(store, sid)
    assert survey["version"] == 1
    assert len(survey["questions"]) == limits.QUESTIONS_PER_SURVEY + 100
    assert [s["id"] for s in collect.surveys_for(store, users["collector"])] == [sid]
    page = collect.survey_in(store, users["collector"], sid, "en")
    assert len(page["questions"]) == limits.QUESTIONS_PER_SURVEY + 99
    session = service.start_session(store, users["collector"], sid, "en")
    service.record_consent(store, users["collector"], session["id"], method="tick")
    answer = service.submit_answer(store, users["collector"], session["id"],
                                   survey["questions"][-1]["id"], text="still collecting")
    assert answer["id"]
    with pytest.raises(Conflict):  # a version with sessions never changes, bound or not
        service.add_question(store, users["communicator"], sid, kind="open", name="more",
                             text="?")


# -- the field page's survey list --------------------------------------------------------------

def list_cost(store, user) -> tuple[int, int, list[dict]]:
    """(SQL statements, SQLite virtual-machine steps, result) of the field page's survey
    list: the work it does, counted by SQLite itself rather than timed."""
    conn = store.conn
    statements, steps = [], [0]

    def step() -> int:
        steps[0] += 1
        return 0

    conn.set_trace_callback(statements.append)
    conn.set_progress_handler(step, 1)
    try:
        result = collect.surveys_for(store, user)
    finally:
        conn.set_trace_callback(None)
        conn.set_progress_handler(None, 1)
    return len(statements), steps[0], result


def test_the_field_page_survey_list_costs_the_same_with_a_20000_question_survey(store, users):
    small_survey(store, users, "Demo")
    other = small_survey(store, users, "Second")
    _, small_steps, small_result = list_cost(store, users["collector"])
    # The same list with the second survey as one made before the bound: 20,000 questions,
    # the consent question last, so a list that reads questions has to read them all.
    with store.transaction() as conn:
        conn.execute("DELETE FROM survey_languages WHERE survey_id = ?", (other["id"],))
    legacy = legacy_survey(store, users["communicator"], 20_000, consent_last=True)
    statements, big_steps, big_result = list_cost(store, users["collector"])
    assert [s["title"] for s in small_result] == ["Demo", "Second"]
    assert [s["id"] for s in big_result] == [small_result[0]["id"], legacy]
    assert big_result[1]["languages"] == [{"tag": "en", "name": "English",
                                           "native_name": "English", "direction": "ltr"}]
    assert statements == 1
    # A constant amount of work: within a few steps of the small list (a row more of
    # `surveys` is skipped), nowhere near the 20,000 rows of questions.
    assert big_steps <= small_steps * 1.5 + 50, (small_steps, big_steps)


def test_the_survey_list_leaves_out_surveys_without_consent_or_open_languages(store, users):
    open_one = small_survey(store, users, "Open")
    service.create_survey(store, users["communicator"], title="Not open", purpose="p",
                          base_language="en", questions=[
                              {"kind": "consent", "name": "consent", "text": "Agree?"}])
    no_consent = service.create_survey(store, users["communicator"], title="No consent",
                                       purpose="p", base_language="en", questions=[
                                           {"kind": "open", "name": "q", "text": "?"}])
    service.open_language(store, users["communicator"], no_consent["id"], "en")
    listed = collect.surveys_for(store, users["collector"])
    assert [s["id"] for s in listed] == [open_one["id"]]
    assert listed[0] == {"id": open_one["id"], "title": "Open", "purpose": "Hear", "version": 1,
                         "languages": [{"tag": "en", "name": "English", "native_name": "English",
                                        "direction": "ltr"}]}


# -- messages, lists and bodies ------------------------------------------------------------------

def test_a_megabyte_audience_is_refused_and_nothing_is_written(api, store):
    r = api["communicator"].post("/api/messages", json={
        "title": "Flu", "source_text": "Get your flu jab.", "channel": "sms",
        "audience": "a" * 1_000_000})
    assert r.status_code == 422, r.text
    assert "audience" in r.json()["detail"]
    assert store.one("SELECT count(*) FROM messages")[0] == 0


def test_the_service_refuses_an_audience_it_used_to_cut(store, users):
    from comms import service as comms
    with pytest.raises(TooLarge, match="audience"):
        comms.create_message(store, users["communicator"], title="Flu", source_text="Get it.",
                             channel="sms", audience="a" * (limits.AUDIENCE_CHARS + 1))
    with pytest.raises(TooLarge, match="tags on one message"):
        comms.create_message(store, users["communicator"], title="Flu", source_text="Get it.",
                             channel="sms", tags=[f"t{i}" for i in range(limits.TAGS_PER_MESSAGE + 1)])
    with pytest.raises(TooLarge, match="note"):
        comms.add_glossary_term(store, users["communicator"], "NHS", note="n" * 2001)
    assert store.one("SELECT count(*) FROM messages")[0] == 0


@pytest.mark.parametrize("path, body", [
    ("/api/messages", {"title": "t", "source_text": "s", "channel": "sms",
                       "tags": ["x"] * (limits.TAGS_PER_MESSAGE + 1)}),
    ("/api/messages", {"title": "t", "source_text": "s", "channel": "sms",
                       "tags": ["x" * (limits.TAG_CHARS + 1)]}),
    ("/api/messages", {"title": "t", "source_text": "s", "channel": "sms",
                       "source_language": "x" * 1000}),
    ("/api/messages/glossary", {"term": "NHS", "note": "n" * (limits.NOTE_CHARS + 1)}),
    ("/api/messages/translate", {"message_ids": [1], "languages": ["ur"] * 51}),
])
def test_lists_and_fields_in_json_bodies_are_bounded(api, path, body):
    r = api["communicator"].post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("the request is not valid")


def test_a_json_body_over_its_limit_is_a_413_before_it_is_read(api, store):
    blob = json.dumps({"title": "t", "source_text": "s", "channel": "sms",
                       "audience": "a" * (limits.JSON_BODY_BYTES + 10)})
    r = api["communicator"].post("/api/messages", content=blob,
                                 headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "JSON request body" in r.json()["detail"]
    assert store.one("SELECT count(*) FROM messages")[0] == 0


def test_a_translation_request_with_too_many_texts_is_refused(api):
    r = api["communicator"].post("/translate", json={
        "q": ["hello"] * (limits.TEXTS_PER_TRANSLATION + 1), "source": "en", "target": "ur"})
    # LibreTranslate's own answer to a batch over its limit: 400, "exceeds text limit".
    assert r.status_code == 400
    assert "exceeds text limit (500)" in r.json()["error"]


def test_field_page_status_asks_about_a_bounded_number_of_sessions(api):
    r = api["collector"].get("/collect/api/status",
                             params=[("session", i) for i in range(1, limits.SESSIONS_PER_STATUS + 2)])
    assert r.status_code == 422, r.text


def test_a_long_whisper_prompt_is_refused_in_openais_shape(api):
    wav = (REPO / "cohear" / "demo_data" / "flu-vaccine-en.wav").read_bytes()
    r = api["collector"].post("/v1/audio/transcriptions", files={"file": ("a.wav", wav)},
                              data={"model": "whisper-1", "prompt": "p" * (limits.PROMPT_CHARS + 1)})
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "prompt"
    assert "2,000 characters" in r.json()["error"]["message"]


def test_a_typed_answer_on_the_field_page_is_bounded_with_a_413(api, store, users):
    survey = small_survey(store, users)
    session = collect.start_session(store, users["collector"], "key-session-1", survey["id"], "en")
    collect.record_consent(store, users["collector"], "key-consent-1", session["session_id"],
                           method="tick")
    r = api["collector"].post(f"/collect/api/sessions/{session['session_id']}/answers",
                              headers={"Idempotency-Key": "key-answer-1"},
                              data={"question_id": str(survey["questions"][1]["id"]),
                                    "text": "w" * (limits.TYPED_ANSWER_CHARS + 1)})
    assert r.status_code == 413, r.text
    assert "typed answer is 5,001 characters" in r.json()["detail"]
    assert store.one("SELECT count(*) FROM answers")[0] == 0


def test_scale_and_choice_label_keys_are_bounded_not_cut(store, users):
    survey = small_survey(store, users)
    with pytest.raises(TooLarge, match="the key"):
        service.add_question(store, users["communicator"], survey["id"], kind="single_choice",
                             name="pick", text="Pick", options={"choices": [
                                 {"value": "a", "labels": {"x" * 100: "label"}}, "b"]})
