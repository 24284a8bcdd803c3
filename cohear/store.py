"""The store: one SQLite database (WAL, foreign keys, busy timeout) with numbered
migrations, plus the content-addressed blob store for audio and other files.

Every domain package reads and writes through `Store`; none opens SQLite itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import importlib
import importlib.resources
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import sqlite_utils

from cohear import temporaries
from cohear.errors import NotFound, StoreError, TooLarge
from cohear.settings import Settings

# Packages whose `migrations/NNNN_name.sql` files make up the schema, in the order
# they are applied. A later package may refer to an earlier one's tables.
MIGRATION_PACKAGES = ("cohear", "language_packs", "comms", "speech", "surveys", "webcollect")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 15_000
CHUNK = 1024 * 1024


# Packages' own parts of `Store.check`: fn(store, *, repair, grace_seconds) -> a dict
# added to the report (surveys lists recordings nothing uses). Their modules are loaded
# before each check, so a check runs wherever it is called from (CLI, job, restore).
INTEGRITY_CHECKS: dict[str, Callable[..., dict]] = {}
INTEGRITY_MODULES = ("surveys.recordings",)


def integrity_check(name: str) -> Callable[[Callable[..., dict]], Callable[..., dict]]:
    def register(fn: Callable[..., dict]) -> Callable[..., dict]:
        INTEGRITY_CHECKS[name] = fn
        return fn
    return register


def utcnow() -> str:
    """Timestamps are ISO 8601 in UTC with a Z, to the microsecond."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Migration:
    package: str
    number: int
    name: str
    sql: str

    @property
    def key(self) -> str:
        return f"{self.package}/{self.number:04d}"


def discover_migrations() -> list[Migration]:
    found: list[Migration] = []
    for package in MIGRATION_PACKAGES:
        try:
            root = importlib.resources.files(package) / "migrations"
        except ModuleNotFoundError:
            continue
        if not root.is_dir():
            continue
        for entry in sorted(root.iterdir(), key=lambda e: e.name):
            m = _MIGRATION_NAME.match(entry.name)
            if m:
                found.append(Migration(package, int(m.group(1)), entry.name[:-4],
                                       entry.read_text(encoding="utf-8")))
    return found


def _open_error(path: Path, exc: Exception) -> StoreError:
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(f"the database {path} is corrupt ({exc})",
                          fix="restore the latest backup with `cohear db restore BACKUP_DIR`, "
                              "or move the file aside to start an empty database")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(f"the database {path} cannot be opened for writing ({exc})",
                          fix="make the data directory writable by the cohear user, "
                              "or point COHEAR_DATA_DIR at a writable directory")
    return StoreError(f"the database {path} cannot be used ({exc})",
                      fix="run `cohear db check` for details")


