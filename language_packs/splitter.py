"""Offline sentence splitting for translation: pysbd where it knows the language, and
a rule-based splitter for the rest (danda ।, Urdu full stop ۔, Arabic ؟, Chinese 。).

Every splitter returns (sentence, separator) pairs whose concatenation is the input
exactly, so a translated text keeps its spacing and line breaks.
"""

from __future__ import annotations

import functools
import re
import threading

# Languages pysbd has rules for, by cohear tag (pysbd's code on the right).
PYSBD_LANGUAGES = {"en": "en", "ur": "ur", "ar": "ar", "fa": "fa", "pl": "pl", "hi": "hi",
                   "zh-Hans": "zh", "zh-Hant": "zh", "es": "es", "fr": "fr", "it": "it",
                   "sk": "sk"}

# Sentence-ending marks: Latin, Devanagari/Bengali danda and double danda, Urdu full stop,
# Arabic question mark, and the full-width CJK marks.
_ENDERS = ".!?।॥۔؟。！？"
_CLOSERS = "\"'”’»)]}」』"
_CJK_ENDERS = "。！？"
# A sentence ends at an ender (plus closing quotes/brackets) followed by space or the end;
# CJK marks end a sentence even with no space after them.
_RULE = re.compile(rf"(?:[{re.escape(_ENDERS)}]+[{re.escape(_CLOSERS)}]*(?=\s|$)"
                   rf"|[{_CJK_ENDERS}]+[{re.escape(_CLOSERS)}]*)(\s*)")
# Very long "sentences" (lists, run-ons) are cut at a space so no model input gets too long.
MAX_SENTENCE_CHARS = 400

_local = threading.local()


def _segmenter(code: str):
    cache = getattr(_local, "segmenters", None)
    if cache is None:
        cache = _local.segmenters = {}
    if code not in cache:
        import pysbd
        cache[code] = pysbd.Segmenter(language=code, clean=False, char_span=True)
    return cache[code]


def split_rules(text: str) -> list[tuple[str, str]]:
    """The rule-based splitter: (sentence, following whitespace) pairs."""
    out: list[tuple[str, str]] = []
    start = 0
    for m in _RULE.finditer(text):
        out.append((text[start:m.start(1)], m.group(1)))
        start = m.end()
    if start < len(text):
        out.append((text[start:], ""))
    return out


def _split_pysbd(text: str, code: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    for span in _segmenter(code).segment(text):
        # pysbd's spans include the trailing whitespace; move it to the separator.
        if span.start > pos:  # pysbd skipped something (leading space): keep it
            if out:
                out[-1] = (out[-1][0], out[-1][1] + text[pos:span.start])
            else:
                out.append(("", text[pos:span.start]))
        chunk = text[span.start:span.end]
        body = chunk.rstrip()
        out.append((body, chunk[len(body):]))
        pos = span.end
    if pos < len(text):
        rest = text[pos:]
        body = rest.rstrip()
        out.append((body, rest[len(body):]))
    return out


def _cut_long(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for sentence, sep in pairs:
        while len(sentence) > MAX_SENTENCE_CHARS:
            cut = sentence.rfind(" ", 0, MAX_SENTENCE_CHARS)
            if cut <= 0:
                cut = MAX_SENTENCE_CHARS
            head, sentence = sentence[:cut], sentence[cut:]
            stripped = sentence.lstrip()
            out.append((head, sentence[:len(sentence) - len(stripped)]))
            sentence = stripped
        out.append((sentence, sep))
    return out


@functools.lru_cache(maxsize=4096)
def split_sentences(text: str, tag: str = "en") -> tuple[tuple[str, str], ...]:
    """Split `text` (in language `tag`) into (sentence, separator) pairs.

    Lines are split first (a message's line breaks always end a sentence), then each
    line with pysbd for the languages it supports, else with the rules. Leading
    whitespace comes back as a first pair with an empty sentence. Joining every
    sentence and separator gives back `text` exactly.
    """
    code = PYSBD_LANGUAGES.get(tag)
    pairs: list[tuple[str, str]] = []
    for line in re.split(r"(\n\s*)", text):
        if not line:
            continue
        if not line.strip():
            if pairs:
                pairs[-1] = (pairs[-1][0], pairs[-1][1] + line)
            else:
                pairs.append(("", line))
            continue
        lead = line[:len(line) - len(line.lstrip())]
        if lead:
            if pairs:
                pairs[-1] = (pairs[-1][0], pairs[-1][1] + lead)
            else:
                pairs.append(("", lead))
            line = line[len(lead):]
        pieces = _split_pysbd(line, code) if code else split_rules(line)
        pairs.extend(p for p in pieces if p[0] or p[1])
    return tuple(_cut_long(pairs))
