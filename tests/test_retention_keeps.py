"""Audio retention keeps what is still needed (surveys/retention.py, README "Co-production
surveys"): audio shared with an answer not yet past the period, audio that is a verbal
consent's recording or a question's prompt, and unverified answers' audio; retention set to
0 days is off, and the period counts from the verification, to the day. What is deleted is
reported exactly (recordings, blobs, bytes)."""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest

from cohear import audit
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


def voice(store, people, survey, audio: bytes, *, verify: bool = True, consent_audio: bytes | None = None,
          collector: str = "collector"):
    collector, reviewer = people[collector][0], people["reviewer"][0]
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
    assert report["cutoff"] == at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")   # what the command says
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
    normalised = store.one("SELECT normalised_sha256 FROM recordings WHERE id = ?",
                           (answer["recording_id"],))[0]
    assert normalised != rec                    # the 16 kHz copy is other bytes
    assert store.blobs.path(rec).exists()      # the prompt's bytes stay
    # The normalised copy is nobody's prompt: it goes, as any answer's audio past the period.
    assert report["recordings"] == [answer["recording_id"]] and report["blobs"] == 1
    assert not store.blobs.path(normalised).exists()


def test_a_dry_run_deletes_nothing_and_records_nothing(store, people, survey):
    """`cohear surveys retention --dry-run` only says what would go (README, Settings): no
    file, no purge mark and no audit entry; the real run then deletes and audits it once."""
    (audio,) = variants(1)
    answer = voice(store, people, survey, audio)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    kept = files(store, answer["recording_id"])
    sizes = sum(f.stat().st_size for f in kept)
    preview = apply_retention(store, days=30, now=later, dry_run=True)
    assert (preview["recordings"], preview["blobs"], preview["bytes"], preview["dry_run"]) == (
        [answer["recording_id"]], 2, sizes, True)
    assert all(f.exists() for f in kept)
    assert store.one("SELECT count(*) FROM blobs WHERE purged_at IS NOT NULL")[0] == 0
    def purges() -> list[str]:
        return [e["action"] for e in audit.entries(store.conn, entity="recording",
                                                   entity_id=answer["recording_id"])
                if e["action"] == "recording.audio_purged"]
    assert purges() == []
    report = apply_retention(store, days=30, now=later)
    assert (report["recordings"], report["blobs"], report["dry_run"]) == ([answer["recording_id"]], 2, False)
    assert not any(f.exists() for f in kept)
    assert purges() == ["recording.audio_purged"]


def test_retention_off_reports_that_nothing_was_deleted(store, people, survey):
    """0 days keeps audio: the report (the command's words and the hourly job's result)
    says it is off and that nothing was deleted."""
    (audio,) = variants(1)
    voice(store, people, survey, audio)
    report = apply_retention(store, days=0, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=10_000))
    assert report == {"days": 0, "recordings": [], "blobs": 0, "bytes": 0,
                      "note": "audio retention is off (audio_retention_days = 0)"}
    # The hourly job gives no days: the setting's, 0 by default, is off.
    assert store.settings.audio_retention_days == 0 and apply_retention(store) == report


def test_the_period_is_counted_in_utc_whatever_the_machines_time_zone(store, people, survey, monkeypatch):
    """Times are stored in UTC; "now" must be too, or a server east of Greenwich would
    delete audio hours before its period ended."""
    (audio,) = variants(1)
    answer = voice(store, people, survey, audio)
    # Verified 1 day less 2 hours ago: not yet due with a 1-day period.
    stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1, hours=-2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with store.transaction() as conn:
        conn.execute("UPDATE answers SET verified_at = ? WHERE id = ?", (stamp, answer["id"]))
    monkeypatch.setenv("TZ", "Asia/Kolkata")   # UTC+5:30, no summer time
    time.tzset()
    try:
        assert apply_retention(store, days=1)["recordings"] == []
        assert all(f.exists() for f in files(store, answer["recording_id"]))
        # Three hours later (by the stamp) it is a day old: one day's retention takes it.
        stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with store.transaction() as conn:
            conn.execute("UPDATE answers SET verified_at = ? WHERE id = ?", (stamp, answer["id"]))
        assert apply_retention(store, days=1)["recordings"] == [answer["recording_id"]]
    finally:
        monkeypatch.undo()
        time.tzset()


def test_audio_a_recording_outside_the_surveys_holds_is_kept(store, people, survey):
    """The same bytes uploaded as a recording of their own (the speech API, no answer)
    are still needed: an answer past its period does not take them."""
    from speech import service as speech
    (audio,) = variants(1)
    answer = voice(store, people, survey, audio, collector="collector2")
    alone = speech.ingest(store, io.BytesIO(audio), filename="a.wav", content_type="audio/wav",
                          uploaded_by=people["collector"][0])
    assert alone.id != answer["recording_id"] and alone.original_sha256 == files(
        store, answer["recording_id"])[0].name
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    assert apply_retention(store, days=30, now=later)["recordings"] == []
    assert all(f.exists() for f in files(store, alone.id))


def test_audio_two_collectors_sent_goes_when_both_answers_are_past_the_period(store, people, survey):
    """Two recordings of the same bytes (two collectors sent them) share the files: they
    go once both answers are past the period, and each recording is reported."""
    (audio,) = variants(1)
    first = voice(store, people, survey, audio)
    second = voice(store, people, survey, audio, collector="collector2")
    assert first["recording_id"] != second["recording_id"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    report = apply_retention(store, days=30, now=later)
    assert sorted(report["recordings"]) == sorted([first["recording_id"], second["recording_id"]])
    assert report["blobs"] == 2
    assert not any(f.exists() for f in files(store, first["recording_id"]))
    for answer in (first, second):   # each recording's history says its audio went
        assert [e["action"] for e in audit.entries(store.conn, entity="recording",
                                                   entity_id=answer["recording_id"])
                if e["action"] == "recording.audio_purged"] == ["recording.audio_purged"]


def test_audio_kept_for_another_answer_goes_once_that_answer_is_withdrawn(store, people, survey):
    """A file kept because another answer still needed it goes at a later run once that
    answer has gone (its respondent withdrew), though the rest of its recording's audio
    went before."""
    (audio,) = variants(1, offset=60)
    first = voice(store, people, survey, audio)
    original, copy = files(store, first["recording_id"])
    # Someone sent the 16 kHz copy itself: that recording's files are only the copy.
    second = voice(store, people, survey, copy.read_bytes(), verify=False, collector="collector2")
    assert files(store, second["recording_id"]) == [copy, copy]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    assert apply_retention(store, days=30, now=later)["blobs"] == 1
    assert not original.exists() and copy.exists()
    respondent = store.one("SELECT respondent_id FROM answers WHERE id = ?", (second["id"],))[0]
    service.withdraw_consent(store, people["collector2"][0], respondent)
    assert copy.exists()          # the first recording still holds it
    report = apply_retention(store, days=30, now=later)
    assert report["blobs"] == 1 and not copy.exists()
