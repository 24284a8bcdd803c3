"""The FastAPI app factory: mounts each domain's router, answers errors as RFC 9457
problem details, limits request size, and runs the embedded job worker."""

from __future__ import annotations

import contextlib
import importlib
import logging
import re

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from cohear import __version__, limits, logs, temporaries
from cohear.errors import CohearError
from cohear.jobs import JobQueue
from cohear.schema import HealthOut
from cohear.settings import Settings, load_settings
from cohear.store import Store

log = logging.getLogger("cohear.app")

# Each domain contributes `router` from its api module; the shell only wires them.
DOMAIN_ROUTERS = ("language_packs.api", "comms.api", "speech.api", "surveys.api",
                  "webcollect.api")
PUBLIC_PATHS = ("/healthz", "/docs", "/docs-assets", "/openapi.json")
PROBLEM = "application/problem+json"


# Stable codes for the problems the shell answers itself (CohearError carries its own).
STATUS_CODES = {401: "unauthorized", 404: "not-found", 405: "method-not-allowed",
                413: "too-large", 422: "unprocessable", 500: "internal"}


def problem_response(status: int, title: str, detail: str, **extra) -> JSONResponse:
    body = {"type": f"https://cohear.invalid/problems/{status}", "title": title,
            "status": status, "detail": detail,
            "code": STATUS_CODES.get(status, f"http-{status}")} | extra
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class BodyLimit:
    """Refuse request bodies over the limit, by Content-Length or by counting a stream."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        detail = (f"the request body is larger than the limit of {limit:,} bytes. "
                  "Send a smaller file, or raise COHEAR_MAX_REQUEST_BYTES")
        if _is_json(scope) and limits.JSON_BODY_BYTES < limit:
            # Files have their own limits; a JSON body is words and ids, never megabytes.
            limit = limits.JSON_BODY_BYTES
            detail = (f"a JSON request body is limited to {limit:,} bytes. Send fewer or "
                      "shorter items, in several requests if need be")
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    await problem_response(413, "Content too large", detail)(scope, receive, send)
                    return
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except _TooLarge:
            if not started:
                await problem_response(413, "Content too large", detail)(scope, receive, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


MAX_JSON_BYTES = limits.JSON_BODY_BYTES  # also for bodies sent with no content type
MAX_JSON_DEPTH = 32                # cohear's own bodies nest 6 deep at most
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Do the arrays and objects of a JSON text nest more than `limit` deep? Counted
    without parsing it, so a hostile body cannot exhaust the parser's recursion."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        depth += 1 if m.group() in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


class JsonLimits:
    """Every JSON request body is checked before any route parses it: at most
    MAX_JSON_BYTES and nested at most MAX_JSON_DEPTH deep (400 or 413 otherwise).

    It covers cohear's own routes, plain routes that read `request.json()` themselves
    (the link exchange, the LibreTranslate-compatible ones) and bodies sent without a
    content type, which FastAPI also reads as JSON. The problem's `error` member repeats
    `detail` for LibreTranslate clients, which read that key."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BYTES,
                 max_depth: int = MAX_JSON_DEPTH):
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    @staticmethod
    def _content_type(scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                return value.decode("latin-1").split(";")[0].strip().lower()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = self._content_type(scope)
        declared = kind is not None and (kind == "application/json" or kind.endswith("+json"))
        if kind is not None and not declared:
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            if not declared and not chunks and chunk.lstrip()[:1] not in (b"[", b"{", b""):
                # No content type and not JSON-looking (a raw upload): not ours to check.
                await self.app(scope, _replay([message], receive), send)
                return
            size += len(chunk)
            if size > self.max_bytes:
                await _json_problem(413, "Content too large",
                                    f"the JSON body is larger than {self.max_bytes:,} bytes. "
                                    "Send less in one request")(scope, receive, send)
                return
            chunks.append(chunk)
        body = b"".join(chunks)
        if json_too_deep(body, self.max_depth):
            await _json_problem(400, "Bad request",
                                f"the JSON body nests arrays or objects more than "
                                f"{self.max_depth} deep, which no cohear request needs. "
                                "Send a flatter body")(scope, receive, send)
            return
        message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([message], receive), send)


def _replay(messages: list, receive: Receive) -> Receive:
    """A receive() that gives back messages already read, then the real ones."""
    pending = list(messages)

    async def replayed():
        return pending.pop(0) if pending else await receive()

    return replayed


def _json_problem(status: int, title: str, detail: str) -> JSONResponse:
    return problem_response(status, title, detail, error=detail)


class SecurityHeaders:
    """Headers every response carries; a route may set its own Content-Security-Policy."""

    BASE = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"), (b"cross-origin-opener-policy", b"same-origin")]
    DEFAULT_CSP = b"default-src 'none'; frame-ancestors 'none'"
    DOCS_CSP = (b"default-src 'self'; script-src 'self' 'unsafe-inline'; "
                b"style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "") in ("/docs", "/redoc", "/docs/oauth2-redirect")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.BASE if k not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy",
                                    self.DOCS_CSP if docs else self.DEFAULT_CSP))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _TooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, "the request body is larger than the limit. Send a smaller "
                              "file, or raise COHEAR_MAX_REQUEST_BYTES")


