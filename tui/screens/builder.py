"""The survey builder: one survey's questions in order, each with the state of its words in
every language the survey is for; add, edit and reorder questions of every kind, translate
a question's words and labels through the same translate-review-approve screens as any
message, open a language for collection (or accept English for questions not approved in
it, saying what that means), attach a recorded prompt per language, and make a new version
once answers exist."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Header, Static

from cohear.errors import CohearError
from comms import listing
from surveys import service as surveys
from surveys.values import VALUE_KINDS, describe_range
from tui.display import one_line, safe, words
from tui.screens.base import ReviewScreen
from tui.screens.question_form import AUDIO_TYPES, KIND_WORDS
from tui.widgets.footer import KeyFooter
from tui.widgets.messages import cell, state_text

TEXT_WIDTH = 36


class QuestionTable(DataTable):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Edit")]


def options_words(q: dict) -> str:
    """A question's options in a line or two of plain words."""
    o, kind = q["options"], q["kind"]
    if kind in ("single_choice", "multiple_choice") or (kind == "demographic"
                                                         and o.get("choices")):
        shown = ", ".join(c["label"] for c in o.get("choices", [])[:12])
        more = len(o.get("choices", [])) - 12
        return f"choices: {shown}" + (f" and {more} more" if more > 0 else "")
    if kind == "scale":
        labels = ", ".join(f"{k} {v}" for k, v in o.get("labels", {}).items())
        return f"scale {o['min']} to {o['max']}" + (f" ({labels})" if labels else "")
    if kind in VALUE_KINDS:
        return describe_range(kind, o)
    if kind == "open":
        return {"either": "answered by voice or typed", "voice": "answered by voice",
                "text": "typed answers"}[o.get("answer", "either")]
    if kind == "demographic":
        return f"demographic: {o.get('field', '').replace('_', ' ')}"
    if kind == "consent":
        return f"consent wording version {o.get('consent_version', 1)}"
    return ""


