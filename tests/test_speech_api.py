"""`/api/recordings` over real HTTP (uvicorn), with the embedded worker transcribing
through the real base model: upload, roles, transcript formats, corrections as
versions with an audit trail, audio for staff, and refusals that store nothing."""

from __future__ import annotations

import time

import pytest

from speech.wer import word_error_rate
from tests.test_speech_ingest import CLINIC, FLU, FLU_TEXT, nothing_stored

pytestmark = pytest.mark.slow


def wait_for_job(client, job_id: int, timeout: float = 180) -> dict:
    deadline = time.time() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        assert time.time() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.2)


def post_audio(client, path, **data):
    with open(path, "rb") as fh:
        return client.post("/api/recordings", files={"file": (path.name, fh, "audio/wav")},
                           data=data)


def test_upload_transcribe_correct_and_read_back(api, store, whisper_model, people):
    collector, reviewer = api["collector"], api["reviewer"]
    r = post_audio(collector, FLU, language="en", transcribe="true")
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["status"] in ("queued", "transcribing") and rec["job"]["id"]
    job = wait_for_job(collector, rec["job"]["id"])
    assert job["status"] == "done", job
    assert job["result"]["language"] == "en" and job["result"]["segments"] >= 1

    got = collector.get(f"/api/recordings/{rec['id']}").json()
    assert got["status"] == "transcribed" and got["transcript_versions"] == 1

    doc = collector.get(f"/api/recordings/{rec['id']}/transcript").json()
    assert doc["version"] == 1 and doc["source"] == "machine"
    assert word_error_rate(FLU_TEXT, doc["text"]) <= 0.35
    assert doc["english"] == {"engine": "source", "text": doc["text"]}
    assert doc["engine"]["model"] == "base" and doc["engine"]["device"] in ("cpu", "cuda")
    seg = doc["segments"][0]
    assert {"start", "end", "text", "confidence", "rejected", "rejected_reason"} <= set(seg)

    txt = collector.get(f"/api/recordings/{rec['id']}/transcript?format=txt")
    assert txt.headers["content-type"].startswith("text/plain")
    assert txt.text.strip() == doc["text"]
    srt = collector.get(f"/api/recordings/{rec['id']}/transcript?format=srt").text
    assert srt.startswith("1\n00:00:00,") and "-->" in srt
    vtt = collector.get(f"/api/recordings/{rec['id']}/transcript?format=vtt")
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT\n\n00:00:")
    assert collector.get(f"/api/recordings/{rec['id']}/transcript?format=doc").status_code == 422

    # Another collector cannot tell the recording exists.
    other = api["collector2"]
    assert other.get(f"/api/recordings/{rec['id']}").status_code == 404
    assert other.get(f"/api/recordings/{rec['id']}/transcript").status_code == 404
    assert other.get("/api/recordings").json() == []

    # A reviewer's correction is a new version; the machine's stays.
    fixed = "I would like to know where my mother can get the flu vaccine, please."
    assert collector.post(f"/api/recordings/{rec['id']}/transcript",
                          json={"text": fixed}).status_code == 403
    r = reviewer.post(f"/api/recordings/{rec['id']}/transcript",
                      json={"text": fixed, "note": "added 'please'", "base_version": 1})
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert (v2["version"], v2["source"], v2["author"], v2["text"]) == (2, "reviewer",
                                                                       "test-reviewer", fixed)
    assert [v["source"] for v in v2["versions"]] == ["machine", "reviewer"]
    v1 = reviewer.get(f"/api/recordings/{rec['id']}/transcript?version=1").json()
    assert v1["text"] == doc["text"]
    stale = reviewer.post(f"/api/recordings/{rec['id']}/transcript",
                          json={"text": "x", "base_version": 1})
    assert stale.status_code == 409
    audit = api["admin"].get(f"/api/audit?entity=recording&entity_id={rec['id']}").json()
    correction = next(a for a in audit if a["action"] == "transcript.correct")
    assert correction["actor_name"] == "test-reviewer"
    assert correction["before"]["text"] == doc["text"] and correction["after"]["text"] == fixed
    assert any(a["action"] == "transcript.machine" for a in audit)

    # Audio is for staff: the original bytes, or the 16 kHz copy.
    assert collector.get(f"/api/recordings/{rec['id']}/audio").status_code == 403
    original = reviewer.get(f"/api/recordings/{rec['id']}/audio")
    assert original.content == FLU.read_bytes()
    copy = reviewer.get(f"/api/recordings/{rec['id']}/audio?version=normalised")
    assert copy.headers["content-type"] == "audio/wav" and copy.content[:4] == b"RIFF"


def test_segment_corrections_keep_timings(api, store, whisper_model):
    r = post_audio(api["collector"], CLINIC, transcribe="true")
    rec = r.json()
    assert wait_for_job(api["collector"], rec["job"]["id"])["status"] == "done"
    doc = api["reviewer"].get(f"/api/recordings/{rec['id']}/transcript").json()
    edit = {"segments": [{"index": 0, "text": "The clinic is too far away, and the bus does "
                                              "not run on Sundays."}]}
    v2 = api["reviewer"].post(f"/api/recordings/{rec['id']}/transcript", json=edit).json()
    assert v2["segments"][0]["start"] == doc["segments"][0]["start"]
    assert v2["segments"][0]["end"] == doc["segments"][0]["end"]
    assert v2["text"].endswith("run on Sundays.")
    srt = api["reviewer"].get(f"/api/recordings/{rec['id']}/transcript?format=srt").text
    assert "run on Sundays." in srt
    listed = api["reviewer"].get("/api/recordings").json()
    assert [x["id"] for x in listed] == [rec["id"]] and listed[0]["transcript_versions"] == 2
    # Words that were not said are marked rejected by the reviewer, not deleted.
    v3 = api["reviewer"].post(f"/api/recordings/{rec['id']}/transcript", json={
        "segments": [{"index": 0, "text": "(a bus passing)", "keep": False}]}).json()
    assert v3["version"] == 3 and v3["text"] == ""
    assert v3["segments"][0]["rejected_reason"] == "removed by the reviewer"
    assert api["reviewer"].get(f"/api/recordings/{rec['id']}/transcript?format=txt").text == ""


def test_duplicates_and_refusals_over_http(api, store):
    first = post_audio(api["collector"], FLU)
    assert first.status_code == 201
    again = post_audio(api["collector"], FLU)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["id"] == first.json()["id"]
    assert store.one("SELECT count(*) FROM recordings")[0] == 1

    bad = api["collector"].post("/api/recordings", files={
        "file": ("answer.mp3", b"not audio at all, just words " * 50, "audio/mpeg")})
    assert bad.status_code == 415
    problem = bad.json()
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "not audio" in problem["detail"] and problem["status"] == 415
    assert api["researcher"].get("/api/recordings").status_code == 403
    assert api["anonymous"].get("/api/recordings").status_code == 401
    assert api["researcher"].post("/api/recordings", files={
        "file": ("a.wav", FLU.read_bytes(), "audio/wav")}).status_code == 403


def test_refused_upload_leaves_nothing(api, store):
    r = api["collector"].post("/api/recordings", files={
        "file": ("answer.wav", FLU.read_bytes()[:30_000], "audio/wav")})
    assert r.status_code == 422 and "truncated" in r.json()["detail"]
    nothing_stored(store)
