"""Recordings and transcripts: ingest an upload (original and 16 kHz copy as blobs, with
its facts), queue its transcription, read and correct transcript versions, fetch audio.

The API, the CLI, the surveys package and the demo all call these functions; none of
them knows about HTTP or a terminal. Who may do what is checked here.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from cohear import audit, temporaries
from cohear import text as text_rule
from cohear.auth import User
from cohear.errors import BadInput, Conflict, NotFound, TooLarge, Unprocessable
from cohear.permissions import register
from cohear.store import Store, utcnow
from speech import audio

register({
    "recordings.upload": {"admin", "collector", "reviewer"},
    "recordings.read": {"admin", "collector", "reviewer", "communicator"},
    "recordings.transcribe": {"admin", "collector", "reviewer"},
    "recordings.audio": {"admin", "reviewer"},
    "transcripts.correct": {"admin", "reviewer"},
    # OpenAI-compatible synchronous transcription (nothing stored).
    "speech.transcribe_now": {"admin", "communicator", "collector", "reviewer"},
}, own_only={
    "recordings.read": {"collector"},
    "recordings.transcribe": {"collector"},
})

TRANSCRIBE_JOB = "speech.transcribe"
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


@dataclass
class Recording:
    """One uploaded answer: facts about its audio, and where its transcription stands."""

    id: int
    uploaded_by: int
    filename: str
    original_sha256: str
    normalised_sha256: str
    media_type: str
    format: str
    codec: str
    size_bytes: int
    duration_seconds: float
    sample_rate: int
    channels: int
    peak_dbfs: float
    speech_seconds: float
    speech_ratio: float
    language_hint: str | None
    created_at: str
    status: str = "uploaded"  # uploaded, queued, transcribing, transcribed, failed, cancelled
    job: dict | None = None  # the latest transcription job: id, status, progress, error
    transcript_versions: int = 0
    needs_review: bool | None = None
    language_mismatch: bool | None = None
    duplicate: bool = False  # this upload's bytes were already here: nothing new was stored
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("extra")
        return out | self.extra


# -- language hints -------------------------------------------------------------------
def check_language_tag(tag: str | None) -> str | None:
    """A BCP-47 tag as given (trimmed), or BadInput. Empty means "detect it"."""
    tag = (tag or "").strip()
    if not tag:
        return None
    if not _TAG.match(tag):
        raise BadInput(f"{tag!r} is not a language tag", fix="use a BCP-47 tag such as ur, pa-Guru "
                       "or pl, or leave the language empty to let Whisper detect it")
    return tag


def whisper_language(tag: str | None) -> str | None:
    """The code Whisper knows a cohear tag by; None for "detect" (also where Whisper does
    not know the language, e.g. Kurdish or Tigrinya)."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES
    if not tag:
        return None
    try:
        from language_packs.registry import to_whisper
    except ImportError:
        to_whisper = None
    if to_whisper is not None:
        try:
            return to_whisper(tag)
        except BadInput:
            pass
    primary = tag.replace("_", "-").split("-")[0].lower()
    if primary in _LANGUAGE_CODES:
        return primary
    raise BadInput(f"Whisper does not know the language {tag!r}",
                   fix="give a language Whisper recognises (e.g. ur, pa, bn, pl), or none "
                       "to let it detect the language")


# -- ingest ---------------------------------------------------------------------------
def ingest(store: Store, fileobj: IO[bytes], *, filename: str | None, content_type: str | None,
           uploaded_by: User, language_hint: str | None = None) -> Recording:
    """Store an uploaded recording: decode it, keep the original bytes and a normalised
    16 kHz mono WAV as blobs, and record its facts.

    Bytes already stored (same sha256) are not stored twice: the existing recording is
    returned with `duplicate=True`. Bad audio raises a 4xx CohearError and leaves no row
    and no blob file behind: blobs are written only after decoding succeeded, and removed
    again if the database write fails.
    """
    uploaded_by.require("recordings.upload")
    hint = check_language_tag(language_hint)
    if hint:
        whisper_language(hint)
    limit = audio.max_bytes()
    tmp = temporaries.path(store.settings.data_dir, store.blobs.tmp, "upload")
    try:
        sha, size = _spool(fileobj, tmp, limit)
        if size == 0:
            raise Unprocessable(f"{_shown(filename)} is empty (0 bytes)",
                                fix="record the answer again and upload it")
        existing = _same_bytes(store, sha, uploaded_by)
        if existing is not None:
            return _duplicate(store, existing, uploaded_by)
        decoded = audio.decode(tmp, filename=filename, content_type=content_type)
        return _store_new(store, tmp, sha, size, decoded, filename, uploaded_by, hint)
    finally:
        tmp.unlink(missing_ok=True)


