"""The recordings surveys store (voice answers, spoken consents) once nothing uses them:
removed at once when the request that stored one is refused, and found by `cohear db
check` when a crash left one behind (removed with `--repair` after a grace period).

A recording only a refused answer would have used belongs to no respondent, so no
withdrawal could ever reach it: it must not outlive the request. Which recordings
surveys stored is noted in `survey_recordings` in the commit that stores each one
(`links.store_recording`); a recording uploaded on its own (POST /api/recordings) is
never taken for one left behind.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from cohear import audit
from cohear.store import Store, integrity_check
from surveys import links

# What refers to a recording of a survey: an answer (its latest version), an earlier
# version of an answer, or a consent.
_IN_USE = ("EXISTS (SELECT 1 FROM answers a WHERE a.recording_id = {id}) "
           "OR EXISTS (SELECT 1 FROM answer_versions v WHERE v.recording_id = {id}) "
           "OR EXISTS (SELECT 1 FROM consents c WHERE c.recording_id = {id})")


def in_use(conn: sqlite3.Connection, recording_id: int) -> bool:
    """True when an answer, an answer version or a consent refers to the recording."""
    return bool(conn.execute("SELECT " + _IN_USE.format(id="?1"), (recording_id,)).fetchone()[0])


def discard_unused(store: Store, stored: links.StoredRecording, why: str) -> bool:
    """Remove a recording this request stored when the answer or consent it was for was
    refused, with its audio (unless another recording or a prompt shares the bytes).
    A recording that was already there (the same bytes sent before) or that something
    has come to use meanwhile is kept. True when it was removed."""
    if not stored.new:
        return False
    with store.transaction() as conn:
        exists = conn.execute("SELECT 1 FROM recordings WHERE id = ?", (stored.id,)).fetchone()
        if exists is None or in_use(conn, stored.id):
            return False
        files = _remove(conn, store, [stored.id], why)
    for sha in files:
        store.blobs.delete_file(sha)
    return True


def _remove(conn: sqlite3.Connection, store: Store, recording_ids: list[int], why: str
            ) -> list[str]:
    _, files = links.delete_recordings(conn, store, recording_ids)
    for rid in recording_ids:
        audit.record(conn, None, "recording.discard", "recording", rid, detail=why)
    return files


def left_behind(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Recordings surveys stored that nothing refers to (id, created_at), oldest first."""
    return conn.execute(
        "SELECT r.id, r.created_at FROM survey_recordings s JOIN recordings r "
        "ON r.id = s.recording_id WHERE NOT (" + _IN_USE.format(id="r.id") + ") "
        "ORDER BY r.id").fetchall()


def unattached(conn: sqlite3.Connection) -> list[int]:
    """Recordings nothing refers to that surveys did not store: uploaded on their own,
    or before cohear noted why a recording was stored. Listed, never removed."""
    return [r[0] for r in conn.execute(
        "SELECT r.id FROM recordings r WHERE r.id NOT IN (SELECT recording_id FROM "
        "survey_recordings) AND NOT (" + _IN_USE.format(id="r.id") + ") ORDER BY r.id")]


@integrity_check("surveys.recordings")
def check_recordings(store: Store, *, repair: bool, grace_seconds: float) -> dict:
    """`cohear db check`: recordings of answers or consents that nothing refers to
    (`orphan_recordings`), and with `repair` those older than the grace period removed
    (`recordings_removed`), under the write lock, checked again there: a request that
    has just stored its recording and is about to save its answer is younger than that.
    Recordings of their own nothing refers to are listed (`unattached_recordings`)."""
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=grace_seconds)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    orphans = [r["id"] for r in left_behind(store.conn)]
    removed: list[int] = []
    if repair and orphans:
        with store.transaction() as conn:
            removed = [r["id"] for r in left_behind(conn) if r["created_at"] < cutoff]
            files = _remove(conn, store, removed, "stored for an answer or consent that "
                            "was never saved; removed by `cohear db check --repair`") \
                if removed else []
        for sha in files:
            store.blobs.delete_file(sha)
    return {"orphan_recordings": orphans, "recordings_removed": removed,
            "unattached_recordings": unattached(store.conn)}
