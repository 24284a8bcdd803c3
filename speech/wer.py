"""Word error rate, for the speech tests and the transcription benchmark, through jiwer
(the implementation speech research reports): substitutions + deletions + insertions
over the number of reference words.

Text is compared case-folded, without punctuation, so "Sundays." matches "sundays"
(jiwer removes apostrophes too, so "don't" and "dont" are the same word; cohear's own
counter before jiwer kept the apostrophe, and counted them as different).
"""

from __future__ import annotations

import jiwer

# Case, punctuation and spacing do not count as errors; then words, as jiwer wants them.
_NORMALISE = jiwer.Compose([
    jiwer.ToLowerCase(),
    jiwer.RemovePunctuation(),
    jiwer.RemoveMultipleSpaces(),
    jiwer.Strip(),
    jiwer.ReduceToListOfListOfWords(),
])


def words(text: str) -> list[str]:
    """The words WER counts, after the normalisation above."""
    return _NORMALISE(text.casefold())[0] if text.strip() else []


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER of one hypothesis against one reference (0 = the same words)."""
    return corpus_word_error_rate([reference], [hypothesis])


def corpus_word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """All errors over all reference words, as a benchmark reports a set of recordings."""
    pairs = [(r.casefold(), h.casefold()) for r, h in zip(references, hypotheses, strict=True)]
    kept = [(r, h) for r, h in pairs if words(r)]
    if not kept:
        return 0.0 if not any(words(h) for _, h in pairs) else 1.0
    refs, hyps = zip(*kept)
    return jiwer.wer(list(refs), list(hyps), reference_transform=_NORMALISE,
                     hypothesis_transform=_NORMALISE)