def _shown(filename: str | None) -> str:
    return Path(filename or "").name or "the upload"


def _spool(fileobj: IO[bytes], tmp: Path, limit: int) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(tmp, "wb") as out:
        while True:
            chunk = fileobj.read(1024 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"the recording is larger than the limit of {limit:,} bytes",
                               fix="send a shorter recording, or raise COHEAR_SPEECH_MAX_BYTES")
            h.update(chunk)
            out.write(chunk)
    return h.hexdigest(), size


def _same_bytes(store: Store, sha: str, user: User) -> int | None:
    """The recording of these bytes that `user` already has, if any: for a collector,
    only one they uploaded themselves (the same bytes from another collector are a new
    recording for them, sharing the stored audio, so nothing tells them it exists
    elsewhere); for staff who see every recording, any, their own first."""
    sql = "SELECT id FROM recordings WHERE original_sha256 = ?"
    if user.limited_to_own("recordings.read"):
        row = store.one(sql + " AND uploaded_by = ?", (sha, user.id))
    else:
        row = store.one(sql + " ORDER BY uploaded_by != ?, id LIMIT 1", (sha, user.id))
    return row["id"] if row else None


def _duplicate(store: Store, recording_id: int, user: User) -> Recording:
    rec = get_recording(store, recording_id, user)
    rec.duplicate = True
    return rec


def _store_new(store: Store, tmp: Path, sha: str, size: int, decoded: audio.DecodedAudio,
               filename: str | None, user: User, hint: str | None) -> Recording:
    norm_sha = hashlib.sha256(decoded.wav).hexdigest()
    new_files = [s for s in {sha, norm_sha} if not store.blobs.path(s).exists()]
    try:
        with open(tmp, "rb") as fh:
            store.blobs.put_stream(fh)
        store.blobs.put_bytes(decoded.wav)
        with store.transaction() as conn:
            store.blobs.register(conn, sha, size, decoded.media_type)
            store.blobs.register(conn, norm_sha, len(decoded.wav), "audio/wav")
            f = decoded.facts()
            rec_id = conn.execute(
                "INSERT INTO recordings (uploaded_by, filename, original_sha256, "
                "normalised_sha256, media_type, format, codec, size_bytes, duration_seconds, "
                "sample_rate, channels, peak_dbfs, speech_seconds, speech_ratio, language_hint, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (user.id, _shown(filename)[:255], sha, norm_sha, decoded.media_type,
                 decoded.family, decoded.codec, size, decoded.duration, decoded.sample_rate,
                 decoded.channels, decoded.peak_dbfs, decoded.speech_seconds,
                 decoded.speech_ratio, hint, utcnow())).lastrowid
            audit.record(conn, user, "recording.upload", "recording", rec_id,
                         detail=f"{f['format']}/{f['codec']} {f['duration_seconds']} s, "
                                f"sha256 {sha[:12]}")
    except BaseException as exc:
        # Only files this upload created, and only if no row claims them.
        for s in new_files:
            if store.one("SELECT 1 FROM blobs WHERE sha256 = ?", (s,)) is None:
                store.blobs.delete_file(s)
        same = _same_bytes(store, sha, user) if isinstance(exc, sqlite3.IntegrityError) else None
        if same is not None:  # the same bytes were uploaded at the same moment, by them
            return _duplicate(store, same, user)
        raise
    return get_recording(store, rec_id, user)


