"""LibreTranslate-compatible routes at the root, so LibreTranslate clients can use cohear:
`POST /translate`, `POST /translate_file` (+ `GET /download_file/NAME`), `POST /detect`,
`POST /suggest`, `GET|POST /languages`, `GET /frontend/settings` and `GET /health`.

They answer in LibreTranslate's JSON, not cohear's problem details: `{"translatedText":
...}`, `{"translatedFileUrl": ...}`, `{"success": true}`, and errors as `{"error":
"..."}`, with LibreTranslate's status codes when it runs with API keys required: 400
for a bad request and for a missing key ("Please contact the server operator to get an
API key"), 403 for an invalid, expired or revoked key and for a role that may not, 500
when translation fails. `api_key` is a cohear token (the `Authorization: Bearer` header
works too). Each protocol route names the permission it checks and the statuses it
refuses with in `openapi_extra`, for the authorisation matrix.

Who may: translating text and files needs a role that may machine-translate
(communicator, reviewer, admin); detecting, any signed-in role; suggesting, a role that
may edit translations (a suggestion becomes a translation needing review in comms, never
an approved one). `GET /languages`, `/frontend/settings` and `/health` answer anyone, as
LibreTranslate's do: they say only which language packs are installed, never anyone's
words. A translated file is fetched from a link whose name is a random 128-bit token, as
LibreTranslate's are; it can be fetched for 30 minutes and is then deleted.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import defaultdict
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from cohear import limits, temporaries
from cohear.auth import User, authenticate
from cohear.deps import bearer
from cohear.errors import CohearError, Forbidden, TooLarge, Unauthorized
from cohear.store import Store
from language_packs import documents, service
from language_packs.detect import detect
from language_packs.engine import MAX_TEXT_CHARS
from language_packs.registry import LANGUAGES, get_language, normalise_tag

router = APIRouter(tags=["LibreTranslate-compatible"])

MAX_BATCH = limits.TEXTS_PER_TRANSLATION  # texts in one /translate call
FILE_MINUTES = 30               # how long a translated file can be fetched
FRONTEND_TIMEOUT_MS = 500       # LibreTranslate's default for its own web page
FILES_DIR = "translated-files"
_FILE_NAME = re.compile(r"^[0-9a-f]{32}\.[A-Za-z0-9_][A-Za-z0-9._-]{0,100}$")
# LibreTranslate with API keys required: no key 400, a bad key 403, a role that may not 403.
_REFUSALS = {"anonymous": 400, "invalid": 403, "forbidden": 403}


def _protocol(action: str) -> dict:
    return {"x-cohear-action": action, "x-cohear-refusals": _REFUSALS}


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _from_cohear(exc: CohearError) -> _Refused:
    if isinstance(exc, Unauthorized):
        return _Refused(403, f"Invalid API key: {exc.message()}")
    if isinstance(exc, Forbidden):
        return _Refused(403, exc.message())
    return _Refused(500 if exc.status >= 500 else 400, exc.message())


async def _params(request: Request) -> dict:
    """The request's fields from JSON, a form (urlencoded or multipart), or the query."""
    params: dict = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type:
        try:
            body = await request.json()
        except ValueError:
            raise _Refused(400, "Invalid JSON format") from None
        if not isinstance(body, dict):
            raise _Refused(400, "Invalid JSON format")
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
    key = params.get("api_key") or bearer(request)
    if not key or not isinstance(key, str):
        raise _Refused(400, "Please contact the server operator to get an API key (a cohear "
                            "token, issued with `cohear users add NAME --role ROLE`)")
    try:
        user = authenticate(store, key)
        user.require(action)
    except CohearError as exc:
        raise _from_cohear(exc) from None
    return user


def _missing(params: dict, *names: str) -> None:
    for name in names:
        if params.get(name) in (None, "", []):
            raise _Refused(400, f"Invalid request: missing {name} parameter")


