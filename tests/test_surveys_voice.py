"""Voice answers: a recording handed to speech, transcription queued, the transcript
picked up for review, and withdrawal deleting recordings, transcripts and unshared audio."""

from __future__ import annotations

import json

import pytest

from cohear import audit
from cohear.errors import BadInput
from cohear.jobs import JobQueue
from surveys import service

DEMO = __import__("pathlib").Path(__file__).resolve().parent.parent / "cohear" / "demo_data"
FLU = DEMO / "flu-vaccine-en.wav"
BUS = DEMO / "clinic-bus-en-8k-mulaw.wav"


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def survey(store, users):
    s = service.create_survey(store, users["communicator"], title="Vaccines", purpose="Hear why",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "why", "text": "Why?",
                                   "options": {"answer": "voice"}},
                                  {"kind": "open", "name": "written", "text": "Write it",
                                   "options": {"answer": "text"}}])
    service.open_language(store, users["communicator"], s["id"], "en")
    return s


def session(store, users, survey):
    sess = service.start_session(store, users["collector"], survey["id"], "en")
    service.record_consent(store, users["collector"], sess["id"], method="tick")
    return sess


def voice(store, users, survey, sess, path):
    with open(path, "rb") as fh:
        return service.submit_answer(store, users["collector"], sess["id"],
                                     survey["questions"][1]["id"], audio=fh,
                                     filename=path.name, content_type="audio/wav")


def test_a_voice_answer_is_a_speech_recording_with_transcription_queued(store, users, survey):
    sess = session(store, users, survey)
    a = voice(store, users, survey, sess, FLU)
    assert a["kind"] == "voice" and a["status"] == "new" and a["recording_id"]
    job = JobQueue(store).get(a["transcription_job_id"])
    assert job["kind"] == "speech.transcribe" and job["status"] == "queued"
    assert job["payload"]["recording_id"] == a["recording_id"]
    with open(FLU, "rb") as fh, pytest.raises(BadInput):
        service.submit_answer(store, users["collector"], sess["id"],
                              survey["questions"][2]["id"], audio=fh, filename="x.wav")


def test_verbal_consent_is_kept_as_a_recording(store, users, survey):
    sess = service.start_session(store, users["collector"], survey["id"], "en")
    with open(BUS, "rb") as fh:
        consent = service.record_consent(store, users["collector"], sess["id"],
                                         method="verbal_recording", recording=fh,
                                         filename="consent.wav", content_type="audio/wav")
    assert consent["recording_id"] and consent["method"] == "verbal_recording"


def test_withdrawal_deletes_recordings_and_audio_but_not_audio_another_respondent_shares(
        store, users, survey):
    first = service.start_session(store, users["collector"], survey["id"], "en")
    with open(BUS, "rb") as fh:
        consent = service.record_consent(store, users["collector"], first["id"],
                                         method="verbal_recording", recording=fh,
                                         filename="consent.wav", content_type="audio/wav")
    mine = voice(store, users, survey, first, FLU)
    # The same bytes from a second respondent: speech keeps one recording for both.
    second = session(store, users, survey)
    theirs = voice(store, users, survey, second, FLU)
    assert theirs["recording_id"] == mine["recording_id"]
    own_files = store.one("SELECT original_sha256, normalised_sha256 FROM recordings WHERE id = ?",
                          (consent["recording_id"],))
    shared_files = store.one("SELECT original_sha256, normalised_sha256 FROM recordings "
                             "WHERE id = ?", (mine["recording_id"],))

    report = service.withdraw_consent(store, users["reviewer"], first["respondent_id"])
    assert report["deleted"]["answers"] == 1
    assert report["deleted"]["recordings"] == 1  # the consent recording only
    assert report["deleted"]["audio_files"] == 2  # its original and its 16 kHz copy
    assert store.one("SELECT 1 FROM recordings WHERE id = ?", (consent["recording_id"],)) is None
    for sha in own_files:
        assert not store.blobs.path(sha).exists()
    assert store.one("SELECT 1 FROM recordings WHERE id = ?", (mine["recording_id"],))
    for sha in shared_files:
        assert store.blobs.path(sha).exists()
    assert service.get_answer(store, users["reviewer"], theirs["id"])["recording_id"] == \
        mine["recording_id"]
    entries = audit.entries(store.conn, entity="recording", entity_id=consent["recording_id"])
    assert entries and all(e["erased"] for e in entries)


@pytest.mark.slow
def test_end_to_end_voice_answer_transcribed_reviewed_and_withdrawn(store, users, survey,
                                                                    whisper_model):
    sess = session(store, users, survey)
    a = voice(store, users, survey, sess, FLU)
    outcome = JobQueue(store).run_job(a["transcription_job_id"], owner="test-worker")
    assert outcome == "done"
    queue = service.review_queue(store, users["reviewer"], survey_id=survey["id"])
    assert queue[0]["id"] == a["id"] and queue[0]["status"] == "transcribed"
    answer = service.get_answer(store, users["reviewer"], a["id"])
    words = answer["texts"]["original"]["text"].lower()
    assert "flu" in words or "vaccin" in words
    said = answer["texts"]["original"]["text"]
    assert said in json.dumps(audit.entries(store.conn, limit=1000), ensure_ascii=False)
    report = service.withdraw_consent(store, users["reviewer"], sess["respondent_id"])
    assert report["deleted"]["transcripts"] >= 1 and report["deleted"]["recordings"] == 1
    assert store.one("SELECT count(*) FROM transcripts")[0] == 0
    assert said not in json.dumps(audit.entries(store.conn, limit=1000), ensure_ascii=False)
