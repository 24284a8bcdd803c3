"""Surveys and collection: typed questions, approval per language before opening,
consent before answers, versions, demographics, safeguarding, withdrawal."""

from __future__ import annotations

import io
import json

import pytest

from cohear import audit
from cohear.errors import BadInput, Conflict, Forbidden, NotFound
from surveys import service

QUESTIONS = [
    {"kind": "consent", "name": "consent", "text": "Do you agree to take part?",
     "options": {"consent_version": 2}},
    {"kind": "open", "name": "experience", "text": "Tell us about your last GP visit.",
     "texts": {"ur": "اپنے پچھلے جی پی کے دورے کے بارے میں بتائیں۔"}},
    {"kind": "scale", "name": "trust", "text": "How much do you trust the NHS?",
     "options": {"min": 1, "max": 5, "labels": {"1": "not at all", "5": "completely"}}},
    {"kind": "single_choice", "name": "heard", "text": "Have you heard of NHS 111?",
     "options": {"choices": ["yes", "no"]}},
    {"kind": "multiple_choice", "name": "channels", "text": "Where do you get health news?",
     "options": {"choices": ["radio", "whatsapp", "mosque", "gp"]}},
    {"kind": "demographic", "name": "ethnicity", "text": "Your ethnic group",
     "options": {"field": "ethnicity"}},
    {"kind": "demographic", "name": "area", "text": "Your postcode district",
     "options": {"field": "postcode_district"}},
]


def count(store, table):
    return store.one(f"SELECT count(*) FROM {table}")[0]


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def survey(store, users):
    s = service.create_survey(store, users["communicator"], title="GP access",
                              purpose="Learn how people reach their GP", base_language="en",
                              target_languages=["ur"], questions=QUESTIONS)
    service.open_language(store, users["communicator"], s["id"], "en")
    return s


def qid(survey, name):
    return next(q["id"] for q in survey["questions"] if q["name"] == name)


@pytest.fixture
def consented(store, users, survey):
    session = service.start_session(store, users["collector"], survey["id"], "en")
    service.record_consent(store, users["collector"], session["id"], method="tick")
    return session


def test_a_survey_has_a_purpose_languages_a_version_and_ordered_typed_questions(survey):
    assert survey["purpose"] == "Learn how people reach their GP"
    assert survey["base_language"] == "en" and survey["target_languages"] == ["ur"]
    assert survey["version"] == 1
    assert [q["kind"] for q in survey["questions"]] == [
        "consent", "open", "scale", "single_choice", "multiple_choice", "demographic",
        "demographic"]
    ethnicity = survey["questions"][5]["options"]["choices"]
    assert [c["value"] for c in ethnicity] == list("ABCDEFGHJKLMNPRSZ")


@pytest.mark.parametrize("kind,options", [
    ("scale", {"min": 5, "max": 1}),
    ("single_choice", {"choices": []}),  # one choice is a question ODK asks too
    ("demographic", {"field": "full_postcode"}),
    ("riddle", {}),
])
def test_malformed_questions_are_refused_and_nothing_is_added(store, users, survey, kind, options):
    before = count(store, "survey_questions")
    with pytest.raises(BadInput):
        service.add_question(store, users["communicator"], survey["id"], kind=kind, name="bad",
                             text="?", options=options)
    assert count(store, "survey_questions") == before


def test_a_language_opens_only_when_every_question_is_approved_in_it(store, users, survey):
    comm = users["communicator"]
    with pytest.raises(Conflict) as err:
        service.open_language(store, comm, survey["id"], "ur")
    assert all(q["name"] in err.value.detail for q in survey["questions"])
    for q in survey["questions"]:
        if q["name"] != "experience":
            service.set_question_text(store, comm, q["id"], "ur", f"اردو {q['name']}")
    # Texts exist but are drafts: still refused.
    with pytest.raises(Conflict):
        service.open_language(store, comm, survey["id"], "ur")
    for q in survey["questions"]:
        service.approve_question_text(store, users["reviewer"], q["id"], "ur")
    opened = service.open_language(store, comm, survey["id"], "ur")
    ur = next(o for o in opened["open_languages"] if o["language"] == "ur")
    assert ur["accepted_in_english"] == 0


