"""Request bodies of the message routes (pydantic models at the edge); the service
checks the content itself (limits, scripts, languages)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from cohear.text import Text  # refuses characters XML cannot hold (422)

Channel = Literal["sms", "letter", "phone_script", "poster", "whatsapp"]


class NewMessage(BaseModel):
    title: Text = Field(min_length=1, max_length=200)
    source_text: Text = Field(min_length=1, max_length=20000)
    channel: Channel
    audience: Text = ""
    tags: list[Text] = []
    source_language: Text = "en"


class MessageEdit(BaseModel):
    source_text: Text | None = Field(None, max_length=20000)
    title: Text | None = Field(None, max_length=200)
    audience: Text | None = None
    channel: Channel | None = None
    tags: list[Text] | None = None


class TranslateRequest(BaseModel):
    languages: list[Text] = Field(min_length=1, max_length=50)
    force: bool = False
    background: bool | None = Field(None, description="run as a job; by default only when "
                                    "there are more than 5 message x language pairs")


class TranslateMany(TranslateRequest):
    message_ids: list[int] = Field(min_length=1, max_length=5000)


class TranslationEdit(BaseModel):
    text: Text = Field(min_length=1, max_length=40000)


class HumanRequest(BaseModel):
    languages: list[Text] = Field(min_length=1, max_length=50)


class GlossaryTerm(BaseModel):
    term: Text = Field(min_length=1, max_length=100)
    language: Text | None = None
    translation: Text | None = None
    note: Text = ""
