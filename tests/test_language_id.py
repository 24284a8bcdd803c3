"""Language identification on short health sentences in the region's languages: the
trained model (lingua, from its wheel, offline) where it knows the language, cohear's
rules where it does not; better than the rules alone, language by language."""

from __future__ import annotations

import pytest

from language_packs import detect as lid
from tests.health_sentences import SENTENCES


def right(run, tag: str) -> int:
    return sum(run(s)[0]["language"] == tag for s in SENTENCES[tag])


@pytest.mark.parametrize("tag", sorted(SENTENCES))
def test_each_language_is_found_at_least_as_often_as_by_the_rules(tag):
    found, ruled = right(lid.detect, tag), right(lid.detect_by_rules, tag)
    assert found >= ruled, (tag, found, ruled)
    # At most one short sentence of eight wrong (Shahmukhi read as Urdu, a Pashto
    # sentence without Pashto letters as Persian, Chinese written alike in both scripts).
    assert found >= len(SENTENCES[tag]) - 1, (tag, found)


def test_the_whole_set():
    total = sum(len(s) for s in SENTENCES.values())
    found = sum(right(lid.detect, tag) for tag in SENTENCES)
    assert found / total >= 0.98, found / total


def test_the_model_is_built_once_per_process_and_loads_offline():
    first = lid.model()
    assert lid.model() is first
    assert lid.detect("Dziękuję za pomoc.")[0] == {"language": "pl",
                                                  "confidence": pytest.approx(100, abs=50)}


def test_low_memory_mode_and_a_bad_setting(monkeypatch):
    monkeypatch.setattr(lid, "_model", None)
    monkeypatch.setenv("COHEAR_LANGUAGE_ID", "low-memory")
    assert lid.detect("Mulțumesc pentru ajutor.")[0]["language"] == "ro"
    monkeypatch.setattr(lid, "_model", None)
    monkeypatch.setenv("COHEAR_LANGUAGE_ID", "fast")
    from cohear.errors import SettingsError
    with pytest.raises(SettingsError, match="COHEAR_LANGUAGE_ID"):
        lid.detect("Dziękuję za pomoc.")
    monkeypatch.setattr(lid, "_model", None)
