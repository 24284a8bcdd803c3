"""Translations: every message against every language, each cell coloured by its status
(machine, needs review, stale, human requested, received, approved), grouped: health
messages, each survey's questions under their survey, and the field page's own words in
a group of their own (folded by default: Enter on a group's row opens or folds it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Static

from comms import service as comms
from surveys import service as surveys
from tui.display import one_line, safe
from tui.screens.base import ReviewScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.translations import TranslationGrid, legend, status_text

# The field page keeps its own words as comms messages with this tag (see webcollect).
FIELD_PAGE_TAG = "collect-page"
FIELD_PAGE_PREFIX = "Field page: "
# The message column takes what the languages leave of the screen, between these: at 120
# columns every language column stays in view with the field page's five languages and
# more (titles are cut with an ellipsis; the translation's own screen shows them whole;
# beyond what fits, the grid scrolls sideways).
MIN_TITLE_WIDTH = 24
MAX_TITLE_WIDTH = 64
CELL_PADDING = 2          # a DataTable cell's padding, one cell each side
SCROLLBAR = 2             # the vertical scrollbar's width, when the rows overflow
MAX_MESSAGES = 10_000


@dataclass
class Group:
    key: str
    title: str
    messages: list[dict] = field(default_factory=list)
    folded: bool = False


@dataclass
class Row:
    group: Group
    message: dict | None = None      # None: the group's own row


def group_messages(messages: list[dict], questions: dict[int, dict]) -> list[Group]:
    """Health messages first, then one group per survey (every message it owns: its
    questions in order, consent among them, each followed by its labels), then the field
    page's own words (folded)."""
    health = Group("health", "Health messages")
    field_page = Group("field-page", "Field page's own words", folded=True)
    by_survey: dict[int, Group] = {}
    for m in messages:
        question = questions.get(m["id"])
        if question is not None:
            group = by_survey.get(question["survey_id"])
            if group is None:
                group = by_survey[question["survey_id"]] = Group(
                    f"survey-{question['survey_id']}",
                    f"Survey {question['survey_id']}: {question['survey_title']}")
            # A label sits under its question: "question barriers, choice:time".
            label = question.get("label")
            group.messages.append(m | {
                "label": f"question {question['question']}"
                         + (f", {label}" if label else ""),
                "order": (question["position"], label is not None, m["id"])})
        elif FIELD_PAGE_TAG in m["tags"]:
            field_page.messages.append(m | {"label": m["title"].removeprefix(FIELD_PAGE_PREFIX),
                                            "order": (m["id"],)})
        else:
            health.messages.append(m | {"label": f"{m['id']} {m['title']}",
                                        "order": (m["id"],)})
    groups = [health, *(by_survey[k] for k in sorted(by_survey)), field_page]
    for group in groups:
        group.messages.sort(key=lambda m: m["order"])
    return [g for g in groups if g.messages]


def group_summary(group: Group, language: str) -> Text:
    """A group's cell for one language: how many of its messages are approved in it, of
    all ("5/58"; the legend says so), short so every language column fits."""
    statuses = [m["translations"].get(language) for m in group.messages]
    have = [s for s in statuses if s]
    if not have:
        return Text("-", style="dim")
    approved = sum(s == "approved" for s in have)
    style = "bold #87d75f" if approved == len(statuses) else "bold"
    return Text(f"{approved}/{len(statuses)}", style=style)


class TranslationsScreen(ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.away = False
        self.groups: list[Group] = []
        self.rows: list[Row] = []
        self.languages: list[str] = []
        self.folded: dict[str, bool] = {}

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
            self.load(keep=True)

    def refresh_words(self) -> None:
        if self.groups:
            self.load(keep=True)

    def load(self, *, keep: bool = False) -> None:
        messages = comms.list_messages(self.store, limit=MAX_MESSAGES)
        self.groups = group_messages(messages, surveys.question_messages(self.store))
        for group in self.groups:
            group.folded = self.folded.setdefault(group.key, group.folded)
        self.languages = sorted({lang for m in messages for lang in m["translations"]})
        table = self.query_one("#translations", DataTable)
        cursor = table.cursor_coordinate
        table.clear(columns=True)
        summaries = {lang: [group_summary(g, lang) for g in self.groups]
                     for lang in self.languages}
        # Each language as wide as what it shows (whether or not its group is folded).
        widths = {lang: max([cell_len(lang), *(t.cell_len for t in summaries[lang]),
                             *(status_text(m["translations"].get(lang)).cell_len
                               for m in messages)])
                  for lang in self.languages}
        width = self._title_width(sum(w + CELL_PADDING for w in widths.values()))
        self._laid_out_for = self.app.size.width
        table.add_column("message", width=width)
        for lang in self.languages:
            table.add_column(lang, width=widths[lang])
        self.rows = []
        reorder = self.reorder_rtl
        for group in self.groups:
            marker = "▸" if group.folded else "▾"
            title = Text(safe(f"{marker} {group.title} ({len(group.messages)})"), style="bold")
            title.truncate(width, overflow="ellipsis")
            table.add_row(title, *[summaries[lang][self.groups.index(group)]
                                   for lang in self.languages], key=group.key)
            self.rows.append(Row(group))
            if group.folded:
                continue
            for m in group.messages:
                # A Text, never a str: DataTable would read "[...]" in a title as markup.
                label = Text("  " + one_line(m["label"], width - 2, reorder=reorder))
                table.add_row(label, *[status_text(m["translations"].get(lang))
                                       for lang in self.languages],
                              key=f"{group.key}:{m['id']}")
                self.rows.append(Row(group, m))
        if keep and self.rows:
            table.move_cursor(row=min(cursor.row, len(self.rows) - 1),
                              column=min(cursor.column, len(self.languages)), animate=False)
        count = sum(len(g.messages) for g in self.groups)
        self.query_one("#translations-help", Static).update(
            f"{count} messages in {len(self.languages)} languages. Enter on a language's "
            "cell reviews it; Enter on a group's row opens or folds it."
            if self.groups else "No messages yet: a communicator drafts them with "
                                "`cohear messages` or the API.")

    def _title_width(self, languages_width: int) -> int:
        """The message column: the screen's width less the languages', within bounds."""
        left = self.app.size.width - languages_width - CELL_PADDING - SCROLLBAR
        return max(MIN_TITLE_WIDTH, min(MAX_TITLE_WIDTH, left))

    def on_resize(self) -> None:
        if self.groups and self.app.size.width != getattr(self, "_laid_out_for", None):
            self.load(keep=True)

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        from tui.screens.translation import TranslationScreen
        table = self.query_one("#translations", DataTable)
        if not self.rows:
            return
        row, column = table.cursor_coordinate
        entry = self.rows[row]
        if entry.message is None:
            self.folded[entry.group.key] = not entry.group.folded
            self.load(keep=True)
            return
        if column == 0:
            self.notify("move right to a language's cell", severity="warning", timeout=3)
            return
        message = entry.message
        language = self.languages[column - 1]
        if language not in message["translations"]:
            self.notify(f"message {message['id']} has no {language} translation",
                        severity="warning")
            return
        self.app.push_screen(TranslationScreen(message["id"], language))

    def action_reload(self) -> None:
        self.load(keep=True)