# -- reading --------------------------------------------------------------------------
def _row_to_recording(store: Store, row: sqlite3.Row) -> Recording:
    # sqlite3.Row iterates over values, so its keys() is needed here.
    names = [k for k in row.keys() if k in Recording.__dataclass_fields__]  # noqa: SIM118
    fields_ = {k: row[k] for k in names}
    rec = Recording(**fields_)
    job = store.one("SELECT j.id, j.status, j.progress, j.error, j.attempts FROM recording_jobs rj "
                    "JOIN jobs j ON j.id = rj.job_id WHERE rj.recording_id = ? "
                    "ORDER BY j.id DESC LIMIT 1", (rec.id,))
    latest = store.one("SELECT version, needs_review, language_mismatch FROM transcripts "
                       "WHERE recording_id = ? ORDER BY version DESC LIMIT 1", (rec.id,))
    if job:
        rec.job = dict(job)
    if latest:
        rec.transcript_versions = latest["version"]
        rec.needs_review = bool(latest["needs_review"])
        rec.language_mismatch = bool(latest["language_mismatch"])
    if job and job["status"] in ("queued", "running"):
        rec.status = "queued" if job["status"] == "queued" else "transcribing"
    elif latest:
        rec.status = "transcribed"
    elif job:
        rec.status = {"done": "transcribed"}.get(job["status"], job["status"])
    return rec


def get_recording(store: Store, recording_id: int, user: User) -> Recording:
    """One recording; a collector sees only their own (others' answer 404)."""
    user.require("recordings.read")
    row = store.one("SELECT * FROM recordings WHERE id = ?", (recording_id,))
    if row is None or (user.limited_to_own("recordings.read") and row["uploaded_by"] != user.id):
        raise NotFound(f"recording {recording_id} does not exist",
                       fix="check the id (`cohear recordings list`)")
    return _row_to_recording(store, row)


def list_recordings(store: Store, user: User, *, limit: int = 100,
                    needs_review: bool | None = None) -> list[Recording]:
    """Newest first; a collector sees only their own."""
    user.require("recordings.read")
    sql, params = "SELECT * FROM recordings WHERE 1=1", []
    if user.limited_to_own("recordings.read"):
        sql += " AND uploaded_by = ?"
        params.append(user.id)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    out = [_row_to_recording(store, r) for r in store.all(sql, tuple(params))]
    if needs_review is not None:
        out = [r for r in out if bool(r.needs_review) == needs_review]
    return out


def audio_file(store: Store, recording_id: int, user: User, which: str = "original"
               ) -> tuple[Path, str, str]:
    """(path, media type, download name) of the original upload or its 16 kHz copy."""
    user.require("recordings.audio")
    rec = get_recording(store, recording_id, user)
    if which not in ("original", "normalised"):
        raise BadInput(f"{which!r} is not a version of the audio", fix="ask for original or "
                       "normalised")
    if which == "original":
        ext = {"mp4": "m4a"}.get(rec.format, rec.format)
        return (store.blobs.path(rec.original_sha256), rec.media_type,
                f"recording-{rec.id}.{ext}")
    return store.blobs.path(rec.normalised_sha256), "audio/wav", f"recording-{rec.id}-16k.wav"


# -- transcription jobs ---------------------------------------------------------------
def queue_transcription(store: Store, recording_id: int, actor: User,
                        language_hint: str | None = None, *, jobs=None,
                        word_timestamps: bool = False) -> int:
    """Queue a `speech.transcribe` job for a recording; returns the job id.

    A recording already queued or being transcribed returns that job instead of a
    second one. `language_hint` (a BCP-47 tag) overrides the one given at upload.
    """
    from cohear.jobs import JobQueue
    actor.require("recordings.transcribe")
    rec = get_recording(store, recording_id, actor)
    hint = check_language_tag(language_hint) or rec.language_hint
    if hint:
        whisper_language(hint)
    queue = jobs or JobQueue(store)
    # The job asks for the configured model: only a worker that has it takes the job.
    payload = {"recording_id": rec.id, "language": hint, "word_timestamps": word_timestamps,
               "model": store.settings.whisper_model}
    with store.transaction() as conn:
        # Looked for under the write lock: two requests for the same recording at the
        # same moment (the same bytes uploaded twice) make one job, not two.
        waiting = conn.execute(
            "SELECT j.id FROM recording_jobs rj JOIN jobs j ON j.id = rj.job_id WHERE "
            "rj.recording_id = ? AND j.status IN ('queued', 'running') ORDER BY j.id DESC "
            "LIMIT 1", (rec.id,)).fetchone()
        if waiting is not None:
            return waiting["id"]
        job_id = queue.enqueue(TRANSCRIBE_JOB, payload, actor=actor, conn=conn)
        conn.execute("INSERT INTO recording_jobs (recording_id, job_id) VALUES (?, ?)",
                     (rec.id, job_id))
    queue.wake(job_id)
    return job_id


