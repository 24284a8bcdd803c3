"""The `speech.transcribe` job is durable: a `cohear worker` killed with SIGKILL in the
middle of a transcription leaves the job to a new worker, which writes exactly one
machine transcript; a cancelled transcription writes none."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cohear.jobs import JobQueue
from speech import service
from speech.wer import word_error_rate
from tests.conftest import REPO
from tests.test_speech_ingest import CLINIC, FLU, FLU_TEXT, pcm16, wav_bytes

pytestmark = pytest.mark.slow


def long_answer(repeats: int = 6) -> bytes:
    """About a minute of speech: the two shipped sentences again and again, with pauses."""
    gap = np.zeros(16_000, dtype=np.int16)
    parts = []
    for _ in range(repeats):
        parts += [pcm16(FLU), gap, pcm16(CLINIC), gap]
    return wav_bytes(np.concatenate(parts))


def wait_for(queue: JobQueue, job_id: int, states: set[str], timeout: float = 180) -> dict:
    deadline = time.time() + timeout
    while True:
        job = queue.get(job_id)
        if job["status"] in states:
            return job
        assert time.time() < deadline, f"job {job_id} is still {job['status']}"
        time.sleep(0.1)


def start_worker(settings) -> subprocess.Popen:
    env = dict(os.environ, COHEAR_DATA_DIR=str(settings.data_dir),
               COHEAR_JOB_LEASE_SECONDS="1", PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "cohear", "worker"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_worker_killed_mid_transcription_is_replaced_and_the_transcript_lands_once(
        store, people, whisper_model):
    collector = people["collector"][0]
    rec = service.ingest(store, io.BytesIO(long_answer()), filename="long.wav",
                         content_type="audio/wav", uploaded_by=collector, language_hint="en")
    assert rec.duration_seconds > 50
    queue = JobQueue(store)
    job_id = service.queue_transcription(store, rec.id, collector, jobs=queue)

    first = start_worker(store.settings)
    try:
        deadline = time.time() + 120
        # Progress is first reported just before Whisper starts on the audio.
        while queue.get(job_id)["progress"] <= 0:
            assert time.time() < deadline, "the first worker never started transcribing"
            assert first.poll() is None, first.stderr.read().decode()
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    assert queue.get(job_id)["status"] == "running"  # it died holding the job
    assert store.one("SELECT count(*) FROM transcripts")[0] == 0

    second = start_worker(store.settings)
    try:
        job = wait_for(queue, job_id, {"done", "failed"})
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait()
    assert job["status"] == "done", job
    assert job["attempts"] == 2
    runs = store.all("SELECT attempt, outcome FROM job_runs WHERE job_id = ? ORDER BY attempt",
                     (job_id,))
    assert [(r["attempt"], r["outcome"]) for r in runs] == [(1, "lost"), (2, "done")]
    machine = store.all("SELECT * FROM transcripts WHERE recording_id = ? AND source = 'machine'",
                        (rec.id,))
    assert len(machine) == 1 and machine[0]["job_id"] == job_id
    doc = service.transcript(store, rec.id, collector)
    assert doc["segments"][-1]["end"] > 50
    # The same two sentences said six times look like one of Whisper's loops; whether
    # kept or rejected, every segment is there to see, with its words.
    assert all(s["text"] for s in doc["segments"])
    assert word_error_rate(FLU_TEXT, doc["segments"][0]["text"][:len(FLU_TEXT) + 5]) <= 0.35


def test_a_cancelled_transcription_writes_no_transcript(store, people, whisper_model):
    collector = people["collector"][0]
    rec = service.ingest(store, io.BytesIO(long_answer(3)), filename="long.wav",
                         content_type="audio/wav", uploaded_by=collector)
    queue = JobQueue(store)
    job_id = service.queue_transcription(store, rec.id, collector, jobs=queue)
    queue.start_worker(1)
    try:
        deadline = time.time() + 120
        while queue.get(job_id)["progress"] <= 0:
            assert time.time() < deadline
            time.sleep(0.05)
        queue.cancel(job_id)
        job = wait_for(queue, job_id, {"cancelled", "done", "failed"})
    finally:
        queue.stop_worker()
    assert job["status"] == "cancelled"
    assert store.one("SELECT count(*) FROM transcripts")[0] == 0
    assert service.get_recording(store, rec.id, collector).status == "cancelled"


def test_a_recording_is_not_queued_twice_while_its_job_waits(store, people):
    collector = people["collector"][0]
    rec = service.ingest(store, io.BytesIO(FLU.read_bytes()), filename="a.wav",
                         content_type="audio/wav", uploaded_by=collector)
    queue = JobQueue(store)
    first = service.queue_transcription(store, rec.id, collector, jobs=queue)
    assert service.queue_transcription(store, rec.id, collector, jobs=queue) == first
    assert service.get_recording(store, rec.id, collector).status == "queued"
