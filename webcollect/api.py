"""HTTP for the field-capture page: the page itself at /collect (with its security
headers), its fonts and interface text, and the JSON API under /collect/api.

Authentication is a bearer token in the Authorization header, never a cookie, so a
page on another site cannot make the browser act for a signed-in collector (no CSRF).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from cohear import limits as L
from cohear.auth import User
from cohear.deps import allow, get_store
from cohear.errors import BadInput, NotFound
from cohear.ids import Id
from cohear.schema import BODY, SIGNED_IN, problems
from cohear.store import Store
from cohear.text import Text
from webcollect import fonts, links, service, strings
from webcollect.schema import (
    AnswerSentOut,
    CollectSurveyOut,
    ConsentSentOut,
    LinkIssuedOut,
    LinkOut,
    MissingSessionOut,
    PartStatusOut,
    SessionStartedOut,
    SessionStatusOut,
    SurveyInLanguageOut,
)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; "
    "manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=(), payment=(), usb=()",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
                ".html": "text/html; charset=utf-8", ".json": "application/json"}


class SecureRoute(APIRoute):
    """Every answer from this router carries the page's security headers."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            response = await handler(request)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            # Answers carry tokens, link codes and people's progress: never kept by a cache.
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return with_headers


router = APIRouter(tags=["field page"], route_class=SecureRoute, responses=SIGNED_IN)
# Sent again with the same Idempotency-Key, an item is recognised: 200 and `duplicate`.
AGAIN = "sent before under the same Idempotency-Key (or the same recording): `duplicate`"
StoreDep = Annotated[Store, Depends(get_store)]
Collector = Annotated[User, Depends(allow("sessions.run"))]
Admin = Annotated[User, Depends(allow("collect.links"))]
IdempotencyKey = Annotated[str, Header(description="a new random key per item; the same "
                                                   "key when sending it again")]


def _secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _static(name: str) -> Response:
    root = resources.files("webcollect") / "static"
    entry = root / name
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if "/" in name or name.startswith(".") or suffix not in STATIC_TYPES or not entry.is_file():
        raise NotFound(f"there is no file {name!r} on the field page", fix="open /collect/")
    # no-cache: the phone may keep a copy but asks whether it changed before using it.
    return _secure(Response(entry.read_bytes(), media_type=STATIC_TYPES[suffix],
                            headers={"Cache-Control": "no-cache"}))


# -- the page -----------------------------------------------------------------------
# The page's own files are plain routes, like a static mount: anyone may load them
# (everything they show comes from the signed-in API below), and they are no API
# operations, so they stay out of the OpenAPI description.

async def page_redirect(request: Request) -> Response:
    return _secure(RedirectResponse("/collect/", status_code=308))


async def page(request: Request) -> Response:
    return _static("index.html")


async def static_file(request: Request) -> Response:
    return _static(request.path_params["name"])


async def service_worker(request: Request) -> Response:
    # Served from /collect/ so that it may look after the whole page.
    return _static("sw.js")


async def fonts_css(request: Request) -> Response:
    return _secure(Response(fonts.stylesheet(), media_type="text/css",
                            headers={"Cache-Control": "no-cache"}))


async def font_file(request: Request) -> Response:
    return _secure(FileResponse(fonts.font_path(request.path_params["name"]),
                                media_type="font/ttf",
                                headers={"Cache-Control": "public, max-age=604800"}))


def interface_text(request: Request) -> Response:
    """The page's own words in a language: each string's approved translation (comms
    messages tagged `collect-page`), else English. The sign-in screen needs them."""
    found = strings.interface_text(request.app.state.store, request.path_params["language"])
    return _secure(JSONResponse(found, headers={"Cache-Control": "no-cache"}))


for _path, _endpoint in (("/collect", page_redirect), ("/collect/", page),
                         ("/collect/static/{name}", static_file),
                         ("/collect/sw.js", service_worker), ("/collect/fonts.css", fonts_css),
                         ("/collect/fonts/{name}", font_file),
                         ("/collect/interface/{language}", interface_text)):
    router.add_route(_path, _endpoint, methods=["GET"], include_in_schema=False)


# -- one-time links -----------------------------------------------------------------

class LinkRequest(BaseModel):
    collector: str = Field(max_length=L.USER_NAME_CHARS, description="the collector's user name")
    link_minutes: int = Field(links.DEFAULT_LINK_MINUTES,
                              description="the link must be opened within this many minutes")
    token_minutes: int = Field(links.DEFAULT_TOKEN_MINUTES,
                               description="how long the sign-in it gives lasts")


