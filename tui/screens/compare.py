"""One message in one language, side by side: each source sentence beside its translation,
its back-translation into the source language and that pair's chrF, sentences translation
memory gave marked; the whole translation below to edit; approve it, ask a human
translator, or write and read a translator file. F2 reorders right-to-left words here as
everywhere (the editor keeps the stored order)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Static, TextArea

from cohear.errors import CohearError, NotFound
from comms import segments
from comms import service as comms
from tui import files
from tui.display import has_rtl, safe, words
from tui.screens.base import ReviewScreen
from tui.screens.translation import TranslationWrites
from tui.widgets.editor import WordsEditor
from tui.widgets.footer import KeyFooter
from tui.widgets.messages import state_text
from tui.widgets.translations import SentenceTable


class CompareScreen(TranslationWrites, ReviewScreen):
    # Ctrl+T (used by the Translation screen) never reaches a page in a browser: Ctrl+G.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save edit"),
        Binding("ctrl+r", "approve", "Approve"),
        Binding("ctrl+g", "ask_human", "Human translator"),
        Binding("ctrl+o", "export_file", "Export file"),
        Binding("ctrl+l", "import_file", "Import file"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "save": "comms.edit_translation", "approve": "comms.approve",
        "ask_human": "comms.write", "export_file": "comms.write", "import_file": "comms.write"}

    EDITOR = "#compare-text"

    def __init__(self, message_id: int, language: str):
        super().__init__()
        self.message_id = message_id
        self.language = language
        self.message: dict = {}
        self.translation: dict | None = None
        self.loaded_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="compare-title")
        with Horizontal(id="compare-body"):
            with Vertical(id="compare-left"):
                yield SentenceTable(id="sentences")
                yield WordsEditor(id="compare-text")
            with VerticalScroll(id="compare-right"):
                yield Static(id="compare-facts")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        editor = self.query_one("#compare-text", TextArea)
        (editor if not editor.read_only else self.query_one("#sentences")).focus()

    # -- reading ---------------------------------------------------------------------------
    def load(self) -> None:
        try:
            self.message = comms.get_message(self.store, self.message_id)
            self.language = comms.language(self.language).tag
        except CohearError as exc:
            self.failed(exc)
            self.app.pop_screen()
            return
        try:
            self.translation = comms.get_translation(self.store, self.message_id, self.language)
        except NotFound:
            self.translation = None
        # Shown one for one (a control character as U+FFFD): saving untouched is no edit.
        self.loaded_text = safe(self.translation["text"] if self.translation else "",
                                keep_length=True)
        editor = self.query_one("#compare-text", TextArea)
        editor.load_text(self.loaded_text)
        editor.read_only = not self.user.may("comms.edit_translation")
        name = comms.language(self.language).english_name
        editor.border_title = (f"{name}: the whole translation"
                               + (" (read only for your role)" if editor.read_only else
                                  " (Ctrl+S saves; stored order)"))
        self.show()

    def refresh_words(self) -> None:
        if self.message:
            self.show()

    def sentences(self) -> list[dict]:
        """Source sentences beside their translation: the translation's own sentence pairs
        when it has them (machine, memory, a file), else the source alone."""
        t = self.translation
        if t and t["segments"]:
            return t["segments"]
        source = [{"source": s.source, "target": "", "back": None, "similarity": None,
                   "reused": False} for s in segments.split(self.message["source_text"],
                                                            self.message["source_language"])]
        if t and t["text"] and len(source) == 1:
            source[0]["target"] = t["text"]
        return source

    def show(self) -> None:
        t, m, reorder = self.translation, self.message, self.reorder_rtl
        title = Text()
        title.append(f"Message {m['id']}: {safe(m['title'])}", style="bold")
        title.append(f"  ·  {comms.language(self.language).english_name} ({self.language})  ·  ")
        if t is None:
            title.append_text(state_text("none"))
        else:
            stale = t["source_version"] != t["current_version"]
            title.append_text(state_text("stale" if stale else t["status"]))
            if t["similarity"] is not None:
                title.append(f"  ·  chrF {t['similarity']:.0f}")
            if t["reused_segments"]:
                title.append(f"  ·  {t['reused_segments']} of {len(t['segments'])} "
                             "sentences from memory", style="#5fd7d7")
        self.query_one("#compare-title", Static).update(title)
        self.query_one("#sentences", SentenceTable).show(self.sentences(), reorder=reorder)
        self.query_one("#compare-facts", Static).update(self.facts())

    def facts(self) -> Group:
        t, m, reorder = self.translation, self.message, self.reorder_rtl
        parts: list = [Text(f"Source: version {m['version']} ({m['source_language']})",
                            style="bold")]
        if t is None:
            parts.append(Text("No translation yet.", style="bold"))
            parts.append(Text("Type one below and save it (Ctrl+S), ask a human translator "
                              "(Ctrl+G), or write a file for one (Ctrl+O). Machine "
                              "translation starts from the message's languages (Esc, t).",
                              style="dim"))
            return Group(*parts)
        if reorder and has_rtl(t["text"]):
            # The editor keeps the stored order; here the words read as they should.
            parts += [Text("\nThe translation in reading order", style="bold"),
                      words(t["text"], reorder=True)]
        elif not t["text"]:
            parts.append(Text("\nwaiting for the translator", style="dim"))
        more = Text(safe(f"\norigin {t['origin']}, engine {t['engine'] or '-'}")
                    + (", pivoted through English" if t["pivoted"] else "")
                    + f", revision {t['revision']}")
        if t["approved_by"]:
            more.append(safe(f"\napproved by {t['approved_by']} {(t['approved_at'] or '')[:16]}"))
        if t["similarity"] is not None:
            more.append("\nchrF: the source against the back-translation, 0-100; under 50 "
                        "deserves a close look", style="dim")
        if t["source_version"] != t["current_version"]:
            more.append(f"\ntranslates version {t['source_version']}; the message is at "
                        f"{t['current_version']}", style="bold red")
        for problem in t["placeholder_problems"]:
            more.append(safe(f"\nmissing placeholder {problem.get('placeholder')}"),
                        style="bold red")
        sms = t.get("sms")
        if sms:
            more.append(f"\nSMS: {sms['encoding']}, {sms['characters']} characters, "
                        f"{sms['segments']} segment(s)")
            if sms.get("warning"):
                more.append(safe(f"\n{sms['warning']}"), style="bold red")
        parts.append(more)
        return Group(*parts)

    def unsaved_edits(self) -> list[str]:
        if not self.message:
            return []
        if self.query_one("#compare-text", TextArea).text != self.loaded_text:
            return [f"message {self.message_id}: the {self.language} translation"]
        return []

    # -- writing ---------------------------------------------------------------------------
    def action_ask_human(self) -> None:
        if not self.user.may("comms.write"):
            self.attempt(self.user.require, "comms.write")
            return
        if self.attempt(comms.request_human, self.store, self.user, self.message_id,
                        [self.language]):
            self.notify("marked: needs a human translator (Ctrl+O writes their file)",
                        timeout=4)
            self.load()

    def action_export_file(self) -> None:
        from tui.screens.dialogs import AskPath
        from tui.screens.translate import export_translator_file
        default = (files.exports_folder(self.store)
                   / f"message-{self.message_id}-{self.language}.xlf")

        def chosen(path: str | None) -> None:
            if path:
                export_translator_file(self, self.message_id, self.language, Path(path))

        self.app.push_screen(AskPath(f"Write a translator file for {self.language}",
                                     value=str(default),
                                     hint="A name ending .po writes PO (Poedit, gettext); "
                                          "anything else XLIFF 2.0 (CAT tools)."), chosen)

    def action_import_file(self) -> None:
        from tui.screens.dialogs import AskPath
        from tui.screens.translate import import_translator_file
        if self.unsaved_edits():
            self.notify("save or undo your edit before reading a file over it",
                        severity="warning")
            return

        def chosen(path: str | None) -> None:
            if path and import_translator_file(self, self.message_id, Path(path)):
                self.load()

        self.app.push_screen(AskPath("Read a translated file back (XLIFF or PO)",
                                     value=str(files.exports_folder(self.store)) + "/",
                                     must_exist=True), chosen)
