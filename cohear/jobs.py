"""Durable background jobs: huey carries the work, the `jobs` table is the ledger.

- `enqueue()` writes a `queued` row (in the caller's transaction when given one)
  and, after commit, puts a message on huey's queue (SQLite file by default,
  Redis when `job_backend = "redis"`).
- A worker takes a message, *claims* the row (queued -> running with a lease it
  keeps renewing), runs the handler, and completes it with a conditional update
  in one transaction, so a job can finish at most once (`completions <= 1`).
- A worker that dies (kill -9, power cut) stops renewing its lease. Every worker
  sweeps for running jobs whose lease ran out and queues them again (and for
  queued rows whose huey message was lost), so no job is lost.

Handlers are plain functions registered with `@handler("kind")`; they receive a
`JobContext` for the store, the payload, progress reports and cancellation.

A kind registered with `route()` goes to a queue of its own per model it asks for
(`cohear.transcribe.base`), so only a worker that has the model takes it: this
server's workers take the queues of the models installed here (unless
`transcribe_locally` is off), workers on other machines those of theirs
(cohear/workers.py, cohear/remote_worker.py).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey import RedisHuey, SqliteHuey

from cohear import logs
from cohear.errors import CohearError, Conflict, NotFound
from cohear.settings import Settings
from cohear.store import Store, utcnow

log = logging.getLogger("cohear.jobs")

Handler = Callable[["JobContext"], dict | None]
QUEUES_EVERY_SECONDS = 60.0   # how often a worker looks again at which queues it serves
HANDLERS: dict[str, Handler] = {}
_BUILTIN_MODULES = ("cohear.maintenance", "speech.jobs", "comms.jobs", "surveys.jobs")


# Housekeeping that the sweeping worker thread runs every so often: name -> (seconds, fn).
PERIODIC: dict[str, tuple[float, Callable[[Store], Any]]] = {}


def periodic(name: str, every_seconds: float) -> Callable:
    """Register `fn(store)` to run about every `every_seconds` in a worker. It must be
    idempotent: several workers may run it."""
    def register(fn: Callable[[Store], Any]) -> Callable[[Store], Any]:
        PERIODIC[name] = (every_seconds, fn)
        return fn
    return register


DEFAULT_QUEUE = "cohear"


@dataclass(frozen=True)
class Route:
    """Where a kind's jobs queue: `queue(payload)` names the queue of the model the job
    asks for; `local(store)` the queues this data directory's own workers take."""

    queue: Callable[[dict], str]
    local: Callable[[Store], list[str]]


ROUTES: dict[str, Route] = {}


def route(kind: str, queue: Callable[[dict], str], local: Callable[[Store], list[str]]) -> None:
    """Send `kind`'s jobs to the queue `queue(payload)` names instead of the default one."""
    ROUTES[kind] = Route(queue, local)


@dataclass(frozen=True)
class RemoteKind:
    """How one job kind runs on a worker elsewhere.

    Server side: `model(payload)` the model the job asks for; `brief(store, payload)` what
    the worker is told (ids and settings, never anyone's words); `input(store, payload)`
    the one file it may fetch (path, media type); `check(result)` the posted result,
    checked and bounded (raise BadInput); `store(ctx, result, worker)` writes it and
    completes the job in one transaction (the same function a local worker ends with).
    Worker side: `compute(job)` turns the fetched input into the result."""

    model: Callable[[dict], str | None]
    brief: Callable[[Store, dict], dict]
    input: Callable[[Store, dict], tuple[Path, str]]
    check: Callable[[Any], dict]
    store: Callable[[JobContext, dict, str], dict]
    compute: Callable[[Any], dict]


REMOTE: dict[str, RemoteKind] = {}


def remote(kind: str, spec: RemoteKind) -> None:
    """Let `kind`'s jobs run on workers on other machines (cohear/workers.py)."""
    REMOTE[kind] = spec


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn
    return register


def load_handlers(settings: Settings) -> None:
    for name in _BUILTIN_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    for name in settings.job_modules:
        importlib.import_module(name)


class JobCancelled(Exception):
    pass


class LeaseLost(Exception):
    """Another worker took the job over (this one was presumed dead)."""