class Exchange(BaseModel):
    code: str = Field(max_length=200)


@router.post("/collect/api/links", status_code=201, response_model=LinkIssuedOut,
             responses=problems(*BODY, 404))
def issue_link(body: LinkRequest, request: Request, store: StoreDep, user: Admin) -> dict:
    """Issue a one-time sign-in link for a collector (admins). The code is shown once."""
    link = links.issue_link(store, user, body.collector, link_minutes=body.link_minutes,
                            token_minutes=body.token_minutes)
    link["url"] = str(request.base_url).rstrip("/") + link["path"]
    return link


@router.get("/collect/api/links", response_model=list[LinkOut])
def list_links(store: StoreDep, user: Admin) -> list[dict]:
    """One-time links, newest first, with their state (never their codes)."""
    return links.list_links(store, user)


@router.delete("/collect/api/links/{link_id}", response_model=LinkOut,
               responses=problems(404, 409))
def revoke_link(link_id: Id, store: StoreDep, user: Admin) -> dict:
    """Withdraw a link; if it was used, the token it gave stops working too."""
    return links.revoke_link(store, user, link_id)


async def exchange_link(request: Request) -> Response:
    """Swap a one-time link's code (`{"code": ...}`) for a short-lived collector token.

    Anyone may call it: the single-use code is the credential. It belongs to the page's
    sign-in, so it is a plain route like the page's own files rather than an API
    operation that needs a role (which the authorisation matrix requires of those)."""
    try:
        body = Exchange.model_validate(await request.json())
    except (ValueError, ValidationError):
        raise BadInput("send the link's code as JSON: {\"code\": \"cl_...\"}",
                       fix="open the whole link you were sent", code="link-invalid") from None
    found = await run_in_threadpool(links.exchange, request.app.state.store, body.code)
    return _secure(JSONResponse(found, headers={"Cache-Control": "no-store"}))


router.add_route("/collect/api/links/exchange", exchange_link, methods=["POST"],
                 include_in_schema=False)


# -- collecting ---------------------------------------------------------------------

class SessionRequest(BaseModel):
    survey_id: Id
    language: str = Field(max_length=L.LANGUAGE_TAG_CHARS)


def _created(result: dict) -> JSONResponse:
    return JSONResponse(result, status_code=200 if result.get("duplicate") else 201)


@router.get("/collect/api/surveys", response_model=list[CollectSurveyOut])
def surveys(store: StoreDep, user: Collector) -> list[dict]:
    """Surveys open for collection, with the languages each is open in."""
    return service.surveys_for(store, user)


@router.get("/collect/api/surveys/{survey_id}/{language}", response_model=SurveyInLanguageOut,
            responses=problems(400, 404, 409))
def survey_in(survey_id: Id, language: str, store: StoreDep, user: Collector) -> dict:
    """A survey's consent text and questions in one language."""
    return service.survey_in(store, user, survey_id, language)


@router.get("/collect/api/questions/{question_id}/prompt/{language}",
            responses={200: {"content": {"audio/*": {}, "application/octet-stream": {}},
                             "description": "the question read aloud"}} | problems(400, 404))
def prompt(question_id: Id, language: str, store: StoreDep, user: Collector) -> Response:
    """A question's recorded audio prompt in a language."""
    path, media_type = service.prompt_file(store, user, question_id, language)
    return FileResponse(path, media_type=media_type)


@router.post("/collect/api/sessions", status_code=201, response_model=SessionStartedOut,
             responses={200: {"model": SessionStartedOut, "description": AGAIN}}
             | problems(*BODY, 404, 409, 503))
def start_session(body: SessionRequest, idempotency_key: IdempotencyKey, store: StoreDep,
                  user: Collector):
    """Start a session with a new respondent. The same Idempotency-Key again returns
    the same session (200) instead of starting another (201)."""
    return _created(service.start_session(store, user, idempotency_key, body.survey_id,
                                          body.language))


@router.post("/collect/api/sessions/{session_id}/consent", status_code=201,
             response_model=ConsentSentOut,
             responses={200: {"model": ConsentSentOut, "description": AGAIN}}
             | problems(*BODY, 404, 409, 415, 503))
