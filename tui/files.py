"""Files the workspace writes and reads for people: translator files (XLIFF, PO) written
whole under a temporary name and renamed, owner-only, in the data directory's `exports`
folder unless another path is typed; in the browser workspace also handed to the browser
as a download (the file on the server stays where it was written)."""

from __future__ import annotations

import os
from pathlib import Path

from cohear.store import Store

MAX_READ_BYTES = 5 * 1024 * 1024      # the translator-file limit of comms.exchange


def exports_folder(store: Store) -> Path:
    folder = store.settings.data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def write_whole(path: Path, data: bytes) -> Path:
    """Write `data` to `path` so that no half-written file is ever under its name."""
    tmp = path.with_name(f".{path.name}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def deliver(app, path: Path) -> None:
    """In a browser, also offer the file as a download; in a terminal it is on disk."""
    if getattr(app, "is_web", False):
        app.deliver_binary(path, save_filename=path.name)


def read_upto(path: Path, limit: int = MAX_READ_BYTES) -> bytes:
    """A file's bytes, reading one byte past `limit` at most (the service refuses more)."""
    with open(path, "rb") as fh:
        return fh.read(limit + 1)
