"""The quality guards' rules as README's "Voice answers" states them, at their edges: text
over silence (no-speech probability > 0.6 and average log-probability < -1), repetition
loops (zlib compression ratio > 2.4, a 1-4 word phrase said 4 times in a row, the same
words as the two segments before), `needs_review` (a rejected segment, a segment or
transcript below 0.5 confidence, an unsure language below 0.5, a mismatch), and a hint
that disagrees with what is heard: flagged, and decoded in the heard language only when
Whisper is at least 80 % sure. The pipeline tests show the rules applied to a real job;
these show each number is the one README gives."""

from __future__ import annotations

import zlib

import pytest

from speech.transcribe import (
    LanguageFinding,
    Segment,
    _decide,
    _judge_one,
    needs_review,
    rejection_reason,
    repeated_phrase,
    text_compression_ratio,
)

WORDS = "My mother needs the flu vaccine"


@pytest.mark.parametrize("no_speech, logprob, rejected", [
    (0.61, -1.01, True),    # both past their bounds
    (0.6, -1.5, False),     # no-speech probability at the bound, not over it
    (0.9, -1.0, False),     # log-probability at the bound, not under it
    (0.9, -0.5, False),     # sure of the words: speech over noise
    (0.3, -1.5, False),     # unsure words, but speech heard
])
def test_text_over_silence_needs_both_bounds_passed(no_speech, logprob, rejected):
    reason = rejection_reason(WORDS, logprob, no_speech, 1.0)
    assert (reason is not None) == rejected, reason
    if rejected:
        assert reason.startswith("text over silence")


def test_a_segment_without_words_is_rejected():
    assert rejection_reason("  ", -0.1, 0.0, 0.0) == "no words"
    assert rejection_reason("", -0.1, 0.0, 0.0) == "no words"


def test_the_compression_ratio_bound_is_over_2_4():
    assert rejection_reason(WORDS, -0.2, 0.1, 2.4) is None
    assert rejection_reason(WORDS, -0.2, 0.1, 2.41).startswith("repetition loop (compression ratio 2.4")


def test_the_compression_ratio_is_zlibs_over_the_segments_utf8_bytes():
    text = "ماں کو فلو کی ویکسین چاہیے ماں کو فلو کی ویکسین چاہیے"
    data = text.encode("utf-8")
    assert text_compression_ratio(text) == len(data) / len(zlib.compress(data))
    assert text_compression_ratio("") == 0.0


@pytest.mark.parametrize("text, phrase", [
    ("thank you thank you thank you", None),                        # 3 times: kept
    ("thank you thank you thank you for coming to the clinic", None),  # 3 times, more after
    ("no no no we said", None),
    ("thank you thank you thank you thank you", "thank you"),      # 4 times
    ("Thank you, THANK you. thank You! thank you", "thank you"),   # case and punctuation
    ("she said no no no no", "no"),                                  # at the very end
    ("I went to the I went to the I went to the I went to the clinic", "i went to the"),  # 4 words
    ("we went to the clinic " * 4, None),                          # 5 words: no 1-4 word loop
    ("one two three four five six seven eight", None),
    ("", None),
])
def test_a_phrase_of_one_to_four_words_said_four_times_in_a_row_is_a_loop(text, phrase):
    assert repeated_phrase(text) == phrase


def test_a_phrase_loop_is_the_segments_reason():
    assert rejection_reason("no no no no", -0.2, 0.1, 1.0) == \
        "repetition loop ('no' said 4 or more times in a row)"


def _seg(text: str) -> Segment:
    return _judge_one(0, 0.0, 1.0, text, -0.2, 0.1, [])


def test_the_same_words_as_the_two_segments_before_are_a_loop():
    before = [_seg("The bus was late."), _seg("the bus, was LATE")]
    judged = _judge_one(2, 3.0, 4.5, "The bus was late!", -0.25, 0.05, before)
    assert judged.rejected_reason == "repetition loop (the same words as the two segments before)"
    # What the segment was is kept with the reason.
    assert (judged.index, judged.start, judged.end, judged.text, judged.avg_logprob,
            judged.no_speech_prob) == (2, 3.0, 4.5, "The bus was late!", -0.25, 0.05)
    assert judged.compression_ratio == text_compression_ratio("The bus was late!")


@pytest.mark.parametrize("earlier", [
    ["The bus was late."],                                   # only one before
    ["The bus was late.", "Then it came."],                  # the one before differs
    ["Then it came.", "The bus was late."],                  # the one before that differs
])
def test_words_said_again_once_are_speech(earlier):
    before = [_seg(t) for t in earlier]
    assert _judge_one(len(before), 3.0, 4.0, "The bus was late.", -0.2, 0.1, before).rejected_reason is None


def test_three_same_segments_after_others_count_the_last_two_only():
    before = [_seg(t) for t in ["Hello.", "Then it came.", "The bus was late.", "The bus was late."]]
    assert _judge_one(4, 5.0, 6.0, "The bus was late.", -0.2, 0.1, before).rejected


def test_a_segments_own_guard_gives_its_reason_before_the_repeat():
    before = [_seg("Thank you."), _seg("Thank you.")]
    judged = _judge_one(2, 3.0, 4.0, "Thank you.", -1.4, 0.93, before)
    assert judged.rejected_reason.startswith("text over silence")


def _finding(probability: float | None = 0.95, mismatch: bool = False) -> LanguageFinding:
    return LanguageFinding("ur", "ur", probability, "ur", mismatch)


def _kept(confidence_no_speech: float) -> Segment:
    # exp(0) x (1 - no_speech): the segment's confidence is 1 - no_speech.
    return Segment(0, 0.0, 2.0, WORDS, 0.0, confidence_no_speech, 1.0)


def test_a_clean_transcript_needs_no_review_and_each_reason_sets_it():
    assert not needs_review([_kept(0.1)], _finding())
    assert needs_review([_kept(0.1)], _finding(mismatch=True))
    rejected = Segment(1, 2.0, 3.0, "thanks", -1.4, 0.9, 1.0, rejected_reason="text over silence")
    assert needs_review([_kept(0.1), rejected], _finding())
    assert needs_review([_kept(0.1)], _finding(probability=0.49))
    assert not needs_review([_kept(0.1)], _finding(probability=0.5))
    assert not needs_review([_kept(0.1)], _finding(probability=None))


def test_confidence_below_0_5_needs_review_and_0_5_does_not():
    assert not needs_review([_kept(0.5)], _finding())
    assert needs_review([_kept(0.51)], _finding())
    # One unsure segment among sure ones is enough, though the transcript's mean is high.
    long_sure = Segment(1, 2.0, 60.0, WORDS, 0.0, 0.0, 1.0)
    assert needs_review([long_sure, _kept(0.6)], _finding())


@pytest.mark.parametrize("hint, detected, probability, used, mismatch", [
    (None, "ur", 0.3, "ur", False),   # no hint: what is heard, whatever its probability
    ("ur", "ur", 0.99, "ur", False),
    ("ur", "pa", 0.49, "ur", False),  # unsure of the other language: no mismatch
    ("ur", "pa", 0.5, "ur", True),    # flagged, decoded as the hint
    ("ur", "pa", 0.79, "ur", True),
    ("ur", "pa", 0.8, "pa", True),    # at least 80 % sure: decoded as heard
])
def test_a_hint_that_disagrees_is_flagged_and_obeyed_unless_whisper_is_80_percent_sure(
        hint, detected, probability, used, mismatch):
    finding = _decide(hint, detected, probability)
    assert (finding.hint, finding.detected, finding.probability, finding.used, finding.mismatch) == (
        hint, detected, probability, used, mismatch)
