"""Consistent online backups and restores of a data directory.

A backup is a folder: `cohear.db` (SQLite's online backup API, so writers can
carry on), `blobs/` (every blob the backed-up database refers to; blobs are
immutable, so copying them after the snapshot is safe) and `manifest.json`.
It is built under a temporary name and renamed when complete, so a folder named as
asked for is always a whole backup.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from cohear import temporaries
from cohear.errors import BadInput, Conflict, StoreError
from cohear.store import BlobStore, Store, utcnow

Progress = Callable[[int, int], None]


def _sha(path: Path) -> str:
    return BlobStore.hash_file(path)


def backup(store: Store, dest: Path, progress: Progress | None = None) -> dict:
    dest = dest.resolve()
    if dest.exists() and any(dest.iterdir()):
        raise Conflict(f"{dest} already exists and is not empty",
                       fix="choose a new folder for the backup")
    # Named for this process (`cohear.temporaries`), so if it dies mid-backup the next
    # start-up on this data directory removes the half-made copy wherever it is.
    partial = temporaries.path(store.settings.data_dir, dest.parent, dest.name)
    partial.mkdir(mode=0o700)
    try:
        target = sqlite3.connect(partial / "cohear.db")
        try:
            store.conn.backup(target, pages=2048)
        finally:
            target.close()
        snap = sqlite3.connect(partial / "cohear.db")
        try:
            shas = [r[0] for r in snap.execute("SELECT sha256 FROM blobs ORDER BY sha256")]
            migrations = [f"{p}/{n:04d}" for p, n in
                          snap.execute("SELECT package, number FROM schema_migrations ORDER BY 1, 2")]
        finally:
            snap.close()
        out_blobs = BlobStore(partial / "blobs")
        for i, sha in enumerate(shas, 1):
            src = store.blobs.path(sha)
            dst = out_blobs.path(sha)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            if _sha(dst) != sha:
                raise StoreError(f"blob {sha} is damaged in the live store",
                                 fix="run `cohear db check`; the backup was not made")
            if progress:
                progress(i, len(shas))
        manifest = {"format": 1, "created_at": utcnow(), "blobs": len(shas),
                    "database_sha256": _sha(partial / "cohear.db"), "migrations": migrations}
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2))
        for root, _dirs, files in os.walk(partial):
            for name in files:
                os.chmod(os.path.join(root, name), 0o600)
        if dest.exists():
            dest.rmdir()
        os.replace(partial, dest)
    except FileNotFoundError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise StoreError(f"a blob is missing from the live store ({exc.filename})",
                         fix="run `cohear db check`; the backup was not made") from None
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise StoreError(f"the backup could not be written to {dest} ({exc.strerror})",
                         fix="check free space and permissions there; nothing was kept") from None
    return manifest | {"path": str(dest)}


def restore(source: Path, data_dir: Path, progress: Progress | None = None) -> dict:
    """Copy a backup into an empty (or new) data directory, verifying every file."""
    source = source.resolve()
    manifest_path = source / "manifest.json"
    if not manifest_path.exists():
        raise BadInput(f"{source} is not a cohear backup (no manifest.json)",
                       fix="point at a folder made by `cohear db backup`")
    manifest = json.loads(manifest_path.read_text())
    if _sha(source / "cohear.db") != manifest["database_sha256"]:
        raise BadInput(f"the database in {source} does not match its manifest",
                       fix="the backup is damaged; use another one")
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if (data_dir / "cohear.db").exists() or BlobStore(data_dir / "blobs").has_any():
        raise Conflict(f"{data_dir} already holds a cohear database or blobs",
                       fix="restore into a new, empty data directory")
    src_blobs = BlobStore(source / "blobs")
    files = list(src_blobs.iter_files())
    dst_blobs = BlobStore(data_dir / "blobs")
    for i, (sha, path) in enumerate(files, 1):
        if _sha(path) != sha:
            raise BadInput(f"blob {sha} in the backup is damaged", fix="use another backup")
        with open(path, "rb") as fh:  # written under a temporary name, then renamed
            dst_blobs.put_stream(fh)
        if progress:
            progress(i, len(files))
    tmp = temporaries.path(data_dir, data_dir, "cohear.db.restoring")
    shutil.copyfile(source / "cohear.db", tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, data_dir / "cohear.db")
    return {"restored_from": str(source), "blobs": len(files), "data_dir": str(data_dir),
            "created_at": manifest["created_at"]}


def database_digest(path: Path) -> str:
    """A digest of every row of every table, for comparing two databases' content."""
    conn = sqlite3.connect(path)
    try:
        h = hashlib.sha256()
        for line in conn.iterdump():
            h.update(line.encode("utf-8"))
        return h.hexdigest()
    finally:
        conn.close()
