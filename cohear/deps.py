"""FastAPI dependencies shared by every router: the store, the job queue and the
signed-in user, with role checks that answer 401/403 in words."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request

from cohear.auth import User, authenticate
from cohear.jobs import JobQueue
from cohear.store import Store


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_jobs(request: Request) -> JobQueue:
    return request.app.state.jobs


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def current_user(request: Request, store: Store = Depends(get_store)) -> User:
    return authenticate(store, bearer(request))


def allow(action: str) -> Callable[..., User]:
    """Dependency: the signed-in user, who must be allowed `action` (see permissions.py)."""

    def dependency(user: User = Depends(current_user)) -> User:
        user.require(action)
        return user

    dependency.action = action  # read by the authorisation matrix test
    return dependency
