"""Language identification: cohear's rules alone (the baseline) against the trained model
(lingua) alone and against what cohear uses (`language_packs.detect.detect`: the model
where it knows the language, the rules and hanzidentifier where it does not), on the
labelled short health sentences in `tests/health_sentences.py`.

Prints accuracy per language for the three, the start-up cost of the model (building the
detector, then loading each script's models on first use), resident memory, and
sentences per second, each as a ratio against the rules measured in the same run.

    python bench/language_id.py [--rounds 20]
    COHEAR_LANGUAGE_ID=low-memory python bench/language_id.py   # lingua's trigram models only
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from language_packs import detect as lid  # noqa: E402
from tests.health_sentences import SENTENCES  # noqa: E402


def rss_mb() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import resource
    return pages * resource.getpagesize() / 1e6


def lingua_alone(text: str) -> str:
    values = lid.model().compute_language_confidence_values(text)
    return lid._LINGUA[values[0].language.name] if values and values[0].value > 0 else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the set for speed")
    args = parser.parse_args()
    texts = [(tag, s) for tag, sentences in SENTENCES.items() for s in sentences]

    base_rss = rss_mb()
    start = time.perf_counter()
    lid.model()
    built = time.perf_counter() - start
    built_rss = rss_mb()
    first_use = {}
    for script, sample in (("Latin", "Wash your hands."), ("Arabic", "اپنے ہاتھ دھوئیں۔"),
                           ("Han", "用肥皂和水洗手。")):
        start = time.perf_counter()
        lid.detect(sample)
        first_use[script] = time.perf_counter() - start
    start = time.perf_counter()
    for _, text in texts:
        lid.detect(text)
    warm_all = time.perf_counter() - start
    loaded_rss = rss_mb()

    print(f"{len(texts)} sentences in {len(SENTENCES)} languages; model mode "
          f"{lid.model_mode()}\n")
    print(f"{'language':<9} {'rules':>7} {'lingua':>7} {'cohear':>7}")
    totals = {"rules": 0, "lingua": 0, "cohear": 0}
    for tag, sentences in SENTENCES.items():
        right = {"rules": sum(lid.detect_by_rules(s)[0]["language"] == tag for s in sentences),
                 "lingua": sum(lingua_alone(s) == tag for s in sentences),
                 "cohear": sum(lid.detect(s)[0]["language"] == tag for s in sentences)}
        for name in totals:
            totals[name] += right[name]
        n = len(sentences)
        print(f"{tag:<9} " + " ".join(f"{right[name]:>4}/{n:<2}" for name in totals))
    print(f"{'all':<9} " + " ".join(f"{100 * totals[name] / len(texts):6.1f}%"
                                     for name in totals))

    speed = {}
    for name, run in (("rules", lid.detect_by_rules), ("cohear", lid.detect)):
        start = time.perf_counter()
        for _ in range(args.rounds):
            for _, text in texts:
                run(text)
        speed[name] = args.rounds * len(texts) / (time.perf_counter() - start)
    print()
    print(f"detector built in {built:.2f} s (+{built_rss - base_rss:.0f} MB); first use "
          + ", ".join(f"{k} {v:.2f} s" for k, v in first_use.items())
          + f"; the rest of the set on first use {warm_all:.2f} s")
    print(f"resident memory: {base_rss:.0f} MB before, {loaded_rss:.0f} MB with every model "
          f"the set needed loaded (+{loaded_rss - base_rss:.0f} MB)")
    print(f"sentences per second: rules {speed['rules']:.0f}, cohear {speed['cohear']:.0f} "
          f"(ratio {speed['cohear'] / speed['rules']:.3f})")
    print(f"accuracy ratio cohear / rules: {totals['cohear'] / totals['rules']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
