"""`cohear db backup` and `restore`: an identical database and blob set in a new place."""

import json
import subprocess
import sys
import threading

import pytest

from cohear import audit
from cohear.backup import backup, database_digest, restore
from cohear.errors import BadInput, Conflict
from cohear.store import BlobStore, Store
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


def test_a_backup_taken_during_writes_restores_consistently(store, tmp_path):
    """Writers keep going while the backup runs; the restored copy is a consistent snapshot."""
    stop = threading.Event()
    errors = []

    def writer():
        s = Store(store.settings)
        i = 0
        try:
            while not stop.is_set():
                sha, size = s.blobs.put_bytes(f"live {i}".encode())
                with s.transaction() as conn:
                    s.blobs.register(conn, sha, size)
                    audit.record(conn, None, "test.write", "blob", sha)
                i += 1
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            s.close()

    fill(store, 20)
    t = threading.Thread(target=writer)
    t.start()
    try:
        backup(store, tmp_path / "live")
    finally:
        stop.set()
        t.join()
    assert not errors
    restore(tmp_path / "live", tmp_path / "restored")
    restored = Store(make_settings(tmp_path / "restored"))
    report = restored.check()
    assert report["ok"], report["problems"]
    # every blob row has its file, and every audit entry its blob
    blobs = {r[0] for r in restored.all("SELECT sha256 FROM blobs")}
    audited = {r[0] for r in restored.all("SELECT entity_id FROM audit_log WHERE action = 'test.write'")}
    assert audited <= blobs


def test_a_restore_cut_short_leaves_no_half_written_blob(store, tmp_path, monkeypatch):
    """Blobs are restored through the blob store (temporary name, fsync, rename): a disk
    that fills up mid-file leaves no half file under a blob's name, which `db check`
    would call damaged and a second restore would refuse to write over."""
    import os as os_module

    from cohear.errors import StoreError
    fill(store, 3)
    dest = tmp_path / "backup-2"
    backup(store, dest)
    real_write, real_sendfile, written = os_module.write, os_module.sendfile, []

    def write_until_full(fd, data):  # the disk takes a little, then is full
        if sum(written) > 2000:
            raise OSError(28, "No space left on device")
        written.append(len(data) // 2)
        return real_write(fd, data[:len(data) // 2 or 1])

    def sendfile_until_full(out_fd, in_fd, offset, count):  # the same, for copyfile's path
        if sum(written) > 2000:
            raise OSError(28, "No space left on device")
        sent = real_sendfile(out_fd, in_fd, offset, min(count, 1000))
        written.append(sent)
        return sent

    monkeypatch.setattr(os_module, "write", write_until_full)
    monkeypatch.setattr(os_module, "sendfile", sendfile_until_full)
    target = tmp_path / "restored"
    with pytest.raises((StoreError, OSError)):
        restore(dest, target)
    monkeypatch.setattr(os_module, "write", real_write)
    monkeypatch.setattr(os_module, "sendfile", real_sendfile)
    assert written, "the restore never wrote a blob"
    # Whatever is under a blob's name is that whole blob.
    blobs = BlobStore(target / "blobs")
    assert all(blobs.hash_file(p) == sha for sha, p in blobs.iter_files())
    assert list(blobs.iter_files()) == []  # the disk filled during the first one