def test_a_language_can_be_opened_explicitly_accepting_english(store, users, survey):
    opened = service.open_language(store, users["communicator"], survey["id"], "pl",
                                   accept_english=True)
    pl = next(o for o in opened["open_languages"] if o["language"] == "pl")
    assert pl["accepted_in_english"] == 1
    with pytest.raises(Conflict):
        service.start_session(store, users["collector"], survey["id"], "so")


def test_an_audio_prompt_per_question_and_language_is_kept_in_the_blob_store(store, users, survey):
    audio = b"RIFF....WAVEfmt fake-but-stored-bytes"
    out = service.put_prompt(store, users["communicator"], qid(survey, "experience"), "ur",
                             io.BytesIO(audio), "audio/wav")
    assert store.blobs.read(out["sha256"]) == audio
    assert service.get_prompt(store, qid(survey, "experience"), "ur")["media_type"] == "audio/wav"
    with pytest.raises(NotFound):
        service.get_prompt(store, qid(survey, "experience"), "pl")


def test_no_answer_is_accepted_before_consent(store, users, survey):
    session = service.start_session(store, users["collector"], survey["id"], "en")
    with pytest.raises(Conflict) as err:
        service.submit_answer(store, users["collector"], session["id"], qid(survey, "experience"),
                              text="It was fine")
    assert "consent" in err.value.detail
    assert count(store, "answers") == 0
    consent = service.record_consent(store, users["collector"], session["id"], method="tick")
    assert consent["consent_version"] == 2 and consent["language"] == "en"
    assert consent["method"] == "tick" and consent["recorded_by"] == users["collector"].id
    answer = service.submit_answer(store, users["collector"], session["id"],
                                   qid(survey, "experience"), text="It was fine")
    assert answer["texts"]["original"]["text"] == "It was fine"
    assert answer["status"] == "new" and answer["survey_version"] == 1


def test_verbal_consent_needs_its_recording(store, users, survey):
    session = service.start_session(store, users["collector"], survey["id"], "en")
    with pytest.raises(BadInput):
        service.record_consent(store, users["collector"], session["id"],
                               method="verbal_recording")
    assert count(store, "consents") == 0


def test_answers_are_checked_against_their_question(store, users, survey, consented):
    c, sid = users["collector"], consented["id"]
    bad = [("trust", {"text": "7"}), ("heard", {"choices": ["maybe"]}),
           ("heard", {"choices": ["yes", "no"]}), ("ethnicity", {"choices": ["Q"]}),
           ("area", {"text": "not a postcode"}), ("consent", {"text": "yes"})]
    for name, kw in bad:
        with pytest.raises(BadInput):
            service.submit_answer(store, c, sid, qid(survey, name), **kw)
    assert count(store, "answers") == 0
    multi = service.submit_answer(store, c, sid, qid(survey, "channels"),
                                  choices=["radio", "gp"])
    assert multi["choices"] == ["radio", "gp"]
    scale = service.submit_answer(store, c, sid, qid(survey, "trust"), text="4")
    assert scale["choices"] == ["4"]
    # Given again before the session is finished: a new version of the same answer.
    again = service.submit_answer(store, c, sid, qid(survey, "trust"), text="5")
    assert (again["id"], again["version"], again["choices"]) == (scale["id"], 2, ["5"])
    service.finish_session(store, c, sid)
    with pytest.raises(Conflict):
        service.submit_answer(store, c, sid, qid(survey, "trust"), text="3")


def test_a_full_postcode_is_cut_to_its_district(store, users, survey, consented):
    out = service.submit_answer(store, users["collector"], consented["id"], qid(survey, "area"),
                                text="b11 4bw")
    assert out["choices"] == ["B11"] and "district" in out["notes"]["postcode"]
    stored = store.one("SELECT choices_json FROM answers WHERE id = ?", (out["id"],))[0]
    assert "4BW" not in stored
    assert "4BW" not in json.dumps(audit.entries(store.conn, entity="answer"))


