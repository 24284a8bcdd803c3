"""Pydantic models at speech's edges: what the recording and transcript routes answer
with (the request bodies sit next to their routes in `speech/api.py`), and the
transcription a worker on another machine posts back (bounded in every size, so a stolen
worker token cannot make the server store unbounded data)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cohear import limits
from cohear.errors import Unprocessable
from cohear.schema import Out


class RecordingOut(Out):
    id: int
    uploaded_by: int
    filename: str
    original_sha256: str
    normalised_sha256: str
    media_type: str
    format: str
    codec: str
    size_bytes: int
    duration_seconds: float
    sample_rate: int
    channels: int
    peak_dbfs: float
    speech_seconds: float
    speech_ratio: float
    language_hint: str | None = None
    created_at: str
    status: str
    job: dict[str, Any] | None = None
    transcript_versions: int
    needs_review: bool | None = None
    language_mismatch: bool | None = None
    duplicate: bool


class TranscriptionQueued(Out):
    recording_id: int
    job_id: int


class SegmentOut(Out):
    index: int
    start: float
    end: float
    text: str
    confidence: float | None = None
    rejected: bool
    rejected_reason: str | None = None


class TranscriptOut(Out):
    recording_id: int
    version: int
    source: str
    author: str
    created_at: str
    text: str
    language: str | None = None
    needs_review: bool
    segments: list[SegmentOut]
    versions: list[dict[str, Any]]


# -- a worker's result (cohear/workers.py) ------------------------------------------------
Text = Annotated[str, Field(max_length=limits.SEGMENT_TEXT_CHARS)]
Seconds = Annotated[float, Field(ge=0, le=100_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Word(Strict):
    start: Seconds
    end: Seconds
    word: Annotated[str, Field(max_length=200)]
    probability: Annotated[float, Field(ge=0, le=1)]


class DecodedSegment(Strict):
    start: Seconds
    end: Seconds
    text: Text
    avg_logprob: Annotated[float, Field(ge=-1_000, le=1_000)]
    no_speech_prob: Annotated[float, Field(ge=0, le=1)]
    words: Annotated[list[Word], Field(max_length=5_000)] | None = None
    tokens: Annotated[list[Annotated[int, Field(ge=0, le=1_000_000)]], Field(max_length=2_000)] = []
    seek: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.0


class Heard(Strict):
    detected: Annotated[str, Field(max_length=10)] | None = None
    probability: Annotated[float, Field(ge=0, le=1)] | None = None
    used: Annotated[str, Field(max_length=10)] | None = None


class TranscriptionResult(Strict):
    """What `speech.jobs.compute_transcription` returns: Whisper's decoding (no verdicts:
    the server judges it), the English renderings by engine, and the engine used."""

    language: Heard
    duration: Seconds = 0.0
    segments: Annotated[list[DecodedSegment], Field(max_length=limits.SEGMENTS_PER_CORRECTION)]
    english: dict[Literal["source", "argos", "whisper-translate"],
                  Annotated[str, Field(max_length=limits.ANSWER_TEXT_CHARS)]] = {}
    engine: Annotated[dict[Annotated[str, Field(max_length=50)],
                           Annotated[str, Field(max_length=200)] | int | float | bool | None],
                      Field(max_length=20)] = {}


def check_result(data: object) -> dict:
    """A posted transcription, checked; 422 naming the fields (never their contents)."""
    try:
        return TranscriptionResult.model_validate(data).model_dump()
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}"
                          for e in exc.errors()[:5])
        raise Unprocessable(f"the transcription result is not valid ({where})",
                            fix="send what the worker computed, unchanged") from None
