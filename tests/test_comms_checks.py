"""The checks a message goes through before and after translation: plain language,
placeholders, SMS length, back-translation similarity and sentence splitting."""

from __future__ import annotations

import pytest

from comms import placeholders, plain, segments, sms
from comms.jargon import JARGON
from comms.similarity import chrf


def test_jargon_list_is_a_real_list_of_common_nhs_terms():
    assert len(JARGON) >= 40
    assert JARGON["hypertension"] == "high blood pressure"
    assert JARGON["contraindicated"] == "should not be used with"


def test_plain_language_check_finds_jargon_with_offsets_that_point_at_the_word():
    text = "If you have Hypertension, this medicine is contraindicated. Ask your GP."
    report = plain.check(text)
    jargon = [f for f in report["findings"] if f["kind"] == "jargon"]
    assert [f["text"] for f in jargon] == ["Hypertension", "contraindicated"]
    for f in jargon:
        assert text[f["start"]:f["end"]] == f["text"]
    assert jargon[0]["start"] == text.index("Hypertension")
    assert "high blood pressure" in jargon[0]["suggestion"]
    assert "should not be used with" in jargon[1]["suggestion"]


def test_plain_language_check_flags_passive_voice_long_sentences_and_reading_age():
    long = ("Patients who are considered to be at increased risk of complications following "
            "infection are strongly encouraged to attend their allocated appointment at the "
            "designated vaccination centre as soon as it is practicable to do so.")
    text = "Your vaccine will be given by a nurse. " + long
    report = plain.check(text)
    kinds = {f["kind"] for f in report["findings"]}
    assert {"passive_voice", "long_sentence", "reading_age"} <= kinds
    passive = next(f for f in report["findings"] if f["kind"] == "passive_voice")
    assert text[passive["start"]:passive["end"]] == "be given"
    sentence = next(f for f in report["findings"] if f["kind"] == "long_sentence")
    assert text[sentence["start"]:sentence["end"]] == long
    assert report["reading_age"] > plain.TARGET_READING_AGE


def test_a_plain_message_has_a_low_reading_age_and_no_findings():
    report = plain.check("You can get a free flu vaccine. It helps keep you well this winter.")
    assert report["findings"] == []
    assert report["reading_age"] <= plain.TARGET_READING_AGE


def test_placeholders_found_in_a_real_message():
    text = ("Hi {first_name}, your NHS number is 943 476 5919. Come on Monday 3 March 2025 at "
            "9.30am or call 0121 496 0000. See https://www.nhs.uk/flu. Take paracetamol.")
    found = {(p.kind, p.text) for p in placeholders.find(text)}
    assert found >= {("field", "{first_name}"), ("nhs_number", "943 476 5919"),
                     ("date", "Monday 3 March 2025"), ("time", "9.30am"),
                     ("phone", "0121 496 0000"), ("url", "https://www.nhs.uk/flu"),
                     ("term", "NHS"), ("term", "paracetamol")}


def test_a_ten_digit_number_that_fails_the_nhs_check_digit_is_not_an_nhs_number():
    assert placeholders.is_nhs_number("943 476 5919")
    assert not placeholders.is_nhs_number("943 476 5918")


def test_protect_and_restore_round_trip_and_fixed_glossary_terms():
    text = "Call NHS 111 or your GP about {child_name}."
    guarded = placeholders.protect(text, placeholders.DO_NOT_TRANSLATE, {"GP": "جی پی"})
    assert "{child_name}" not in guarded.text and "NHS 111" not in guarded.text
    assert placeholders.restore(guarded.text, guarded) == "Call NHS 111 or your جی پی about {child_name}."


def test_a_lost_placeholder_is_reported():
    source = "Hi {first_name}, call 0121 496 0000."
    assert placeholders.missing(source, "Hola {first_name}, llame al 0121 496 0000.") == []
    problems = placeholders.missing(source, "Hola, llame al 0121 496 0000.")
    assert problems == [{"placeholder": "{first_name}", "kind": "field", "expected": 1, "found": 0}]


def test_sms_gsm7_counts_and_segments():
    assert sms.info("a" * 160) | {"warning": None} == {
        "encoding": "GSM-7", "characters": 160, "segments": 1, "per_segment": 160, "warning": None}
    assert sms.info("a" * 161)["segments"] == 2
    assert sms.info("a" * 306)["segments"] == 2
    assert sms.info("a" * 307)["segments"] == 3


def test_sms_gsm7_extension_characters_count_twice():
    # € and [ are in the GSM-7 extension table: an escape plus the character.
    assert sms.info("€" * 80) == {"encoding": "GSM-7", "characters": 160, "segments": 1,
                                  "per_segment": 160, "warning": None}
    over = sms.info("Cost: €5 [free for over 65s]" + "a" * 131)
    assert over["encoding"] == "GSM-7" and over["characters"] == 162 and over["segments"] == 2
    # An escape pair is never split between two segments.
    assert sms.info("a" * 152 + "[" + "a" * 153)["segments"] == 3


def test_sms_urdu_is_ucs2_with_70_and_67_character_segments():
    urdu = "آپ مفت فلو ویکسین لگوا سکتے ہیں۔"
    assert len(urdu) < 70
    assert sms.info(urdu)["encoding"] == "UCS-2" and sms.info(urdu)["segments"] == 1
    long = (urdu + " ") * 3
    info = sms.info(long)
    assert info["characters"] == len(long)
    assert info["segments"] == -(-len(long) // 67) and info["per_segment"] == 67


def test_sms_warns_past_three_segments():
    assert sms.info("a" * 459)["warning"] is None
    assert "4 SMS segments" in sms.info("a" * 460)["warning"]


@pytest.mark.parametrize("hyp, ref, low, high", [
    ("Book your flu vaccine today.", "Book your flu vaccine today.", 100, 100),
    ("Book your flu jab today.", "Book your flu vaccine today.", 50, 90),
    ("Zebra quantum.", "Book your flu vaccine today.", 0, 20),
])
def test_chrf_scores_back_translations(hyp, ref, low, high):
    assert low <= chrf(hyp, ref) <= high


def test_segments_keep_the_spaces_and_paragraphs_between_sentences():
    text = "Book your flu jab.  Call us at 9.30am.\n\nVisit the NHS website. Thanks!"
    segs = segments.split(text)
    assert [s.source for s in segs] == ["Book your flu jab.", "Call us at 9.30am.",
                                        "Visit the NHS website.", "Thanks!"]
    assert segments.join([s.source for s in segs], [s.sep for s in segs]) == text
    assert [s.source for s in segments.split("یہ پہلا جملہ ہے۔ یہ دوسرا ہے۔", "ur")] == [
        "یہ پہلا جملہ ہے۔", "یہ دوسرا ہے۔"]


@pytest.mark.parametrize("hyp, ref", [
    ("Book your flu jab today.", "Book your flu vaccine today."),
    ("آپ مفت فلو ویکسین لگوا سکتے ہیں۔", "آپ فلو کی ویکسین مفت لگوا سکتے ہیں۔"),
    # On a rounding boundary: cohear's own chrF said 31.3 here, sacrebleu says 31.2.
    ("GP", "GP hi ab"),
    ("hi", "hi call"),
])
def test_chrf_is_sacrebleu_s(hyp, ref):
    from sacrebleu.metrics import CHRF
    assert chrf(hyp, ref) == round(CHRF().sentence_score(hyp, [ref]).score, 1)
