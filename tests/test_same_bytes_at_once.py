"""The same recording uploaded twice at the same moment (a phone retrying while its first
request is still being handled) by the same collector: one 201 and one 200 with
`duplicate: true`, one recording, one stored copy of the bytes, one transcription job."""

from __future__ import annotations

import hashlib
import threading

import httpx
import pytest

from tests.conftest import LiveServer
from tests.test_crash_safety import variants


def upload_together(url: str, token: str, data: bytes) -> list[httpx.Response]:
    barrier = threading.Barrier(2)
    results: list[httpx.Response] = []
    failures: list[BaseException] = []

    def send(i: int) -> None:
        try:
            with httpx.Client(base_url=url, timeout=120,
                              headers={"Authorization": f"Bearer {token}"}) as c:
                barrier.wait(30)
                results.append(c.post("/api/recordings", data={"transcribe": "true"},
                                      files={"file": (f"answer-{i}.wav", data, "audio/wav")}))
        except BaseException as exc:  # noqa: BLE001 - reported below, not lost in a thread
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    return results


@pytest.mark.parametrize("trial", range(4))
def test_the_same_bytes_at_the_same_moment_are_stored_once(settings, store, people, trial):
    data = variants(4)[trial]
    sha = hashlib.sha256(data).hexdigest()
    # No worker: the transcription job stays queued, so a second job could not hide
    # behind the first one having finished.
    with LiveServer(settings, start_worker=False) as server:
        results = upload_together(server.url, people["collector"][1], data)
    assert sorted(r.status_code for r in results) == [200, 201], [r.text for r in results]
    first, second = sorted(results, key=lambda r: r.status_code, reverse=True)
    assert first.json()["duplicate"] is False and second.json()["duplicate"] is True
    assert first.json()["id"] == second.json()["id"]
    rec = store.one("SELECT * FROM recordings WHERE original_sha256 = ?", (sha,))
    assert store.one("SELECT count(*) FROM recordings")[0] == 1
    assert store.one("SELECT count(*) FROM blobs WHERE sha256 = ?", (sha,))[0] == 1
    assert store.blobs.path(sha).exists() and store.blobs.path(rec["normalised_sha256"]).exists()
    assert sorted(p for _, p in store.blobs.iter_files()) == sorted(
        [store.blobs.path(sha), store.blobs.path(rec["normalised_sha256"])])
    jobs = store.all("SELECT j.id FROM jobs j JOIN recording_jobs rj ON rj.job_id = j.id "
                     "WHERE rj.recording_id = ?", (rec["id"],))
    assert len(jobs) == 1 and store.one("SELECT count(*) FROM jobs")[0] == 1
    assert first.json()["job"]["id"] == second.json()["job"]["id"] == jobs[0]["id"]
    assert list(store.blobs.tmp.iterdir()) == [] if store.blobs.tmp.exists() else True


def test_two_requests_to_transcribe_one_recording_at_once_make_one_job(store, people):
    """What the second upload of the same bytes asks for, at the moment the first does."""
    import io

    from speech import service
    collector = people["collector"][0]
    rec = service.ingest(store, io.BytesIO(variants(5)[4]), filename="a.wav",
                         content_type="audio/wav", uploaded_by=collector)
    for _ in range(5):
        barrier = threading.Barrier(4)
        jobs: list[int] = []

        def ask(barrier: threading.Barrier = barrier, jobs: list[int] = jobs) -> None:
            barrier.wait(30)
            jobs.append(service.queue_transcription(store, rec.id, collector))

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(jobs) == 4 and len(set(jobs)) == 1, jobs
        with store.transaction() as conn:  # let the next round queue a new one
            conn.execute("UPDATE jobs SET status = 'done' WHERE id = ?", (jobs[0],))
    assert store.one("SELECT count(*) FROM jobs")[0] == 5
