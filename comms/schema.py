"""Request bodies of the message routes (pydantic models at the edge); the service
checks the content itself (limits, scripts, languages)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from cohear.ids import Id

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
