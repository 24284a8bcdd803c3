"""One session answers a question once, and the database enforces it: a later answer
while the session is open is a new version of the same answer (same id, `version: N`,
the earlier words kept); the same answer again is recognised; a finished session
refuses answers (409); a retried request with the same Idempotency-Key is a duplicate,
never a new version. Concurrent answers over real HTTP store one row."""

from __future__ import annotations

import sqlite3
import threading
import uuid

import httpx
import pytest

from cohear import audit
from surveys import service
from tests.test_collect_api import answer, consent, question, start
from tests.test_collect_api import survey as survey  # noqa: F401 - the shared fixture


def count(store, table: str, where: str = "1=1", params: tuple = ()) -> int:
    return store.one(f"SELECT count(*) FROM {table} WHERE {where}", params)[0]


@pytest.fixture
def session_id(api, survey):  # noqa: F811
    r = start(api["collector"], survey)
    assert r.status_code == 201, r.text
    sid = r.json()["session_id"]
    assert consent(api["collector"], sid).status_code == 201
    return sid


def test_the_database_refuses_a_second_answer_row_for_a_question(store, api, survey,  # noqa: F811
                                                                  session_id):
    first = answer(api["collector"], session_id, question(survey, "barriers"), text="The bus")
    assert first.status_code == 201, first.text
    row = store.one("SELECT * FROM answers WHERE id = ?", (first.json()["answer_id"],))
    # Even code that skipped the service's rules could not store a second answer.
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        with store.transaction() as conn:
            conn.execute("INSERT INTO answers (session_id, question_id, respondent_id, language, "
                         "survey_version, kind, created_by, created_at) "
                         "VALUES (?, ?, ?, 'en', 1, 'text', ?, 'now')",
                         (row["session_id"], row["question_id"], row["respondent_id"],
                          row["created_by"]))


def test_a_later_answer_is_a_new_version_and_the_earlier_words_stay(store, api, survey,  # noqa: F811
                                                                     session_id, people):
    q = question(survey, "barriers")
    first = answer(api["collector"], session_id, q, text="The bus is late")
    second = answer(api["collector"], session_id, q, text="It is too far to walk")
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert first.json()["version"] == 1 and second.json()["version"] == 2
    answer_id = first.json()["answer_id"]
    assert second.json()["answer_id"] == answer_id
    assert count(store, "answers") == 1

    reviewer = api["reviewer"].get(f"/api/answers/{answer_id}").json()
    assert reviewer["version"] == 2
    assert reviewer["texts"]["original"]["text"] == "It is too far to walk"
    texts = [r["text"] for r in store.all("SELECT text FROM answer_texts WHERE answer_id = ? AND "
                                          "rendering = 'original' ORDER BY version", (answer_id,))]
    assert texts == ["The bus is late", "It is too far to walk"]
    versions = store.all("SELECT version, kind, answer_text_id FROM answer_versions WHERE "
                         "answer_id = ? ORDER BY version", (answer_id,))
    assert [(v["version"], v["kind"]) for v in versions] == [(1, "text"), (2, "text")]
    entries = audit.entries(store.conn, entity="answer", entity_id=answer_id)
    change = next(e for e in entries if e["action"] == "answer.version")
    assert change["before"]["text"] == "The bus is late"
    assert change["after"]["text"] == "It is too far to walk" and change["after"]["version"] == 2


def test_the_same_answer_again_is_not_a_new_version(store, api, survey, session_id):  # noqa: F811
    q = question(survey, "bus")
    first = answer(api["collector"], session_id, q, choices=["yes"])
    again = answer(api["collector"], session_id, q, choices=["yes"])  # a new key
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["duplicate"] is True and again.json()["version"] == 1
    changed = answer(api["collector"], session_id, q, choices=["no"])
    assert changed.status_code == 201 and changed.json()["version"] == 2
    assert count(store, "answer_versions") == 2


def test_a_retried_request_with_the_same_key_is_a_duplicate_not_a_version(store, api,  # noqa: F811
                                                                          survey, session_id):
    q = question(survey, "barriers")
    idem = str(uuid.uuid4())
    first = answer(api["collector"], session_id, q, idem, text="Buses are rare")
    retried = answer(api["collector"], session_id, q, idem, text="Buses are rare")
    assert (first.status_code, retried.status_code) == (201, 200)
    assert retried.json()["duplicate"] is True and retried.json()["version"] == 1
    # The same key can never make a new version, even with other words.
    reused = answer(api["collector"], session_id, q, idem, text="Something else")
    assert reused.status_code == 200 and reused.json()["version"] == 1
    assert count(store, "answer_versions") == 1


