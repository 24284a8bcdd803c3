"""Audio retention keeps what is still needed (surveys/retention.py, README "Co-production
surveys"): audio shared with an answer not yet past the period, audio that is a verbal
consent's recording or a question's prompt, and unverified answers' audio; retention set to
0 days is off, and the period counts from the verification, to the day. What is deleted is
reported exactly (recordings, blobs, bytes)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from surveys import service
from surveys.retention import apply_retention
from tests.test_crash_safety import variants


@pytest.fixture
def survey(store, people):
    communicator = people["communicator"][0]
    s = service.create_survey(store, communicator, title="Retention", purpose="test", base_language="en",
                              questions=[{"kind": "consent", "name": "consent", "text": "Agree?"},
                                         {"kind": "open", "name": "open", "text": "Tell us.",
                                          "options": {"answer": "either"}}])
    service.open_language(store, communicator, s["id"], "en")
    return s


def voice(store, people, survey, audio: bytes, *, verify: bool = True, consent_audio: bytes | None = None):
    collector, reviewer = people["collector"][0], people["reviewer"][0]
    session = service.start_session(store, collector, survey["id"], "en")
    if consent_audio is None:
        service.record_consent(store, collector, session["id"], method="tick")
    else:
        service.record_consent(store, collector, session["id"], method="verbal_recording",
                               recording=io.BytesIO(consent_audio), filename="c.wav",
                               content_type="audio/wav")
    answer = service.submit_answer(store, collector, session["id"], survey["questions"][1]["id"],
                                   audio=io.BytesIO(audio), filename="a.wav", content_type="audio/wav")
    if verify:
        service.add_text_version(store, reviewer, answer["id"], "words the reviewer heard")
        service.verify_answer(store, reviewer, answer["id"])
    return answer


def files(store, recording_id: int) -> list:
    rec = store.one("SELECT * FROM recordings WHERE id = ?", (recording_id,))
    return [store.blobs.path(rec["original_sha256"]), store.blobs.path(rec["normalised_sha256"])]


def verified_at(store, answer_id: int) -> dt.datetime:
    stamp = store.one("SELECT verified_at FROM answers WHERE id = ?", (answer_id,))[0]
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def test_zero_days_is_off_whatever_the_date(store, people, survey):
    (audio,) = variants(1)
    answer = voice(store, people, survey, audio)
    far = dt.datetime.now(dt.UTC) + dt.timedelta(days=10_000)
    for days in (0, -1):
        assert apply_retention(store, days=days, now=far)["recordings"] == []
    assert all(f.exists() for f in files(store, answer["recording_id"]))


def test_the_period_counts_from_verification_to_the_day_and_the_report_is_exact(store, people, survey):
    (audio,) = variants(1)
    answer = voice(store, people, survey, audio)
    at = verified_at(store, answer["id"])
    assert apply_retention(store, days=30, now=at + dt.timedelta(days=30, seconds=-1))["recordings"] == []
    kept = files(store, answer["recording_id"])
    sizes = sum(f.stat().st_size for f in kept)
    report = apply_retention(store, days=30, now=at + dt.timedelta(days=30))
    assert report["recordings"] == [answer["recording_id"]] and report["blobs"] == 2
    assert report["bytes"] == sizes and report["days"] == 30
    assert not any(f.exists() for f in kept)
    purged = store.all("SELECT purge_reason FROM blobs WHERE purged_at IS NOT NULL")
    assert [r[0] for r in purged] == ["audio retention", "audio retention"]


def test_audio_shared_with_an_answer_not_yet_due_is_kept(store, people, survey):
    (audio,) = variants(1)
    old = voice(store, people, survey, audio)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    # The same bytes sent again by the same collector for another respondent, not verified yet.
    young = voice(store, people, survey, audio, verify=False)
    assert young["recording_id"] == old["recording_id"]  # one recording, two answers
    assert apply_retention(store, days=30, now=later)["recordings"] == []
    assert all(f.exists() for f in files(store, old["recording_id"]))
    # Once the other answer is verified and its period has passed too, both go.
    reviewer = people["reviewer"][0]
    service.add_text_version(store, reviewer, young["id"], "words the reviewer heard")
    service.verify_answer(store, reviewer, young["id"])
    report = apply_retention(store, days=30, now=later)
    assert report["recordings"] == [old["recording_id"]] and report["blobs"] == 2
    assert not any(f.exists() for f in files(store, old["recording_id"]))


def test_a_verbal_consent_recording_is_kept_as_evidence(store, people, survey):
    answer_audio, consent_audio = variants(2)
    answer = voice(store, people, survey, answer_audio, consent_audio=consent_audio)
    consent_rec = store.one("SELECT recording_id FROM consents WHERE recording_id IS NOT NULL")[0]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    report = apply_retention(store, days=30, now=later)
    assert report["recordings"] == [answer["recording_id"]]
    assert all(f.exists() for f in files(store, consent_rec))
    # Audio that is both an answer and the consent recording stays: it is the evidence.
    both = voice(store, people, survey, consent_audio)
    assert apply_retention(store, days=30, now=later)["recordings"] == []
    assert all(f.exists() for f in files(store, both["recording_id"]))


def test_audio_that_is_a_question_prompt_is_kept(store, people, survey):
    (audio,) = variants(1)
    service.put_prompt(store, people["communicator"][0], survey["questions"][1]["id"], "en",
                       io.BytesIO(audio), "audio/wav")
    answer = voice(store, people, survey, audio)
    rec = store.one("SELECT original_sha256 FROM recordings WHERE id = ?", (answer["recording_id"],))[0]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    report = apply_retention(store, days=30, now=later)
    assert store.blobs.path(rec).exists()      # the prompt's bytes stay
    assert report["blobs"] <= 1                 # only the normalised copy may go
