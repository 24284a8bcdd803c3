"""The jobs table is the ledger (README, "How the pieces fit"): a worker claims a job with a
lease it renews, a job whose worker stops renewing is retried up to its attempts, cancelling
stops it, every attempt is recorded with its outcome, and a job completes at most once.
Each rule is checked here on the rows themselves, one step at a time, with no worker
thread racing the test."""

from __future__ import annotations

import time

import pytest

from cohear.errors import Conflict, NotFound
from cohear.jobs import DEFAULT_QUEUE, JobCancelled, JobQueue, LeaseLost, handler, load_handlers, route
from cohear.store import Store
from tests.conftest import make_settings


@pytest.fixture
def queue(tmp_path):
    settings = make_settings(tmp_path / "data", job_modules="tests.jobplugins", job_lease_seconds=1.0)
    store = Store(settings)
    store.migrate()
    load_handlers(settings)
    yield JobQueue(store)
    store.close()


@handler("test.ledger_fails")
def _always_fails(ctx) -> dict:
    raise RuntimeError("this job always fails")


@handler("test.ledger_routed")
def _routed(ctx) -> dict:
    return {}


# As transcription jobs are: each goes to the queue of the model its payload asks for.
route("test.ledger_routed", lambda payload: f"test.model.{payload['model']}", lambda store: [])


def row(queue, job_id: int) -> dict:
    return dict(queue.store.one("SELECT * FROM jobs WHERE id = ?", (job_id,)))


def runs(queue, job_id: int) -> list[tuple]:
    return [tuple(r) for r in queue.store.all(
        "SELECT attempt, owner, outcome, ended_at IS NOT NULL FROM job_runs WHERE job_id = ? "
        "ORDER BY id", (job_id,))]


def test_a_claim_takes_only_a_queued_job_with_a_lease_and_records_the_attempt(queue):
    from cohear.auth import create_user
    starter, _ = create_user(queue.store, "starter", "collector")
    job_id = queue.enqueue("test.slow_note", {"n": "ü"}, actor=starter)
    before = time.time()
    ctx = queue.claim(job_id, "w1")
    r = row(queue, job_id)
    assert (r["status"], r["owner"], r["attempts"]) == ("running", "w1", 1)
    assert ctx.attempt == 1 and ctx.owner == "w1" and ctx.kind == "test.slow_note"
    # The handler knows who started the job (own-only reads and exports act for them).
    assert ctx.created_by == starter.id and ctx.payload == {"n": "ü"}
    # The lease runs out job_lease_seconds (1 s here) after the claim, not before it.
    assert before + 1.0 <= r["lease_expires_at"] <= time.time() + 1.0
    assert r["started_at"] is not None
    assert runs(queue, job_id) == [(1, "w1", None, 0)]
    assert queue.claim(job_id, "w2") is None  # running: nobody else takes it
    assert row(queue, job_id)["owner"] == "w1"


def test_completion_lands_once_with_its_result_and_closes_the_attempt(queue):
    job_id = queue.enqueue("test.slow_note", {})
    ctx = queue.claim(job_id, "w1")
    with queue.store.transaction() as conn:
        ctx.complete(conn, {"answer": 42})
    r = row(queue, job_id)
    assert (r["status"], r["progress"], r["completions"], r["owner"], r["lease_expires_at"]) == (
        "done", 1, 1, None, None)
    assert queue.get(job_id)["result"] == {"answer": 42} and r["finished_at"] is not None
    assert runs(queue, job_id) == [(1, "w1", "done", 1)]
    with pytest.raises(LeaseLost), queue.store.transaction() as conn:
        ctx.complete(conn, {"answer": 43})
    assert row(queue, job_id)["completions"] == 1 and queue.get(job_id)["result"] == {"answer": 42}
    assert queue.claim(job_id, "w2") is None


def test_a_failed_attempt_goes_back_to_the_queue_without_owner_and_is_recorded(queue):
    job_id = queue.enqueue("test.flaky", {})
    assert queue.run_job(job_id, "w1") == "retry"
    r = row(queue, job_id)
    assert (r["status"], r["owner"], r["lease_expires_at"], r["finished_at"]) == ("queued", None, None, None)
    assert r["error"] and "reference" in r["error"]
    assert runs(queue, job_id) == [(1, "w1", "failed", 1)]
    assert queue.run_job(job_id, "w2") == "done"
    assert runs(queue, job_id) == [(1, "w1", "failed", 1), (2, "w2", "done", 1)]


