"""The field page's recovery of a request that died (README, "The field page"): the phone
sends again under the same Idempotency-Key, and cohear looks for what the dead request
stored. The same answer is found and not stored twice; a different answer (other words,
other choices, other bytes, a voice answer where a typed one stands) is never taken for
the earlier one: it is stored as the question's next version."""

from __future__ import annotations

import io

import pytest

from surveys import service as surveys
from tests.test_collect_api import question
from tests.test_collect_api import survey as survey  # noqa: F401 - the shared fixture
from tests.test_crash_safety import variants
from webcollect import service

DIED = "2020-01-01T00:00:00.000000Z"  # long enough ago that the key's claim is stale


@pytest.fixture
def session(store, people, survey):  # noqa: F811
    collector = people["collector"][0]
    s = surveys.start_session(store, collector, survey["id"], "en")
    surveys.record_consent(store, collector, s["id"], method="tick")
    return collector, s["id"]


def died_after_storing(store, collector, key: str) -> None:
    """What a request leaves behind when it stored its answer and died before marking its
    key done."""
    with store.transaction() as conn:
        conn.execute("INSERT INTO collect_uploads (collector_id, idempotency_key, kind, state, "
                     "started_at) VALUES (?, ?, 'answer', 'working', ?)", (collector.id, key, DIED))


def versions(store, answer_id: int) -> int:
    return store.one("SELECT count(*) FROM answer_versions WHERE answer_id = ?", (answer_id,))[0]


def resend(store, collector, session_id, question_id, key, **answer):
    return service.submit_answer(store, collector, key, session_id, question_id, **answer)


def test_the_same_choices_are_found_and_other_choices_are_a_new_version(store, survey, session):  # noqa: F811
    collector, session_id = session
    bus = question(survey, "bus")
    first = surveys.submit_answer(store, collector, session_id, bus, choices=["yes"])
    died_after_storing(store, collector, "dead-key-choices-1")
    again = resend(store, collector, session_id, bus, "dead-key-choices-1", choices=["yes"])
    assert again["duplicate"] and again["answer_id"] == first["id"] and versions(store, first["id"]) == 1
    died_after_storing(store, collector, "dead-key-choices-2")
    other = resend(store, collector, session_id, bus, "dead-key-choices-2", choices=["no"])
    assert not other["duplicate"] and other["version"] == 2 and versions(store, first["id"]) == 2
    assert surveys.get_answer(store, collector, first["id"])["choices"] == ["no"]


def test_other_words_are_a_new_version(store, survey, session):  # noqa: F811
    collector, session_id = session
    barriers = question(survey, "barriers")
    first = surveys.submit_answer(store, collector, session_id, barriers, text="The bus is late")
    died_after_storing(store, collector, "dead-key-words-1")
    other = resend(store, collector, session_id, barriers, "dead-key-words-1", text="No buses at all")
    assert not other["duplicate"] and other["version"] == 2
    assert surveys.get_answer(store, collector, first["id"])["texts"]["original"]["text"] == "No buses at all"


def test_a_recording_is_found_by_its_bytes_and_other_bytes_are_a_new_version(store, survey, session):  # noqa: F811
    collector, session_id = session
    barriers = question(survey, "barriers")
    one, two = variants(2)
    first = surveys.submit_answer(store, collector, session_id, barriers, audio=io.BytesIO(one),
                                  filename="a.wav", content_type="audio/wav")
    died_after_storing(store, collector, "dead-key-voice-1")
    again = resend(store, collector, session_id, barriers, "dead-key-voice-1", audio=io.BytesIO(one),
                   filename="a.wav", content_type="audio/wav")
    assert again["duplicate"] and again["answer_id"] == first["id"] and versions(store, first["id"]) == 1
    died_after_storing(store, collector, "dead-key-voice-2")
    other = resend(store, collector, session_id, barriers, "dead-key-voice-2", audio=io.BytesIO(two),
                   filename="b.wav", content_type="audio/wav")
    assert not other["duplicate"] and other["version"] == 2
    assert surveys.get_answer(store, collector, first["id"])["recording_id"] != first["recording_id"]


def test_a_voice_answer_is_never_taken_for_a_typed_one(store, survey, session):  # noqa: F811
    collector, session_id = session
    barriers = question(survey, "barriers")
    first = surveys.submit_answer(store, collector, session_id, barriers, text="The bus is late")
    (one,) = variants(1)
    died_after_storing(store, collector, "dead-key-typed-then-voice")
    voice = resend(store, collector, session_id, barriers, "dead-key-typed-then-voice",
                   audio=io.BytesIO(one), filename="a.wav", content_type="audio/wav")
    assert not voice["duplicate"] and voice["version"] == 2 and voice["transcription"] != "not needed"
    assert versions(store, first["id"]) == 2
    assert surveys.get_answer(store, collector, first["id"])["recording_id"] is not None


def test_an_answer_sent_again_under_a_new_key_after_finishing_is_found_not_refused(store, survey,
                                                                                    session):  # noqa: F811
    """The phone may lose the reply and send an answer again under a new key after the leader
    finished: the same answer is found (duplicate), a different one is refused (409)."""
    from cohear.errors import Conflict
    collector, session_id = session
    barriers = question(survey, "barriers")
    first = resend(store, collector, session_id, barriers, "first-key-0001", text="The bus is late")
    service.finish_session(store, collector, session_id)
    again = resend(store, collector, session_id, barriers, "second-key-0002", text="The bus is late")
    assert again["duplicate"] and again["answer_id"] == first["answer_id"] and again["version"] == 1
    with pytest.raises(Conflict):
        resend(store, collector, session_id, barriers, "third-key-0003", text="Something else")
    assert versions(store, first["answer_id"]) == 1
