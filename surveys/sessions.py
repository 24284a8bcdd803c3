"""The end of a collection session: finishing it (its answers are then final), or
discarding one that holds no answer (a respondent who stopped before answering), and
removing sessions left unfinished and empty (EMPTY_SESSION_DAYS).

An empty session is not research data: it names a respondent who said nothing. A
leader discards it from the page; one the page never came back to (a phone lost, a
tab cleared) is removed by the worker once it has been empty and unfinished for
EMPTY_SESSION_DAYS, long enough for a phone that was offline for weeks to send what
it holds first. Removal deletes the session, its consent (and the consent recording)
and the respondent when no other session names them; the audit log keeps the fact.
"""

from __future__ import annotations

import datetime as dt

from cohear import audit
from cohear.auth import SYSTEM, User
from cohear.errors import Conflict
from cohear.store import Store, utcnow
from surveys import links

EMPTY_SESSION_DAYS = 30


def finish_session(store: Store, actor: User, session_id: int) -> dict:
    """Mark a session finished (its answers can no longer be given again). Finishing a
    finished session changes nothing."""
    from surveys.service import _session_row, get_session
    actor.require("sessions.run")
    with store.transaction() as conn:
        row = _session_row(conn, actor, session_id, writing=True)
        if row["ended_at"] is None:
            conn.execute("UPDATE survey_sessions SET ended_at = ? WHERE id = ?",
                         (utcnow(), session_id))
            audit.record(conn, actor, "session.finish", "session", session_id)
    return get_session(store, actor, session_id)


def discard_session(store: Store, actor: User, session_id: int) -> dict:
    """Remove a session that has no answer, with its consent and, when no other session
    names them, its respondent. A session with answers is refused (409): withdrawal is
    the way to remove what a respondent said."""
    from surveys.service import _session_row
    actor.require("sessions.run")
    with store.transaction() as conn:
        row = _session_row(conn, actor, session_id, writing=True)
        if conn.execute("SELECT 1 FROM answers WHERE session_id = ? LIMIT 1",
                        (session_id,)).fetchone():
            raise Conflict(f"session {session_id} already has answers",
                           fix="finish it instead; a respondent who wants their answers "
                               "removed withdraws consent", code="session-has-answers")
        files = _remove(conn, store, actor, row, "discarded by the collector")
    for sha in files:
        store.blobs.delete_file(sha)
    return {"session_id": session_id, "discarded": True}


def _remove(conn, store: Store, actor: User, row, why: str) -> list[str]:
    """Delete an empty session inside the caller's transaction; returns blob files to
    delete after commit."""
    session_id, respondent_id = row["id"], row["respondent_id"]
    recordings = [r[0] for r in conn.execute(
        "SELECT recording_id FROM consents WHERE session_id = ? AND recording_id IS NOT NULL",
        (session_id,))]
    conn.execute("DELETE FROM consents WHERE session_id = ?", (session_id,))
    files: list[str] = []
    if recordings:
        _, files = links.delete_recordings(conn, store, recordings)
        audit.erase_words(conn, "recording", recordings)
    conn.execute("DELETE FROM survey_sessions WHERE id = ?", (session_id,))
    audit.erase_words(conn, "session", [session_id])
    if not conn.execute("SELECT 1 FROM survey_sessions WHERE respondent_id = ? LIMIT 1",
                        (respondent_id,)).fetchone():
        conn.execute("DELETE FROM respondent_contacts WHERE respondent_id = ?", (respondent_id,))
        conn.execute("DELETE FROM respondents WHERE id = ?", (respondent_id,))
        audit.erase_words(conn, "respondent", [respondent_id])
    audit.record(conn, actor, "session.discard", "session", session_id, detail=why)
    return files


def remove_abandoned(store: Store, *, days: int = EMPTY_SESSION_DAYS,
                     now: dt.datetime | None = None) -> list[int]:
    """Remove sessions unfinished and without an answer `days` after they started.
    Returns their ids."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = (now - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    removed, files = [], []
    with store.transaction() as conn:
        for row in conn.execute(
                "SELECT * FROM survey_sessions s WHERE s.ended_at IS NULL AND s.started_at < ? "
                "AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.session_id = s.id)",
                (cutoff,)).fetchall():
            files += _remove(conn, store, SYSTEM, row,
                             f"left empty and unfinished for {days} days")
            removed.append(row["id"])
    for sha in files:
        store.blobs.delete_file(sha)
    return removed
