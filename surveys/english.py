"""English renderings of answers, so a reviewer who does not read the answer's language
can understand it: from the translation engine where a pack is installed (a queued
`surveys.english` job, queued again for waiting answers when a pack arrives), else from a
human translator, requested here and entered by a reviewer (audited like any words).

Voice answers take their English from speech (Whisper's translate task, or the engine
from a corrected transcript); this module says, for any answer, which English there is
and whether it renders the newest words or older ones (out of date after a correction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cohear import audit
from cohear.auth import User
from cohear.errors import Conflict, NotFound, Unprocessable
from cohear.permissions import register
from cohear.store import Store, utcnow
from surveys import service
from surveys.safeguarding import keyword_hits

register({
    # Reviewers ask for a human translation (and enter it: answers.review).
    "answers.request_translation": {"admin", "reviewer"},
})

ENGLISH_JOB = "surveys.english"
MAX_REQUEST_NOTE_CHARS = 1000
_BATCH = 200            # answers per job; each job's payload carries ids only, never words


def engine_for(store: Store, language: str) -> str | None:
    """The engine's label when this machine can put `language` into English, else None."""
    if not language or language == "en":
        return None
    try:
        from language_packs.engine import get_engine
        engine = get_engine(store)
        route = engine.route(language, "en")
    except Exception:  # noqa: BLE001 - no language_packs, or a tag it does not know
        return None
    return None if route is None else "argos"


def _needs_english(conn, answer_id: int) -> bool:
    texts = service.latest_texts(conn, answer_id)
    original, english = texts.get("original"), texts.get("english")
    return original is not None and (english is None
                                     or english["of_version"] != original["version"])


def queue_english(store: Store, answer_ids: Iterable[int], actor: User | None = None, *,
                  jobs=None) -> list[int]:
    """Queue English renderings for typed answers whose English is missing or renders
    older words, where the engine has a pack for their language. Returns the job ids
    (none when there is nothing to do or no engine: the answer then waits, and a pack
    installed later queues it, see `english_for_waiting_answers`)."""
    wanted: list[int] = []
    engines: dict[str, str | None] = {}
    for answer_id in answer_ids:
        row = store.one("SELECT kind, language FROM answers WHERE id = ?", (answer_id,))
        if row is None or row["kind"] != "text" or row["language"] == "en":
            continue
        if row["language"] not in engines:
            engines[row["language"]] = engine_for(store, row["language"])
        if engines[row["language"]] and _needs_english(store.conn, answer_id):
            wanted.append(answer_id)
    if not wanted:
        return []
    from cohear.jobs import JobQueue
    queue = jobs or JobQueue(store)
    job_ids = []
    for start in range(0, len(wanted), _BATCH):
        batch = wanted[start:start + _BATCH]
        with store.transaction() as conn:
            job_id = queue.enqueue(ENGLISH_JOB, {"answer_ids": batch}, actor=actor, conn=conn)
            conn.executemany("UPDATE answers SET english_job_id = ? WHERE id = ?",
                             [(job_id, a) for a in batch])
        queue.wake(job_id)
        job_ids.append(job_id)
    return job_ids


def waiting_answers(store: Store, language: str) -> list[int]:
    """Typed answers in `language` with no English of their newest words."""
    rows = store.all(
        "SELECT a.id FROM answers a WHERE a.kind = 'text' AND a.language = ? AND "
        "(SELECT e.of_version FROM answer_texts e WHERE e.answer_id = a.id AND "
        "e.rendering = 'english' ORDER BY e.version DESC LIMIT 1) IS NOT "
        "(SELECT max(o.version) FROM answer_texts o WHERE o.answer_id = a.id AND "
        "o.rendering = 'original') ORDER BY a.id", (language,))
    return [r[0] for r in rows]


