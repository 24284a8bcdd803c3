"""Withdrawal of consent: the respondent is removed from everything cohear wrote about
them, and only the fact that they withdrew stays.

What goes, in one transaction: their answers and every version of them, the words
(typed, transcribed, English), codings, memos, redactions, safeguarding notes,
recordings, transcripts, audio blobs and contact details; the words in the audit log
(each entry's fact stays); export files that hold them (deleted, the export marked
`removed` with the reason; one being written is written again without them); the
errors and results of jobs about them; and whatever other packages registered with
`@eraser` (the field page drops their unfinished uploads). After the commit the files
go, and the database's write-ahead log is checkpointed and truncated, so no copy of
their words stays in the WAL file; with `secure_delete` on (see `cohear.store`) freed
pages are zeroed too.

What it cannot reach (copies already downloaded, backups, exports written with the CLI
to a path of the user's choosing) is listed in SECURITY.md.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cohear import audit
from cohear.auth import User
from cohear.errors import Conflict
from cohear.store import Store, utcnow
from surveys import links

COLLECTOR = "collector"
REMOVED_REASON = "a respondent in it withdrew consent"

# Other packages' part of a withdrawal: fn(conn, store, respondent_id=, session_ids=,
# collector_ids=) -> (counts, files to delete after the commit), inside the transaction.
Eraser = Callable[..., tuple[dict[str, int], list[Path]]]
ERASERS: dict[str, Eraser] = {}
# Modules that register an eraser; loaded before every withdrawal, so an eraser runs even
# where nothing else imported its package (the CLI, a worker). Missing ones are skipped.
ERASER_MODULES = ("webcollect.service",)


def eraser(name: str) -> Callable[[Eraser], Eraser]:
    def register(fn: Eraser) -> Eraser:
        ERASERS[name] = fn
        return fn
    return register


def _load_erasers() -> None:
    for name in ERASER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (exc.name == name or name.startswith(exc.name + ".")):
                continue
            raise


def _ids(conn, sql: str, params: tuple) -> list[int]:
    return [r[0] for r in conn.execute(sql, params) if r[0] is not None]


def _marks(ids: list) -> str:
    return ",".join("?" * len(ids))


def withdraw_consent(store: Store, actor: User, respondent_id: int) -> dict:
    """Delete everything the respondent said and everything made from it; the audit log
    keeps only the fact. Returns what was removed, by kind."""
    from surveys.service import _respondent_row
    actor.require("respondents.withdraw")
    # A collector withdraws only respondents they hold (created), never one reached
    # through a session attached to another collector's respondent (404, as if absent).
    resp = _respondent_row(store.conn, actor, respondent_id, "respondents.withdraw")
    if resp["withdrawn_at"]:
        raise Conflict(f"respondent {respondent_id} has already withdrawn", fix="nothing to do")
    _load_erasers()
    files: list[Path] = []
    with store.transaction() as conn:
        report, blob_files, files = _erase(conn, store, actor, respondent_id)
    for sha in blob_files:
        store.blobs.delete_file(sha)
    for path in files:
        path.unlink(missing_ok=True)
    report["wal"] = store.checkpoint()
    return report


def _erase(conn: sqlite3.Connection, store: Store, actor: User, rid: int
           ) -> tuple[dict, list[str], list[Path]]:
    erased_before = conn.execute("SELECT count(*) FROM audit_log WHERE erased = 1").fetchone()[0]
    answer_ids = _ids(conn, "SELECT id FROM answers WHERE respondent_id = ?", (rid,))
    am = _marks(answer_ids)
    sessions = conn.execute("SELECT id, survey_id, collector_id FROM survey_sessions "
                            "WHERE respondent_id = ?", (rid,)).fetchall()
    session_ids = [s["id"] for s in sessions]
    # Answers folded into another as its later versions keep their old ids in the audit log.
    merged_ids = _ids(conn, f"SELECT merged_from FROM answer_versions WHERE answer_id IN ({am})",
                      tuple(answer_ids))
    text_ids = _ids(conn, f"SELECT id FROM answer_texts WHERE answer_id IN ({am})",
                    tuple(answer_ids))
    tm = _marks(text_ids)
    # Every recording of theirs (each answer version's, their consent's), except one that
    # another respondent's answer or consent also uses (the same bytes uploaded twice).
    recording_ids = _ids(conn, """
        SELECT recording_id FROM answers WHERE respondent_id = ?1
        UNION SELECT v.recording_id FROM answer_versions v JOIN answers a ON a.id = v.answer_id
              WHERE a.respondent_id = ?1
        UNION SELECT recording_id FROM consents WHERE respondent_id = ?1
        EXCEPT SELECT recording_id FROM answers WHERE respondent_id != ?1
        EXCEPT SELECT v.recording_id FROM answer_versions v JOIN answers a ON a.id = v.answer_id
               WHERE a.respondent_id != ?1
        EXCEPT SELECT recording_id FROM consents WHERE respondent_id != ?1""", (rid,))
    rm = _marks(recording_ids)
    job_ids = _ids(conn, f"SELECT job_id FROM recording_jobs WHERE recording_id IN ({rm})",
                   tuple(recording_ids))
    job_ids += _ids(conn, f"SELECT transcription_job_id FROM answers WHERE id IN ({am})",
                    tuple(answer_ids))
    exports, export_files = _remove_exports(conn, store, [s["survey_id"] for s in sessions],
                                            answer_ids)
    job_ids += [e["job_id"] for e in exports if e["job_id"] is not None]

    deleted = {
        "translation_requests": conn.execute(
            f"DELETE FROM translation_requests WHERE answer_id IN ({am})",
            tuple(answer_ids)).rowcount,
        "codings": conn.execute(f"DELETE FROM codings WHERE answer_id IN ({am}) OR "
                                f"answer_text_id IN ({tm})",
                                (*answer_ids, *text_ids)).rowcount,
        "memos": conn.execute(f"DELETE FROM answer_memos WHERE answer_id IN ({am})",
                              tuple(answer_ids)).rowcount,
        "redactions": conn.execute(f"DELETE FROM redactions WHERE answer_text_id IN ({tm})",
                                   tuple(text_ids)).rowcount,
        "answer_versions": conn.execute(f"DELETE FROM answer_versions WHERE answer_id IN ({am})",
                                        tuple(answer_ids)).rowcount,
        "answer_texts": conn.execute(f"DELETE FROM answer_texts WHERE id IN ({tm})",
                                     tuple(text_ids)).rowcount,
        "answers": conn.execute(f"DELETE FROM answers WHERE id IN ({am})",
                                tuple(answer_ids)).rowcount,
        "contact_details": conn.execute("DELETE FROM respondent_contacts WHERE "
                                        "respondent_id = ?", (rid,)).rowcount,
    }
    # Answers and consents no longer point at the recordings, so they can go now.
    conn.execute("UPDATE consents SET recording_id = NULL WHERE respondent_id = ?", (rid,))
    speech_deleted, blob_files = links.delete_recordings(conn, store, recording_ids)
    deleted |= speech_deleted
    deleted["audio_files"] = len(blob_files)

    deleted["exports"] = len(exports)
    deleted["job_records_scrubbed"] = _scrub_jobs(conn, sorted(set(job_ids)))

    files = list(export_files)
    for fn in ERASERS.values():
        counts, more = fn(conn, store, respondent_id=rid, session_ids=session_ids,
                          collector_ids=sorted({s["collector_id"] for s in sessions}))
        deleted |= counts
        files += more

    now = utcnow()
    conn.execute("UPDATE consents SET withdrawn_at = ?, recording_id = NULL "
                 "WHERE respondent_id = ?", (now, rid))
    conn.execute("UPDATE respondents SET withdrawn_at = ? WHERE id = ?", (now, rid))
    audit.erase_words(conn, "answer", answer_ids + merged_ids)
    audit.erase_words(conn, "answer_text", text_ids)
    audit.erase_words(conn, "respondent", [rid])
    audit.erase_words(conn, "session", session_ids)
    audit.erase_words(conn, "recording", recording_ids)  # speech erased most already
    erased = conn.execute("SELECT count(*) FROM audit_log WHERE erased = 1").fetchone()[0] \
        - erased_before
    audit.record(conn, actor, "respondent.withdraw", "respondent", rid,
                 detail="consent withdrawn; deleted " + ", ".join(
                     f"{n} {k.replace('_', ' ')}" for k, n in deleted.items())
                 + (f"; exports removed: {', '.join(str(e['id']) for e in exports)}"
                    if exports else ""))
    report = {"respondent_id": rid, "deleted": deleted, "audit_entries_erased": erased,
              "exports_removed": [e["id"] for e in exports]}
    return report, blob_files, files


def _remove_exports(conn, store: Store, survey_ids: list[int], answer_ids: list[int]
                    ) -> tuple[list[Any], list[Path]]:
    """Finished exports of the respondent's surveys that may hold their answers (any
    finished after their first answer arrived): marked `removed`, their files deleted
    after the commit. An export not finished yet is left to its job, which writes it
    again when a respondent withdrew while it ran (surveys.jobs); any file under its
    final name (a job that died before recording it done) goes too."""
    if not answer_ids or not survey_ids:
        return [], []
    from surveys.exports import export_files
    first = conn.execute(f"SELECT min(created_at) FROM answers WHERE id IN "
                         f"({_marks(answer_ids)})", tuple(answer_ids)).fetchone()[0]
    sm = _marks(survey_ids)
    rows = conn.execute(
        f"SELECT * FROM survey_exports WHERE survey_id IN ({sm}) AND status = 'done' "
        "AND finished_at >= ?", (*survey_ids, first)).fetchall()
    files: list[Path] = []
    for row in rows:
        files += export_files(store, row["id"], row["format"])
        conn.execute("UPDATE survey_exports SET status = 'removed', removed_at = ?, "
                     "removed_reason = ?, path = NULL WHERE id = ?",
                     (utcnow(), REMOVED_REASON, row["id"]))
    for row in conn.execute(f"SELECT id, format FROM survey_exports WHERE survey_id IN ({sm})"
                            " AND status NOT IN ('done', 'removed')", tuple(survey_ids)):
        files += export_files(store, row["id"], row["format"])
    return rows, files


def _scrub_jobs(conn, job_ids: list[int]) -> int:
    """Jobs about the respondent (transcriptions of their recordings, the exports removed)
    keep their ids and what happened (status, attempts), not their result or error text;
    one still waiting is cancelled."""
    if not job_ids:
        return 0
    jm = _marks(job_ids)
    conn.execute(f"UPDATE jobs SET status = 'cancelled', cancel_requested = 1, finished_at = ? "
                 f"WHERE id IN ({jm}) AND status = 'queued'", (utcnow(), *job_ids))
    conn.execute(f"UPDATE jobs SET cancel_requested = 1 WHERE id IN ({jm}) AND "
                 "status = 'running'", tuple(job_ids))
    return conn.execute(
        f"UPDATE jobs SET result_json = NULL, error = CASE WHEN error IS NULL THEN NULL ELSE "
        f"'erased: the respondent withdrew consent' END WHERE id IN ({jm})",
        tuple(job_ids)).rowcount
