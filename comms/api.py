"""HTTP routes for health messages and their translations under /api/messages: they
translate HTTP to comms.service calls and back. Roles: see comms/service.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from cohear import limits
from cohear.auth import User
from cohear.deps import allow, get_jobs, get_store
from cohear.ids import Id
from cohear.jobs import JobQueue
from cohear.schema import BODY, SIGNED_IN, problems
from cohear.store import Store
from comms import exchange, exports, service
from comms.schema import (
    Approval,
    CheckOut,
    CoverageOut,
    GlossaryTerm,
    GlossaryTermOut,
    HumanRequest,
    ImportResultOut,
    MessageEdit,
    MessageOut,
    MessageVersionOut,
    NewMessage,
    TranslateMany,
    TranslateQueuedOut,
    TranslateRequest,
    TranslateResultOut,
    TranslationEdit,
    TranslationOut,
    TranslationRevisionOut,
)

router = APIRouter(prefix="/api/messages", tags=["messages"], responses=SIGNED_IN)

StoreDep = Annotated[Store, Depends(get_store)]
JobsDep = Annotated[JobQueue, Depends(get_jobs)]
Reader = Annotated[User, Depends(allow("comms.read"))]
Writer = Annotated[User, Depends(allow("comms.write"))]
Editor = Annotated[User, Depends(allow("comms.edit_translation"))]
Approver = Annotated[User, Depends(allow("comms.approve"))]
Languages = Annotated[list[str] | None, Query()]
# Translator files are sent as the raw request body, as a CAT tool saved them.
_FILE = {"schema": {"type": "string", "format": "binary"}}
IMPORT_BODY = {"requestBody": {"required": True, "content": {
    "application/xliff+xml": _FILE, "text/x-gettext-translation": _FILE}}}
TRANSLATED = {"response_model": TranslateResultOut, "responses": {
    202: {"model": TranslateQueuedOut, "description": "queued as a job (many pairs)"}}
    | problems(*BODY, 404, 409)}
EXCHANGE_FILE = {200: {"content": {"application/xliff+xml": {}, "text/x-gettext-translation": {}},
                       "description": "a file for a human translator"}}


def _translate(
    store: Store, jobs: JobQueue, user: User, message_ids: list[int], body: TranslateRequest
):
    pairs = len(message_ids) * len(body.languages)
    background = (
        body.background if body.background is not None else pairs > service.SYNC_TRANSLATIONS
    )
    # Refuse unknown messages, languages and missing packs now, not later in a job.
    service.plan_translation(store, message_ids, body.languages, force=body.force)
    if background:
        job_id = jobs.enqueue(
            "comms.translate",
            {"message_ids": message_ids, "languages": body.languages, "force": body.force},
            actor=user,
        )
        return JSONResponse(
            {"job_id": job_id, "status": "queued", "poll": f"/api/jobs/{job_id}"}, status_code=202
        )
    return service.translate_messages(store, user, message_ids, body.languages, force=body.force)


# -- many messages -------------------------------------------------------------------
@router.post("", status_code=201, response_model=MessageOut, responses=problems(*BODY, 409))
def create_message(*, body: NewMessage, store: StoreDep, user: Writer) -> dict:
    return service.create_message(store, user, **body.model_dump())


@router.get("", response_model=list[MessageOut], responses=problems(400))
def list_messages(
    *, tag: str | None = None, channel: str | None = None, store: StoreDep, _: Reader
) -> list[dict]:
    return service.list_messages(store, tag=tag, channel=channel)


@router.get("/coverage.json", response_model=CoverageOut, responses=problems(400))
def coverage_json(*, language: Languages = None, store: StoreDep, _: Reader) -> dict:
    return exports.coverage(store, language)


@router.get("/coverage.csv", response_class=PlainTextResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "coverage as CSV"}}
            | problems(400))
def coverage_csv(*, language: Languages = None, store: StoreDep, _: Reader) -> Response:
    return Response(
        exports.coverage_csv(store, language),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="coverage.csv"'},
    )


@router.post("/translate", **TRANSLATED)
def translate_many(*, body: TranslateMany, store: StoreDep, jobs: JobsDep, user: Writer):
    return _translate(store, jobs, user, body.message_ids, body)


@router.get("/glossary", response_model=list[GlossaryTermOut])
def glossary(*, store: StoreDep, _: Reader) -> list[dict]:
    return service.list_glossary(store)


@router.post("/glossary", status_code=201, response_model=GlossaryTermOut,
             responses=problems(*BODY, 409))
def add_glossary_term(*, body: GlossaryTerm, store: StoreDep, user: Writer) -> dict:
    return service.add_glossary_term(
        store,
        user,
        body.term,
        language_tag=body.language,
        translation=body.translation,
        note=body.note,
    )


@router.delete("/glossary", response_model=GlossaryTermOut, responses=problems(400, 404, 409))
def remove_glossary_term(*, term: Annotated[str, Query(max_length=limits.GLOSSARY_TERM_CHARS)],
                         language: str | None = None, store: StoreDep, user: Writer) -> dict:
    """Remove a do-not-translate term (no `language`) or one language's fixed translation."""
    return service.remove_glossary_term(store, user, term, language_tag=language)


