"""F1: every key of the screen in front and of the app, with what it does."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.widgets.footer import KeyFooter

NOTES = (
    "Only what your role may do is listed. In a text editor: arrows, Home and End move; "
    "Shift with them selects; Ctrl+Z undoes, Ctrl+Y redoes; Ctrl+X, Ctrl+C and Ctrl+V cut, "
    "copy and paste. In a list: arrows move, Enter opens. Ctrl+P finds any action by name.\n"
    "Right-to-left display (F2): for terminals that cannot lay out Urdu, Arabic, Persian "
    "or Pashto, shows those words shaped and in visual order, wrapped at word boundaries. "
    "Display only: what is stored never changes, and editors always show the stored order."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close"), Binding("f1", "close", "Close")]

    def __init__(self, keys: list[tuple[str, str]]):
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("key")
        table.add_column("does")
        for key, description in self.keys:
            table.add_row(key, description)
        with VerticalScroll(id="help"):
            yield Label("Keys", id="dialog-title")
            yield Static(table)
            yield Static(NOTES, id="help-notes")
        yield KeyFooter()

    def action_close(self) -> None:
        self.dismiss(None)
