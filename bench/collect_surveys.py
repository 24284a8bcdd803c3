#!/usr/bin/env python3
"""The field page's survey list under load, with a 20,000-question survey present.

    python3 bench/collect_surveys.py [--seconds 15] [--clients 20] [--questions 20000]

Against a real `cohear serve` on loopback, `--clients` collectors ask for
`GET /collect/api/surveys` as fast as they can: first with the demo workspace's survey
alone (the baseline), then with a survey of `--questions` questions added (written
straight into the database, as a survey made before cohear bounded questions per
survey would be; the list shows it, since it is open and has a consent question, put
last so a list that reads questions must read them all), then with the demo survey
alone again (the big one deleted), so drift on a shared machine shows. Prints p50/p99
latency and requests per second for each run, and the ratios of the big run to the mean
of the two baseline runs (1.0: the big survey costs the list nothing; the big run lists
one survey more than the baseline).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import start_server  # noqa: E402 - bench/load.py, beside this script


def prepare(data_dir: Path) -> str:
    """The demo workspace (its survey open in English); returns the demo collector's token."""
    from cohear import demo
    from cohear.settings import load_settings
    from cohear.store import Store

    store = Store(load_settings(env={}, data_dir=data_dir))
    store.migrate()
    demo.seed(store)
    store.close()
    tokens = json.loads((data_dir / "demo-tokens.json").read_text())
    return tokens["demo-collector"]["token"]


def add_big_survey(data_dir: Path, questions: int) -> int:
    from cohear.settings import load_settings
    from cohear.store import Store, utcnow

    store = Store(load_settings(env={}, data_dir=data_dir))
    now = utcnow()
    with store.transaction() as conn:
        sid = conn.execute(
            "INSERT INTO surveys (title, purpose, base_language, target_languages_json, "
            "version, created_at) VALUES ('Big legacy survey', 'bench', 'en', '[]', 1, ?)",
            (now,)).lastrowid
        conn.executemany(
            "INSERT INTO survey_questions (survey_id, survey_version, position, name, kind, "
            "text, options_json) VALUES (?, 1, ?, ?, ?, ?, ?)",
            [(sid, i + 1, f"q{i}", "consent" if i == questions - 1 else "open",
              f"Question {i}?", '{"answer": "text"}') for i in range(questions)])
        conn.execute("INSERT INTO survey_languages (survey_id, language, opened_at) "
                     "VALUES (?, 'en', ?)", (sid, now))
    store.close()
    return sid


def remove_big_survey(data_dir: Path, survey_id: int) -> None:
    from cohear.settings import load_settings
    from cohear.store import Store

    store = Store(load_settings(env={}, data_dir=data_dir))
    with store.transaction() as conn:
        conn.execute("DELETE FROM survey_languages WHERE survey_id = ?", (survey_id,))
        conn.execute("DELETE FROM survey_questions WHERE survey_id = ?", (survey_id,))
        conn.execute("DELETE FROM surveys WHERE id = ?", (survey_id,))
    store.close()


def hammer(url: str, token: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    failures = []
    lock = threading.Lock()
    stop = threading.Event()
    listed = []

    def client() -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                          timeout=120) as c:
            while not stop.is_set():
                started = time.perf_counter()
                r = c.get("/collect/api/surveys")
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    if r.status_code != 200:
                        failures.append(r.status_code)
                    elif not listed:
                        listed.append(len(r.json()))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(300)
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"requests": len(ordered), "requests_per_second": round(len(ordered) / elapsed, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
            "failures": len(failures), "surveys_listed": listed[0] if listed else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--questions", type=int, default=20_000)
    ap.add_argument("--port", type=int, default=8766)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        token = prepare(data)
        server = start_server(data, args.port)
        try:
            url = f"http://127.0.0.1:{args.port}"
            before = hammer(url, token, args.clients, args.seconds)
            big_id = add_big_survey(data, args.questions)
            with_big = hammer(url, token, args.clients, args.seconds)
            remove_big_survey(data, big_id)
            after = hammer(url, token, args.clients, args.seconds)
        finally:
            server.terminate()
            server.wait(30)
    p99 = (before["p99_ms"] + after["p99_ms"]) / 2
    rps = (before["requests_per_second"] + after["requests_per_second"]) / 2
    out = {"clients": args.clients, "seconds_each": args.seconds,
           "demo_survey_alone": before,
           f"with_a_{args.questions}_question_survey": with_big,
           "demo_survey_alone_again": after,
           "ratio_p99_big_to_demo": round(with_big["p99_ms"] / p99, 2),
           "ratio_rps_big_to_demo": round(with_big["requests_per_second"] / rps, 2)}
    print(json.dumps(out, indent=2))
    return 1 if before["failures"] or with_big["failures"] or after["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
