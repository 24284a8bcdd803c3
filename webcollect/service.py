"""What the field-capture page does, over the surveys and speech services: the surveys
a collector can run, a survey in one language, and sessions, consent and answers sent
at most once each (an idempotency key per item), with each answer's transcription.

Collectors see only their own sessions; surveys and speech check that again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from typing import IO, Any

from cohear import limits
from cohear.auth import User
from cohear.errors import BadInput, CohearError, Conflict, NotFound, TooLarge
from cohear.store import Store, utcnow
from surveys import service as surveys
from surveys import values

MAX_ANSWER_BYTES = 25 * 1024 * 1024   # about 50 minutes of the page's 64 kbit/s Opus
PART_BYTES = 256 * 1024               # a recording larger than this is sent in parts
PART_DAYS = 14                        # parts of a recording never finished are dropped after
MAX_TEXT_CHARS = limits.TYPED_ANSWER_CHARS
STALE_SECONDS = 600                   # a key claimed this long ago by a request that died
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,100}$")


# -- reading surveys ----------------------------------------------------------------

def _language(tag: str) -> dict:
    """A language for the page: any language a BCP-47 tag names (a survey may be open in
    Swahili), with its name and writing direction."""
    from surveys import links
    info = links.language(tag)
    return {"tag": info.tag, "name": info.english_name, "direction": info.direction}


def surveys_for(store: Store, user: User) -> list[dict]:
    """Surveys open for collection in at least one language, with those languages.

    Costs the same however many questions the surveys hold (see
    `surveys.open_for_collection`)."""
    user.require("sessions.run")
    out = []
    for survey in surveys.open_for_collection(store):
        out.append(survey | {"languages": [_language(tag) for tag in survey["languages"]]})
    return out


def _text_in(question: dict, language: str) -> tuple[str, str]:
    """(text, language it is in): the approved translation, else the base text."""
    found = question["texts"].get(language)
    if found and found["status"] == "approved":
        return found["text"], language
    return question["text"], ""


def survey_in(store: Store, user: User, survey_id: int, language: str) -> dict:
    """The survey's current questions in one language, ready to put on the page."""
    user.require("sessions.run")
    lang = _language(language)
    survey = surveys.get_survey(store, survey_id)
    if lang["tag"] not in {o["language"] for o in survey["open_languages"]}:
        raise Conflict(f"survey {survey_id} is not open for collection in {lang['name']}",
                       fix="choose one of the languages offered, or ask a communicator to "
                           "open this one")
    prompts = {r["question_id"] for r in store.all(
        "SELECT question_id FROM question_prompts WHERE language = ?", (lang["tag"],))}
    consent, questions = None, []
    for q in survey["questions"]:
        text, text_language = _text_in(q, lang["tag"])
        item = {"id": q["id"], "name": q["name"], "kind": q["kind"], "text": text,
                "in_base_language": not text_language and lang["tag"] != survey["base_language"],
                "has_prompt": q["id"] in prompts}
        opts = q["options"]
        item |= _help_words(opts, lang["tag"], survey["base_language"])
        if q["kind"] == "consent":
            item["consent_version"] = opts.get("consent_version", 1)
            consent = consent or item
            continue
        if q["kind"] == "open":
            item["answer"] = opts.get("answer", "either")
        elif q["kind"] in values.VALUE_KINDS:
            # What the page needs for an input of this kind: the format to accept and the
            # range to check (the server checks both again and answers 422 otherwise).
            item |= {"format": values.INPUT_FORMATS[q["kind"]],
                     "format_help": values.FORMATS[q["kind"]],
                     "min": opts.get("min"), "max": opts.get("max")}
        elif q["kind"] == "scale":
            item |= {"min": opts["min"], "max": opts["max"], "labels": opts.get("labels", {})}
        elif "choices" in opts:
            item["choices"] = [{"value": c["value"],
                                "label": (c.get("labels") or {}).get(lang["tag"], c["label"])}
                               for c in opts["choices"]]
        if q["kind"] == "demographic":
            item["field"] = opts["field"]
        questions.append(item)
    if consent is None:
        raise Conflict(f"survey {survey_id} has no consent question",
                       fix="a communicator adds one before collection starts")
    return {"id": survey["id"], "title": survey["title"], "version": survey["version"],
            "base_language": survey["base_language"], "language": lang,
            "consent": consent, "questions": questions}


