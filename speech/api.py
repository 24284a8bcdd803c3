"""HTTP routes for recordings and transcripts (`/api/recordings`), plus the
OpenAI-compatible `/v1/audio/*` routes from `speech.openai_api`.

Each route only translates HTTP to a `speech.service` call and back.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from cohear import limits as L
from cohear.auth import User
from cohear.deps import allow, get_jobs, get_store
from cohear.ids import Id
from cohear.jobs import JobQueue
from cohear.schema import BODY, SIGNED_IN, problems
from cohear.store import Store
from cohear.text import Text
from speech import formats, service
from speech.openai_api import router as openai_router
from speech.schema import RecordingOut, TranscriptionQueued, TranscriptOut

router = APIRouter(tags=["recordings"], responses=SIGNED_IN)

StoreDep = Annotated[Store, Depends(get_store)]
JobsDep = Annotated[JobQueue, Depends(get_jobs)]
Reader = Annotated[User, Depends(allow("recordings.read"))]
# The OpenAI-compatible routes answer errors in OpenAI's shape (`{"error": {...}}`).
OPENAI_ERROR = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["message", "type"],
        "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                       "param": {"type": ["string", "null"]},
                       "code": {"type": ["string", "null"]}}}}}}}}
router.include_router(openai_router, responses={
    status: OPENAI_ERROR | {"description": phrase} for status, phrase in (
        (400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"),
        (413, "Content Too Large"), (503, "Service Unavailable"))})


RecordingId = Annotated[Id, Path(description="a recording's id")]


class TranscribeRequest(BaseModel):
    language: str | None = Field(None, max_length=L.LANGUAGE_TAG_CHARS,
                                 description="BCP-47 tag; empty lets Whisper detect it")
    word_timestamps: bool = False


class SegmentEdit(BaseModel):
    index: int = Field(ge=0, le=1_000_000)
    text: Text = Field(max_length=L.SEGMENT_TEXT_CHARS)
    keep: bool = Field(True, description="false: the words were not said (marks it rejected); "
                       "true also brings back a segment a guard rejected")


class Correction(BaseModel):
    text: Text | None = Field(None, max_length=L.ANSWER_TEXT_CHARS,
                             description="the whole corrected text")
    segments: list[SegmentEdit] | None = Field(None, max_length=L.SEGMENTS_PER_CORRECTION,
                                               description="or: corrected segments")
    english: Text | None = Field(None, max_length=L.ANSWER_TEXT_CHARS,
                                description="a corrected English text")
    note: Text = Field("", max_length=L.NOTE_CHARS)
    base_version: int | None = Field(None, ge=1, le=1_000_000,
                                     description="the version you corrected (checked)")


@router.post("/api/recordings", status_code=201, response_model=RecordingOut,
             responses={200: {"model": RecordingOut, "description": "the same bytes, uploaded "
                                                              "before by you (`duplicate`)"}}
             | problems(*BODY, 404, 415))
def upload_recording(file: Annotated[UploadFile, File(description="the recorded answer")],
                     store: StoreDep, jobs: JobsDep,
                     user: Annotated[User, Depends(allow("recordings.upload"))],
                     language: Annotated[str | None, Form(description="BCP-47 hint",
                                                          max_length=L.LANGUAGE_TAG_CHARS)] = None,
                     transcribe: Annotated[bool, Form(description="queue transcription")] = False):
    """Upload a recording (WAV, MP3, M4A/AAC, Ogg/Opus, WebM/Opus, AMR, FLAC).
    Bytes uploaded before answer 200 with `duplicate: true` instead of 201."""
    rec = service.ingest(store, file.file, filename=file.filename,
                         content_type=file.content_type, uploaded_by=user,
                         language_hint=language)
    if transcribe:
        duplicate = rec.duplicate
        service.queue_transcription(store, rec.id, user, jobs=jobs)
        rec = service.get_recording(store, rec.id, user)
        rec.duplicate = duplicate
    return JSONResponse(rec.as_dict(), status_code=200 if rec.duplicate else 201)


@router.get("/api/recordings", response_model=list[RecordingOut])
def list_recordings(store: StoreDep, user: Reader,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                    needs_review: bool | None = None) -> list[dict]:
    """Recordings, newest first (a collector sees only their own)."""
    return [r.as_dict() for r in service.list_recordings(store, user, limit=limit,
                                                          needs_review=needs_review)]


@router.get("/api/recordings/{recording_id}", response_model=RecordingOut, responses=problems(404))
def get_recording(recording_id: RecordingId, store: StoreDep, user: Reader) -> dict:
    """A recording's facts and the state of its transcription."""
    return service.get_recording(store, recording_id, user).as_dict()


@router.post("/api/recordings/{recording_id}/transcribe", status_code=202,
             response_model=TranscriptionQueued, responses=problems(*BODY, 404))
def transcribe_recording(recording_id: RecordingId, store: StoreDep, jobs: JobsDep,
                         user: Annotated[User, Depends(allow("recordings.transcribe"))],
                         body: TranscribeRequest | None = None) -> dict:
    """Queue transcription (a `speech.transcribe` job); follow it at /api/jobs/{job_id}."""
    body = body or TranscribeRequest()
    job_id = service.queue_transcription(store, recording_id, user, body.language, jobs=jobs,
                                         word_timestamps=body.word_timestamps)
    return {"recording_id": recording_id, "job_id": job_id}


@router.get("/api/recordings/{recording_id}/transcript", response_model=TranscriptOut,
            responses={200: {"content": {"text/plain": {}, "application/x-subrip": {},
                                         "text/vtt": {}},
                             "description": "the transcript as JSON, text, SRT or WebVTT"}}
            | problems(404))
def get_transcript(recording_id: RecordingId, store: StoreDep, user: Reader,
                   format: Literal["json", "txt", "srt", "vtt"] = "json",
                   version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None):
    """The transcript (latest version unless `version`) as JSON, text, SRT or WebVTT."""
    document = service.transcript(store, recording_id, user, version)
    body, media_type = formats.render(document, format)
    if format == "json":
        return JSONResponse(document)
    return Response(body, media_type=media_type)


@router.post("/api/recordings/{recording_id}/transcript", status_code=201,
             response_model=TranscriptOut, responses=problems(*BODY, 404, 409))
def correct_transcript(recording_id: RecordingId, body: Correction, store: StoreDep,
                       user: Annotated[User, Depends(allow("transcripts.correct"))]) -> dict:
    """Save a correction as a new transcript version (earlier versions are kept)."""
    segments = [s.model_dump() for s in body.segments] if body.segments is not None else None
    return service.correct(store, recording_id, user, text=body.text, segments=segments,
                           english=body.english, note=body.note,
                           base_version=body.base_version)


@router.get("/api/recordings/{recording_id}/audio",
            responses={200: {"content": {"audio/*": {}, "application/octet-stream": {}},
                             "description": "the recorded audio"}} | problems(404))
def get_audio(recording_id: RecordingId, store: StoreDep,
              user: Annotated[User, Depends(allow("recordings.audio"))],
              version: Literal["original", "normalised"] = "original"):
    """The recording as uploaded, or its 16 kHz mono WAV copy (staff only)."""
    path, media_type, name = service.audio_file(store, recording_id, user, version)
    return FileResponse(path, media_type=media_type, filename=name)
