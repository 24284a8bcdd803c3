"""The plain-language check of a message's English source: reading age, long
sentences, passive voice and medical jargon, each finding with character offsets.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import textstat

from comms.jargon import JARGON
from comms.segments import split

# NHS content aims for a reading age of 9 to 11. UK reading age is the US school
# grade (Flesch-Kincaid) plus five years.
TARGET_READING_AGE = 11
LONG_SENTENCE_WORDS = 25

_IRREGULAR_PARTICIPLES = (
    "given|taken|seen|known|done|made|written|shown|told|sent|found|held|kept|left|"
    "brought|bought|caught|taught|thought|paid|put|set|cut|hit|read|run|won|begun|"
    "chosen|driven|eaten|fallen|forgotten|gotten|hidden|ridden|risen|spoken|stolen|"
    "sworn|thrown|woken|worn|drawn|grown|flown|blown|broken|frozen|beaten|bitten|"
    "felt|heard|lost|meant|met|sold|stood|understood|offered|seen"
)
_PASSIVE = re.compile(
    r"\b(?:am|is|are|was|were|be|been|being)\s+(?:(?:not|also|then|now|usually|often|"
    r"\w+ly)\s+)?(?:\w+ed|" + _IRREGULAR_PARTICIPLES + r")\b", re.IGNORECASE)
# Adjectives ending in -ed that read as active ("you are tired"): not passive voice.
_NOT_PASSIVE = {"tired", "worried", "interested", "concerned", "married", "pleased",
                "scared", "bored", "excited", "qualified", "registered", "supposed",
                "needed", "allowed"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_JARGON = re.compile(
    r"\b(" + "|".join(re.escape(t) for t in sorted(JARGON, key=len, reverse=True)) + r")\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    kind: str          # reading_age, long_sentence, passive_voice, jargon
    start: int         # character offsets into the source text
    end: int
    text: str
    message: str
    suggestion: str | None = None


def reading_age(text: str) -> float:
    """UK reading age in years: Flesch-Kincaid grade + 5, never below 5."""
    return round(max(0.0, textstat.flesch_kincaid_grade(text)) + 5, 1)


def check(text: str) -> dict:
    """Every finding in `text`, sorted by where it starts, with the reading age."""
    findings: list[Finding] = []
    age = reading_age(text) if _WORD.search(text) else 0.0
    if age > TARGET_READING_AGE:
        findings.append(Finding(
            "reading_age", 0, len(text), text[:60],
            f"reading age is {age:g}; NHS content aims for 9 to 11",
            "use shorter sentences and everyday words"))
    for seg in split(text, "en"):
        words = _WORD.findall(seg.source)
        if len(words) > LONG_SENTENCE_WORDS:
            findings.append(Finding(
                "long_sentence", seg.start, seg.start + len(seg.source), seg.source,
                f"this sentence has {len(words)} words; keep sentences under "
                f"{LONG_SENTENCE_WORDS} (15 to 20 is better)",
                "split it into two sentences"))
    for m in _PASSIVE.finditer(text):
        if m.group(0).split()[-1].lower() in _NOT_PASSIVE:
            continue
        findings.append(Finding(
            "passive_voice", m.start(), m.end(), m.group(0),
            f"'{m.group(0)}' may be passive voice",
            "say who does what: 'we will send you' rather than 'you will be sent'"))
    for m in _JARGON.finditer(text):
        plain = JARGON[m.group(0).lower()]
        findings.append(Finding(
            "jargon", m.start(), m.end(), m.group(0),
            f"'{m.group(0)}' is jargon", f"say '{plain}'"))
    findings.sort(key=lambda f: (f.start, f.kind))
    return {"reading_age": age, "target_reading_age": f"9 to {TARGET_READING_AGE}",
            "words": len(_WORD.findall(text)),
            "findings": [asdict(f) for f in findings]}