def _help_words(opts: dict, language: str, base: str) -> dict:
    """A question's hint, required flag and messages in the session's language (else
    the survey's own language, marked as such)."""
    out: dict = {"required": bool(opts.get("required"))}
    for what in ("hint", "required_message", "constraint_message"):
        per = opts.get(what) or {}
        words = per.get(language) or per.get(base)
        if words:
            out[what] = words
            if language not in per:
                out[f"{what}_in_base_language"] = True
    return out


def prompt_file(store: Store, user: User, question_id: int, language: str) -> tuple[Any, str]:
    """(path, media type) of a question's recorded audio prompt in a language."""
    user.require("sessions.run")
    prompt = surveys.get_prompt(store, question_id, _language(language)["tag"])
    return store.blobs.path(prompt["blob_sha256"]), prompt["media_type"]


# -- sending at most once -----------------------------------------------------------

def check_key(key: str | None) -> str:
    key = (key or "").strip()
    if not _KEY.match(key):
        raise BadInput("each upload needs an Idempotency-Key header of 8 to 100 letters, "
                       "digits, - or _", fix="send a new random key (e.g. a UUID) per item, "
                                             "and the same key when sending it again")
    return key


def _once(store: Store, user: User, key: str, kind: str,
          make: Callable[[], int], already: Callable[[], int | None]) -> tuple[int, bool]:
    """Run `make` once per (collector, key); returns (entity id, duplicate).

    The key is claimed before the work and marked done after it, so a request sent
    twice at the same moment cannot store two answers. `already` finds the entity
    stored by an earlier attempt that died before marking its key done, or sent
    again under a new key (surveys then refuses a second answer as a conflict)."""
    key = check_key(key)
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM collect_uploads WHERE collector_id = ? AND "
                           "idempotency_key = ?", (user.id, key)).fetchone()
        if row is not None and row["kind"] != kind:
            raise Conflict(f"this key was already used for a {row['kind']}",
                           fix="use a new key for each item")
        if row is not None and row["state"] == "done":
            return row["entity_id"], True
        if row is not None and time.time() - _epoch(row["started_at"]) < STALE_SECONDS:
            raise CohearError("this item is being saved by an earlier request",
                              fix="try again in a moment", status=503)
        conn.execute("INSERT OR REPLACE INTO collect_uploads (collector_id, idempotency_key, "
                     "kind, state, started_at) VALUES (?, ?, ?, 'working', ?)",
                     (user.id, key, kind, utcnow()))
        died = row is not None
    try:
        entity_id, duplicate = (already() if died else None), True
        if entity_id is None:
            try:
                entity_id, duplicate = make(), False
            except Conflict:
                entity_id = already()
                if entity_id is None:
                    raise
    except BaseException:
        with store.transaction() as conn:
            conn.execute("DELETE FROM collect_uploads WHERE collector_id = ? AND "
                         "idempotency_key = ? AND state = 'working'", (user.id, key))
        raise
    with store.transaction() as conn:
        conn.execute("UPDATE collect_uploads SET state = 'done', entity_id = ?, finished_at = ? "
                     "WHERE collector_id = ? AND idempotency_key = ?",
                     (entity_id, utcnow(), user.id, key))
    return entity_id, duplicate


def _epoch(stamp: str) -> float:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=dt.UTC).timestamp()