def render(store: Store, answer_ids: list[int], *,
           progress: Callable[[float], None] | None = None) -> dict:
    """Render each answer's newest words in English with the engine and store it (the job's
    work). Answers already current, withdrawn, or with no engine are skipped."""
    from language_packs.engine import get_engine
    engine = get_engine(store)
    rendered, skipped = [], []
    for i, answer_id in enumerate(answer_ids):
        row = store.one("SELECT language FROM answers WHERE id = ?", (answer_id,))
        texts = service.latest_texts(store.conn, answer_id) if row else {}
        original = texts.get("original")
        if (row is None or original is None or not _needs_english(store.conn, answer_id)
                or not engine.can_translate(row["language"], "en")):
            skipped.append(answer_id)
            continue
        [result] = engine.translate([original["text"]], row["language"], "en")
        english = result.text.strip()
        with store.transaction() as conn:
            # The words may have been corrected meanwhile: store only a rendering of the
            # version just translated, as the newest English.
            now = service.latest_texts(conn, answer_id).get("original")
            if not english or now is None or now["version"] != original["version"]:
                skipped.append(answer_id)
                continue
            service._insert_text(conn, store, answer_id, "english", "en", english, "engine",
                                 engine=result.engine)
            hits = keyword_hits(english, "en")
            if hits:
                service._flag(conn, answer_id, "keywords: " + ", ".join(hits), "keywords")
            audit.record(conn, None, "answer.english", "answer", answer_id,
                         after={"text": english, "engine": result.engine,
                                "of_version": original["version"]})
        rendered.append(answer_id)
        if progress:
            progress((i + 1) / len(answer_ids))
    return {"rendered": rendered, "skipped": skipped}


# -- what the reviewer sees --------------------------------------------------------------

def english_state(store: Store, answer: dict) -> dict:
    """Which English an answer has: `state` is `source` (the answer is in English),
    `current` (an English of the newest words), `out_of_date` (of older words: the
    words were corrected since), `queued` (the engine is rendering it) or `none`; with
    `machine_translation` (whether the engine can render it here) and the open
    `request` for a human translation, if any."""
    texts = answer["texts"]
    original, english = texts.get("original"), texts.get("english")
    language = answer["language"]
    out: dict = {"engine": engine_for(store, language), "request": open_request(store,
                                                                                answer["id"])}
    out["machine_translation"] = out["engine"] is not None
    row = store.one("SELECT e.of_version, e.engine, e.source, j.status AS job FROM answers a "
                    "LEFT JOIN answer_texts e ON e.id = ? LEFT JOIN jobs j ON "
                    "j.id = a.english_job_id WHERE a.id = ?",
                    (_id(english), answer["id"]))
    job_running = row is not None and row["job"] in ("queued", "running")
    if language == "en":
        out["state"] = "source"
    elif (english is not None and original is not None
          and row["of_version"] == _field(original, "version")):
        out["state"] = "current"
    elif job_running:
        out["state"] = "queued"
    elif english is not None:
        out["state"] = "out_of_date"
    else:
        out["state"] = "none"
    if english is not None:
        out["of_version"] = row["of_version"]
        out["made_by"] = row["engine"] or {"edit": "a reviewer", "engine": "the engine",
                                           "translation": "the transcript"}.get(row["source"],
                                                                                row["source"])
    return out


def _field(text, name: str):
    """A field of a text version, whether a TextView (surveys.views) or a row dict."""
    return getattr(text, name) if hasattr(text, name) else text[name]


def _id(text) -> int | None:
    return None if text is None else _field(text, "id")


# -- human translation ---------------------------------------------------------------------

def open_request(store: Store, answer_id: int) -> dict | None:
    row = store.one("SELECT r.*, u.name AS requested_by_name FROM translation_requests r "
                    "LEFT JOIN users u ON u.id = r.requested_by WHERE r.answer_id = ? AND "
                    "r.status = 'open'", (answer_id,))
    return dict(row) if row else None


