"""The one rule for the characters people's words may hold: what XML 1.0 can hold.

XLSX, REFI-QDA, XLIFF and the codebook files are XML, and XML 1.0 cannot hold C0
control characters other than tab, line feed and carriage return (U+0000-U+0008,
U+000B, U+000C, U+000E-U+001F), lone surrogates, U+FFFE or U+FFFF. So:

- **At input** every text field a person types (API bodies through the `Text` type,
  and the services behind the CLI, the TUI and imports through `check`) refuses such a
  character with a 422 that names its code point, never the words around it.
- **On the way out** words stored before this rule, or written by a machine (Whisper),
  may still hold one: every XML writer passes text through `xml_safe`, which puts
  U+FFFD (the replacement character, `REPLACEMENT`) in its place, so an export never
  fails on one; the data dictionaries say so.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

from cohear.errors import Unprocessable

REPLACEMENT = "\ufffd"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

RULE = ("characters XML cannot hold (control characters other than tab and line breaks, "
        "lone surrogates, U+FFFE, U+FFFF) are refused when typed; any already stored "
        "(older data, machine transcripts) are written as U+FFFD")


def first_unsafe(value: str) -> str | None:
    """The first character of `value` that XML cannot hold, or None."""
    found = _NOT_XML.search(value)
    return found.group() if found else None


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def check(value: str | None, field: str) -> str | None:
    """`value` unchanged, or Unprocessable (422) naming the field and the character
    (never the words: they may be a respondent's)."""
    if value is None:
        return None
    bad = first_unsafe(value)
    if bad is not None:
        raise Unprocessable(
            f"the {field} holds the invisible control character {_describe(bad)}, which "
            "cohear cannot store", fix="retype the text or paste it as plain text, without it")
    return value


def check_all(values: dict[str, str | None]) -> None:
    """`check` each of {field name: value}."""
    for field, value in values.items():
        check(value, field)


def check_each(values, field: str) -> None:
    """`check` every string among `values` (a list of choices, tags, segments...)."""
    for value in values or ():
        if isinstance(value, str):
            check(value, field)


def letters_and_digits(value: str | None) -> int:
    """How many letters and digits (Unicode categories L and N) `value` holds: what a
    note says, not its length. Dots, spaces, punctuation and invisible characters
    (zero-width spaces, soft hyphens, Braille blanks) count for nothing, in any script."""
    return sum(1 for ch in value or "" if unicodedata.category(ch)[0] in "LN")


def xml_safe(value: str | None) -> str:
    """`value` with every character XML cannot hold replaced by U+FFFD ('' for None)."""
    if not value:
        return ""
    return _NOT_XML.sub(REPLACEMENT, value)


def _validate(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text holds a lone surrogate (half of a character); "
                         "send it as proper UTF-8") from None
    bad = first_unsafe(value)
    if bad is not None:
        raise ValueError(f"the text holds the invisible control character {_describe(bad)}, "
                         "which cohear cannot store; retype or paste it as plain text without it")
    return value


# Every text field of every request body: a pydantic `str` that refuses what `check` does.
Text = Annotated[str, AfterValidator(_validate)]
