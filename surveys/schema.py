"""Request bodies and answers of the survey, session, answer, codebook and export routes
(pydantic models at the edge); the services check the content itself."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from cohear import limits as L
from cohear.ids import MAX_ID, Id
from cohear.schema import Out
from cohear.text import Text  # refuses lone surrogates and characters XML cannot hold (422)

Language = Annotated[str, Field(min_length=2, max_length=L.LANGUAGE_TAG_CHARS,
                                 pattern=r"^[A-Za-z0-9-]+$", examples=["en"])]
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
    text: Annotated[Text, Field(min_length=1, max_length=L.QUESTION_TEXT_CHARS)] | None = Field(
        None, description="the question's words in the language (left as they are when absent)")
    labels: dict[Annotated[str, Field(max_length=120)],
                 Annotated[Text, Field(min_length=1, max_length=L.CHOICE_LABEL_CHARS)]] = Field(
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
    contact: Annotated[Text, Field(max_length=L.CONTACT_CHARS)] | None = Field(
        None, description="kept apart from answers and never exported")


class AnswerText(BaseModel):
    text: Annotated[Text, Field(min_length=1, max_length=L.ANSWER_TEXT_CHARS)]
    rendering: Literal["original", "english"] = "original"


class Reason(BaseModel):
    reason: Annotated[Text, Field(min_length=1, max_length=L.NOTE_CHARS)]


class TranslationRequest(BaseModel):
    note: Annotated[Text, Field(max_length=1000, description=(
        "for the translator: what to look out for (optional)"))] = ""


class Note(BaseModel):
    note: Annotated[Text, Field(max_length=L.NOTE_CHARS, description=(
        "what was done and who was told (at least 10 letters or digits; an empty or too "
        "short note, or one of dots, spaces or invisible characters, is refused with 422)"
    ))] = ""


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


# -- answers (response models; see cohear.schema.Out) ------------------------------------------

class QuestionOut(Out):
    id: int
    survey_id: int
    survey_version: int
    position: int
    name: str
    kind: str
    text: str
    options: dict[str, Any]
    texts: dict[str, Any]


class OpenLanguageOut(Out):
    language: str
    accepted_in_english: int
    opened_at: str


class SurveyOut(Out):
    id: int
    title: str
    purpose: str
    base_language: str
    target_languages: list[str]
    version: int
    created_at: str
    questions: list[QuestionOut]
    open_languages: list[OpenLanguageOut]


class SurveyListItem(Out):
    id: int
    title: str
    purpose: str
    base_language: str
    target_languages: list[str]
    version: int
    created_at: str
    questions: int
    answers: int


class XlsformReportItem(Out):
    """One cell, row, column or sheet cohear did not import, and what to do about it."""
    sheet: str
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    message: str
    fix: str


class XlsformReport(Out):
    imported: list[str]
    rows: dict[str, int]
    languages: list[dict[str, Any]]
    items: list[XlsformReportItem]
    unsupported: list[str]
    warnings: list[str]


class XlsformImport(Out):
    survey: SurveyOut
    report: XlsformReport


class PromptOut(Out):
    question_id: int
    language: str
    sha256: str
    size: int


class AgreementOut(Out):
    survey_id: int
    coders: list[dict[str, Any]]
    units: int
    pairable_units: int
    codes: list[dict[str, Any]]
    overall: dict[str, Any]


class SummaryOut(Out):
    survey_id: int
    answers_by_question_and_language: list[dict[str, Any]]
    answers_by_demographic_band: list[dict[str, Any]]
    codes_by_language: list[dict[str, Any]]


class ConsentOut(Out):
    id: int
    session_id: int
    respondent_id: int
    consent_version: int
    language: str
    method: str
    recording_id: int | None = None
    given_at: str
    recorded_by: int
    withdrawn_at: str | None = None


class SessionOut(Out):
    """A session as staff who run or review collection see it."""
    id: int
    survey_id: int
    survey_version: int
    respondent_id: int
    respondent: str
    language: str
    collector_id: int
    started_at: str


class SessionDetail(SessionOut):
    consent: ConsentOut | None = None
    answers: list[dict[str, Any]]


class PseudonymisedSession(Out):
    """A session as a researcher lists it: the respondent's pseudonym, no ids."""
    respondent: str
    survey_id: int
    survey_version: int
    language: str
    answers: list[int]
    pseudonymised: Literal[True]


class AnswerTextOut(Out):
    id: int
    rendering: str
    version: int
    language: str
    text: str


class CodingOut(Out):
    id: int
    answer_id: int
    code_id: int
    coder_id: int
    answer_text_id: int | None = None
    start_offset: int | None = None
    end_offset: int | None = None
    created_at: str


class AnswerOut(Out):
    """An answer as staff who may read respondents' words see it."""
    id: int
    session_id: int
    respondent_id: int
    question_id: int
    language: str
    survey_version: int
    kind: str
    choices: list[str] | None = None
    recording_id: int | None = None
    status: str
    safeguarding: int
    texts: dict[str, AnswerTextOut]


class AnswerDetail(AnswerOut):
    codings: list[CodingOut]


class PseudonymisedAnswer(Out):
    """An answer as a researcher reads it (surveys/views.py): redacted, pseudonymised."""
    id: int
    survey_id: int
    survey_version: int
    question_id: int
    respondent: str
    language: str
    kind: str
    choices: list[str] | None = None
    status: str
    safeguarding: int
    texts: dict[str, AnswerTextOut]
    codings: list[CodingOut]
    pseudonymised: Literal[True]


class QueueItem(Out):
    id: int
    session_id: int
    question_id: int
    survey_id: int
    language: str
    kind: str
    status: str
    safeguarding: int


class PseudonymisedQueueItem(Out):
    id: int
    survey_id: int
    question_id: int
    respondent: str
    language: str
    kind: str
    status: str
    safeguarding: int


class WithdrawalOut(Out):
    respondent_id: int
    deleted: dict[str, int]
    audit_entries_erased: int


class RedactionOut(Out):
    id: int
    answer_text_id: int
    start_offset: int
    end_offset: int
    kind: str
    status: str


class CodeOut(Out):
    id: int
    codebook_id: int
    parent_id: int | None = None
    name: str
    description: str
    colour: str
    memo: str


class CodebookOut(Out):
    id: int
    name: str
    survey_id: int | None = None
    created_at: str
    memos_redacted: bool = Field(False, description=(
        "true when the codes' memos are shown redacted (to readers of the pseudonymised "
        "view): personal data in them replaced by [kind]"))
    codes: list[CodeOut]


class CodebookListItem(Out):
    id: int
    name: str
    survey_id: int | None = None
    created_at: str
    codes: int


class ExportOut(Out):
    id: int
    survey_id: int
    format: str
    identifiable: int
    status: str
    rows: int | None = None
    job_id: int | None = None
    created_at: str
    finished_at: str | None = None
    error: str | None = None
