"""The field page's sending-at-most-once rules, at the service level with a real store:
an upload whose request died half-way, one still being saved, and a key reused."""

from __future__ import annotations

import pytest

from cohear.errors import BadInput, CohearError, Conflict


@pytest.fixture
def session(store, people):
    from surveys import service as surveys
    from webcollect import service
    communicator, collector = people["communicator"][0], people["collector"][0]
    made = surveys.create_survey(
        store, communicator, title="Clinic access", purpose="Hear what stops people coming",
        base_language="en", questions=[
            {"kind": "consent", "name": "consent", "text": "Do you agree?"},
            {"kind": "open", "name": "barriers", "text": "What makes it hard?"}])
    surveys.open_language(store, communicator, made["id"], "en")
    started = service.start_session(store, collector, "session-key-1", made["id"], "en")
    service.record_consent(store, collector, "consent-key-1", started["session_id"],
                           method="tick")
    return started["session_id"], made["questions"][1]["id"]


def claim(store, collector, key: str, started_at: str) -> None:
    """What a request leaves behind when it dies after claiming its key."""
    with store.transaction() as conn:
        conn.execute("INSERT INTO collect_uploads (collector_id, idempotency_key, kind, state, "
                     "started_at) VALUES (?, ?, 'answer', 'working', ?)",
                     (collector.id, key, started_at))


def test_an_answer_stored_by_a_request_that_died_is_found_not_stored_again(store, people,
                                                                           session):
    from surveys import service as surveys
    from webcollect import service
    collector = people["collector"][0]
    session_id, question_id = session
    # The first request stored the answer, then died before marking its key done.
    stored = surveys.submit_answer(store, collector, session_id, question_id, text="The bus")
    claim(store, collector, "answer-key-1", "2020-01-01T00:00:00.000000Z")
    again = service.submit_answer(store, collector, "answer-key-1", session_id, question_id,
                                  text="The bus")
    assert again["duplicate"] is True and again["answer_id"] == stored["id"]
    assert store.one("SELECT count(*) FROM answers")[0] == 1
    row = store.one("SELECT * FROM collect_uploads WHERE idempotency_key = 'answer-key-1'")
    assert (row["state"], row["entity_id"]) == ("done", stored["id"])


def test_an_upload_still_being_saved_asks_the_phone_to_try_again(store, people, session):
    from cohear.store import utcnow
    from webcollect import service
    collector = people["collector"][0]
    session_id, question_id = session
    claim(store, collector, "answer-key-2", utcnow())
    with pytest.raises(CohearError) as caught:
        service.submit_answer(store, collector, "answer-key-2", session_id, question_id,
                              text="The bus")
    assert caught.value.status == 503
    assert store.one("SELECT count(*) FROM answers")[0] == 0


def test_a_refused_upload_frees_its_key_for_a_corrected_one(store, people, session):
    from webcollect import service
    collector = people["collector"][0]
    session_id, question_id = session
    with pytest.raises(BadInput):
        service.submit_answer(store, collector, "answer-key-3", session_id, question_id,
                              text="   ")
    assert store.one("SELECT count(*) FROM collect_uploads WHERE idempotency_key = "
                     "'answer-key-3'")[0] == 0
    done = service.submit_answer(store, collector, "answer-key-3", session_id, question_id,
                                 text="The bus")
    assert done["duplicate"] is False


def test_keys_belong_to_one_collector_and_one_kind_of_item(store, people, session):
    from webcollect import service
    session_id, question_id = session
    with pytest.raises(Conflict):
        service.submit_answer(store, people["collector"][0], "consent-key-1", session_id,
                              question_id, text="The bus")
    # Another collector's identical key is theirs alone, and opens nothing of the first's.
    with pytest.raises(CohearError) as caught:
        service.record_consent(store, people["collector2"][0], "consent-key-1", session_id,
                               method="tick")
    assert caught.value.status in (403, 404)


def test_recordings_left_half_sent_are_dropped_after_a_while(store, people, session):
    from webcollect import service
    collector = people["collector"][0]
    service.add_part(store, collector, "old-part-key", 0, 10, b"12345")
    with store.transaction() as conn:
        conn.execute("UPDATE collect_parts SET updated_at = '2020-01-01T00:00:00.000000Z'")
    old_file = store.settings.data_dir / "collect-parts" / f"{collector.id}-old-part-key.part"
    assert old_file.exists()
    service.add_part(store, collector, "new-part-key", 0, 10, b"12345")
    assert not old_file.exists()
    assert [r[0] for r in store.all("SELECT idempotency_key FROM collect_parts")] == [
        "new-part-key"]
