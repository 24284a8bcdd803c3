"""A reviewer's correction of a transcript (README, "Voice answers"): each is a new version
and earlier versions stay; a segment the reviewer corrects is one they heard, so it is no
longer rejected; a segment they remove is marked so; replacing the whole text gives one
segment over the speech the machine kept; an English-only correction is a correction; an
empty one is refused; words with control characters are refused and nothing is stored."""

from __future__ import annotations

import pytest

from cohear import audit
from cohear.errors import BadInput, Unprocessable
from speech import service
from speech.transcribe import LanguageFinding, Segment, Transcription
from tests.test_speech_ingest import FLU, upload


@pytest.fixture
def heard(store, people):
    """A machine transcript of three segments, the middle one rejected by a guard."""
    collector = people["collector"][0]
    rec = upload(store, collector, FLU.read_bytes())
    segments = [Segment(0, 0.5, 1.5, "My mother", -0.2, 0.05, 1.0),
                Segment(1, 1.5, 2.5, "thank you thank you", -0.2, 0.05, 1.0,
                        rejected_reason="repeats an earlier segment"),
                Segment(2, 2.5, 3.6, "needs the flu vaccine", -0.2, 0.05, 1.0)]
    with store.transaction() as conn:
        service.save_machine_transcript(conn, rec.id, None, Transcription(
            LanguageFinding(None, "en", 0.9, "en"), segments, 3.9), {}, {})
    return rec.id


def test_a_corrected_segment_was_heard_so_it_is_no_longer_rejected(store, people, heard):
    reviewer = people["reviewer"][0]
    before = service.transcript(store, heard, reviewer)
    assert before["segments"][1]["rejected"]
    after = service.correct(store, heard, reviewer, segments=[{"index": 1, "text": " and "}])
    seg = after["segments"][1]
    assert (seg["text"], seg["rejected"], seg["rejected_reason"]) == ("and", False, None)
    # Heard by a person: no longer shown as unsure. Segments not corrected keep theirs.
    assert seg["confidence"] == 1.0
    assert after["segments"][0]["confidence"] == before["segments"][0]["confidence"] < 1.0
    assert after["text"] == "My mother and needs the flu vaccine"
    assert after["version"] == 2 and after["note"] == ""
    assert service.transcript(store, heard, reviewer, version=1)["segments"][1]["rejected"]


def test_a_segment_removed_without_words_is_marked_and_left_out(store, people, heard):
    reviewer = people["reviewer"][0]
    after = service.correct(store, heard, reviewer, segments=[{"index": 0, "keep": False}])
    seg = after["segments"][0]
    assert (seg["text"], seg["rejected"], seg["rejected_reason"]) == ("", True, "removed by the reviewer")
    assert after["text"] == "needs the flu vaccine"


def test_the_whole_text_replaced_is_one_segment_over_the_speech_kept(store, people, heard):
    reviewer = people["reviewer"][0]
    after = service.correct(store, heard, reviewer, text=" My mother needs the vaccine. ")
    assert [(s["start"], s["end"], s["text"], s["rejected"], s["confidence"])
            for s in after["segments"]] == [(0.5, 3.6, "My mother needs the vaccine.", False, 1.0)]


def test_the_whole_text_replaced_where_the_machine_kept_nothing_spans_the_recording(store, people):
    """Every segment rejected (Whisper heard only hallucinations): the reviewer's words
    are one segment from the start to the end of the recording."""
    rec = upload(store, people["collector"][0], FLU.read_bytes())
    looped = [Segment(i, 1.0 + i, 2.0 + i, "thank you", -1.4, 0.9, 1.0,
                      rejected_reason="text over silence") for i in range(2)]
    with store.transaction() as conn:
        service.save_machine_transcript(conn, rec.id, None, Transcription(
            LanguageFinding(None, "en", 0.9, "en"), looped, 3.9), {}, {})
    reviewer = people["reviewer"][0]
    after = service.correct(store, rec.id, reviewer, text="My mother needs the flu vaccine")
    assert [(s["start"], s["end"], s["text"], s["rejected"], s["confidence"])
            for s in after["segments"]] == [
        (0.0, after["duration_seconds"], "My mother needs the flu vaccine", False, 1.0)]
    assert after["duration_seconds"] > 3


def test_an_english_only_correction_is_a_correction_and_an_empty_one_is_refused(store, people, heard):
    reviewer = people["reviewer"][0]
    after = service.correct(store, heard, reviewer, english="My mother needs the flu vaccine.")
    assert after["version"] == 2
    with pytest.raises(BadInput):
        service.correct(store, heard, reviewer)
    assert service.transcript(store, heard, reviewer)["version"] == 2


@pytest.mark.parametrize("edit, named", [
    ({"segments": [{"index": 2, "text": "bad\x07word"}]}, "the corrected segment holds"),
    ({"text": "bad\x07word"}, "the corrected text holds"),
    ({"english": "bad\x07word"}, "the English text holds"),
    ({"text": "fine", "note": "bad\x07note"}, "the note holds")])
