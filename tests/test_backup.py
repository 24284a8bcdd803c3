"""`cohear db backup` and `restore`: an identical database and blob set in a new place."""

import json
import subprocess
import sys
import threading
import time

import pytest

from cohear import audit
from cohear.backup import backup, database_digest, restore
from cohear.errors import BadInput, Conflict
from cohear.store import Store
from tests.conftest import make_settings


def fill(store, n=5):
    shas = []
    for i in range(n):
        sha, size = store.blobs.put_bytes(f"recording {i}".encode() * 500)
        with store.transaction() as conn:
            store.blobs.register(conn, sha, size, "audio/wav")
        shas.append(sha)
    return shas


def test_backup_then_restore_gives_an_identical_database_and_blobs(store, people, tmp_path):
    shas = fill(store)
    dest = tmp_path / "backup-1"
    env = {"COHEAR_DATA_DIR": str(store.settings.data_dir), "PATH": ""}
    subprocess.run([sys.executable, "-m", "cohear", "db", "backup", str(dest)], env=env,
                   check=True, capture_output=True)
    assert json.loads((dest / "manifest.json").read_text())["blobs"] == len(shas)
    new_dir = tmp_path / "restored"
    r = subprocess.run([sys.executable, "-m", "cohear", "db", "restore", str(dest), "--into",
                        str(new_dir)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "check: ok" in r.stdout
    store.close()
    assert database_digest(new_dir / "cohear.db") == database_digest(store.path)
    original = {sha: p.read_bytes() for sha, p in store.blobs.iter_files()}
    restored = Store(make_settings(new_dir))
    assert {sha: p.read_bytes() for sha, p in restored.blobs.iter_files()} == original
    assert restored.check()["ok"]
    token = people["admin"][1]
    from cohear.auth import authenticate
    assert authenticate(restored, token).name == "test-admin"


def test_restore_refuses_a_non_empty_target_and_a_damaged_backup(store, tmp_path):
    fill(store, 2)
    dest = tmp_path / "b"
    backup(store, dest)
    with pytest.raises(Conflict, match="already holds"):
        restore(dest, store.settings.data_dir)
    some_blob = next(iter((dest / "blobs").rglob("*"))).parent
    victim = next(p for p in (dest / "blobs").rglob("*") if p.is_file())
    victim.write_bytes(b"rot")
    with pytest.raises(BadInput, match="damaged"):
        restore(dest, tmp_path / "fresh")
    assert some_blob.exists()
    with pytest.raises(BadInput, match="not a cohear backup"):
        restore(tmp_path / "nowhere", tmp_path / "fresh2")


def test_backup_refuses_an_existing_folder(store, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    with pytest.raises(Conflict):
        backup(store, tmp_path / "full")
    assert (tmp_path / "full" / "x").read_text() == "keep me"


class SnapshotGate:
    """The store's connection, with `backup()` (the snapshot) held until the writer has
    committed `writes` more rows: a fake only to make live writes land between the
    backup starting and its snapshot, which on a fast machine they otherwise never do."""

    def __init__(self, conn, committed: list, writes: int):
        self._conn, self._committed, self._writes = conn, committed, writes
        self.before: list[str] | None = None
        self.during: list[str] = []

    def backup(self, *args, **kwargs):
        self.before = list(self._committed)
        deadline = time.monotonic() + 60
        while len(self._committed) < len(self.before) + self._writes:
            assert time.monotonic() < deadline, "the writer stopped writing"
            time.sleep(0.005)
        self.during = self._committed[len(self.before):]
        return self._conn.backup(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_backup_taken_during_writes_holds_them_and_every_blob_row_has_its_file(store,
                                                                                  tmp_path):
    """A writer keeps committing blobs while the backup runs; rows committed after the
    backup began but before its snapshot are in the restored copy with their files."""
    stop = threading.Event()
    errors, committed = [], []

    def writer():
        s = Store(store.settings)
        i = 0
        try:
            while not stop.is_set():
                sha, size = s.blobs.put_bytes(f"live {i}".encode() * 100)
                with s.transaction() as conn:
                    s.blobs.register(conn, sha, size)
                    audit.record(conn, None, "test.write", "blob", sha)
                committed.append(sha)
                i += 1
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            s.close()

    fill(store, 20)
    gate = SnapshotGate(store.conn, committed, writes=5)
    store._local.conn = gate  # this thread's connection, which backup() uses
    t = threading.Thread(target=writer)
    t.start()
    try:
        backup(store, tmp_path / "live")
    finally:
        stop.set()
        t.join()
        store._local.conn = gate._conn
    assert not errors
    assert gate.before is not None, "the backup never took its snapshot through the store"
    assert len(gate.during) >= 5
    restore(tmp_path / "live", tmp_path / "restored")
    restored = Store(make_settings(tmp_path / "restored"))
    blobs = {r[0] for r in restored.all("SELECT sha256 FROM blobs")}
    # The writes committed while the backup was under way, before its snapshot, are there.
    assert set(gate.during) <= blobs
    assert len(blobs & set(committed)) >= len(gate.before) + len(gate.during)
    # Every blob row has its file, with the right content.
    missing = [sha for sha in blobs if not restored.blobs.path(sha).is_file()]
    assert missing == []
    report = restored.check()
    assert report["ok"], report["problems"]
    audited = {r[0] for r in restored.all("SELECT entity_id FROM audit_log "
                                          "WHERE action = 'test.write'")}
    assert audited <= blobs
