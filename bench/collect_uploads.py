"""The field page's sending-at-most-once: what an idempotency key costs per answer.

Stores the same typed answers twice, each in a fresh data directory: once straight
through surveys (the baseline), once through the field page's service with a key per
answer, then sends every keyed answer again (each recognised, none stored). Prints
the three rates and the ratios against the baseline.

    python bench/collect_uploads.py [--answers 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from cohear.auth import create_user
from cohear.settings import load_settings
from cohear.store import Store
from surveys import service as surveys
from webcollect import service as collect

QUESTIONS = 20


def workspace(root: Path, sessions: int):
    store = Store(load_settings(env={}, data_dir=root / "data"))
    store.migrate()
    communicator, _ = create_user(store, "bench-communicator", "communicator")
    collector, _ = create_user(store, "bench-collector", "collector")
    survey = surveys.create_survey(
        store, communicator, title="Bench", purpose="Measure uploads", base_language="en",
        questions=[{"kind": "consent", "name": "consent", "text": "Do you agree?"}] + [
            {"kind": "open", "name": f"q{i}", "text": f"Question {i}?"}
            for i in range(QUESTIONS)])
    surveys.open_language(store, communicator, survey["id"], "en")
    questions = [q["id"] for q in survey["questions"][1:]]
    session_ids = []
    for _ in range(sessions):
        sid = surveys.start_session(store, collector, survey["id"], "en")["id"]
        surveys.record_consent(store, collector, sid, method="tick")
        session_ids.append(sid)
    return store, collector, [(s, q) for s in session_ids for q in questions]


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=200)
    args = parser.parse_args()
    sessions = max(1, args.answers // QUESTIONS)
    with tempfile.TemporaryDirectory() as tmp:
        store, collector, slots = workspace(Path(tmp) / "baseline", sessions)
        start = time.perf_counter()
        for sid, qid in slots:
            surveys.submit_answer(store, collector, sid, qid, text="The bus does not come.")
        baseline = rate(len(slots), time.perf_counter() - start)
        store.close()

        store, collector, slots = workspace(Path(tmp) / "keyed", sessions)
        keys = [f"bench-answer-{i:06d}" for i in range(len(slots))]
        start = time.perf_counter()
        for key, (sid, qid) in zip(keys, slots):
            collect.submit_answer(store, collector, key, sid, qid, text="The bus does not come.")
        keyed = rate(len(slots), time.perf_counter() - start)
        start = time.perf_counter()
        for key, (sid, qid) in zip(keys, slots):
            again = collect.submit_answer(store, collector, key, sid, qid,
                                          text="The bus does not come.")
            assert again["duplicate"]
        repeat = rate(len(slots), time.perf_counter() - start)
        stored = store.one("SELECT count(*) FROM answers")[0]
        store.close()
    print(f"{len(slots)} typed answers")
    print(f"  surveys directly (baseline):   {baseline:8.1f} answers/s")
    print(f"  field page, with a key each:   {keyed:8.1f} answers/s  "
          f"ratio {keyed / baseline:.2f}x baseline")
    print(f"  the same answers sent again:   {repeat:8.1f} answers/s  "
          f"ratio {repeat / baseline:.2f}x baseline  (stored: {stored}, not {2 * len(slots)})")
    return 0 if stored == len(slots) else 1


if __name__ == "__main__":
    sys.exit(main())
