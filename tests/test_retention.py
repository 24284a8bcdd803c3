"""Audio retention: audio goes a set number of days after its transcript was verified,
the words stay, and what was deleted is said and audited."""

import datetime as dt
import subprocess
import sys

from cohear import audit
from surveys import service
from surveys.retention import apply_retention
from tests.conftest import DEMO_DATA


def voice_answer(store, people, survey, wav):
    collector = people["collector"][0]
    session = service.start_session(store, collector, survey["id"], "en")
    service.record_consent(store, collector, session["id"], method="tick")
    q = {x["name"]: x["id"] for x in survey["questions"]}
    with open(wav, "rb") as fh:
        return service.submit_answer(store, collector, session["id"], q["open"], audio=fh,
                                     filename=wav.name, content_type="audio/wav")


def test_audio_is_deleted_after_the_period_and_the_words_stay(store, people):
    communicator, reviewer = people["communicator"][0], people["reviewer"][0]
    survey = service.create_survey(store, communicator, title="Retention", purpose="test",
                                   base_language="en", questions=[
                                       {"kind": "consent", "name": "consent", "text": "Agree?"},
                                       {"kind": "open", "name": "open", "text": "Tell us.",
                                        "options": {"answer": "either"}}])
    service.open_language(store, communicator, survey["id"], "en")
    old = voice_answer(store, people, survey, DEMO_DATA / "flu-vaccine-en.wav")
    young = voice_answer(store, people, survey, DEMO_DATA / "clinic-bus-en-8k-mulaw.wav")
    service.add_text_version(store, reviewer, old["id"], "where can my mother get the vaccine")
    service.verify_answer(store, reviewer, old["id"])
    rec = store.one("SELECT * FROM recordings WHERE id = ?", (old["recording_id"],))
    files = [store.blobs.path(rec["original_sha256"]), store.blobs.path(rec["normalised_sha256"])]
    assert all(f.exists() for f in files)

    assert apply_retention(store, days=0)["recordings"] == []          # off by default
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    assert apply_retention(store, days=30, now=soon)["recordings"] == []  # not yet due
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    preview = apply_retention(store, days=30, now=later, dry_run=True)
    assert preview["recordings"] == [old["recording_id"]] and all(f.exists() for f in files)

    report = apply_retention(store, days=30, now=later)
    assert report["recordings"] == [old["recording_id"]] and report["blobs"] == 2
    assert not any(f.exists() for f in files)
    young_rec = store.one("SELECT * FROM recordings WHERE id = ?", (young["recording_id"],))
    assert store.blobs.path(young_rec["original_sha256"]).exists()   # not verified: kept
    words = service.get_answer(store, reviewer, old["id"])
    assert "vaccine" in str(words)
    entry = audit.entries(store.conn, entity="recording", entity_id=old["recording_id"])[0]
    assert entry["action"] == "recording.audio_purged" and "30 days" in entry["detail"]
    assert store.check()["ok"]
    assert apply_retention(store, days=30, now=later)["recordings"] == []   # idempotent


def test_retention_command_says_when_it_is_off(settings, store):
    r = subprocess.run([sys.executable, "-m", "cohear", "surveys", "retention"],
                       env={"COHEAR_DATA_DIR": str(settings.data_dir), "PATH": ""},
                       capture_output=True, text=True)
    assert r.returncode == 0 and "retention is off" in r.stdout
