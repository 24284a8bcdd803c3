"""OpenAI-compatible speech routes, so the official `openai` client (and tools built on
it) can use cohear as a local speech server with a cohear token as the API key.

`POST /v1/audio/transcriptions` and `POST /v1/audio/translations` run synchronously and
store nothing: no recording row, no blob, no transcript (use `/api/recordings` to keep
an answer). They answer as OpenAI's audio API does for `whisper-1`, field for field:

- `json`: `{"text", "usage"}` (translations: `{"text"}`); `text`, `srt`, `vtt` as text.
- `verbose_json`: `task`, `language` (Whisper's English name: "lithuanian"; always
  "english" for a translation), `duration`, `text`, then `segments` (each with `id`,
  `seek`, `start`, `end`, `text`, `tokens`, `temperature`, `avg_logprob`,
  `compression_ratio`, `no_speech_prob`) unless only word timestamps were asked for,
  `words` when they were, and `usage` (`{"type": "duration", "seconds"}`) for a
  transcription. Segments cohear's quality guards reject (text over silence, loops) are
  left out of the text and the segments; the headers `x-cohear-rejected-segments`,
  `x-cohear-needs-review` and `x-cohear-model` say what was left out and why to look.
- Errors: `{"error": {"message", "type", "param", "code"}}` with OpenAI's status codes:
  401 for a missing or wrong key, and for a role that may not (as OpenAI answers a key
  without the scope), 404 `model_not_found`, 413 past the size limit, 400 for any other
  unusable field or file (`param` names the field, `code` the rule, as OpenAI does).

`model` is `whisper-1` (the configured cohear model) or the name of an installed cohear
model; any other name is 404, as OpenAI answers for a model it does not have. A silent
file is transcribed to no words (OpenAI's answer), not refused as an upload would be.
"""

from __future__ import annotations

import math
import os
import tempfile

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from cohear import limits
from cohear.auth import authenticate
from cohear.deps import bearer
from cohear.errors import CohearError, Forbidden, TooLarge, Unauthorized, UnsupportedMedia
from cohear.permissions import who_may
from speech import audio, formats, service
from speech.languages import language_name
from speech.transcribe import Options, load_model, model_for, transcribe_all

router = APIRouter(prefix="/v1/audio", tags=["openai-compatible"])

RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
GRANULARITIES = ("word", "segment")
OPENAI_MODEL = "whisper-1"  # what OpenAI's clients send; here, the configured model
# The containers OpenAI's reference lists, plus those cohear also reads.
SUPPORTED_FORMATS = ["amr", "flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "opus",
                     "wav", "webm"]


class OpenAIError(Exception):
    """An error to answer in OpenAI's shape."""

    def __init__(self, status: int, message: str, *, kind: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = (
            status, message, kind, param, code)

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"message": self.message, "type": self.kind,
                                       "param": self.param, "code": self.code}},
                            status_code=self.status)


# Protocol routes check the permissions table themselves (OpenAI's error shape) and
# name the action they check, for the authorisation matrix and the docs. A role that
# may not gets 401, as OpenAI answers a key that lacks the scope.
_ACTION = {"x-cohear-action": "speech.transcribe_now",
           "x-cohear-refusals": {"anonymous": 401, "invalid": 401, "forbidden": 401}}


@router.post("/transcriptions", openapi_extra=_ACTION)
async def transcriptions(request: Request):
    """Transcribe an audio file (OpenAI's `audio.transcriptions.create`)."""
    return await _handle(request, "transcribe")


@router.post("/translations", openapi_extra=_ACTION)
async def translations(request: Request):
    """Translate speech into English text (OpenAI's `audio.translations.create`)."""
    return await _handle(request, "translate")


def _masked(key: str) -> str:
    """A key as OpenAI shows a wrong one: its start and last four characters."""
    return key[:8] + "*" * max(0, min(len(key) - 12, 20)) + key[-4:] if len(key) > 12 else "***"


def _signed_in(store, request: Request):
    key = bearer(request)
    if not key:
        raise OpenAIError(401, "You didn't provide an API key. You need to provide your API "
                               "key in an Authorization header using Bearer auth (i.e. "
                               "Authorization: Bearer YOUR_KEY). An admin issues cohear tokens "
                               "with `cohear users add NAME --role ROLE`.")
    try:
        user = authenticate(store, key)
    except Unauthorized as exc:
        raise OpenAIError(401, f"Incorrect API key provided: {_masked(key)}. {exc.message()}",
                          code="invalid_api_key") from None
    try:
        user.require(_ACTION["x-cohear-action"])
    except Forbidden:
        raise OpenAIError(401, "You have insufficient permissions for this operation. Missing "
                               f"scopes: {_ACTION['x-cohear-action']}. You are signed in with the "
                               f"role {user.role!r}; the roles that may are "
                               f"{who_may(_ACTION['x-cohear-action'])}.",
                          code="missing_scope") from None
    return user


