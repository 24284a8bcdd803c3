"""Workers on other machines, the server's side: a worker that shares no disk with the
server takes job ids from the same huey queues (Redis), and everything else through
cohear's API under a worker token: it claims the job (a lease, as a local worker's),
fetches the job's input file, renews the lease, and posts the result, which the server
stores with the same function, transaction and at-most-once completion a local worker
uses. This module is that API's service: the registry of workers (what each has, its
heartbeat, current job and throughput) and the lease operations, checked against the
worker's own token. The worker's side is cohear/remote_worker.py.

A job kind is carried this way when its domain registers a `cohear.jobs.RemoteKind`
(speech does for `speech.transcribe`): what the worker is told, which file it may
fetch, how its result is checked and stored, and how the worker computes it.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from cohear import __version__
from cohear.auth import User
from cohear.errors import CohearError, Conflict, NotFound
from cohear.jobs import REMOTE, JobContext, JobQueue, LeaseLost, load_handlers
from cohear.store import Store, utcnow

log = logging.getLogger("cohear.workers")

# The worker protocol: raised whenever a route, a field or a meaning changes, so a worker
# and a server that would misunderstand each other refuse to work together instead.
PROTOCOL = 1
PROTOCOL_HEADER = "X-Cohear-Worker-Protocol"
INSTANCE_HEADER = "X-Cohear-Worker"


class UpgradeRequired(CohearError):
    status = 426
    title = "Upgrade required"
    type_slug = "worker-protocol"


def require_protocol(sent: str | None) -> None:
    """Refuse a worker that speaks another protocol, saying which side to upgrade."""
    try:
        theirs = int(sent) if sent is not None else 0
    except ValueError:
        theirs = 0
    if theirs == PROTOCOL:
        return
    if theirs < PROTOCOL:
        raise UpgradeRequired(
            f"this worker speaks worker protocol {theirs or 'none (an older cohear)'}; this "
            f"server (cohear {__version__}) needs protocol {PROTOCOL}",
            fix=f"upgrade cohear on the worker to {__version__} (pip install -U cohear)",
            extra={"server_version": __version__, "protocol": PROTOCOL})
    raise UpgradeRequired(
        f"this worker speaks worker protocol {theirs}, newer than this server's {PROTOCOL} "
        f"(cohear {__version__})", fix="upgrade cohear on the server, or run the worker's "
        "cohear at the server's version", extra={"server_version": __version__,
                                                 "protocol": PROTOCOL})


def owner_of(instance: str) -> str:
    """The lease owner of a remote worker's jobs."""
    return f"remote:{instance}"


