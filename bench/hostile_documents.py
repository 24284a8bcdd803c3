#!/usr/bin/env python3
"""Reading hostile HTML for `/translate_file`, against reading an ordinary file.

    python3 bench/hostile_documents.py [--repeat 3]

Times `documents.open_document` (what `/translate_file` does before translating) on:
an ordinary 3,000-paragraph HTML leaflet (the baseline), the tester's 1.1 MB file of
100,000 nested `<div>`s (refused while libxml2 streams it), and the worst HTML still
accepted: 9,990 self-closing `<div/>`s, which libxml2 counts as flat elements but
html5ever nests 9,990 deep; then the second attack's files, one element with 200,000
attributes and 500,000 `&amp;` (refused), and the most still accepted: one element with
100 attributes and 100,000 references. Prints the median seconds of each and its ratio
to the baseline (before the bounds, the nested file took about 37 s on the tester's
machine, the attributes 8 s and the references 5 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cohear.errors import CohearError  # noqa: E402
from language_packs import documents  # noqa: E402


def seconds(data: bytes, repeat: int) -> tuple[float, str]:
    times, outcome = [], "read"
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            documents.open_document(data, "leaflet.html")
        except CohearError as exc:
            outcome = f"refused: {exc}"
        times.append(time.perf_counter() - start)
    return statistics.median(times), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    ordinary = ("<h1>Flu</h1>" + "".join(f"<p>Paragraph {i} about flu."
                                          for i in range(3_000))).encode()
    cases = {
        "100,000 nested <div> (refused)": ("<div>" * 100_000 + "x" + "</div>" * 100_000),
        "9,990 self-closing <div/> (accepted)": "<div/>" * 9_990 + "x",
        "one element, 200,000 attributes (refused)":
            "<p " + " ".join(f'a{i}="x"' for i in range(200_000)) + ">hi</p>",
        "500,000 &amp; (refused)": "<p>" + "&amp;" * 500_000 + "</p>",
        "100 attributes, 100,000 references (accepted)":
            "<p " + " ".join(f'a{i}="x"' for i in range(100)) + ">" + "&#1575;" * 100_000,
    }
    baseline, outcome = seconds(ordinary, repeat)
    print(f"ordinary 3,000-paragraph HTML: {baseline:.3f} s, {outcome} (baseline)")
    for name, text in cases.items():
        took, outcome = seconds(text.encode(), repeat)
        print(f"{name}: {took:.3f} s, {outcome}, ratio {took / baseline:.1f}")


if __name__ == "__main__":
    main()
