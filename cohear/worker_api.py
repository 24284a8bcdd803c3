"""HTTP routes for workers on other machines (`/api/worker/...`, the `worker` role only)
and the list of workers (`GET /api/workers`, admins). Each route translates HTTP to a
`cohear.workers` call and back; every worker route first checks the worker's protocol
header, so a worker of another cohear version is refused in words (426)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from cohear import workers
from cohear.auth import User
from cohear.deps import allow, get_jobs, get_store
from cohear.errors import BadInput
from cohear.ids import Id
from cohear.jobs import JobQueue
from cohear.schema import BODY, SIGNED_IN, problems
from cohear.store import Store

router = APIRouter(tags=["workers"], responses=SIGNED_IN)

JobId = Annotated[Id, Path(description="a job's id")]
# Every worker route: a worker of another protocol (426), a missing or bad instance
# header (422), and one that has not said hello or whose lease ended (409).
WORKER = (409, 422, 426)
Instance = Annotated[str, Header(alias=workers.INSTANCE_HEADER, min_length=8, max_length=100,
                                pattern=r"^[A-Za-z0-9._-]+$",
                                description="the worker process's instance name")]


def worker(request: Request, user: User = Depends(allow("worker.run"))) -> User:
    """A worker token, from a worker that speaks this server's protocol."""
    workers.require_protocol(request.headers.get(workers.PROTOCOL_HEADER))
    return user


worker.action = "worker.run"  # read by the authorisation matrix test
Worker = Annotated[User, Depends(worker)]
Jobs = Annotated[JobQueue, Depends(get_jobs)]


class Facts(BaseModel):
    host: str = Field("", max_length=200)
    device: str | None = Field(None, max_length=20)
    compute_type: str | None = Field(None, max_length=30)
    fallback_reason: str | None = Field(None, max_length=2000)
    models: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list,
                                                                max_length=50)
    version: str = Field("", max_length=50)


class Renewal(BaseModel):
    progress: float | None = Field(None, ge=0, le=1)


class Outcome(BaseModel):
    attempt: int = Field(ge=1, le=1000)
    category: str = Field("error", max_length=100, pattern=r"^[A-Za-z0-9_.: -]*$",
                          description="the kind of error (an exception's class), never its words")
    permanent: bool = False
    cancelled: bool = False


@router.post("/api/worker/heartbeat", responses=problems(*BODY, 409, 422, 426))
def heartbeat(facts: Facts, store: Annotated[Store, Depends(get_store)], user: Worker,
              instance: Instance) -> dict:
    """A worker says it is alive and what it has (device, compute type, models, version)."""
    return workers.heartbeat(store, user, instance, facts.model_dump())


@router.post("/api/worker/jobs/{job_id}/claim", responses=problems(*WORKER, 404))
def claim(job_id: JobId, queue: Jobs, user: Worker, instance: Instance) -> dict:
    """Take a queued job (its id came from the queue) under a lease."""
    return workers.claim(queue, user, instance, job_id)


@router.get("/api/worker/jobs/{job_id}/input", responses=problems(*WORKER, 404) | {
    200: {"content": {"audio/wav": {}}, "description": "the job's input file"}})
def job_input(job_id: JobId, queue: Jobs, user: Worker, instance: Instance):
    """The input file of a job leased to this worker (a recording's 16 kHz WAV)."""
    path, media_type = workers.input_file(queue, user, instance, job_id)
    return FileResponse(path, media_type=media_type, filename=f"job-{job_id}")


@router.post("/api/worker/jobs/{job_id}/lease", responses=problems(*BODY, *WORKER))
def renew(job_id: JobId, queue: Jobs, user: Worker, instance: Instance,
          body: Renewal | None = None) -> dict:
    """Renew the lease (and report progress); says whether the job was cancelled."""
    return workers.renew(queue, user, instance, job_id, (body or Renewal()).progress)


@router.post("/api/worker/jobs/{job_id}/result", responses=problems(*BODY, *WORKER, 404))
def result(job_id: JobId, queue: Jobs, user: Worker, instance: Instance,
           attempt: Annotated[int, Body(ge=1, le=1000)],
           result: Annotated[dict[str, Any], Body()]) -> dict:
    """Post the result of the attempt this worker holds; stored once, with the job's
    completion, in one transaction. Posted again, it answers `duplicate: true`."""
    if not isinstance(result, dict):
        raise BadInput("the result must be an object", fix="send what the worker computed")
    return workers.complete(queue, user, instance, job_id, attempt, result)


@router.post("/api/worker/jobs/{job_id}/fail", responses=problems(*BODY, *WORKER, 404))
def fail(job_id: JobId, body: Outcome, queue: Jobs, user: Worker, instance: Instance) -> dict:
    """Give a held job back: failed (retried while attempts are left) or cancelled."""
    return workers.fail(queue, user, instance, job_id, body.attempt, category=body.category,
                        permanent=body.permanent, cancelled=body.cancelled)


@router.get("/api/workers")
def list_workers(store: Annotated[Store, Depends(get_store)],
                 user: Annotated[User, Depends(allow("workers.read"))]) -> list[dict]:
    """Workers on other machines: what each has, heartbeat, current job, throughput."""
    return workers.list_workers(store, user)
