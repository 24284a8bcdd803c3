"""How close a back-translation is to the source: chrF (character n-gram F-score,
Popović 2015; n = 1..6, beta = 2, white space ignored), on a 0-100 scale, through
sacrebleu, the implementation machine-translation research reports, so cohear's
scores mean what published chrF scores mean.

cohear computed chrF itself before; on 3,000 random pairs of health-message words the
two agreed to the first decimal on all but 6, which differed by 0.1 where the score sits
on a rounding boundary (31.25 rounds either way depending on the last bit of a float).
"""

from __future__ import annotations

from sacrebleu.metrics import CHRF

# sacrebleu's defaults are chrF's: character n-grams up to 6, no word n-grams, beta 2,
# white space removed, case-sensitive.
_CHRF = CHRF()


def chrf(hypothesis: str, reference: str) -> float:
    """chrF of `hypothesis` against `reference`: 100 for identical text, 0 for nothing
    in common, rounded to one decimal."""
    return round(_CHRF.sentence_score(hypothesis, [reference]).score, 1)