@pytest.mark.parametrize("attempts", [1, 2, 4])
def test_a_job_that_always_fails_is_tried_exactly_its_attempts_then_fails(queue, attempts):
    job_id = queue.enqueue("test.ledger_fails", {}, max_attempts=attempts)
    outcomes = [queue.run_job(job_id, f"w{n}") for n in range(attempts + 1)]
    assert outcomes == ["retry"] * (attempts - 1) + ["failed", None]
    r = row(queue, job_id)
    assert (r["status"], r["attempts"], r["owner"]) == ("failed", attempts, None)
    assert r["finished_at"] is not None
    assert [run[2] for run in runs(queue, job_id)] == ["failed"] * attempts


def test_cancelling_a_queued_job_ends_it_at_once(queue):
    job_id = queue.enqueue("test.slow_note", {})
    job = queue.cancel(job_id)
    r = row(queue, job_id)
    assert job["status"] == "cancelled" and r["cancel_requested"] == 1 and r["finished_at"] is not None
    assert queue.claim(job_id, "w1") is None


def test_cancelling_a_running_job_asks_its_worker_which_ends_it(queue):
    job_id = queue.enqueue("test.slow_note", {})
    ctx = queue.claim(job_id, "w1")
    job = queue.cancel(job_id)
    r = row(queue, job_id)
    assert job["status"] == "running" and r["cancel_requested"] == 1 and r["finished_at"] is None
    with pytest.raises(JobCancelled):
        ctx.progress(0.5)
    queue._end(ctx, "cancelled", "cancelled on request")
    r = row(queue, job_id)
    assert (r["status"], r["owner"], r["error"]) == ("cancelled", None, "cancelled on request")
    assert r["finished_at"] is not None and runs(queue, job_id) == [(1, "w1", "cancelled", 1)]


@pytest.mark.parametrize("end", ["done", "failed", "cancelled"])
def test_an_ended_job_cannot_be_cancelled_and_an_unknown_one_does_not_exist(queue, end):
    job_id = queue.enqueue("test.slow_note", {})
    with queue.store.transaction() as conn:
        conn.execute("UPDATE jobs SET status = ? WHERE id = ?", (end, job_id))
    with pytest.raises(Conflict) as refused:
        queue.cancel(job_id)
    assert refused.value.status == 409 and row(queue, job_id)["cancel_requested"] == 0
    with pytest.raises(NotFound):
        queue.cancel(job_id + 100)


def test_a_worker_that_lost_its_job_cannot_end_it_either(queue):
    """Only the lease holder ends an attempt: after a sweep took the job back and another
    worker claimed it, the old worker's failure or cancellation changes nothing."""
    job_id = queue.enqueue("test.slow_note", {})
    old = queue.claim(job_id, "old")
    with queue.store.transaction() as conn:
        conn.execute("UPDATE jobs SET lease_expires_at = 0 WHERE id = ?", (job_id,))
    queue.sweep()
    queue.claim(job_id, "new")
    for status in ("queued", "failed", "cancelled"):
        queue._end(old, status, "late")
    r = row(queue, job_id)
    assert (r["status"], r["owner"], r["error"]) == ("running", "new", "worker stopped mid-job; retried")
    assert runs(queue, job_id) == [(1, "old", "lost", 1), (2, "new", None, 0)]
    with pytest.raises(LeaseLost):
        old.progress(0.5)


