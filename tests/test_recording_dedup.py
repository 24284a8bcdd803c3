"""Audio is stored once (a blob per sha256), but an upload never tells a collector that
the same recording exists elsewhere: another collector's upload of the same bytes is a
fresh recording for them in every way they can see, sharing the stored audio; only the
uploader's own repeat is recognised as a duplicate. The schema change keeps every
existing recording and id."""

from __future__ import annotations

import io
import sqlite3

import pytest

from tests.authz_world import tone
from tests.test_surveys_api import SURVEY, start

BYTES = tone(3, seconds=1.5)


def upload(client, data: bytes = BYTES):
    return client.post("/api/recordings", files={"file": ("answer.wav", data, "audio/wav")},
                       data={"language": "en"})


def shown(body: dict) -> dict:
    """What a collector can tell from an upload's answer, leaving out what differs between
    any two uploads (ids, times)."""
    return {k: v for k, v in body.items() if k not in ("id", "created_at", "uploaded_by")}


def test_another_collectors_same_bytes_are_a_fresh_upload_for_them(api, live_server):
    store = live_server.app.state.store
    first = upload(api["collector"])
    assert first.status_code == 201, first.text
    fresh_elsewhere = upload(api["collector2"], tone(4, seconds=1.5))
    assert fresh_elsewhere.status_code == 201
    second = upload(api["collector2"])
    assert second.status_code == 201, second.text
    body = second.json()
    assert body["duplicate"] is False and body["id"] != first.json()["id"]
    # The answer looks like any fresh upload of theirs, key for key.
    assert set(body) == set(fresh_elsewhere.json())
    assert shown(body) == shown(first.json())
    assert body["status"] == "uploaded" and body["transcript_versions"] == 0
    # Each sees only their own.
    assert api["collector2"].get(f"/api/recordings/{first.json()['id']}").status_code == 404
    assert api["collector2"].get(f"/api/recordings/{body['id']}").status_code == 200
    # The audio is stored once.
    sha = body["original_sha256"]
    assert store.one("SELECT count(*) FROM blobs WHERE sha256 = ?", (sha,))[0] == 1
    assert store.one("SELECT count(*) FROM recordings WHERE original_sha256 = ?", (sha,))[0] == 2
    assert store.blobs.path(sha).exists()


def test_the_uploaders_own_repeat_is_recognised(api):
    first = upload(api["collector"]).json()
    again = upload(api["collector"])
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["id"] == first["id"]
    # Staff, who see every recording, are told of the one already here.
    staff = upload(api["reviewer"])
    assert staff.status_code == 200 and staff.json()["id"] == first["id"]


def test_through_the_field_page_the_same_bytes_are_a_new_answer(api):
    comm = api["communicator"]
    survey = comm.post("/api/surveys", json=SURVEY).json()
    comm.post(f"/api/surveys/{survey['id']}/languages/en", json={})
    story = survey["questions"][1]["id"]
    statuses = []
    for role in ("collector", "collector2"):
        session = start(api, role, survey)
        api[role].post(f"/api/sessions/{session['id']}/consent", data={"method": "tick"})
        r = api[role].post(f"/collect/api/sessions/{session['id']}/answers",
                           data={"question_id": story},
                           files={"audio": ("a.wav", BYTES, "audio/wav")},
                           headers={"Idempotency-Key": f"voice-{role}"})
        statuses.append((r.status_code, r.json().get("duplicate")))
    assert statuses == [(201, False), (201, False)]


def test_withdrawing_one_collectors_respondent_keeps_the_others_audio(api, live_server):
    store = live_server.app.state.store
    comm = api["communicator"]
    survey = comm.post("/api/surveys", json=SURVEY).json()
    comm.post(f"/api/surveys/{survey['id']}/languages/en", json={})
    story = survey["questions"][1]["id"]
    sessions, recordings = {}, {}
    for role in ("collector", "collector2"):
        session = start(api, role, survey)
        api[role].post(f"/api/sessions/{session['id']}/consent", data={"method": "tick"})
        r = api[role].post(f"/api/sessions/{session['id']}/answers",
                           data={"question_id": story},
                           files={"file": ("a.wav", BYTES, "audio/wav")})
        assert r.status_code == 201, r.text
        sessions[role], recordings[role] = session["id"], r.json()["recording_id"]
    assert recordings["collector"] != recordings["collector2"]
    r = api["collector"].post(f"/api/sessions/{sessions['collector']}/withdraw")
    assert r.status_code == 200 and r.json()["deleted"]["recordings"] == 1
    audio = api["reviewer"].get(f"/api/recordings/{recordings['collector2']}/audio")
    assert audio.status_code == 200 and audio.content == BYTES
    assert store.one("SELECT count(*) FROM recordings")[0] == 1


def test_the_migration_keeps_recordings_ids_and_the_sequence(tmp_path, monkeypatch):
    """A database made before the change: its recordings, ids and transcripts stay, and
    an id handed out before (deleted since, named in the audit log) is never given again."""
    from cohear import store as store_module
    from cohear.auth import create_user
    from speech import service as speech
    from tests.conftest import make_settings

    every = store_module.discover_migrations()
    before = [m for m in every if m.key != "surveys/0005"]
    assert len(before) == len(every) - 1
    monkeypatch.setattr(store_module, "discover_migrations", lambda: before)
    old = store_module.Store(make_settings(tmp_path / "data"))
    old.migrate()
    collector, _ = create_user(old, "c", "collector")
    kept = speech.ingest(old, io.BytesIO(BYTES), filename="a.wav", content_type="audio/wav",
                         uploaded_by=collector)
    gone = speech.ingest(old, io.BytesIO(tone(9)), filename="b.wav", content_type="audio/wav",
                         uploaded_by=collector)
    with old.transaction() as conn:
        speech.delete_recordings(conn, old, [gone.id])
    with pytest.raises(sqlite3.IntegrityError):  # the old schema: one recording per bytes
        with old.transaction() as conn:
            conn.execute("INSERT INTO recordings SELECT NULL, uploaded_by, filename, "
                         "original_sha256, normalised_sha256, media_type, format, codec, "
                         "size_bytes, duration_seconds, sample_rate, channels, peak_dbfs, "
                         "speech_seconds, speech_ratio, language_hint, created_at "
                         "FROM recordings WHERE id = ?", (kept.id,))
    old.close()

    monkeypatch.setattr(store_module, "discover_migrations", lambda: every)
    new = store_module.Store(make_settings(tmp_path / "data"))
    assert new.migrate() == ["surveys/0005_recordings_per_uploader"]
    assert new.one("SELECT original_sha256 FROM recordings WHERE id = ?",
                   (kept.id,))[0] == kept.original_sha256
    assert new.all("PRAGMA foreign_key_check") == []
    other, _ = create_user(new, "c2", "collector")
    again = speech.ingest(new, io.BytesIO(BYTES), filename="a.wav", content_type="audio/wav",
                          uploaded_by=other)
    assert not again.duplicate and again.id > gone.id > kept.id
    new.close()