def record_consent(session_id: Id, method: Annotated[str, Form(description="tick or "
                                                                           "verbal_recording",
                                                               max_length=20)],
                   idempotency_key: IdempotencyKey, store: StoreDep, user: Collector,
                   recording: Annotated[UploadFile | None,
                                        File(description="spoken consent")] = None,
                   in_parts: Annotated[bool, Form(description="the recording was sent in "
                                                              "parts under this key")] = False):
    """Record the respondent's consent, before any answer."""
    return _created(service.record_consent(
        store, user, idempotency_key, session_id, method=method,
        recording=recording.file if recording else None,
        filename=recording.filename if recording else None,
        content_type=recording.content_type if recording else None, in_parts=in_parts))


@router.post("/collect/api/sessions/{session_id}/answers", status_code=201,
             response_model=AnswerSentOut,
             responses={200: {"model": AnswerSentOut, "description": AGAIN}}
             | problems(*BODY, 404, 409, 415, 503))
def submit_answer(session_id: Id, question_id: Annotated[Id, Form()],
                  idempotency_key: IdempotencyKey, store: StoreDep, user: Collector,
                  text: Annotated[Text | None, Form()] = None,  # the service's 413 says more
                  choices: Annotated[list[Annotated[str, Field(max_length=L.CHOICE_VALUE_CHARS)]]
                                     | None, Form(max_length=L.CHOICES_PER_QUESTION)] = None,
                  audio: Annotated[UploadFile | None,
                                   File(description="the recorded answer")] = None,
                  in_parts: Annotated[bool, Form(description="the recording was sent in "
                                                             "parts under this key")] = False):
    """One answer: a recording, typed text, or chosen options. Sent again with the
    same Idempotency-Key (or the same recording), it is recognised, not stored twice.
    Sent with a new key for a question already answered in a session not yet finished,
    it is a new version of that answer (same `answer_id`, `version` + 1)."""
    return _created(service.submit_answer(
        store, user, idempotency_key, session_id, question_id, text=text, choices=choices,
        audio=audio.file if audio else None, filename=audio.filename if audio else None,
        content_type=audio.content_type if audio else None, in_parts=in_parts))


@router.post("/collect/api/sessions/{session_id}/finish", responses=problems(404))
def finish_session(session_id: Id, store: StoreDep, user: Collector) -> dict:
    """The respondent is finished: their answers are final (answering again is 409).
    Finishing twice is harmless."""
    return service.finish_session(store, user, session_id)


@router.delete("/collect/api/sessions/{session_id}", responses=problems(404, 409))
def discard_session(session_id: Id, store: StoreDep, user: Collector) -> dict:
    """Discard a session with no answer yet (its consent and respondent go with it);
    one with answers is 409."""
    return service.discard_session(store, user, session_id)


PartKey = Annotated[str, Path(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/collect/api/parts/{key}", response_model=PartStatusOut, responses=problems(400))
def part_status(key: PartKey, store: StoreDep, user: Collector) -> dict:
    """How much of a recording sent in parts has arrived (the phone carries on from there)."""
    return service.part_status(store, user, key)


@router.put("/collect/api/parts/{key}", response_model=PartStatusOut,
            responses=problems(*BODY, 404, 409),
            openapi_extra={"requestBody": {"content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}, "required": True}})
async def add_part(key: PartKey, request: Request, store: StoreDep, user: Collector,
                   offset: Annotated[int, Query(ge=0, le=2**40)],
                   total: Annotated[int, Query(ge=1, le=2**40)],
                   session: Annotated[int | None, Query(ge=1, le=2**53, description=(
                       "the session the recording is for: a respondent's withdrawal "
                       "drops their unfinished uploads"))] = None) -> dict:
    """Add the part of a recording that starts at byte `offset` (of `total`). A part
    that does not start where the last ended gets 409 with `received`. Then send the
    answer or consent with `in_parts=true` and the same Idempotency-Key."""
    data = await request.body()
    return await run_in_threadpool(service.add_part, store, user, key, offset, total, data,
                                   session)


@router.get("/collect/api/sessions/{session_id}", response_model=SessionStatusOut,
            responses=problems(404))
def session(session_id: Id, store: StoreDep, user: Collector) -> dict:
    """One of your sessions: consent, answers and each answer's transcription."""
    return service.session_summary(store, user, session_id)


@router.get("/collect/api/status", response_model=list[SessionStatusOut | MissingSessionOut],
            responses=problems(400))
def status(store: StoreDep, user: Collector,
           session: Annotated[list[Id], Query(max_length=L.SESSIONS_PER_STATUS)] = ()) -> list[dict]:
    """Several of your sessions at once (`?session=1&session=2`)."""
    return service.sessions_summary(store, user, list(session))
