"""The coverage map: messages down, languages across (the region's, then any other a
message is translated into), each cell a two-letter mark on its state's colour (machine,
needs review, approved, human requested, received, stale, not started, no path). It reads
a page of 50 messages at a time; the counts per language are summed by SQLite in the
background (`comms.listing.coverage_totals`) and shown for the column under the cursor.
Enter opens the cell: the side-by-side review of that translation, or the message's
languages to start one."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Static

from cohear.errors import CohearError
from comms import listing
from comms.listing import MessageFilters
from language_packs.registry import get_language
from tui.display import one_line
from tui.screens.messages import MessageListing
from tui.widgets.footer import KeyFooter
from tui.widgets.messages import (
    HeatMap,
    MessageFilterBar,
    cell,
    map_legend,
    state_text,
)

TITLE_WIDTH = 20
FIXED = 2          # id and title stay in view while the languages scroll


def language_name(tag: str) -> str:
    try:
        return get_language(tag).english_name
    except CohearError:
        return tag


class CoverageScreen(MessageListing):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_page", "Next page"),
        Binding("b", "previous_page", "Previous page"),
        Binding("f", "focus_filters", "Filters"),
        Binding("x", "clear_filters", "Clear filters"),
        Binding("r", "reload", "Reload"),
    ]

    page_size = listing.PAGE_SIZE

    def __init__(self) -> None:
        super().__init__()
        self.filters = MessageFilters()
        self.page_start = 0
        self.rows: list[dict] = []
        self.total = 0
        self.languages: list[str] = []
        self.paths: set[tuple[str, str]] = set()
        self.totals: dict[str, dict[str, int]] | None = None
        self.away = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield MessageFilterBar(listing.filter_choices(self.store), id="message-filters")
        yield Static(map_legend(), id="legend")
        yield HeatMap(id="heatmap", cursor_type="cell", cell_padding=0, fixed_columns=FIXED)
        yield Static(id="column-totals")
        yield Static(id="page")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#heatmap", DataTable).focus()

    def on_screen_suspend(self) -> None:
        self.away = True

    def on_screen_resume(self) -> None:
        if self.away:
            self.away = False
            self.load(keep=True)

    def refresh_words(self) -> None:
        self.load(keep=True)

    # -- loading -------------------------------------------------------------------------
    def load(self, *, keep: bool = False) -> None:
        table = self.query_one("#heatmap", DataTable)
        cursor = table.cursor_coordinate
        try:
            self.total = listing.count_messages(self.store, self.filters)
        except CohearError as exc:
            self.failed(exc)
            self.total = 0
        if self.page_start >= self.total:
            self.page_start = max(0, (self.total - 1) // self.page_size * self.page_size)
        self.rows = (listing.message_page(self.store, self.filters, offset=self.page_start,
                                          limit=self.page_size) if self.total else [])
        self.paths = listing.machine_paths(self.store)
        self.languages = listing.map_languages(
            self.store, {lang for m in self.rows for lang in m["statuses"]})
        table.clear(columns=True)
        table.add_column(Text(" id", style="bold"), width=6)
        table.add_column(Text("message", style="bold"), width=TITLE_WIDTH + 1)
        for tag in self.languages:
            table.add_column(Text(tag, style="bold", justify="center"),
                             width=max(3, len(tag) + 1), key=tag)
        reorder = self.reorder_rtl
        for m in self.rows:
            cells = [Text(f" {m['id']}"),
                     Text(one_line(m["title"], TITLE_WIDTH, reorder=reorder))]
            for tag in self.languages:
                if tag == m["source_language"]:
                    cells.append(Text("=", style="dim", justify="center"))
                    continue
                mark = cell(listing.cell_state(m, tag, self.paths))
                mark.justify = "center"
                cells.append(mark)
            table.add_row(*cells, key=str(m["id"]))
        if self.rows:
            column = cursor.column if keep and cursor.column >= FIXED else FIXED
            table.move_cursor(row=min(cursor.row, len(self.rows) - 1) if keep else 0,
                              column=min(column, FIXED + len(self.languages) - 1), animate=False)
        last = self.page_start + len(self.rows)
        self.query_one("#page", Static).update(
            (f"messages {self.page_start + 1 if self.rows else 0}-{last} of {self.total:,} "
             f"in {len(self.languages)} languages" + ("  (n: next page)" if last < self.total
                                                     else "")) if self.total else
            "No messages match these filters (x clears them).")
        self.totals = None
        self.show_totals()
        self.count_totals(self.filters, list(self.languages))

    @work(thread=True, exclusive=True, group="coverage-totals")
    def count_totals(self, filters: MessageFilters, languages: list[str]) -> None:
        try:
            totals = listing.coverage_totals(self.store, filters, languages)
        except CohearError:
            totals = None
        finally:
            # The worker thread has its own connection; close it with the thread.
            self.store.close()
        if totals is not None:
            self.app.call_from_thread(self.totals_counted, filters, totals)

    def totals_counted(self, filters: MessageFilters, totals: dict) -> None:
        if filters == self.filters:
            self.totals = totals
            self.show_totals()

    def show_totals(self) -> None:
        found = self.query("#column-totals")
        if not found:
            return      # counted, or moved, after the screen went
        shown = found.first(Static)
        table = self.query_one("#heatmap", DataTable)
        column = table.cursor_column - FIXED
        if not self.rows or not 0 <= column < len(self.languages):
            shown.update(Text("Move onto a language to see its counts.", style="dim"))
            return
        tag = self.languages[column]
        out = Text(f"{tag} {language_name(tag)}: ", style="bold")
        if self.totals is None:
            out.append("counting…", style="dim")
        else:
            counts = self.totals.get(tag, {})
            parts = [(state, n) for state, n in counts.items() if n]
            for i, (state, n) in enumerate(parts):
                if i:
                    out.append(" · ", style="dim")
                out.append(f"{n:,} ")
                out.append_text(state_text(state))
            if not parts:
                out.append("nothing", style="dim")
        shown.update(out)

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        self.show_totals()

    # -- filters -------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.load(keep=True)

    # -- opening a cell ---------------------------------------------------------------------
    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        self.open_cell()

    def open_cell(self) -> None:
        from tui.screens.compare import CompareScreen
        from tui.screens.translate import TranslateScreen
        table = self.query_one("#heatmap", DataTable)
        if not self.rows:
            return
        row, column = table.cursor_coordinate
        message = self.rows[row]
        column -= FIXED
        if column < 0:
            self.app.push_screen(TranslateScreen(message["id"]))
            return
        tag = self.languages[column]
        if tag == message["source_language"]:
            self.notify(f"{tag} is this message's own language", timeout=3)
            return
        if tag in message["statuses"]:
            self.app.push_screen(CompareScreen(message["id"], tag))
        else:
            self.app.push_screen(TranslateScreen(message["id"], focus=tag))