def test_a_sweep_takes_back_only_jobs_whose_lease_ran_out(queue):
    lost = queue.enqueue("test.slow_note", {"steps": 1, "step_seconds": 0}, max_attempts=2)
    last = queue.enqueue("test.slow_note", {}, max_attempts=1)
    alive = queue.enqueue("test.slow_note", {})
    waiting = queue.enqueue("test.slow_note", {})
    for job_id in (lost, last, alive):
        queue.claim(job_id, f"w{job_id}")
    queue.huey.flush()  # the messages enqueue sent: a sweep must send its own
    with queue.store.transaction() as conn:
        conn.execute("UPDATE jobs SET lease_expires_at = ? WHERE id IN (?, ?)", (time.time() - 1, lost, last))
        conn.execute("UPDATE jobs SET lease_expires_at = ? WHERE id = ?", (time.time() + 60, alive))
    swept = queue.sweep()
    assert swept == {"requeued": [lost], "failed": [last], "queued": 2}
    # A message for each queued job, so a worker picks them up without waiting for another sweep.
    assert sorted(task.args[0] for task in queue.huey.pending()) == [lost, waiting]
    r = row(queue, lost)
    assert (r["status"], r["owner"], r["lease_expires_at"], r["finished_at"]) == ("queued", None, None, None)
    r = row(queue, last)
    assert (r["status"], r["owner"], r["lease_expires_at"]) == ("failed", None, None)
    assert r["finished_at"] is not None and "1 times" in r["error"]
    assert row(queue, alive)["status"] == "running" and row(queue, alive)["owner"] == f"w{alive}"
    assert row(queue, waiting)["status"] == "queued"
    assert runs(queue, lost) == [(1, f"w{lost}", "lost", 1)]
    assert runs(queue, alive) == [(1, f"w{alive}", None, 0)]
    # The job taken back runs again as a new attempt, and completes.
    assert queue.run_job(lost, "w9") == "done" and row(queue, lost)["attempts"] == 2
    assert runs(queue, lost)[-1] == (2, "w9", "done", 1)


def test_a_sweep_sends_a_lost_message_to_the_queue_of_the_model_the_job_asks_for(queue):
    """README: a job goes to its model's queue, and only a worker that has the model takes
    it; a message the sweep sends again must go there too, not to the default queue."""
    small = queue.enqueue("test.ledger_routed", {"model": "small"})
    tiny = queue.enqueue("test.ledger_routed", {"model": "tiny"})
    plain = queue.enqueue("test.slow_note", {})
    for name in ("test.model.small", "test.model.tiny", DEFAULT_QUEUE):
        queue.queue(name).flush()  # the messages were lost
    assert queue.sweep() == {"requeued": [], "failed": [], "queued": 3}
    assert [task.args[0] for task in queue.queue("test.model.small").pending()] == [small]
    assert [task.args[0] for task in queue.queue("test.model.tiny").pending()] == [tiny]
    assert [task.args[0] for task in queue.huey.pending()] == [plain]


class Beats:
    """Stands in for the worker's stop event: records how long the heartbeat waits between
    renewals and lets it beat `n` times, at once, before it is told to stop."""

    def __init__(self, n: int):
        self.n, self.waits = n, []

    def wait(self, timeout=None) -> bool:
        self.waits.append(timeout)
        return len(self.waits) > self.n


def test_the_heartbeat_renews_the_lease_of_the_holder_before_it_runs_out(queue):
    job_id = queue.enqueue("test.slow_note", {})
    ctx = queue.claim(job_id, "w1")
    with queue.store.transaction() as conn:
        conn.execute("UPDATE jobs SET lease_expires_at = 0 WHERE id = ?", (job_id,))
    lease = queue.settings.job_lease_seconds
    before = time.time()
    beats = Beats(3)
    queue._heartbeat(ctx, beats)
    # Renewed: a full lease from the renewal, and it waited less than a lease between beats.
    assert row(queue, job_id)["lease_expires_at"] >= before + lease
    assert len(beats.waits) == 4 and all(0 < w < lease for w in beats.waits), beats.waits
    # A heartbeat for a job this worker no longer holds renews nothing.
    with queue.store.transaction() as conn:
        conn.execute("UPDATE jobs SET owner = 'w2', lease_expires_at = 0 WHERE id = ?", (job_id,))
    queue._heartbeat(ctx, Beats(3))
    assert row(queue, job_id)["lease_expires_at"] == 0