class SurveyBuilderScreen(ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add question"),
        Binding("shift+up", "move(-1)", "Move up", key_display="⇧↑"),
        Binding("shift+down", "move(1)", "Move down", key_display="⇧↓"),
        Binding("t", "translate_words", "Translate words"),
        Binding("l", "translate_label", "Translate a label"),
        Binding("o", "open_language", "Open a language"),
        Binding("p", "prompt", "Attach prompt"),
        Binding("v", "new_version", "New version"),
        Binding("r", "reload", "Reload"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "add": "surveys.build", "move": "surveys.build", "open_language": "surveys.build",
        "prompt": "surveys.build", "new_version": "surveys.build"}

    def __init__(self, survey_id: int):
        super().__init__()
        self.survey_id = survey_id
        self.survey: dict = {}
        self.questions: list[dict] = []
        self.languages: list[str] = []
        self.collected = False
        self.away = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="survey-title")
        yield QuestionTable(id="questions", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="question-detail"):
            yield Static(id="detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#questions", DataTable).focus()

    def on_screen_suspend(self) -> None:
        self.away = True

    def on_screen_resume(self) -> None:
        if self.away:
            self.away = False
            self.load(keep=self.selected_id())

    def refresh_words(self) -> None:
        self.load(keep=self.selected_id())

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        # A version with answers cannot change: its keys are dimmed, New version is not.
        if action in ("add", "move") and self.collected:
            return None
        if action == "new_version" and not self.collected:
            return None
        return True

    # -- reading ---------------------------------------------------------------------------
    def load(self, keep: int | None = None) -> None:
        try:
            self.survey = surveys.get_survey(self.store, self.survey_id)
        except CohearError as exc:
            self.failed(exc)
            self.app.pop_screen()
            return
        s = self.survey
        self.questions = s["questions"]
        self.collected = self.store.one(
            "SELECT 1 FROM survey_sessions WHERE survey_id = ? AND survey_version = ?",
            (s["id"], s["version"])) is not None
        self.languages = list(dict.fromkeys(
            [*s["target_languages"], *(t for q in self.questions for t in q["texts"])]))
        self.languages = [t for t in self.languages if t != s["base_language"]]
        paths = listing.machine_paths(self.store)
        table = self.query_one("#questions", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        table.add_column("#", width=3)
        table.add_column("name", width=14)
        table.add_column("kind", width=16)
        table.add_column("question", width=TEXT_WIDTH)
        for tag in self.languages:
            table.add_column(Text(tag, justify="center"), width=max(3, len(tag)), key=tag)
        reorder = self.reorder_rtl
        for i, q in enumerate(self.questions, start=1):
            cells = [str(i), Text(safe(q["name"])), KIND_WORDS.get(q["kind"], q["kind"]).split(":")[0]
                     .split(" (")[0], Text(one_line(q["text"], TEXT_WIDTH, reorder=reorder))]
            for tag in self.languages:
                found = q["texts"].get(tag)
                state = found["status"] if found else (
                    "none" if (s["base_language"], tag) in paths else "no_path")
                mark = cell(state)
                mark.justify = "center"
                cells.append(mark)
            table.add_row(*cells, key=str(q["id"]))
        ids = [q["id"] for q in self.questions]
        if ids:
            table.move_cursor(row=ids.index(keep) if keep in ids else min(row or 0, len(ids) - 1),
                              animate=False)
        title = Text.assemble((safe(f"Survey {s['id']}: {s['title']}"), "bold"),
                              f"  ·  version {s['version']}  ·  written in {s['base_language']}"
                              f"  ·  for {', '.join(s['target_languages']) or 'no other language'}")
        opened = [o["language"] + (" (English accepted)" if o["accepted_in_english"] else "")
                  for o in s["open_languages"]]
        title.append("  ·  open in " + (", ".join(opened) if opened else "no language yet"),
                     style="bold #87d75f" if opened else "dim")
        if self.collected:
            title.append("  ·  answers exist: v makes a new version to change it",
                         style="bold yellow")
        self.query_one("#survey-title", Static).update(title)
        self.refresh_bindings()
        self.show_detail()

    def selected(self) -> dict | None:
        table = self.query_one("#questions", DataTable)
        if not self.questions or table.cursor_row is None:
            return None
        return self.questions[min(table.cursor_row, len(self.questions) - 1)]

    def selected_id(self) -> int | None:
        q = self.selected()
        return q["id"] if q else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        detail = self.query_one("#detail", Static)
        q = self.selected()
        if q is None:
            detail.update(Text("No questions yet: a adds the first (a consent question "
                               "comes first).", style="dim"))
            return
        full = surveys.get_question(self.store, q["id"])
        reorder = self.reorder_rtl
        base = self.survey["base_language"]
        prompts = {r["language"] for r in self.store.all(
            "SELECT language FROM question_prompts WHERE question_id = ?", (q["id"],))}
        parts: list = [Text.assemble((safe(q["name"]), "bold"),
                                     f"  ·  {KIND_WORDS.get(q['kind'], q['kind'])}  ·  "
                                     f"{safe(options_words(q))}"
                                     + ("  ·  required" if q["options"].get("required") else "")),
                       Text.assemble((f"{base}: ", "dim")), words(q["text"], reorder=reorder)]
        hint = (q["options"].get("hint") or {}).get(base)
        if hint:
            parts.append(Text(safe(f"help: {hint}"), style="dim"))
        for tag in self.languages:
            found = full["texts"].get(tag)
            line = Text(f"{tag}: ", style="bold")
            line.append_text(state_text(found["status"] if found else None))
            if tag in prompts:
                line.append("  · recorded prompt", style="#5fd7d7")
            parts.append(line)
            if found and found["text"]:
                parts.append(words(found["text"], reorder=reorder))
        if full["labels"]:
            parts.append(Text("Labels (l translates one):", style="bold"))
            for key, item in full["labels"].items():
                states = Text(safe(f"  {key}: "))
                for i, tag in enumerate(self.languages):
                    if i:
                        states.append(" ")
                    found = item["texts"].get(tag)
                    states.append(f"{tag} ")
                    states.append_text(cell(found["status"] if found else "none"))
                parts.append(states)
        if base in prompts:
            parts.append(Text(f"{base}: recorded prompt", style="#5fd7d7"))
        self.query_one("#detail", Static).update(Group(*parts))

    # -- changing questions ----------------------------------------------------------------
    def action_add(self) -> None:
        from tui.screens.question_form import QuestionForm

        def made(values: dict | None) -> None:
            if not values:
                return
            q = self.attempt(surveys.add_question, self.store, self.user, self.survey_id,
                             **values)
            if q:
                self.notify(f"added {q['name']!r}", timeout=3)
                self.load(keep=q["id"])

        self.app.push_screen(QuestionForm(self.survey["base_language"]), made)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from tui.screens.question_form import QuestionForm
        q = self.selected()
        if q is None:
            return
        if not self.user.may("surveys.build"):
            self.action_translate_words()
            return
        if self.collected:
            self.notify("answers were collected with this version: v makes a new version "
                        "to change", severity="warning", timeout=5)
            return

        def changed(values: dict | None) -> None:
            if not values:
                return
            done = self.attempt(surveys.edit_question, self.store, self.user, q["id"],
                                text=values["text"], kind=values["kind"],
                                options=values["options"])
            if done:
                self.notify(f"saved {q['name']!r}", timeout=3)
                self.load(keep=q["id"])

        self.app.push_screen(QuestionForm(self.survey["base_language"], q), changed)

    def action_move(self, offset: int) -> None:
        q = self.selected()
        if q is None or self.collected:
            return
        if self.attempt(surveys.move_question, self.store, self.user, q["id"], offset):
            self.load(keep=q["id"])

    def action_new_version(self) -> None:
        from tui.screens.dialogs import Confirm
        if not self.collected:
            return
        version = self.survey["version"]

        def decided(yes: bool | None) -> None:
            if yes and self.attempt(surveys.new_version, self.store, self.user, self.survey_id):
                self.notify(f"version {version + 1} made: change it, then open its languages",
                            timeout=5)
                self.load()

        self.app.push_screen(Confirm(
            f"Make version {version + 1}?",
            f"Version {version} keeps its questions and answers. Version {version + 1} starts "
            "as a copy you can change; collection closes in every language until you open "
            "them again for the new version (their approved translations carry over).",
            yes=f"Make version {version + 1}"), decided)

    # -- words in every language -------------------------------------------------------------
    def action_translate_words(self) -> None:
        from tui.screens.translate import TranslateScreen
        q = self.selected()
        if q is not None and q.get("message_id"):
            self.app.push_screen(TranslateScreen(q["message_id"]))

    def action_translate_label(self) -> None:
        from tui.screens.dialogs import Choose
        from tui.screens.translate import TranslateScreen
        q = self.selected()
        if q is None:
            return
        labels = surveys.get_question(self.store, q["id"])["labels"]
        if not labels:
            self.notify(f"{q['name']!r} has no labels", timeout=3)
            return
        self.app.push_screen(
            Choose(f"A label of {q['name']!r} to translate",
                   [(key, str(item["message_id"])) for key, item in labels.items()]),
            lambda chosen: chosen and self.app.push_screen(TranslateScreen(int(chosen))))

    def action_open_language(self) -> None:
        from tui.screens.question_form import OpenLanguage

        def decided(answer: tuple[str, bool] | None) -> None:
            if not answer:
                return
            tag, accept = answer
            if self.attempt(surveys.open_language, self.store, self.user, self.survey_id, tag,
                            accept_english=accept):
                self.notify(f"open in {tag}" + (" (English accepted where not approved)"
                                                if accept else ""), timeout=4)
                self.load(keep=self.selected_id())

        self.app.push_screen(OpenLanguage(self.store, self.survey), decided)

    def action_prompt(self) -> None:
        from tui.screens.question_form import AttachPrompt
        q = self.selected()
        if q is None:
            return
        tags = [self.survey["base_language"], *self.languages]

        def chosen(answer: tuple[str, str] | None) -> None:
            if not answer:
                return
            tag, path = answer
            media = AUDIO_TYPES[path[path.rfind("."):].lower()]
            try:
                with open(path, "rb") as fh:
                    done = self.attempt(surveys.put_prompt, self.store, self.user, q["id"], tag,
                                        fh, media)
            except OSError as exc:
                self.notify(f"could not read {path}: {exc.strerror or exc}", severity="error")
                return
            if done:
                self.notify(f"{tag} prompt attached to {q['name']!r}", timeout=4)
                self.show_detail()

        self.app.push_screen(AttachPrompt(tags, q["name"]), chosen)

    def action_reload(self) -> None:
        self.load(keep=self.selected_id())