def save_machine_transcript(conn: sqlite3.Connection, recording_id: int, job_id: int | None,
                            result: Any, english: dict[str, str], engine: dict) -> int:
    """Write the machine's version (and its segments and English renderings) inside the
    caller's transaction: the job handler completes the job in the same one."""
    version = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM transcripts "
                           "WHERE recording_id = ?", (recording_id,)).fetchone()[0]
    lang = result.language
    tid = conn.execute(
        "INSERT INTO transcripts (recording_id, version, source, author_id, author_name, text, "
        "language, language_hint, detected_language, language_probability, language_mismatch, "
        "confidence, needs_review, engine_json, job_id, created_at) "
        "VALUES (?, ?, 'machine', NULL, 'whisper', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (recording_id, version, result.text, lang.used, lang.hint, lang.detected,
         lang.probability, int(lang.mismatch), result.confidence, int(result.needs_review),
         json.dumps(engine), job_id, utcnow())).lastrowid
    _write_segments(conn, tid, [s.as_dict() for s in result.segments])
    for name, text in english.items():
        conn.execute("INSERT INTO transcript_english (transcript_id, engine, text) "
                     "VALUES (?, ?, ?)", (tid, name, text))
    audit.record(conn, None, "transcript.machine", "recording", recording_id,
                 after={"version": version, "text": result.text, "english": english},
                 detail=f"job {job_id}")
    return tid


def _write_segments(conn: sqlite3.Connection, transcript_id: int, segments: list[dict]) -> None:
    conn.executemany(
        "INSERT INTO transcript_segments (transcript_id, position, start, end, text, confidence, "
        "avg_logprob, no_speech_prob, compression_ratio, rejected_reason, words_json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(transcript_id, i, s["start"], s["end"], s["text"], s.get("confidence"),
          s.get("avg_logprob"), s.get("no_speech_prob"), s.get("compression_ratio"),
          s.get("rejected_reason"), json.dumps(s["words"]) if s.get("words") else None)
         for i, s in enumerate(segments)])


