"""Messages: the communicator's first screen. Health messages a page at a time, newest
first, filtered by status per language, channel, audience, tag, owner and staleness (all
in SQL, `comms.listing`), each with its languages summed up; compose a new one, open one
to edit, or translate it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Select, Static

from cohear.errors import CohearError
from comms import listing
from comms.listing import MessageFilters
from tui.display import one_line, safe
from tui.screens.base import ReviewScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.messages import FILTERS, MessageFilterBar, MessageTable, summary

TITLE_WIDTH = 32
_FIELDS = {"owner": "owner_id", "stale": "stale_only"}


class MessageListing(ReviewScreen):
    """What Messages and the coverage map share: the filter bar (a filter changed, focused,
    cleared) and paging. The screen has `filters`, `page_start`, `page_size`, `total` and
    `load()`."""

    # -- filters -------------------------------------------------------------------------
    @on(Select.Changed, ".filter")
    def filter_changed(self, event: Select.Changed) -> None:
        name = (event.select.id or "").removeprefix("filter-")
        field = _FIELDS.get(name, name)
        default = getattr(MessageFilters(), field)
        value = default if event.select.is_blank() else event.value
        if getattr(self.filters, field) == value:
            return
        self.filters = self.filters.but(**{field: value})
        self.page_start = 0
        if self.filters.status in ("none", "no_path") and not self.filters.language:
            self.notify("`not started` and `no path` are about one language: choose one too",
                        severity="warning", timeout=5)
            return
        self.load()

    def action_focus_filters(self) -> None:
        self.query_one("#filter-kind", Select).focus()

    def action_clear_filters(self) -> None:
        with self.prevent(Select.Changed):
            for name in FILTERS:
                self.query_one(f"#filter-{name}", Select).clear()
        self.filters = MessageFilters()
        self.page_start = 0
        self.load()

    def action_next_page(self) -> None:
        if self.page_start + self.page_size < self.total:
            self.page_start += self.page_size
            self.load()

    def action_previous_page(self) -> None:
        if self.page_start:
            self.page_start = max(0, self.page_start - self.page_size)
            self.load()


class MessagesScreen(MessageListing):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "compose", "Compose new"),
        Binding("t", "translate", "Translate"),
        Binding("n", "next_page", "Next page"),
        Binding("b", "previous_page", "Previous page"),
        Binding("f", "focus_filters", "Filters"),
        Binding("x", "clear_filters", "Clear filters"),
        Binding("r", "reload", "Reload"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"compose": "comms.write"}

    page_size = listing.PAGE_SIZE

    def __init__(self) -> None:
        super().__init__()
        self.filters = MessageFilters()
        self.page_start = 0
        self.rows: list[dict] = []
        self.total = 0
        self.away = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield MessageFilterBar(listing.filter_choices(self.store), id="message-filters")
        yield Static(id="counts")
        table = MessageTable(id="messages", cursor_type="row", zebra_stripes=True)
        table.add_column("id")
        table.add_column("title", width=TITLE_WIDTH)
        table.add_columns("channel", "audience", "owner", "ver.", "languages")
        yield table
        yield Static(id="page")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#messages", DataTable).focus()

    def on_screen_suspend(self) -> None:
        self.away = True

    def on_screen_resume(self) -> None:
        if self.away:
            self.away = False
            self.load(keep=self.selected())

    def refresh_words(self) -> None:
        self.load(keep=self.selected())

    # -- loading -------------------------------------------------------------------------
    def load(self, *, keep: int | None = None) -> None:
        try:
            self.total = listing.count_messages(self.store, self.filters)
        except CohearError as exc:
            self.failed(exc)
            self.total = 0
        if self.page_start >= self.total:
            self.page_start = max(0, (self.total - 1) // self.page_size * self.page_size)
        self.rows = (listing.message_page(self.store, self.filters, offset=self.page_start,
                                          limit=self.page_size) if self.total else [])
        table = self.query_one("#messages", DataTable)
        row = table.cursor_row
        table.clear()
        reorder = self.reorder_rtl
        for m in self.rows:
            # People's words go in as Text: DataTable reads a str as markup.
            table.add_row(str(m["id"]), Text(one_line(m["title"], TITLE_WIDTH, reorder=reorder)),
                          m["channel"], Text(safe(m["audience"]) or "-"), Text(safe(m["owner"]) or "-"),
                          str(m["current_version"]), summary(m["statuses"]), key=str(m["id"]))
        ids = [m["id"] for m in self.rows]
        if self.rows:
            table.move_cursor(row=ids.index(keep) if keep in ids else
                              min(row or 0, len(ids) - 1), animate=False)
        stale = listing.count_messages(self.store, self.filters.but(stale_only=True)) \
            if self.total and not self.filters.stale_only else None
        counts = Text(f"{self.total:,} message" + ("" if self.total == 1 else "s"),
                      style="bold")
        if stale:
            counts.append(f"  ·  {stale:,} with stale translations", style="bold #ff5f5f")
        if self.filters.kind != "health":
            counts.append(f"  ({listing.KINDS.get(self.filters.kind, '')})", style="dim")
        self.query_one("#counts", Static).update(counts)
        last = self.page_start + len(self.rows)
        self.query_one("#page", Static).update(
            (f"messages {self.page_start + 1 if self.rows else 0}-{last} of {self.total:,}"
             + ("  (n: next page)" if last < self.total else "")) if self.total else
            ("No messages match these filters (x clears them)." if self.filters != MessageFilters()
             else "No messages yet." + ("  c composes the first one."
                                        if self.user.may("comms.write") else "")))

    def selected(self) -> int | None:
        table = self.query_one("#messages", DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]["id"]

    def action_reload(self) -> None:
        self.load(keep=self.selected())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # Writers edit it; everyone else reviews its translations.
        if self.user.may("comms.write"):
            self.open_compose(self.selected())
        else:
            self.action_translate()

    def open_compose(self, message_id: int | None) -> None:
        from tui.screens.compose import ComposeScreen
        self.app.push_screen(ComposeScreen(message_id))

    def action_compose(self) -> None:
        if not self.user.may("comms.write"):
            self.attempt(self.user.require, "comms.write")
            return
        self.open_compose(None)

    def action_translate(self) -> None:
        from tui.screens.translate import TranslateScreen
        message_id = self.selected()
        if message_id is not None:
            self.app.push_screen(TranslateScreen(message_id))
