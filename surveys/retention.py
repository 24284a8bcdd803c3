"""Audio retention: a voice answer's recording is deleted a set number of days after its
transcript was verified (setting `audio_retention_days`); the words, codes and facts stay.

Audio still needed is never touched: a recording shared with an answer not yet past the
period, a verbal consent recording (evidence of consent) or a question's audio prompt.
"""

from __future__ import annotations

import datetime as dt

from cohear import audit
from cohear.store import Store

REASON = "audio retention"


def apply_retention(store: Store, *, days: int | None = None, now: dt.datetime | None = None,
                    dry_run: bool = False) -> dict:
    """Delete audio past the retention period. Returns what was (or would be) deleted."""
    days = store.settings.audio_retention_days if days is None else days
    if days <= 0:
        return {"days": 0, "recordings": [], "blobs": 0, "bytes": 0,
                "note": "audio retention is off (audio_retention_days = 0)"}
    now = now or dt.datetime.now(dt.UTC)
    cutoff = (now - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with store.transaction() as conn:
        due = conn.execute(
            "SELECT a.id AS answer_id, r.id AS recording_id, r.original_sha256, "
            "r.normalised_sha256 FROM answers a JOIN recordings r ON r.id = a.recording_id "
            "WHERE a.status = 'verified' AND a.verified_at <= ?", (cutoff,)).fetchall()
        eligible = {row["recording_id"] for row in due}
        due_answers = {row["answer_id"] for row in due}
        purged: dict[str, int] = {}
        recordings = []
        for row in due:
            took = False
            for sha in (row["original_sha256"], row["normalised_sha256"]):
                if sha in purged:      # shared with a recording taken before: this one's too
                    took = True
                    continue
                if not _only_used_by(conn, sha, eligible, due_answers):
                    continue
                blob = conn.execute("SELECT size, purged_at FROM blobs WHERE sha256 = ?",
                                    (sha,)).fetchone()
                if blob is None or blob["purged_at"]:
                    continue
                purged[sha] = blob["size"]
                took = True
                if not dry_run:
                    store.blobs.purge(conn, sha, REASON)
            if took and row["recording_id"] not in recordings:   # one recording, several answers
                recordings.append(row["recording_id"])
                if not dry_run:
                    audit.record(conn, None, "recording.audio_purged", "recording",
                                 row["recording_id"],
                                 detail=f"audio deleted {days} days after answer "
                                        f"{row['answer_id']} was verified")
        if dry_run:
            conn.execute("SELECT 1")  # nothing written; the transaction only held a snapshot
    if not dry_run:
        for sha in purged:
            store.blobs.delete_file(sha)
    return {"days": days, "cutoff": cutoff, "dry_run": dry_run, "recordings": recordings,
            "blobs": len(purged), "bytes": sum(purged.values())}


def _only_used_by(conn, sha: str, eligible: set[int], due_answers: set[int]) -> bool:
    """True when the audio `sha` is needed by nothing but answers past the period."""
    users = {r[0] for r in conn.execute(
        "SELECT id FROM recordings WHERE original_sha256 = ?1 OR normalised_sha256 = ?1", (sha,))}
    if not users <= eligible:
        return False
    # One recording can be several answers' (the same collector sending the same bytes again
    # keeps one recording): every answer holding it, in any version, must be past the period.
    marks = ",".join("?" * len(users))
    holders = {r[0] for r in conn.execute(
        f"SELECT id FROM answers WHERE recording_id IN ({marks}) UNION "
        f"SELECT answer_id FROM answer_versions WHERE recording_id IN ({marks})", (*users, *users))}
    if not holders <= due_answers:
        return False
    if conn.execute("SELECT 1 FROM question_prompts WHERE blob_sha256 = ? LIMIT 1",
                    (sha,)).fetchone():
        return False
    consent = conn.execute(
        "SELECT 1 FROM consents WHERE recording_id IN (SELECT id FROM recordings WHERE "
        "original_sha256 = ?1 OR normalised_sha256 = ?1) LIMIT 1", (sha,)).fetchone()
    return consent is None