def _spool(fileobj: IO[bytes]) -> tuple[IO[bytes], str, int]:
    """Copy an upload to a temporary file, refusing it past the limit; (file, sha256, size)."""
    # The caller closes it once the services have read it.
    out = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
    h, size = hashlib.sha256(), 0
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            out.close()
            raise TooLarge(f"the recording is larger than the page's limit of "
                           f"{MAX_ANSWER_BYTES // (1024 * 1024)} MB",
                           fix="record a shorter answer, or split it in two")
        h.update(chunk)
        out.write(chunk)
    out.seek(0)
    return out, h.hexdigest(), size


# -- recordings sent in parts ----------------------------------------------------------

def _part_path(store: Store, user: User, key: str):
    # The key is checked to be letters, digits, - and _ only, so it is safe in a name.
    return store.settings.data_dir / "collect-parts" / f"{user.id}-{key}.part"


def part_status(store: Store, user: User, key: str) -> dict:
    """How much of a recording sent in parts has arrived (0 when none has)."""
    user.require("sessions.run")
    key = check_key(key)
    row = store.one("SELECT received, total FROM collect_parts WHERE collector_id = ? AND "
                    "idempotency_key = ?", (user.id, key))
    saved = store.one("SELECT 1 FROM collect_uploads WHERE collector_id = ? AND "
                      "idempotency_key = ? AND state = 'done'", (user.id, key))
    # `saved`: the item was stored already, so there is nothing left to send in parts.
    return {"received": row["received"] if row else 0, "total": row["total"] if row else None,
            "part_bytes": PART_BYTES, "saved": saved is not None}


def add_part(store: Store, user: User, key: str, offset: int, total: int, data: bytes) -> dict:
    """Append the bytes that start at `offset`. A part that does not start where the
    last one ended is refused with how much has arrived, so the phone can carry on."""
    user.require("sessions.run")
    key = check_key(key)
    if not 0 < total <= MAX_ANSWER_BYTES:
        raise TooLarge(f"a recording of {total:,} bytes is over the page's limit of "
                       f"{MAX_ANSWER_BYTES // (1024 * 1024)} MB",
                       fix="record a shorter answer, or split it in two")
    if not data or len(data) > PART_BYTES or offset + len(data) > total:
        raise BadInput(f"a part must hold 1 to {PART_BYTES:,} bytes within the recording",
                       fix=f"send parts of at most {PART_BYTES:,} bytes")
    path = _part_path(store, user, key)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if offset == 0:
        sweep_parts(store)
    with store.transaction() as conn:
        row = conn.execute("SELECT received, total FROM collect_parts WHERE collector_id = ? "
                           "AND idempotency_key = ?", (user.id, key)).fetchone()
        received = row["received"] if row else 0
        if row is not None and row["total"] != total:
            raise Conflict(f"this recording was started as {row['total']:,} bytes, not "
                           f"{total:,}", fix="send each recording under its own key")
        if offset != received:
            raise Conflict(f"{received:,} bytes of this recording have arrived, not {offset:,}",
                           fix=f"send the part that starts at byte {received}",
                           extra={"received": received})
        # Written inside the transaction, so two requests with the same part cannot
        # both append it; a file longer than `received` (a crash) is cut back first,
        # and the bytes are on disk before the row says they have arrived.
        with open(path, "r+b" if path.exists() else "wb") as fh:
            fh.truncate(received)
            fh.seek(received)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        now = utcnow()
        conn.execute("INSERT INTO collect_parts (collector_id, idempotency_key, received, total, "
                     "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
                     "(collector_id, idempotency_key) DO UPDATE SET received = excluded.received,"
                     " updated_at = excluded.updated_at",
                     (user.id, key, received + len(data), total, now, now))
    return {"received": received + len(data), "total": total, "part_bytes": PART_BYTES}


