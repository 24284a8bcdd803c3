"""Jobs that look after the store itself."""

from __future__ import annotations

from cohear.jobs import JobContext, handler


@handler("cohear.integrity_check")
def integrity_check(ctx: JobContext) -> dict:
    """`cohear db check` as a background job (it hashes every blob, which takes a while)."""
    report = ctx.store.check()
    return {"ok": report["ok"], "problems": report["problems"][:100],
            "orphans": len(report["orphans"]), "blobs_checked": report["blobs_checked"]}
