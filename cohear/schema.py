"""The shapes the shell's routes answer with (pydantic models at the edge), and the one
error shape every cohear route answers with: an RFC 9457 problem.

Response models describe each answer in the OpenAPI document, so clients and the
fuzz tests can check it. They allow fields they do not name (`extra="allow"`): a
field added to an answer later is passed on, and named here when it is documented.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    """Base of every response model: the named fields are checked, others pass through."""

    model_config = ConfigDict(extra="allow")


class Problem(Out):
    """An RFC 9457 problem (`application/problem+json`): what was wrong and what to do
    (`detail` holds both); a 500 adds the `reference` to find in the server log."""

    type: str
    title: str
    status: int
    detail: str


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: each status answered with a Problem. The app
    files them under `application/problem+json` (see `cohear.app.openapi_with_problems`)."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase}
            for status in statuses}


# Statuses any signed-in route may answer: no or a dead token, a role that may not.
SIGNED_IN = problems(401, 403)
# Statuses of a route that takes a body: a body that cannot be read (bad JSON, too
# deeply nested) or is too large.
BODY = (400, 413)


class HealthOut(Out):
    """What anyone may know: whether cohear works, and which parts do not, by name."""
    status: Literal["ok", "degraded"]
    problems: list[Literal["database", "jobs", "whisper", "language_packs"]]


class HealthDetailOut(Out):
    """Every part's state, for admins: the database (and its path), jobs (and their
    counts), Whisper (model, device, why it fell back), installed language packs."""
    status: Literal["ok", "degraded"]
    version: str
    database: dict[str, Any]
    jobs: dict[str, Any]
    whisper: dict[str, Any]
    language_packs: dict[str, Any]


class Me(Out):
    id: int
    name: str
    role: str


class UserOut(Out):
    id: int
    name: str
    role: str
    created_at: str
    disabled_at: str | None = None
    active_tokens: int


class NewUserOut(Out):
    id: int
    name: str
    role: str
    token: str


class TokenOut(Out):
    prefix: str
    user: str
    role: str
    label: str
    created_at: str
    expires_at: str
    revoked_at: str | None = None
    last_used_at: str | None = None
    state: str


class JobOut(Out):
    id: int
    kind: str
    status: str
    progress: float
    attempts: int
    max_attempts: int
    error: str | None = None
    cancel_requested: int
    created_by: int | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    payload: dict[str, Any]
    result: dict[str, Any] | None = None


class JobQueued(Out):
    job_id: int


class AuditEntry(Out):
    id: int
    at: str
    actor_id: int | None = None
    actor_name: str
    action: str
    entity: str
    entity_id: str | None = None
    detail: str
    erased: bool
    before: Any = None
    after: Any = None


class WhisperModelOut(Out):
    name: str
    size_bytes: int
    source: str
    verified: bool
    added_at: str
    present: bool