def sweep_parts(store: Store) -> int:
    """Drop recordings left half-sent for PART_DAYS (a phone lost, a tab cleared)."""
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=PART_DAYS)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    old = store.all("SELECT collector_id, idempotency_key FROM collect_parts WHERE "
                    "updated_at < ?", (cutoff,))
    for row in old:
        path = store.settings.data_dir / "collect-parts" / (
            f"{row['collector_id']}-{row['idempotency_key']}.part")
        path.unlink(missing_ok=True)
        with store.transaction() as conn:
            conn.execute("DELETE FROM collect_parts WHERE collector_id = ? AND "
                         "idempotency_key = ?", (row["collector_id"], row["idempotency_key"]))
    return len(old)


def _assembled(store: Store, user: User, key: str) -> IO[bytes]:
    """The whole recording sent in parts under `key`, once every byte has arrived."""
    status = part_status(store, user, key)
    if status["total"] is None or status["received"] != status["total"]:
        raise Conflict(f"{status['received']:,} of {status['total'] or 0:,} bytes of this "
                       "recording have arrived", fix="send the remaining parts first",
                       extra={"received": status["received"]})
    path = _part_path(store, user, key)
    if not path.exists() or path.stat().st_size != status["total"]:
        _forget_parts(store, user, key)
        raise Conflict("the parts of this recording kept on the server were lost",
                       fix="send the recording again from the start")
    return open(path, "rb")


def _forget_parts(store: Store, user: User, key: str) -> None:
    _part_path(store, user, key).unlink(missing_ok=True)
    with store.transaction() as conn:
        conn.execute("DELETE FROM collect_parts WHERE collector_id = ? AND idempotency_key = ?",
                     (user.id, key))


def _done(store: Store, user: User, key: str, kind: str) -> int | None:
    row = store.one("SELECT entity_id FROM collect_uploads WHERE collector_id = ? AND "
                    "idempotency_key = ? AND kind = ? AND state = 'done'", (user.id, key, kind))
    return row["entity_id"] if row else None


# -- sessions, consent, answers -----------------------------------------------------------

def start_session(store: Store, user: User, key: str, survey_id: int, language: str) -> dict:
    """A new respondent and session, once per key."""
    user.require("sessions.run")

    def make() -> int:
        return surveys.start_session(store, user, survey_id, language)["id"]

    session_id, duplicate = _once(store, user, key, "session", make, lambda: None)
    return session_summary(store, user, session_id) | {"duplicate": duplicate}


def record_consent(store: Store, user: User, key: str, session_id: int, *, method: str,
                   recording: IO[bytes] | None = None, filename: str | None = None,
                   content_type: str | None = None, in_parts: bool = False) -> dict:
    """The respondent's consent (ticked, or spoken and recorded), once per key.
    `in_parts`: the recording was sent in parts under the same key (`add_part`)."""
    user.require("sessions.run")
    key = check_key(key)
    done = _done(store, user, key, "consent")
    if done is not None:
        return {"consent_id": done, "session_id": session_id, "duplicate": True}
    if in_parts:
        recording = _assembled(store, user, key)
    spooled = None
    if recording is not None:
        try:
            spooled, _, _ = _spool(recording)
        finally:
            if in_parts:
                recording.close()

    def make() -> int:
        return surveys.record_consent(store, user, session_id, method=method, recording=spooled,
                                      filename=filename or "consent",
                                      content_type=content_type)["id"]

    def already() -> int | None:
        session = surveys.get_session(store, user, session_id)
        consent = session["consent"]
        return consent["id"] if consent and consent["method"] == method else None

    try:
        consent_id, duplicate = _once(store, user, key, "consent", make, already)
    finally:
        if spooled is not None:
            spooled.close()
    if in_parts:
        _forget_parts(store, user, key)
    return {"consent_id": consent_id, "session_id": session_id, "duplicate": duplicate}