# -- transcripts ----------------------------------------------------------------------
def transcript(store: Store, recording_id: int, user: User, version: int | None = None) -> dict:
    """A transcript version (the latest by default) with its segments, rejected ones
    included and marked, its English renderings and the list of versions."""
    rec = get_recording(store, recording_id, user)
    versions = store.all("SELECT version, source, author_name, created_at FROM transcripts "
                         "WHERE recording_id = ? ORDER BY version", (rec.id,))
    if not versions:
        state = rec.job["status"] if rec.job else "not queued"
        raise NotFound(f"recording {rec.id} has no transcript yet (transcription: {state})",
                       fix="queue it with POST /api/recordings/{id}/transcribe, or wait for "
                           "the job to finish")
    want = version or versions[-1]["version"]
    row = store.one("SELECT * FROM transcripts WHERE recording_id = ? AND version = ?",
                    (rec.id, want))
    if row is None:
        raise NotFound(f"recording {rec.id} has no transcript version {want}",
                       fix=f"versions 1 to {versions[-1]['version']} exist")
    segs = []
    for s in store.all("SELECT * FROM transcript_segments WHERE transcript_id = ? "
                       "ORDER BY position", (row["id"],)):
        segs.append({"index": s["position"], "start": s["start"], "end": s["end"],
                     "text": s["text"], "confidence": s["confidence"],
                     "avg_logprob": s["avg_logprob"], "no_speech_prob": s["no_speech_prob"],
                     "compression_ratio": s["compression_ratio"],
                     "rejected": s["rejected_reason"] is not None,
                     "rejected_reason": s["rejected_reason"],
                     "words": json.loads(s["words_json"]) if s["words_json"] else None})
    renderings = store.all("SELECT engine, text, of_version FROM transcript_english "
                           "WHERE transcript_id = ?", (row["id"],))
    english = {r["engine"]: r["text"] for r in renderings}
    # A rendering carried over from an earlier version renders the earlier words.
    stale = {r["engine"]: r["of_version"] for r in renderings
             if r["of_version"] is not None and r["of_version"] != row["version"]}
    preferred = _preferred_english(english, stale)
    return {
        "recording_id": rec.id, "version": row["version"], "source": row["source"],
        "author": row["author_name"], "created_at": row["created_at"], "text": row["text"],
        "language": row["language"], "language_hint": row["language_hint"],
        "detected_language": row["detected_language"],
        "language_probability": row["language_probability"],
        "language_mismatch": bool(row["language_mismatch"]),
        "confidence": row["confidence"], "needs_review": bool(row["needs_review"]),
        "duration_seconds": rec.duration_seconds,
        "english": preferred, "english_by_engine": english,
        # True when the English shown renders an earlier version's words (a correction
        # since): out of date until it is rendered again or a reviewer writes it.
        "english_stale": bool(preferred and preferred["engine"] in stale),
        "english_of_version": (stale.get(preferred["engine"], row["version"]) if preferred
                               else None),
        "engine": json.loads(row["engine_json"]) if row["engine_json"] else None,
        "note": row["note"], "segments": segs,
        "versions": [dict(v) for v in versions],
    }


ENGLISH_PREFERENCE = ("reviewer", "source", "argos", "whisper-translate")


def _preferred_english(english: dict[str, str], stale: dict | None = None) -> dict | None:
    """The English to show: a current rendering before an out-of-date one, then by
    ENGLISH_PREFERENCE."""
    stale = stale or {}
    for current in (True, False):
        for engine in ENGLISH_PREFERENCE:
            if engine in english and (engine not in stale) == current:
                return {"engine": engine, "text": english[engine]}
    return None


