"""LibreTranslate-compatible routes at the root (`POST /translate`, `GET /languages`,
`POST /detect`, `GET /frontend/settings`), so LibreTranslate clients can use cohear.

These routes speak LibreTranslate's JSON, not cohear's problem details: answers are
`{"translatedText": ...}` and errors are `{"error": "..."}`, because LibreTranslate
clients read exactly those keys. Status codes: 400 for a bad request, 401 for a
missing, invalid, expired or revoked key (as every cohear route), 403 for a role that
may not, 500 when translation fails. Each protocol route names the permission it
checks in `openapi_extra["x-cohear-action"]`, for the authorisation matrix.
`api_key` is a cohear token (the `Authorization: Bearer` header works too); the
person must have a role that may translate (communicator, reviewer or admin).
`GET /languages` and `/frontend/settings` need no key, as in LibreTranslate: they only
say which languages the installed packs cover.
"""

from __future__ import annotations

import re
from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cohear.auth import User, authenticate
from cohear.deps import bearer
from cohear.errors import CohearError, Forbidden, Unauthorized
from cohear.store import Store
from language_packs import service
from language_packs.detect import detect
from language_packs.engine import MAX_TEXT_CHARS
from language_packs.registry import LANGUAGES, get_language

router = APIRouter(tags=["LibreTranslate-compatible"])


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _status(exc: CohearError) -> int:
    if isinstance(exc, (Unauthorized, Forbidden)):
        return exc.status
    return 500 if exc.status >= 500 else 400


async def _params(request: Request) -> dict:
    """The request's fields from JSON, a form, or the query string (in that order)."""
    params: dict = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type:
        try:
            body = await request.json()
        except ValueError:
            raise _Refused(400, "Invalid request: the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _Refused(400, "Invalid request: the JSON body must be an object")
        params.update(body)
    elif "form" in content_type:
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - Starlette raises several kinds for a broken form
            raise _Refused(400, "Invalid request: the form data cannot be read") from None
        for key in form:
            values = form.getlist(key)
            params[key] = values if key == "q" and len(values) > 1 else values[0]
    return params


def _user(request: Request, params: dict, action: str) -> User:
    store: Store = request.app.state.store
    try:
        user = authenticate(store, params.get("api_key") or bearer(request))
        user.require(action)
    except Unauthorized as exc:
        raise _Refused(401, f"Invalid API key: {exc.message()}") from None
    except Forbidden as exc:
        raise _Refused(403, exc.message()) from None
    return user


def _texts(params: dict) -> tuple[list[str], bool]:
    q = params.get("q")
    if q is None or q == "" or q == []:
        raise _Refused(400, "Invalid request: missing q parameter")
    if isinstance(q, str):
        return [q], False
    if isinstance(q, list) and all(isinstance(item, str) for item in q):
        return q, True
    raise _Refused(400, "Invalid request: q must be a string or a list of strings")


@router.post("/translate", summary="Translate (LibreTranslate-compatible)",
             openapi_extra={"x-cohear-action": "translate.use"})
async def translate(request: Request) -> JSONResponse:
    """Fields: `q` (string or list), `source` (a tag or "auto"), `target`, `format`
    (text or html), `api_key`. Answers `{"translatedText": ...}` (a list for a list `q`)."""
    try:
        params = await _params(request)
        user = _user(request, params, "translate.use")
        texts, many = _texts(params)
        source = str(params.get("source") or "")
        target = str(params.get("target") or "")
        fmt = str(params.get("format") or "text")
        if not source:
            raise _Refused(400, "Invalid request: missing source parameter")
        if not target:
            raise _Refused(400, "Invalid request: missing target parameter")
        if fmt not in ("text", "html"):
            raise _Refused(400, f"Invalid request: format {fmt!r} is not text or html")
        store: Store = request.app.state.store
        results, detected = await run_in_threadpool(
            _translate, store, user, texts, source, target, fmt)
    except _Refused as exc:
        return _error(exc.status, exc.message)
    except CohearError as exc:
        return _error(_status(exc), exc.message())
    body: dict = {"translatedText": results if many else results[0]}
    if detected is not None:
        body["detectedLanguage"] = detected if many else detected[0]
    alternatives = params.get("alternatives")
    if alternatives not in (None, "", 0, "0"):
        body["alternatives"] = [[] for _ in results] if many else []
    return JSONResponse(body)


def _translate(store: Store, user: User, texts: list[str], source: str, target: str,
               fmt: str) -> tuple[list[str], list[dict] | None]:
    target = get_language(target).tag
    if source != "auto":
        found = service.translate(store, user, texts, source, target, fmt=fmt)
        return [t.text for t in found], None
    # "auto": detect each text (by its words, not its tags), then translate each
    # detected language as one batch.
    words = [re.sub(r"<[^>]*>", " ", t) if fmt == "html" else t for t in texts]
    detected = [detect(text)[0] for text in words]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(detected):
        groups[d["language"]].append(i)
    out = [""] * len(texts)
    for lang, indexes in groups.items():
        found = service.translate(store, user, [texts[i] for i in indexes], lang, target,
                                  fmt=fmt)
        for i, result in zip(indexes, found):
            out[i] = result.text
    return out, detected


@router.get("/languages", summary="Languages (LibreTranslate-compatible)")
def languages(request: Request) -> list[dict]:
    """The languages installed packs translate from, each with the tags it reaches."""
    targets = service.translation_targets(request.app.state.store)
    return [{"code": tag, "name": LANGUAGES[tag].english_name, "targets": reach}
            for tag, reach in targets.items()]


@router.post("/languages", include_in_schema=False)
def languages_by_post(request: Request) -> list[dict]:
    """LibreTranslate answers POST too, and some clients use it."""
    return languages(request)


@router.post("/detect", summary="Detect a language (LibreTranslate-compatible)",
             openapi_extra={"x-cohear-action": "languages.read"})
async def detect_language(request: Request) -> JSONResponse:
    """Offline detection by script and tell-tale letters and words (see
    `language_packs.detect` for how and its limits). Answers
    `[{"confidence": 0..100, "language": tag}]`, best first."""
    try:
        params = await _params(request)
        _user(request, params, "languages.read")
        texts, _ = _texts(params)
    except _Refused as exc:
        return _error(exc.status, exc.message)
    if len(texts[0]) > MAX_TEXT_CHARS:
        return _error(400, f"Invalid request: the text is over {MAX_TEXT_CHARS:,} characters")
    return JSONResponse([{"confidence": d["confidence"], "language": d["language"]}
                         for d in detect(texts[0])[:3]])


@router.get("/frontend/settings", summary="Client settings (LibreTranslate-compatible)")
def frontend_settings(request: Request) -> dict:
    targets = service.translation_targets(request.app.state.store)
    first_target = (targets.get("en") or ["en"])[0]
    return {"apiKeys": True, "keyRequired": True, "charLimit": MAX_TEXT_CHARS,
            "suggestions": False, "supportedFilesFormat": [],
            "language": {"source": {"code": "en", "name": "English"},
                         "target": {"code": first_target,
                                    "name": LANGUAGES[first_target].english_name}}}
