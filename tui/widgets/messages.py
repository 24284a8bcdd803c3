"""Widgets of the message screens: each state's colour and short mark, the legend, the
filter bar, the message list and the coverage map's grid."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Select

from tui.display import safe
from tui.widgets.translations import STATUS_STYLES, STATUS_WORDS

# The coverage map's cells: a two-letter mark on the state's colour, so the map reads in
# colour and without it (a screen reader, a monochrome terminal, a printed screenshot).
CELL_STYLES = {
    "machine": "bold #000000 on #5fafff",
    "needs_review": "bold #000000 on #ffaf00",
    "approved": "bold #000000 on #87d75f",
    "human_requested": "bold #000000 on #d787ff",
    "received": "bold #000000 on #5fd7d7",
    "stale": "bold #ffffff on #d70000",
    "none": "#8a8a8a",
    "no_path": "#6c6c6c",
}
CELL_MARKS = {"machine": "MT", "needs_review": "NR", "approved": "OK",
              "human_requested": "HR", "received": "IN", "stale": "ST", "none": "··",
              "no_path": "--"}
STATE_WORDS = STATUS_WORDS | {"none": "not started", "no_path": "no path"}
STATE_STYLES = STATUS_STYLES | {"none": "dim", "no_path": "bold #8a8a8a"}

FILTERS = ("kind", "channel", "audience", "tag", "owner", "language", "status", "stale")
# What a blank filter means, shown (dimmed) as its prompt: any, or health messages only.
BLANK = {"kind": "health only", "stale": "stale?"}


def cell(state: str) -> Text:
    return Text(CELL_MARKS.get(state, "??"), style=CELL_STYLES.get(state, ""))


def state_text(state: str | None) -> Text:
    if state is None:
        return Text("-", style="dim")
    return Text(STATE_WORDS.get(state, state), style=STATE_STYLES.get(state, ""))


def map_legend() -> Text:
    out = Text()
    for i, state in enumerate(CELL_MARKS):
        if i:
            out.append("  ")
        out.append_text(cell(state))
        out.append(f" {STATE_WORDS[state]}")
    return out


def summary(statuses: dict[str, str]) -> Text:
    """"2 approved · 1 stale · 1 machine": a message's languages by state."""
    counts: dict[str, int] = {}
    for state in statuses.values():
        counts[state] = counts.get(state, 0) + 1
    out = Text()
    for state in STATUS_STYLES:
        if counts.get(state):
            if out:
                out.append(" · ", style="dim")
            out.append(f"{counts[state]} {STATE_WORDS[state]}", style=STATE_STYLES[state])
    return out if out else Text("no translations", style="dim")


class MessageFilterBar(Horizontal):
    """One drop-down per filter; blank means any (and health messages for the kind)."""

    def __init__(self, choices: dict[str, list[tuple[str, object]]], **kwargs):
        super().__init__(**kwargs)
        self.choices = choices

    def compose(self) -> ComposeResult:
        yield Label("Filters (f):", classes="filters-label")
        for name in FILTERS:
            # Audiences, tags and owners' names are people's words: shown through safe,
            # as Text (a str would be read as markup).
            options = ([("stale only", True)] if name == "stale" else
                       [(Text(safe(str(label))), value)
                        for label, value in self.choices.get(name, []) if value != "health"])
            yield Select(options, prompt=BLANK.get(name, name), id=f"filter-{name}",
                         allow_blank=True, classes="filter", compact=True)


class MessageTable(DataTable):
    """The messages, one a row; Enter opens the highlighted one (shown in the footer)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Open")]


class HeatMap(DataTable):
    """Messages down, languages across, a mark per cell; Enter opens the cell."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Open cell")]