def correct(store: Store, recording_id: int, user: User, *, text: str | None = None,
            segments: list[dict] | None = None, english: str | None = None,
            note: str = "", base_version: int | None = None) -> dict:
    """Save a reviewer's correction as a new version; earlier versions stay as they were.

    Give `segments` as [{"index": i, "text": "..."}] to correct some segments (timings
    kept), or `text` to replace the whole transcript (one segment over the speech).
    `base_version`, when given, must be the latest version (someone else may have
    corrected it meanwhile). Audit-logged with the before and after.
    """
    user.require("transcripts.correct")
    text_rule.check_all({"corrected text": text, "English text": english, "note": note})
    text_rule.check_each([s.get("text") for s in segments or [] if isinstance(s, dict)],
                         "corrected segment")
    if text is None and segments is None and english is None:
        raise BadInput("the correction changes nothing",
                       fix="send text, segments or english")
    current = transcript(store, recording_id, user)
    if base_version is not None and base_version != current["version"]:
        raise Conflict(f"version {current['version']} is now the latest, not {base_version}",
                       fix="reload the transcript and apply your correction to it")
    kept = [s for s in current["segments"] if not s["rejected"]]
    if segments is not None:
        by_index = {s["index"]: s for s in current["segments"]}
        new_segs = [dict(s) for s in current["segments"]]
        for edit in segments:
            idx = edit.get("index")
            if idx not in by_index:
                raise BadInput(f"there is no segment {idx}",
                               fix=f"segments are numbered 0 to {len(new_segs) - 1}")
            seg = new_segs[idx]
            seg["text"] = str(edit.get("text", "")).strip()
            if edit.get("keep", True):
                seg["rejected"], seg["rejected_reason"] = False, None  # the reviewer heard it
            else:
                seg["rejected"], seg["rejected_reason"] = True, "removed by the reviewer"
            seg["confidence"] = 1.0
        new_text = " ".join(s["text"] for s in new_segs if not s["rejected"] and s["text"])
    elif text is not None:
        new_text = text.strip()
        start = kept[0]["start"] if kept else 0.0
        end = kept[-1]["end"] if kept else current["duration_seconds"]
        new_segs = [{"index": 0, "start": start, "end": end, "text": new_text,
                     "confidence": 1.0, "rejected": False, "rejected_reason": None,
                     "words": None}]
    else:
        new_text, new_segs = current["text"], current["segments"]
    # Renderings of the earlier words stay, marked as rendering that version, until the
    # new words are rendered (queued below) or a reviewer writes the English.
    words_changed = new_text != current["text"]
    carried = {r["engine"]: (r["text"], r["of_version"] or current["version"]) for r in
               store.all("SELECT t.engine, t.text, t.of_version FROM transcript_english t "
                         "JOIN transcripts v ON v.id = t.transcript_id WHERE v.recording_id = ? "
                         "AND v.version = ?", (recording_id, current["version"]))}
    english_out = {engine: (text_, of if words_changed or of != current["version"] else None)
                   for engine, (text_, of) in carried.items()}
    if "source" in english_out:       # English words are their own English
        english_out["source"] = (new_text, None)
    if english is not None:
        english_out["reviewer"] = (english.strip(), None)
    with store.transaction() as conn:
        version = current["version"] + 1
        try:
            tid = conn.execute(
                "INSERT INTO transcripts (recording_id, version, source, author_id, author_name, "
                "text, language, language_hint, detected_language, language_probability, "
                "language_mismatch, confidence, needs_review, engine_json, note, created_at) "
                "VALUES (?, ?, 'reviewer', ?, ?, ?, ?, ?, ?, ?, ?, 1.0, 0, NULL, ?, ?)",
                (recording_id, version, user.id, user.name, new_text, current["language"],
                 current["language_hint"], current["detected_language"],
                 current["language_probability"], int(current["language_mismatch"]),
                 note[:1000], utcnow())).lastrowid
        except sqlite3.IntegrityError:
            raise Conflict(f"someone saved version {version} at the same moment",
                           fix="reload the transcript and apply your correction to it") from None
        _write_segments(conn, tid, new_segs)
        for name, (value, of_version) in english_out.items():
            conn.execute("INSERT INTO transcript_english (transcript_id, engine, text, "
                         "of_version) VALUES (?, ?, ?, ?)", (tid, name, value, of_version))
        after_english = _preferred_english(
            {k: v for k, (v, _) in english_out.items()},
            {k: of for k, (_, of) in english_out.items() if of is not None})
        audit.record(conn, user, "transcript.correct", "recording", recording_id,
                     before={"version": current["version"], "text": current["text"],
                             "english": current["english"]},
                     after={"version": version, "text": new_text, "english": after_english},
                     detail=note[:200])
    corrected = transcript(store, recording_id, user, version)
    if corrected["english_stale"]:
        queue_english(store, recording_id, version, user)
    return corrected


# -- English for corrected words ---------------------------------------------------------
ENGLISH_JOB = "speech.english"


def english_engine_for(store: Store, language: str | None) -> bool:
    """True when this machine's translation engine can put `language` into English."""
    if not language or language == "en":
        return False
    try:
        from language_packs.engine import get_engine
        from language_packs.registry import from_whisper
        return get_engine(store).can_translate(from_whisper(language), "en")
    except Exception:  # noqa: BLE001 - no engine (or an unknown tag) simply means none
        return False


def queue_english(store: Store, recording_id: int, version: int, actor: User | None = None,
                  *, jobs=None) -> int | None:
    """Queue a `speech.english` job rendering transcript `version` in English with the
    translation engine, where one can (else None: the English stays marked out of date
    until a reviewer writes it; Whisper's translate task hears only the audio, so it
    cannot take a reviewer's corrected words into account)."""
    row = store.one("SELECT language FROM transcripts WHERE recording_id = ? AND version = ?",
                    (recording_id, version))
    if row is None or not english_engine_for(store, row["language"]):
        return None
    from cohear.jobs import JobQueue
    queue = jobs or JobQueue(store)
    return queue.enqueue(ENGLISH_JOB, {"recording_id": recording_id, "version": version},
                         actor=actor)


