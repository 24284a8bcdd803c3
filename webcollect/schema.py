"""What the field page's API answers with (pydantic models at the edge; the request
bodies sit next to their routes in `webcollect/api.py`). The page is sent statuses and
ids, never anyone's words."""

from __future__ import annotations

from typing import Any

from cohear.schema import Out


class LinkIssuedOut(Out):
    id: int
    collector: str
    code: str
    expires_at: str
    token_minutes: int
    url: str


class LinkOut(Out):
    id: int
    collector: str
    created_at: str
    expires_at: str
    token_minutes: int
    state: str


class LanguageOnPage(Out):
    tag: str
    name: str
    direction: str


class CollectSurveyOut(Out):
    id: int
    title: str
    purpose: str
    version: int
    languages: list[LanguageOnPage]


class SurveyInLanguageOut(Out):
    id: int
    title: str
    version: int
    base_language: str
    language: LanguageOnPage
    consent: dict[str, Any]
    questions: list[dict[str, Any]]


class AnswerStatusOut(Out):
    answer_id: int
    question_id: int
    session_id: int
    kind: str
    transcription: str


class AnswerSentOut(AnswerStatusOut):
    duplicate: bool


class SessionStatusOut(Out):
    session_id: int
    survey_id: int
    language: str
    respondent: str
    consent: bool
    answers: list[AnswerStatusOut]


class SessionStartedOut(SessionStatusOut):
    duplicate: bool


class MissingSessionOut(Out):
    session_id: int
    missing: bool


class ConsentSentOut(Out):
    consent_id: int
    session_id: int
    duplicate: bool


class PartStatusOut(Out):
    received: int
    total: int | None = None
    part_bytes: int