def _texts(params: dict) -> tuple[list[str], bool]:
    _missing(params, "q")
    q = params["q"]
    if isinstance(q, str):
        texts, many = [q], False
    elif isinstance(q, list) and all(isinstance(item, str) for item in q):
        texts, many = q, True
        if len(q) > MAX_BATCH:
            raise _Refused(400, f"Invalid request: request ({len(q)}) exceeds text limit "
                                f"({MAX_BATCH})")
    else:
        raise _Refused(400, "Invalid request: q must be a string or a list of strings")
    for text in texts:
        if len(text) > MAX_TEXT_CHARS:
            raise _Refused(400, f"Invalid request: request ({len(text)}) exceeds text limit "
                                f"({MAX_TEXT_CHARS})")
    return texts, many


def _tag(code, *, auto: bool = False) -> str:
    """cohear's tag for a LibreTranslate language code, or LibreTranslate's refusal."""
    code = str(code)
    if auto and code == "auto":
        return code
    tag = normalise_tag(code)
    if not tag:
        raise _Refused(400, f"{code} is not supported (cohear knows: {', '.join(LANGUAGES)})")
    return tag


def _reachable(store: Store, source: str, target: str) -> None:
    if source == target:
        return
    if target not in service.installed_languages(store).get(source, []):
        s, t = LANGUAGES[source], LANGUAGES[target]
        raise _Refused(400, f"{t.english_name} ({t.tag}) is not available as a target language "
                            f"from {s.english_name} ({s.tag}): no translation pack is installed "
                            "for it; ask a human translator (comms' request-human), or install "
                            "a pack with `cohear packs install`")


@router.post("/translate", summary="Translate (LibreTranslate-compatible)",
             openapi_extra=_protocol("translate.use"))
async def translate(request: Request) -> JSONResponse:
    """Fields: `q` (string or list), `source` (a tag or "auto"), `target`, `format`
    (text or html), `alternatives`, `api_key`. Answers `{"translatedText": ...}` (a list
    for a list `q`), with `detectedLanguage` for "auto"."""
    try:
        params = await _params(request)
        user = _user(request, params, "translate.use")
        texts, many = _texts(params)
        _missing(params, "source", "target")
        try:
            alternatives = max(0, int(params.get("alternatives") or 0))
        except (TypeError, ValueError):
            raise _Refused(400, "Invalid request: alternatives parameter is not a number") \
                from None
        source, target = _tag(params["source"], auto=True), _tag(params["target"])
        fmt = str(params.get("format") or "text")
        if fmt not in ("text", "html"):
            raise _Refused(400, f"{fmt} format is not supported")
        store: Store = request.app.state.store
        results, detected = await run_in_threadpool(
            _translate, store, user, texts, source, target, fmt)
    except _Refused as exc:
        return _error(exc.status, exc.message)
    except CohearError as exc:
        refused = _from_cohear(exc)
        return _error(refused.status, refused.message)
    body: dict = {"translatedText": results if many else results[0]}
    if detected is not None:
        body["detectedLanguage"] = detected if many else detected[0]
    if alternatives:
        # The engine gives one translation per text; there are no alternatives to offer.
        body["alternatives"] = [[] for _ in results] if many else []
    return JSONResponse(body)


def _translate(store: Store, user: User, texts: list[str], source: str, target: str,
               fmt: str) -> tuple[list[str], list[dict] | None]:
    if source != "auto":
        _reachable(store, source, target)
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
        _reachable(store, get_language(lang).tag, target)
        found = service.translate(store, user, [texts[i] for i in indexes], lang, target,
                                  fmt=fmt)
        for i, result in zip(indexes, found):
            out[i] = result.text
    return out, detected


@router.post("/translate_file", summary="Translate a file (LibreTranslate-compatible)",
             openapi_extra=_protocol("translate.use"))