# -- the registry ------------------------------------------------------------------------
def heartbeat(store: Store, user: User, instance: str, facts: dict) -> dict:
    """Record (or refresh) a worker and what it has: device, compute type, models,
    cohear version. Returns what the worker needs to know about the server."""
    user.require("worker.run")
    now = utcnow()
    with store.transaction() as conn:
        row = conn.execute("SELECT user_id FROM workers WHERE instance = ?", (instance,)).fetchone()
        if row is not None and row["user_id"] != user.id:
            raise Conflict("another worker user already uses this worker instance name",
                           fix="restart the worker (it picks a new random instance name)")
        values = (user.id, facts.get("host", ""), facts.get("device"), facts.get("compute_type"),
                  facts.get("fallback_reason"), json.dumps(sorted(facts.get("models") or [])),
                  facts.get("version", ""), PROTOCOL, now)
        if row is None:
            conn.execute("INSERT INTO workers (user_id, host, device, compute_type, "
                         "fallback_reason, models_json, version, protocol, last_seen_at, "
                         "instance, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         values + (instance, now))
        else:
            conn.execute("UPDATE workers SET user_id = ?, host = ?, device = ?, compute_type = ?, "
                         "fallback_reason = ?, models_json = ?, version = ?, protocol = ?, "
                         "last_seen_at = ? WHERE instance = ?", values + (instance,))
    return {"instance": instance, "server_version": __version__, "protocol": PROTOCOL,
            "lease_seconds": store.settings.job_lease_seconds}


def _worker(store: Store, user: User, instance: str) -> dict:
    user.require("worker.run")
    row = store.one("SELECT * FROM workers WHERE instance = ? AND user_id = ?", (instance, user.id))
    if row is None:
        raise Conflict("this worker has not introduced itself",
                       fix="send POST /api/worker/heartbeat first (cohear worker does)")
    return dict(row) | {"models": json.loads(row["models_json"])}


def _seen(conn, instance: str) -> None:
    conn.execute("UPDATE workers SET last_seen_at = ? WHERE instance = ?", (utcnow(), instance))


def list_workers(store: Store, user: User, *, stale_after: float | None = None) -> list[dict]:
    """Every worker that has said hello: what it has, its heartbeat (seconds since it was
    last heard from), its current job and its throughput (audio seconds transcribed per
    second busy)."""
    user.require("workers.read")
    stale_after = stale_after or max(60.0, 4 * store.settings.job_lease_seconds)
    out = []
    for row in store.all("SELECT * FROM workers ORDER BY id"):
        last = _epoch(row["last_seen_at"])
        ago = max(0.0, time.time() - last)
        current = row["current_job_id"]
        if current is not None:
            job = store.one("SELECT status, owner FROM jobs WHERE id = ?", (current,))
            if job is None or job["status"] != "running" or job["owner"] != owner_of(row["instance"]):
                current = None
        name = store.one("SELECT name FROM users WHERE id = ?", (row["user_id"],))
        out.append({
            "id": row["id"], "instance": row["instance"], "user": name["name"] if name else None,
            "host": row["host"], "device": row["device"], "compute_type": row["compute_type"],
            "fallback_reason": row["fallback_reason"], "models": json.loads(row["models_json"]),
            "version": row["version"], "protocol": row["protocol"],
            "started_at": row["started_at"], "last_seen_at": row["last_seen_at"],
            "heartbeat_seconds_ago": round(ago, 1),
            "state": "gone" if ago > stale_after else ("busy" if current else "idle"),
            "current_job_id": current, "jobs_done": row["jobs_done"],
            "jobs_failed": row["jobs_failed"], "audio_seconds": round(row["audio_seconds"], 1),
            "audio_seconds_per_second": (round(row["audio_seconds"] / row["busy_seconds"], 2)
                                         if row["busy_seconds"] else None)})
    return out


def _epoch(stamp: str) -> float:
    import datetime as dt
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=dt.UTC).timestamp()


# -- leases ------------------------------------------------------------------------------
def claim(queue: JobQueue, user: User, instance: str, job_id: int) -> dict:
    """Lease a queued job to this worker, as a local worker claims one. A job for a model
    the worker does not have is not claimed (no attempt is used): 409 `model-missing`."""
    store = queue.store
    worker = _worker(store, user, instance)
    row = store.one("SELECT kind, payload_json, status FROM jobs WHERE id = ?", (job_id,))
    if row is None:
        raise NotFound(f"job {job_id} does not exist", fix="drop the message")
    load_handlers(store.settings)
    spec = REMOTE.get(row["kind"])
    if spec is None:
        raise Conflict(f"job {job_id} ({row['kind']}) does not run on workers elsewhere",
                       fix="leave it to the server's own workers", extra={"reason": "kind"})
    payload = json.loads(row["payload_json"])
    model = spec.model(payload)
    if model and model not in worker["models"]:
        raise Conflict(f"job {job_id} asks for the model {model!r}, which this worker does not "
                       "have", fix="leave it for a worker that has it",
                       extra={"reason": "model-missing", "model": model})
    ctx = queue.claim(job_id, owner_of(instance))
    if ctx is None:
        raise Conflict(f"job {job_id} cannot be claimed (it is {row['status']})",
                       fix="drop the message: another worker has it or it has ended",
                       extra={"reason": "not-queued"})
    try:
        brief = spec.brief(store, payload)
    except CohearError as exc:  # e.g. the recording was deleted meanwhile
        queue.fail(ctx, exc.message(), permanent=exc.status < 500)
        raise
    with store.transaction() as conn:
        conn.execute("UPDATE workers SET current_job_id = ?, current_since = ?, "
                     "current_audio_seconds = ?, last_seen_at = ? WHERE instance = ?",
                     (job_id, time.time(), float(brief.get("audio_seconds") or 0.0), utcnow(),
                      instance))
    return {"job_id": job_id, "kind": row["kind"], "attempt": ctx.attempt,
            "lease_seconds": store.settings.job_lease_seconds, **brief}


