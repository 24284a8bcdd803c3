"""Jobs and housekeeping that look after the store itself: integrity checks, removing
what dead processes left half-written, and keeping the write-ahead log short."""

from __future__ import annotations

from cohear import temporaries
from cohear.jobs import JobContext, handler, periodic
from cohear.store import Store


@handler("cohear.integrity_check")
def integrity_check(ctx: JobContext) -> dict:
    """`cohear db check` as a background job (it hashes every blob, which takes a while)."""
    report = ctx.store.check()
    return {"ok": report["ok"], "problems": report["problems"][:100],
            "orphans": len(report["orphans"]), "blobs_checked": report["blobs_checked"],
            "orphan_recordings": len(report.get("orphan_recordings", []))}


@periodic("cohear.temporaries", 600)
def clean_temporaries(store: Store) -> list[str]:
    """Half-written files whose writer died since start-up (another process's crash)."""
    return temporaries.clean(store)


@periodic("cohear.wal_checkpoint", 300)
def truncate_wal(store: Store) -> str:
    """Fold the write-ahead log into the database and truncate it, so deleted words (a
    withdrawal whose own checkpoint a long read held up) do not stay in the WAL file."""
    return store.checkpoint()
