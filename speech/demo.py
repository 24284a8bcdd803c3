"""Demo recordings for `cohear demo`: the two spoken WAVs in cohear/demo_data, uploaded
as the demo collector's answers and queued for transcription (never twice)."""

from __future__ import annotations

from cohear.auth import User
from cohear.store import Store


def seed(store: Store, users: dict[str, User]) -> list[str]:
    from cohear.demo import demo_recordings
    from speech import service
    collector = users["collector"]
    lines = []
    for path in demo_recordings():
        with open(path, "rb") as fh:
            rec = service.ingest(store, fh, filename=path.name, content_type="audio/wav",
                                 uploaded_by=collector, language_hint="en")
        if rec.duplicate and rec.job:
            lines.append(f"recording {rec.id} ({path.name}) is already here")
            continue
        job_id = service.queue_transcription(store, rec.id, collector)
        lines.append(f"recording {rec.id} ({path.name}) uploaded; transcription job {job_id}")
    return lines
