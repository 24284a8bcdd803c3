"""Job handlers of the surveys package: `surveys.export` writes one export of a survey
in the background, so big surveys never hold an HTTP request open; `surveys.english`
renders typed answers in English with the translation engine, and a newly installed
pack queues it for the answers that were waiting for one."""

from __future__ import annotations

from cohear.auth import get_user
from cohear.jobs import JobContext, handler, periodic
from cohear.store import utcnow
from surveys import english, exports


@handler(exports.EXPORT_JOB)
def run_export(ctx: JobContext) -> dict:
    store = ctx.store
    row = store.get("survey_exports", ctx.payload["export_id"], "export")
    actor = get_user(store, row["created_by"])
    path = exports.export_path(store, row["id"], row["format"])
    report = exports.export_survey(store, actor, row["survey_id"], row["format"], path,
                                   identifiable=bool(row["identifiable"]),
                                   progress=lambda done, total: ctx.progress(done / total))
    with store.transaction() as conn:
        conn.execute("UPDATE survey_exports SET status = 'done', path = ?, rows = ?, "
                     "finished_at = ? WHERE id = ?", (str(path), report["rows"], utcnow(),
                                                      row["id"]))
        result = {"export_id": row["id"], "rows": report["rows"], "format": row["format"]}
        ctx.complete(conn, result)
    return result


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