def test_a_remote_lease_is_renewed_only_for_its_holder_and_carries_a_cancellation(queue):
    """README, "A job on a worker": a worker renews its lease as it goes (which reports
    progress and carries a cancellation); a job not leased to the worker asking is not
    its to renew."""
    job_id = queue.enqueue("test.slow_note", {})
    queue.claim(job_id, "w1")
    with queue.store.transaction() as conn:
        conn.execute("UPDATE jobs SET lease_expires_at = 0 WHERE id = ?", (job_id,))
    lease = queue.settings.job_lease_seconds
    before = time.time()
    assert queue.renew(job_id, "w1", 0.25) == {"lease_seconds": lease, "cancel_requested": False}
    r = row(queue, job_id)
    assert before + lease <= r["lease_expires_at"] <= time.time() + lease and r["progress"] == 0.25
    # No progress given keeps the last; progress is a fraction, whatever a worker sends.
    queue.renew(job_id, "w1")
    assert row(queue, job_id)["progress"] == 0.25
    queue.renew(job_id, "w1", 7.0)
    assert row(queue, job_id)["progress"] == 1.0
    queue.renew(job_id, "w1", -3.0)
    assert row(queue, job_id)["progress"] == 0.0
    queue.cancel(job_id)
    assert queue.renew(job_id, "w1") == {"lease_seconds": lease, "cancel_requested": True}
    # Another worker, or the holder once the job is no longer running, renews nothing.
    with queue.store.transaction() as conn:
        conn.execute("UPDATE jobs SET lease_expires_at = 0 WHERE id = ?", (job_id,))
    assert queue.renew(job_id, "w2", 0.5) is None
    assert queue.renew(job_id + 100, "w1") is None
    with queue.store.transaction() as conn:
        conn.execute("UPDATE jobs SET status = 'queued' WHERE id = ?", (job_id,))
    assert queue.renew(job_id, "w1", 0.5) is None
    r = row(queue, job_id)
    assert (r["lease_expires_at"], r["progress"]) == (0, 0.0)


def test_a_remote_workers_job_is_its_own_only_while_it_holds_the_lease(queue):
    """The job a worker names is the one its handler would see, and only while that worker
    holds the running job's lease (README: another's job, or its own after the lease
    ended, is not found)."""
    from cohear.auth import create_user
    starter, _ = create_user(queue.store, "starter", "collector")
    job_id = queue.enqueue("test.slow_note", {"n": "ü"}, actor=starter)
    claimed = queue.claim(job_id, "w1")
    ctx = queue.context(job_id, "w1")
    assert (ctx.store, ctx.job_id, ctx.kind, ctx.payload, ctx.attempt, ctx.owner, ctx.created_by) == (
        queue.store, job_id, "test.slow_note", {"n": "ü"}, 1, "w1", starter.id)
    assert (claimed.attempt, claimed.created_by) == (ctx.attempt, ctx.created_by)
    assert queue.context(job_id, "w2") is None
    assert queue.context(job_id + 100, "w1") is None
    with queue.store.transaction() as conn:
        conn.execute("UPDATE jobs SET status = 'queued' WHERE id = ?", (job_id,))
    assert queue.context(job_id, "w1") is None


@pytest.mark.parametrize("permanent", [False, True])
def test_a_failed_attempt_is_retried_while_attempts_are_left_unless_it_is_permanent(queue, permanent):
    """README: a worker's failure is an ordinary failed attempt, retried while attempts
    are left; only the server decides that a job can never succeed (permanent)."""
    job_id = queue.enqueue("test.slow_note", {}, max_attempts=2)
    ctx = queue.claim(job_id, "w1")
    queue.huey.flush()
    outcome = queue.fail(ctx, "failed on worker gpu-box: internal", permanent=permanent)
    r = row(queue, job_id)
    if permanent:
        assert outcome == "failed" and (r["status"], r["owner"]) == ("failed", None)
        assert r["finished_at"] is not None and queue.claim(job_id, "w2") is None
        assert list(queue.huey.pending()) == []
        return
    assert outcome == "retry" and (r["status"], r["owner"], r["finished_at"]) == ("queued", None, None)
    assert r["error"] == "failed on worker gpu-box: internal"
    # Queued again with a message at once, not left for the next sweep.
    assert [task.args[0] for task in queue.huey.pending()] == [job_id]
    assert runs(queue, job_id) == [(1, "w1", "failed", 1)]
    # The second and last attempt's failure ends the job.
    ctx = queue.claim(job_id, "w2")
    assert queue.fail(ctx, "failed again", permanent=False) == "failed"
    r = row(queue, job_id)
    assert (r["status"], r["attempts"], r["owner"]) == ("failed", 2, None) and r["finished_at"] is not None
