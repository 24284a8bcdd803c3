"""Job handlers of the surveys package: `surveys.export` writes one export of a survey
in the background, so big surveys never hold an HTTP request open; `surveys.english`
renders typed answers in English with the translation engine, and a newly installed
pack queues it for the answers that were waiting for one.;
and the cleaner that removes export files no finished export owns (a crash between
writing and recording)."""

from __future__ import annotations

import os
import re
import shutil

from cohear import temporaries
from cohear.auth import get_user
from cohear.errors import CohearError
from cohear.jobs import JobContext, handler, periodic
from cohear.store import Store, utcnow
from surveys import english, exports

# A respondent withdrawing while their survey is exported makes the export start again;
# after this many tries in a row the job gives up (and is retried later as a job).
EXPORT_TRIES = 3
_FINAL = re.compile(r"^export-(\d+)\.")


def _withdrawn(conn, survey_id: int) -> int:
    return conn.execute("SELECT count(*) FROM respondents WHERE withdrawn_at IS NOT NULL AND "
                        "id IN (SELECT respondent_id FROM survey_sessions WHERE survey_id = ?)",
                        (survey_id,)).fetchone()[0]


@handler(exports.EXPORT_JOB)
def run_export(ctx: JobContext) -> dict:
    """Write the export in a temporary folder, then, in one transaction with the job's
    completion, check no respondent of the survey withdrew meanwhile and rename the
    files into place. A withdrawal that landed while the rows were read means the file
    may hold their words: it is thrown away and written again."""
    store = ctx.store
    row = store.get("survey_exports", ctx.payload["export_id"], "export")
    actor = get_user(store, row["created_by"])
    finals = exports.export_files(store, row["id"], row["format"])
    for _ in range(EXPORT_TRIES):
        # Read inside a write transaction: a withdrawal either committed before it (its
        # rows are already gone) or counts after it.
        with store.transaction() as conn:
            withdrawn = _withdrawn(conn, row["survey_id"])
        staging = temporaries.path(store.settings.data_dir, finals[0].parent,
                                   f"export-{row['id']}")
        staging.mkdir(mode=0o700)
        try:
            report = exports.export_survey(
                store, actor, row["survey_id"], row["format"], staging / finals[0].name,
                identifiable=bool(row["identifiable"]),
                progress=lambda done, total: ctx.progress(done / total))
            with store.transaction() as conn:
                if _withdrawn(conn, row["survey_id"]) != withdrawn:
                    continue
                for final in finals:
                    if (staging / final.name).exists():
                        os.replace(staging / final.name, final)
                conn.execute("UPDATE survey_exports SET status = 'done', path = ?, rows = ?, "
                             "finished_at = ? WHERE id = ?",
                             (str(finals[0]), report["rows"], utcnow(), row["id"]))
                result = {"export_id": row["id"], "rows": report["rows"],
                          "format": row["format"]}
                ctx.complete(conn, result)
            return result
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    raise CohearError(f"respondents withdrew {EXPORT_TRIES} times while export {row['id']} "
                      "was written", fix="it is tried again shortly", status=503)


@temporaries.cleaner("surveys.exports")
def remove_unowned_exports(store: Store) -> list[str]:
    """Files under an export's final name whose export is not `done` (the process died
    between renaming them and recording it, or after a withdrawal removed the export
    and before its files went). Checked under the write lock, which an export job holds
    from renaming its files to recording them."""
    folder = store.settings.data_dir / "exports"
    if not folder.is_dir():
        return []
    removed = []
    with store.transaction() as conn:
        done = {r[0] for r in conn.execute("SELECT id FROM survey_exports WHERE status = 'done'")}
        for entry in sorted(folder.iterdir()):
            m = _FINAL.match(entry.name)
            if m and int(m.group(1)) not in done and entry.is_file():
                entry.unlink(missing_ok=True)
                removed.append(f"exports/{entry.name}")
    return removed


@handler(english.ENGLISH_JOB)
def render_english(ctx: JobContext) -> dict:
    """Payload: {answer_ids}. Ids in the result, never words."""
    done = english.render(ctx.store, [int(a) for a in ctx.payload["answer_ids"]],
                          progress=ctx.progress)
    return {"rendered": len(done["rendered"]), "skipped": len(done["skipped"]),
            "answer_ids": done["rendered"]}


def english_for_waiting_answers(store, pack: dict) -> None:
    """A pack into English arrived: queue the typed answers in its language that have no
    English of their newest words (e.g. typed before any pack was installed)."""
    if pack.get("target") == "en":
        english.queue_english(store, english.waiting_answers(store, pack["source"]))


try:
    from language_packs.packs import on_install
except ModuleNotFoundError:  # pragma: no cover - cohear without language_packs
    pass
else:
    on_install(english_for_waiting_answers)


@periodic("surveys.audio_retention", 3600)
def audio_retention(store) -> dict | None:
    """Apply the audio retention setting hourly (nothing happens while it is 0)."""
    if store.settings.audio_retention_days <= 0:
        return None
    from surveys.retention import apply_retention
    return apply_retention(store)


@periodic("surveys.empty_sessions", 3600)
def empty_sessions(store) -> dict | None:
    """Remove sessions left empty and unfinished (see surveys.sessions)."""
    from surveys.sessions import remove_abandoned
    removed = remove_abandoned(store)
    return {"removed": removed} if removed else None
