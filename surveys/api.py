"""HTTP routes for surveys, sessions, answers, codebooks and exports. Each route only
translates HTTP to a surveys service call and back; roles are checked by `allow(...)`
and the services check the finer rules (a collector reaches only their own sessions)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import Field

from cohear import limits as L
from cohear.auth import User
from cohear.deps import allow, get_jobs, get_store
from cohear.errors import BadInput
from cohear.ids import Id
from cohear.jobs import JobQueue
from cohear.schema import BODY, SIGNED_IN, problems
from cohear.store import Store
from cohear.text import Text
from surveys import (
    agreement,
    coding,
    english,
    exports,
    redaction,
    service,
    summary,
    views,
    xlsform,
)
from surveys.schema import (
    AgreementOut,
    AnswerDetail,
    AnswerOut,
    AnswerText,
    AnswerTextOut,
    CodebookListItem,
    CodebookOut,
    CodeOut,
    CodingOut,
    ConsentOut,
    Decision,
    ExportOut,
    NewCode,
    NewCodebook,
    NewCoding,
    NewExport,
    NewQuestion,
    NewSession,
    NewSurvey,
    Note,
    OpenLanguage,
    PromptOut,
    PseudonymisedAnswer,
    PseudonymisedQueueItem,
    PseudonymisedSession,
    QuestionOut,
    QuestionText,
    QueueItem,
    Reason,
    RedactionOut,
    SessionDetail,
    SessionOut,
    SummaryOut,
    SurveyListItem,
    SurveyOut,
    TranslationRequest,
    WithdrawalOut,
    XlsformImport,
)

router = APIRouter(responses=SIGNED_IN)
AUDIO = {200: {"content": {"audio/*": {}, "application/octet-stream": {}},
               "description": "the recorded audio"}}
StoreDep = Annotated[Store, Depends(get_store)]
JobsDep = Annotated[JobQueue, Depends(get_jobs)]
IdPath = Id
LangPath = Annotated[str, Path(min_length=2, max_length=L.LANGUAGE_TAG_CHARS,
                               pattern=r"^[A-Za-z0-9-]+$")]


def _read_upload(file: UploadFile, limit: int) -> bytes:
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise BadInput(f"the file is larger than {limit:,} bytes", fix="send a smaller file")
    return data


# -- surveys ---------------------------------------------------------------------------------

@router.get("/api/surveys", tags=["surveys"], response_model=list[SurveyListItem])
def list_surveys(store: StoreDep, _: Annotated[User, Depends(allow("surveys.read"))]):
    return service.list_surveys(store)


@router.post("/api/surveys", status_code=201, tags=["surveys"], response_model=SurveyOut,
             responses=problems(*BODY, 409))
def create_survey(body: NewSurvey, store: StoreDep,
                  user: Annotated[User, Depends(allow("surveys.build"))]) -> dict:
    return service.create_survey(store, user, title=body.title, purpose=body.purpose,
                                 base_language=body.base_language,
                                 target_languages=body.target_languages,
                                 questions=[q.model_dump() for q in body.questions])


@router.post("/api/surveys/xlsform", status_code=201, tags=["surveys"],
             response_model=XlsformImport, responses=problems(*BODY, 409))
def import_xlsform(file: Annotated[UploadFile, File(description="an XLSForm (.xlsx)")],
                   store: StoreDep, user: Annotated[User, Depends(allow("surveys.build"))]
                   ) -> dict:
    """Create a survey from a KoboToolbox/ODK XLSForm; the report lists what was left out."""
    return xlsform.import_xlsform(store, user, _read_upload(file, 20 * 1024 * 1024))


@router.get("/api/surveys/{survey_id}", tags=["surveys"], response_model=SurveyOut,
            responses=problems(404))
def get_survey(survey_id: IdPath, store: StoreDep,
               _: Annotated[User, Depends(allow("surveys.read"))]) -> dict:
    return service.get_survey(store, survey_id)


@router.post("/api/surveys/{survey_id}/questions", status_code=201, tags=["surveys"],
             response_model=QuestionOut, responses=problems(*BODY, 404, 409))
def add_question(survey_id: IdPath, body: NewQuestion, store: StoreDep,
                 user: Annotated[User, Depends(allow("surveys.build"))]) -> dict:
    return service.add_question(store, user, survey_id, kind=body.kind, name=body.name,
                                text=body.text, options=body.options, texts=body.texts)


@router.post("/api/surveys/{survey_id}/versions", status_code=201, tags=["surveys"],
             response_model=SurveyOut, responses=problems(404))
def new_version(survey_id: IdPath, store: StoreDep,
                user: Annotated[User, Depends(allow("surveys.build"))]) -> dict:
    return service.new_version(store, user, survey_id)


@router.post("/api/surveys/{survey_id}/languages/{language}", tags=["surveys"],
             response_model=SurveyOut, responses=problems(*BODY, 404, 409))
def open_language(survey_id: IdPath, language: LangPath, body: OpenLanguage, store: StoreDep,
                  user: Annotated[User, Depends(allow("surveys.build"))]) -> dict:
    """Open the survey for collection in a language (its questions must be approved)."""
    return service.open_language(store, user, survey_id, language,
                                 accept_english=body.accept_english)


@router.put("/api/surveys/questions/{question_id}/texts/{language}", tags=["surveys"],
            response_model=QuestionOut, responses=problems(*BODY, 404, 409))
def set_question_text(question_id: IdPath, language: LangPath, body: QuestionText,
                      store: StoreDep, user: Annotated[User, Depends(allow("surveys.build"))]
                      ) -> dict:
    """A question's words in a language, and its labels' (each to be approved)."""
    if body.text is None and not body.labels:
        raise BadInput("send the question's text, its labels, or both",
                       fix='e.g. {"text": "...", "labels": {"scale:1": "..."}}')
    return service.set_question_text(store, user, question_id, language, body.text,
                                     body.labels)


@router.post("/api/surveys/questions/{question_id}/texts/{language}/approve", tags=["surveys"],
             response_model=QuestionOut, responses=problems(400, 404, 409))
def approve_question_text(question_id: IdPath, language: LangPath, store: StoreDep,
                          user: Annotated[User, Depends(allow("surveys.approve_text"))]) -> dict:
    return service.approve_question_text(store, user, question_id, language)


@router.put("/api/surveys/questions/{question_id}/prompts/{language}", tags=["surveys"],
            response_model=PromptOut, responses=problems(*BODY, 404))
def put_prompt(question_id: IdPath, language: LangPath,
               file: Annotated[UploadFile, File(description="the question read aloud")],
               store: StoreDep, user: Annotated[User, Depends(allow("surveys.build"))]) -> dict:
    return service.put_prompt(store, user, question_id, language, file.file,
                              file.content_type or "")


@router.get("/api/surveys/questions/{question_id}/prompts/{language}", tags=["surveys"],
            responses=AUDIO | problems(404))
def get_prompt(question_id: IdPath, language: LangPath, store: StoreDep,
               _: Annotated[User, Depends(allow("surveys.read"))]) -> FileResponse:
    prompt = service.get_prompt(store, question_id, language)
    return FileResponse(store.blobs.path(prompt["blob_sha256"]), media_type=prompt["media_type"])


@router.get("/api/surveys/{survey_id}/agreement", tags=["surveys"], response_model=AgreementOut,
            responses=problems(400, 404, 409))
def survey_agreement(survey_id: IdPath, store: StoreDep,
                     user: Annotated[User, Depends(allow("agreement.read"))],
                     coder: Annotated[list[Id] | None,
                                      Query(description="coder ids (default: all)")] = None
                     ) -> dict:
    """Cohen's kappa (two coders) or Krippendorff's alpha, per code and overall."""
    return agreement.survey_agreement(store, user, survey_id, coder)


@router.get("/api/surveys/{survey_id}/summary", tags=["surveys"], response_model=SummaryOut,
            responses=problems(404))
def survey_summary(survey_id: IdPath, store: StoreDep,
                   user: Annotated[User, Depends(allow("surveys.summary"))]) -> dict:
    return summary.summarise(store, user, survey_id)


@router.get("/api/surveys/{survey_id}/charts/{chart}", tags=["surveys"],
            responses={200: {"content": {"image/png": {}}, "description": "a PNG chart"}}
            | problems(404, 409))
def survey_chart(survey_id: IdPath, chart: Literal["answers", "codes"], store: StoreDep,
                 user: Annotated[User, Depends(allow("surveys.summary"))]) -> Response:
    """A PNG chart: answers per question and language, or code frequencies by language."""
    return Response(summary.chart_png(store, user, survey_id, chart), media_type="image/png")


# -- sessions ------------------------------------------------------------------------------------

@router.post("/api/sessions", status_code=201, tags=["sessions"], response_model=SessionDetail,
             responses=problems(*BODY, 404, 409))
def start_session(body: NewSession, store: StoreDep,
                  user: Annotated[User, Depends(allow("sessions.run"))]) -> dict:
    return service.start_session(store, user, body.survey_id, body.language,
                                 respondent_id=body.respondent_id, contact=body.contact)


@router.get("/api/sessions", tags=["sessions"],
            response_model=list[SessionOut | PseudonymisedSession])
def list_sessions(store: StoreDep, user: Annotated[User, Depends(allow("sessions.read"))],
                  survey_id: Id | None = None):
    """Sessions (a collector's own); researchers get pseudonyms, not session ids."""
    return views.sessions_view(store, user, survey_id)


@router.get("/api/sessions/{session_id}", tags=["sessions"], response_model=SessionDetail,
            responses=problems(404))
def get_session(session_id: IdPath, store: StoreDep,
                user: Annotated[User, Depends(allow("sessions.open"))]) -> dict:
    return service.get_session(store, user, session_id)


@router.post("/api/sessions/{session_id}/finish", tags=["sessions"], responses=problems(404, 409))
def finish_session(session_id: IdPath, store: StoreDep,
                   user: Annotated[User, Depends(allow("sessions.run"))]) -> dict:
    """The respondent has finished: later answers to this session are refused (409).
    Until then, a second answer to a question is a new version of the first."""
    return service.finish_session(store, user, session_id)


@router.post("/api/sessions/{session_id}/consent", status_code=201, tags=["sessions"],
             response_model=ConsentOut, responses=problems(*BODY, 404, 409, 415))
def record_consent(session_id: IdPath, store: StoreDep,
                   user: Annotated[User, Depends(allow("sessions.run"))],
                   method: Annotated[Literal["verbal_recording", "tick"], Form()],
                   language: Annotated[str | None, Form(max_length=L.LANGUAGE_TAG_CHARS)] = None,
                   file: Annotated[UploadFile | None, File(description="verbal consent")] = None
                   ) -> dict:
    """Record consent (before any answer): the consent text version, language and how."""
    return service.record_consent(store, user, session_id, method=method, language=language,
                                  recording=file.file if file else None,
                                  filename=file.filename if file else "consent",
                                  content_type=file.content_type if file else None)


@router.post("/api/sessions/{session_id}/answers", status_code=201, tags=["sessions"],
             response_model=AnswerOut, responses=problems(*BODY, 404, 409, 415))
def submit_answer(session_id: IdPath, store: StoreDep, jobs: JobsDep,
                  user: Annotated[User, Depends(allow("sessions.run"))],
                  question_id: Annotated[Id, Form()],
                  text: Annotated[Text | None, Form(description=(
                      f"typed words, at most {L.TYPED_ANSWER_CHARS:,} characters (413 beyond: "
                      "a longer answer is recorded)"))] = None,
                  choices: Annotated[list[Annotated[str, Field(max_length=L.CHOICE_VALUE_CHARS)]]
                                     | None, Form(max_length=L.CHOICES_PER_QUESTION)] = None,
                  file: Annotated[UploadFile | None, File(description="a voice answer")] = None
                  ) -> dict:
    """An answer: text, chosen options, or a recording (which queues transcription)."""
    return service.submit_answer(store, user, session_id, question_id, text=text,
                                 choices=choices, audio=file.file if file else None,
                                 filename=file.filename if file else "answer",
                                 content_type=file.content_type if file else None, jobs=jobs)


@router.post("/api/sessions/{session_id}/withdraw", tags=["sessions"], response_model=WithdrawalOut,
             responses=problems(404, 409))
def withdraw(session_id: IdPath, store: StoreDep,
             user: Annotated[User, Depends(allow("respondents.withdraw"))]) -> dict:
    """The session's respondent withdraws consent: their words and recordings are deleted."""
    session = service.get_session(store, user, session_id)
    return service.withdraw_consent(store, user, session["respondent_id"])


# -- answers -------------------------------------------------------------------------------------

@router.get("/api/answers", tags=["answers"],
            response_model=list[QueueItem | PseudonymisedQueueItem])
def review_queue(store: StoreDep, user: Annotated[User, Depends(allow("answers.read"))],
                 survey_id: Id | None = None,
                 status: Literal["new", "transcribed", "verified"] | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200):
    """Answers to review, safeguarding concerns first (researchers: pseudonymised)."""
    return views.queue_view(store, user, survey_id=survey_id, status=status, limit=limit)


@router.get("/api/answers/{answer_id}", tags=["answers"],
            response_model=AnswerDetail | PseudonymisedAnswer, responses=problems(404))
def get_answer(answer_id: IdPath, store: StoreDep,
               user: Annotated[User, Depends(allow("answers.read"))]) -> dict:
    """An answer with its newest words and codings (researchers: redacted, pseudonymised)."""
    return views.answer_view(store, answer_id, user)


@router.post("/api/answers/{answer_id}/texts", status_code=201, tags=["answers"],
             response_model=AnswerTextOut, responses=problems(*BODY, 404))
def add_text(answer_id: IdPath, body: AnswerText, store: StoreDep,
             user: Annotated[User, Depends(allow("answers.review"))]) -> dict:
    """A corrected transcript or an English rendering, as a new version."""
    return service.add_text_version(store, user, answer_id, body.text, rendering=body.rendering)


@router.post("/api/answers/{answer_id}/verify", tags=["answers"], response_model=AnswerOut,
             responses=problems(404, 409))
def verify(answer_id: IdPath, store: StoreDep,
           user: Annotated[User, Depends(allow("answers.review"))]) -> dict:
    return service.verify_answer(store, user, answer_id)


@router.post("/api/answers/{answer_id}/safeguarding", tags=["answers"], response_model=AnswerOut,
             responses=problems(*BODY, 404))
def raise_safeguarding(answer_id: IdPath, body: Reason, store: StoreDep,
                       user: Annotated[User, Depends(allow("safeguarding.raise"))]) -> dict:
    return service.raise_safeguarding(store, user, answer_id, body.reason)


@router.post("/api/answers/{answer_id}/safeguarding/handled", tags=["answers"],
             response_model=AnswerOut, responses=problems(*BODY, 404, 409))
def handle_safeguarding(answer_id: IdPath, body: Note, store: StoreDep,
                        user: Annotated[User, Depends(allow("safeguarding.handle"))]) -> dict:
    return service.handle_safeguarding(store, user, answer_id, body.note)


@router.get("/api/answers/{answer_id}/english", tags=["answers"], responses=problems(404))
def answer_english(answer_id: IdPath, store: StoreDep,
                   user: Annotated[User, Depends(allow("answers.read"))]) -> dict:
    """The answer's English: its words (redacted for researchers), and `state`: source,
    current, out_of_date (the words were corrected since), queued or none; whether this
    machine's engine can render it, and the open request for a human translation."""
    answer = views.reading_view(store, answer_id, user)
    state = english.english_state(store, answer)
    text = answer["texts"].get("english")
    state["text"] = text.text if text is not None else None
    if state["request"] is not None and not user.may("answers.request_translation"):
        state["request"] = {"status": "open"}          # staff's note is for staff
    return state


@router.post("/api/answers/{answer_id}/translation-request", status_code=201,
             tags=["answers"], responses=problems(*BODY, 404, 409))
def request_translation(answer_id: IdPath, body: TranslationRequest, store: StoreDep,
                        user: Annotated[User, Depends(allow("answers.request_translation"))]
                        ) -> dict:
    """Ask for a human translation of the answer into English; a reviewer fulfils it by
    posting the English to /api/answers/{id}/texts with rendering=english."""
    return english.request_translation(store, user, answer_id, body.note)


@router.get("/api/translation-requests", tags=["answers"])
def translation_requests(store: StoreDep,
                         user: Annotated[User, Depends(allow("answers.request_translation"))],
                         status: Literal["open", "done", "cancelled"] | None = "open",
                         language: Annotated[str | None, Query(max_length=L.LANGUAGE_TAG_CHARS)] = None,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 500):
    """Requests for a human translation of answers, oldest first."""
    return english.list_requests(store, user, status=status, language=language, limit=limit)


@router.post("/api/translation-requests/{request_id}/cancel", tags=["answers"],
             responses=problems(404, 409))
def cancel_translation_request(
        request_id: IdPath, store: StoreDep,
        user: Annotated[User, Depends(allow("answers.request_translation"))]) -> dict:
    return english.cancel_request(store, user, request_id)


@router.post("/api/answers/{answer_id}/codings", status_code=201, tags=["answers"],
             response_model=CodingOut, responses=problems(*BODY, 404))
def apply_code(answer_id: IdPath, body: NewCoding, store: StoreDep,
               user: Annotated[User, Depends(allow("coding.apply"))]) -> dict:
    """Code the whole answer, or a span of one version of its words (researchers give the
    span in the redacted words they read)."""
    start, end = views.stored_span(store, user, answer_id, body.answer_text_id, body.start,
                                   body.end)
    made = coding.apply_code(store, user, answer_id, body.code_id,
                             answer_text_id=body.answer_text_id, start=start, end=end)
    return views.coding_view(store, user, made)


@router.delete("/api/answers/codings/{coding_id}", status_code=204, tags=["answers"],
               responses=problems(404, 409))
def remove_coding(coding_id: IdPath, store: StoreDep,
                  user: Annotated[User, Depends(allow("coding.apply"))]) -> Response:
    coding.remove_coding(store, user, coding_id)
    return Response(status_code=204)


@router.post("/api/answers/redactions/{redaction_id}", tags=["answers"], response_model=RedactionOut,
             responses=problems(*BODY, 404))
def decide_redaction(redaction_id: IdPath, body: Decision, store: StoreDep,
                     user: Annotated[User, Depends(allow("redactions.decide"))]) -> dict:
    """Accept or reject a suggested redaction; accepted ones apply in every export."""
    return redaction.decide(store, user, redaction_id, body.accept)


# -- codebooks -----------------------------------------------------------------------------------

@router.get("/api/codebooks", tags=["codebooks"], response_model=list[CodebookListItem])
def list_codebooks(store: StoreDep, _: Annotated[User, Depends(allow("codebooks.read"))]):
    return coding.list_codebooks(store)


@router.post("/api/codebooks", status_code=201, tags=["codebooks"], response_model=CodebookOut,
             responses=problems(*BODY, 404, 409))
def create_codebook(body: NewCodebook, store: StoreDep,
                    user: Annotated[User, Depends(allow("codebooks.manage"))]) -> dict:
    return coding.create_codebook(store, user, body.name, survey_id=body.survey_id,
                                  codes=[c.model_dump() for c in body.codes])


@router.post("/api/codebooks/import", status_code=201, tags=["codebooks"],
             response_model=CodebookOut, responses=problems(*BODY, 409))
def import_codebook(file: Annotated[UploadFile, File(description="CSV or REFI-QDA .qdc")],
                    name: Annotated[str, Form(min_length=1, max_length=L.TITLE_CHARS)],
                    store: StoreDep,
                    user: Annotated[User, Depends(allow("codebooks.manage"))]) -> dict:
    data = _read_upload(file, 10 * 1024 * 1024)
    if data.lstrip()[:1] == b"<":
        return coding.import_qdc(store, user, name, data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the codebook CSV is not UTF-8 text", fix="save it as UTF-8 CSV") from None
    return coding.import_codebook_csv(store, user, name, text)


@router.get("/api/codebooks/{codebook_id}", tags=["codebooks"], response_model=CodebookOut,
            responses=problems(404))
def get_codebook(codebook_id: IdPath, store: StoreDep,
                 user: Annotated[User, Depends(allow("codebooks.read"))]) -> dict:
    """A codebook and its codes (researchers and communicators: memos redacted)."""
    return coding.get_codebook(store, codebook_id, user)


@router.post("/api/codebooks/{codebook_id}/codes", status_code=201, tags=["codebooks"],
             response_model=CodeOut, responses=problems(*BODY, 404, 409))
def add_code(codebook_id: IdPath, body: NewCode, store: StoreDep,
             user: Annotated[User, Depends(allow("codebooks.manage"))]) -> dict:
    return coding.add_code(store, user, codebook_id, body.name, parent=body.parent,
                           description=body.description, colour=body.colour, memo=body.memo)


@router.get("/api/codebooks/{codebook_id}/export", tags=["codebooks"],
            responses={200: {"content": {"text/csv": {}, "application/xml": {}},
                             "description": "the codebook as CSV or REFI-QDA .qdc"}}
            | problems(404))
def export_codebook(codebook_id: IdPath, store: StoreDep,
                    user: Annotated[User, Depends(allow("codebooks.read"))],
                    format: Literal["csv", "qdc"] = "csv") -> Response:
    """The codebook as a file (researchers and communicators: memos redacted)."""
    coding.get_codebook(store, codebook_id)
    redacted = coding.memos_redacted_for(user)
    if format == "qdc":
        return Response(coding.export_qdc(store, codebook_id, redacted=redacted),
                        media_type="application/xml",
                        headers={"Content-Disposition":
                                 f'attachment; filename="codebook-{codebook_id}.qdc"'})
    return Response(coding.export_codebook_csv(store, codebook_id, redacted=redacted),
                    media_type="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="codebook-{codebook_id}.csv"'})


# -- exports -------------------------------------------------------------------------------------

@router.post("/api/exports", status_code=202, tags=["exports"], response_model=ExportOut,
             responses=problems(*BODY, 404, 409))
def request_export(body: NewExport, store: StoreDep, jobs: JobsDep,
                   user: Annotated[User, Depends(allow("exports.pseudonymised"))]) -> dict:
    """Queue an export (a `surveys.export` job); identifiable exports need an admin."""
    return exports.request_export(store, user, body.survey_id, body.format,
                                  identifiable=body.identifiable, jobs=jobs)


@router.get("/api/exports", tags=["exports"], response_model=list[ExportOut])
def list_exports(store: StoreDep, user: Annotated[User, Depends(allow("exports.pseudonymised"))]):
    return exports.list_exports(store, user)


@router.get("/api/exports/{export_id}", tags=["exports"], response_model=ExportOut,
            responses=problems(404))
def get_export(export_id: IdPath, store: StoreDep,
               user: Annotated[User, Depends(allow("exports.pseudonymised"))]) -> dict:
    return exports.get_export(store, user, export_id)


@router.get("/api/exports/{export_id}/file", tags=["exports"],
            responses={200: {"content": {"text/csv": {}, "application/json": {}, "application/zip": {},
                                         "application/vnd.openxmlformats-officedocument."
                                         "spreadsheetml.sheet": {},
                                         "application/octet-stream": {}},
                             "description": "the export file"}} | problems(404, 409))
def export_file(export_id: IdPath, store: StoreDep,
                user: Annotated[User, Depends(allow("exports.pseudonymised"))]) -> FileResponse:
    path, name = exports.export_file(store, user, export_id)
    return FileResponse(path, filename=name)
