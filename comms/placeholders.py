"""Placeholders and protected terms: found in a source text, swapped for opaque
tokens before machine translation, restored after, and checked in every translation.

Placeholders are what must come through word for word: `{first_name}`, dates, times,
UK phone numbers, NHS numbers, web and email addresses. Protected terms are names kept
as they are (NHS, GP, A&E, NHS 111, medicine names) or given a fixed translation from
the glossary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

# Names that stay in English in every language unless the glossary says otherwise.
DO_NOT_TRANSLATE = (
    "NHS 111", "NHS App", "NHS", "GP", "A&E", "COVID-19", "MMR", "HPV", "BCG",
    "paracetamol", "ibuprofen", "amoxicillin", "aspirin", "metformin", "insulin",
    "salbutamol", "omeprazole", "atorvastatin", "simvastatin", "ramipril", "amlodipine",
    "levothyroxine", "sertraline", "codeine", "naproxen", "Calpol",
)

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|"
           "November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("field", re.compile(r"\{\{?\s*[A-Za-z_][\w.]*\s*\}\}?")),
    ("url", re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)),
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("date", re.compile(rf"\b(?:(?:{_DAYS}),?\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})"
                        rf"\b(?:\s+\d{{4}})?")),
    ("date", re.compile(rf"\b(?:(?:{_DAYS}),?\s+)?(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?"
                        rf"\b(?:,?\s+\d{{4}})?")),
    ("date", re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b")),
    ("time", re.compile(r"\b\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm)\b|\b\d{1,2}:\d{2}\b",
                        re.IGNORECASE)),
]
_NHS_NUMBER = re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b")
_URL_TRAILING = ".,;:!?)]}'\""
TOKEN = "XX{}XX"
_TOKEN = re.compile(r"XX\s*(\d+)\s*XX")


@dataclass(frozen=True)
class Placeholder:
    kind: str      # field, url, email, date, time, phone, nhs_number, term
    text: str
    start: int
    end: int


def is_nhs_number(digits: str) -> bool:
    """The NHS number's modulus 11 check digit."""
    digits = re.sub(r"\D", "", digits)
    if len(digits) != 10:
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _candidates(text: str, terms: list[str]) -> list[tuple[int, int, int, str]]:
    found: list[tuple[int, int, int, str]] = []   # (start, end, priority, kind)
    for priority, (kind, pattern) in enumerate(_PATTERNS):
        for m in pattern.finditer(text):
            end = m.end()
            if kind == "url":
                while end > m.start() and text[end - 1] in _URL_TRAILING:
                    end -= 1
            found.append((m.start(), end, priority, kind))
    for m in _NHS_NUMBER.finditer(text):
        if is_nhs_number(m.group(0)):
            found.append((m.start(), m.end(), 10, "nhs_number"))
    for match in phonenumbers.PhoneNumberMatcher(text, "GB"):
        found.append((match.start, match.end, 11, "phone"))
    for term in sorted(set(terms), key=len, reverse=True):
        for m in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", text):
            found.append((m.start(), m.end(), 20, "term"))
    return found


def find(text: str, terms: list[str] | tuple[str, ...] = DO_NOT_TRANSLATE) -> list[Placeholder]:
    """Placeholders and protected terms in `text`, in order, never overlapping
    (a longer match wins; at equal length, a placeholder wins over a term)."""
    return list(_find(text, tuple(terms)))


# A message's source is checked once per language and again on every edit and approval;
# phone-number matching is the slow part, so the answers for recent texts are kept.
@lru_cache(maxsize=4096)
def _find(text: str, terms: tuple[str, ...]) -> tuple[Placeholder, ...]:
    chosen: list[Placeholder] = []
    taken_until = -1
    for start, end, _, kind in sorted(_candidates(text, list(terms)),
                                      key=lambda c: (c[0], -(c[1] - c[0]), c[2])):
        if start >= taken_until and end > start:
            chosen.append(Placeholder(kind, text[start:end], start, end))
            taken_until = end
    return tuple(chosen)


@dataclass
class Protected:
    text: str                     # with tokens in place of placeholders and terms
    replacements: list[str]       # what token n becomes after translation


def protect(text: str, terms: list[str] | tuple[str, ...] = DO_NOT_TRANSLATE,
            fixed: dict[str, str] | None = None) -> Protected:
    """Swap placeholders and terms for tokens the engine passes through untouched.
    A term in `fixed` comes back as its fixed translation, not as itself."""
    fixed = fixed or {}
    found = find(text, list(terms) + list(fixed))
    out, replacements, pos = [], [], 0
    for i, p in enumerate(found):
        out.append(text[pos:p.start])
        out.append(TOKEN.format(i))
        replacements.append(fixed.get(p.text, p.text) if p.kind == "term" else p.text)
        pos = p.end
    out.append(text[pos:])
    return Protected("".join(out), replacements)


def restore(translated: str, protected: Protected) -> str:
    """Put placeholders and terms back where the engine left their tokens. A token the
    engine dropped stays missing: `missing()` then reports the placeholder."""

    def swap(m: re.Match) -> str:
        n = int(m.group(1))
        return protected.replacements[n] if n < len(protected.replacements) else m.group(0)

    return _TOKEN.sub(swap, translated)


def missing(source: str, translation: str) -> list[dict]:
    """Placeholders of `source` (not terms) that `translation` no longer has, as many
    times as the source has them."""
    problems = []
    counted: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for p in find(source, ()):
        counted[p.text] = counted.get(p.text, 0) + 1
        kinds[p.text] = p.kind
    for text, wanted in counted.items():
        have = translation.count(text)
        if have < wanted:
            problems.append({"placeholder": text, "kind": kinds[text],
                             "expected": wanted, "found": have})
    return problems