async def translate_file(request: Request) -> JSONResponse:
    """Multipart `file` (.txt, .html, .docx or .odt), `source` (a tag or "auto"),
    `target`, `api_key`. Answers `{"translatedFileUrl": ...}`: fetch it within 30 minutes."""
    try:
        params = await _params(request)
        user = _user(request, params, "translate.use")
        upload = params.get("file")
        if upload is None or isinstance(upload, str):
            raise _Refused(400, "Invalid request: missing file parameter")
        _missing(params, "source", "target")
        if not upload.filename:
            raise _Refused(400, "Invalid request: empty file")
        if documents.kind_of(upload.filename) is None:
            raise _Refused(400, "Invalid request: file format not supported")
        source, target = _tag(params["source"], auto=True), _tag(params["target"])
        data = await upload.read(documents.MAX_FILE_BYTES + 1)
        store: Store = request.app.state.store
        name = await run_in_threadpool(_translate_file, store, user, data, upload.filename,
                                       source, target)
    except _Refused as exc:
        return _error(exc.status, exc.message)
    except CohearError as exc:
        refused = _from_cohear(exc)
        return _error(refused.status, refused.message)
    return JSONResponse({"translatedFileUrl": str(request.url_for("download_file",
                                                                  filename=name))})


def _files(store: Store) -> Path:
    folder = store.settings.data_dir / FILES_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def remove_expired_files(store: Store, *, older_than_minutes: float = FILE_MINUTES) -> int:
    """Delete translated files older than the time they may be fetched. Returns how many.

    Called before each file is written or fetched, and as a cleaner of
    `cohear.temporaries` (so at start-up of `cohear serve` and `cohear worker`, in
    `cohear db check --repair` and every ten minutes in a worker): a translated file holds
    people's words and goes when its link does, even when nobody calls again. Start-up
    removes only expired ones, not all: a worker starting beside a running server on the
    same data directory must not break links that server gave out minutes ago. A file
    half-written by a process that died is removed by `cohear.temporaries` itself."""
    return len(_remove_expired(store, older_than_minutes))


def _remove_expired(store: Store, older_than_minutes: float) -> list[str]:
    """The expired files removed, each named by its random part only (the rest of a
    name is the client's file name, which may say whom the document is about)."""
    folder = store.settings.data_dir / FILES_DIR
    if not folder.is_dir():
        return []
    cutoff = time.time() - older_than_minutes * 60
    removed = []
    for path in folder.iterdir():
        if path.name.startswith("."):  # being written: its writer's, see cohear.temporaries
            continue
        try:
            if path.stat().st_mtime <= cutoff:
                path.unlink()
                removed.append(f"{FILES_DIR}/{path.name.split('.', 1)[0]}")
        except FileNotFoundError:
            pass
    return removed


@temporaries.cleaner("language_packs.translated_files")
def _clean_translated_files(store: Store) -> list[str]:
    return _remove_expired(store, FILE_MINUTES)


def _translate_file(store: Store, user: User, data: bytes, filename: str, source: str,
                    target: str) -> str:
    if len(data) > documents.MAX_FILE_BYTES:
        raise TooLarge(f"Invalid request: the file is over {documents.MAX_FILE_BYTES:,} bytes",
                       fix="split the document")
    document = documents.open_document(data, filename)
    if source == "auto":
        sample = " ".join(document.units)[:2000]
        source = get_language(detect(sample)[0]["language"]).tag if sample.strip() else "en"
    _reachable(store, source, target)
    translated = ([t.text for t in service.translate(store, user, document.units, source,
                                                     target)] if document.units else [])
    remove_expired_files(store)
    name = f"{secrets.token_hex(16)}.{documents.safe_name(filename)}"
    folder = _files(store)
    partial = temporaries.path(store.settings.data_dir, folder, "translated")
    try:
        partial.write_bytes(document.write(translated))
        partial.rename(folder / name)
    finally:
        partial.unlink(missing_ok=True)
    return name


@router.get("/download_file/{filename}", summary="A translated file (LibreTranslate-compatible)",
            name="download_file")
