"""Benchmark: cohear's batched translation engine against one Argos Translate call per
message, on the same packs, messages and machine, in one run.

    python bench/translate.py [--messages 200]

What it does:
* builds five copy-model packs (en -> ur, bn, pl, ro, ar) with
  `language_packs.copy_pack.build_copy_pack` (real CTranslate2 Transformers; they copy
  their input, so both sides do the same decoding work and must give the same text);
* installs them into a temporary cohear data directory, and into a temporary
  ARGOS_PACKAGES_DIR for argostranslate;
* baseline: `argostranslate.translate.translate(message, "en", target)` once per message
  and language. Argos' default sentence splitter (MiniSBD) downloads a model, so the
  baseline is given cohear's offline splitter instead (its `MiniSBDSentencizer` is
  replaced by one calling `language_packs.splitter.split_sentences`); everything else
  is argostranslate's own path and defaults (beam 4, batches of 32 tokens), with one
  CTranslate2 thread (its default of several OpenMP threads measured many times slower
  on a 2-core machine, so one thread is the baseline's best case);
* cohear: `Engine.translate(messages, "en", target)` once per language (every distinct
  sentence of every message in one `translate_batch` call), with its defaults (the
  same beam size; the batch split across up to two one-thread CTranslate2 workers,
  which a one-message-at-a-time caller cannot use);
* the two sides run alternately: a first run (which includes loading the models), then
  `--repeats` warm runs of which the best is reported.

It prints messages per second for both, by wall-clock and per CPU-second of the
process, and the ratios. On a machine shared with other work the CPU-time ratio is the
steadier measure of the work each side does; the wall-clock ratio includes cohear's use
of a second core.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGETS = ["ur", "bn", "pl", "ro", "ar"]
TOPICS = [
    ("flu vaccine", "Book it at your GP practice or a pharmacy."),
    ("MMR vaccine", "Check your child has had two doses."),
    ("cancer screening", "Take the test when you are invited."),
    ("blood pressure check", "It is free for adults over forty."),
    ("diabetes clinic", "Bring a list of your medicines."),
    ("mental health service", "Support is free and confidential."),
    ("maternity appointment", "Bring your notes with you."),
    ("dental check", "Children's dental care is free."),
]


def health_messages(n: int) -> list[str]:
    """Short health messages of two to four sentences: the first names an appointment
    (different in every message), the others are advice and boilerplate that a batch
    of real messages shares."""
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    out = []
    for i in range(n):
        topic, advice = TOPICS[i % len(TOPICS)]
        text = (f"Your {topic} appointment is on {days[i % 5]} {1 + i % 28} March "
                f"at {8 + i % 9}:{(i * 7) % 60:02d}. {advice}")
        if i % 3 == 0:
            text += " Call NHS 111 if you are worried."
        if i % 4 == 1:
            text = f"Reference {1000 + i}. " + text
        out.append(text)
    return out


def build_packs(root: Path) -> list[Path]:
    from language_packs.copy_pack import build_copy_pack
    return [build_copy_pack(root, "en", target) for target in TARGETS]


def timed(fn) -> tuple[float, float, dict[str, list[str]]]:
    """(wall seconds, CPU seconds of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def run_baseline(messages: list[str]) -> tuple[float, float, dict[str, list[str]]]:
    from argostranslate import translate as argos_translate
    return timed(lambda: {t: [argos_translate.translate(m, "en", t) for m in messages]
                          for t in TARGETS})


def run_cohear(engine, messages: list[str]) -> tuple[float, float, dict[str, list[str]]]:
    return timed(lambda: {t: [r.text for r in engine.translate(messages, "en", t)]
                          for t in TARGETS})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2,
                        help="warm runs after the first (the best one is reported)")
    args = parser.parse_args()
    messages = health_messages(args.messages)
    total = len(messages) * len(TARGETS)

    with tempfile.TemporaryDirectory(prefix="cohear-bench-") as tmp:
        tmp_path = Path(tmp)
        # argostranslate reads its settings at import: point it at a private folder first.
        os.environ["ARGOS_PACKAGES_DIR"] = str(tmp_path / "argos-packages")
        os.environ.setdefault("ARGOS_DEVICE_TYPE", "cpu")
        # The same CTranslate2 threading on both sides: one thread per translator, as
        # cohear uses by default (Argos' default of several OpenMP threads measured many
        # times slower for both on a busy 2-core machine).
        os.environ["ARGOS_INTRA_THREADS"] = "1"
        os.environ["ARGOS_INTER_THREADS"] = "1"
        pack_files = build_packs(tmp_path / "packs")

        from argostranslate import package as argos_package
        from argostranslate import translate as argos_translate

        from language_packs.splitter import split_sentences

        class CohearSplitter:
            """Stands in for MiniSBD (which downloads a model) in the baseline."""

            def __init__(self, pkg):
                self.pkg = pkg

            def split_sentences(self, text: str) -> list[str]:
                return [s for s, _ in split_sentences(text, "en") if s.strip()]

        argos_translate.MiniSBDSentencizer = CohearSplitter
        for path in pack_files:
            argos_package.install_from_path(path)
        argos_translate.get_installed_languages.cache_clear()

        from cohear.settings import load_settings
        from cohear.store import Store
        from language_packs.engine import Engine
        from language_packs.packs import install
        store = Store(load_settings(env={}, data_dir=tmp_path / "data"))
        store.migrate()
        for path in pack_files:
            install(store, path)
        from argostranslate import settings as argos_settings
        engine = Engine(store, beam_size=argos_settings.beam_size)

        sentences = [s for m in messages for s, _ in split_sentences(m, "en") if s.strip()]
        print(f"{len(messages)} messages x {len(TARGETS)} languages ({', '.join(TARGETS)}) "
              f"= {total} translations; {len(sentences)} sentences per language, "
              f"{len(set(sentences))} distinct (cohear translates each distinct one once)")
        print(f"copy-model packs, beam {engine.beam_size} both sides, batches of "
              f"{argos_settings.batch_size} tokens (argostranslate) and "
              f"{engine.max_batch_size} sentences (cohear); argostranslate with one CTranslate2 "
              f"thread (two measured far slower here), cohear's batches split across "
              f"{max(1, min(2, os.cpu_count() or 1))} one-thread workers; "
              f"CPU cores: {os.cpu_count()}")
        runs: dict[str, list[tuple[float, float]]] = {"baseline": [], "cohear": []}
        checks = []
        for _ in range(1 + args.repeats):
            base_wall, base_cpu, base_out = run_baseline(messages)
            ours_wall, ours_cpu, ours_out = run_cohear(engine, messages)
            runs["baseline"].append((base_wall, base_cpu))
            runs["cohear"].append((ours_wall, ours_cpu))
            checks.append((sum(a == b for t in TARGETS for a, b in zip(base_out[t], ours_out[t])),
                           sum(m == o for t in TARGETS for m, o in zip(messages, ours_out[t]))))
        same = min(c[0] for c in checks)
        exact = min(c[1] for c in checks)
        print(f"outputs: same as baseline {same}/{total}, exact copies {exact}/{total} "
              "(worst run)")
        def best(side: str, first: bool) -> tuple[float, float]:
            rounds = runs[side][:1] if first else runs[side][1:]
            return min(w for w, _ in rounds), min(c for _, c in rounds)

        for label, first in (("first run (loads models)", True),
                             (f"warm runs (best of {args.repeats})", False)):
            base_wall, base_cpu = best("baseline", first)
            ours_wall, ours_cpu = best("cohear", first)
            print(f"{label}:")
            print(f"  baseline argostranslate, one call per message: "
                  f"{total / base_wall:7.1f} messages/s wall, {total / base_cpu:7.1f} per CPU-s")
            print(f"  cohear engine, one batch per language:        "
                  f"{total / ours_wall:7.1f} messages/s wall, {total / ours_cpu:7.1f} per CPU-s")
            print(f"  ratio cohear/baseline: {base_wall / ours_wall:.2f}x wall-clock, "
                  f"{base_cpu / ours_cpu:.2f}x CPU time")
        store.close()


if __name__ == "__main__":
    main()