def test_an_answer_to_another_survey_version_is_refused(store, users, survey, consented):
    old_q = qid(survey, "experience")
    newer = service.new_version(store, users["communicator"], survey["id"])
    assert newer["version"] == 2
    service.open_language(store, users["communicator"], survey["id"], "en")
    session2 = service.start_session(store, users["collector"], survey["id"], "en")
    service.record_consent(store, users["collector"], session2["id"], method="tick")
    with pytest.raises(BadInput) as err:
        service.submit_answer(store, users["collector"], session2["id"], old_q, text="hello")
    assert "version 1" in err.value.detail
    assert count(store, "answers") == 0
    # The old session still answers its own version.
    service.submit_answer(store, users["collector"], consented["id"], old_q, text="hello")


def test_questions_of_a_version_in_use_cannot_be_changed(store, users, survey, consented):
    with pytest.raises(Conflict):
        service.add_question(store, users["communicator"], survey["id"], kind="open",
                             name="late", text="One more?")


def test_collectors_only_reach_their_own_sessions(store, users, survey, consented):
    other = users["collector2"]
    with pytest.raises(NotFound):
        service.submit_answer(store, other, consented["id"], qid(survey, "experience"),
                              text="not mine")
    with pytest.raises(NotFound):
        service.get_session(store, other, consented["id"])
    assert service.list_sessions(store, other) == []
    assert [s["id"] for s in service.list_sessions(store, users["reviewer"])] == [consented["id"]]
    assert count(store, "answers") == 0


def test_safeguarding_keywords_flag_an_answer_to_the_top_of_the_queue(store, users, survey,
                                                                      consented):
    c, sid = users["collector"], consented["id"]
    calm = service.submit_answer(store, c, sid, qid(survey, "heard"), choices=["yes"])
    s2 = service.start_session(store, c, survey["id"], "en")
    service.record_consent(store, c, s2["id"], method="tick")
    worrying = service.submit_answer(store, c, s2["id"], qid(survey, "experience"),
                                     text="My husband hits me and I am not safe at home")
    assert worrying["safeguarding"] == 1
    assert "abuse" in worrying["safeguarding_reason"]
    assert worrying["safeguarding_raised_by"] == "keywords"
    queue = service.review_queue(store, users["reviewer"])
    assert [a["id"] for a in queue] == [worrying["id"], calm["id"]]
    handled = service.handle_safeguarding(store, users["reviewer"], worrying["id"],
                                          "called the safeguarding lead")
    assert handled["safeguarding_handled_by"] == users["reviewer"].id
    assert handled["safeguarding_handled_at"]


def test_safeguarding_keywords_in_the_answers_language(store, users, survey):
    service.open_language(store, users["communicator"], survey["id"], "ur", accept_english=True)
    s = service.start_session(store, users["collector"], survey["id"], "ur")
    service.record_consent(store, users["collector"], s["id"], method="tick")
    a = service.submit_answer(store, users["collector"], s["id"], qid(survey, "experience"),
                              text="میں گھر میں محفوظ نہیں ہوں")
    assert a["safeguarding"] == 1 and "danger" in a["safeguarding_reason"]


def test_a_reviewer_raises_safeguarding_by_hand_and_it_is_recorded(store, users, survey,
                                                                   consented):
    a = service.submit_answer(store, users["collector"], consented["id"],
                              qid(survey, "experience"), text="I am worried about my neighbour")
    assert a["safeguarding"] == 0
    flagged = service.raise_safeguarding(store, users["reviewer"], a["id"],
                                         "possible neglect of a child")
    assert flagged["safeguarding"] == 1 and flagged["safeguarding_raised_by"] == "test-reviewer"
    with pytest.raises(Forbidden):
        service.handle_safeguarding(store, users["researcher"], a["id"], "n/a")


