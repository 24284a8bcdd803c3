"""A list to choose several things from whose chosen rows say so in characters, [x] and
[ ], as the Languages screen marks its rows: Textual's own button differs only by colour,
which a monochrome terminal, a screen reader or a colour-blind reader does not see."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import SelectionList


class MarkedSelectionList(SelectionList):
    """A SelectionList whose button reads `[x]` on a chosen row and `[ ]` on the others
    (the same width as Textual's button, so nothing else moves)."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        index = self.scroll_offset.y + y
        if len(segments) < 3 or index >= self.option_count:
            return strip
        chosen = self.get_option_at_index(index).value in self._selected
        marks = ("[", "x" if chosen else " ", "]")
        segments[:3] = [Segment(mark, seg.style) for mark, seg in zip(marks, segments[:3],
                                                                       strict=True)]
        return Strip(segments, strip.cell_length)
