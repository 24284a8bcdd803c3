"""How people's words are shown on a terminal: right-to-left scripts as they are, or,
in the reordering display mode (F2), shaped and put in visual order for terminals that
cannot. Either way rows break at word boundaries: the text is wrapped in its logical
(stored) order first, and only then is each visual line reordered, so a line holds the
words a reader expects on it and a word is never cut in two.

Every text the review app did not write itself (words, names, titles, notes, anything
read from the store) reaches the terminal through `safe`: a control character in it
(ESC starting a sequence that retitles the window or wipes the screen, a carriage
return that overwrites a row, C1 controls) is shown as U+FFFD and never sent as such.
Words stored before cohear refused control characters, or posted by a worker, may hold
them (cohear/text.py).

Display only: nothing here is ever written back to the store.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import arabic_reshaper
from bidi import get_display
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from cohear.text import terminal_safe

# Letters written right to left (Arabic script, Hebrew, Thaana, Syriac...).
_RTL_BIDI_CLASSES = {"R", "AL"}
_LTR_BIDI_CLASSES = {"L"}
ELLIPSIS = "…"


def safe(text: str | None, *, keep_length: bool = False) -> str:
    """`text` with no control character a terminal would act on: each becomes U+FFFD
    (tab and line feed stay; a carriage return becomes a line feed). With `keep_length`
    (for a text editor, which splits lines itself and whose positions are offsets into
    the stored text) a carriage return before a line feed stays, a lone one is shown as
    U+FFFD, and every replacement is one for one."""
    return terminal_safe(text, keep_length=keep_length)


def safe_text(text: str | None, style: str = "") -> Text:
    """`safe` text as a Rich Text (never read as markup)."""
    return Text(safe(text), style=style)


def language_is_rtl(language: str | None) -> bool:
    """True when the registry says the language is written right to left."""
    if not language:
        return False
    try:
        from language_packs.registry import get_language
        return get_language(language).direction == "rtl"
    except Exception:  # noqa: BLE001 - an unknown tag is simply shown left to right
        return False


def has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in _RTL_BIDI_CLASSES for ch in text or "")


def starts_rtl(text: str) -> bool:
    """True when the first strong letter is right to left: the paragraph's direction
    (Unicode's rule P2), which decides which side its lines are flush with."""
    for ch in text or "":
        kind = unicodedata.bidirectional(ch)
        if kind in _RTL_BIDI_CLASSES:
            return True
        if kind in _LTR_BIDI_CLASSES:
            return False
    return False


def visual(line: str) -> str:
    """One visual line of logical text, shaped and in display order (left to right)."""
    if not has_rtl(line):
        return line
    return get_display(arabic_reshaper.reshape(line))


def for_terminal(text: str, *, reorder: bool) -> str:
    """`text` as the terminal should receive it, line by line as stored (no wrapping).
    With `reorder`, each line holding right-to-left letters is shaped (Arabic letters
    joined into their contextual forms) and put in visual order."""
    text = safe(text)
    if not reorder or not text or not has_rtl(text):
        return text
    return "\n".join(visual(line) for line in text.split("\n"))


def _words_of(paragraph: str) -> list[str]:
    """The paragraph as words, each with the spaces that follow it."""
    out: list[str] = []
    word = ""
    for ch in paragraph:
        if ch == " " and word and not word.endswith(" "):
            word += ch
            continue
        if ch != " " and word.endswith(" "):
            out.append(word)
            word = ""
        word += ch
    if word:
        out.append(word)
    return out


def _hard_split(word: str, width: int) -> Iterator[str]:
    """A word wider than a whole line, cut into line-wide pieces (nothing else fits)."""
    piece = ""
    for ch in word:
        if piece and cell_len(piece + ch) > width:
            yield piece
            piece = ""
        piece += ch
    if piece:
        yield piece


def wrap_logical(text: str, width: int) -> list[str]:
    """`text` in stored order, broken into lines of at most `width` cells at word
    boundaries (a word is cut only when it is wider than a line by itself)."""
    width = max(1, width)
    lines: list[str] = []
    for paragraph in (text or "").split("\n"):
        line = ""
        for word in _words_of(paragraph):
            if cell_len(line + word.rstrip(" ")) <= width:
                line += word
                continue
            if line:
                lines.append(line.rstrip(" "))
                line = ""
            if cell_len(word.rstrip(" ")) > width:
                *whole, rest = list(_hard_split(word.rstrip(" "), width))
                lines.extend(whole)
                line = rest + " "
            else:
                line = word
        lines.append(line.rstrip(" "))
    return lines


def visual_lines(text: str, width: int, *, reorder: bool, justify: bool = True) -> list[str]:
    """The rows to draw for `text` in `width` cells: wrapped at word boundaries in stored
    order, then, with `reorder`, each row shaped and reordered; a right-to-left paragraph's
    rows are then flush right (with `justify`), as its reader expects."""
    rows = []
    for paragraph in safe(text).split("\n"):
        wrapped = wrap_logical(paragraph, width)
        rtl = reorder and starts_rtl(paragraph)
        for row in wrapped:
            shown = visual(row) if reorder else row
            if rtl and justify:
                shown = " " * max(0, width - cell_len(shown)) + shown
            rows.append(shown)
    return rows


def one_line(text: str | None, width: int, *, reorder: bool) -> str:
    """A preview of `text` on one row of at most `width` cells: the first words that fit
    (cut at a word boundary, with an ellipsis), then reordered with `reorder`."""
    flat = " ".join(safe(text).split())
    if cell_len(flat) > width:
        first = wrap_logical(flat, max(1, width - 1))[0]
        flat = first + ELLIPSIS
    return visual(flat) if reorder else flat


class Words:
    """Someone's words as a Rich renderable that wraps to the width it is given: in the
    reordering mode it wraps the logical text itself and reorders each row; otherwise it
    leaves both to Rich and the terminal (which wrap at word boundaries and, with bidi
    support, lay each row out). Never parsed as markup."""

    def __init__(self, text: str | None, *, reorder: bool, style: str = ""):
        self.text = safe(text)
        self.reorder = reorder and has_rtl(self.text)
        self.style = style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.reorder:
            yield Text(self.text, style=self.style)
            return
        rows = visual_lines(self.text, options.max_width, reorder=True)
        yield Text("\n".join(rows), style=self.style, no_wrap=True, overflow="crop")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = max((cell_len(line) for line in self.text.split("\n")), default=0)
        longest_word = max((cell_len(w) for w in self.text.split()), default=0)
        return Measurement(min(longest_word, options.max_width),
                           min(widest, options.max_width))


def words(text: str | None, *, reorder: bool, style: str = "") -> Words:
    """Someone's words for a widget: see `Words`."""
    return Words(text, reorder=reorder, style=style)