def test_review_status_moves_from_new_to_transcribed_to_verified(store, users, survey, consented):
    a = service.submit_answer(store, users["collector"], consented["id"],
                              qid(survey, "experience"), text="Long wait on the phone")
    service.add_text_version(store, users["reviewer"], a["id"], "Long wait on the phone.",
                             rendering="original")
    service.add_text_version(store, users["reviewer"], a["id"], "Long wait on the phone.",
                             rendering="english")
    after = service.get_answer(store, users["reviewer"], a["id"])
    assert after["status"] == "transcribed"
    assert after["texts"]["original"]["version"] == 2
    assert service.verify_answer(store, users["reviewer"], a["id"])["status"] == "verified"


def test_withdrawal_deletes_the_respondents_words_and_keeps_only_the_fact(store, users, survey,
                                                                          consented):
    c = users["collector"]
    secret = "My neighbour Mrs Khan told me about the clinic"
    a = service.submit_answer(store, c, consented["id"], qid(survey, "experience"), text=secret)
    service.add_text_version(store, users["reviewer"], a["id"], secret + ".", rendering="english")
    service.add_contact(store, c, consented["respondent_id"], "07700 900123")
    # A second respondent whose answer must survive.
    s2 = service.start_session(store, c, survey["id"], "en")
    service.record_consent(store, c, s2["id"], method="tick")
    kept = service.submit_answer(store, c, s2["id"], qid(survey, "experience"), text="Fine")

    report = service.withdraw_consent(store, users["reviewer"], consented["respondent_id"])
    assert report["deleted"]["answers"] == 1
    assert report["deleted"]["answer_texts"] == 2
    assert report["deleted"]["contact_details"] == 1
    assert report["audit_entries_erased"] >= 3
    assert store.one("SELECT count(*) FROM answers WHERE id = ?", (a["id"],))[0] == 0
    assert service.get_answer(store, users["reviewer"], kept["id"])["texts"]["original"]["text"] \
        == "Fine"
    log = json.dumps(audit.entries(store.conn, limit=1000), ensure_ascii=False)
    assert "Mrs Khan" not in log and "07700" not in log
    facts = audit.entries(store.conn, entity="answer", entity_id=a["id"])
    assert facts and all(e["erased"] and e["before"] is None and e["after"] is None
                         for e in facts)
    assert audit.entries(store.conn, entity="respondent",
                         entity_id=consented["respondent_id"])[0]["action"] == \
        "respondent.withdraw"
    with pytest.raises(Conflict):
        service.start_session(store, c, survey["id"], "en",
                              respondent_id=consented["respondent_id"])
    # Their old session cannot take consent, so it can never take answers again.
    with pytest.raises(Conflict):
        service.record_consent(store, c, consented["id"], method="tick")
    with pytest.raises(Conflict):
        service.submit_answer(store, c, consented["id"], qid(survey, "trust"), text="3")


def test_each_question_is_a_comms_message_approved_through_the_same_workflow(store, users,
                                                                             survey):
    from comms import service as comms

    q = survey["questions"][1]
    message = comms.get_message(store, q["message_id"])
    assert message["source_text"] == q["text"] and message["channel"] == "phone_script"
    # Translated and approved in comms (as any message is): the survey sees the approval.
    comms.edit_translation(store, users["communicator"], q["message_id"], "pl",
                           "Opowiedz nam o ostatniej wizycie u lekarza rodzinnego.")
    assert service.get_question(store, q["id"])["texts"]["pl"]["status"] == "needs_review"
    comms.approve_translation(store, users["reviewer"], q["message_id"], "pl")
    assert service.get_question(store, q["id"])["texts"]["pl"] == {
        "text": "Opowiedz nam o ostatniej wizycie u lekarza rodzinnego.", "status": "approved"}
    assert "experience" not in service.missing_approvals(store, survey["id"], "pl")


def test_a_language_must_be_a_language_tag(store, users, survey):
    for bad in ("", "English please", "u", "ur_PK!"):
        with pytest.raises(BadInput):
            service.open_language(store, users["communicator"], survey["id"], bad,
                                  accept_english=True)
    assert len(service.get_survey(store, survey["id"])["open_languages"]) == 1


