"""Translations: every message against every language, each cell coloured by its status
(machine, needs review, stale, human requested, received, approved)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Static

from comms import service as comms
from tui.screens.base import ReviewScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.translations import TranslationGrid, legend, status_text


class TranslationsScreen(ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.away = False
        self.messages: list[dict] = []
        self.languages: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(legend(), id="legend")
        yield TranslationGrid(id="translations", cursor_type="cell", zebra_stripes=True)
        yield Static(id="translations-help")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#translations", DataTable).focus()

    def on_screen_suspend(self) -> None:
        self.away = True

    def on_screen_resume(self) -> None:
        # Back from another screen: what it changed may move rows or their status.
        if self.away:
            self.away = False
            self.load()

    def load(self) -> None:
        self.messages = comms.list_messages(self.store)
        self.languages = sorted({lang for m in self.messages for lang in m["translations"]})
        table = self.query_one("#translations", DataTable)
        table.clear(columns=True)
        table.add_columns("message", *self.languages)
        for m in self.messages:
            table.add_row(f"{m['id']} {m['title']}"[:40],
                          *[status_text(m["translations"].get(lang)) for lang in self.languages],
                          key=str(m["id"]))
        self.query_one("#translations-help", Static).update(
            f"{len(self.messages)} messages in {len(self.languages)} languages. "
            "Move to a language's cell and press Enter to review it."
            if self.messages else "No messages yet: a communicator drafts them with "
                                  "`cohear messages` or the API.")

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        from tui.screens.translation import TranslationScreen
        table = self.query_one("#translations", DataTable)
        if not self.messages:
            return
        row, column = table.cursor_coordinate
        if column == 0:
            self.notify("move right to a language's cell", severity="warning", timeout=3)
            return
        message = self.messages[row]
        language = self.languages[column - 1]
        if language not in message["translations"]:
            self.notify(f"message {message['id']} has no {language} translation",
                        severity="warning")
            return
        self.app.push_screen(TranslationScreen(message["id"], language))

    def action_reload(self) -> None:
        self.load()