def download_file(filename: str, request: Request):
    """The file `/translate_file` made; its random name is the credential (as
    LibreTranslate's links are), and it is kept for 30 minutes."""
    if not _FILE_NAME.match(filename):
        return _error(400, "Invalid filename")
    store: Store = request.app.state.store
    remove_expired_files(store)
    path = store.settings.data_dir / FILES_DIR / filename
    if not path.is_file():
        return _error(404, "This file does not exist or has expired (translated files are kept "
                           f"{FILE_MINUTES} minutes); translate it again")
    return FileResponse(path, filename=filename.split(".", 1)[1],
                        media_type="application/octet-stream")


@router.post("/suggest", summary="Suggest a translation (LibreTranslate-compatible)",
             openapi_extra=_protocol("comms.edit_translation"))
async def suggest(request: Request) -> JSONResponse:
    """Fields: `q` (the original text), `s` (the suggested translation), `source`,
    `target`, `api_key`. The suggestion becomes the translation, needing review, of the
    message(s) whose source is `q` (see `comms.service.suggest_translation`)."""
    try:
        params = await _params(request)
        user = _user(request, params, "comms.edit_translation")
        _missing(params, "q", "s", "source", "target")
        if not all(isinstance(params[k], str) for k in ("q", "s", "source", "target")):
            raise _Refused(400, "Invalid request: q, s, source and target must be strings")
        source, target = _tag(params["source"]), _tag(params["target"])
        from comms.service import suggest_translation
        await run_in_threadpool(suggest_translation, request.app.state.store, user,
                                source_text=params["q"], source_language=source,
                                language_tag=target, text=params["s"], via="LibreTranslate")
    except _Refused as exc:
        return _error(exc.status, exc.message)
    except CohearError as exc:
        refused = _from_cohear(exc)
        return _error(refused.status, refused.message)
    return JSONResponse({"success": True})


@router.get("/languages", summary="Languages (LibreTranslate-compatible)")
def languages(request: Request) -> list[dict]:
    """Every language an installed pack translates from or into, each with the tags it
    reaches (directly or through English)."""
    found = service.installed_languages(request.app.state.store)
    return [{"code": tag, "name": LANGUAGES[tag].english_name, "targets": reach}
            for tag, reach in found.items()]


@router.post("/languages", include_in_schema=False)
def languages_by_post(request: Request) -> list[dict]:
    """LibreTranslate before 1.4 answered POST too, and some clients still use it."""
    return languages(request)


@router.post("/detect", summary="Detect a language (LibreTranslate-compatible)",
             openapi_extra=_protocol("languages.read"))
async def detect_language(request: Request) -> JSONResponse:
    """Offline detection (see `language_packs.detect` for how and its limits). Answers
    `[{"confidence": 0..100, "language": tag}]`, best first."""
    try:
        params = await _params(request)
        _user(request, params, "languages.read")
        texts, _ = _texts(params)
    except _Refused as exc:
        return _error(exc.status, exc.message)
    return JSONResponse([{"confidence": d["confidence"], "language": d["language"]}
                         for d in detect(texts[0])[:3]])


@router.get("/frontend/settings", summary="Client settings (LibreTranslate-compatible)")
def frontend_settings(request: Request) -> dict:
    found = service.installed_languages(request.app.state.store)
    first_target = (found.get("en") or ["en"])[0]
    return {"charLimit": MAX_TEXT_CHARS, "frontendTimeout": FRONTEND_TIMEOUT_MS,
            "apiKeys": True, "keyRequired": True, "suggestions": True,
            "filesTranslation": True, "supportedFilesFormat": documents.SUPPORTED_EXTENSIONS,
            "language": {"source": {"code": "en", "name": "English"},
                         "target": {"code": first_target,
                                    "name": LANGUAGES[first_target].english_name}}}


@router.get("/health", summary="Health (LibreTranslate-compatible)")
def health() -> dict:
    return {"status": "ok"}
