"""Agreement and export: Cohen's kappa per code for two chosen coders of a survey, and a
research export of the survey (pseudonymised unless chosen otherwise) with a progress bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Header, Input, ProgressBar, Select, Static

from cohear.auth import list_users
from cohear.errors import CohearError
from surveys import agreement, exports
from surveys import service as surveys
from tui.display import safe, safe_text
from tui.screens.base import ReviewScreen
from tui.widgets.footer import KeyFooter

CODER_ROLES = ("admin", "reviewer", "researcher")


def kappa_words(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class AgreementScreen(ReviewScreen):
    # Not Ctrl+K or Ctrl+E: the file name's input uses those for its own editing.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "agreement", "Kappa"),
        Binding("ctrl+s", "export", "Export"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "agreement": "agreement.read", "export": "exports.pseudonymised"}

    def __init__(self) -> None:
        super().__init__()
        self.result: dict | None = None
        self.exported: dict | None = None

    def compose(self) -> ComposeResult:
        survey_list = surveys.list_surveys(self.store)
        coders = [(safe(u["name"]), u["id"]) for u in list_users(self.store)
                  if u["role"] in CODER_ROLES]
        yield Header()
        with Vertical(id="agreement-body"):
            yield Static(Text("Agreement between two coders", style="bold"))
            with Horizontal(classes="choices"):
                yield Select([(safe(f"{s['title']} (#{s['id']})"), s["id"]) for s in survey_list],
                             prompt="survey", id="survey", allow_blank=True)
                yield Select(coders, prompt="first coder", id="coder-a", allow_blank=True)
                yield Select(coders, prompt="second coder", id="coder-b", allow_blank=True)
            yield DataTable(id="kappa", cursor_type="row")
            yield Static(id="kappa-summary")
            yield Static(Text("Research export", style="bold"), id="export-title")
            with Horizontal(classes="choices"):
                yield Select([(f, f) for f in exports.FORMATS], prompt="format", id="format",
                             value="csv", allow_blank=False)
                yield Input(placeholder="file to write (default: in the data directory)",
                            id="export-path")
            yield ProgressBar(id="export-progress", show_eta=False)
            yield Static(id="export-result")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#kappa", DataTable)
        table.add_columns("code", "kappa", "agreement", "both", "first only", "second only",
                          "neither")
        # Shown once an export runs: an idle bar would only animate.
        self.query_one("#export-progress", ProgressBar).display = False
        self.query_one("#survey", Select).focus()

    def _value(self, widget_id: str):
        select = self.query_one(f"#{widget_id}", Select)
        return None if select.is_blank() else select.value

    # -- agreement -------------------------------------------------------------------------
    def action_agreement(self) -> None:
        survey_id, a, b = self._value("survey"), self._value("coder-a"), self._value("coder-b")
        if survey_id is None or a is None or b is None:
            self.notify("choose a survey and two coders", severity="warning")
            return
        if a == b:
            self.notify("choose two different coders", severity="warning")
            return
        result = self.attempt(agreement.survey_agreement, self.store, self.user, survey_id,
                              [a, b])
        if result is None:
            return
        self.result = result
        table = self.query_one("#kappa", DataTable)
        table.clear()
        for item in result["codes"]:
            c = item["confusion"]
            table.add_row(safe_text(item["code"]), kappa_words(item["kappa"]),
                          f"{item['observed_agreement']:.0%}", str(c["both"]),
                          str(c["first_only"]), str(c["second_only"]), str(c["neither"]),
                          key=str(item["code_id"]))
        overall = result["overall"]
        self.query_one("#kappa-summary", Static).update(
            f"{result['shared_units']} answers coded by both; overall kappa "
            f"{kappa_words(overall.get('kappa'))}, alpha {kappa_words(overall.get('alpha'))}")

    # -- export ----------------------------------------------------------------------------
    def export_path(self, survey_id: int, fmt: str) -> Path:
        given = self.query_one("#export-path", Input).value.strip()
        if given:
            return Path(given).expanduser()
        folder = self.store.settings.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"survey-{survey_id}-{fmt}{exports.FORMATS[fmt]}"

    def action_export(self) -> None:
        survey_id, fmt = self._value("survey"), self._value("format")
        if survey_id is None:
            self.notify("choose a survey to export", severity="warning")
            return
        if not self.user.may("exports.pseudonymised"):
            self.attempt(self.user.require, "exports.pseudonymised")
            return
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.query_one("#export-result", Static).update("exporting…")
        self.run_export(survey_id, fmt, self.export_path(survey_id, fmt))

    @work(thread=True, exclusive=True, group="export")
    def run_export(self, survey_id: int, fmt: str, path: Path) -> None:
        bar = self.query_one("#export-progress", ProgressBar)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=total, progress=done)

        try:
            result = exports.export_survey(self.store, self.user, survey_id, fmt, path,
                                           progress=progress)
        except CohearError as exc:
            self.app.call_from_thread(self.export_failed, exc)
        else:
            self.app.call_from_thread(self.export_done, result)
        finally:
            # The worker thread has its own connection; close it with the thread.
            self.store.close()

    def export_failed(self, exc: CohearError) -> None:
        self.query_one("#export-result", Static).update(safe_text(exc.message(), style="bold red"))
        self.failed(exc)

    def export_done(self, result: dict) -> None:
        self.exported = result
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=result["answers"], progress=result["answers"])
        self.query_one("#export-result", Static).update(
            f"wrote {result['rows']} rows ({result['format']}, pseudonymised) to "
            f"{result['path']}")
        self.notify("export finished", timeout=3)
