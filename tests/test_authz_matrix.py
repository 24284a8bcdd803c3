"""The authorisation matrix: every route of every kind (API routes, plain routes, mounts,
static files) × every role, another collector, and anonymous, expired and revoked
tokens, called over HTTP on a real uvicorn server with a valid request, against a table
written by hand from the README's role rules ("Who may do what").

The table is the expectation; nothing here reads the permissions table or a route's
declared action, so a wrong entry in `permissions.py` or a new route nobody thought
about fails this test. Each cell is the exact status a valid request gets: 200, 201,
202, 204 (or 308) where the role may, 403 where it may not, and 404 where the object
is someone else's (another collector's session, answer, recording or job).

Adding a route: add one row to EXPECTED below: the method and path as FastAPI declares
it, who gets what (`roles(admin, communicator, collector, reviewer, researcher)` or
`public(status)`), and a recipe that makes a valid request from the fixture world
(`tests/authz_world.py`); a route that changes state makes its own fresh objects there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount, Route

from tests.authz_world import PLANTED, WORDS, World, tone

ROLES = ("admin", "communicator", "collector", "reviewer", "researcher")
# `worker`: a transcription machine's token, refused everywhere but /api/worker/...
IDENTITIES = ROLES + ("worker", "collector2", "anonymous", "expired", "revoked")


@dataclass(frozen=True)
class Expect:
    """Exact status per identity for a valid request."""
    statuses: dict[str, int]


def roles(admin: int, communicator: int, collector: int, reviewer: int, researcher: int, *,
          other: int | None = None, anonymous: int = 401, invalid: int | None = None,
          worker: int = 403) -> Expect:
    """A signed-in route. `other`: another collector than the one who holds the object
    (the collector's own status when not given); no token gets `anonymous`, an expired or
    revoked one `invalid` (`anonymous` when not given: LibreTranslate tells them apart);
    a worker's token `worker` (403: it may call no route of people's)."""
    invalid = anonymous if invalid is None else invalid
    return Expect({"admin": admin, "communicator": communicator, "collector": collector,
                   "reviewer": reviewer, "researcher": researcher, "worker": worker,
                   "collector2": collector if other is None else other,
                   "anonymous": anonymous, "expired": invalid, "revoked": invalid})


# LibreTranslate's own answers: no key 400, a key it does not accept (or a role that may
# not) 403. OpenAI's: no key, a bad key, or a key without the scope, 401.
LT = {"anonymous": 400, "invalid": 403}


def public(status: int = 200) -> Expect:
    """Anyone, signed in or not (a token, even a dead one, changes nothing)."""
    return Expect(dict.fromkeys(IDENTITIES, status))


@dataclass
class Call:
    method: str
    path: str
    kwargs: dict = field(default_factory=dict)


def get(path: str, **kw) -> Call:
    return Call("GET", path, kw)


def post(path: str, **kw) -> Call:
    return Call("POST", path, kw)


Recipe = Callable[[World, object], Call]   # (world, the caller's User or None) -> request
OK_GET, OK_POST = 200, 201
A, C, R = "admin", "collector", "reviewer"

# -- recipes that make fresh objects ---------------------------------------------------


def _upload(w: World, _) -> Call:
    return post("/api/recordings", files={"file": ("a.wav", tone(w.n()), "audio/wav")})


def _openai(path: str) -> Recipe:
    return lambda w, _: post(path, files={"file": ("a.wav", tone(w.n()), "audio/wav")},
                             data={"model": "whisper-1"})


def _prompt(w: World, _) -> Call:
    q = w.question(w.fresh_survey(), "journey")
    return Call("PUT", f"/api/surveys/questions/{q}/prompts/en",
                {"files": {"file": ("p.wav", tone(w.n()), "audio/wav")}})


def _approve_text(w: World, _) -> Call:
    q = w.question(w.fresh_survey(), "journey")
    return post(f"/api/surveys/questions/{q}/texts/ur/approve")


def _answer(w: World, _) -> Call:
    s = w.fresh_session(consent=True)
    return post(f"/api/sessions/{s['id']}/answers",
                data={"question_id": w.ids["journey"], "text": "By bus"})


def _collect_answer(w: World, _) -> Call:
    s = w.fresh_session(consent=True)
    return post(f"/collect/api/sessions/{s['id']}/answers",
                data={"question_id": w.ids["journey"], "text": "By bus"},
                headers={"Idempotency-Key": w.name("answer-key")})


def _import_messages(w: World, _, one: bool) -> Call:
    m = w.fresh_message(human=True)
    path = f"/api/messages/{m}/import" if one else "/api/messages/import"
    return post(path, content=w.translator_file(m),
                headers={"Content-Type": "application/xliff+xml"})


def _codebook_csv(w: World, _) -> Call:
    return post("/api/codebooks/import", data={"name": w.name("Imported")},
                files={"file": ("book.csv", b"name,parent,description,colour,memo\nBus,,,,\n",
                                "text/csv")})


def _suggest(w: World, _) -> Call:
    """A suggestion for a fresh message's own words (its own, so no other row's message
    changes), which becomes a translation needing review."""
    from comms import service as comms
    words = f"Bring your red book to appointment {w.n()}."
    comms.create_message(w.store, w.comm, title=w.name("Red book"), source_text=words,
                         channel="sms")
    return post("/suggest", data={"q": words, "s": "suggested words", "source": "en",
                                  "target": "ur"})


def _cancel_translation_request(w: World, _) -> Call:
    from surveys import english
    made = english.request_translation(w.store, w.reviewer, w.fresh_urdu_answer(), "")
    return post(f"/api/translation-requests/{made['id']}/cancel")


def _translated_file(w: World) -> str:
    from language_packs.libretranslate import _translate_file
    return _translate_file(w.store, w.comm, b"Book your flu jab.", "leaflet.txt", "en", "ur")


def _links_exchange(w: World, _) -> Call:
    return post("/collect/api/links/exchange", json={"code": w.fresh_link()["code"]})


# -- the table: written by hand from the README's "Who may do what" ---------------------
#                                                              admin comm coll  rev   res
M = "/api/messages"
EXPECTED: dict[tuple[str, str], tuple[Expect, Recipe]] = {
    # the shell; the front door says what the server is (no one's data), to anyone
    ("GET", "/"): (public(), lambda w, u: get("/")),
    ("GET", "/healthz"): (public(), lambda w, u: get("/healthz")),
    ("GET", "/openapi.json"): (public(), lambda w, u: get("/openapi.json")),
    ("GET", "/docs"): (public(), lambda w, u: get("/docs")),
    ("MOUNT", "/docs-assets"): (public(), lambda w, u: get("/docs-assets/swagger-ui.css")),
    # /healthz says ok or degraded and names what is wrong; the details are admins'.
    ("GET", "/api/health"): (roles(200, 403, 403, 403, 403), lambda w, u: get("/api/health")),
    ("GET", "/api/me"): (roles(200, 200, 200, 200, 200), lambda w, u: get("/api/me")),
    ("GET", "/api/users"): (roles(200, 403, 403, 403, 403), lambda w, u: get("/api/users")),
    ("POST", "/api/users"): (roles(201, 403, 403, 403, 403), lambda w, u: post(
        "/api/users", json={"name": w.name("person"), "role": "reviewer"})),
    ("GET", "/api/tokens"): (roles(200, 403, 403, 403, 403), lambda w, u: get("/api/tokens")),
    ("DELETE", "/api/tokens/{prefix}"): (roles(204, 403, 403, 403, 403), lambda w, u: Call(
        "DELETE", f"/api/tokens/{w.fresh_token_prefix()}")),
    ("GET", "/api/jobs"): (roles(200, 200, 200, 200, 200), lambda w, u: get("/api/jobs")),
    # The job is the collector's transcription: another collector does not see it.
    # A job is its starter's (a collector's transcription here): admins and reviewers see
    # every job, anyone else is told it does not exist.
    ("GET", "/api/jobs/{job_id}"): (roles(200, 404, 200, 200, 404, other=404),
                                    lambda w, u: get(f"/api/jobs/{w.ids['job']}")),
    ("POST", "/api/jobs/{job_id}/cancel"): (roles(200, 403, 403, 403, 403), lambda w, u: post(
        f"/api/jobs/{w.fresh_running_job()}/cancel")),
    ("POST", "/api/jobs/integrity-check"): (roles(202, 403, 403, 403, 403),
                                            lambda w, u: post("/api/jobs/integrity-check")),
    ("GET", "/api/audit"): (roles(200, 403, 403, 403, 403), lambda w, u: get("/api/audit")),
    ("GET", "/api/models"): (roles(200, 200, 403, 200, 200), lambda w, u: get("/api/models")),
    ("GET", "/api/workers"): (roles(200, 403, 403, 403, 403), lambda w, u: get("/api/workers")),

    # a transcription worker on another machine: only the jobs leased to it
    ("POST", "/api/worker/heartbeat"): (roles(403, 403, 403, 403, 403, worker=200),
                                        lambda w, u: post("/api/worker/heartbeat",
                                                          headers=w.worker_headers(),
                                                          json={"models": ["base"]})),
    ("POST", "/api/worker/jobs/{job_id}/claim"): (
        roles(403, 403, 403, 403, 403, worker=200),
        lambda w, u: post(f"/api/worker/jobs/{w.fresh_worker_job()}/claim",
                          headers=w.worker_headers())),
    ("GET", "/api/worker/jobs/{job_id}/input"): (
        roles(403, 403, 403, 403, 403, worker=200),
        lambda w, u: get(f"/api/worker/jobs/{w.fresh_worker_job(leased=True)}/input",
                         headers=w.worker_headers())),
    ("POST", "/api/worker/jobs/{job_id}/lease"): (
        roles(403, 403, 403, 403, 403, worker=200),
        lambda w, u: post(f"/api/worker/jobs/{w.fresh_worker_job(leased=True)}/lease",
                          headers=w.worker_headers(), json={"progress": 0.5})),
    ("POST", "/api/worker/jobs/{job_id}/result"): (
        roles(403, 403, 403, 403, 403, worker=200),
        lambda w, u: post(f"/api/worker/jobs/{w.fresh_worker_job(leased=True)}/result",
                          headers=w.worker_headers(), json={"attempt": 1,
                                                            "result": w.worker_result()})),
    ("POST", "/api/worker/jobs/{job_id}/fail"): (
        roles(403, 403, 403, 403, 403, worker=200),
        lambda w, u: post(f"/api/worker/jobs/{w.fresh_worker_job(leased=True)}/fail",
                          headers=w.worker_headers(), json={"attempt": 1,
                                                            "category": "RuntimeError"})),

    # languages and packs; LibreTranslate-compatible routes
    ("GET", "/api/languages"): (roles(200, 200, 200, 200, 200),
                                lambda w, u: get("/api/languages")),
    ("GET", "/api/languages/{tag}"): (roles(200, 200, 200, 200, 200),
                                      lambda w, u: get("/api/languages/ur")),
    ("GET", "/api/packs"): (roles(200, 200, 403, 200, 200), lambda w, u: get("/api/packs")),
    ("POST", "/api/packs"): (roles(201, 403, 403, 403, 403), lambda w, u: post(
        "/api/packs", files={"file": ("fr.argosmodel",
                                      w.pack_files[("en", "fr")].read_bytes(),
                                      "application/zip")})),
    ("DELETE", "/api/packs/{name}"): (roles(200, 403, 403, 403, 403), lambda w, u: Call(
        "DELETE", f"/api/packs/{w.fresh_pack()}")),
    ("POST", "/translate"): (roles(200, 200, 403, 200, 403, **LT), lambda w, u: post(
        "/translate", json={"q": "Book your flu jab.", "source": "en", "target": "ur"})),
    ("POST", "/translate_file"): (roles(200, 200, 403, 200, 403, **LT), lambda w, u: post(
        "/translate_file", data={"source": "en", "target": "ur"},
        files={"file": ("leaflet.txt", b"Book your flu jab.", "text/plain")})),
    # A suggestion for a message's own words: it becomes a translation needing review.
    ("POST", "/suggest"): (roles(200, 200, 403, 200, 403, **LT), _suggest),
    # The translated file's random 128-bit name is the credential, as LibreTranslate's is.
    ("GET", "/download_file/{filename}"): (public(), lambda w, u: get(
        f"/download_file/{_translated_file(w)}")),
    ("GET", "/health"): (public(), lambda w, u: get("/health")),
    ("POST", "/detect"): (roles(200, 200, 200, 200, 200, **LT), lambda w, u: post(
        "/detect", json={"q": "Please book your appointment with the surgery"})),
    # LibreTranslate clients ask for the language list before they hold a key.
    ("GET", "/languages"): (public(), lambda w, u: get("/languages")),
    ("POST", "/languages"): (public(), lambda w, u: post("/languages")),
    ("GET", "/frontend/settings"): (public(), lambda w, u: get("/frontend/settings")),

    # health messages (comms)
    ("POST", M): (roles(201, 201, 403, 403, 403), lambda w, u: post(M, json={
        "title": w.name("Message"), "source_text": "Come to the clinic.", "channel": "sms"})),
    ("GET", M): (roles(200, 200, 403, 200, 200), lambda w, u: get(M)),
    ("GET", M + "/coverage.json"): (roles(200, 200, 403, 200, 200),
                                    lambda w, u: get(M + "/coverage.json")),
    ("GET", M + "/coverage.csv"): (roles(200, 200, 403, 200, 200),
                                   lambda w, u: get(M + "/coverage.csv")),
    ("POST", M + "/translate"): (roles(200, 200, 403, 403, 403), lambda w, u: post(
        M + "/translate", json={"message_ids": [w.fresh_message()], "languages": ["ur"],
                                "background": False})),
    ("GET", M + "/glossary"): (roles(200, 200, 403, 200, 200), lambda w, u: get(M + "/glossary")),
    ("POST", M + "/glossary"): (roles(201, 201, 403, 403, 403), lambda w, u: post(
        M + "/glossary", json={"term": w.name("Pharmacy First")})),
    ("DELETE", M + "/glossary"): (roles(200, 200, 403, 403, 403), lambda w, u: Call(
        "DELETE", M + "/glossary", {"params": {"term": w.fresh_glossary_term()}})),
    ("GET", M + "/export.xlf"): (roles(200, 200, 403, 403, 403), lambda w, u: get(
        M + "/export.xlf", params={"ids": w.ids["message"], "language": "pa-Guru"})),
    ("GET", M + "/export.po"): (roles(200, 200, 403, 403, 403), lambda w, u: get(
        M + "/export.po", params={"ids": w.ids["message"], "language": "pa-Guru"})),
    ("POST", M + "/import"): (roles(200, 200, 403, 403, 403),
                              lambda w, u: _import_messages(w, u, one=False)),
    ("GET", M + "/{message_id}"): (roles(200, 200, 403, 200, 200),
                                   lambda w, u: get(f"{M}/{w.ids['message']}")),
    ("PATCH", M + "/{message_id}"): (roles(200, 200, 403, 403, 403), lambda w, u: Call(
        "PATCH", f"{M}/{w.fresh_message()}", {"json": {"title": w.name("Renamed"), "version": 1}})),
    ("GET", M + "/{message_id}/versions"): (roles(200, 200, 403, 200, 200), lambda w, u: get(
        f"{M}/{w.ids['message']}/versions")),
    ("GET", M + "/{message_id}/check"): (roles(200, 200, 403, 200, 200), lambda w, u: get(
        f"{M}/{w.ids['message']}/check")),
    ("POST", M + "/{message_id}/translate"): (roles(200, 200, 403, 403, 403), lambda w, u: post(
        f"{M}/{w.fresh_message()}/translate", json={"languages": ["ur"], "background": False})),
    ("GET", M + "/{message_id}/translations"): (roles(200, 200, 403, 200, 200), lambda w, u: get(
        f"{M}/{w.ids['message']}/translations")),
    ("GET", M + "/{message_id}/translations/{language}"): (
        roles(200, 200, 403, 200, 200),
        lambda w, u: get(f"{M}/{w.ids['message']}/translations/ur")),
    ("GET", M + "/{message_id}/translations/{language}/history"): (
        roles(200, 200, 403, 200, 200),
        lambda w, u: get(f"{M}/{w.ids['message']}/translations/ur/history")),
    ("PUT", M + "/{message_id}/translations/{language}"): (
        roles(200, 200, 403, 200, 403),
        lambda w, u: Call("PUT", f"{M}/{w.fresh_message(translated=True)}/translations/ur",
                          {"json": {"text": "اپنے جی پی سے فلو ویکسین بک کریں۔",
                                    "revision": 1}})),
    ("POST", M + "/{message_id}/translations/{language}/approve"): (
        roles(200, 403, 403, 200, 403),
        lambda w, u: post(f"{M}/{w.fresh_message(translated=True)}/translations/ur/approve",
                          json={"revision": 1})),
    ("POST", M + "/{message_id}/human-requests"): (roles(200, 200, 403, 403, 403), lambda w, u: post(
        f"{M}/{w.fresh_message()}/human-requests", json={"languages": ["pa-Guru"]})),
    ("GET", M + "/{message_id}/export.xlf"): (roles(200, 200, 403, 403, 403), lambda w, u: get(
        f"{M}/{w.ids['message']}/export.xlf", params={"language": "pa-Guru"})),
    ("GET", M + "/{message_id}/export.po"): (roles(200, 200, 403, 403, 403), lambda w, u: get(
        f"{M}/{w.ids['message']}/export.po", params={"language": "pa-Guru"})),
    ("POST", M + "/{message_id}/import"): (roles(200, 200, 403, 403, 403),
                                           lambda w, u: _import_messages(w, u, one=True)),
    ("GET", M + "/{message_id}/text"): (roles(200, 200, 403, 200, 200), lambda w, u: get(
        f"{M}/{w.ids['message']}/text", params={"language": "ur"})),
    ("GET", M + "/{message_id}/page.html"): (roles(200, 200, 403, 200, 200), lambda w, u: get(
        f"{M}/{w.ids['message']}/page.html")),

    # recordings and transcripts (speech); researchers have no access to recordings
    ("POST", "/v1/audio/transcriptions"): (roles(200, 200, 200, 200, 401, worker=401),
                                           _openai("/v1/audio/transcriptions")),
    ("POST", "/v1/audio/translations"): (roles(200, 200, 200, 200, 401, worker=401),
                                         _openai("/v1/audio/translations")),
    ("POST", "/api/recordings"): (roles(201, 403, 201, 201, 403), _upload),
    ("GET", "/api/recordings"): (roles(200, 200, 200, 200, 403),
                                 lambda w, u: get("/api/recordings")),
    ("GET", "/api/recordings/{recording_id}"): (roles(200, 200, 200, 200, 403, other=404),
                                                lambda w, u: get(
                                                    f"/api/recordings/{w.ids['recording']}")),
    ("POST", "/api/recordings/{recording_id}/transcribe"): (
        roles(202, 403, 202, 202, 403, other=404),
        lambda w, u: post(f"/api/recordings/{w.fresh_recording()}/transcribe")),
    ("GET", "/api/recordings/{recording_id}/transcript"): (
        roles(200, 200, 200, 200, 403, other=404),
        lambda w, u: get(f"/api/recordings/{w.ids['transcribed_recording']}/transcript")),
    ("POST", "/api/recordings/{recording_id}/transcript"): (
        roles(201, 403, 403, 201, 403),
        lambda w, u: post(f"/api/recordings/{w.fresh_recording(transcript=True)}/transcript",
                          json={"text": "the bus came late"})),
    ("GET", "/api/recordings/{recording_id}/audio"): (
        roles(200, 403, 403, 200, 403),
        lambda w, u: get(f"/api/recordings/{w.ids['recording']}/audio")),

    # surveys
    ("GET", "/api/surveys"): (roles(200, 200, 200, 200, 200), lambda w, u: get("/api/surveys")),
    ("POST", "/api/surveys"): (roles(201, 201, 403, 403, 403), lambda w, u: post(
        "/api/surveys", json={"title": w.name("Survey"), "purpose": "Hear people"})),
    ("POST", "/api/surveys/xlsform"): (roles(201, 201, 403, 403, 403), lambda w, u: post(
        "/api/surveys/xlsform", files={"file": ("form.xlsx", w.xlsform(),
                                                "application/octet-stream")})),
    ("GET", "/api/surveys/{survey_id}"): (roles(200, 200, 200, 200, 200), lambda w, u: get(
        f"/api/surveys/{w.ids['survey']}")),
    ("POST", "/api/surveys/{survey_id}/questions"): (roles(201, 201, 403, 403, 403), lambda w, u: post(
        f"/api/surveys/{w.fresh_survey()['id']}/questions",
        json={"kind": "open", "name": "more", "text": "Anything else?"})),
    ("POST", "/api/surveys/{survey_id}/versions"): (roles(201, 201, 403, 403, 403), lambda w, u: post(
        f"/api/surveys/{w.fresh_survey()['id']}/versions")),
    ("POST", "/api/surveys/{survey_id}/languages/{language}"): (
        roles(200, 200, 403, 403, 403),
        lambda w, u: post(f"/api/surveys/{w.fresh_survey()['id']}/languages/en", json={})),
    ("PUT", "/api/surveys/questions/{question_id}/texts/{language}"): (
        roles(200, 200, 403, 403, 403),
        lambda w, u: Call("PUT", f"/api/surveys/questions/"
                                 f"{w.question(w.fresh_survey(), 'ease')}/texts/ur",
                          {"json": {"text": "یہ کتنا آسان تھا؟"}})),
    ("POST", "/api/surveys/questions/{question_id}/texts/{language}/approve"): (
        roles(200, 403, 403, 200, 403), _approve_text),
    ("PUT", "/api/surveys/questions/{question_id}/prompts/{language}"): (
        roles(200, 200, 403, 403, 403), _prompt),
    ("GET", "/api/surveys/questions/{question_id}/prompts/{language}"): (
        roles(200, 200, 200, 200, 200),
        lambda w, u: get(f"/api/surveys/questions/{w.ids['journey']}/prompts/en")),
    ("GET", "/api/surveys/{survey_id}/agreement"): (roles(200, 403, 403, 200, 200), lambda w, u: get(
        f"/api/surveys/{w.ids['survey']}/agreement")),
    ("GET", "/api/surveys/{survey_id}/summary"): (roles(200, 200, 403, 200, 200), lambda w, u: get(
        f"/api/surveys/{w.ids['survey']}/summary")),
    ("GET", "/api/surveys/{survey_id}/charts/{chart}"): (roles(200, 200, 403, 200, 200), lambda w, u: get(
        f"/api/surveys/{w.ids['survey']}/charts/answers")),

    # sessions: collectors run their own; researchers list them only as pseudonyms
    ("POST", "/api/sessions"): (roles(201, 403, 201, 403, 403), lambda w, u: post(
        "/api/sessions", json={"survey_id": w.ids["survey"], "language": "en"})),
    ("GET", "/api/sessions"): (roles(200, 403, 200, 200, 200), lambda w, u: get("/api/sessions")),
    ("GET", "/api/sessions/{session_id}"): (roles(200, 403, 200, 200, 403, other=404),
                                            lambda w, u: get(
                                                f"/api/sessions/{w.ids['session']}")),
    ("POST", "/api/sessions/{session_id}/finish"): (
        roles(200, 403, 200, 403, 403, other=404),
        lambda w, u: post(f"/api/sessions/{w.fresh_session(consent=True)['id']}/finish")),
    ("POST", "/api/sessions/{session_id}/consent"): (
        roles(201, 403, 201, 403, 403, other=404),
        lambda w, u: post(f"/api/sessions/{w.fresh_session()['id']}/consent",
                          data={"method": "tick"})),
    ("POST", "/api/sessions/{session_id}/answers"): (roles(201, 403, 201, 403, 403, other=404),
                                                     _answer),
    # Withdrawal: the collector who holds the respondent, reviewers and admins.
    ("POST", "/api/sessions/{session_id}/withdraw"): (
        roles(200, 403, 200, 200, 403, other=404),
        lambda w, u: post(f"/api/sessions/{w.fresh_answer()['session_id']}/withdraw")),

    # answers: review by reviewers (and admins); coding by reviewers and researchers
    ("GET", "/api/answers"): (roles(200, 403, 200, 200, 200), lambda w, u: get("/api/answers")),
    ("GET", "/api/answers/{answer_id}"): (roles(200, 403, 200, 200, 200, other=404),
                                          lambda w, u: get(f"/api/answers/{w.ids['answer']}")),
    ("GET", "/api/answers/{answer_id}/english"): (roles(200, 403, 200, 200, 200, other=404),
                                                  lambda w, u: get(
        f"/api/answers/{w.ids['answer']}/english")),
    ("POST", "/api/answers/{answer_id}/translation-request"): (
        roles(201, 403, 403, 201, 403), lambda w, u: post(
            f"/api/answers/{w.fresh_urdu_answer()}/translation-request",
            json={"note": "a local bus route"})),
    ("GET", "/api/translation-requests"): (roles(200, 403, 403, 200, 403),
                                           lambda w, u: get("/api/translation-requests")),
    ("POST", "/api/translation-requests/{request_id}/cancel"): (
        roles(200, 403, 403, 200, 403), _cancel_translation_request),
    ("POST", "/api/answers/{answer_id}/texts"): (roles(201, 403, 403, 201, 403), lambda w, u: post(
        f"/api/answers/{w.fresh_answer()['id']}/texts",
        json={"text": "The bus was late", "rendering": "english"})),
    ("POST", "/api/answers/{answer_id}/verify"): (roles(200, 403, 403, 200, 403), lambda w, u: post(
        f"/api/answers/{w.fresh_answer()['id']}/verify")),
    ("POST", "/api/answers/{answer_id}/safeguarding"): (
        roles(200, 403, 200, 200, 403, other=404),
        lambda w, u: post(f"/api/answers/{w.fresh_answer()['id']}/safeguarding",
                          json={"reason": "spoke of being unsafe"})),
    ("POST", "/api/answers/{answer_id}/safeguarding/handled"): (
        roles(200, 403, 403, 200, 403),
        lambda w, u: post(f"/api/answers/{w.fresh_flagged_answer()}/safeguarding/handled",
                          json={"note": "called back"})),
    ("POST", "/api/answers/{answer_id}/codings"): (roles(201, 403, 403, 201, 201), lambda w, u: post(
        f"/api/answers/{w.fresh_answer()['id']}/codings", json={"code_id": w.ids["code"]})),
    # A coder removes their own coding (admins anyone's).
    ("DELETE", "/api/answers/codings/{coding_id}"): (roles(204, 403, 403, 204, 204), lambda w, u: Call(
        "DELETE", f"/api/answers/codings/{w.fresh_coding(u)}")),
    ("POST", "/api/answers/redactions/{redaction_id}"): (roles(200, 403, 403, 200, 403), lambda w, u: post(
        f"/api/answers/redactions/{w.fresh_redaction()}", json={"accept": True})),

    # codebooks
    ("GET", "/api/codebooks"): (roles(200, 200, 403, 200, 200), lambda w, u: get("/api/codebooks")),
    ("POST", "/api/codebooks"): (roles(201, 403, 403, 201, 201), lambda w, u: post(
        "/api/codebooks", json={"name": w.name("Book"), "codes": [{"name": "Bus"}]})),
    ("POST", "/api/codebooks/import"): (roles(201, 403, 403, 201, 201), _codebook_csv),
    ("GET", "/api/codebooks/{codebook_id}"): (roles(200, 200, 403, 200, 200), lambda w, u: get(
        f"/api/codebooks/{w.ids['codebook']}")),
    ("POST", "/api/codebooks/{codebook_id}/codes"): (roles(201, 403, 403, 201, 201), lambda w, u: post(
        f"/api/codebooks/{w.ids['codebook']}/codes", json={"name": w.name("Code")})),
    ("GET", "/api/codebooks/{codebook_id}/export"): (roles(200, 200, 403, 200, 200), lambda w, u: get(
        f"/api/codebooks/{w.ids['codebook']}/export")),

    # research exports: researchers and admins (identifiable: admins only); the world's
    # export is the researcher's own: another researcher's is a 404 and is not listed
    # (test_each_researcher_lists_and_reads_only_their_own_exports)
    ("POST", "/api/exports"): (roles(202, 403, 403, 403, 202), lambda w, u: post(
        "/api/exports", json={"survey_id": w.ids["survey"], "format": "json"})),
    ("GET", "/api/exports"): (roles(200, 403, 403, 403, 200), lambda w, u: get("/api/exports")),
    ("GET", "/api/exports/{export_id}"): (roles(200, 403, 403, 403, 200), lambda w, u: get(
        f"/api/exports/{w.ids['export']}")),
    ("GET", "/api/exports/{export_id}/file"): (roles(200, 403, 403, 403, 200), lambda w, u: get(
        f"/api/exports/{w.ids['export']}/file")),

    # the field page: its own files are public; its API is for collectors (and admins)
    ("GET", "/collect"): (public(308), lambda w, u: get("/collect")),
    ("GET", "/collect/"): (public(), lambda w, u: get("/collect/")),
    ("GET", "/collect/static/{name}"): (public(), lambda w, u: get("/collect/static/app.js")),
    ("GET", "/collect/sw.js"): (public(), lambda w, u: get("/collect/sw.js")),
    ("GET", "/collect/fonts.css"): (public(), lambda w, u: get("/collect/fonts.css")),
    ("GET", "/collect/fonts/{name}"): (public(), lambda w, u: get(
        "/collect/fonts/NotoSans-Regular.ttf")),
    ("GET", "/collect/interface/{language}"): (public(), lambda w, u: get(
        "/collect/interface/ur")),
    # The one-time code is the credential: anyone holding one may swap it for a token.
    ("POST", "/collect/api/links/exchange"): (public(), _links_exchange),
    ("POST", "/collect/api/links"): (roles(201, 403, 403, 403, 403), lambda w, u: post(
        "/collect/api/links", json={"collector": w.collector.name})),
    ("GET", "/collect/api/links"): (roles(200, 403, 403, 403, 403),
                                    lambda w, u: get("/collect/api/links")),
    ("DELETE", "/collect/api/links/{link_id}"): (roles(200, 403, 403, 403, 403), lambda w, u: Call(
        "DELETE", f"/collect/api/links/{w.fresh_link()['id']}")),
    ("GET", "/collect/api/surveys"): (roles(200, 403, 200, 403, 403),
                                      lambda w, u: get("/collect/api/surveys")),
    ("GET", "/collect/api/surveys/{survey_id}/{language}"): (
        roles(200, 403, 200, 403, 403),
        lambda w, u: get(f"/collect/api/surveys/{w.ids['survey']}/en")),
    ("GET", "/collect/api/questions/{question_id}/prompt/{language}"): (
        roles(200, 403, 200, 403, 403),
        lambda w, u: get(f"/collect/api/questions/{w.ids['journey']}/prompt/en")),
    ("POST", "/collect/api/sessions"): (roles(201, 403, 201, 403, 403), lambda w, u: post(
        "/collect/api/sessions", json={"survey_id": w.ids["survey"], "language": "en"},
        headers={"Idempotency-Key": w.name("session-key")})),
    ("POST", "/collect/api/sessions/{session_id}/consent"): (
        roles(201, 403, 201, 403, 403, other=404),
        lambda w, u: post(f"/collect/api/sessions/{w.fresh_session()['id']}/consent",
                          data={"method": "tick"},
                          headers={"Idempotency-Key": w.name("consent-key")})),
    ("POST", "/collect/api/sessions/{session_id}/finish"): (
        roles(200, 403, 200, 403, 403, other=404),
        lambda w, u: post(f"/collect/api/sessions/{w.fresh_session(consent=True)['id']}/finish")),
    # A respondent who stopped before any answer is discarded by their collector.
    ("DELETE", "/collect/api/sessions/{session_id}"): (
        roles(200, 403, 200, 403, 403, other=404),
        lambda w, u: Call("DELETE", f"/collect/api/sessions/{w.fresh_session()['id']}")),
    ("POST", "/collect/api/sessions/{session_id}/answers"): (
        roles(201, 403, 201, 403, 403, other=404), _collect_answer),
    ("GET", "/collect/api/parts/{key}"): (roles(200, 403, 200, 403, 403), lambda w, u: get(
        f"/collect/api/parts/{w.name('part-key')}")),
    ("PUT", "/collect/api/parts/{key}"): (roles(200, 403, 200, 403, 403), lambda w, u: Call(
        "PUT", f"/collect/api/parts/{w.name('part-key')}", {
            "params": {"offset": 0, "total": 10}, "content": b"0123456789",
            "headers": {"Content-Type": "application/octet-stream"}})),
    ("GET", "/collect/api/sessions/{session_id}"): (roles(200, 403, 200, 403, 403, other=404),
                                                    lambda w, u: get(
                                                        f"/collect/api/sessions/"
                                                        f"{w.ids['session']}")),
    # Several sessions at once: one that is not yours is listed as missing, not refused.
    ("GET", "/collect/api/status"): (roles(200, 403, 200, 403, 403), lambda w, u: get(
        "/collect/api/status", params={"session": w.ids["session"]})),
}


# -- enumerating every route of every kind ---------------------------------------------

def every_route(app) -> list[tuple[str, str]]:
    """(method, path) of every route the app answers: API routes and plain routes
    (add_route) by method, mounts (static files, sub-apps) as ("MOUNT", path). An unknown
    kind of route fails here rather than being skipped."""
    found = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, (APIRoute, Route)):
            for method in sorted((route.methods or {"GET"}) - {"HEAD", "OPTIONS"}):
                found.append((method, ctx.path))
        elif isinstance(route, Mount):
            found.append(("MOUNT", ctx.path))
        else:
            raise AssertionError(f"a route of a kind the matrix does not know: {route!r} at "
                                 f"{ctx.path}; teach every_route() how to call it")
    return found


def missing_rows(app) -> list[str]:
    return [f"{method} {path}" for method, path in every_route(app)
            if (method, path) not in EXPECTED]


# -- calling -------------------------------------------------------------------------------

def leaks(body: str, world: World) -> list[str]:
    """Identifiers a researcher must never read: planted personal data, the respondent's
    cohear id, and internal respondent or session ids as JSON keys."""
    found = [s for s in PLANTED + (world.ids["cohear_id"],) if s in body]
    found += [k for k in ('"respondent_id"', '"session_id"', '"cohear_id"') if k in body]
    return found


def check(live_server, world: World, rows: dict | None = None) -> list[str]:
    """Call every row for every identity; returns one line per cell that differs."""
    rows = EXPECTED if rows is None else rows
    problems = []
    clients = {who: live_server.client(world.tokens.get(who), follow_redirects=False)
               for who in IDENTITIES}
    try:
        for (method, path), (expect, recipe) in rows.items():
            for who in IDENTITIES:
                call = recipe(world, world.users.get(who))
                r = clients[who].request(call.method, call.path, **call.kwargs)
                want = expect.statuses[who]
                if r.status_code != want:
                    problems.append(f"{method} {path} as {who}: expected {want}, got "
                                    f"{r.status_code} ({r.text[:160]!r})")
                elif who == "researcher" and r.status_code < 300 and path != "/openapi.json":
                    found = leaks(r.text, world)
                    if found:
                        problems.append(f"{method} {path} as researcher: the answer shows "
                                        f"{found}")
    finally:
        for c in clients.values():
            c.close()
    return problems


def test_every_route_is_in_the_hand_written_table(live_server):
    missing = missing_rows(live_server.app)
    assert not missing, (
        "routes missing from the authorisation matrix: " + "; ".join(missing) + ". Add a row "
        "to EXPECTED in tests/test_authz_matrix.py for each: who gets which status on a "
        "valid request, and a recipe that makes one")
    stale = sorted(set(EXPECTED) - set(every_route(live_server.app)))
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_role_gets_exactly_the_status_the_readme_promises(live_server, world):
    # The leak check looks for what the world planted.
    assert all(p in WORDS for p in PLANTED)
    assert re.match(r"^R-[0-9A-F]+$", world.ids["cohear_id"])
    problems = check(live_server, world)
    assert not problems, f"{len(problems)} cells differ from the table:\n" + "\n".join(problems)


# -- the matrix bites: faults planted in the code are caught --------------------------

def _rows(*keys) -> dict:
    return {k: EXPECTED[k] for k in keys}


def test_a_collector_given_coding_rights_is_caught(live_server, world, monkeypatch):
    from cohear import permissions
    monkeypatch.setitem(permissions.PERMISSIONS, "coding.apply",
                        permissions.PERMISSIONS["coding.apply"] | {"collector"})
    problems = check(live_server, world, _rows(("POST", "/api/answers/{answer_id}/codings")))
    assert any("as collector: expected 403, got 201" in p for p in problems), problems


def test_a_researcher_given_a_reviewers_correction_right_is_caught(live_server, world,
                                                                   monkeypatch):
    from cohear import permissions
    monkeypatch.setitem(permissions.PERMISSIONS, "answers.review",
                        permissions.PERMISSIONS["answers.review"] | {"researcher"})
    problems = check(live_server, world, _rows(("POST", "/api/answers/{answer_id}/texts")))
    assert any("as researcher: expected 403, got 201" in p for p in problems), problems


def test_an_anonymous_route_listing_users_is_caught(live_server):
    from cohear import auth

    async def everyone(request):
        from starlette.responses import JSONResponse
        return JSONResponse(auth.list_users(request.app.state.store))

    live_server.app.router.add_route("/api/everyone", everyone, methods=["GET"])
    try:
        assert "GET /api/everyone" in missing_rows(live_server.app)
    finally:
        live_server.app.router.routes.pop()


def job_lists(live_server, world: World) -> dict[str, set]:
    """identity -> the (kind, starter) of every job its GET /api/jobs lists."""
    lists = {}
    for who in ("admin", "communicator", "collector", "reviewer", "researcher", "collector2"):
        with live_server.client(world.tokens[who]) as c:
            r = c.get("/api/jobs", params={"limit": 1000})
        assert r.status_code == 200, r.text
        lists[who] = {(j["kind"], j["created_by"]) for j in r.json()}
    return lists


def test_each_role_lists_the_jobs_the_readme_says(live_server, world):
    """Admins and reviewers list every job; communicators, collectors and researchers
    only those they started (a researcher's export, never the collector's transcription
    or an English rendering naming answer ids)."""
    every = {(r["kind"], r["created_by"]) for r in world.store.all("SELECT * FROM jobs")}
    ids = {who: world.users[who].id for who in ("collector", "researcher", "communicator")}
    assert {k for k, _ in every} >= {"speech.transcribe", "surveys.export"}
    assert {by for _, by in every} >= {ids["collector"], ids["researcher"]}
    lists = job_lists(live_server, world)
    assert lists["admin"] == lists["reviewer"] == every
    for who in ("communicator", "collector", "researcher"):
        assert lists[who] == {j for j in every if j[1] == ids[who]}, who
    assert ("surveys.export", ids["researcher"]) in lists["researcher"]
    assert lists["collector2"] == set()


def test_a_researcher_reading_every_job_is_caught(live_server, world, monkeypatch):
    from cohear import permissions
    monkeypatch.setitem(permissions.PERMISSIONS, "jobs.read_all",
                        permissions.PERMISSIONS["jobs.read_all"] | {"researcher"})
    lists = job_lists(live_server, world)
    assert any(by == world.users["collector"].id for _, by in lists["researcher"])
    problems = check(live_server, world, _rows(("GET", "/api/jobs/{job_id}")))
    assert any("as researcher: expected 404, got 200" in p for p in problems), problems


def export_lists(live_server, world: World, tokens: dict) -> dict[str, set]:
    lists = {}
    for who, token in tokens.items():
        with live_server.client(token) as c:
            r = c.get("/api/exports")
        assert r.status_code == 200, r.text
        lists[who] = {(e["id"], e["job_id"]) for e in r.json()}
    return lists


def test_each_researcher_lists_and_reads_only_their_own_exports(live_server, world):
    """As with jobs: admins list and read every export; a researcher only the ones they
    asked for, and another researcher's (its id, job id and state) is a 404."""
    from cohear.auth import create_user
    other, other_token = create_user(world.store, "test-researcher-2", "researcher")
    with live_server.client(other_token) as c:
        made = c.post("/api/exports", json={"survey_id": world.ids["survey"], "format": "json"})
    assert made.status_code == 202, made.text
    theirs = (made.json()["id"], made.json()["job_id"])
    every = {(r["id"], r["job_id"]) for r in world.store.all("SELECT * FROM survey_exports")}
    lists = export_lists(live_server, world, {"admin": world.tokens["admin"],
                                              "researcher": world.tokens["researcher"],
                                              "researcher2": other_token})
    assert lists["admin"] == every
    assert lists["researcher2"] == {theirs}
    assert lists["researcher"] == {e for e in every if e != theirs}
    assert world.ids["export"] in {i for i, _ in lists["researcher"]}
    with live_server.client(world.tokens["researcher"]) as c:
        for path in (f"/api/exports/{theirs[0]}", f"/api/exports/{theirs[0]}/file"):
            r = c.get(path)
            assert r.status_code == 404 and str(theirs[1]) not in r.text, (path, r.text)
        assert c.get(f"/api/jobs/{theirs[1]}").status_code == 404
    with live_server.client(world.tokens["admin"]) as c:
        assert c.get(f"/api/exports/{theirs[0]}").status_code == 200


def test_a_researcher_reading_every_export_is_caught(live_server, world, monkeypatch):
    from cohear import permissions
    from cohear.auth import create_user
    monkeypatch.setitem(permissions.PERMISSIONS, "exports.read_all",
                        permissions.PERMISSIONS["exports.read_all"] | {"researcher"})
    _, other_token = create_user(world.store, "test-researcher-3", "researcher")
    with live_server.client(other_token) as c:
        assert world.ids["export"] in {e["id"] for e in c.get("/api/exports").json()}


def test_researchers_reading_raw_words_is_caught(live_server, world, monkeypatch):
    from surveys import views
    monkeypatch.setattr(views, "identifiable", lambda viewer: True)
    problems = check(live_server, world, _rows(("GET", "/api/answers/{answer_id}")))
    assert any("researcher: the answer shows" in p and "Mohammed Khan" in p
               for p in problems), problems

