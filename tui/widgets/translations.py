"""Widgets of the translation screens: status colours, their legend, the grid."""

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
