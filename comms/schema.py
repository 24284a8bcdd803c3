"""Request bodies of the message routes (pydantic models at the edge); the service
checks the content itself (limits, scripts, languages). Bounds come from cohear.limits."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from cohear import limits as L

Channel = Literal["sms", "letter", "phone_script", "poster", "whatsapp"]
LanguageTag = Annotated[str, Field(max_length=L.LANGUAGE_TAG_CHARS)]
Tag = Annotated[str, Field(max_length=L.TAG_CHARS)]
# The request may carry a little more than the service keeps: HTML is reduced to its
# words there, and the service's own limit (with its clearer 413) applies to the result.
SOURCE_BODY_CHARS = 4 * L.MESSAGE_SOURCE_CHARS
TRANSLATION_BODY_CHARS = 2 * L.TRANSLATION_CHARS


class NewMessage(BaseModel):
    title: str = Field(min_length=1, max_length=L.TITLE_CHARS)
    source_text: str = Field(min_length=1, max_length=SOURCE_BODY_CHARS)
    channel: Channel
    audience: str = Field("", max_length=L.AUDIENCE_CHARS)
    tags: list[Tag] = Field([], max_length=L.TAGS_PER_MESSAGE)
    source_language: LanguageTag = "en"


class MessageEdit(BaseModel):
    source_text: str | None = Field(None, max_length=SOURCE_BODY_CHARS)
    title: str | None = Field(None, max_length=L.TITLE_CHARS)
    audience: str | None = Field(None, max_length=L.AUDIENCE_CHARS)
    channel: Channel | None = None
    tags: list[Tag] | None = Field(None, max_length=L.TAGS_PER_MESSAGE)


class TranslateRequest(BaseModel):
    languages: list[LanguageTag] = Field(min_length=1, max_length=L.LANGUAGES_PER_REQUEST)
    force: bool = False
    background: bool | None = Field(None, description="run as a job; by default only when "
                                    "there are more than 5 message x language pairs")


class TranslateMany(TranslateRequest):
    message_ids: list[int] = Field(min_length=1, max_length=L.MESSAGES_PER_REQUEST)


class TranslationEdit(BaseModel):
    text: str = Field(min_length=1, max_length=TRANSLATION_BODY_CHARS)


class HumanRequest(BaseModel):
    languages: list[LanguageTag] = Field(min_length=1, max_length=L.LANGUAGES_PER_REQUEST)


class GlossaryTerm(BaseModel):
    term: str = Field(min_length=1, max_length=L.GLOSSARY_TERM_CHARS)
    language: LanguageTag | None = None
    translation: str | None = Field(None, max_length=L.GLOSSARY_TRANSLATION_CHARS)
    note: str = Field("", max_length=L.NOTE_CHARS)
