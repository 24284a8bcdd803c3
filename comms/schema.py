"""Request bodies of the message routes (pydantic models at the edge); the service
checks the content itself (limits, scripts, languages)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from cohear.ids import Id
from cohear.schema import Out

Channel = Literal["sms", "letter", "phone_script", "poster", "whatsapp"]


class NewMessage(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    source_text: str = Field(min_length=1, max_length=20000)
    channel: Channel
    audience: str = ""
    tags: list[str] = []
    source_language: str = "en"


class MessageEdit(BaseModel):
    source_text: str | None = Field(None, max_length=20000)
    title: str | None = Field(None, max_length=200)
    audience: str | None = None
    channel: Channel | None = None
    tags: list[str] | None = None


class TranslateRequest(BaseModel):
    languages: list[str] = Field(min_length=1, max_length=50)
    force: bool = False
    background: bool | None = Field(None, description="run as a job; by default only when "
                                    "there are more than 5 message x language pairs")


class TranslateMany(TranslateRequest):
    message_ids: list[Id] = Field(min_length=1, max_length=5000)


class TranslationEdit(BaseModel):
    text: str = Field(min_length=1, max_length=40000)


class HumanRequest(BaseModel):
    languages: list[str] = Field(min_length=1, max_length=50)


class GlossaryTerm(BaseModel):
    term: str = Field(min_length=1, max_length=100)
    language: str | None = None
    translation: str | None = None
    note: str = ""


# -- answers (response models; see cohear.schema.Out) ------------------------------------------

class MessageOut(Out):
    id: int
    title: str
    audience: str
    channel: str
    tags: list[str]
    source_language: str
    version: int
    source_text: str
    created_at: str
    updated_at: str
    translations: dict[str, str]


class MessageVersionOut(Out):
    version: int
    source_text: str
    created_at: str


class CheckOut(Out):
    reading_age: float | None = None
    words: int
    findings: list[dict[str, Any]]
    placeholders: list[dict[str, Any]]
    version: int


class TranslationOut(Out):
    message_id: int
    language: str
    status: str
    text: str
    source_version: int
    current_version: int
    origin: str
    segments: list[dict[str, Any]]
    revision: int


class TranslationRevisionOut(Out):
    revision: int
    source_version: int
    status: str
    text: str
    created_at: str


class CoverageOut(Out):
    languages: list[str]
    messages: list[dict[str, Any]]
    totals: dict[str, dict[str, int]]


class TranslateResultOut(Out):
    translated: list[dict[str, Any]]
    skipped: list[dict[str, Any]]


class TranslateQueuedOut(Out):
    job_id: int
    status: str
    poll: str


class GlossaryTermOut(Out):
    term: str
    language: str | None = None
    translation: str | None = None
    note: str


class ImportResultOut(Out):
    format: str
    language: str
    imported: list[dict[str, Any]]
