"""Request bodies of the survey, session, answer, codebook and export routes (pydantic
models at the edge); the services check the content itself."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

# Ids fit SQLite's integers; anything larger cannot name a row.
MAX_ID = 2**53


def _utf8(value: str) -> str:
    value.encode("utf-8")  # a lone surrogate raises here and becomes a 422, not a 500
    return value


Text = Annotated[str, AfterValidator(_utf8)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Language = Annotated[str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z0-9-]+$")]
QuestionKind = Literal["consent", "open", "single_choice", "multiple_choice", "scale",
                       "demographic"]


class NewQuestion(BaseModel):
    kind: QuestionKind
    name: Annotated[Text, Field(min_length=1, max_length=64)]
    text: Annotated[Text, Field(min_length=1, max_length=4000)]
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="choices, scale min/max/labels, demographic field")
    texts: dict[Language, Annotated[Text, Field(max_length=4000)]] = Field(
        default_factory=dict, description="translations: language -> text (drafts)")


class NewSurvey(BaseModel):
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    purpose: Annotated[Text, Field(min_length=1, max_length=2000)]
    base_language: Language = "en"
    target_languages: list[Language] = Field(default_factory=list, max_length=50)
    questions: list[NewQuestion] = Field(default_factory=list, max_length=500)


class QuestionText(BaseModel):
    text: Annotated[Text, Field(min_length=1, max_length=4000)] | None = Field(
        None, description="the question's words in the language (left as they are when absent)")
    labels: dict[Annotated[str, Field(max_length=120)],
                 Annotated[Text, Field(min_length=1, max_length=500)]] = Field(
        default_factory=dict, max_length=60,
        description="its labels' words: label key (see the question's `labels`, e.g. "
                    "'scale:1', 'choice:yes') -> text")


class OpenLanguage(BaseModel):
    accept_english: bool = Field(False, description="open even where a translation is missing, "
                                 "showing those questions in English")


class NewSession(BaseModel):
    survey_id: Id
    language: Language
    respondent_id: Id | None = None
    contact: Annotated[Text, Field(max_length=500)] | None = Field(
        None, description="kept apart from answers and never exported")


class AnswerText(BaseModel):
    text: Annotated[Text, Field(min_length=1, max_length=200_000)]
    rendering: Literal["original", "english"] = "original"


class Reason(BaseModel):
    reason: Annotated[Text, Field(min_length=1, max_length=2000)]


class Note(BaseModel):
    note: Annotated[Text, Field(max_length=2000)] = ""


class NewCoding(BaseModel):
    code_id: Id
    answer_text_id: Id | None = Field(None, description="the words a span is in; none: the "
                                      "whole answer")
    start: Annotated[int, Field(ge=0, le=MAX_ID)] | None = None
    end: Annotated[int, Field(ge=0, le=MAX_ID)] | None = None


class Decision(BaseModel):
    accept: bool


class NewCode(BaseModel):
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    parent: Annotated[Text, Field(max_length=200)] | None = None
    description: Annotated[Text, Field(max_length=4000)] = ""
    colour: Annotated[str, Field(pattern=r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")] | None = None
    memo: Annotated[Text, Field(max_length=20_000)] = ""


class NewCodebook(BaseModel):
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    survey_id: Id | None = None
    codes: list[NewCode] = Field(default_factory=list, max_length=5000)


class NewExport(BaseModel):
    survey_id: Id
    format: Literal["csv", "wide-csv", "xlsx", "json", "qdpx"]
    identifiable: bool = Field(False, description="admins only; audit-logged")