def create_app(settings: Settings | None = None, *, start_worker: bool | None = None) -> FastAPI:
    settings = settings or load_settings()
    store = Store(settings)
    store.migrate()
    # Half-written files of a process that died (kill -9, power cut) mid-write; those of
    # processes still writing (another worker on this data directory) are left alone.
    temporaries.clean(store)
    jobs = JobQueue(store)
    run_worker = settings.embedded_worker if start_worker is None else start_worker

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if run_worker:
            jobs.start_worker(settings.worker_threads)
        if settings.host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("cohear is listening on %s, beyond this machine, without TLS of its own: "
                        "put it behind a TLS-terminating proxy", settings.host)
        try:
            yield
        finally:
            jobs.stop_worker()

    app = FastAPI(title="cohear", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="Offline, multilingual health communication and community "
                              "listening. Every route except /healthz and the docs needs "
                              "`Authorization: Bearer <token>`.")
    app.state.settings = settings
    app.state.store = store
    app.state.jobs = jobs

    @app.exception_handler(CohearError)
    async def cohear_error(request: Request, exc: CohearError):
        body = exc.problem()
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(body, status_code=exc.status, media_type=PROBLEM, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"there is no route {request.method} {request.url.path}. See /docs for the API"
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}. See /docs"
        return problem_response(exc.status_code, _title(exc.status_code), detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = [{"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg")}
                  for e in exc.errors()]
        summary = "; ".join(f"{e['where']}: {e['problem']}" for e in errors[:5])
        return problem_response(422, "Invalid request", f"the request is not valid: {summary}. "
                                "Fix those fields and send it again", errors=errors)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # The category and where in the code, never the message: it may quote the
        # request's words (see cohear.logs).
        ref = logs.reference()
        log.error("unexpected error %s on %s %s: %s\n%s", ref, request.method,
                  request.url.path, logs.category(exc), logs.frames(exc))
        return problem_response(500, "Internal error",
                                f"cohear hit an unexpected error (reference {ref}). Nothing "
                                "was half-saved; an admin can find the details in the server "
                                "log under that reference", reference=ref)

    @app.get("/healthz", tags=["shell"], response_model=HealthOut)
    def healthz() -> dict:
        return health(store, jobs)

    _offline_docs(app)
    from cohear.api import router as shell_router
    from cohear.worker_api import router as worker_router
    app.include_router(shell_router)
    app.include_router(worker_router)
    for module_name in DOMAIN_ROUTERS:
        module = importlib.import_module(module_name)
        app.include_router(module.router)
    openapi_with_problems(app)
    app.add_middleware(JsonLimits)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders)
    return app


def openapi_with_problems(app: FastAPI) -> None:
    """Error answers are RFC 9457 problems sent as `application/problem+json`: file
    every documented Problem (and FastAPI's own 422, which cohear answers as a Problem
    too) under that media type, so the description says what is really sent."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        problem = {"$ref": "#/components/schemas/Problem"}
        refs = {"#/components/schemas/Problem", "#/components/schemas/HTTPValidationError"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    bodies = response.get("content", {}).values()
                    if status[:1] in "45" and any(body.get("schema", {}).get("$ref") in refs
                                                  for body in bodies):
                        response["content"] = {PROBLEM: {"schema": problem}}
        components = schema.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in components and "HTTPValidationError" not in str(
                schema["paths"]):
            components.pop("HTTPValidationError")
            components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI served from the swagger-ui-bundle wheel: the docs work with no network."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
              name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="cohear API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def _title(status: int) -> str:
    from http import HTTPStatus
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def health(store: Store, jobs: JobQueue) -> dict:
    """What a monitor (or a person) needs to know: can cohear do its work right now?"""
    from cohear import models

    out: dict = {"status": "ok", "version": __version__}
    try:
        store.one("SELECT 1")
        pending = store.pending_migrations()
        out["database"] = {"ok": not pending, "path": str(store.path),
                           "pending_migrations": [m.key for m in pending]}
    except CohearError as exc:
        out["database"] = {"ok": False, "error": exc.message()}
    try:
        out["jobs"] = {"ok": True, "backend": store.settings.job_backend, "counts": jobs.counts()}
    except Exception as exc:  # noqa: BLE001
        out["jobs"] = {"ok": False, "error": logs.summary(exc)}
    try:
        wanted = store.settings.whisper_model
        listed = {m["name"]: m for m in models.list_models(store)}
        m = listed.get(wanted)
        out["whisper"] = {"ok": bool(m and m["verified"] and m["present"]), "model": wanted,
                          "verified": bool(m and m["verified"])} | whisper_device(store)
        if not out["whisper"]["ok"]:
            out["whisper"]["fix"] = "run `cohear models install`"
        elif out["whisper"]["fallback_reason"]:
            out["whisper"]["fix"] = ("the GPU is not used: see the fallback reason, and "
                                     "`cohear doctor` for what is missing")
    except Exception as exc:  # noqa: BLE001
        out["whisper"] = {"ok": False, "error": logs.summary(exc)}
    try:
        from language_packs import packs
        out["language_packs"] = {"ok": True, "installed": packs.installed_pairs(store)}
    except (ImportError, AttributeError):
        out["language_packs"] = {"ok": True, "installed": []}
    if not all(part.get("ok") for key, part in out.items() if isinstance(part, dict)):
        out["status"] = "degraded"
    # A GPU machine transcribing on its CPU still works, but far slower than planned.
    if out.get("whisper", {}).get("fallback_reason"):
        out["status"] = "degraded"
    return out


def whisper_device(store: Store) -> dict:
    """Where this process transcribes: the setting, and once the model has loaded (with
    the first transcription) the device it proved, its compute type and, when `auto`
    fell back to the CPU, why. Before that, `device` is null."""
    from cohear import cuda
    choice = cuda.current_choice()
    if choice.get("model") != store.settings.whisper_model:
        choice = {}
    return {"requested": store.settings.whisper_device, "device": choice.get("device"),
            "compute_type": choice.get("compute_type"),
            "fallback_reason": choice.get("fallback_reason")}
