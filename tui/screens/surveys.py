"""Surveys: every survey with its languages, open languages, questions and answers; create
one, import one from an XLSForm (and read what the import left out), or open one in the
builder."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Static

from cohear.errors import CohearError
from surveys import service as surveys
from surveys import xlsform
from tui.display import one_line, safe
from tui.screens.base import ReviewScreen
from tui.widgets.footer import KeyFooter

TITLE_WIDTH = 36


class SurveyTable(DataTable):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Open")]


def import_report(result: dict) -> Group:
    """What an XLSForm import made and what it left out, cell by cell."""
    survey, report = result["survey"], result["report"]
    parts: list = [Text(safe(f"Survey {survey['id']} {survey['title']!r}: "
                             f"{len(survey['questions'])} questions in "
                             + ", ".join([survey["base_language"],
                                          *survey["target_languages"]])),
                        style="bold")]
    for lang in report.get("languages", []):
        note = lang.get("translation") or ""
        parts.append(Text(f"  {lang['column']} → {lang['tag']}"
                          + (f": {note}" if note else "")
                          + (f" ({lang['note']})" if lang.get("note") else "")))
    for warning in report.get("warnings", []):
        parts.append(Text(f"warning: {warning}", style="bold yellow"))
    if report.get("unsupported"):
        parts.append(Text(f"\nNot imported ({len(report['unsupported'])}):", style="bold"))
        parts.extend(Text(f"  {line}") for line in report["unsupported"])
    else:
        parts.append(Text("\nEverything in the form was imported.", style="#87d75f"))
    return Group(*parts)


class SurveysScreen(ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "create", "Create survey"),
        Binding("i", "import_xlsform", "Import XLSForm"),
        Binding("r", "reload", "Reload"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"create": "surveys.build",
                                                    "import_xlsform": "surveys.build"}

    def __init__(self) -> None:
        super().__init__()
        self.surveys: list[dict] = []
        self.away = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="surveys-title")
        table = SurveyTable(id="surveys", cursor_type="row", zebra_stripes=True)
        table.add_column("id")
        table.add_column("title", width=TITLE_WIDTH)
        table.add_columns("ver.", "languages", "open in", "questions", "answers")
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#surveys", DataTable).focus()

    def on_screen_suspend(self) -> None:
        self.away = True

    def on_screen_resume(self) -> None:
        if self.away:
            self.away = False
            self.load()

    def refresh_words(self) -> None:
        self.load()

    def load(self) -> None:
        self.surveys = surveys.list_surveys(self.store)
        opened: dict[int, list[str]] = {}
        for r in self.store.all("SELECT survey_id, language, accepted_in_english FROM "
                                "survey_languages ORDER BY language"):
            opened.setdefault(r["survey_id"], []).append(
                r["language"] + ("*" if r["accepted_in_english"] else ""))
        table = self.query_one("#surveys", DataTable)
        row = table.cursor_row
        table.clear()
        for s in self.surveys:
            table.add_row(str(s["id"]),
                          Text(one_line(s["title"], TITLE_WIDTH, reorder=self.reorder_rtl)),
                          str(s["version"]),
                          ", ".join([s["base_language"], *s["target_languages"]]),
                          ", ".join(opened.get(s["id"], [])) or "-",
                          str(s["questions"]), str(s["answers"]), key=str(s["id"]))
        if self.surveys:
            table.move_cursor(row=min(row or 0, len(self.surveys) - 1), animate=False)
        self.query_one("#surveys-title", Static).update(Text.assemble(
            ("Surveys", "bold"), f"  ·  {len(self.surveys)}  ·  * open with English accepted "
            "for questions not yet approved in that language"))

    def selected(self) -> int | None:
        table = self.query_one("#surveys", DataTable)
        if not self.surveys or table.cursor_row is None:
            return None
        return self.surveys[min(table.cursor_row, len(self.surveys) - 1)]["id"]

    def action_reload(self) -> None:
        self.load()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from tui.screens.builder import SurveyBuilderScreen
        survey_id = self.selected()
        if survey_id is not None:
            self.app.push_screen(SurveyBuilderScreen(survey_id))

    def action_create(self) -> None:
        from tui.screens.builder import SurveyBuilderScreen
        from tui.screens.question_form import NewSurvey

        def made(values: dict | None) -> None:
            if not values:
                return
            survey = self.attempt(surveys.create_survey, self.store, self.user, **values)
            if survey:
                self.load()
                self.app.push_screen(SurveyBuilderScreen(survey["id"]))

        self.app.push_screen(NewSurvey(), made)

    def action_import_xlsform(self) -> None:
        from tui.screens.dialogs import AskPath, ShowText

        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                with open(Path(path), "rb") as fh:
                    data = fh.read(xlsform.MAX_FORM_BYTES + 1)
            except OSError as exc:
                self.notify(f"could not read {path}: {exc.strerror or exc}", severity="error")
                return
            try:
                result = xlsform.import_xlsform(self.store, self.user, data)
            except CohearError as exc:
                self.app.push_screen(ShowText("The form was not imported", Text(
                    f"{exc.message()}\n\nNothing was created.", style="bold red")))
                return
            self.load()
            self.app.push_screen(ShowText("XLSForm imported", import_report(result),
                                          hint="Enter on the survey opens it in the builder."))

        self.app.push_screen(AskPath("Import an XLSForm (.xlsx from KoboToolbox or ODK)",
                                     must_exist=True), chosen)
