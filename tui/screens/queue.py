"""The queue: answers needing attention, safeguarding first, then low-confidence
transcripts, then the rest; filtered, counted per status, and read a page at a time.
"""

from __future__ import annotations

import json
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Select, Static

from surveys import views
from tui import review_queue
from tui.display import one_line, safe, safe_text
from tui.review_queue import PAGE_SIZE, QueueFilters
from tui.screens.base import ReviewScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.queue import FILTERS, FilterBar, QueueTable, StatusCounts

LOW_CONFIDENCE = 0.6
PREVIEW_WIDTH = 24   # cells of an answer's first words in its row


class QueueScreen(ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "code", "Code"),
        Binding("n", "next_page", "Next page"),
        Binding("b", "previous_page", "Previous page"),
        Binding("r", "reload", "Reload"),
        Binding("f", "focus_filters", "Filters"),
        Binding("x", "clear_filters", "Clear filters"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"code": "coding.apply"}

    page_size = PAGE_SIZE

    def __init__(self) -> None:
        super().__init__()
        self.away = False
        self.came_from: int | None = None
        self.came_from_row = 0
        self.filters = QueueFilters()
        self.page_start = 0
        self.rows: list[dict] = []
        self.total = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar(review_queue.filter_choices(self.store, self.user), id="filters")
        yield StatusCounts(id="counts")
        table = QueueTable(id="queue", cursor_type="row", zebra_stripes=True)
        table.add_columns("answer", "attention", "status", "language", "kind", "conf.",
                          "question")
        table.add_column("words", width=PREVIEW_WIDTH)
        table.add_columns("collector", "survey")
        yield table
        yield Static(id="page")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#queue", DataTable).focus()

    def on_screen_suspend(self) -> None:
        self.away = True
        self.came_from = self.selected_answer()
        self.came_from_row = self.query_one("#queue", DataTable).cursor_row

    def on_screen_resume(self) -> None:
        # Back from another screen: what it changed may move rows or their status, but
        # the cursor goes back to the answer the reviewer came from (or, when that answer
        # has moved off this page, to the one now in its place).
        if self.away:
            self.away = False
            self.load(keep=self.came_from, row=self.came_from_row)

    # -- loading -------------------------------------------------------------------------
    def load(self, *, keep: int | None = None, row: int = 0) -> None:
        """Read the page again; the cursor goes to answer `keep` when it is on the page,
        else to row `row` (clamped), else to the top."""
        counts = review_queue.status_counts(self.store, self.user, self.filters)
        self.total = counts[self.filters.status] if self.filters.status else counts["all"]
        if self.page_start >= self.total:
            self.page_start = max(0, (self.total - 1) // self.page_size * self.page_size)
        self.rows = review_queue.queue_page(self.store, self.user, self.filters,
                                            offset=self.page_start, limit=self.page_size)
        self.query_one("#counts", StatusCounts).show(counts)
        table = self.query_one("#queue", DataTable)
        table.clear()
        for item in self.rows:
            table.add_row(*self._cells(item, self._preview(item)), key=str(item["id"]))
        ids = [item["id"] for item in self.rows]
        if self.rows:
            table.move_cursor(row=ids.index(keep) if keep in ids else
                              min(max(row, 0), len(self.rows) - 1), animate=False)
        last = self.page_start + len(self.rows)
        self.query_one("#page", Static).update(
            f"answers {self.page_start + 1 if self.rows else 0}-{last} of {self.total:,}"
            + ("  (n: next page)" if last < self.total else ""))

    def refresh_words(self) -> None:
        self.load(keep=self.selected_answer(),
                  row=self.query_one("#queue", DataTable).cursor_row)

    def _preview(self, row: dict) -> str:
        """The answer's first words, as this person may read them (redacted for a
        researcher), cut at a word boundary, reordered in the F2 mode."""
        if row["text_id"] is None:
            if row["kind"] == "choice" and row["choices_json"]:
                return safe(", ".join(json.loads(row["choices_json"])))
            return ""
        text = row["text"]
        if not views.identifiable(self.user):
            text = views.text_view(self.store, {
                "id": row["text_id"], "rendering": "original", "version": row["text_version"],
                "language": row["language"], "source": row["text_source"], "text": text},
                redacted=True).text
        return one_line(text, PREVIEW_WIDTH, reorder=self.reorder_rtl)

    @staticmethod
    def _cells(row: dict, preview: str) -> list:
        if row["safeguarding"] and not row["safeguarding_handled_at"]:
            attention = Text("safeguarding", style="bold red")
        elif row["safeguarding"]:
            attention = Text("handled", style="dim")
        elif row["tier"] == 1:
            attention = Text("low confidence", style="yellow")
        else:
            attention = Text("")
        conf = row["confidence"]
        confidence = Text("" if conf is None else f"{conf:.2f}",
                          style="yellow" if conf is not None and conf < LOW_CONFIDENCE else "")
        status_style = {"verified": "green", "transcribed": "yellow"}.get(row["status"], "")
        return [str(row["id"]), attention, Text(row["status"], style=status_style),
                # DataTable reads a str as markup: people's words go in as Text.
                safe_text(row["language"]), row["kind"], confidence, safe_text(row["question"]),
                safe_text(preview), safe_text(row["collector"]), str(row["survey_id"])]

    def selected_answer(self) -> int | None:
        table = self.query_one("#queue", DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]["id"]

    # -- filters -------------------------------------------------------------------------
    @on(Select.Changed, ".filter")
    def filter_changed(self, event: Select.Changed) -> None:
        name = (event.select.id or "").removeprefix("filter-")
        value = None if event.select.is_blank() else event.value
        field = {"survey": "survey_id", "collector": "collector_id",
                 "code": "code_id"}.get(name, name)
        if getattr(self.filters, field) == value:
            return
        self.filters = self.filters.but(**{field: value})
        self.page_start = 0
        self.load()

    def action_focus_filters(self) -> None:
        self.query_one("#filter-survey", Select).focus()

    def action_clear_filters(self) -> None:
        with self.prevent(Select.Changed):
            for name in FILTERS:
                self.query_one(f"#filter-{name}", Select).clear()
        self.filters = QueueFilters()
        self.page_start = 0
        self.load()

    # -- moving and opening ----------------------------------------------------------------
    def action_next_page(self) -> None:
        if self.page_start + self.page_size < self.total:
            self.page_start += self.page_size
            self.load()

    def action_previous_page(self) -> None:
        if self.page_start:
            self.page_start = max(0, self.page_start - self.page_size)
            self.load()

    def action_reload(self) -> None:
        self.load(keep=self.selected_answer(),
                  row=self.query_one("#queue", DataTable).cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_review()

    def action_review(self) -> None:
        from tui.screens.answer import AnswerScreen
        answer_id = self.selected_answer()
        if answer_id is not None:
            self.app.push_screen(AnswerScreen(answer_id))

    def action_code(self) -> None:
        from tui.screens.coding import CodingScreen
        answer_id = self.selected_answer()
        if answer_id is None:
            return
        if not self.user.may("coding.apply"):
            self.attempt(self.user.require, "coding.apply")
            return
        self.app.push_screen(CodingScreen(answer_id))