class Store:
    """The database and blob store of one data directory.

    Connections are per thread (SQLite objects may not cross threads); writes go
    through `transaction()`, which takes the write lock up front (BEGIN IMMEDIATE)
    so concurrent writers wait on the busy timeout instead of failing.
    """

    def __init__(self, settings: Settings, *, create: bool = True):
        self.settings = settings
        self.path = settings.db_path
        self.blobs = BlobStore(settings.blob_dir, settings.data_dir)
        self._local = threading.local()
        self._check_data_dir(create)

    # -- opening ---------------------------------------------------------------
    def _check_data_dir(self, create: bool) -> None:
        data_dir = self.settings.data_dir
        if not data_dir.exists():
            if not create:
                raise StoreError(f"the data directory {data_dir} does not exist",
                                 fix="run `cohear db migrate` to create it, or set COHEAR_DATA_DIR")
            try:
                data_dir.mkdir(parents=True, mode=0o700)
            except OSError as exc:
                raise StoreError(f"cannot create the data directory {data_dir} ({exc.strerror})",
                                 fix="create it by hand or set COHEAR_DATA_DIR to a writable place"
                                 ) from None
        probe = data_dir / ".write-probe"
        try:
            with open(probe, "wb") as fh:
                fh.write(b"ok")
            probe.unlink()
        except OSError as exc:
            raise StoreError(f"the data directory {data_dir} is not writable ({exc.strerror})",
                             fix="give the cohear user write permission on it, or set "
                                 "COHEAR_DATA_DIR to a writable directory") from None
        if not self.path.exists() and self.blobs.has_any():
            raise StoreError(f"the database {self.path} is missing but the blob store "
                             f"{self.blobs.root} holds files",
                             fix="restore the database with `cohear db restore BACKUP_DIR`; "
                                 "cohear will not start an empty database over existing recordings")

    def connect(self) -> sqlite3.Connection:
        """A new connection with cohear's pragmas. Most code uses `conn` instead."""
        new_file = not self.path.exists()
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT_MS / 1000)
            if new_file:
                os.chmod(self.path, 0o600)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise sqlite3.OperationalError(f"journal mode is {mode}, WAL was refused")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            # Deleted content is overwritten with zeros, not left in free pages, so a
            # withdrawn respondent's words do not survive in the file (see withdrawal).
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise _open_error(self.path, exc) from None
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.connect()
            self._local.conn = conn
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over this thread's connection, for reads and simple writes."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite_utils.Database(self.conn)
            self._local.db = db
        return db

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
            self._local.db = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write. Nested use joins the outer transaction."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"the database is busy or read-only ({exc})",
                             fix="try again; if it persists, check `cohear db check`",
                             status=503) from None
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                conn.execute("ROLLBACK")
                raise _write_error(exc) from None

    def checkpoint(self, wait_ms: int = 2000) -> str:
        """Copy the write-ahead log into the database and truncate it, so what was just
        deleted does not linger in the WAL file. 'done', or 'busy' when a long read kept
        it from finishing within `wait_ms` (a worker tries again every few minutes)."""
        conn = self.conn
        old = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:
            busy = 1
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(old)}")
        return "busy" if busy else "done"

    # -- queries -----------------------------------------------------------------
    def one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def get(self, table: str, row_id: int | str, what: str | None = None, key: str = "id"
            ) -> sqlite3.Row:
        row = self.one(f"SELECT * FROM {table} WHERE {key} = ?", (row_id,))
        if row is None:
            raise NotFound(f"{what or table.rstrip('s')} {row_id} does not exist",
                           fix="check the id")
        return row

    # -- migrations --------------------------------------------------------------
    def applied_migrations(self) -> set[str]:
        conn = self.conn
        conn.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
            package TEXT NOT NULL, number INTEGER NOT NULL, name TEXT NOT NULL,
            applied_at TEXT NOT NULL, PRIMARY KEY (package, number))""")
        return {f"{r['package']}/{r['number']:04d}" for r in
                conn.execute("SELECT package, number FROM schema_migrations")}

    def pending_migrations(self) -> list[Migration]:
        applied = self.applied_migrations()
        known = discover_migrations()
        unknown = applied - {m.key for m in known}
        if unknown:
            raise StoreError(f"the database has migrations this cohear does not know "
                             f"({', '.join(sorted(unknown))})",
                             fix="it was written by a newer cohear: upgrade cohear, "
                                 "or restore a backup made by this version")
        return [m for m in known if m.key not in applied]

    def migrate(self) -> list[str]:
        """Apply pending migrations, each in its own transaction. Returns their names.

        Foreign keys are off while a migration runs and checked before it commits, as
        SQLite's documented table rebuild needs (a table cannot change its primary key
        or constraints in place: it is created anew, filled, dropped and renamed; with
        foreign keys on, dropping the old table would delete or refuse rows that point
        at it). A migration that leaves a dangling reference is rolled back.
        """
        done = []
        conn = self.conn
        for m in self.pending_migrations():
            # PRAGMA foreign_keys is a no-op inside a transaction, so it goes first.
            try:
                conn.executescript(f"PRAGMA foreign_keys = OFF;\nBEGIN IMMEDIATE;\n{m.sql}\n;")
                dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
                if dangling:
                    first = dangling[0]
                    raise sqlite3.IntegrityError(
                        f"{len(dangling)} rows point at rows that do not exist (first: "
                        f"{first[0]} row {first[1]} -> {first[2]})")
                conn.execute("INSERT INTO schema_migrations (package, number, name, applied_at)"
                             " VALUES (?, ?, ?, ?)", (m.package, m.number, m.name, utcnow()))
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreError(f"migration {m.package}/{m.name} failed: {exc}",
                                 fix="nothing was changed by it; report this with "
                                     "`cohear db check` output") from None
            finally:
                conn.execute("PRAGMA foreign_keys = ON")
            done.append(f"{m.package}/{m.name}")
        return done

    # -- integrity ---------------------------------------------------------------
    def check(self, *, repair: bool = False, grace_seconds: float = 3600) -> dict:
        """Integrity of the database and blob store. Returns a report; `ok` is the verdict.

        Orphan blob files (written, but their database row never committed, e.g. after a
        crash mid-upload) are listed, and with `repair` those older than the grace period
        are removed, with every temporary whose writer is gone (`cohear.temporaries`).
        Each package's own check (`integrity_check`) adds its findings, and repairs with
        the same grace period.
        """
        report: dict = {"database": str(self.path), "problems": [], "orphans": [], "removed": []}
        for name in INTEGRITY_MODULES:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if not (exc.name and (exc.name == name or name.startswith(exc.name + "."))):
                    raise
        if not self.pending_migrations():  # a package's tables may not be there yet
            for fn in INTEGRITY_CHECKS.values():
                report |= fn(self, repair=repair, grace_seconds=grace_seconds)
        integrity = [r[0] for r in self.conn.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            report["problems"] += [f"integrity_check: {line}" for line in integrity]
        fk = self.conn.execute("PRAGMA foreign_key_check").fetchall()
        for row in fk:
            report["problems"].append(f"foreign key: {row[0]} row {row[1]} -> {row[2]}")
        pending = self.pending_migrations()
        if pending:
            report["problems"].append("pending migrations: " + ", ".join(m.key for m in pending))
        known: set[str] = set()
        checked = 0
        for row in self.conn.execute("SELECT sha256, size, purged_at FROM blobs"):
            sha = row["sha256"]
            known.add(sha)
            if row["purged_at"]:
                if self.blobs.path(sha).exists():
                    report["problems"].append(f"blob {sha} was purged on {row['purged_at']} "
                                              "but its file is still there")
                continue
            path = self.blobs.path(sha)
            if not path.exists():
                report["problems"].append(f"blob {sha} is missing from {path}")
                continue
            actual = self.blobs.hash_file(path)
            checked += 1
            if actual != sha:
                report["problems"].append(f"blob {sha} is damaged: its content hashes to {actual}")
        now = time.time()
        for sha, path in self.blobs.iter_files():
            if sha not in known:
                report["orphans"].append(sha)
                if repair and now - path.stat().st_mtime > grace_seconds:
                    path.unlink(missing_ok=True)
                    report["removed"].append(sha)
        # Half-written files of processes that died (a live writer's are left alone).
        report["partial_files_removed"] = temporaries.clean(self) if repair else []
        report["blobs_checked"] = checked
        report["ok"] = not report["problems"]
        return report


def _write_error(exc: BaseException) -> StoreError:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "full" in str(exc).lower():
        return StoreError(f"the disk holding the data directory is full ({exc})",
                          fix="free some space (or move COHEAR_DATA_DIR) and try again; "
                              "nothing was saved", status=507)
    if "readonly" in str(exc).lower() or "read-only" in str(exc).lower():
        return StoreError(f"the database is read-only ({exc})",
                          fix="make the data directory writable by the cohear user")
    return StoreError(f"the write failed ({exc})", fix="nothing was saved; try again")


class BlobStore:
    """Content-addressed files: `blobs/ab/cd/<sha256>`. Immutable once written.

    A blob is written to a temporary file in the same directory tree, fsynced and
    renamed into place, so a reader never sees half a file. The name is always the
    hash of the content: user-supplied filenames never become paths. The database
    row (`blobs` table) is added by `register()` inside the caller's transaction.
    """

    def __init__(self, root: Path, data_dir: Path | None = None):
        self.root = root
        self.tmp = root / "tmp"
        self.data_dir = data_dir or root.parent  # where the owners of temporaries are kept

    def path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
            raise NotFound(f"{sha256!r} is not a blob id", fix="blob ids are sha256 hex digests")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has_any(self) -> bool:
        return any(True for _ in self.iter_files())

    def iter_files(self) -> Iterator[tuple[str, Path]]:
        if not self.root.exists():
            return
        for first in sorted(self.root.iterdir()):
            if not re.fullmatch(r"[0-9a-f]{2}", first.name):
                continue
            for second in sorted(first.iterdir()):
                for f in sorted(second.iterdir()):
                    if re.fullmatch(r"[0-9a-f]{64}", f.name):
                        yield f.name, f

    @staticmethod
    def hash_file(path: Path) -> str:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                h.update(chunk)
        return h.hexdigest()

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        import io
        return self.put_stream(io.BytesIO(data))

    def put_stream(self, stream: IO[bytes], max_bytes: int | None = None) -> tuple[str, int]:
        """Store the stream's bytes; returns (sha256, size). Existing content is not rewritten."""
        self.tmp.mkdir(parents=True, exist_ok=True, mode=0o700)
        h = hashlib.sha256()
        size = 0
        fd = None
        tmp_path = temporaries.path(self.data_dir, self.tmp, "blob")
        try:
            fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(f"the file is larger than the limit of {max_bytes:,} bytes",
                                   fix="send a smaller file or raise the limit in settings")
                h.update(chunk)
                view = memoryview(chunk)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            os.fsync(fd)
            os.close(fd)
            fd = None
            sha = h.hexdigest()
            final = self.path(sha)
            if final.exists():
                tmp_path.unlink()
                return sha, size
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(tmp_path, final)
            dir_fd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            return sha, size
        except OSError as exc:
            raise _write_error(exc) from None
        finally:
            if fd is not None:
                os.close(fd)
            if tmp_path.exists():
                tmp_path.unlink()

    def register(self, conn: sqlite3.Connection, sha256: str, size: int,
                 media_type: str = "application/octet-stream") -> None:
        """Record the blob in the database (inside the caller's transaction)."""
        conn.execute("INSERT OR IGNORE INTO blobs (sha256, size, media_type, created_at) "
                     "VALUES (?, ?, ?, ?)", (sha256, size, media_type, utcnow()))

    def open(self, sha256: str) -> IO[bytes]:
        path = self.path(sha256)
        if not path.exists():
            raise NotFound(f"blob {sha256} is missing from the blob store",
                           fix="run `cohear db check`; restore from backup if needed")
        return open(path, "rb")

    def read(self, sha256: str) -> bytes:
        with self.open(sha256) as fh:
            return fh.read()

    def purge(self, conn: sqlite3.Connection, sha256: str, reason: str) -> None:
        """Mark the blob's content as deleted on purpose (in the caller's transaction);
        call `delete_file` after commit. The row stays so references remain valid."""
        conn.execute("UPDATE blobs SET purged_at = ?, purge_reason = ? WHERE sha256 = ? "
                     "AND purged_at IS NULL", (utcnow(), reason, sha256))

    def forget(self, conn: sqlite3.Connection, sha256: str) -> None:
        """Drop the row (in the caller's transaction); call `delete_file` after commit."""
        conn.execute("DELETE FROM blobs WHERE sha256 = ?", (sha256,))

    def delete_file(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
