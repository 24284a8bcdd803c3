#!/usr/bin/env python3
"""How fast the workspace's Messages screen and coverage map open over 10,000 messages in
25 languages, against the same screens over 100 messages (the baseline), measured in the
same run.

Seeds two temporary data directories through the real schema: users through the real
services, then messages, their versions and a translation in each of 25 languages (the
region's 24 besides English, and Swahili) by bulk SQL, with statuses spread over machine,
needs review, approved, human requested, received and stale, one language in five left
untranslated per message. Then, for each size, drives the real Textual app headless
(App.run_test) and times, as the median of several runs:

- messages: pushing the Messages screen until its first page is on screen;
- map:      pushing the coverage map until its first page is on screen;
- counts:   from pushing the map until the counts per language (summed by SQLite in a
            worker thread) are shown;
- filter:   choosing a status in Urdu on the Messages screen until the page shows it.

Prints the times for both sizes and the ratio 10,000 / 100.

    python bench/tui_messages.py [--messages N] [--baseline N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from language_packs.registry import LANGUAGES

TARGETS = [t for t in LANGUAGES if t != "en"] + ["sw"]          # 25 languages
STATUSES = ("machine", "needs_review", "approved", "human_requested", "received", "stale")
CHANNELS = ("sms", "letter", "phone_script", "poster", "whatsapp")


def seed(data_dir: Path, messages: int) -> tuple[Store, object]:
    store = Store(load_settings(env={}, data_dir=data_dir))
    store.migrate()
    comm, _ = create_user(store, "bench-communicator", "communicator")
    now = utcnow()
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO messages (id, title, audience, channel, tags_json, source_language, "
            "owner_id, current_version, created_at, updated_at) VALUES (?,?,?,?,?,'en',?,?,?,?)",
            [(i, f"Message {i}", ("parents", "older people", "")[i % 3], CHANNELS[i % 5],
              json.dumps(["flu"] if i % 4 == 0 else []), comm.id, 1 + (i % 7 == 0), now, now)
             for i in range(1, messages + 1)])
        conn.executemany(
            "INSERT INTO message_versions (message_id, version, source_text, created_by, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            [(i, v, f"Please book your appointment number {i}.", comm.id, now)
             for i in range(1, messages + 1) for v in range(1, 2 + (i % 7 == 0))])
        rows = []
        for i in range(1, messages + 1):
            for n, tag in enumerate(TARGETS):
                if (i + n) % 5 == 0:
                    continue                  # not started, or no path
                status = STATUSES[(i * 7 + n) % len(STATUSES)]
                rows.append((i, tag, 1, "words", status, "machine", now))
        conn.executemany(
            "INSERT INTO translations (message_id, language, source_version, text, status, "
            "origin, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    store.conn.execute("ANALYZE")
    return store, comm


async def time_screens(store: Store, user) -> tuple[float, float, float, float]:
    from textual.widgets import DataTable

    from comms.listing import MessageFilters
    from tui.app import CohearApp
    from tui.screens.coverage import CoverageScreen
    from tui.screens.messages import MessagesScreen

    app = CohearApp(store, user)
    async with app.run_test(size=(150, 44)) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        screen = MessagesScreen()
        await app.push_screen(screen)
        while screen.query_one("#messages", DataTable).row_count == 0:
            await pilot.pause(0)
        opened = time.perf_counter() - start
        start = time.perf_counter()
        screen.filters = MessageFilters(language="ur", status="approved")
        screen.load()
        while not screen.rows or screen.rows[0]["statuses"].get("ur") != "approved":
            await pilot.pause(0)
        filtered = time.perf_counter() - start
        await app.pop_screen()
        start = time.perf_counter()
        coverage = CoverageScreen()
        await app.push_screen(coverage)
        while coverage.query_one("#heatmap", DataTable).row_count == 0:
            await pilot.pause(0)
        mapped = time.perf_counter() - start
        while coverage.totals is None:
            await pilot.pause(0.001)
        counted = time.perf_counter() - start
    return opened, mapped, counted, filtered


def measure(small: tuple[Store, object], big: tuple[Store, object], runs: int
            ) -> tuple[list[float], list[float]]:
    """Medians for each size, the runs taken in turn (small, big, small...) so that a
    machine busy with something else slows both alike."""
    results: dict[int, list] = {0: [], 1: []}
    for _ in range(runs):
        for i, (store, user) in enumerate((small, big)):
            results[i].append(asyncio.run(time_screens(store, user)))
    return tuple([statistics.median(r[k] for r in results[i]) for k in range(4)]
                 for i in (0, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        small, small_user = seed(Path(tmp) / "small", args.baseline)
        big, big_user = seed(Path(tmp) / "big", args.messages)
        count = big.one("SELECT count(*) FROM translations")[0]
        print(f"seeded {args.baseline:,} and {args.messages:,} messages ({count:,} "
              f"translations in {len(TARGETS)} languages) in "
              f"{time.perf_counter() - started:.1f} s")
        base, bigs = measure((small, small_user), (big, big_user), args.runs)
    names = ("open Messages", "open the map", "map's counts", "filter")
    print(f"{'messages':>10}  " + "  ".join(f"{n:>14}" for n in names))
    for size, times in ((args.baseline, base), (args.messages, bigs)):
        print(f"{size:>10,}  " + "  ".join(f"{t * 1000:>11.1f} ms" for t in times))
    print(f"ratio {args.messages:,} / {args.baseline:,}: " + ", ".join(
        f"{n} x{b / s:.2f}" for n, s, b in zip(names, base, bigs)))


if __name__ == "__main__":
    main()