def test_an_earlier_version_of_an_answer_goes_on_withdrawal_too(store, users, survey,
                                                                consented):
    from tests.conftest import DEMO_DATA
    c = users["collector"]
    with open(DEMO_DATA / "flu-vaccine-en.wav", "rb") as fh:
        first = service.submit_answer(store, c, consented["id"], qid(survey, "experience"),
                                      audio=fh, filename="answer.wav",
                                      content_type="audio/wav")
    service.submit_answer(store, c, consented["id"], qid(survey, "experience"),
                          text="Mrs Khan drove me")
    service.submit_answer(store, c, consented["id"], qid(survey, "experience"),
                          text="I went by bus")
    # Every version is kept (the newest too), the first with its recording.
    assert count(store, "answer_versions") == 3 and count(store, "recordings") == 1
    report = service.withdraw_consent(store, users["reviewer"], consented["respondent_id"])
    assert report["deleted"]["answer_versions"] == 3
    assert count(store, "answer_versions") == 0 and count(store, "answer_texts") == 0
    # The recording of the first version went too, with its audio.
    assert count(store, "recordings") == 0
    log = json.dumps(audit.entries(store.conn, limit=1000), ensure_ascii=False)
    assert "Mrs Khan" not in log
    assert store.one("SELECT count(*) FROM answers WHERE id = ?", (first["id"],))[0] == 0


def test_sessions_left_empty_and_unfinished_are_removed_after_a_while(store, users, survey,
                                                                      consented):
    import datetime as dt

    from surveys import sessions
    c = users["collector"]
    answered = service.start_session(store, c, survey["id"], "en")
    service.record_consent(store, c, answered["id"], method="tick")
    service.submit_answer(store, c, answered["id"], qid(survey, "experience"), text="Fine")
    finished_empty = service.start_session(store, c, survey["id"], "en")
    service.finish_session(store, c, finished_empty["id"])
    # Not yet: a phone may still be sending its answers.
    assert sessions.remove_abandoned(store) == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=sessions.EMPTY_SESSION_DAYS + 1)
    assert sessions.remove_abandoned(store, now=later) == [consented["id"]]
    left = {r[0] for r in store.all("SELECT id FROM survey_sessions")}
    assert left == {answered["id"], finished_empty["id"]}
    assert store.one("SELECT count(*) FROM respondents WHERE id = ?",
                     (consented["respondent_id"],))[0] == 0
    assert count(store, "consents") == 1


def test_scale_and_choice_labels_are_comms_messages_translated_with_the_question(
        store, users, survey):
    from comms import service as comms
    trust = service.get_question(store, qid(survey, "trust"))
    assert set(trust["labels"]) == {"scale:1", "scale:5"}
    label_messages = comms.list_messages(store, tag="question-label", limit=500)
    # trust (2), heard (2), channels (4), ethnicity (17)
    assert len(label_messages) == 2 + 2 + 4 + 17
    assert {m["source_text"] for m in label_messages} >= {"not at all", "completely"}
    service.set_question_text(store, users["communicator"], trust["id"], "ur",
                              "آپ این ایچ ایس پر کتنا بھروسہ کرتے ہیں؟",
                              {"scale:1": "بالکل نہیں", "scale:5": "مکمل طور پر"})
    with pytest.raises(BadInput):
        service.set_question_text(store, users["communicator"], trust["id"], "ur", None,
                                  {"scale:3": "?"})
    assert trust["labels"]["scale:1"]["texts"] == {}
    waiting = service.get_question(store, trust["id"])["labels"]["scale:1"]["texts"]["ur"]
    assert waiting["status"] == "needs_review"
    service.approve_question_text(store, users["reviewer"], trust["id"], "ur")
    approved = service.get_question(store, trust["id"])["labels"]
    assert approved["scale:1"]["texts"]["ur"] == {"text": "بالکل نہیں", "status": "approved"}
    # A new version of the survey keeps the same label messages (and so their approvals).
    newer = service.new_version(store, users["communicator"], survey["id"])
    copy = next(q for q in newer["questions"] if q["name"] == "trust")
    assert service.get_question(store, copy["id"])["labels"] == approved
