"""Word error rate is jiwer's (what speech research reports), after cohear's
normalisation: case and punctuation are not errors."""

from __future__ import annotations

import jiwer

from speech.wer import corpus_word_error_rate, word_error_rate


def test_wer_is_jiwer_s():
    reference = "The clinic is too far away, and the bus does not run on Sundays."
    hypothesis = "the clinic is to far away and the bus doesn't run on sundays"
    assert word_error_rate(reference, hypothesis) == jiwer.wer(
        "the clinic is too far away and the bus does not run on sundays",
        "the clinic is to far away and the bus doesnt run on sundays")
    # jiwer drops apostrophes with the rest of the punctuation.
    assert word_error_rate("don't stop", "dont stop") == 0.0


def test_corpus_wer_counts_all_errors_over_all_words():
    refs = ["a b c d", "e f"]
    hyps = ["a b x d", ""]
    assert corpus_word_error_rate(refs, hyps) == 3 / 6
    assert word_error_rate("", "") == 0.0 and word_error_rate("", "words") == 1.0
