"""Small questions the app asks: discard unsaved edits?, a short note (why a safeguarding
concern is raised, how it was handled), a few lines of words (an answer's English), yes or
no before something that cannot be taken back silently, a file path, and a text to read.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from cohear.text import letters_and_digits
from tui.display import safe
from tui.widgets.editor import WordsEditor
from tui.widgets.footer import KeyFooter


class DiscardEdits(ModalScreen[bool]):
    """Asks before unsaved edits would be lost; the default answer keeps them."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "keep", "Keep editing"),
                Binding("d", "discard", "Discard")]

    def __init__(self, edits: list[str], *, leaving: str = "quit"):
        super().__init__()
        self.edits = edits
        self.leaving = leaving

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Unsaved edits", id="dialog-title")
            yield Static("\n".join(f"- {e}" for e in self.edits), id="dialog-body")
            yield Static(f"Save them first (Ctrl+S), or discard them and {self.leaving}.")
            with Horizontal(id="dialog-buttons"):
                yield Button("Keep editing", id="keep", variant="primary")
                yield Button(f"Discard and {self.leaving}", id="discard", variant="error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "discard")

    def action_keep(self) -> None:
        self.dismiss(False)

    def action_discard(self) -> None:
        self.dismiss(True)


class AskNote(ModalScreen[str | None]):
    """One line of text, or None when cancelled. With `min_letters`, an answer with
    fewer letters or digits (dots, spaces and invisible characters count for nothing,
    as in the service) is refused in the dialog, which stays open and says why, so a
    required note is never skipped by pressing Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str = "", *, hint: str = "",
                 min_letters: int = 0, value: str = ""):
        super().__init__()
        # Titles and hints may quote stored names (a code's path, its memo).
        self.title_text = safe(title)
        self.placeholder = safe(placeholder)
        self.hint = safe(hint)
        self.min_letters = min_letters
        self.value = safe(value)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            if self.hint:
                yield Static(self.hint, id="dialog-hint")
            yield Input(value=self.value, placeholder=self.placeholder, id="note")
            yield Static("", id="dialog-problem")
            yield Static("Enter to save, Escape to cancel.")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-problem", Static).display = False
        self.query_one("#note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if letters_and_digits(text) < self.min_letters:
            problem = self.query_one("#dialog-problem", Static)
            problem.update("A note is needed here: " + (
                f"at least {self.min_letters} letters or digits." if text
                else "it cannot be empty."))
            problem.display = True
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class WriteWords(ModalScreen[str | None]):
    """Some lines of words (a reviewer's English for an answer), or None when cancelled.
    Ctrl+S saves; an empty text is not saved."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save", "Save"),
                                             Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, text: str = "", *, hint: str = ""):
        super().__init__()
        self.title_text = safe(title)
        self.text = safe(text, keep_length=True)
        self.hint = safe(hint)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label(self.title_text, id="dialog-title")
            if self.hint:
                yield Static(self.hint, id="dialog-hint")
            yield WordsEditor(text=self.text, id="words")
            yield Static("", id="dialog-problem")
            yield Static("Ctrl+S to save, Escape to cancel.")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-problem", Static).display = False
        self.query_one("#words", WordsEditor).focus()

    def action_save(self) -> None:
        text = self.query_one("#words", WordsEditor).text
        if not text.strip():
            problem = self.query_one("#dialog-problem", Static)
            problem.update("Nothing to save: write the words first.")
            problem.display = True
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """A yes-or-no question about something that cannot be taken back silently (a new
    version that makes translations stale, removing a term); the default answer is no."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "no", "Cancel"),
                                             Binding("y", "yes", "Yes")]

    def __init__(self, title: str, body: str, *, yes: str = "Yes", no: str = "Cancel"):
        super().__init__()
        # Titles and bodies quote stored words (a term, a collector's name): through safe.
        self.title_text = safe(title)
        self.body = safe(body)
        self.yes_label = safe(yes)
        self.no_label = safe(no)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label(self.title_text, id="dialog-title")
            yield Static(self.body, id="dialog-body")
            with Horizontal(id="dialog-buttons"):
                yield Button(self.no_label, id="no", variant="primary")
                yield Button(f"{self.yes_label} (y)", id="yes", variant="warning")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class AskPath(ModalScreen[str | None]):
    """A file path, typed: one to read (`must_exist`) or one to write (its folder must
    exist). The dialog stays open and says why when the path will not do."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, *, value: str = "", hint: str = "",
                 must_exist: bool = False):
        super().__init__()
        self.title_text = safe(title)
        self.value = safe(value)
        self.hint = safe(hint)
        self.must_exist = must_exist

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label(self.title_text, id="dialog-title")
            if self.hint:
                yield Static(self.hint, id="dialog-hint")
            yield Input(value=self.value, placeholder="a file path", id="path")
            yield Static("", id="dialog-problem")
            yield Static("Enter to go on, Escape to cancel.")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-problem", Static).display = False
        self.query_one("#path", Input).focus()

    def problem(self, path: Path) -> str | None:
        if self.must_exist:
            if not path.exists():
                return f"there is no file {path}"
            if not path.is_file():
                return f"{path} is a folder, not a file"
            return None
        if path.is_dir():
            return f"{path} is a folder: add a file name"
        if not path.parent.is_dir():
            return f"there is no folder {path.parent}"
        return None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        given = event.value.strip()
        problem = "a path is needed" if not given else self.problem(Path(given).expanduser())
        if problem:
            shown = self.query_one("#dialog-problem", Static)
            shown.update(problem)
            shown.display = True
            return
        self.dismiss(str(Path(given).expanduser()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ShowText(ModalScreen[None]):
    """Something to read and then close: an import report, a link shown once."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close"),
                                             Binding("enter", "close", "Close")]

    def __init__(self, title: str, body, *, hint: str = ""):
        super().__init__()
        self.title_text = safe(title)
        # A renderable body is the caller's to make safe; words given as a str are made so.
        self.body = safe(body) if isinstance(body, str) else body
        self.hint = safe(hint)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="wide report"):
            yield Label(self.title_text, id="dialog-title")
            if self.hint:
                yield Static(self.hint, id="dialog-hint")
            yield Static(self.body, id="dialog-body")
            yield Static("Enter or Escape to close.")
        yield KeyFooter()

    def action_close(self) -> None:
        self.dismiss(None)


class Choose(ModalScreen[str | None]):
    """One of a few things, by the arrows and Enter (a question's label to translate)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]]):
        super().__init__()
        self.title_text = safe(title)
        self.choices = [(safe(label), key) for label, key in choices]

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option
        with Vertical(id="dialog", classes="wide"):
            yield Label(self.title_text, id="dialog-title")
            yield OptionList(*[Option(label, id=key) for label, key in self.choices],
                             id="choices")
            yield Static("Enter chooses, Escape cancels.")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#choices").focus()

    def on_option_list_option_selected(self, event) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
