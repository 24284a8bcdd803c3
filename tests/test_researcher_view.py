"""Researchers read only the pseudonymised, redacted view through the API: the salted
`P-…` pseudonym the exports use, never an internal respondent or session id, and words
with accepted and undecided redactions applied (only rejected suggestions stay). Staff
who review still read the stored words. Coded spans are given in the words as each
reader sees them."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from tests.test_surveys_api import SURVEY, start

WORDS = ("My name is Mohammed Khan, call 07700 900123 or write to sara@example.org; "
         "NHS number 943 476 5919, I live at B11 1AA and the bus was late")
SECRETS = ("Mohammed", "Khan", "07700 900123", "sara@example.org", "943 476 5919", "B11 1AA")


@pytest.fixture
def world(api, live_server):
    store = live_server.app.state.store
    comm, collector, reviewer = api["communicator"], api["collector"], api["reviewer"]
    survey = comm.post("/api/surveys", json=SURVEY).json()
    assert comm.post(f"/api/surveys/{survey['id']}/languages/en", json={}).status_code == 200
    session = start(api, "collector", survey)
    collector.post(f"/api/sessions/{session['id']}/consent", data={"method": "tick"})
    answer = collector.post(f"/api/sessions/{session['id']}/answers", data={
        "question_id": survey["questions"][1]["id"], "text": WORDS}).json()
    found = {r["found"]: r for r in reviewer.get(f"/api/answers/{answer['id']}").json()
             ["redactions"]}
    assert {"07700 900123", "sara@example.org", "943 476 5919", "B11 1AA", "Mohammed",
            "Khan"} <= set(found), found
    # The phone number is accepted; the rest stay undecided. Both are applied.
    assert reviewer.post(f"/api/answers/redactions/{found['07700 900123']['id']}",
                         json={"accept": True}).status_code == 200
    book = api["reviewer"].post("/api/codebooks", json={
        "name": "Travel", "codes": [{"name": "bus"}, {"name": "late"}]}).json()
    codes = {c["name"]: c["id"] for c in book["codes"]}
    text_id = answer["texts"]["original"]["id"]
    start_at = WORDS.index("the bus")
    r = reviewer.post(f"/api/answers/{answer['id']}/codings", json={
        "code_id": codes["bus"], "answer_text_id": text_id, "start": start_at,
        "end": start_at + len("the bus")})
    assert r.status_code == 201, r.text
    respondent = store.one("SELECT cohear_id FROM respondents WHERE id = ?",
                           (session["respondent_id"],))["cohear_id"]
    return {"survey": survey, "session": session, "answer": answer, "codes": codes,
            "text_id": text_id, "respondent": respondent, "store": store}


def expected_pseudonym(store, cohear_id: str) -> str:
    """The keyed hash the exports use, computed here from the salt file itself."""
    import base64
    salt = (store.settings.data_dir / "pseudonym-salt").read_bytes().strip()
    digest = hmac.new(salt, cohear_id.encode(), hashlib.sha256).digest()
    return "P-" + base64.b32encode(digest[:8]).decode().rstrip("=")


def assert_no_identifiers(body, world) -> None:
    text = json.dumps(body, ensure_ascii=False)
    for secret in SECRETS + (world["respondent"],):
        assert secret not in text, f"{secret!r} reached a researcher: {text[:400]}"
    for key in ("session_id", "respondent_id", "cohear_id", "collector_id", "contact",
                "safeguarding_reason", "safeguarding_note", "recording_id", "redactions"):
        assert f'"{key}"' not in text, f"{key} reached a researcher: {text[:400]}"


def test_a_researcher_reads_an_answer_redacted_and_pseudonymised(api, world):
    r = api["researcher"].get(f"/api/answers/{world['answer']['id']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert_no_identifiers(body, world)
    shown = body["texts"]["original"]["text"]
    assert shown == ("My name is [name] [name], call [phone] or write to [email]; "
                     "NHS number [nhs_number], I live at [postcode] and the bus was late")
    assert body["respondent"] == expected_pseudonym(world["store"], world["respondent"])
    assert body["pseudonymised"] is True


def test_a_rejected_suggestion_is_shown_to_researchers(api, world):
    reviewer = api["reviewer"]
    email = next(r for r in reviewer.get(f"/api/answers/{world['answer']['id']}").json()
                 ["redactions"] if r["found"] == "sara@example.org")
    assert reviewer.post(f"/api/answers/redactions/{email['id']}",
                         json={"accept": False}).status_code == 200
    shown = api["researcher"].get(f"/api/answers/{world['answer']['id']}").json()
    assert "sara@example.org" in shown["texts"]["original"]["text"]


def test_reviewers_and_the_collector_still_read_the_stored_words(api, world):
    for role in ("reviewer", "collector", "admin"):
        body = api[role].get(f"/api/answers/{world['answer']['id']}").json()
        assert body["texts"]["original"]["text"] == WORDS
        assert body["session_id"] == world["session"]["id"]


def test_the_review_queue_and_session_list_show_researchers_pseudonyms_only(api, world):
    queue = api["researcher"].get("/api/answers").json()
    assert [a["id"] for a in queue] == [world["answer"]["id"]]
    assert_no_identifiers(queue, world)
    assert queue[0]["respondent"] == expected_pseudonym(world["store"], world["respondent"])
    sessions = api["researcher"].get("/api/sessions").json()
    assert_no_identifiers(sessions, world)
    assert sessions == [{"respondent": queue[0]["respondent"],
                         "survey_id": world["survey"]["id"], "survey_version": 1,
                         "language": "en", "answers": [world["answer"]["id"]],
                         "pseudonymised": True}]
    assert "id" not in sessions[0]


def test_researchers_cannot_open_a_session_by_its_internal_id(api, world):
    r = api["researcher"].get(f"/api/sessions/{world['session']['id']}")
    assert r.status_code == 403
    assert "may not do this" in r.json()["detail"]


def test_coded_spans_are_given_in_the_words_each_reader_sees(api, world):
    mine = api["researcher"].get(f"/api/answers/{world['answer']['id']}").json()
    shown = mine["texts"]["original"]["text"]
    (coding,) = mine["codings"]
    assert shown[coding["start_offset"]:coding["end_offset"]] == "the bus"
    stored = api["reviewer"].get(f"/api/answers/{world['answer']['id']}").json()["codings"][0]
    assert WORDS[stored["start_offset"]:stored["end_offset"]] == "the bus"


def test_a_researcher_codes_a_span_of_the_redacted_words(api, world):
    shown = api["researcher"].get(f"/api/answers/{world['answer']['id']}").json()
    text = shown["texts"]["original"]["text"]
    at = text.index("was late")
    r = api["researcher"].post(f"/api/answers/{world['answer']['id']}/codings", json={
        "code_id": world["codes"]["late"], "answer_text_id": world["text_id"],
        "start": at, "end": at + len("was late")})
    assert r.status_code == 201, r.text
    assert text[r.json()["start_offset"]:r.json()["end_offset"]] == "was late"
    stored = [c for c in api["reviewer"].get(f"/api/answers/{world['answer']['id']}").json()
              ["codings"] if c["code_id"] == world["codes"]["late"]]
    assert WORDS[stored[0]["start_offset"]:stored[0]["end_offset"]] == "was late"
    # A span starting inside a redaction takes in the whole redacted words.
    phone = text.index("[phone]")
    r = api["researcher"].post(f"/api/answers/{world['answer']['id']}/codings", json={
        "code_id": world["codes"]["late"], "answer_text_id": world["text_id"],
        "start": phone + 2, "end": phone + len("[phone]")})
    assert r.status_code == 201, r.text
    stored = api["reviewer"].get(f"/api/answers/{world['answer']['id']}").json()["codings"][-1]
    assert WORDS[stored["start_offset"]:stored["end_offset"]] == "07700 900123"
    # Offsets beyond the redacted words are refused in their own terms.
    r = api["researcher"].post(f"/api/answers/{world['answer']['id']}/codings", json={
        "code_id": world["codes"]["late"], "answer_text_id": world["text_id"],
        "start": 0, "end": len(text) + 1})
    assert r.status_code == 400 and f"{len(text)} characters long" in r.json()["detail"]


def test_researchers_are_told_only_whether_a_concern_is_open(api, world, people, tmp_path):
    """A researcher read `safeguarding: 1` on an answer whose concern was long handled,
    and the queue put handled concerns ahead of the rest: both told that a concern had
    been raised about that person."""
    collector, reviewer = api["collector"], api["reviewer"]
    survey, session = world["survey"], world["session"]
    later = collector.post(f"/api/sessions/{session['id']}/answers", data={
        "question_id": survey["questions"][2]["id"], "choices": "2"}).json()
    flagged = world["answer"]["id"]
    assert reviewer.post(f"/api/answers/{later['id']}/safeguarding",
                         json={"reason": "worried about them"}).status_code == 200
    assert reviewer.post(f"/api/answers/{flagged}/safeguarding",
                         json={"reason": "asked for help at home"}).status_code == 200
    queue = api["researcher"].get("/api/answers").json()
    assert [(a["id"], a["safeguarding"]) for a in queue] == [(flagged, 1), (later["id"], 1)]
    assert reviewer.post(f"/api/answers/{later['id']}/safeguarding/handled",
                         json={"note": "rang them, they are safe"}).status_code == 200
    queue = api["researcher"].get("/api/answers").json()
    assert [(a["id"], a["safeguarding"]) for a in queue] == [(flagged, 1), (later["id"], 0)]
    answer = api["researcher"].get(f"/api/answers/{later['id']}").json()
    assert answer["safeguarding"] == 0 and "handled" not in json.dumps(answer)
    assert_no_identifiers(answer, world)
    # Handled, the concern takes its place among the rest (by id), for everyone.
    assert reviewer.post(f"/api/answers/{flagged}/safeguarding/handled",
                         json={"note": "the GP called her back"}).status_code == 200
    assert [a["id"] for a in api["researcher"].get("/api/answers").json()] == [
        flagged, later["id"]]
    staff = {a["id"]: a for a in reviewer.get("/api/answers").json()}
    assert staff[later["id"]]["safeguarding"] == 1          # staff still see the history
    # A pseudonymised export says the same as the API; an identifiable one keeps it all.
    from surveys import exports
    for who, identifiable in (("researcher", False), ("admin", True)):
        out = tmp_path / f"{who}.json"
        exports.export_survey(world["store"], people[who][0], survey["id"], "json", out,
                              identifiable=identifiable)
        flags = [a["safeguarding"] for a in json.loads(out.read_text())["answers"]]
        assert flags == ([1, 1] if identifiable else [0, 0]), who


def test_memos_a_researcher_reads_over_http_are_redacted(api, world):
    """Code memos reached researchers as written, over GET /api/codebooks/ID and its
    CSV and .qdc exports, even when they quoted a respondent."""
    reviewer, researcher = api["reviewer"], api["researcher"]
    code_id = world["codes"]["bus"]
    store = world["store"]
    book_id = store.one("SELECT codebook_id FROM codes WHERE id = ?", (code_id,))[0]
    from cohear.auth import get_user
    from surveys import coding
    coding.set_code_memo(store, get_user(store, "test-reviewer"), code_id,
                         "Mohammed Khan on 07700 900123 takes two buses")
    staff = reviewer.get(f"/api/codebooks/{book_id}").json()
    assert staff["memos_redacted"] is False
    assert "07700 900123" in json.dumps(staff)
    body = researcher.get(f"/api/codebooks/{book_id}")
    assert body.status_code == 200, body.text
    memo = next(c["memo"] for c in body.json()["codes"] if c["id"] == code_id)
    assert memo == "[name] [name] on [phone] takes two buses"
    assert body.json()["memos_redacted"] is True
    for fmt in ("csv", "qdc"):
        text = researcher.get(f"/api/codebooks/{book_id}/export", params={"format": fmt}).text
        assert "[phone]" in text, fmt
        assert_no_identifiers(text, world)