def request_translation(store: Store, actor: User, answer_id: int, note: str = "") -> dict:
    """Ask for a human translation of an answer's words into English (where this machine
    has no engine for its language, or the engine's English is not good enough). Fulfilled
    when a reviewer enters the English (`set_english`)."""
    actor.require("answers.request_translation")
    note = (note or "").strip()
    if len(note) > MAX_REQUEST_NOTE_CHARS:
        raise Unprocessable(f"the note is {len(note):,} characters; the limit is "
                            f"{MAX_REQUEST_NOTE_CHARS:,}", fix="keep it short")
    with store.transaction() as conn:
        row = service.visible_answer_row(conn, actor, answer_id)
        if row["language"] == "en":
            raise Conflict(f"answer {answer_id} is in English", fix="nothing to translate")
        original = service.latest_texts(conn, answer_id).get("original")
        if original is None:
            raise Conflict(f"answer {answer_id} has no words yet",
                           fix="wait for its transcript, or type one first")
        if conn.execute("SELECT 1 FROM translation_requests WHERE answer_id = ? AND "
                        "status = 'open'", (answer_id,)).fetchone():
            raise Conflict(f"a translation of answer {answer_id} is already requested",
                           fix="see the open requests (`cohear surveys translation-requests`)")
        rid = conn.execute("INSERT INTO translation_requests (answer_id, language, of_version, "
                           "note, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?)",
                           (answer_id, row["language"], original["version"], note,
                            actor.id or None, utcnow())).lastrowid
        audit.record(conn, actor, "answer.translation_request", "answer", answer_id,
                     after={"request": rid, "language": row["language"], "note": note})
    return get_request(store, rid)


def get_request(store: Store, request_id: int) -> dict:
    row = store.one("SELECT r.*, u.name AS requested_by_name FROM translation_requests r "
                    "LEFT JOIN users u ON u.id = r.requested_by WHERE r.id = ?", (request_id,))
    if row is None:
        raise NotFound(f"translation request {request_id} does not exist", fix="check the id")
    return dict(row)


def list_requests(store: Store, actor: User, *, status: str | None = "open",
                  language: str | None = None, limit: int = 500) -> list[dict]:
    """Requests for a human translation, oldest first: what a translator has to do."""
    actor.require("answers.request_translation")
    sql = ("SELECT r.*, u.name AS requested_by_name, s.survey_id FROM translation_requests r "
           "LEFT JOIN users u ON u.id = r.requested_by JOIN answers a ON a.id = r.answer_id "
           "JOIN survey_sessions s ON s.id = a.session_id WHERE 1=1")
    params: list = []
    if status:
        sql += " AND r.status = ?"
        params.append(status)
    if language:
        sql += " AND r.language = ?"
        params.append(language)
    sql += " ORDER BY r.id LIMIT ?"
    params.append(limit)
    return [dict(r) for r in store.all(sql, tuple(params))]


def cancel_request(store: Store, actor: User, request_id: int) -> dict:
    actor.require("answers.request_translation")
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM translation_requests WHERE id = ?",
                           (request_id,)).fetchone()
        if row is None:
            raise NotFound(f"translation request {request_id} does not exist",
                           fix="check the id")
        if row["status"] != "open":
            raise Conflict(f"translation request {request_id} is already {row['status']}",
                           fix="nothing to cancel")
        conn.execute("UPDATE translation_requests SET status = 'cancelled', done_by = ?, "
                     "done_at = ? WHERE id = ?", (actor.id or None, utcnow(), request_id))
        audit.record(conn, actor, "answer.translation_request_cancel", "answer",
                     row["answer_id"], detail=f"request {request_id}")
    return get_request(store, request_id)


def set_english(store: Store, actor: User, answer_id: int, text: str) -> dict:
    """A reviewer's English for an answer (a human translation, typed or pasted): a new
    version of its English rendering, audited, fulfilling any open request."""
    return service.add_text_version(store, actor, answer_id, text, rendering="english")
