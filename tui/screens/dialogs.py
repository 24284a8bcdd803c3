"""Small questions the app asks: discard unsaved edits?, a short note (why a safeguarding
concern is raised, how it was handled), and a few lines of words (an answer's English).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
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
