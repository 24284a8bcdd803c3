#!/usr/bin/env python3
"""Load on loopback: collectors run sessions and upload voice answers while reviewers
read queues and researchers export, against a real `cohear serve` process.

    python3 bench/load.py [--seconds 60] [--collectors 4] [--reviewers 2] [--researchers 1]

Prints requests per second held, p50/p99 latency per kind of request, errors by status,
and how many responses mentioned "database is locked" (the target is none). The baseline
is the same service answering /healthz alone, measured first in the same run, so the
ratio says how much the mixed load costs. Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEMO_WAV = ROOT / "cohear" / "demo_data" / "flu-vaccine-en.wav"


def voice_answer(i: int) -> bytes:
    """The demo sentence with a different tail each time, so every upload is new."""
    with wave.open(str(DEMO_WAV)) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setparams(params)
        out.writeframes(frames + (i % 65536).to_bytes(2, "little") * (50 + i % 997))
    return buf.getvalue()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.locked = 0
        self.errors: list[str] = []

    def record(self, kind: str, started: float, response: httpx.Response | None, error=None):
        with self.lock:
            self.latency[kind].append(time.perf_counter() - started)
            if response is None:
                self.status[kind][0] += 1
                self.errors.append(f"{kind}: {error}")
                return
            self.status[kind][response.status_code] += 1
            if "database is locked" in response.text:
                self.locked += 1
            if response.status_code >= 500:
                self.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")

    def summary(self, seconds: float) -> dict:
        out = {"seconds": round(seconds, 1), "kinds": {}, "database_is_locked": self.locked}
        total = 0
        for kind, values in sorted(self.latency.items()):
            values = sorted(values)
            total += len(values)
            out["kinds"][kind] = {
                "requests": len(values),
                "p50_ms": round(statistics.median(values) * 1000, 1),
                "p99_ms": round(values[min(len(values) - 1, int(len(values) * 0.99))] * 1000, 1),
                "statuses": dict(self.status[kind]),
            }
        out["requests"] = total
        out["requests_per_second"] = round(total / seconds, 1)
        out["server_errors"] = sum(n for k in self.status.values() for s, n in k.items()
                                   if s >= 500 or s == 0)
        return out


def call(stats: Stats, kind: str, client: httpx.Client, method: str, url: str, **kw):
    started = time.perf_counter()
    try:
        r = client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        stats.record(kind, started, None, exc)
        return None
    stats.record(kind, started, r)
    return r


def collector(url, token, survey, stats, stop, offset, acknowledged):
    q = {x["kind"]: x["id"] for x in survey["questions"]}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as c:
        i = offset
        while not stop.is_set():
            r = call(stats, "session.start", c, "POST", "/api/sessions",
                     json={"survey_id": survey["id"], "language": "en"})
            if r is None or r.status_code != 201:
                continue
            sid = r.json()["id"]
            call(stats, "session.consent", c, "POST", f"/api/sessions/{sid}/consent",
                 data={"method": "tick"})
            i += 1
            r = call(stats, "answer.voice", c, "POST", f"/api/sessions/{sid}/answers",
                     data={"question_id": str(q["open"])},
                     files={"file": (f"a{i}.wav", voice_answer(i), "audio/wav")})
            if r is not None and r.status_code == 201:
                acknowledged.append(r.json()["id"])
            call(stats, "answer.scale", c, "POST", f"/api/sessions/{sid}/answers",
                 data={"question_id": str(q["scale"]), "choices": "4"})


def reviewer(url, token, stats, stop):
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as c:
        while not stop.is_set():
            r = call(stats, "queue.read", c, "GET", "/api/answers", params={"limit": 50})
            if r is not None and r.status_code == 200 and r.json():
                items = r.json() if isinstance(r.json(), list) else r.json().get("items", [])
                if items:
                    call(stats, "answer.read", c, "GET", f"/api/answers/{items[0]['id']}")
            call(stats, "recordings.read", c, "GET", "/api/recordings", params={"limit": 50})


def researcher(url, token, survey_id, stats, stop):
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as c:
        while not stop.is_set():
            r = call(stats, "export.request", c, "POST", "/api/exports",
                     json={"survey_id": survey_id, "format": "csv"})
            if r is None or r.status_code != 202:
                stop.wait(1)
                continue
            export_id = r.json()["id"]
            deadline = time.time() + 60
            while not stop.is_set() and time.time() < deadline:
                r = call(stats, "export.poll", c, "GET", f"/api/exports/{export_id}")
                if r is not None and r.json().get("status") in ("done", "failed"):
                    break
                stop.wait(0.5)


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, COHEAR_DATA_DIR=str(data_dir))
    cohear = [sys.executable, "-m", "cohear"]
    subprocess.run(cohear + ["db", "migrate"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(cohear + ["serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return proc
        except httpx.TransportError:
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("cohear serve did not start") from None
            time.sleep(0.2)


def prepare(data_dir: Path, collectors: int, reviewers: int, researchers: int) -> dict:
    """People and an open survey, made through cohear's own services."""
    from cohear.auth import create_user
    from cohear.settings import load_settings
    from cohear.store import Store
    from surveys import service

    store = Store(load_settings(env={}, data_dir=data_dir))
    store.migrate()
    tokens = {"collector": [], "reviewer": [], "researcher": []}
    people = {}
    for role, n in (("collector", collectors), ("reviewer", reviewers),
                    ("researcher", researchers), ("communicator", 1)):
        for i in range(n):
            user, token = create_user(store, f"load-{role}-{i}", role)
            people[role] = user
            tokens.setdefault(role, []).append(token)
    survey = service.create_survey(
        store, people["communicator"], title="Load survey", purpose="load test",
        base_language="en", target_languages=[], questions=[
            {"kind": "consent", "name": "consent", "text": "Do you agree to take part?"},
            {"kind": "open", "name": "open", "options": {"answer": "either"},
             "text": "What would help you most?"},
            {"kind": "scale", "name": "scale", "text": "How easy was it?",
             "options": {"min": 1, "max": 5}}])
    service.open_language(store, people["communicator"], survey["id"], "en")
    store.close()
    return {"tokens": tokens, "survey": survey}


