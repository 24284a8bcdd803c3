"""The one rule for the characters people's words may hold: text, not control codes.

XLSX, REFI-QDA, XLIFF and the codebook files are XML, and XML 1.0 cannot hold C0
control characters other than tab, line feed and carriage return (U+0000-U+0008,
U+000B, U+000C, U+000E-U+001F), lone surrogates, U+FFFE or U+FFFF. Terminals (the
review app) act on every control character: ESC (U+001B) starts sequences that retitle
a window, write the clipboard or wipe the screen, and DEL (U+007F) and the C1 controls
(U+0080-U+009F, U+009B being a one-character CSI) do as much on some terminals. So:

- **At input** every text field a person types (API bodies through the `Text` type,
  and the services behind the CLI, the TUI and imports through `check`) refuses such a
  character (XML's rule, plus DEL and C1, which no one types as words) with a 422 that
  names its code point, never the words around it.
- **Machine-made words** (Whisper's transcripts and words, a worker's posted result,
  the translation engine's output) are not refused, since nobody can retype them: they
  pass through `machine_text` before they are stored, which keeps tab and line feed,
  turns a carriage return (alone or before a line feed) into a line feed, and puts
  U+FFFD (the replacement character, `REPLACEMENT`) in place of every other control
  character, so a reader sees that something was there and no terminal acts on it.
- **On the way out** words stored before these rules may still hold one: every XML
  writer passes text through `xml_safe` (U+FFFD in place of what XML cannot hold), so
  an export never fails on one, and the review app shows stored text through
  `tui.display.safe` (`terminal_safe` below), so none reaches a terminal.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from cohear.errors import Unprocessable

REPLACEMENT = "\ufffd"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What typed text may not hold: what XML cannot, plus DEL and the C1 controls.
_NOT_TYPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# What no stored machine text and no terminal row may hold: every control character but
# tab and line feed (carriage returns are made line feeds first), and what XML cannot.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NOT_TYPED_OR_LONE_CR = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]|\r(?!\n)")
_CARRIAGE_RETURN = re.compile("\r\n?")

RULE = ("control characters other than tab and line breaks (and characters XML cannot "
        "hold: lone surrogates, U+FFFE, U+FFFF) are refused when typed and replaced by "
        "U+FFFD in machine transcripts and translations; any stored before this rule are "
        "written as U+FFFD where XML cannot hold them")


def first_unsafe(value: str) -> str | None:
    """The first character of `value` that typed text may not hold, or None."""
    found = _NOT_TYPED.search(value)
    return found.group() if found else None


def terminal_safe(value: str | None, *, keep_length: bool = False) -> str:
    """`value` with no control character a terminal acts on: carriage returns become
    line feeds, tab and line feed stay, every other control character (C0, DEL, C1),
    lone surrogate, U+FFFE and U+FFFF becomes U+FFFD ('' for None). With `keep_length`
    (for a text editor, which splits lines itself) a carriage return before a line feed
    stays, a lone one becomes U+FFFD, and every replacement is one for one, so offsets
    into `value` still hold."""
    if not value:
        return ""
    if keep_length:
        return _NOT_TYPED_OR_LONE_CR.sub(REPLACEMENT, value)
    if "\r" in value:
        value = _CARRIAGE_RETURN.sub("\n", value)
    return _CONTROL.sub(REPLACEMENT, value)


def machine_text(value: str | None) -> str:
    """Machine-made words (a transcript, a segment, a translation) as cohear stores them:
    `terminal_safe`, so neither an export nor a reader's terminal meets a control code."""
    return terminal_safe(value)


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