def _exchange_file(store: Store, ids: list[int], language: str, fmt: str, include_all: bool):
    data, name = exchange.export_file(store, ids, language, fmt, include_all=include_all)
    return Response(
        data,
        media_type=exchange.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/export.xlf", responses=EXCHANGE_FILE | problems(400, 404))
def export_many_xliff(
    *,
    ids: Annotated[list[Id], Query()],
    language: Annotated[str, Query()],
    all: bool = False,
    store: StoreDep,
    _: Writer,
) -> Response:
    return _exchange_file(store, ids, language, "xliff", all)


@router.get("/export.po", responses=EXCHANGE_FILE | problems(400, 404))
def export_many_po(
    *,
    ids: Annotated[list[Id], Query()],
    language: Annotated[str, Query()],
    all: bool = False,
    store: StoreDep,
    _: Writer,
) -> Response:
    return _exchange_file(store, ids, language, "po", all)


@router.post("/import", openapi_extra=IMPORT_BODY, response_model=ImportResultOut,
             responses=problems(*BODY, 404, 409))
async def import_many(
    *, request: Request, language: str | None = None, store: StoreDep, user: Writer
) -> dict:
    return exchange.import_file(store, user, await request.body(), lang=language)


# -- one message -----------------------------------------------------------------------
@router.get("/{message_id}", response_model=MessageOut, responses=problems(404))
def get_message(*, message_id: Id, store: StoreDep, _: Reader) -> dict:
    return service.get_message(store, message_id)


@router.patch("/{message_id}", response_model=MessageOut, responses=problems(*BODY, 404, 409))
def edit_message(*, message_id: Id, body: MessageEdit, store: StoreDep, user: Writer) -> dict:
    changes = body.model_dump(exclude={"version"})
    return service.edit_message(store, user, message_id, expected_version=body.version, **changes)


@router.get("/{message_id}/versions", response_model=list[MessageVersionOut],
            responses=problems(404))
def versions(*, message_id: Id, store: StoreDep, _: Reader) -> list[dict]:
    return service.versions(store, message_id)


@router.get("/{message_id}/check", response_model=CheckOut, responses=problems(404))
def check(*, message_id: Id, store: StoreDep, _: Reader) -> dict:
    return service.check_message(store, message_id)


@router.post("/{message_id}/translate", **TRANSLATED)
def translate(
    *, message_id: Id, body: TranslateRequest, store: StoreDep, jobs: JobsDep, user: Writer
):
    return _translate(store, jobs, user, [message_id], body)


@router.get("/{message_id}/translations", response_model=list[TranslationOut],
            responses=problems(404))
def list_translations(*, message_id: Id, store: StoreDep, _: Reader) -> list[dict]:
    return service.list_translations(store, message_id)


@router.get("/{message_id}/translations/{language}", response_model=TranslationOut,
            responses=problems(400, 404))
def get_translation(*, message_id: Id, language: str, store: StoreDep, _: Reader) -> dict:
    return service.get_translation(store, message_id, language)


@router.get("/{message_id}/translations/{language}/history",
            response_model=list[TranslationRevisionOut], responses=problems(400, 404))
def translation_history(
    *, message_id: Id, language: str, store: StoreDep, _: Reader
) -> list[dict]:
    return service.translation_history(store, message_id, language)


@router.put("/{message_id}/translations/{language}", response_model=TranslationOut,
            responses=problems(*BODY, 404, 409, 422))
def edit_translation(
    *, message_id: Id, language: str, body: TranslationEdit, store: StoreDep, user: Editor
) -> dict:
    return service.edit_translation(store, user, message_id, language, body.text,
                                    expected_revision=body.revision)


@router.post("/{message_id}/translations/{language}/approve", response_model=TranslationOut,
             responses=problems(*BODY, 404, 409, 422))
def approve(
    *, message_id: Id, language: str, body: Approval, store: StoreDep, user: Approver
) -> dict:
    return service.approve_translation(store, user, message_id, language, revision=body.revision)


@router.post("/{message_id}/human-requests", response_model=list[TranslationOut],
             responses=problems(*BODY, 404, 409))
def request_human(
    *, message_id: Id, body: HumanRequest, store: StoreDep, user: Writer
) -> list[dict]:
    return service.request_human(store, user, message_id, body.languages)


@router.get("/{message_id}/export.xlf", responses=EXCHANGE_FILE | problems(400, 404))
def export_xliff(
    *,
    message_id: Id,
    language: Annotated[str, Query()],
    all: bool = False,
    store: StoreDep,
    _: Writer,
) -> Response:
    return _exchange_file(store, [message_id], language, "xliff", all)


@router.get("/{message_id}/export.po", responses=EXCHANGE_FILE | problems(400, 404))
def export_po(
    *,
    message_id: Id,
    language: Annotated[str, Query()],
    all: bool = False,
    store: StoreDep,
    _: Writer,
) -> Response:
    return _exchange_file(store, [message_id], language, "po", all)


@router.post("/{message_id}/import", openapi_extra=IMPORT_BODY, response_model=ImportResultOut,
             responses=problems(*BODY, 404, 409))
async def import_file(
    *, message_id: Id, request: Request, language: str | None = None, store: StoreDep, user: Writer
) -> dict:
    return exchange.import_file(
        store, user, await request.body(), message_id=message_id, lang=language
    )


@router.get("/{message_id}/text", response_class=PlainTextResponse,
            responses=problems(400, 404, 409))
def export_text(
    *, message_id: Id, language: Annotated[str, Query()], store: StoreDep, _: Reader
) -> Response:
    return PlainTextResponse(exports.export_text(store, message_id, language))


@router.get("/{message_id}/page.html", response_class=HTMLResponse,
            responses=problems(400, 404, 409))
def export_html(
    *, message_id: Id, language: Languages = None, store: StoreDep, _: Reader
) -> Response:
    return HTMLResponse(
        exports.export_html(store, message_id, language),
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )
