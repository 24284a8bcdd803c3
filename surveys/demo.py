"""The demo survey for `cohear demo`: consent, an open voice question and a 1-5 scale,
open in English, with two respondents' answers (one spoken, from cohear's demo WAVs)
and a small codebook. Running it again adds nothing."""

from __future__ import annotations

from cohear.auth import User
from cohear.store import Store

TITLE = "Flu vaccine: what helps people take it up"


def seed(store: Store, users: dict[str, User]) -> list[str]:
    from cohear.demo import demo_recordings
    from surveys import coding, service

    if store.one("SELECT 1 FROM surveys WHERE title = ?", (TITLE,)):
        return [f"survey {TITLE!r} is already here"]
    communicator, collector = users["communicator"], users["collector"]
    survey = service.create_survey(
        store, communicator, title=TITLE,
        purpose="Hear, in people's own languages, what makes the flu vaccine easy or hard "
                "to get, to plan this winter's clinics with community leaders",
        base_language="en", target_languages=["ur", "pa-Guru", "bn", "pl"], questions=[
            {"kind": "consent", "name": "consent",
             "text": "We would like to record your answers to improve local health services. "
                     "Your name will not be kept with your answers. Do you agree?"},
            {"kind": "open", "name": "flu_vaccine", "options": {"answer": "either"},
             "text": "What would make it easier for you to have the flu vaccine?"},
            {"kind": "scale", "name": "confidence",
             "text": "How confident are you that the flu vaccine is safe?",
             "options": {"min": 1, "max": 5, "labels": {"1": "not at all", "5": "very"}}},
        ])
    service.open_language(store, communicator, survey["id"], "en")
    lines = [f"survey {survey['id']} {TITLE!r} with 3 questions, open in English"]
    session = service.start_session(store, collector, survey["id"], "en")
    service.record_consent(store, collector, session["id"], method="tick")
    q = {x["name"]: x["id"] for x in survey["questions"]}
    wavs = [p for p in demo_recordings() if p.name.startswith("flu")]
    if wavs:
        with open(wavs[0], "rb") as fh:
            service.submit_answer(store, collector, session["id"], q["flu_vaccine"], audio=fh,
                                  filename=wavs[0].name, content_type="audio/wav")
    service.submit_answer(store, collector, session["id"], q["confidence"], choices=["4"])
    second = service.start_session(store, collector, survey["id"], "en")
    service.record_consent(store, collector, second["id"], method="tick")
    service.submit_answer(store, collector, second["id"], q["flu_vaccine"],
                          text="A clinic at the mosque after Friday prayers, with someone "
                               "who speaks Urdu")
    service.submit_answer(store, collector, second["id"], q["confidence"], choices=["3"])
    lines.append("two demo respondents answered (one by voice, transcription queued)")
    coding.create_codebook(store, users["researcher"], "Flu vaccine themes",
                           survey_id=survey["id"], codes=[
                               {"name": "access", "description": "Getting to a vaccine",
                                "colour": "#1f77b4"},
                               {"name": "place", "parent": "access",
                                "description": "Where it is offered"},
                               {"name": "language", "parent": "access",
                                "description": "Being understood"},
                               {"name": "trust", "description": "Confidence in the vaccine",
                                "colour": "#d62728"}])
    lines.append("codebook 'Flu vaccine themes' with 4 codes")
    return lines
