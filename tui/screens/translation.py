"""One translation: the English source, the translation (editable), its back-translation
and similarity score; approve it (reviewers), or mark it for a human translator."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Static, TextArea

from cohear.errors import CohearError
from comms import service as comms
from tui.display import safe, safe_text, words
from tui.screens.base import ReviewScreen
from tui.widgets.editor import WordsEditor
from tui.widgets.footer import KeyFooter
from tui.widgets.translations import status_text


class TranslationWrites:
    """Saving and approving one message's translation, shared by the screen that edits it
    alone and the side-by-side review: both name the revision on screen, so words changed
    by someone else meanwhile are refused. The screen names its editor (`EDITOR`) and has
    `store`, `user`, `message_id`, `language`, `translation`, `loaded_text`, `load()`."""

    EDITOR = ""

    def seen_revision(self) -> int:
        """The translation revision this screen shows (0: none yet); saving or approving
        names it, so a translation changed by someone else meanwhile is refused."""
        return self.translation["revision"] if self.translation else 0

    def action_save(self) -> None:
        text = self.query_one(self.EDITOR, TextArea).text
        if text == self.loaded_text:
            self.notify("nothing has changed", timeout=3)
            return
        # comms checks this role in its API routes; the TUI checks it the same way.
        if not self.user.may("comms.edit_translation"):
            self.attempt(self.user.require, "comms.edit_translation")
            return
        if self.attempt(comms.edit_translation, self.store, self.user, self.message_id,
                        self.language, text, expected_revision=self.seen_revision()):
            self.notify("saved; it now needs review", timeout=3)
            self.load()

    def action_approve(self) -> None:
        if self.unsaved_edits():
            self.notify("save your edit before approving", severity="warning")
            return
        if not self.user.may("comms.approve"):
            self.attempt(self.user.require, "comms.approve")
            return
        # The approval names the revision on screen: words changed since are refused,
        # and the screen then shows the new words for the reviewer to review again.
        try:
            comms.approve_translation(self.store, self.user, self.message_id, self.language,
                                      revision=self.seen_revision())
        except CohearError as exc:
            self.failed(exc)
            if exc.code == "translation-changed":
                self.load()
            return
        self.notify(f"{self.language} translation approved", timeout=3)
        self.load()


class TranslationScreen(TranslationWrites, ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save edit"),
        Binding("ctrl+r", "approve", "Approve"),
        Binding("ctrl+t", "request_human", "Human translator"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "save": "comms.edit_translation", "approve": "comms.approve",
        "request_human": "comms.write"}

    EDITOR = "#translation-text"

    def __init__(self, message_id: int, language: str):
        super().__init__()
        self.message_id = message_id
        self.language = language
        self.message: dict = {}
        self.translation: dict = {}
        self.loaded_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="translation-title")
        with Horizontal(id="translation-body"):
            with Vertical(id="translation-left"):
                yield Static(id="source")
                yield WordsEditor(id="translation-text")
            with VerticalScroll(id="translation-right"):
                yield Static(id="back-translation")
                yield Static(id="translation-facts")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#translation-text", TextArea).focus()

    def load(self) -> None:
        try:
            self.message = comms.get_message(self.store, self.message_id)
            self.translation = comms.get_translation(self.store, self.message_id, self.language)
        except CohearError as exc:
            self.failed(exc)
            self.app.pop_screen()
            return
        self.loaded_text = safe(self.translation["text"], keep_length=True)
        area = self.query_one("#translation-text", TextArea)
        area.load_text(self.loaded_text)
        area.read_only = not self.user.may("comms.edit_translation")
        area.border_title = (f"{self.translation['language_name']} translation"
                             + (" (read only for your role)" if area.read_only else
                                " (Ctrl+S saves; stored order)"))
        self.show()

    def refresh_words(self) -> None:
        if self.translation:
            self.show()

    def show(self) -> None:
        t, m, reorder = self.translation, self.message, self.reorder_rtl
        title = Text()
        title.append(safe(f"Message {m['id']}: {m['title']}"), style="bold")
        title.append(safe(f"  ·  {t['language_name']} ({t['language']})  ·  "))
        title.append_text(status_text(t["status"]))
        self.query_one("#translation-title", Static).update(title)
        self.query_one("#source", Static).update(Group(
            safe_text(f"Source (version {m['version']}, {m['source_language']})", style="bold"),
            words(m["source_text"], reorder=reorder)))
        back = [Text("Back-translation", style="bold")]
        back.append(words(t["back_translation"], reorder=reorder) if t["back_translation"]
                    else Text("none", style="dim"))
        self.query_one("#back-translation", Static).update(Group(*back))
        facts: list = [Text("Similarity ", style="bold").append(
            "-" if t["similarity"] is None else f"{t['similarity']:.1f} / 100", style="")]
        facts.append(Text("chrF of the source against the back-translation", style="dim"))
        facts.append(Text(f"\nThe translation {'in reading order' if reorder else 'as stored'}",
                          style="bold"))
        facts.append(words(t["text"], reorder=reorder))
        more = safe_text(f"\norigin {t['origin']}, engine {t['engine'] or '-'}, "
                         f"revision {t['revision']}")
        if t["source_version"] != t["current_version"]:
            more.append(f"\ntranslates version {t['source_version']}, the message is at "
                        f"{t['current_version']}", style="bold red")
        for problem in t["placeholder_problems"]:
            more.append(safe(f"\nmissing placeholder {problem.get('placeholder')}"),
                        style="bold red")
        facts.append(more)
        self.query_one("#translation-facts", Static).update(Group(*facts))

    def unsaved_edits(self) -> list[str]:
        if not self.translation:
            return []
        if self.query_one("#translation-text", TextArea).text != self.loaded_text:
            return [f"message {self.message_id}: the {self.language} translation"]
        return []

    # -- writing ---------------------------------------------------------------------------
    def action_request_human(self) -> None:
        if not self.user.may("comms.write"):
            self.attempt(self.user.require, "comms.write")
            return
        if self.attempt(comms.request_human, self.store, self.user, self.message_id,
                        [self.language]):
            self.notify("marked: needs a human translator", timeout=3)
            self.load()
