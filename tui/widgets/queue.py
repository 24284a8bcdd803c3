"""Widgets of the queue screen: the filter bar, the per-status counts and the table."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Select, Static

from tui.display import safe

FILTERS = ("survey", "language", "status", "kind", "collector", "code")
# What a blank filter means, shown as its prompt.
BLANK = {"kind": "voice, typed"}


class FilterBar(Horizontal):
    """One drop-down per filter; blank means any."""

    def __init__(self, choices: dict[str, list[tuple[str, int | str]]], **kwargs):
        super().__init__(**kwargs)
        self.choices = choices

    def compose(self) -> ComposeResult:
        for name in FILTERS:
            # Survey titles, people's and codes' names: shown through `safe`.
            options = [(safe(label), value) for label, value in self.choices.get(name, [])]
            yield Select(options, prompt=BLANK.get(name, f"any {name}"),
                         id=f"filter-{name}", allow_blank=True, classes="filter")


class StatusCounts(Static):
    """"safeguarding 2 · new 10 · transcribed 5 · verified 3 · all 18"."""

    def show(self, counts: dict[str, int]) -> None:
        text = Text()
        parts = [("safeguarding", "bold red"), ("new", "bold"), ("transcribed", "bold yellow"),
                 ("verified", "bold green"), ("all", "bold")]
        for i, (name, style) in enumerate(parts):
            if i:
                text.append("  ·  ", style="dim")
            text.append(f"{name} ")
            text.append(f"{counts.get(name, 0):,}", style=style)
        hidden = counts.get("hidden_choices", 0)
        if hidden:
            text.append(f"  (+{hidden:,} scale/choice: kind filter)", style="dim")
        self.update(text)


class QueueTable(DataTable):
    """The answers, one per row; Enter opens the highlighted one (shown in the footer)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Review")]
