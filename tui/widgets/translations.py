"""Widgets of the translation screens: status colours, their legend, the grid, the
sentences side by side, and a message's languages."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

STATUS_STYLES = {
    "machine": "bold #5fafff",
    "needs_review": "bold #ffaf00",
    "stale": "bold #ff5f5f",
    "human_requested": "bold #d787ff",
    "received": "bold #5fd7d7",
    "approved": "bold #87d75f",
}
STATUS_WORDS = {
    "machine": "machine",
    "needs_review": "needs review",
    "stale": "stale",
    "human_requested": "human requested",
    "received": "received",
    "approved": "approved",
}


def status_text(status: str | None) -> Text:
    if status is None:
        return Text("-", style="dim")
    return Text(STATUS_WORDS.get(status, status), style=STATUS_STYLES.get(status, ""))


def legend() -> Text:
    """Each status in its colour, and how a group's row counts ("5/58")."""
    out = Text()
    for i, status in enumerate(STATUS_STYLES):
        if i:
            out.append("  ")
        out.append_text(status_text(status))
    out.append("  ·  a group's row: approved/all", style="dim")
    return out


class TranslationGrid(DataTable):
    """Messages by languages; Enter opens the translation under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open translation")]


class SentenceTable(DataTable):
    """The side-by-side review: one row per sentence of the source, with its translation,
    its back-translation and that pair's chrF, and whether translation memory gave it.
    Each cell's words wrap between words onto as many lines as they need; right-to-left
    words are reordered in the F2 mode."""

    # "#", chrF and memory columns, one cell of padding each side of six columns, and
    # the vertical scroll bar.
    FIXED = 3 + 6 + 7 + 6 * 2 + 2

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.sentences: list[dict] = []
        self.reorder = False
        self._shown_width = 0

    def column_width(self) -> int:
        width = self.scrollable_content_region.width or self.app.size.width * 2 // 3
        return max(12, (width - self.FIXED) // 3)

    def show(self, sentences: list[dict], *, reorder: bool) -> None:
        from tui.display import visual_lines
        self.sentences, self.reorder = sentences, reorder
        width = self.column_width()
        self._shown_width = width
        row = self.cursor_row
        self.clear(columns=True)
        self.add_column("#", width=3)
        self.add_column("source", width=width)
        self.add_column("translation", width=width)
        self.add_column("back-translation", width=width)
        self.add_column("chrF", width=6)
        self.add_column("memory", width=7)
        for i, s in enumerate(sentences, start=1):
            cells = [visual_lines(s.get(k) or "", width, reorder=reorder, justify=True)
                     for k in ("source", "target", "back")]
            height = max(1, *(len(c) for c in cells))
            score = s.get("similarity")
            low = score is not None and score < 50
            self.add_row(str(i), *[Text("\n".join(c), no_wrap=True, overflow="crop",
                                        style="" if k != "back" or s.get("back") else "dim")
                                   for c, k in zip(cells, ("source", "target", "back"))],
                         Text("-" if score is None else f"{score:.0f}",
                              style="bold #ff5f5f" if low else ""),
                         Text("reused" if s.get("reused") else "", style="bold #5fd7d7"),
                         key=str(i), height=height)
        if sentences:
            self.move_cursor(row=min(row or 0, len(sentences) - 1), animate=False)

    def on_resize(self) -> None:
        if self.sentences and self.column_width() != self._shown_width:
            self.show(self.sentences, reorder=self.reorder)


class LanguageTable(DataTable):
    """A message's languages, one a row; Enter opens the side-by-side review."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Compare")]