async def _handle(request: Request, task: str):
    store = request.app.state.store
    try:
        await run_in_threadpool(_signed_in, store, request)
        ctype = request.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            raise OpenAIError(400, f"Invalid Content-Type header ({ctype or 'none'}), expected "
                                   "multipart/form-data.")
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - any unreadable body is the client's to fix
            raise OpenAIError(400, "The multipart body could not be read; send the audio as "
                                   "the multipart field 'file'.") from None
        request_fields = _fields(store, form, task)
        result = await run_in_threadpool(_run, store, *request_fields)
    except OpenAIError as exc:
        return exc.response()
    except CohearError as exc:
        return _from_cohear(exc).response()
    return _respond(result, request_fields[3], task, request_fields[4])


def _missing(name: str) -> OpenAIError:
    return OpenAIError(400, f"Missing required parameter: '{name}'.", param=name,
                       code="missing_required_parameter")


def _fields(store, form, task: str):
    """(upload, model name, options, response format, granularities) from the form, or
    the OpenAIError a client would get from OpenAI for the first field that is wrong."""
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise _missing("file")
    model_name = str(form.get("model") or "").strip()
    if not model_name:
        raise _missing("model")
    if model_name != OPENAI_MODEL and store.one(
            "SELECT 1 FROM whisper_models WHERE name = ?", (model_name,)) is None:
        raise OpenAIError(404, f"The model `{model_name}` does not exist or you do not have "
                               f"access to it. Use {OPENAI_MODEL} (the configured model) or a "
                               "name from `cohear models list`.", code="model_not_found")
    fmt = str(form.get("response_format") or "json")
    if fmt not in RESPONSE_FORMATS:
        raise OpenAIError(400, f"Invalid value: '{fmt}'. Supported values are: 'json', 'text', "
                               "'srt', 'verbose_json', and 'vtt'.", param="response_format",
                          code="invalid_value")
    granularities = [str(g) for g in (form.getlist("timestamp_granularities[]")
                                      + form.getlist("timestamp_granularities"))]
    for value in granularities:
        if value not in GRANULARITIES:
            raise OpenAIError(400, f"Invalid value: '{value}'. Supported values are: 'word' and "
                                   "'segment'.", param="timestamp_granularities",
                              code="invalid_value")
    if granularities and fmt != "verbose_json":
        raise OpenAIError(400, "timestamp_granularities is only supported with "
                               f"response_format 'verbose_json' (it was '{fmt}').",
                          param="timestamp_granularities", code="invalid_value")
    temperature = _temperature(form.get("temperature"))
    language = _language(form.get("language")) if task == "transcribe" else None
    prompt = str(form.get("prompt") or "") or None
    if prompt and len(prompt) > limits.PROMPT_CHARS:
        raise OpenAIError(400, f"The prompt is longer than {limits.PROMPT_CHARS:,} characters; "
                               "Whisper reads only its last 224 tokens, so send a short prompt.",
                          param="prompt", code="invalid_value")
    options = Options(language=language, task=task, initial_prompt=prompt,
                      temperature=temperature, word_timestamps="word" in granularities)
    return upload, model_name, options, fmt, granularities


def _temperature(raw) -> float | None:
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise OpenAIError(400, "Invalid type for 'temperature': expected a decimal, but got a "
                               "string instead.", param="temperature",
                          code="invalid_type") from None
    if not math.isfinite(value) or value > 1:
        raise OpenAIError(400, "Invalid 'temperature': decimal above maximum value. Expected a "
                               f"value <= 1, but got {raw} instead.", param="temperature",
                          code="decimal_above_max_value")
    if value < 0:
        raise OpenAIError(400, "Invalid 'temperature': decimal below minimum value. Expected a "
                               f"value >= 0, but got {raw} instead.", param="temperature",
                          code="decimal_below_min_value")
    return value