@dataclass
class JobContext:
    store: Store
    job_id: int
    kind: str
    payload: dict
    attempt: int
    owner: str
    created_by: int | None

    def progress(self, fraction: float) -> None:
        """Report progress (0..1); raises JobCancelled when someone cancelled the job."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT status, owner, cancel_requested FROM jobs WHERE id = ?",
                               (self.job_id,)).fetchone()
            if row["owner"] != self.owner or row["status"] != "running":
                raise LeaseLost()
            if row["cancel_requested"]:
                raise JobCancelled()
            conn.execute("UPDATE jobs SET progress = ? WHERE id = ?",
                         (max(0.0, min(1.0, fraction)), self.job_id))

    def complete(self, conn, result: dict | None) -> None:
        """Mark the job done inside `conn`'s transaction. Handlers that write domain rows
        call this in the same transaction, so the rows and the completion land together."""
        cur = conn.execute(
            "UPDATE jobs SET status = 'done', progress = 1, result_json = ?, finished_at = ?, "
            "completions = completions + 1, owner = NULL, lease_expires_at = NULL "
            "WHERE id = ? AND status = 'running' AND owner = ?",
            (json.dumps(result or {}, ensure_ascii=False), utcnow(), self.job_id, self.owner))
        if cur.rowcount != 1:
            raise LeaseLost()
        conn.execute("UPDATE job_runs SET ended_at = ?, outcome = 'done' WHERE job_id = ? "
                     "AND attempt = ? AND owner = ?", (utcnow(), self.job_id, self.attempt,
                                                        self.owner))
        self.completed = True


def make_huey(settings: Settings, name: str = DEFAULT_QUEUE):
    if settings.job_backend == "redis":
        return RedisHuey(name, url=settings.redis_url, results=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    huey = SqliteHuey(name, filename=str(settings.queue_path), results=False)
    for suffix in ("", "-wal", "-shm"):   # job payloads name people's recordings: owner only
        path = settings.queue_path.with_name(settings.queue_path.name + suffix)
        if path.exists():
            os.chmod(path, 0o600)
    return huey


class JobQueue:
    def __init__(self, store: Store):
        self.store = store
        self.settings = store.settings
        self._hueys: dict[str, Any] = {}
        self._tasks: dict[str, Any] = {}
        self._hueys_lock = threading.Lock()
        self.huey = self.queue(DEFAULT_QUEUE)
        self._worker: Worker | None = None

    def queue(self, name: str):
        """The huey queue called `name` (one per routed model; made on first use)."""
        with self._hueys_lock:
            if name not in self._hueys:
                huey = make_huey(self.settings, name)
                self._tasks[name] = huey.task(name="cohear.run_job")(self._run_from_huey)
                self._hueys[name] = huey
            return self._hueys[name]

    def queue_for(self, kind: str, payload: dict) -> str:
        routed = ROUTES.get(kind)
        return routed.queue(payload) if routed else DEFAULT_QUEUE

    def local_queues(self) -> list[str]:
        """The queues this data directory's workers take: the default one, and the
        routed queues of what is installed here. A routing that cannot say what is
        installed (a broken model folder) is logged by category and left out until the
        next look, so the worker still takes every other job."""
        load_handlers(self.settings)
        names = [DEFAULT_QUEUE]
        for kind, routed in ROUTES.items():
            try:
                names += [n for n in routed.local(self.store) if n not in names]
            except Exception as exc:  # noqa: BLE001 - the other queues are still served
                log.error("could not list the %s queues of this machine: %s\n%s", kind,
                          logs.category(exc), logs.frames(exc))
        return names

    # -- producing ---------------------------------------------------------------
    def enqueue(self, kind: str, payload: dict, *, actor: Any = None, conn=None,
                max_attempts: int | None = None) -> int:
        """Queue a job. With `conn`, the row is part of the caller's transaction and the
        huey message is sent by the next sweep or wake-up (call `wake()` after commit)."""
        if kind not in HANDLERS:
            load_handlers(self.settings)
        if kind not in HANDLERS:
            raise NotFound(f"there is no job kind {kind!r}", fix="known kinds: " +
                           ", ".join(sorted(HANDLERS)))
        sql = ("INSERT INTO jobs (kind, payload_json, status, max_attempts, created_by, created_at) "
               "VALUES (?, ?, 'queued', ?, ?, ?)")
        params = (kind, json.dumps(payload, ensure_ascii=False),
                  max_attempts or self.settings.job_max_attempts,
                  getattr(actor, "id", None) or None, utcnow())
        if conn is not None:
            return conn.execute(sql, params).lastrowid
        with self.store.transaction() as c:
            job_id = c.execute(sql, params).lastrowid
        self.wake(job_id)
        return job_id

    def wake(self, job_id: int) -> None:
        """Put a message for the job on its queue (the queue of the model it asks for)."""
        row = self.store.one("SELECT kind, payload_json FROM jobs WHERE id = ?", (job_id,))
        name = self.queue_for(row["kind"], json.loads(row["payload_json"])) if row else DEFAULT_QUEUE
        self.send(name, job_id)

    def send(self, name: str, job_id: int) -> None:
        self.queue(name).enqueue(self._tasks[name].s(job_id))

    # -- reading -----------------------------------------------------------------
    def get(self, job_id: int) -> dict:
        row = self.store.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            raise NotFound(f"job {job_id} does not exist", fix="see `cohear jobs list`")
        return job_dict(row)

    def list(self, *, status: str | None = None, created_by: int | None = None,
             limit: int = 100) -> list[dict]:
        sql, params = "SELECT * FROM jobs WHERE 1=1", []
        if status:
            sql += " AND status = ?"
            params.append(status)
        if created_by is not None:
            sql += " AND created_by = ?"
            params.append(created_by)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [job_dict(r) for r in self.store.all(sql, tuple(params))]

    def cancel(self, job_id: int) -> dict:
        with self.store.transaction() as conn:
            row = conn.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise NotFound(f"job {job_id} does not exist", fix="see `cohear jobs list`")
            if row["status"] in ("done", "failed", "cancelled"):
                raise Conflict(f"job {job_id} has already ended ({row['status']})",
                               fix="nothing to cancel")
            if row["status"] == "queued":
                conn.execute("UPDATE jobs SET status = 'cancelled', cancel_requested = 1, "
                             "finished_at = ? WHERE id = ?", (utcnow(), job_id))
            else:
                conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
        return self.get(job_id)

    # -- running -----------------------------------------------------------------
    def _run_from_huey(self, job_id: int) -> None:
        self.run_job(job_id, owner=worker_owner())

    def claim(self, job_id: int, owner: str) -> JobContext | None:
        lease = time.time() + self.settings.job_lease_seconds
        with self.store.transaction() as conn:
            row = conn.execute(
                "UPDATE jobs SET status = 'running', owner = ?, lease_expires_at = ?, "
                "attempts = attempts + 1, started_at = coalesce(started_at, ?) "
                "WHERE id = ? AND status = 'queued' RETURNING *",
                (owner, lease, utcnow(), job_id)).fetchone()
            if row is None:
                return None
            conn.execute("INSERT INTO job_runs (job_id, attempt, owner, started_at) "
                         "VALUES (?, ?, ?, ?)", (job_id, row["attempts"], owner, utcnow()))
        return JobContext(self.store, job_id, row["kind"], json.loads(row["payload_json"]),
                          row["attempts"], owner, row["created_by"])

    def run_job(self, job_id: int, owner: str) -> str | None:
        """Claim and run one job; returns its outcome, or None when it was not claimable."""
        ctx = self.claim(job_id, owner)
        if ctx is None:
            return None
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(ctx, stop), daemon=True)
        beat.start()
        try:
            fn = HANDLERS.get(ctx.kind)
            if fn is None:
                load_handlers(self.settings)
                fn = HANDLERS.get(ctx.kind)
            if fn is None:
                raise CohearError(f"no handler for job kind {ctx.kind!r} in this worker",
                                  fix="start the worker with the module that provides it")
            result = fn(ctx)
            if not getattr(ctx, "completed", False):
                with self.store.transaction() as conn:
                    ctx.complete(conn, result)
            return "done"
        except LeaseLost:
            log.warning("job %s: lease lost to another worker; dropping this attempt", job_id)
            return "lost"
        except JobCancelled:
            self._end(ctx, "cancelled", "cancelled on request")
            return "cancelled"
        except Exception as exc:  # noqa: BLE001 - a job failure must be recorded, not raised
            permanent = isinstance(exc, CohearError) and exc.status < 500
            # A reference, a category and ids: never the exception's message, which may
            # quote the answer or transcript the job was working on (see cohear.logs).
            ref = logs.reference()
            reason = f"{logs.summary(exc)}; reference {ref}"
            log.error("job %s (%s) attempt %s failed: %s, reference %s\n%s", job_id, ctx.kind,
                      ctx.attempt, logs.category(exc), ref, logs.frames(exc))
            return self.fail(ctx, reason, permanent=permanent)
        finally:
            stop.set()

    def fail(self, ctx: JobContext, reason: str, *, permanent: bool) -> str:
        """End a failed attempt: queued again while attempts are left (unless the failure
        is permanent), else failed. Returns "retry" or "failed"."""
        retry = not permanent and ctx.attempt < self._max_attempts(ctx.job_id)
        self._end(ctx, "queued" if retry else "failed", reason)
        if retry:
            self.wake(ctx.job_id)
        return "retry" if retry else "failed"

    def context(self, job_id: int, owner: str) -> JobContext | None:
        """The running job held by `owner`, as its handler would see it; None when the job
        is not running under that owner (its lease ended and it went to another)."""
        row = self.store.one("SELECT * FROM jobs WHERE id = ? AND status = 'running' AND owner = ?",
                             (job_id, owner))
        if row is None:
            return None
        return JobContext(self.store, job_id, row["kind"], json.loads(row["payload_json"]),
                          row["attempts"], owner, row["created_by"])

    def renew(self, job_id: int, owner: str, progress: float | None = None) -> dict | None:
        """Extend `owner`'s lease (and record progress); None when the lease is gone.
        Says whether someone asked to cancel the job."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "UPDATE jobs SET lease_expires_at = ?, progress = coalesce(?, progress) "
                "WHERE id = ? AND owner = ? AND status = 'running' RETURNING cancel_requested",
                (time.time() + self.settings.job_lease_seconds,
                 None if progress is None else max(0.0, min(1.0, progress)), job_id,
                 owner)).fetchone()
        if row is None:
            return None
        return {"lease_seconds": self.settings.job_lease_seconds,
                "cancel_requested": bool(row["cancel_requested"])}

    def cancelled(self, ctx: JobContext) -> None:
        """End an attempt its worker stopped because the job was cancelled."""
        self._end(ctx, "cancelled", "cancelled on request")

    def _max_attempts(self, job_id: int) -> int:
        return self.store.one("SELECT max_attempts FROM jobs WHERE id = ?", (job_id,))[0]

    def _end(self, ctx: JobContext, status: str, reason: str) -> None:
        with self.store.transaction() as conn:
            cur = conn.execute(
                "UPDATE jobs SET status = ?, error = ?, owner = NULL, lease_expires_at = NULL, "
                "finished_at = CASE WHEN ? = 'queued' THEN NULL ELSE ? END "
                "WHERE id = ? AND owner = ? AND status = 'running'",
                (status, reason, status, utcnow(), ctx.job_id, ctx.owner))
            if cur.rowcount:
                conn.execute("UPDATE job_runs SET ended_at = ?, outcome = ? WHERE job_id = ? "
                             "AND attempt = ? AND owner = ?",
                             (utcnow(), "failed" if status == "queued" else status,
                              ctx.job_id, ctx.attempt, ctx.owner))

    def _heartbeat(self, ctx: JobContext, stop: threading.Event) -> None:
        interval = max(0.2, self.settings.job_lease_seconds / 3)
        store = self.store  # connections are per thread, so this one gets its own
        try:
            while not stop.wait(interval):
                try:
                    with store.transaction() as conn:
                        conn.execute("UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND "
                                     "owner = ? AND status = 'running'",
                                     (time.time() + self.settings.job_lease_seconds,
                                      ctx.job_id, ctx.owner))
                except CohearError as exc:
                    log.warning("job %s: could not renew lease: %s", ctx.job_id,
                                logs.summary(exc))
        finally:
            store.close()

    def sweep(self) -> dict:
        """Take back jobs whose worker died, and re-send messages for stale queued rows."""
        now = time.time()
        requeued, failed = [], []
        with self.store.transaction() as conn:
            for row in conn.execute("SELECT id, attempts, max_attempts, owner FROM jobs "
                                    "WHERE status = 'running' AND lease_expires_at < ?", (now,)
                                    ).fetchall():
                conn.execute("UPDATE job_runs SET ended_at = ?, outcome = 'lost' WHERE job_id = ? "
                             "AND owner = ? AND ended_at IS NULL", (utcnow(), row["id"], row["owner"]))
                if row["attempts"] < row["max_attempts"]:
                    conn.execute("UPDATE jobs SET status = 'queued', owner = NULL, "
                                 "lease_expires_at = NULL, error = 'worker stopped mid-job; retried' "
                                 "WHERE id = ?", (row["id"],))
                    requeued.append(row["id"])
                else:
                    conn.execute("UPDATE jobs SET status = 'failed', owner = NULL, "
                                 "lease_expires_at = NULL, finished_at = ?, error = ? WHERE id = ?",
                                 (utcnow(), f"worker stopped mid-job {row['attempts']} times; "
                                  "giving up", row["id"]))
                    failed.append(row["id"])
            queued = conn.execute("SELECT id, kind, payload_json FROM jobs "
                                  "WHERE status = 'queued'").fetchall()
        # A job taken back gets a message now. Other queued rows get one again only when
        # their queue holds no message at all (theirs were lost): re-sending every queued
        # row at every sweep would grow a long queue without end, and each duplicate costs
        # a worker on another machine a request.
        by_queue: dict[str, list[int]] = {}
        for row in queued:
            by_queue.setdefault(self.queue_for(row["kind"], json.loads(row["payload_json"])),
                                []).append(row["id"])
        for name, ids in by_queue.items():
            empty = self.queue(name).pending_count() == 0
            for job_id in ids:
                if empty or job_id in requeued:
                    self.send(name, job_id)
        return {"requeued": requeued, "failed": failed, "queued": len(queued)}

    # -- workers -----------------------------------------------------------------
    def start_worker(self, threads: int = 1) -> Worker:
        self._worker = Worker(self, threads)
        self._worker.start()
        return self._worker

    def stop_worker(self) -> None:
        if self._worker:
            self._worker.stop()
            self._worker = None

    def counts(self) -> dict:
        rows = self.store.all("SELECT status, count(*) AS n FROM jobs GROUP BY status")
        return {r["status"]: r["n"] for r in rows}


