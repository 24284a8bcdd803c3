"""One collector can neither take over nor erase another collector's respondent: a
respondent reference that is not theirs is answered exactly as one that does not exist
(404), nothing is created, and withdrawal is for the collector who holds the respondent,
reviewers and admins."""

from __future__ import annotations

import pytest

from tests.test_surveys_api import SURVEY, start


@pytest.fixture
def survey(api):
    s = api["communicator"].post("/api/surveys", json=SURVEY).json()
    assert api["communicator"].post(f"/api/surveys/{s['id']}/languages/en",
                                    json={}).status_code == 200
    return s


def answered(api, role, survey, words="I walk to the pharmacy") -> dict:
    session = start(api, role, survey)
    c = api[role]
    assert c.post(f"/api/sessions/{session['id']}/consent", data={"method": "tick"}
                  ).status_code == 201
    r = c.post(f"/api/sessions/{session['id']}/answers",
               data={"question_id": survey["questions"][1]["id"], "text": words})
    assert r.status_code == 201, r.text
    return session


def count(store, table: str) -> int:
    return store.one(f"SELECT count(*) FROM {table}")[0]


def test_a_collector_cannot_start_a_session_for_another_collectors_respondent(
        api, survey, live_server):
    store = live_server.app.state.store
    theirs = answered(api, "collector", survey)
    sessions, respondents = count(store, "survey_sessions"), count(store, "respondents")
    r = api["collector2"].post("/api/sessions", json={
        "survey_id": survey["id"], "language": "en", "respondent_id": theirs["respondent_id"]})
    nobody = api["collector2"].post("/api/sessions", json={
        "survey_id": survey["id"], "language": "en", "respondent_id": 999_999})
    assert r.status_code == nobody.status_code == 404, r.text
    # The same words as for a respondent that does not exist: nothing is revealed.
    assert r.json()["detail"] == nobody.json()["detail"].replace(
        "999999", str(theirs["respondent_id"]))
    assert (count(store, "survey_sessions"), count(store, "respondents")) == (sessions,
                                                                              respondents)


def test_a_collector_may_continue_with_a_respondent_they_added(api, survey):
    mine = answered(api, "collector", survey)
    r = api["collector"].post("/api/sessions", json={
        "survey_id": survey["id"], "language": "en", "respondent_id": mine["respondent_id"]})
    assert r.status_code == 201, r.text
    assert r.json()["respondent"] == mine["respondent"]


def test_the_takeover_cannot_erase_the_other_collectors_answers(api, survey, live_server):
    """A session attached to another collector's respondent (as the old code allowed, so
    it may exist in a database) does not let its collector withdraw that respondent."""
    from surveys import service
    store = live_server.app.state.store
    theirs = answered(api, "collector", survey)
    other = api["collector2"]
    with store.transaction() as conn:  # the session the old code created for collector2
        takeover = conn.execute(
            "INSERT INTO survey_sessions (survey_id, survey_version, respondent_id, language, "
            "collector_id, started_at) SELECT survey_id, survey_version, respondent_id, "
            "language, (SELECT id FROM users WHERE name = 'test-collector-2'), started_at "
            "FROM survey_sessions WHERE id = ?", (theirs["id"],)).lastrowid
    r = other.post(f"/api/sessions/{takeover}/withdraw")
    assert r.status_code == 404, r.text
    reviewer = service.get_session(store, _user(store, "test-reviewer"), theirs["id"])
    assert len(reviewer["answers"]) == 1
    assert store.one("SELECT withdrawn_at FROM respondents WHERE id = ?",
                     (theirs["respondent_id"],))["withdrawn_at"] is None
    # Nor through the other collector's own session id.
    assert other.post(f"/api/sessions/{theirs['id']}/withdraw").status_code == 404


def _user(store, name):
    from cohear.auth import get_user
    return get_user(store, name)


@pytest.mark.parametrize("who", ["collector", "reviewer", "admin"])
def test_who_may_withdraw_a_respondent(api, survey, live_server, who):
    store = live_server.app.state.store
    session = answered(api, "collector", survey)
    r = api[who].post(f"/api/sessions/{session['id']}/withdraw")
    assert r.status_code == 200, r.text
    assert r.json()["deleted"]["answers"] == 1
    assert count(store, "answers") == 0


@pytest.mark.parametrize("who,status", [("collector2", 404), ("researcher", 403),
                                        ("communicator", 403)])
def test_who_may_not_withdraw_a_respondent(api, survey, live_server, who, status):
    store = live_server.app.state.store
    session = answered(api, "collector", survey)
    r = api[who].post(f"/api/sessions/{session['id']}/withdraw")
    assert r.status_code == status, r.text
    assert count(store, "answers") == 1


def test_the_field_pages_api_tells_another_collectors_session_from_no_session(api, survey):
    theirs = answered(api, "collector", survey)
    other = api["collector2"]
    for sid in (theirs["id"], 999_999):
        r = other.post(f"/collect/api/sessions/{sid}/consent", data={"method": "tick"},
                       headers={"Idempotency-Key": f"consent-{sid}"})
        assert r.status_code == 404, r.text
        r = other.post(f"/collect/api/sessions/{sid}/answers", data={
            "question_id": survey["questions"][1]["id"], "text": "mine now"},
            headers={"Idempotency-Key": f"answer-{sid}"})
        assert r.status_code == 404, r.text
        assert other.get(f"/collect/api/sessions/{sid}").status_code == 404
    assert other.get("/collect/api/status", params={"session": theirs["id"]}).json() == [
        {"session_id": theirs["id"], "missing": True}]
