#!/usr/bin/env python3
"""How fast the review app's queue opens and filters with 100,000 answers, against the
same app over 100 answers (the baseline), measured in the same run.

Seeds two temporary data directories through the real schema: users and a survey (open
in Urdu, Bengali, Polish and English) through the real services, then respondents,
sessions and answers by bulk SQL; one answer in ten is a voice answer with a machine
transcript (half of them low confidence), one in a hundred carries an open safeguarding
concern. Then, for each size, drives the real Textual app headless (App.run_test) and
times, as the median of several runs:

- open:   pushing the queue screen until its first page is on screen;
- filter: choosing a language in the filter bar until the filtered page is on screen.

Prints both times for both sizes and the ratio 100,000 / 100.

    python bench/tui_queue.py [--answers N] [--baseline N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cohear.auth import create_user
from cohear.settings import load_settings
from cohear.store import Store, utcnow
from surveys import service as surveys

LANGUAGES = ("ur", "bn", "pl", "en")


def seed(data_dir: Path, answers: int) -> tuple[Store, object]:
    store = Store(load_settings(env={}, data_dir=data_dir))
    store.migrate()
    comm, _ = create_user(store, "bench-communicator", "communicator")
    collector, _ = create_user(store, "bench-collector", "collector")
    reviewer, _ = create_user(store, "bench-reviewer", "reviewer")
    survey = surveys.create_survey(
        store, comm, title="Bench", purpose="Queue speed", base_language="en",
        questions=[{"kind": "open", "name": "journey", "text": "How did you get here?"}])
    question = survey["questions"][0]["id"]
    for lang in LANGUAGES:
        surveys.open_language(store, comm, survey["id"], lang, accept_english=True)
    now = utcnow()
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO respondents (id, cohear_id, created_by, created_at) VALUES (?,?,?,?)",
            [(i, f"R{i:08d}", collector.id, now) for i in range(1, answers + 1)])
        conn.executemany(
            "INSERT INTO survey_sessions (id, survey_id, survey_version, respondent_id, "
            "language, collector_id, started_at) VALUES (?,?,?,?,?,?,?)",
            [(i, survey["id"], 1, i, LANGUAGES[i % 4], collector.id, now)
             for i in range(1, answers + 1)])
        voice = [i for i in range(1, answers + 1) if i % 10 == 0]
        conn.executemany("INSERT INTO blobs (sha256, size, media_type, created_at) "
                         "VALUES (?,?,?,?)", [(f"{i:064x}", 1, "audio/wav", now) for i in voice])
        conn.executemany(
            "INSERT INTO recordings (id, uploaded_by, original_sha256, normalised_sha256, "
            "media_type, format, codec, size_bytes, duration_seconds, sample_rate, channels, "
            "peak_dbfs, speech_seconds, speech_ratio, language_hint, created_at) "
            "VALUES (?,?,?,?,'audio/wav','wav','pcm_s16le',1,5.0,16000,1,-3.0,4.0,0.8,?,?)",
            [(i, collector.id, f"{i:064x}", f"{i:064x}", LANGUAGES[i % 4], now) for i in voice])
        conn.executemany(
            "INSERT INTO transcripts (recording_id, version, source, author_name, text, "
            "language, confidence, needs_review, created_at) "
            "VALUES (?, 1, 'machine', 'whisper', 'words', ?, ?, ?, ?)",
            [(i, LANGUAGES[i % 4], 0.4 if i % 20 == 0 else 0.9, int(i % 20 == 0), now)
             for i in voice])
        conn.executemany(
            "INSERT INTO answers (id, session_id, question_id, respondent_id, language, "
            "survey_version, kind, recording_id, status, safeguarding, safeguarding_reason, "
            "created_by, created_at) VALUES (?,?,?,?,?,1,?,?,?,?,?,?,?)",
            [(i, i, question, i, LANGUAGES[i % 4], "voice" if i % 10 == 0 else "text",
              i if i % 10 == 0 else None,
              ("new", "transcribed", "verified")[i % 3], int(i % 100 == 7),
              "keywords: bench" if i % 100 == 7 else None, collector.id, now)
             for i in range(1, answers + 1)])
    store.conn.execute("ANALYZE")
    return store, reviewer


async def time_queue(store: Store, user) -> tuple[float, float]:
    from textual.widgets import DataTable, Select

    from tui.app import CohearApp
    from tui.screens.queue import QueueScreen

    app = CohearApp(store, user)
    async with app.run_test(size=(150, 44)) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        screen = QueueScreen()
        await app.push_screen(screen)
        while screen.query_one("#queue", DataTable).row_count == 0:
            await pilot.pause(0)
        opened = time.perf_counter() - start
        first = screen.rows[0]["id"]
        start = time.perf_counter()
        screen.query_one("#filter-language", Select).value = "bn"
        while not screen.rows or screen.rows[0]["id"] == first:
            await pilot.pause(0)
        filtered = time.perf_counter() - start
        assert all(r["language"] == "bn" for r in screen.rows)
    return opened, filtered


def measure(store: Store, user, runs: int) -> tuple[float, float]:
    results = [asyncio.run(time_queue(store, user)) for _ in range(runs)]
    return (statistics.median(r[0] for r in results),
            statistics.median(r[1] for r in results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        small, small_user = seed(Path(tmp) / "small", args.baseline)
        big, big_user = seed(Path(tmp) / "big", args.answers)
        print(f"seeded {args.baseline:,} and {args.answers:,} answers in "
              f"{time.perf_counter() - started:.1f} s")
        base_open, base_filter = measure(small, small_user, args.runs)
        big_open, big_filter = measure(big, big_user, args.runs)
    print(f"{'answers':>10}  {'open queue':>12}  {'apply filter':>12}")
    print(f"{args.baseline:>10,}  {base_open * 1000:>9.1f} ms  {base_filter * 1000:>9.1f} ms")
    print(f"{args.answers:>10,}  {big_open * 1000:>9.1f} ms  {big_filter * 1000:>9.1f} ms")
    print(f"ratio {args.answers:,} / {args.baseline:,}: open x{big_open / base_open:.2f}, "
          f"filter x{big_filter / base_filter:.2f}")


if __name__ == "__main__":
    main()