def test_a_control_character_in_any_corrected_words_is_refused_and_nothing_stored(store, people, heard,
                                                                                 edit, named):
    """The refusal says which of the words sent holds the character (never the words)."""
    reviewer = people["reviewer"][0]
    with pytest.raises(Unprocessable) as refused:
        service.correct(store, heard, reviewer, **edit)
    assert refused.value.detail.startswith(named), refused.value.detail
    assert "bad" not in refused.value.detail
    assert service.transcript(store, heard, reviewer)["version"] == 1


def _machine(store, people, segments, english, language="en"):
    rec = upload(store, people["collector"][0], FLU.read_bytes())
    with store.transaction() as conn:
        service.save_machine_transcript(conn, rec.id, None, Transcription(
            LanguageFinding(None, language, 0.9, language), segments, 3.9), english, {})
    return rec.id


def test_an_english_recording_is_its_own_english_after_a_correction(store, people):
    """README: an English recording is its own English (`source`): the corrected words,
    at once, not the machine's words marked out of date."""
    said = "My mother needs the flu vaccine"
    rid = _machine(store, people, [Segment(0, 0.5, 3.6, said, -0.2, 0.05, 1.0)], {"source": said})
    after = service.correct(store, rid, people["reviewer"][0], text="My mother needs the vaccine")
    assert after["english"] == {"engine": "source", "text": "My mother needs the vaccine"}
    assert after["english_by_engine"] == {"source": "My mother needs the vaccine"}
    assert not after["english_stale"] and after["english_of_version"] == 2


def test_a_correction_that_keeps_the_words_keeps_the_machines_english_current(store, people):
    """A reviewer who confirms a segment's words (with a note) changes no words: the
    English rendered from them is still the English of the new version."""
    rid = _machine(store, people, [Segment(0, 0.5, 1.5, "میری ماں", -0.2, 0.05, 1.0),
                                   Segment(1, 1.5, 3.6, "فلو کی ویکسین", -0.9, 0.3, 1.0)],
                   {"argos": "My mother flu vaccine"}, language="ur")
    after = service.correct(store, rid, people["reviewer"][0],
                            segments=[{"index": 1, "text": "فلو کی ویکسین"}], note="checked")
    assert after["version"] == 2 and after["text"] == "میری ماں فلو کی ویکسین"
    assert after["english"] == {"engine": "argos", "text": "My mother flu vaccine"}
    assert not after["english_stale"] and after["english_of_version"] == 2


def test_each_correction_is_audited_with_the_version_words_and_english_before_and_after(store, people):
    """README: the audit log holds each correction's before and after. The English it
    records is the one shown: a current rendering before an out-of-date one."""
    rid = _machine(store, people, [Segment(0, 0.5, 1.5, "میری ماں", -0.2, 0.05, 1.0),
                                   Segment(1, 1.5, 3.6, "فلو ویکسین", -0.9, 0.3, 1.0)],
                   {"argos": "My mother flu vaccine", "whisper-translate": "Mother, flu vaccine"},
                   language="ur")
    reviewer = people["reviewer"][0]
    service.correct(store, rid, reviewer, segments=[{"index": 1, "text": "فلو کی ویکسین"}],
                    note="one word added")
    with store.transaction() as conn:  # Whisper's English of the corrected words arrives
        service.save_english(conn, rid, 2, "whisper-translate", "My mother, the flu vaccine")
    # The words confirmed unchanged: argos still renders version 1, whisper-translate is current.
    service.correct(store, rid, reviewer, segments=[{"index": 0, "text": "میری ماں"}], note="checked")
    entries = sorted((e for e in audit.entries(store.conn, entity="recording", entity_id=rid)
                      if e["action"] == "transcript.correct"), key=lambda e: e["id"])
    assert [(e["before"], e["after"], e["detail"]) for e in entries] == [
        ({"version": 1, "text": "میری ماں فلو ویکسین",
          "english": {"engine": "argos", "text": "My mother flu vaccine"}},
         {"version": 2, "text": "میری ماں فلو کی ویکسین",
          "english": {"engine": "argos", "text": "My mother flu vaccine"}, "note": "one word added"},
         "version 2"),
        ({"version": 2, "text": "میری ماں فلو کی ویکسین",
          "english": {"engine": "whisper-translate", "text": "My mother, the flu vaccine"}},
         {"version": 3, "text": "میری ماں فلو کی ویکسین",
          "english": {"engine": "whisper-translate", "text": "My mother, the flu vaccine"},
          "note": "checked"},
         "version 3")]


def test_a_correction_returns_the_version_it_saved_though_another_lands_at_once(store, people, heard,
                                                                               monkeypatch):
    """Two reviewers at the same moment: each is given back the version they saved, not
    the other's (planted: the second correction commits just before the first reads back)."""
    first, second = people["reviewer"][0], people["admin"][0]
    real = service.transcript
    reads = []

    def read(store_, recording_id, user, version=None):
        reads.append(version)
        if len(reads) == 2:  # the first correction is saved, not yet read back
            monkeypatch.setattr(service, "transcript", real)
            service.correct(store, heard, second, text="Someone else's words")
        return real(store_, recording_id, user, version)

    monkeypatch.setattr(service, "transcript", read)
    mine = service.correct(store, heard, first, text="My mother needs the flu vaccine")
    assert (mine["version"], mine["text"], mine["author"]) == (2, "My mother needs the flu vaccine",
                                                              first.name)
    assert real(store, heard, first)["version"] == 3