def _language(raw) -> str | None:
    """ISO-639-1 (or a cohear BCP-47 tag such as pa-Guru) to the code Whisper knows."""
    tag = str(raw or "").strip()
    if not tag:
        return None
    try:
        code = service.whisper_language(service.check_language_tag(tag))
    except CohearError:
        code = None
    if code is None:
        raise OpenAIError(400, f"Invalid language '{tag}'. Language parameter must be specified "
                               "in ISO-639-1 format, and be a language Whisper recognises.",
                          param="language", code="invalid_language_format")
    return code


def _from_cohear(exc: CohearError) -> OpenAIError:
    """A decoding or model error in the shape and status OpenAI gives the same fault."""
    if isinstance(exc, audio.AudioTooShort):
        return OpenAIError(400, "Audio file is too short. Minimum audio length is 0.1 seconds.",
                           param="file", code="audio_too_short")
    if isinstance(exc, audio.AudioTooLong):
        return OpenAIError(400, f"Audio file is too long: {exc.message()}", param="file",
                           code="audio_too_long")
    if isinstance(exc, TooLarge):
        return OpenAIError(413, exc.message(), kind="server_error")
    if isinstance(exc, UnsupportedMedia):
        return OpenAIError(400, f"Invalid file format. Supported formats: {SUPPORTED_FORMATS} "
                                f"({exc.message()})")
    if exc.status >= 500:
        return OpenAIError(exc.status, exc.message(), kind="server_error")
    return OpenAIError(400, "The audio file could not be decoded or its format is not "
                            f"supported. {exc.message()}")


def _run(store, upload, model_name: str, options: Options, *_):
    """Decode and transcribe in a worker thread; the upload is spooled to a private
    temporary file that is removed at once."""
    limit = audio.max_bytes()
    fd, path = tempfile.mkstemp(prefix="cohear-v1-")
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := upload.file.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    # OpenAI's own words for a file over its limit.
                    raise OpenAIError(413, f"Maximum content size limit ({limit}) exceeded "
                                           f"({size} bytes read)", kind="server_error")
                out.write(chunk)
        decoded = audio.decode(path, filename=upload.filename, content_type=upload.content_type,
                               allow_silence=True)
    finally:
        os.unlink(path)
    model = _model(store, model_name)
    return transcribe_all(model, decoded.samples, options), model


def _model(store, name: str):
    """An installed cohear model by name; `whisper-1` means the configured one."""
    from cohear.models import resolve
    if name == OPENAI_MODEL:
        return model_for(store)
    s = store.settings
    return load_model(resolve(store, name), name=name, device=s.whisper_device,
                      compute_type=s.whisper_compute_type, cpu_threads=s.cpu_threads)


def _headers(result, model) -> dict[str, str]:
    return {"x-cohear-rejected-segments": str(sum(1 for s in result.segments if s.rejected)),
            "x-cohear-needs-review": "true" if result.needs_review else "false",
            "x-cohear-model": model.name}


def _respond(outcome, fmt: str, task: str, granularities: list[str]):
    result, model = outcome
    headers = _headers(result, model)
    kept = result.kept
    if fmt == "text":
        return PlainTextResponse(result.text + "\n" if result.text else "", headers=headers)
    if fmt in ("srt", "vtt"):
        body, media_type = formats.render({"segments": [s.as_dict() for s in kept]}, fmt)
        return PlainTextResponse(body, media_type=media_type, headers=headers)
    # OpenAI bills whisper-1 by the second, rounded up, and reports it as usage.
    usage = {"type": "duration", "seconds": math.ceil(result.duration)}
    if fmt == "json":
        body = {"text": result.text}
        if task == "transcribe":
            body["usage"] = usage
        return JSONResponse(body, headers=headers)
    body = {"task": task,
            "language": "english" if task == "translate" else language_name(result.language.used),
            "duration": result.duration, "text": result.text}
    if not granularities or "segment" in granularities:
        body["segments"] = [{
            "id": i, "seek": s.seek, "start": round(s.start, 3), "end": round(s.end, 3),
            "text": s.text, "tokens": s.tokens, "temperature": s.temperature,
            "avg_logprob": s.avg_logprob, "compression_ratio": s.compression_ratio,
            "no_speech_prob": s.no_speech_prob} for i, s in enumerate(kept)]
    if "word" in granularities:
        body["words"] = [{"word": w["word"].strip(), "start": w["start"], "end": w["end"]}
                         for s in kept for w in (s.words or [])]
    if task == "transcribe":
        body["usage"] = usage
    return JSONResponse(body, headers=headers)
