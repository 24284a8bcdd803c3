"""Safeguarding keyword lists: recall and precision per language on the labelled answers
in `tests/safeguarding_sentences.py`, for the lists as they stand and, as the baseline
in the same run, for the matcher of an earlier commit (default: the literal lists that
came before stems and endings).

    python bench/safeguarding.py [--baseline REV] [--tested REV] [--show] [--rounds 20]

Recall: disclosures flagged with their concern. Precision: of the answers flagged, the
share that were disclosures. `--show` lists what was missed and what was wrongly flagged.
The held-out answers (written after the lists, never used to change them) are scored
apart: the labelled set was written with the lists, so its "after" column is a floor the
lists must keep, and the held-out one is closer to what to expect on new answers. The
answers outside testing found the lists missing are scored last, against the lists those
testers used (`--tested`) as well as the baseline. Last, answers checked per second,
after against before (and against the lists the testers used).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveys import safeguarding  # noqa: E402
from tests.safeguarding_sentences import (  # noqa: E402
    DISCLOSURES,
    EVERYDAY,
    HELD_OUT_DISCLOSURES,
    HELD_OUT_EVERYDAY,
    OUTSIDE_TESTING_DISCLOSURES,
    OUTSIDE_TESTING_EVERYDAY,
    score,
)

BASELINE = "bfaa766"  # the literal lists ("ignores word endings", but only listed forms matched)
TESTED = "f54ae77"    # the lists the second outside users' try ran against


def load_old(rev: str):
    """surveys/safeguarding.py as it was at `rev` (with its data file, if it had one)."""
    tmp = Path(tempfile.mkdtemp())
    for name in ("safeguarding.py", "safeguarding_keywords.toml"):
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:surveys/{name}"],
                               capture_output=True)
        if shown.returncode == 0:
            (tmp / name).write_bytes(shown.stdout)
    name = f"safeguarding_at_{rev}"
    spec = importlib.util.spec_from_file_location(name, tmp / "safeguarding.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while they are made
    spec.loader.exec_module(module)
    return module


def pct(x) -> str:
    return "  -  " if x is None else f"{100 * x:5.1f}"


def table(old: dict, new: dict, show: bool) -> None:
    print(f"{'language':9} {'n':>6}  {'recall before':>13} {'after':>6}  "
          f"{'precision before':>16} {'after':>6}")
    totals = {"old": [0, 0, 0], "new": [0, 0, 0]}
    for tag in new:
        o, n = old[tag], new[tag]
        print(f"{tag:9} {n['disclosures']:>2}+{n['everyday']:<3}  {pct(o['recall']):>13} "
              f"{pct(n['recall']):>6}  {pct(o['precision']):>16} {pct(n['precision']):>6}")
        for key, s in (("old", o), ("new", n)):
            totals[key][0] += s["caught"]
            totals[key][1] += s["disclosures"]
            totals[key][2] += s["false_flags"]
        if show:
            for label, s in (("before", o), ("after", n)):
                for t in s["missed"]:
                    print(f"    {label} missed: {t}")
                for t in s["wrongly_flagged"]:
                    print(f"    {label} wrongly flagged: {t}")
    (oc, on, of), (nc, nn, nf) = totals["old"], totals["new"]
    print(f"{'all':9} {nn:>6}  {pct(oc / on):>13} {pct(nc / nn):>6}  "
          f"{pct(oc / (oc + of) if oc + of else None):>16} "
          f"{pct(nc / (nc + nf) if nc + nf else None):>6}")
    print(f"recall ratio after/before: {(nc / nn) / (oc / on):.2f}x" if oc else
          "recall before: none caught")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the baseline")
    parser.add_argument("--tested", default=TESTED,
                        help="git revision of the lists the outside testers used")
    parser.add_argument("--show", action="store_true", help="list misses and false flags")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the set for speed")
    args = parser.parse_args()
    before = load_old(args.baseline).keyword_hits
    print("labelled set (tests/safeguarding_sentences.py)")
    table(score(before), score(safeguarding.keyword_hits), args.show)
    print()
    print("held-out answers")
    held = {"disclosures": HELD_OUT_DISCLOSURES, "everyday": HELD_OUT_EVERYDAY}
    table(score(before, **held), score(safeguarding.keyword_hits, **held), args.show)
    print()
    tested = load_old(args.tested).keyword_hits
    outside = {"disclosures": OUTSIDE_TESTING_DISCLOSURES, "everyday": OUTSIDE_TESTING_EVERYDAY}
    print(f"outside testing: found after the lists were written (before = {args.tested}, "
          "the lists the testers used)")
    table(score(tested, **outside), score(safeguarding.keyword_hits, **outside), args.show)
    print()
    print(f"labelled set against the lists the testers used (before = {args.tested})")
    table(score(tested), score(safeguarding.keyword_hits), args.show)
    print()
    texts = [(t, tag) for tag, pairs in DISCLOSURES.items() for t, _ in pairs] + [
        (t, tag) for tag, answers in EVERYDAY.items() for t in answers]
    speed = {}
    for name, hits in (("before", before), ("tested", tested),
                       ("after", safeguarding.keyword_hits)):
        hits("warm up", "en")
        start = time.perf_counter()
        for _ in range(args.rounds):
            for text, tag in texts:
                hits(text, tag)
        speed[name] = args.rounds * len(texts) / (time.perf_counter() - start)
    print(f"answers per second: before {speed['before']:,.0f}, tested {speed['tested']:,.0f}, "
          f"after {speed['after']:,.0f} ({speed['after'] / speed['before']:.2f}x before, "
          f"{speed['after'] / speed['tested']:.2f}x tested)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
