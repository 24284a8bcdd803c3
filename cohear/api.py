"""The shell's own routes: who am I, users and tokens, jobs, the audit log, models."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from cohear import audit, auth, limits, models
from cohear.auth import User
from cohear.deps import allow, get_jobs, get_store
from cohear.ids import Id
from cohear.jobs import JobQueue
from cohear.schema import (
    BODY,
    SIGNED_IN,
    AuditEntry,
    JobOut,
    JobQueued,
    Me,
    NewUserOut,
    TokenOut,
    UserOut,
    WhisperModelOut,
    problems,
)
from cohear.store import Store
from cohear.text import Text

router = APIRouter(prefix="/api", tags=["shell"], responses=SIGNED_IN)


class NewUser(BaseModel):
    name: Text = Field(min_length=1, max_length=limits.USER_NAME_CHARS)
    role: Literal["admin", "communicator", "collector", "reviewer", "researcher", "worker"]


@router.get("/me", response_model=Me)
def me(user: User = Depends(allow("me.read"))) -> dict:
    return {"id": user.id, "name": user.name, "role": user.role}


@router.get("/users", response_model=list[UserOut])
def list_users(store: Store = Depends(get_store), _: User = Depends(allow("users.manage"))):
    return auth.list_users(store)


@router.post("/users", status_code=201, response_model=NewUserOut,
             responses=problems(*BODY, 409))
def add_user(body: NewUser, store: Store = Depends(get_store),
             actor: User = Depends(allow("users.manage"))) -> dict:
    user, token = auth.create_user(store, body.name, body.role, actor=actor)
    return {"id": user.id, "name": user.name, "role": user.role, "token": token,
            "note": "the token is shown once; cohear keeps only its hash"}


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(store: Store = Depends(get_store), _: User = Depends(allow("users.manage"))):
    return auth.list_tokens(store)


@router.delete("/tokens/{prefix}", status_code=204, responses=problems(404))
def revoke_token(prefix: str, store: Store = Depends(get_store),
                 actor: User = Depends(allow("users.manage"))) -> None:
    auth.revoke_token(store, prefix, actor=actor)


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(status: str | None = None, limit: int = Query(100, ge=1, le=1000),
              jobs: JobQueue = Depends(get_jobs), user: User = Depends(allow("jobs.read"))):
    mine = None if user.may("jobs.read_all") else user.id
    return jobs.list(status=status, created_by=mine, limit=limit)


@router.get("/jobs/{job_id}", response_model=JobOut, responses=problems(404))
def get_job(job_id: Id, jobs: JobQueue = Depends(get_jobs),
            user: User = Depends(allow("jobs.read"))) -> dict:
    job = jobs.get(job_id)
    if not user.may("jobs.read_all") and job["created_by"] != user.id:
        from cohear.errors import NotFound
        raise NotFound(f"job {job_id} does not exist", fix="you can see only your own jobs")
    return job


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, responses=problems(404, 409))
def cancel_job(job_id: Id, jobs: JobQueue = Depends(get_jobs),
               _: User = Depends(allow("jobs.cancel"))) -> dict:
    return jobs.cancel(job_id)


@router.post("/jobs/integrity-check", status_code=202, response_model=JobQueued)
def start_integrity_check(jobs: JobQueue = Depends(get_jobs),
                          user: User = Depends(allow("system.check"))) -> dict:
    return {"job_id": jobs.enqueue("cohear.integrity_check", {}, actor=user)}


@router.get("/audit", response_model=list[AuditEntry])
def audit_log(entity: str | None = None, entity_id: str | None = None,
              limit: int = Query(100, ge=1, le=1000), before_id: Id | None = None,
              store: Store = Depends(get_store), _: User = Depends(allow("audit.read"))):
    return audit.entries(store.conn, entity=entity, entity_id=entity_id, limit=limit,
                         before_id=before_id)


@router.get("/models", response_model=list[WhisperModelOut])
def list_models(store: Store = Depends(get_store), _: User = Depends(allow("models.read"))):
    return [{k: v for k, v in m.items() if k != "files"} for m in models.list_models(store)]
