"""The store: SQLite with WAL and foreign keys, numbered migrations, and the
content-addressed blob store, including what happens when things go wrong."""

import contextlib
import errno
import hashlib
import io
import os
import sqlite3
import subprocess
import sys

import pytest

from cohear.errors import NotFound, StoreError, TooLarge
from cohear.store import Store, discover_migrations
from tests import prerequisites
from tests.conftest import make_settings


def test_database_uses_wal_foreign_keys_and_busy_timeout(store):
    assert store.one("PRAGMA journal_mode")[0] == "wal"
    assert store.one("PRAGMA foreign_keys")[0] == 1
    assert store.one("PRAGMA busy_timeout")[0] >= 5000
    assert oct(os.stat(store.path).st_mode & 0o777) == "0o600"


def test_migrations_are_numbered_and_applied_once(store):
    keys = [m.key for m in discover_migrations()]
    assert "cohear/0001" in keys
    applied = {f"{r['package']}/{r['number']:04d}" for r in
               store.all("SELECT package, number FROM schema_migrations")}
    assert applied == set(keys)
    assert store.migrate() == []          # a second run changes nothing


def test_a_database_from_a_newer_cohear_is_refused(store):
    with store.transaction() as conn:
        conn.execute("INSERT INTO schema_migrations VALUES ('cohear', 9999, '9999_future', 'x')")
    with pytest.raises(StoreError) as err:
        store.migrate()
    assert "cohear/9999" in err.value.detail and "newer cohear" in err.value.fix


def test_foreign_keys_are_enforced(store):
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction() as conn:
            conn.execute("INSERT INTO tokens (user_id, prefix, token_hash, created_at, expires_at) "
                         "VALUES (999, 'p', 'h', 'now', 'later')")


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            conn.execute("INSERT INTO users (name, role, created_at) VALUES ('x', 'admin', 'now')")
            raise RuntimeError("boom")
    assert store.one("SELECT count(*) FROM users")[0] == 0


def test_corrupt_database_gets_a_clear_error(tmp_path):
    settings = make_settings(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    settings.db_path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(StoreError) as err:
        Store(settings).migrate()
    assert "corrupt" in err.value.detail
    assert "cohear db restore" in err.value.fix


def test_missing_database_with_existing_blobs_is_refused(store):
    sha, size = store.blobs.put_bytes(b"a recording")
    with store.transaction() as conn:
        store.blobs.register(conn, sha, size)
    store.close()
    os.remove(store.path)
    with pytest.raises(StoreError, match="missing but the blob store"):
        Store(store.settings)


@contextlib.contextmanager
def read_only(directory):
    """Make a directory unwritable for this process, even as root, for the block."""
    if os.geteuid() == 0:
        # root ignores permission bits; the immutable attribute stops root too.
        if subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode:
            prerequisites.missing("a file system where root can make a directory read-only "
                                  "(chattr +i: ext4, xfs or btrfs, with CAP_LINUX_IMMUTABLE), "
                                  "or run the tests as a user other than root")
        undo = ["chattr", "-i", str(directory)]
    else:
        directory.chmod(0o555)
        undo = ["chmod", "755", str(directory)]
    try:
        yield
    finally:
        subprocess.run(undo, check=True)


def test_read_only_data_directory_is_reported(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with read_only(data), pytest.raises(StoreError) as err:
        Store(make_settings(data))
    assert "not writable" in err.value.detail
    assert "COHEAR_DATA_DIR" in err.value.fix


def test_read_only_data_directory_from_the_cli_is_one_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with read_only(data):
        r = subprocess.run([sys.executable, "-m", "cohear", "db", "migrate"],
                           env={"COHEAR_DATA_DIR": str(data), "PATH": ""},
                           capture_output=True, text=True)
    assert r.returncode == 1
    assert "not writable" in r.stderr and "Traceback" not in r.stderr


# -- blobs ----------------------------------------------------------------------------
def test_blobs_are_content_addressed_and_deduplicated(store):
    data = b"RIFF....WAVEfmt a voice" * 1000
    sha, size = store.blobs.put_stream(io.BytesIO(data))
    assert sha == hashlib.sha256(data).hexdigest() and size == len(data)
    path = store.blobs.path(sha)
    assert path.relative_to(store.blobs.root).parts == (sha[:2], sha[2:4], sha)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again, _ = store.blobs.put_bytes(data)
    assert again == sha
    assert len(list(store.blobs.iter_files())) == 1
    assert not any(store.blobs.tmp.iterdir())


def test_a_user_filename_never_becomes_a_path(store):
    with pytest.raises(NotFound, match="not a blob id"):
        store.blobs.path("../../etc/passwd")


def test_blob_size_limit_leaves_no_file(store):
    with pytest.raises(TooLarge, match="limit of 10 bytes"):
        store.blobs.put_stream(io.BytesIO(b"x" * 100), max_bytes=10)
    assert list(store.blobs.iter_files()) == []
    assert not any(store.blobs.tmp.iterdir())


def test_full_disk_during_a_blob_write_is_clear_and_leaves_nothing(store, monkeypatch):
    real_write = os.write
    calls = {"n": 0}

    def write_until_full(fd, data):
        calls["n"] += 1
        if calls["n"] > 2:          # the disk fills up part-way through the file
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr("cohear.store.os.write", write_until_full)
    with pytest.raises(StoreError) as err:
        store.blobs.put_stream(io.BytesIO(os.urandom(5 * 1024 * 1024)))
    monkeypatch.undo()
    assert err.value.status == 507
    assert "disk" in err.value.detail and "free some space" in err.value.fix
    assert list(store.blobs.iter_files()) == []
    assert not any(store.blobs.tmp.iterdir())
    assert store.check()["ok"]


def test_check_finds_missing_and_damaged_blobs_and_orphans(store):
    good, n1 = store.blobs.put_bytes(b"good")
    gone, n2 = store.blobs.put_bytes(b"gone")
    bad, n3 = store.blobs.put_bytes(b"bad")
    orphan, _ = store.blobs.put_bytes(b"never registered")
    with store.transaction() as conn:
        for sha, n in ((good, n1), (gone, n2), (bad, n3)):
            store.blobs.register(conn, sha, n)
    store.blobs.path(gone).unlink()
    store.blobs.path(bad).write_bytes(b"tampered")
    report = store.check()
    assert not report["ok"]
    assert any(gone in p and "missing" in p for p in report["problems"])
    assert any(bad in p and "damaged" in p for p in report["problems"])
    assert report["orphans"] == [orphan]
    # --repair removes orphans past the grace period, never registered blobs
    report = store.check(repair=True, grace_seconds=0)
    assert report["removed"] == [orphan]
    assert store.blobs.path(good).exists()


def test_db_check_command_exit_codes(store):
    env = {"COHEAR_DATA_DIR": str(store.settings.data_dir), "PATH": ""}
    ok = subprocess.run([sys.executable, "-m", "cohear", "db", "check"], env=env,
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "ok" in ok.stdout
    sha, n = store.blobs.put_bytes(b"x")
    with store.transaction() as conn:
        store.blobs.register(conn, sha, n)
    store.blobs.path(sha).unlink()
    bad = subprocess.run([sys.executable, "-m", "cohear", "db", "check"], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "missing" in bad.stdout
