"""The glossary: terms machine translation must keep as they are (every language, or one),
and fixed translations of a term per language. Add, edit and remove them; cohear's own
terms (NHS, GP, medicine names) are listed and stay."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Header, Input, Label, Select, Static

from cohear.errors import CohearError
from comms import service as comms
from language_packs.registry import LANGUAGES
from tui.display import one_line, safe
from tui.screens.base import ReviewScreen
from tui.widgets.footer import KeyFooter

EVERY = "every"     # the language choice for "every language"


class GlossaryTable(DataTable):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Edit")]

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # Edit is offered only to the roles that may change the glossary.
        user = getattr(self.app, "user", None)
        if action == "select_cursor" and (user is None or not user.may("comms.write")):
            return False
        return super().check_action(action, parameters)


class GlossaryEntry(ModalScreen[dict | None]):
    """A term, its language (or every language) and its fixed translation, with a note."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel"),
                                             Binding("ctrl+s", "save", "Save")]

    def __init__(self, entry: dict | None = None):
        super().__init__()
        self.entry = entry or {}

    def compose(self) -> ComposeResult:
        e = self.entry
        with Vertical(id="dialog", classes="wide"):
            yield Label("Edit a glossary entry" if e else "Add to the glossary",
                        id="dialog-title")
            yield Static("Without a language, the term is kept as it is in every language. "
                         "With one, give the fixed translation to use there (or leave it "
                         "empty to keep the term as it is in that language only).",
                         id="dialog-hint")
            # Stored words through safe: a control character an old row holds shows as
            # U+FFFD (and an edited entry is saved without it).
            yield Input(value=safe(e.get("term")), placeholder="term, as written in the "
                        "messages (e.g. Pharmacy First)", id="term")
            yield Select([("every language (keep as it is)", EVERY)]
                         + [(f"{tag}  {lang.english_name}", tag)
                            for tag, lang in LANGUAGES.items() if tag != "en"],
                         value=e.get("language") or EVERY, allow_blank=False, id="language")
            yield Input(value=safe(e.get("translation")), placeholder="fixed translation",
                        id="translation")
            yield Input(value=safe(e.get("note")), placeholder="note (why, who decided)",
                        id="note")
            yield Static("", id="dialog-problem")
            yield Static("Ctrl+S to save, Escape to cancel.")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-problem", Static).display = False
        self.query_one("#term", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        term = self.query_one("#term", Input).value.strip()
        language = self.query_one("#language", Select).value
        translation = self.query_one("#translation", Input).value.strip()
        problem = self.query_one("#dialog-problem", Static)
        if not term:
            problem.update("Write the term first.")
            problem.display = True
            return
        if translation and language == EVERY:
            problem.update("A fixed translation is for one language: choose it.")
            problem.display = True
            return
        self.dismiss({"term": term, "language": None if language == EVERY else language,
                      "translation": translation or None,
                      "note": self.query_one("#note", Input).value.strip()})

    def action_cancel(self) -> None:
        self.dismiss(None)


class GlossaryScreen(ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add term"),
        Binding("d", "remove", "Remove"),
        Binding("r", "reload", "Reload"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"add": "comms.write",
                                                    "remove": "comms.write"}

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="glossary-title")
        table = GlossaryTable(id="glossary", cursor_type="row", zebra_stripes=True)
        table.add_column("term", width=30)
        table.add_column("language", width=22)
        table.add_column("fixed translation", width=30)
        table.add_column("note")
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#glossary", DataTable).focus()

    def refresh_words(self) -> None:
        self.load()

    def load(self, keep: tuple[str, str | None] | None = None) -> None:
        listed = comms.list_glossary(self.store)
        # The team's own entries first (what people manage), cohear's built-in terms after.
        self.entries = ([e for e in listed if e["note"] != "built in" or e["language"]]
                        + [e for e in listed if e["note"] == "built in" and not e["language"]])
        table = self.query_one("#glossary", DataTable)
        row = table.cursor_row
        table.clear()
        reorder = self.reorder_rtl
        for e in self.entries:
            built_in = e["note"] == "built in" and e["language"] is None
            lang = e["language"]
            table.add_row(Text(safe(e["term"]), style="dim" if built_in else "bold"),
                          Text(f"{lang}  {LANGUAGES[lang].english_name}" if lang in LANGUAGES
                               else safe(lang or "every language"),
                               style="dim" if not lang else ""),
                          Text(one_line(e["translation"] or "", 30, reorder=reorder) or
                               ("kept as it is" if not built_in else "kept as it is (built in)"),
                               style="" if e["translation"] else "dim"),
                          Text(safe(e["note"])))
        found = [i for i, e in enumerate(self.entries)
                 if keep and (e["term"], e["language"]) == keep]
        if self.entries:
            table.move_cursor(row=found[0] if found else min(row or 0, len(self.entries) - 1),
                              animate=False)
        mine = sum(1 for e in self.entries if e["note"] != "built in")
        self.query_one("#glossary-title", Static).update(Text.assemble(
            ("Glossary", "bold"), f"  ·  {mine} entries of the team's, "
            f"{len(self.entries) - mine} built in  ·  used by every machine translation"))

    def selected(self) -> dict | None:
        table = self.query_one("#glossary", DataTable)
        if not self.entries or table.cursor_row is None:
            return None
        return self.entries[min(table.cursor_row, len(self.entries) - 1)]

    def action_reload(self) -> None:
        self.load()

    def action_add(self) -> None:
        self.app.push_screen(GlossaryEntry(), self.save)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        entry = self.selected()
        if entry is None:
            return
        if not self.user.may("comms.write"):
            self.attempt(self.user.require, "comms.write")
            return
        if entry["note"] == "built in":
            self.notify("a built-in term: add a fixed translation for a language instead "
                        "(a)", timeout=5)
            return
        self.app.push_screen(GlossaryEntry(entry), lambda new: self.save(new, entry))

    def save(self, new: dict | None, old: dict | None = None) -> None:
        if not new:
            return
        if not self.user.may("comms.write"):
            self.attempt(self.user.require, "comms.write")
            return
        try:
            # A renamed term or a new language replaces the old entry, all or nothing.
            with self.store.transaction():
                if old and (old["term"], old["language"]) != (new["term"], new["language"]):
                    comms.remove_glossary_term(self.store, self.user, old["term"],
                                               language_tag=old["language"])
                comms.add_glossary_term(self.store, self.user, new["term"],
                                        language_tag=new["language"],
                                        translation=new["translation"], note=new["note"])
        except CohearError as exc:
            self.failed(exc)
            return
        self.notify(safe(f"saved {new['term']!r}"), timeout=3)
        self.load(keep=(new["term"], new["language"]))

    def action_remove(self) -> None:
        from tui.screens.dialogs import Confirm
        entry = self.selected()
        if entry is None:
            return
        if entry["note"] == "built in":
            self.notify("built-in terms stay", timeout=3)
            return
        where = safe(f"in {entry['language']}") if entry["language"] else "for every language"

        def decided(yes: bool | None) -> None:
            if yes and self.attempt(comms.remove_glossary_term, self.store, self.user,
                                    entry["term"], language_tag=entry["language"]):
                self.notify(safe(f"removed {entry['term']!r} {where}"), timeout=3)
                self.load()

        self.app.push_screen(Confirm(f"Remove {entry['term']!r} {where}?",
                                     "Translations made from now on no longer keep it. "
                                     "Translations already made do not change.",
                                     yes="Remove"), decided)