def _leased(queue: JobQueue, user: User, instance: str, job_id: int) -> JobContext:
    _worker(queue.store, user, instance)
    ctx = queue.context(job_id, owner_of(instance))
    if ctx is None:
        raise NotFound(f"job {job_id} is not leased to this worker",
                       fix="a worker reaches only the jobs it holds; this one's lease ended")
    return ctx


def input_file(queue: JobQueue, user: User, instance: str, job_id: int) -> tuple[Path, str]:
    """The input file of a job leased to this worker (for a transcription: the
    recording's 16 kHz WAV); any other job answers 404."""
    ctx = _leased(queue, user, instance, job_id)
    return REMOTE[ctx.kind].input(queue.store, ctx.payload)


def renew(queue: JobQueue, user: User, instance: str, job_id: int,
          progress: float | None) -> dict:
    _worker(queue.store, user, instance)
    lease = queue.renew(job_id, owner_of(instance), progress)
    with queue.store.transaction() as conn:
        _seen(conn, instance)
    if lease is None:
        raise Conflict(f"the lease on job {job_id} has ended (the job went back to the queue "
                       "or to another worker)", fix="stop working on it and drop its result",
                       extra={"reason": "lease-lost"})
    return lease


def complete(queue: JobQueue, user: User, instance: str, job_id: int, attempt: int,
             result: Any) -> dict:
    """Store a worker's result exactly as a local worker would, at most once: posted again
    (a retry whose answer was lost), it is recognised and not stored twice."""
    store = queue.store
    worker = _worker(store, user, instance)
    owner = owner_of(instance)
    ctx = queue.context(job_id, owner)
    if ctx is None or ctx.attempt != attempt:
        done = store.one("SELECT 1 FROM job_runs WHERE job_id = ? AND attempt = ? AND owner = ? "
                         "AND outcome = 'done'", (job_id, attempt, owner))
        if done:
            return {"job_id": job_id, "stored": True, "duplicate": True}
        raise Conflict(f"the lease on job {job_id} has ended (the job went back to the queue "
                       "or to another worker)", fix="drop this result",
                       extra={"reason": "lease-lost"})
    spec = REMOTE[ctx.kind]
    checked = spec.check(result)
    try:
        summary = spec.store(ctx, checked, worker["host"] or instance)
    except LeaseLost:
        raise Conflict(f"the lease on job {job_id} ended while its result was being stored",
                       fix="drop this result", extra={"reason": "lease-lost"}) from None
    except CohearError as exc:
        queue.fail(ctx, exc.message(), permanent=exc.status < 500)
        raise
    with store.transaction() as conn:
        conn.execute("UPDATE workers SET jobs_done = jobs_done + 1, "
                     "audio_seconds = audio_seconds + coalesce(current_audio_seconds, 0), "
                     "busy_seconds = busy_seconds + max(0, ? - coalesce(current_since, ?)), "
                     "current_job_id = NULL, current_since = NULL, current_audio_seconds = NULL, "
                     "last_seen_at = ? WHERE instance = ? AND current_job_id = ?",
                     (time.time(), time.time(), utcnow(), instance, job_id))
    return {"job_id": job_id, "stored": True, "duplicate": False, "result": summary}


def fail(queue: JobQueue, user: User, instance: str, job_id: int, attempt: int, *,
         category: str, permanent: bool, cancelled: bool) -> dict:
    """A worker gave up on a job it holds: cancelled on request, or failed (queued again
    while attempts are left). `category` names the kind of error, never its words."""
    ctx = _leased(queue, user, instance, job_id)
    if ctx.attempt != attempt:
        raise Conflict(f"attempt {attempt} of job {job_id} is over", fix="drop it",
                       extra={"reason": "lease-lost"})
    if cancelled:
        queue.cancelled(ctx)
        outcome = "cancelled"
    else:
        name = queue.store.one("SELECT host FROM workers WHERE instance = ?", (instance,))
        outcome = queue.fail(ctx, f"failed on worker {name['host'] or instance}: {category}",
                             permanent=permanent)
    with queue.store.transaction() as conn:
        conn.execute("UPDATE workers SET jobs_failed = jobs_failed + ?, current_job_id = NULL, "
                     "current_since = NULL, current_audio_seconds = NULL, last_seen_at = ? "
                     "WHERE instance = ?", (0 if cancelled else 1, utcnow(), instance))
    return {"job_id": job_id, "outcome": outcome}
