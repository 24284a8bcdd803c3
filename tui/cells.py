"""How many terminal cells a character takes, as terminals count them: the review app lays
out every row by Rich's cell widths, so they must agree with the terminal's.

Rich's width table (from the wcwidth project) gives spacing combining marks (Unicode
category Mc: the vowel signs of Bengali, Devanagari, Gurmukhi, Gujarati and other
Indic scripts, such as the "ি" and "া" of "টিকা") no cell of their own. Terminals give
them one: glibc's wcwidth, which tmux and screen use, and the width tables of xterm and
VTE count every Mc mark as a cell (only Mn, Me and Cf take none). With Rich's count a
Bengali line drew wider in tmux than the app laid it out, pushing the panel beside it
off the screen ("made from earlier wor"). `count_spacing_marks` gives each Mc mark the
cell the terminal gives it (two for the few East Asian wide ones), in the table Rich and
Textual read, once, before anything is drawn.

A terminal that shapes whole grapheme clusters into cells of its own choosing (some
newer emulators) may still draw Indic conjuncts narrower; rows then end short of their
border rather than pushing it aside.
"""

from __future__ import annotations

import sys
import unicodedata

_done = False


def _mark_width(codepoint: int) -> int:
    return 2 if unicodedata.east_asian_width(chr(codepoint)) in ("W", "F") else 1


def _split(start: int, end: int, width: int) -> list[tuple[int, int, int]]:
    """One zero-width range of the table, with its spacing marks given their cells."""
    out: list[tuple[int, int, int]] = []
    for cp in range(start, end + 1):
        cells = _mark_width(cp) if unicodedata.category(chr(cp)) == "Mc" else width
        if out and out[-1][2] == cells and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp, cells)
        else:
            out.append((cp, cp, cells))
    return out


def count_spacing_marks() -> None:
    """Make Rich (and so Textual) count spacing combining marks as terminals do. Safe to
    call more than once."""
    global _done
    if _done:
        return
    from rich import cells
    from rich._unicode_data import load

    table = load("auto").widths
    fixed: list[tuple[int, int, int]] = []
    for start, end, width in table:
        fixed.extend(_split(start, end, width) if width == 0 else [(start, end, width)])
    # The table is a list Rich searches on every lookup: changed in place, every module
    # that imported Rich's functions by name sees the new widths.
    table[:] = fixed
    cells.get_character_cell_size.cache_clear()
    cells.cached_cell_len.cache_clear()
    # Textual keeps its own reference to the cached measure.
    textual_cells = sys.modules.get("textual._cells")
    if textual_cells is not None and hasattr(textual_cells.cell_len, "cache_clear"):
        textual_cells.cell_len.cache_clear()
    _done = True
