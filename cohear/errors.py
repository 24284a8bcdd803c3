"""Errors that reach people: each says what was wrong and what to do about it.

The API turns them into RFC 9457 problem details; the CLI prints one line. Each
problem also carries a stable `code` (the class's own, or a more precise one given
where it is raised): a client that shows its own words, such as the field page in the
reader's language, maps the code to its message instead of parsing English.
"""

from __future__ import annotations


class CohearError(Exception):
    """Base class. `status` is the HTTP status the API answers with."""

    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(self, detail: str, *, fix: str | None = None, status: int | None = None,
                 extra: dict | None = None, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.fix = fix
        if status is not None:
            self.status = status
        self.extra = extra or {}
        self.code = code or self.type_slug

    def message(self) -> str:
        return f"{self.detail}. {self.fix[0].upper() + self.fix[1:]}." if self.fix else self.detail

    def problem(self) -> dict:
        body = {
            "type": f"https://cohear.invalid/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.message(),
            "code": self.code,
        }
        if self.fix:
            body["fix"] = self.fix
        body.update(self.extra)
        return body


class BadInput(CohearError):
    status = 400
    title = "Bad input"
    type_slug = "bad-input"


class Unprocessable(CohearError):
    status = 422
    title = "Unprocessable content"
    type_slug = "unprocessable"


class Unauthorized(CohearError):
    status = 401
    title = "Not signed in"
    type_slug = "unauthorized"


class Forbidden(CohearError):
    status = 403
    title = "Not allowed"
    type_slug = "forbidden"


class NotFound(CohearError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(CohearError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class TooLarge(CohearError):
    status = 413
    title = "Content too large"
    type_slug = "too-large"


class UnsupportedMedia(CohearError):
    status = 415
    title = "Unsupported media type"
    type_slug = "unsupported-media"


class StoreError(CohearError):
    """The database or the blob store cannot be used (missing, corrupt, read-only, full)."""

    status = 503
    title = "Storage problem"
    type_slug = "storage"


class SettingsError(CohearError):
    status = 500
    title = "Invalid settings"
    type_slug = "settings"


class ModelError(CohearError):
    status = 503
    title = "Model problem"
    type_slug = "model"
