"""Sentence segments of a message: the unit of translation memory and of the
translator exchange files. Splitting is offline (pysbd, with a rule-based fallback).

The engine splits again inside each segment (language_packs.splitter); this module
keeps what memory and the plain-language check need besides: each sentence's offset
and the white space between sentences, so a translation can be rebuilt from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd
from pysbd.languages import LANGUAGE_CODES

# Sentence ends for languages pysbd does not know: full stop, danda, Urdu full stop,
# Arabic question mark and the CJK full stop.
_FALLBACK_END = re.compile(r"(?<=[.!?।۔؟。])\s+")
_PARAGRAPH = re.compile(r"\n\s*")


@dataclass(frozen=True)
class Segment:
    source: str   # the sentence, without surrounding white space
    start: int    # its offset in the message
    sep: str      # the white space that follows it in the message ("" at the end)


@lru_cache(maxsize=32)
def _segmenter(lang: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=lang, clean=False, char_span=True)


def _sentences(paragraph: str, lang: str) -> list[tuple[int, int]]:
    base = lang.split("-")[0].lower()
    if base in LANGUAGE_CODES:
        spans = [(s.start, s.end) for s in _segmenter(base).segment(paragraph)]
    else:
        spans, pos = [], 0
        for m in _FALLBACK_END.finditer(paragraph):
            spans.append((pos, m.start()))
            pos = m.start()
        spans.append((pos, len(paragraph)))
    out = []
    for start, end in spans:
        chunk = paragraph[start:end]
        stripped = chunk.strip()
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            out.append((start + lead, start + lead + len(stripped)))
    return out


def split(text: str, lang: str = "en") -> list[Segment]:
    """The sentences of `text`, keeping the white space between them so that joining
    every segment with its `sep` gives back the message (trimmed)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in list(_PARAGRAPH.finditer(text)) + [None]:
        end = m.start() if m else len(text)
        spans += [(pos + a, pos + b) for a, b in _sentences(text[pos:end], lang)]
        if m:
            pos = m.end()
    segments = []
    for i, (start, end) in enumerate(spans):
        nxt = spans[i + 1][0] if i + 1 < len(spans) else end
        segments.append(Segment(text[start:end], start, text[end:nxt]))
    return segments


def join(targets: list[str], seps: list[str]) -> str:
    return "".join(t + s for t, s in zip(targets, seps, strict=True)).strip()
