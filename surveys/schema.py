"""Request bodies of the survey, session, answer, codebook and export routes (pydantic
models at the edge); the services check the content itself."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from cohear import limits as L
from cohear.text import Text  # refuses lone surrogates and characters XML cannot hold (422)

# Ids fit SQLite's integers; anything larger cannot name a row.
MAX_ID = 2**53

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Language = Annotated[str, Field(min_length=2, max_length=L.LANGUAGE_TAG_CHARS, pattern=r"^[A-Za-z0-9-]+$")]
QuestionKind = Literal["consent", "open", "single_choice", "multiple_choice", "scale",
                       "demographic", "integer", "decimal", "date", "time"]


class NewQuestion(BaseModel):
    kind: QuestionKind
    name: Annotated[Text, Field(min_length=1, max_length=L.QUESTION_NAME_CHARS)]
    text: Annotated[Text, Field(min_length=1, max_length=L.QUESTION_TEXT_CHARS)]
    options: dict[str, Any] = Field(
        default_factory=dict, max_length=L.OPTIONS_PER_QUESTION,
        description="choices, scale min/max/labels, demographic field; integer/decimal/date/"
                    "time min and max; for any kind: hint, required_message and "
                    "constraint_message per language ({tag: words}) and required (true/false)")
    texts: dict[Language, Annotated[Text, Field(max_length=L.QUESTION_TEXT_CHARS)]] = Field(
        default_factory=dict, max_length=L.LANGUAGES_PER_SURVEY,
        description="translations: language -> text (drafts)")


class NewSurvey(BaseModel):
    title: Annotated[Text, Field(min_length=1, max_length=L.TITLE_CHARS)]
    purpose: Annotated[Text, Field(min_length=1, max_length=L.SURVEY_PURPOSE_CHARS)]
    base_language: Language = "en"
    target_languages: list[Language] = Field(default_factory=list,
                                             max_length=L.LANGUAGES_PER_SURVEY)
    questions: list[NewQuestion] = Field(default_factory=list, max_length=L.QUESTIONS_PER_SURVEY)


class QuestionText(BaseModel):
    text: Annotated[Text, Field(min_length=1, max_length=L.QUESTION_TEXT_CHARS)]


class OpenLanguage(BaseModel):
    accept_english: bool = Field(False, description="open even where a translation is missing, "
                                 "showing those questions in English")


class NewSession(BaseModel):
    survey_id: Id
    language: Language
    respondent_id: Id | None = None
    contact: Annotated[Text, Field(max_length=L.CONTACT_CHARS)] | None = Field(
        None, description="kept apart from answers and never exported")


class AnswerText(BaseModel):
    text: Annotated[Text, Field(min_length=1, max_length=L.ANSWER_TEXT_CHARS)]
    rendering: Literal["original", "english"] = "original"


class Reason(BaseModel):
    reason: Annotated[Text, Field(min_length=1, max_length=L.NOTE_CHARS)]


class Note(BaseModel):
    note: Annotated[Text, Field(max_length=L.NOTE_CHARS)] = ""


class NewCoding(BaseModel):
    code_id: Id
    answer_text_id: Id | None = Field(None, description="the words a span is in; none: the "
                                      "whole answer")
    start: Annotated[int, Field(ge=0, le=MAX_ID)] | None = None
    end: Annotated[int, Field(ge=0, le=MAX_ID)] | None = None


class Decision(BaseModel):
    accept: bool


class NewCode(BaseModel):
    name: Annotated[Text, Field(min_length=1, max_length=L.TITLE_CHARS)]
    parent: Annotated[Text, Field(max_length=L.TITLE_CHARS)] | None = None
    description: Annotated[Text, Field(max_length=L.CODE_DESCRIPTION_CHARS)] = ""
    colour: Annotated[str, Field(pattern=r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")] | None = None
    memo: Annotated[Text, Field(max_length=L.MEMO_CHARS)] = ""


class NewCodebook(BaseModel):
    name: Annotated[Text, Field(min_length=1, max_length=L.TITLE_CHARS)]
    survey_id: Id | None = None
    codes: list[NewCode] = Field(default_factory=list, max_length=L.CODES_PER_CODEBOOK)


class NewExport(BaseModel):
    survey_id: Id
    format: Literal["csv", "wide-csv", "xlsx", "json", "qdpx"]
    identifiable: bool = Field(False, description="admins only; audit-logged")