def run_load(url: str, setup: dict, seconds: float) -> tuple[dict, list]:
    stats, stop, acknowledged = Stats(), threading.Event(), []
    threads = []
    for n, token in enumerate(setup["tokens"]["collector"]):
        threads.append(threading.Thread(target=collector, args=(
            url, token, setup["survey"], stats, stop, n * 100000, acknowledged)))
    for token in setup["tokens"]["reviewer"]:
        threads.append(threading.Thread(target=reviewer, args=(url, token, stats, stop)))
    for token in setup["tokens"]["researcher"]:
        threads.append(threading.Thread(target=researcher, args=(
            url, token, setup["survey"]["id"], stats, stop)))
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(120)
    return stats.summary(time.perf_counter() - started), acknowledged


def baseline(url: str, seconds: float) -> float:
    """Requests per second for /healthz alone, from one client."""
    n = 0
    end = time.perf_counter() + seconds
    with httpx.Client(base_url=url, timeout=30) as c:
        while time.perf_counter() < end:
            c.get("/healthz")
            n += 1
    return n / seconds


def main() -> int:
    sys.path.insert(0, str(ROOT))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--collectors", type=int, default=4)
    ap.add_argument("--reviewers", type=int, default=2)
    ap.add_argument("--researchers", type=int, default=1)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        setup = prepare(data, args.collectors, args.reviewers, args.researchers)
        server = start_server(data, args.port)
        try:
            url = f"http://127.0.0.1:{args.port}"
            base = baseline(url, min(10.0, args.seconds / 4))
            summary, acknowledged = run_load(url, setup, args.seconds)
        finally:
            server.terminate()
            server.wait(30)
    summary["acknowledged_voice_answers"] = len(acknowledged)
    summary["baseline_healthz_rps"] = round(base, 1)
    summary["ratio_mixed_to_baseline_rps"] = round(summary["requests_per_second"] / base, 3)
    print(json.dumps(summary, indent=2))
    return 1 if summary["server_errors"] or summary["database_is_locked"] else 0


if __name__ == "__main__":
    sys.exit(main())
