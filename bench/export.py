"""Export benchmark: seeds surveys of 10,000 and 100,000 answers (each with a transcript
and an English rendering, three codings per answer) with bulk SQL, then times every
export format and the kappa computation, each in its own subprocess so its peak memory
(VmHWM, or ru_maxrss off Linux) is its own.

Prints rows per second (rows of that format: segments, respondents, answers or kappa
decisions) and answers per second, the time of each export against a baseline measured
in the same run (streaming the same answer rows without writing anything), and peak
memory at both sizes side by side: a flat export keeps the 100k/10k memory ratio near 1.

    .venv/bin/python bench/export.py            # both sizes (several minutes)
    .venv/bin/python bench/export.py --sizes 2000 20000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FORMATS = ("csv", "wide-csv", "xlsx", "json", "qdpx")
QUESTIONS = ("access", "experience", "barriers", "ideas")
WORDS = ("the", "surgery", "phone", "line", "opens", "at", "eight", "but", "the", "queue",
         "is", "long", "and", "I", "give", "up", "my", "daughter", "translates", "for", "me",
         "at", "the", "pharmacy", "and", "the", "nurse", "was", "kind", "to", "us", "we",
         "need", "leaflets", "in", "Urdu", "and", "someone", "at", "the", "mosque", "to",
         "explain", "the", "vaccine")


def _store(data_dir: Path):
    from cohear.settings import load_settings
    from cohear.store import Store

    store = Store(load_settings(env={}, data_dir=data_dir, embedded_worker=False))
    store.migrate()
    return store


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def seed(data_dir: Path, answers: int) -> int:
    """A survey with `answers` open answers from answers/4 respondents, seeded with bulk
    SQL: original and English texts, a phone number to redact in one answer in ten, and
    three codings per answer (two coders on the whole answer, one span)."""
    from cohear.auth import SYSTEM, create_user
    from cohear.store import utcnow
    from surveys import coding, service

    store = _store(data_dir)
    coder_a, _ = create_user(store, "coder-a", "reviewer")
    coder_b, _ = create_user(store, "coder-b", "researcher")
    collector, _ = create_user(store, "collector", "collector")
    survey = service.create_survey(store, SYSTEM, title="Bench", purpose="Benchmark exports",
                                   base_language="en", questions=[
                                       {"kind": "open", "name": n, "text": f"About {n}?"}
                                       for n in QUESTIONS])
    book = coding.create_codebook(store, SYSTEM, "Bench codes", codes=[
        {"name": "access"}, {"name": "language", "parent": "access"}, {"name": "trust"},
        {"name": "kindness"}, {"name": "cost"}])
    codes = [c["id"] for c in book["codes"]]
    qids = [q["id"] for q in survey["questions"]]
    rng = random.Random(7)
    now = utcnow()
    respondents = answers // len(QUESTIONS)
    with store.transaction() as conn:
        conn.executemany("INSERT INTO respondents (id, cohear_id, created_at) VALUES (?, ?, ?)",
                         [(r, f"R-{r:010d}", now) for r in range(1, respondents + 1)])
        conn.executemany(
            "INSERT INTO survey_sessions (id, survey_id, survey_version, respondent_id, language,"
            " collector_id, started_at) VALUES (?, ?, 1, ?, ?, ?, ?)",
            [(r, survey["id"], r, "ur" if r % 3 == 0 else "en", collector.id, now)
             for r in range(1, respondents + 1)])
        answer_rows, text_rows, redaction_rows, coding_rows = [], [], [], []
        aid = tid = 0
        for r in range(1, respondents + 1):
            lang = "ur" if r % 3 == 0 else "en"
            for q in qids:
                aid += 1
                answer_rows.append((aid, r, q, r, lang, now, collector.id))
                words = _sentence(rng, rng.randint(12, 40))
                if aid % 10 == 0:
                    words += " Call me on 07700 900123."
                    redaction_rows.append((tid + 1, len(words) - 13, len(words) - 1, "phone"))
                tid += 1
                text_rows.append((tid, aid, "original", lang, words))
                tid += 1
                text_rows.append((tid, aid, "english", "en", words))
                coding_rows.append((aid, rng.choice(codes), coder_a.id, None, None, None, now))
                coding_rows.append((aid, rng.choice(codes), coder_b.id, None, None, None, now))
                coding_rows.append((aid, rng.choice(codes), coder_a.id, tid - 1, 0,
                                    min(len(words), 20), now))
        conn.executemany("INSERT INTO answers (id, session_id, question_id, respondent_id, "
                         "language, survey_version, kind, status, created_at, created_by) "
                         "VALUES (?, ?, ?, ?, ?, 1, 'text', 'transcribed', ?, ?)", answer_rows)
        conn.executemany("INSERT INTO answer_texts (id, answer_id, rendering, version, language,"
                         " text, source, created_at) VALUES (?, ?, ?, 1, ?, ?, 'typed', '" + now
                         + "')", text_rows)
        conn.executemany("INSERT INTO redactions (answer_text_id, start_offset, end_offset, kind)"
                         " VALUES (?, ?, ?, ?)", redaction_rows)
        conn.executemany("INSERT INTO codings (answer_id, code_id, coder_id, answer_text_id, "
                         "start_offset, end_offset, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         coding_rows)
    # One bulk transaction leaves a WAL of hundreds of MB; fold it into the database now,
    # as SQLite's automatic checkpoints do in normal use, so it does not count against
    # the first export to open the database.
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return survey["id"]


def measure(data_dir: Path, survey_id: int, what: str) -> dict:
    """Run one export (or the baseline, or kappa) and report time, rows and peak memory."""
    from cohear.auth import SYSTEM
    from surveys import agreement, exports

    store = _store(data_dir)
    start = time.perf_counter()
    if what == "baseline":
        plan = exports.export_plan(store, survey_id, identifiable=False)
        rows = sum(1 for _ in exports.iter_answers_with_codings(plan))
    elif what == "kappa":
        result = agreement.survey_agreement(store, SYSTEM, survey_id)
        rows = result["overall"]["decisions"]
    else:
        out = data_dir / "out" / f"export.{what}"
        rows = exports.export_survey(store, SYSTEM, survey_id, what, out)["rows"]
    seconds = time.perf_counter() - start
    return {"what": what, "seconds": seconds, "rows": rows, "peak_mib": _peak_kib() / 1024}


def _peak_kib() -> int:
    """This process's peak resident memory. Linux's VmHWM belongs to the process image
    (ru_maxrss would start from the parent's size at fork, the bench's seeding process)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(data_dir: Path, survey_id: int, what: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", what, "--data", str(data_dir),
                          "--survey", str(survey_id)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000],
                        help="the small and the large number of answers")
    parser.add_argument("--measure")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--survey", type=int)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.data, args.survey, args.measure)))
        return
    results: dict[int, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="cohear-bench-") as tmp:
        for size in args.sizes:
            data_dir = Path(tmp) / f"data-{size}-{uuid.uuid4().hex[:6]}"
            t0 = time.perf_counter()
            survey_id = seed(data_dir, size)
            print(f"seeded {size:,} answers ({size * 2:,} texts, {size * 3:,} codings) in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
            results[size] = {}
            for what in ("baseline", *FORMATS, "kappa"):
                results[size][what] = r = _child(data_dir, survey_id, what)
                print(f"  {size:>7,} {what:<9} {r['seconds']:7.2f} s  {r['rows']:>8,} rows  "
                      f"{r['rows'] / r['seconds']:>9,.0f} rows/s  "
                      f"{size / r['seconds']:>8,.0f} answers/s  peak {r['peak_mib']:6.1f} MiB",
                      flush=True)
    small, large = args.sizes
    print()
    print(f"{'':<10} {'time / baseline':>16} {'peak MiB':>10} {'peak MiB':>10} {'memory':>8}")
    print(f"{'format':<10} {f'at {large:,}':>16} {f'at {small:,}':>10} {f'at {large:,}':>10} "
          f"{'ratio':>8}")
    base = results[large]["baseline"]["seconds"]
    for what in ("baseline", *FORMATS, "kappa"):
        a, b = results[small][what], results[large][what]
        print(f"{what:<10} {b['seconds'] / base:>15.2f}x {a['peak_mib']:>10.1f} "
              f"{b['peak_mib']:>10.1f} {b['peak_mib'] / a['peak_mib']:>7.2f}x")


if __name__ == "__main__":
    main()
