"""The `comms.translate` job: machine translation of many messages into many
languages in the background, with progress and cancellation between language pairs.
"""

from __future__ import annotations

from cohear.auth import SYSTEM, User
from cohear.jobs import JobContext, handler
from comms import service


@handler("comms.translate")
def translate(ctx: JobContext) -> dict:
    """Payload: {message_ids, languages, force}. A retried job skips what an earlier
    attempt already saved (translations of the current version are not redone)."""
    actor = SYSTEM
    if ctx.created_by:
        row = ctx.store.one("SELECT id, name, role FROM users WHERE id = ?", (ctx.created_by,))
        if row is not None:
            actor = User(row["id"], row["name"], row["role"])
    result = service.translate_messages(
        ctx.store, actor, [int(m) for m in ctx.payload["message_ids"]],
        ctx.payload["languages"], force=bool(ctx.payload.get("force")), progress=ctx.progress)
    return {"translated": len(result["translated"]), "skipped": len(result["skipped"]),
            "pairs": result["translated"]}
