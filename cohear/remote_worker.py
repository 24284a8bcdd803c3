"""A worker on another machine (`cohear worker --server URL --token TOKEN`): it shares no
disk with the server. It takes job ids from the server's huey queues on Redis (only the
queues of the models it has), and does everything else through the server's API with a
worker token: claims the job under a lease, fetches its input, computes with its own
model and device, renews the lease meanwhile, and posts the result, which the server
stores exactly as a local worker would (cohear/workers.py is the server's side).

Faults: a worker killed mid-job stops renewing, and the server's sweep queues the job
again for another. A worker that loses the network keeps its result in memory and
retries posting it until its lease ends, then drops it (the job runs again elsewhere).
A result posted twice is stored once. People's words stay in memory only: the input is
never written to disk, and nothing is kept after the result is posted; log lines carry
job ids, times and error categories, never words.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from cohear import __version__, cuda
from cohear.errors import CohearError, SettingsError
from cohear.jobs import REMOTE, ROUTES, JobCancelled, JobQueue, LeaseLost, load_handlers
from cohear.store import Store
from cohear.workers import INSTANCE_HEADER, PROTOCOL, PROTOCOL_HEADER

log = logging.getLogger("cohear.worker")


@dataclass
class RemoteJob:
    """What a kind's `compute` gets on the worker: the server's brief, the input file's
    bytes (in memory), the worker's own store (its models and packs), and `progress(f)`,
    which raises JobCancelled or LeaseLost when the work should stop."""

    job_id: int
    brief: dict
    data: bytes
    store: Store
    progress: Callable[[float], None]


class ServerRefused(CohearError):
    """The server answered a worker request with a problem (its words and fix kept)."""


class Lease:
    """One claimed job's lease, renewed through the API in a thread. `deadline` is when
    the lease ends if no renewal gets through (measured from before each request)."""

    def __init__(self, worker: RemoteWorker, job_id: int, seconds: float):
        self.worker = worker
        self.job_id = job_id
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.fraction: float | None = None
        self.cancel = False
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, daemon=True,
                                        name=f"cohear-lease-{job_id}")
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(max(0.2, self.seconds / 3)):
            sent = time.monotonic()
            try:
                answer = self.worker.call("POST", f"/api/worker/jobs/{self.job_id}/lease",
                                          json={"progress": self.fraction})
            except httpx.TransportError as exc:
                log.warning("job %s: lease not renewed (%s); %.0f s of it left", self.job_id,
                            type(exc).__name__, self.deadline - time.monotonic())
                continue
            except ServerRefused as exc:
                if exc.status == 409:
                    self.lost = True
                    return
                log.warning("job %s: lease not renewed (HTTP %s)", self.job_id, exc.status)
                continue
            self.deadline = sent + float(answer["lease_seconds"])
            self.cancel = bool(answer.get("cancel_requested"))

    def progress(self, fraction: float) -> None:
        self.fraction = max(0.0, min(1.0, fraction))
        if self.lost or time.monotonic() > self.deadline:
            raise LeaseLost()
        if self.cancel:
            raise JobCancelled()

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


class RemoteWorker:
    """Takes jobs for the models installed in `store` (the worker's own data directory)
    from the server's Redis queues, and runs them through the server's API."""

    def __init__(self, store: Store, server: str, token: str, *, transport=None,
                 poll: float = 0.2, heartbeat_seconds: float = 10.0):
        settings = store.settings
        if settings.job_backend != "redis":
            raise SettingsError("a worker on another machine takes its jobs from the server's "
                                "Redis, but job_backend is 'sqlite' here",
                                fix="set COHEAR_JOB_BACKEND=redis and COHEAR_REDIS_URL to the "
                                    "server's Redis")
        if not re.match(r"^https?://", server):
            raise SettingsError(f"{server!r} is not an http(s) URL",
                                fix="give the server's address, e.g. https://cohear.example:8000")
        self.store = store
        self.queue = JobQueue(store)
        self.poll = poll
        self.heartbeat_seconds = heartbeat_seconds
        host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:60] or "worker"
        self.host = host
        self.instance = f"{host}-{os.getpid()}-{secrets.token_hex(4)}"
        self.client = httpx.Client(
            base_url=server.rstrip("/"), transport=transport,
            timeout=httpx.Timeout(60.0, connect=10.0),
            headers={"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL),
                     INSTANCE_HEADER: self.instance,
                     "User-Agent": f"cohear-worker/{__version__}"})
        self._stop = threading.Event()
        self.models: list[str] = []
        self.facts: dict = {}
        self.done = 0

    # -- talking to the server -------------------------------------------------------
    def call(self, method: str, path: str, **kw) -> dict:
        """One API request; a problem answer becomes ServerRefused with the server's
        words (and status), a lost connection stays httpx.TransportError."""
        r = self.client.request(method, path, **kw)
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {}
            raise ServerRefused(body.get("detail") or f"the server answered HTTP {r.status_code}",
                                status=r.status_code, extra={"reason": body.get("reason")})
        return r.json()

    def heartbeat(self) -> dict:
        return self.call("POST", "/api/worker/heartbeat", json=self.facts)

    # -- starting ----------------------------------------------------------------------
    def prepare(self) -> None:
        """Find the models installed here, prove the device on the configured one, and
        introduce this worker to the server (a refusal, e.g. of an older cohear, is
        raised with the server's words)."""
        from cohear.models import list_models
        load_handlers(self.store.settings)
        self.models = [m["name"] for m in list_models(self.store) if m["verified"] and m["present"]]
        if not self.models:
            raise SettingsError("this worker has no verified Whisper model",
                                fix="run `cohear models install` (or `cohear models add DIR "
                                    "--name NAME`) in the worker's data directory")
        # Said first without a device, so a server that refuses this worker (another
        # protocol, a bad token) says so before a model is loaded.
        self.facts = {"host": self.host, "models": self.models, "version": __version__}
        self.heartbeat()
        from speech.transcribe import model_for
        wanted = self.store.settings.whisper_model
        model_for(self.store, wanted if wanted in self.models else self.models[0])
        choice = cuda.current_choice()
        self.facts = {"host": self.host, "device": choice.get("device"),
                      "compute_type": choice.get("compute_type"),
                      "fallback_reason": choice.get("fallback_reason"),
                      "models": self.models, "version": __version__}
        self.heartbeat()
        log.info("worker %s: %s/%s, models %s", self.instance, self.facts["device"],
                 self.facts["compute_type"], ", ".join(self.models))

    def queue_names(self) -> list[str]:
        return [ROUTES[kind].queue({"model": m}) for kind in REMOTE if kind in ROUTES
                for m in self.models]

    # -- running -----------------------------------------------------------------------
    def run_until_stopped(self) -> None:
        self.prepare()
        hueys = [(name, self.queue.queue(name)) for name in self.queue_names()]
        next_beat = time.monotonic() + self.heartbeat_seconds
        try:
            while not self._stop.is_set():
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.heartbeat_seconds
                    try:
                        self.heartbeat()
                    except (httpx.TransportError, ServerRefused) as exc:
                        log.warning("heartbeat not delivered (%s)", type(exc).__name__)
                message = self._next(hueys)
                if message is None:
                    self._stop.wait(self.poll)
                    continue
                name, job_id = message
                self.run(job_id, name)
        except KeyboardInterrupt:
            pass
        finally:
            self.client.close()

    def stop(self) -> None:
        self._stop.set()

    def _next(self, hueys: list) -> tuple[str, int] | None:
        for _ in range(len(hueys)):
            hueys.append(hueys.pop(0))
            name, huey = hueys[-1]
            try:
                task = huey.dequeue()
            except Exception as exc:  # noqa: BLE001 - Redis away: wait and try again
                log.warning("queue %s: cannot read from Redis (%s)", name, type(exc).__name__)
                self._stop.wait(2.0)
                return None
            if task is not None:
                return name, int(task.args[0])
        return None

    def run(self, job_id: int, queue_name: str) -> str:
        """Claim, compute and post one job. Returns what became of it."""
        try:
            brief = self.call("POST", f"/api/worker/jobs/{job_id}/claim")
        except httpx.TransportError as exc:
            log.warning("job %s: cannot reach the server to claim it (%s); message put back",
                        job_id, type(exc).__name__)
            self.queue.send(queue_name, job_id)
            self._stop.wait(1.0)
            return "unreachable"
        except ServerRefused as exc:
            if exc.extra.get("reason") == "model-missing":
                # Not this worker's job: the message goes back for one that has the model.
                self.queue.send(queue_name, job_id)
                return "left"
            if exc.status in (426, 401, 403):
                raise
            if exc.status >= 500:  # the server's trouble, not the job's: try again later
                self.queue.send(queue_name, job_id)
                self._stop.wait(1.0)
            return "not-claimed"
        attempt = int(brief["attempt"])
        lease = Lease(self, job_id, float(brief["lease_seconds"]))
        started = time.monotonic()
        try:
            data = self._fetch(job_id, lease)
            job = RemoteJob(job_id, brief, data, self.store, lease.progress)
            del data
            result = REMOTE[brief["kind"]].compute(job)
            job.data = b""
            outcome = self._post(job_id, attempt, result, lease)
            del result
        except JobCancelled:
            self._give_back(job_id, attempt, "cancelled", permanent=True, cancelled=True)
            outcome = "cancelled"
        except LeaseLost:
            log.warning("job %s: lease lost; the job went back to the queue", job_id)
            outcome = "lost"
        except Exception as exc:  # noqa: BLE001 - a job failure is reported, not raised
            permanent = isinstance(exc, CohearError) and exc.status < 500
            log.error("job %s attempt %s failed: %s", job_id, attempt, type(exc).__name__)
            self._give_back(job_id, attempt, type(exc).__name__, permanent=permanent)
            outcome = "failed"
        finally:
            lease.stop()
        log.info("job %s: %s after %.1f s", job_id, outcome, time.monotonic() - started)
        if outcome in ("stored", "duplicate"):
            self.done += 1
        return outcome

    def _fetch(self, job_id: int, lease: Lease) -> bytes:
        while True:
            try:
                r = self.client.get(f"/api/worker/jobs/{job_id}/input")
            except httpx.TransportError:
                if lease.left() <= 0:
                    raise LeaseLost() from None
                time.sleep(min(2.0, max(0.1, lease.left())))
                continue
            if r.status_code != 200:
                raise LeaseLost() if r.status_code in (404, 409) else ServerRefused(
                    f"the input of job {job_id} could not be fetched (HTTP {r.status_code})",
                    status=r.status_code)
            return r.content

    def _post(self, job_id: int, attempt: int, result: dict, lease: Lease) -> str:
        """Post the result until it is stored or the lease has ended; a network failure
        or a server error is retried (the result stays in memory only)."""
        pause = 0.2
        while True:
            try:
                answer = self.call("POST", f"/api/worker/jobs/{job_id}/result",
                                   json={"attempt": attempt, "result": result})
                return "duplicate" if answer.get("duplicate") else "stored"
            except ServerRefused as exc:
                if exc.status == 409:
                    log.warning("job %s: the server no longer holds it for this worker; "
                                "result dropped", job_id)
                    return "lost"
                if exc.status < 500:
                    log.error("job %s: the server refused the result (HTTP %s)", job_id,
                              exc.status)
                    self._give_back(job_id, attempt, "ResultRefused", permanent=True)
                    return "refused"
                why = f"HTTP {exc.status}"
            except httpx.TransportError as exc:
                why = type(exc).__name__
            if lease.left() <= 0:
                log.warning("job %s: result not delivered before the lease ended (%s); "
                            "dropped, the job will run again", job_id, why)
                return "undelivered"
            log.warning("job %s: result not delivered (%s); retrying for %.0f s more",
                        job_id, why, lease.left())
            time.sleep(min(pause, max(0.05, lease.left())))
            pause = min(pause * 2, 5.0)

    def _give_back(self, job_id: int, attempt: int, category: str, *, permanent: bool,
                   cancelled: bool = False) -> None:
        try:
            self.call("POST", f"/api/worker/jobs/{job_id}/fail",
                      json={"attempt": attempt, "category": category[:100],
                            "permanent": permanent, "cancelled": cancelled})
        except (httpx.TransportError, ServerRefused) as exc:
            # The lease runs out instead, and the server's sweep queues the job again.
            log.warning("job %s: could not report the failure (%s)", job_id, type(exc).__name__)
