"""Pydantic models at speech's edges: what the recording and transcript routes answer
with (the request bodies sit next to their routes in `speech/api.py`), and the
transcription a worker on another machine posts back: bounded in every size with the
limits a local transcription and a correction have (cohear/limits.py: segments, characters
per segment and in all), so a stolen worker token cannot make the server store more than
a reviewer could, and judged again where the worker could lie about it (an English
rendering called the `source` of words the server does not judge to be English)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cohear import limits
from cohear.errors import TooLarge, Unprocessable
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


# Whisper's language codes: two or three lower-case letters ("en", "ur", "haw", "yue").
WhisperCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]


class Heard(Strict):
    detected: WhisperCode | None = None
    probability: Annotated[float, Field(ge=0, le=1)] | None = None
    used: WhisperCode | None = None


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


def check_bounds(data: dict) -> None:
    """Refuse (413) a transcription whose words are more than a transcript may hold: the
    same bound as a reviewer's correction (`ANSWER_TEXT_CHARS` in all, with the spaces
    between segments), for a local transcription and a worker's alike. Counts only,
    never the words."""
    segments = data.get("segments") or []
    limits.check_count("segments in the transcription", len(segments),
                       limits.SEGMENTS_PER_CORRECTION,
                       fix="transcribe the recording in shorter parts")
    total = sum(len(str(s.get("text") or "").strip()) for s in segments)
    total += max(0, len(segments) - 1)
    if total > limits.ANSWER_TEXT_CHARS:
        raise TooLarge(f"the transcription's words are {total:,} characters; a transcript "
                       f"holds at most {limits.ANSWER_TEXT_CHARS:,}",
                       fix="transcribe the recording in shorter parts")


def check_result(data: object, hint: str | None = None) -> dict:
    """A posted transcription for a job whose language hint is `hint` (a Whisper code),
    checked: 422 naming the fields (never their contents), 413 when its words are more
    than a transcript holds, 422 when it gives the words as their own English (`source`)
    although the server, deciding the language from what Whisper heard and the hint,
    does not judge them English."""
    try:
        checked = TranscriptionResult.model_validate(data).model_dump()
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}"
                          for e in exc.errors()[:5])
        raise Unprocessable(f"the transcription result is not valid ({where})",
                            fix="send what the worker computed, unchanged") from None
    check_bounds(checked)
    from speech.transcribe import judge_language
    used = judge_language(checked["language"], hint).used
    if "source" in checked["english"] and used != "en":
        raise Unprocessable(f"the result gives English words as the transcript's own "
                            f"(english.source), but the server judges the transcript to be "
                            f"in {used or 'an unknown language'}, not English",
                            fix="send English renderings of other words as 'argos' or "
                                "'whisper-translate'; 'source' is for English speech only")
    return checked