def worker_owner() -> str:
    """Who holds a lease: host, process and thread, so a dead process is recognisable."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def job_dict(row) -> dict:
    item = dict(row)
    item["payload"] = json.loads(item.pop("payload_json"))
    item["result"] = json.loads(item.pop("result_json")) if row["result_json"] else None
    item.pop("lease_expires_at", None)
    item.pop("completions", None)
    return item


class Worker:
    """Threads that take huey messages and run jobs; one of them also sweeps."""

    def __init__(self, queue: JobQueue, threads: int = 1, poll: float = 0.2):
        self.queue = queue
        self.threads = max(1, threads)
        self.poll = poll
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        load_handlers(self.queue.settings)
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, args=(i == 0,), name=f"cohear-worker-{i}",
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def _next(self, hueys: list):
        """The next message from any of this worker's queues, taking them in turn."""
        for _ in range(len(hueys)):
            hueys.append(hueys.pop(0))
            task = hueys[-1].dequeue()
            if task is not None:
                return task
        return None

    def _loop(self, sweeper: bool) -> None:
        queue = self.queue
        hueys: list = []
        next_sweep = next_queues = 0.0
        next_periodic = {name: 0.0 for name in PERIODIC} if sweeper else {}
        try:
            while not self._stop.is_set():
                try:
                    if sweeper and time.time() >= next_sweep:
                        queue.sweep()
                        next_sweep = time.time() + max(1.0, self.queue.settings.job_lease_seconds / 2)
                    for name, due in next_periodic.items():
                        if time.time() >= due:
                            every, fn = PERIODIC[name]
                            next_periodic[name] = time.time() + every
                            try:
                                fn(queue.store)
                            except Exception as exc:  # noqa: BLE001 - housekeeping goes on
                                log.error("periodic task %s failed: %s\n%s", name,
                                          logs.category(exc), logs.frames(exc))
                    if time.time() >= next_queues:
                        # Looked at again now and then: a model installed after start-up
                        # is served without a restart.
                        hueys = [queue.queue(name) for name in queue.local_queues()]
                        next_queues = time.time() + QUEUES_EVERY_SECONDS
                    task = self._next(hueys)
                    if task is None:
                        self._stop.wait(self.poll)
                        continue
                    job_id = task.args[0]
                    queue.run_job(job_id, owner=worker_owner())
                except Exception as exc:  # noqa: BLE001 - a worker thread must keep going
                    log.error("worker loop error: %s\n%s", logs.category(exc), logs.frames(exc))
                    self._stop.wait(1.0)
        finally:
            queue.store.close()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout)

    def run_until_stopped(self) -> None:
        self.start()
        try:
            while any(t.is_alive() for t in self._threads):
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stop()