def save_english(conn: sqlite3.Connection, recording_id: int, version: int, engine: str,
                 text: str) -> bool:
    """Store a current English rendering of one transcript version (replacing an
    out-of-date one from the same engine). False when the version no longer exists."""
    row = conn.execute("SELECT id FROM transcripts WHERE recording_id = ? AND version = ?",
                       (recording_id, version)).fetchone()
    if row is None:
        return False
    conn.execute("INSERT OR REPLACE INTO transcript_english (transcript_id, engine, text, "
                 "of_version) VALUES (?, ?, ?, NULL)", (row["id"], engine, text))
    audit.record(conn, None, "transcript.english", "recording", recording_id,
                 after={"version": version, "engine": engine, "text": text})
    return True


def stale_transcripts(store: Store, language: str) -> list[tuple[int, int]]:
    """(recording id, version) of latest transcripts in `language` whose English is out
    of date: what a newly installed translation pack can render."""
    rows = store.all(
        "SELECT t.recording_id, t.version, t.language FROM transcripts t WHERE t.version = "
        "(SELECT max(version) FROM transcripts x WHERE x.recording_id = t.recording_id) "
        "AND EXISTS (SELECT 1 FROM transcript_english e WHERE e.transcript_id = t.id "
        "AND e.of_version IS NOT NULL AND e.of_version != t.version) "
        "AND NOT EXISTS (SELECT 1 FROM transcript_english e WHERE e.transcript_id = t.id "
        "AND e.of_version IS NULL)")
    out = []
    for r in rows:
        try:
            from language_packs.registry import from_whisper
            tag = from_whisper(r["language"] or "")
        except Exception:  # noqa: BLE001 - a language the registry does not know
            continue
        if tag == language:
            out.append((r["recording_id"], r["version"]))
    return out


# -- consent withdrawn ----------------------------------------------------------------
def delete_recordings(conn: sqlite3.Connection, store: Store, recording_ids: list[int], *,
                      still_used=None) -> tuple[dict, list[str]]:
    """Delete recordings with their transcript versions, segments, English renderings and
    job links, and erase their words from the audit log (the facts of who did what stay),
    inside the caller's transaction: for a respondent who withdraws consent.

    Returns (counts, blob ids no longer used): call `store.blobs.delete_file(sha)` for each
    after the commit. `still_used(conn, sha) -> bool` lets the caller keep a blob that its
    own tables still use (a blob another recording uses is always kept).
    """
    counts = {"recordings": 0, "transcripts": 0}
    ids = [int(i) for i in recording_ids]
    if not ids:
        return counts, []
    marks = ",".join("?" * len(ids))
    shas = {sha for row in conn.execute(
        f"SELECT original_sha256, normalised_sha256 FROM recordings WHERE id IN ({marks})", ids)
        for sha in row}
    inner = f"SELECT id FROM transcripts WHERE recording_id IN ({marks})"
    conn.execute(f"DELETE FROM transcript_english WHERE transcript_id IN ({inner})", ids)
    conn.execute(f"DELETE FROM transcript_segments WHERE transcript_id IN ({inner})", ids)
    counts["transcripts"] = conn.execute(
        f"DELETE FROM transcripts WHERE recording_id IN ({marks})", ids).rowcount
    conn.execute(f"DELETE FROM recording_jobs WHERE recording_id IN ({marks})", ids)
    counts["recordings"] = conn.execute(f"DELETE FROM recordings WHERE id IN ({marks})",
                                        ids).rowcount
    audit.erase_words(conn, "recording", ids)
    gone = []
    for sha in sorted(shas):
        if conn.execute("SELECT 1 FROM recordings WHERE original_sha256 = ?1 "
                        "OR normalised_sha256 = ?1 LIMIT 1", (sha,)).fetchone():
            continue
        if still_used is not None and still_used(conn, sha):
            continue
        store.blobs.forget(conn, sha)
        gone.append(sha)
    return counts, gone