def submit_answer(store: Store, user: User, key: str, session_id: int, question_id: int, *,
                  text: str | None = None, choices: list[str] | None = None,
                  audio: IO[bytes] | None = None, filename: str | None = None,
                  content_type: str | None = None, in_parts: bool = False) -> dict:
    """One answer (voice, typed or chosen), once per key. A voice answer's bytes go to
    speech, which keeps each recording once (by sha256) and queues its transcription.
    `in_parts`: the recording was sent in parts under the same key (`add_part`)."""
    user.require("sessions.run")
    key = check_key(key)
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise TooLarge(f"the typed answer is {len(text):,} characters long",
                       fix=f"keep it under {MAX_TEXT_CHARS:,} characters, or record it")
    done = _done(store, user, key, "answer")
    if done is not None:
        return answer_status(store, user, done) | {"duplicate": True}
    if in_parts:
        audio = _assembled(store, user, key)
    spooled, sha = None, None
    if audio is not None:
        try:
            spooled, sha, _ = _spool(audio)
        finally:
            if in_parts:
                audio.close()

    def make() -> int:
        return surveys.submit_answer(store, user, session_id, question_id, text=text,
                                     choices=choices, audio=spooled,
                                     filename=filename or "answer",
                                     content_type=content_type)["id"]

    def already() -> int | None:
        # An earlier attempt may have stored this answer and died before its key was
        # marked done; the same words or the same bytes mean the same answer.
        session = surveys.get_session(store, user, session_id)
        for a in session["answers"]:
            if a["question_id"] == question_id and _same(store, user, a["id"], text, choices,
                                                         sha):
                return a["id"]
        return None

    try:
        answer_id, duplicate = _once(store, user, key, "answer", make, already)
    finally:
        if spooled is not None:
            spooled.close()
    if in_parts:
        _forget_parts(store, user, key)
    return answer_status(store, user, answer_id) | {"duplicate": duplicate}


def _same(store: Store, user: User, answer_id: int, text: str | None,
          choices: list[str] | None, sha: str | None) -> bool:
    answer = surveys.get_answer(store, user, answer_id)
    if sha is not None:
        if answer["recording_id"] is None:
            return False
        from speech import service as speech
        return speech.get_recording(store, answer["recording_id"], user).original_sha256 == sha
    if choices:
        return answer["choices"] == list(dict.fromkeys(choices))
    original = answer["texts"].get("original")
    return bool(original) and original["text"] == (text or "").strip()


# -- where things stand ------------------------------------------------------------------

def answer_status(store: Store, user: User, answer_id: int) -> dict:
    """An answer and, for a voice answer, where its transcription stands."""
    answer = surveys.get_answer(store, user, answer_id)
    out = {"answer_id": answer["id"], "question_id": answer["question_id"],
           "session_id": answer["session_id"], "kind": answer["kind"],
           "transcription": "not needed"}
    if answer["recording_id"] is not None:
        from speech import service as speech
        rec = speech.get_recording(store, answer["recording_id"], user)
        out["transcription"] = rec.status
        if rec.status == "transcribed" and answer["status"] == "new":
            # Keep the survey's copy of the words in step with speech's transcript.
            surveys.sync_transcript(store, answer_id)
    return out


def session_summary(store: Store, user: User, session_id: int) -> dict:
    """A collector's own session: its respondent's pseudonym, consent and answers."""
    session = surveys.get_session(store, user, session_id)
    return {"session_id": session["id"], "survey_id": session["survey_id"],
            "language": session["language"], "respondent": session["respondent"],
            "consent": session["consent"] is not None,
            "answers": [answer_status(store, user, a["id"]) for a in session["answers"]]}


def sessions_summary(store: Store, user: User, session_ids: list[int]) -> list[dict]:
    """Several of the collector's sessions at once; any not theirs is simply not found."""
    limits.check_count("sessions asked about at once", len(session_ids),
                       limits.SESSIONS_PER_STATUS, fix="ask in smaller groups")
    out = []
    for sid in dict.fromkeys(session_ids):
        try:
            out.append(session_summary(store, user, sid))
        except NotFound:
            out.append({"session_id": sid, "missing": True})
    return out
