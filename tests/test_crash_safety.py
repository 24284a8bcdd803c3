"""Crash safety: the server (with its embedded worker) is killed with SIGKILL at random
points while collectors upload and recordings are transcribed. After each restart the
store checks clean, every acknowledged upload is there with its hash, and every
transcription job completes exactly once."""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
import wave

import httpx
import pytest

from cohear.auth import create_user
from cohear.store import Store
from tests.conftest import DEMO_DATA, REPO, free_port, make_settings

ROUNDS = int(os.environ.get("COHEAR_CRASH_ROUNDS", "3"))


def variants(n: int) -> list[bytes]:
    """n different real recordings: the demo sentence with a different tail of silence."""
    with wave.open(str(DEMO_DATA / "flu-vaccine-en.wav")) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    out = []
    for i in range(n):
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setparams(params)
            w.writeframes(frames + b"\x00\x00" * (160 * (i + 1)))
        out.append(buf.getvalue())
    return out


class Server:
    def __init__(self, data_dir, port):
        env = dict(os.environ, COHEAR_DATA_DIR=str(data_dir), COHEAR_JOB_LEASE_SECONDS="2",
                   PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen([sys.executable, "-m", "cohear", "serve", "--port",
                                      str(port)], env=env, cwd=REPO,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while True:
            try:
                httpx.get(self.url + "/healthz", timeout=2)
                return
            except httpx.TransportError:
                assert self.proc.poll() is None, "the server died on start-up"
                assert time.time() < deadline, "the server did not come up"
                time.sleep(0.1)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


@pytest.mark.timeout(900)
def test_killing_the_server_loses_no_acknowledged_upload_and_no_job(tmp_path, whisper_model,
                                                                    store):
    settings = store.settings
    _, token = create_user(store, "crash-collector", "collector")
    store.close()
    files = variants(8)
    acknowledged: dict[str, int] = {}      # sha256 -> recording id, from a 201/200 answer
    rng = random.Random(20261127)
    headers = {"Authorization": f"Bearer {token}"}

    def upload_all(url: str, stop: threading.Event):
        with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
            for i, data in enumerate(files):
                sha = hashlib.sha256(data).hexdigest()
                if sha in acknowledged or stop.is_set():
                    continue
                try:
                    r = c.post("/api/recordings", files={"file": (f"answer-{i}.wav", data,
                                                                  "audio/wav")},
                               data={"transcribe": "true", "language": "en"})
                except httpx.TransportError:
                    return                      # the server died under us: not acknowledged
                assert r.status_code in (200, 201), r.text
                acknowledged[sha] = r.json()["id"]

    port = free_port()
    kills = 0
    for _ in range(ROUNDS):
        server = Server(settings.data_dir, port)
        stop = threading.Event()
        uploader = threading.Thread(target=upload_all, args=(server.url, stop))
        uploader.start()
        time.sleep(rng.uniform(0.5, 4.0))         # somewhere in uploads or transcriptions
        server.kill()
        kills += 1
        stop.set()
        uploader.join()
        check = subprocess.run([sys.executable, "-m", "cohear", "db", "check", "--json"],
                               env=dict(os.environ, COHEAR_DATA_DIR=str(settings.data_dir)),
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr

    # a last, undisturbed run: the rest is uploaded and every job finishes
    server = Server(settings.data_dir, port)
    try:
        upload_all(server.url, threading.Event())
        assert len(acknowledged) == len(files)
        live = Store(make_settings(settings.data_dir))
        deadline = time.time() + 600
        while live.one("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")[0]:
            assert time.time() < deadline, "jobs did not finish after the crashes"
            time.sleep(0.5)
    finally:
        server.stop()

    report = live.check()
    assert report["ok"], report["problems"]
    for sha, rec_id in acknowledged.items():
        row = live.one("SELECT original_sha256 FROM recordings WHERE id = ?", (rec_id,))
        assert row["original_sha256"] == sha
        assert live.blobs.hash_file(live.blobs.path(sha)) == sha
        machine = live.all("SELECT job_id FROM transcripts WHERE recording_id = ? AND "
                           "source = 'machine'", (rec_id,))
        assert len(machine) == 1, f"recording {rec_id} has {len(machine)} machine transcripts"
    jobs = live.all("SELECT status, completions FROM jobs WHERE kind = 'speech.transcribe'")
    assert jobs and all(j["status"] == "done" and j["completions"] == 1 for j in jobs)
    # nothing half-written is left behind
    assert not list(live.blobs.tmp.glob("*.part"))
    print(f"crash loop: {kills} kills, {len(acknowledged)} uploads acknowledged, "
          f"{len(jobs)} transcription jobs done once each, orphans {len(report['orphans'])}")
