"""What the recording and transcript routes answer with (pydantic models at the edge;
the request bodies sit next to their routes in `speech/api.py`)."""

from __future__ import annotations

from typing import Any

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
