"""How people's words are shown on a terminal: right-to-left scripts as they are, or,
in the reordering display mode, shaped and put in visual order for terminals that cannot.

Display only: nothing here is ever written back to the store.
"""

from __future__ import annotations

import unicodedata

import arabic_reshaper
from bidi import get_display
from rich.text import Text

# Scripts written right to left among the region's languages (and Hebrew, Thaana, Syriac).
_RTL_BIDI_CLASSES = {"R", "AL"}


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


def for_terminal(text: str, *, reorder: bool) -> str:
    """`text` as the terminal should receive it. With `reorder`, each line holding
    right-to-left letters is shaped (Arabic letters joined into their contextual forms)
    and reordered into visual order, for terminals that lay out characters as they come."""
    if not reorder or not text or not has_rtl(text):
        return text
    return "\n".join(get_display(arabic_reshaper.reshape(line)) if has_rtl(line) else line
                     for line in text.split("\n"))


def words(text: str | None, *, reorder: bool, style: str = "") -> Text:
    """A Rich Text of someone's words for a widget, never parsed as markup."""
    return Text(for_terminal(text or "", reorder=reorder), style=style)
