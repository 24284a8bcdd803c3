"""Request bodies of the message routes (pydantic models at the edge); the service
checks the content itself (limits, scripts, languages). Bounds come from cohear.limits."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from cohear import limits as L
from cohear.ids import Id
from cohear.schema import Out
from cohear.text import Text  # refuses characters XML cannot hold (422)

Channel = Literal["sms", "letter", "phone_script", "poster", "whatsapp"]
LanguageTag = Annotated[Text, Field(max_length=L.LANGUAGE_TAG_CHARS)]
Tag = Annotated[Text, Field(max_length=L.TAG_CHARS)]
# The request may carry a little more than the service keeps: HTML is reduced to its
# words there, and the service's own limit (with its clearer 413) applies to the result.
SOURCE_BODY_CHARS = 4 * L.MESSAGE_SOURCE_CHARS
TRANSLATION_BODY_CHARS = 2 * L.TRANSLATION_CHARS


class NewMessage(BaseModel):
    title: Text = Field(min_length=1, max_length=L.TITLE_CHARS)
    source_text: Text = Field(min_length=1, max_length=SOURCE_BODY_CHARS)
    channel: Channel
    audience: Text = Field("", max_length=L.AUDIENCE_CHARS)
    tags: list[Tag] = Field([], max_length=L.TAGS_PER_MESSAGE)
    source_language: LanguageTag = "en"


class MessageEdit(BaseModel):
    # Required, not optional: an edit that does not say which version it was made to
    # could silently replace words someone else saved meanwhile (a lost update).
    version: int = Field(ge=1, lt=2**63, description=(
        "the message version the edit was made to (its `version` when read); a message "
        "that has moved on since answers 409 `message-changed`"))
    source_text: Text | None = Field(None, max_length=SOURCE_BODY_CHARS)
    title: Text | None = Field(None, max_length=L.TITLE_CHARS)
    audience: Text | None = Field(None, max_length=L.AUDIENCE_CHARS)
    channel: Channel | None = None
    tags: list[Tag] | None = Field(None, max_length=L.TAGS_PER_MESSAGE)


class TranslateRequest(BaseModel):
    languages: list[LanguageTag] = Field(min_length=1, max_length=L.LANGUAGES_PER_REQUEST)
    force: bool = False
    background: bool | None = Field(None, description="run as a job; by default only when "
                                    "there are more than 5 message x language pairs")


class TranslateMany(TranslateRequest):
    message_ids: list[Id] = Field(min_length=1, max_length=L.MESSAGES_PER_REQUEST)


class TranslationEdit(BaseModel):
    text: Text = Field(min_length=1, max_length=TRANSLATION_BODY_CHARS)
    revision: int = Field(ge=0, lt=2**63, description=(
        "the translation revision the edit started from (its `revision` when read; 0 when "
        "there was no translation yet); one changed since answers 409 `translation-changed`"))


class Approval(BaseModel):
    # Required: an approval must name the words the reviewer read, or a translation
    # changed after they opened it would be approved unseen.
    revision: int = Field(ge=1, lt=2**63, description=(
        "the translation revision the reviewer read (its `revision`); one changed since "
        "answers 409 `translation-changed`"))


class HumanRequest(BaseModel):
    languages: list[LanguageTag] = Field(min_length=1, max_length=L.LANGUAGES_PER_REQUEST)


class GlossaryTerm(BaseModel):
    term: Text = Field(min_length=1, max_length=L.GLOSSARY_TERM_CHARS)
    language: LanguageTag | None = None
    translation: Text | None = Field(None, max_length=L.GLOSSARY_TRANSLATION_CHARS)
    note: Text = Field("", max_length=L.NOTE_CHARS)


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