def test_a_finished_session_refuses_answers_with_a_clear_problem(store, api, survey,  # noqa: F811
                                                                 session_id):
    q = question(survey, "barriers")
    assert answer(api["collector"], session_id, q, text="The bus").status_code == 201
    done = api["collector"].post(f"/api/sessions/{session_id}/finish")
    assert done.status_code == 200 and done.json()["ended_at"]
    assert api["collector"].post(f"/api/sessions/{session_id}/finish").status_code == 200
    for other_q, kw in ((q, {"text": "More words"}), (question(survey, "bus"),
                                                      {"choices": ["no"]})):
        r = answer(api["collector"], session_id, other_q, **kw)
        assert r.status_code == 409, r.text
        problem = r.json()
        assert "finished" in problem["detail"] and problem["status"] == 409
        assert r.headers["content-type"].startswith("application/problem+json")
    r = api["collector"].post(f"/api/sessions/{session_id}/answers",
                              data={"question_id": str(q), "text": "And more"})
    assert r.status_code == 409 and "finished" in r.json()["detail"]
    assert count(store, "answer_versions") == 1
    # Another collector cannot finish someone else's session.
    assert api["collector2"].post(f"/api/sessions/{session_id}/finish").status_code in (403, 404)


def answer_at_once(url: str, token: str, session: int, q: int, texts: list[str]) -> list:
    """Send each text as an answer from its own thread, all released together."""
    barrier = threading.Barrier(len(texts))
    results: list = []
    failures: list = []

    def send(text: str) -> None:
        try:
            with httpx.Client(base_url=url, timeout=120,
                              headers={"Authorization": f"Bearer {token}"}) as c:
                barrier.wait(30)
                results.append(answer(c, session, q, text=text))
        except BaseException as exc:  # noqa: BLE001 - reported below, not lost in a thread
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    return results


def test_concurrent_answers_to_one_question_store_one_answer(store, live_server, people,
                                                             survey):  # noqa: F811
    """12 typed answers at the same moment, five times: each time one row, 12 versions."""
    token = people["collector"][1]
    q = question(survey, "barriers")
    for trial in range(5):
        with live_server.client(token) as c:
            sid = start(c, survey).json()["session_id"]
            assert consent(c, sid).status_code == 201
        results = answer_at_once(live_server.url, token, sid, q,
                                 [f"answer {i} of trial {trial}" for i in range(12)])
        assert [r.status_code for r in results] == [201] * 12, [r.text for r in results]
        assert len({r.json()["answer_id"] for r in results}) == 1
        assert sorted(r.json()["version"] for r in results) == list(range(1, 13))
        assert count(store, "answers", "session_id = ?", (sid,)) == 1
        answer_id = results[0].json()["answer_id"]
        assert count(store, "answer_versions", "answer_id = ?", (answer_id,)) == 12


def test_a_voice_answer_again_is_a_new_version_with_its_own_recording(store, api, people,
                                                                       survey):  # noqa: F811
    from tests.test_crash_safety import variants
    collector = people["collector"][0]
    s = service.start_session(store, collector, survey["id"], "en")
    service.record_consent(store, collector, s["id"], method="tick")
    q = question(survey, "barriers")
    one, two = variants(2)
    import io
    first = service.submit_answer(store, collector, s["id"], q, audio=io.BytesIO(one),
                                  filename="a.wav", content_type="audio/wav")
    same = service.submit_answer(store, collector, s["id"], q, audio=io.BytesIO(one),
                                 filename="a.wav", content_type="audio/wav")
    second = service.submit_answer(store, collector, s["id"], q, audio=io.BytesIO(two),
                                   filename="b.wav", content_type="audio/wav")
    assert same["duplicate"] and same["version"] == 1
    assert (second["id"], second["version"]) == (first["id"], 2)
    assert second["recording_id"] != first["recording_id"]
    kept = [r[0] for r in store.all("SELECT recording_id FROM answer_versions WHERE "
                                    "answer_id = ? ORDER BY version", (first["id"],))]
    assert kept == [first["recording_id"], second["recording_id"]]
