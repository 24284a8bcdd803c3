"""OpenAI-compatible speech routes, so the official `openai` client (and tools built on
it) can use cohear as a local speech server with a cohear token as the API key.

`POST /v1/audio/transcriptions` and `POST /v1/audio/translations` run synchronously and
store nothing: no recording row, no blob, no transcript (use `/api/recordings` to keep
an answer). Errors come in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from cohear import temporaries
from cohear.auth import authenticate
from cohear.deps import bearer
from cohear.errors import BadInput, CohearError
from speech import audio, formats, service
from speech.transcribe import Options, load_model, model_for, transcribe_all

router = APIRouter(prefix="/v1/audio", tags=["openai-compatible"])

RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


def _error(status: int, message: str, *, kind: str = "invalid_request_error",
           param: str | None = None, code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param,
                                   "code": code}}, status_code=status)


def _from_cohear(exc: CohearError) -> JSONResponse:
    kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}.get(
        exc.status, "invalid_request_error" if exc.status < 500 else "server_error")
    # OpenAI answers 400 for any unusable file or field (clients map it to BadRequestError);
    # cohear's own reason (unsupported-media, too-large, ...) goes in `code`.
    status = exc.status if exc.status in (401, 403, 404, 429) or exc.status >= 500 else 400
    return _error(status, exc.message(), kind=kind, param=exc.extra.get("param"),
                  code=exc.type_slug)


# Protocol routes check the permissions table themselves (OpenAI's error shape) and
# name the action they check, for the authorisation matrix and the docs.
_ACTION = {"x-cohear-action": "speech.transcribe_now"}


@router.post("/transcriptions", openapi_extra=_ACTION)
async def transcriptions(request: Request):
    """Transcribe an audio file (OpenAI's `audio.transcriptions.create`)."""
    return await _handle(request, "transcribe")


@router.post("/translations", openapi_extra=_ACTION)
async def translations(request: Request):
    """Translate speech into English text (OpenAI's `audio.translations.create`)."""
    return await _handle(request, "translate")


async def _handle(request: Request, task: str):
    store = request.app.state.store
    try:
        user = await run_in_threadpool(authenticate, store, bearer(request))
        user.require(_ACTION["x-cohear-action"])
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - any unreadable body is the client's to fix
            raise BadInput("the request is not multipart/form-data",
                           fix="send the audio as the multipart field 'file'") from None
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadInput("the multipart field 'file' is missing", fix="attach the audio file",
                           extra={"param": "file"})
        fmt = str(form.get("response_format") or "json")
        if fmt not in RESPONSE_FORMATS:
            raise BadInput(f"response_format {fmt!r} is not supported",
                           fix="use one of " + ", ".join(RESPONSE_FORMATS),
                           extra={"param": "response_format"})
        temperature = _temperature(form.get("temperature"))
        language = service.whisper_language(service.check_language_tag(
            str(form.get("language") or ""))) if task == "transcribe" else None
        options = Options(language=language, task=task, initial_prompt=str(form.get("prompt")
                          or "") or None, temperature=temperature,
                          word_timestamps="word" in form.getlist("timestamp_granularities[]"))
        model_name = str(form.get("model") or "")
        result = await run_in_threadpool(_run, store, upload, model_name, options)
    except CohearError as exc:
        return _from_cohear(exc)
    return _respond(result, fmt, task)


def _temperature(raw) -> float | None:
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(f"temperature {raw!r} is not a number", fix="use 0 to 1",
                       extra={"param": "temperature"}) from None
    if not 0 <= value <= 1:
        raise BadInput(f"temperature {value} is outside 0 to 1", fix="use 0 to 1",
                       extra={"param": "temperature"})
    return value


def _run(store, upload, model_name: str, options: Options):
    """Decode and transcribe in a worker thread; the upload is spooled to a private
    temporary file that is removed at once."""
    limit = audio.max_bytes()
    # In the data directory (owner-only), named for this process: if it dies here, the
    # next start-up removes the audio (`cohear.temporaries`); the system's temporary
    # folder would keep it.
    path = temporaries.path(store.settings.data_dir, store.blobs.tmp, "v1-upload")
    try:
        size = 0
        with open(path, "xb") as out:
            while chunk := upload.file.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    from cohear.errors import TooLarge
                    raise TooLarge(f"the file is larger than the limit of {limit:,} bytes",
                                   fix="send a shorter recording", extra={"param": "file"})
                out.write(chunk)
        if size == 0:
            from cohear.errors import Unprocessable
            raise Unprocessable("the file is empty (0 bytes)", fix="send the audio",
                                extra={"param": "file"})
        decoded = audio.decode(path, filename=upload.filename, content_type=upload.content_type)
    finally:
        path.unlink(missing_ok=True)
    model = _model(store, model_name)
    return transcribe_all(model, decoded.samples, options), model


def _model(store, name: str):
    """`model` names an installed cohear model; anything else ("whisper-1") means the
    configured one."""
    from cohear.models import resolve
    row = store.one("SELECT name FROM whisper_models WHERE name = ?", (name,)) if name else None
    if row is None:
        return model_for(store)
    s = store.settings
    return load_model(resolve(store, name), name=name, device=s.whisper_device,
                      compute_type=s.whisper_compute_type, cpu_threads=s.cpu_threads)


def _language_name(code: str | None) -> str | None:
    """OpenAI's verbose_json names the language in English words, lower case."""
    names = {"en": "english", "ur": "urdu", "pa": "punjabi", "bn": "bengali", "pl": "polish",
             "ro": "romanian", "ar": "arabic", "gu": "gujarati", "so": "somali", "ps": "pashto",
             "fa": "persian", "zh": "chinese", "pt": "portuguese", "es": "spanish",
             "fr": "french", "it": "italian", "hi": "hindi"}
    return names.get(code or "", code)


def _respond(outcome, fmt: str, task: str):
    result, model = outcome
    segments = [s.as_dict() for s in result.segments]
    if fmt == "text":
        return PlainTextResponse(result.text + "\n" if result.text else "")
    if fmt in ("srt", "vtt"):
        body, media_type = formats.render({"segments": segments}, fmt)
        return PlainTextResponse(body, media_type=media_type)
    if fmt == "json":
        return JSONResponse({"text": result.text})
    kept = [s for s in result.segments if not s.rejected]
    body = {
        "task": task, "language": _language_name(result.language.used),
        "duration": round(result.duration, 3), "text": result.text,
        "segments": [{"id": s.index, "seek": 0, "start": round(s.start, 3),
                      "end": round(s.end, 3), "text": s.text, "tokens": [],
                      "temperature": 0.0, "avg_logprob": s.avg_logprob,
                      "compression_ratio": s.compression_ratio,
                      "no_speech_prob": s.no_speech_prob} for s in kept],
        # cohear's additions: the guards' verdicts and the language finding.
        "rejected_segments": [s.as_dict() for s in result.segments if s.rejected],
        "language_finding": result.language.as_dict(),
        "confidence": round(result.confidence, 3), "needs_review": result.needs_review,
        "model": model.describe(),
    }
    words = [w for s in kept for w in (s.words or [])]
    if words:
        body["words"] = [{"word": w["word"].strip(), "start": w["start"], "end": w["end"]}
                         for w in words]
    return JSONResponse(body)
