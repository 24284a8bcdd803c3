"""The fixture world the authorisation matrix calls routes in: a survey open for
collection, sessions by two collectors, answers with personal data in them, a voice
answer with a transcript, a message with translations, a codebook, codings by two
coders, a finished export, jobs, a one-time link, and helpers that make fresh objects
for routes that change state (so one role's call never spoils the next).

Everything is made through cohear's own services on the live server's database, as a
person would make it; only a job row held by another worker is written directly."""

from __future__ import annotations

import io
import itertools
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cohear.auth import SYSTEM, User, create_user, issue_token, revoke_token
from cohear.store import Store, utcnow

# Personal data planted in answers: no researcher response may ever carry it.
PLANTED = ("Mohammed Khan", "07700 900123", "sara@example.org", "943 476 5919", "B11 1AA")
WORDS = ("I am Mohammed Khan, call 07700 900123 or sara@example.org, NHS number "
         "943 476 5919, I live at B11 1AA and the bus was late")


def tone(n: int, seconds: float = 1.0) -> bytes:
    """A WAV of a tone that differs for every n, so each upload is new bytes."""
    rate = 16_000
    t = np.arange(int(rate * seconds)) / rate
    samples = (0.4 * np.sin(2 * np.pi * (220 + 7 * n) * t) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


@dataclass
class World:
    store: Store
    users: dict[str, User]
    tokens: dict[str, str]
    jobs: object
    pack_files: dict
    ids: dict = field(default_factory=dict)
    _n: itertools.count = field(default_factory=lambda: itertools.count(1))

    def n(self) -> int:
        return next(self._n)

    def name(self, what: str) -> str:
        return f"{what}-{self.n()}"

    # -- people ---------------------------------------------------------------------
    @property
    def comm(self) -> User:
        return self.users["communicator"]

    @property
    def collector(self) -> User:
        return self.users["collector"]

    @property
    def reviewer(self) -> User:
        return self.users["reviewer"]

    def fresh_token_prefix(self) -> str:
        user, token = create_user(self.store, self.name("leaver"), "reviewer")
        return token.split("_")[1]

    # -- a transcription worker on another machine ---------------------------------
    WORKER_INSTANCE = "matrix-worker-1"
    # Its jobs ask for a model this server's own worker does not serve, so none is
    # taken from under it while the matrix runs.
    WORKER_MODEL = "matrix-model"

    def worker_headers(self) -> dict:
        from cohear import workers
        return {workers.INSTANCE_HEADER: self.WORKER_INSTANCE,
                workers.PROTOCOL_HEADER: str(workers.PROTOCOL)}

    def fresh_worker_job(self, *, leased: bool = False) -> int:
        """A queued transcription for the worker's model (leased to it when `leased`)."""
        from cohear import workers
        from speech import service
        rec = service.ingest(self.store, io.BytesIO(tone(self.n())), filename="a.wav",
                             content_type="audio/wav", uploaded_by=self.collector)
        with self.store.transaction() as conn:
            job_id = self.jobs.enqueue(service.TRANSCRIBE_JOB, {
                "recording_id": rec.id, "language": None, "word_timestamps": False,
                "model": self.WORKER_MODEL}, conn=conn)
        self.jobs.wake(job_id)
        worker = self.users["worker"]
        workers.heartbeat(self.store, worker, self.WORKER_INSTANCE,
                          {"models": ["base", self.WORKER_MODEL], "version": "matrix"})
        if leased:
            workers.claim(self.jobs, worker, self.WORKER_INSTANCE, job_id)
        return job_id

    def worker_result(self) -> dict:
        return {"language": {"detected": "en", "probability": 0.9, "used": "en"},
                "segments": [{"start": 0.0, "end": 1.0, "text": "a tone", "avg_logprob": -0.3,
                              "no_speech_prob": 0.1}],
                "english": {"source": "a tone"}, "engine": {"model": self.WORKER_MODEL}}

    # -- surveys --------------------------------------------------------------------
    def fresh_survey(self, *, open_en: bool = False) -> dict:
        from surveys import service
        survey = service.create_survey(
            self.store, self.comm, title=self.name("Clinic bus"), purpose="How people travel",
            base_language="en", target_languages=["ur"], questions=[
                {"kind": "consent", "name": "consent", "text": "Do you agree to take part?"},
                {"kind": "open", "name": "journey", "text": "How did you get here?",
                 "texts": {"ur": "آپ یہاں کیسے پہنچے؟"}},
                {"kind": "scale", "name": "ease", "text": "How easy was it?",
                 "options": {"min": 1, "max": 5}}])
        if open_en:
            service.open_language(self.store, self.comm, survey["id"], "en")
        return survey

    def question(self, survey: dict, name: str) -> int:
        return next(q["id"] for q in survey["questions"] if q["name"] == name)

    def fresh_session(self, *, consent: bool = False, by: User | None = None) -> dict:
        from surveys import service
        by = by or self.collector
        session = service.start_session(self.store, by, self.ids["survey"], "en")
        if consent:
            service.record_consent(self.store, by, session["id"], method="tick")
        return session

    def fresh_answer(self, words: str = WORDS, *, by: User | None = None) -> dict:
        from surveys import service
        by = by or self.collector
        session = self.fresh_session(consent=True, by=by)
        return service.submit_answer(self.store, by, session["id"], self.ids["journey"],
                                     text=words)

    def fresh_urdu_answer(self) -> int:
        """A typed answer in Urdu (a survey opened in Urdu, the English accepted where its
        questions have no approved Urdu), for routes about an answer's English."""
        from surveys import service
        survey = self.fresh_survey()
        service.open_language(self.store, self.comm, survey["id"], "ur", accept_english=True)
        session = service.start_session(self.store, self.collector, survey["id"], "ur")
        service.record_consent(self.store, self.collector, session["id"], method="tick")
        return service.submit_answer(self.store, self.collector, session["id"],
                                     self.question(survey, "journey"),
                                     text="بس دیر سے آئی")["id"]

    def fresh_flagged_answer(self) -> int:
        from surveys import service
        answer = self.fresh_answer("The bus was late")
        service.raise_safeguarding(self.store, self.reviewer, answer["id"], "worried")
        return answer["id"]

    def fresh_redaction(self) -> int:
        answer = self.fresh_answer()
        return self.store.one("SELECT r.id FROM redactions r JOIN answer_texts t ON "
                              "t.id = r.answer_text_id WHERE t.answer_id = ? ORDER BY r.id",
                              (answer["id"],))[0]

    def fresh_coding(self, coder: User | None) -> int:
        """A coding made by `coder` (a coder removes their own), written as the coding
        service writes it; by the reviewer for callers who code nothing."""
        coder_id = coder.id if coder is not None else self.reviewer.id
        answer = self.fresh_answer("The bus was late")
        with self.store.transaction() as conn:
            return conn.execute("INSERT INTO codings (answer_id, code_id, coder_id, created_at) "
                                "VALUES (?, ?, ?, ?)", (answer["id"], self.ids["code"],
                                                        coder_id, utcnow())).lastrowid

    # -- speech ---------------------------------------------------------------------
    def fresh_recording(self, *, transcript: bool = False) -> int:
        from speech import service as speech
        rec = speech.ingest(self.store, io.BytesIO(tone(self.n())), filename="answer.wav",
                            content_type="audio/wav", uploaded_by=self.collector,
                            language_hint="en")
        if transcript:
            from speech.transcribe import LanguageFinding, Segment, Transcription
            result = Transcription(LanguageFinding("en", "en", 0.9, "en"),
                                   [Segment(0, 0.0, 1.0, "the bus was late", -0.2, 0.05, 1.1)],
                                   1.0)
            with self.store.transaction() as conn:
                speech.save_machine_transcript(conn, rec.id, None, result, {}, {"model": "base"})
        return rec.id

    # -- comms ----------------------------------------------------------------------
    def fresh_message(self, *, translated: bool = False, human: bool = False) -> int:
        from comms import service as comms
        message = comms.create_message(self.store, self.comm, title=self.name("Flu jab"),
                                       source_text="Book your flu vaccine at your GP.",
                                       channel="sms")
        if translated:
            comms.translate_messages(self.store, self.comm, [message["id"]], ["ur"])
        if human:
            comms.request_human(self.store, self.comm, message["id"], ["pa-Guru"])
        return message["id"]

    def translator_file(self, message_id: int) -> bytes:
        """The XLIFF a translator sends back for a message: the export, filled in."""
        from comms import exchange
        data, _ = exchange.export_file(self.store, [message_id], "pa-Guru", "xliff")
        target = "<target>ਆਪਣੇ GP ਕੋਲ ਫਲੂ ਵੈਕਸੀਨ ਬੁੱਕ ਕਰੋ।</target>"
        return data.decode("utf-8").replace("</source>", "</source>" + target).encode("utf-8")

    # -- packs, links, jobs -----------------------------------------------------------
    def fresh_pack(self) -> str:
        """Install the en->it copy pack (again) and return its name, for removal."""
        from language_packs import packs
        packs.install(self.store, self.pack_files[("en", "it")])
        return "translate-en_it"

    def fresh_link(self) -> dict:
        from webcollect import links
        return links.issue_link(self.store, self.users["admin"], self.collector.name)

    def fresh_running_job(self) -> int:
        """A job another worker holds (its lease far ahead), so cancelling it is valid."""
        with self.store.transaction() as conn:
            return conn.execute(
                "INSERT INTO jobs (kind, payload_json, status, max_attempts, owner, "
                "lease_expires_at, created_by, created_at, started_at) VALUES "
                "('cohear.integrity_check', '{}', 'running', 3, 'another-worker', ?, ?, ?, ?)",
                (time.time() + 3600, self.users["admin"].id, utcnow(), utcnow())).lastrowid

    def xlsform(self) -> bytes:
        from openpyxl import Workbook
        wb = Workbook()
        sheet = wb.active
        sheet.title = "survey"
        sheet.append(["type", "name", "label::English (en)"])
        sheet.append(["acknowledge", "consent", "Do you agree?"])
        sheet.append(["text", "story", "Tell us more"])
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()


def build_world(store: Store, jobs, people: dict, pack_files: dict, font_dir: Path) -> World:
    from comms import service as comms
    from surveys import coding, exports, service

    users = {role: user for role, (user, _) in people.items()}
    tokens = {role: token for role, (_, token) in people.items()}
    w = World(store, users, tokens, jobs, pack_files)
    # Tokens that must open nothing: a revoked and an expired token of an admin.
    for how in ("revoked", "expired"):
        token = issue_token(store, users["admin"].name, label=how)
        prefix = token.split("_")[1]
        if how == "revoked":
            revoke_token(store, prefix)
        else:
            with store.transaction() as conn:
                conn.execute("UPDATE tokens SET expires_at = '2001-01-01T00:00:00.000000Z' "
                             "WHERE prefix = ?", (prefix,))
        w.tokens[how] = token
    (font_dir / "NotoSans-Regular.ttf").write_bytes(b"\x00\x01\x00\x00" + b"\x00" * 60)

    survey = w.fresh_survey(open_en=True)
    w.ids |= {"survey": survey["id"], "journey": w.question(survey, "journey"),
              "ease": w.question(survey, "ease")}
    service.put_prompt(store, w.comm, w.ids["journey"], "en", io.BytesIO(tone(0)), "audio/wav")
    # The collector's respondent: a session with consent, a typed answer full of personal
    # data (suggested redactions), and a voice answer with a machine transcript.
    session = w.fresh_session(consent=True)
    answer = service.submit_answer(store, w.collector, session["id"], w.ids["journey"],
                                   text=WORDS)
    w.ids |= {"session": session["id"], "respondent": session["respondent_id"],
              "cohear_id": session["respondent"], "answer": answer["id"],
              "answer_text": answer["texts"]["original"]["id"]}
    voice_session = w.fresh_session(consent=True)
    with open(Path(__file__).parent.parent / "cohear" / "demo_data" / "flu-vaccine-en.wav",
              "rb") as fh:
        voice = service.submit_answer(store, w.collector, voice_session["id"],
                                      w.ids["journey"], audio=fh, filename="answer.wav",
                                      content_type="audio/wav")
    w.ids["recording"] = voice["recording_id"]
    w.ids["job"] = voice["transcription_job_id"]
    w.ids["transcribed_recording"] = w.fresh_recording(transcript=True)
    # The other collector's respondent, so collectors' lists differ.
    other = service.start_session(store, users["collector2"], w.ids["survey"], "en")
    w.ids["other_session"] = other["id"]
    # A codebook and two coders on the same answer (agreement needs them).
    book = coding.create_codebook(store, w.reviewer, "Travel", survey_id=w.ids["survey"],
                                  codes=[{"name": "Bus"}, {"name": "Cost"}])
    w.ids |= {"codebook": book["id"], "code": book["codes"][0]["id"]}
    coding.apply_code(store, w.reviewer, answer["id"], book["codes"][0]["id"])
    coding.apply_code(store, users["researcher"], answer["id"], book["codes"][1]["id"])
    # A message with an approved Urdu translation, and a human request in Punjabi.
    message = w.fresh_message(translated=True, human=True)
    comms.approve_translation(store, w.reviewer, message, "ur")
    w.ids["message"] = message
    # A finished pseudonymised export.
    export = exports.request_export(store, users["researcher"], w.ids["survey"], "csv",
                                    jobs=jobs)
    deadline = time.monotonic() + 120
    while exports.get_export(store, SYSTEM, export["id"])["status"] == "queued":
        if time.monotonic() > deadline:
            raise RuntimeError("the world's export did not finish")
        time.sleep(0.1)
    assert exports.get_export(store, SYSTEM, export["id"])["status"] == "done"
    w.ids["export"] = export["id"]
    w.ids["link"] = w.fresh_link()["id"]
    return w

