"""The review app: staff work through survey answers, transcripts, translations and
coding from a terminal. It holds the signed-in user, the store and the app-wide keys.
"""

from __future__ import annotations

import importlib
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from cohear.auth import User
from cohear.errors import CohearError
from cohear.store import Store
from tui.commands import ActionsProvider
from tui.screens.agreement import AgreementScreen
from tui.screens.help import HelpScreen
from tui.screens.queue import QueueScreen
from tui.screens.translations import TranslationsScreen

# Each domain registers its actions (answers.read, comms.approve...) in cohear.permissions
# when its service is imported: all are imported before any role is checked.
DOMAIN_SERVICES = ("comms.service", "speech.service", "surveys.service", "surveys.coding",
                   "surveys.agreement", "surveys.exports", "surveys.redaction")
for _name in DOMAIN_SERVICES:
    importlib.import_module(_name)


class CohearApp(App):
    """cohear's Textual review app for one signed-in person."""

    CSS_PATH = "cohear.tcss"
    TITLE = "cohear review"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: these work even while an editor (which binds F6/F7 itself) has focus.
        Binding("f1", "help", "Help", priority=True),
        Binding("f2", "toggle_rtl", "RTL display", priority=True),
        Binding("f5", "open_queue", "Queue", priority=True),
        Binding("f6", "open_translations", "Translations", priority=True),
        Binding("f7", "open_agreement", "Agreement", priority=True),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    reorder_rtl: reactive[bool] = reactive(False)

    def __init__(self, store: Store, user: User, *, reorder_rtl: bool = False):
        super().__init__()
        self.store = store
        self.user = user
        self.set_reactive(CohearApp.reorder_rtl, reorder_rtl)
        self.sub_title = f"{user.name} ({user.role})"

    def on_mount(self) -> None:
        # A communicator has no answers to review: they start with translations.
        first = (QueueScreen() if self.user.may("answers.read") else
                 TranslationsScreen() if self.user.may("comms.read") else None)
        if first is None:
            self.notify(f"the role {self.user.role!r} has nothing to review here",
                        severity="error")
            return
        self.push_screen(first)

    # -- the right-to-left display mode -------------------------------------------------
    def action_toggle_rtl(self) -> None:
        self.reorder_rtl = not self.reorder_rtl

    def watch_reorder_rtl(self, value: bool) -> None:
        for screen in self.screen_stack:
            refresh = getattr(screen, "refresh_words", None)
            if refresh is not None:
                refresh()
        self.notify("right-to-left words reordered for this terminal" if value
                    else "right-to-left words shown as stored", timeout=3)

    # -- going places ------------------------------------------------------------------------
    def _open(self, screen_class, action: str) -> None:
        if isinstance(self.screen, screen_class):
            return
        try:
            self.user.require(action)
        except CohearError as exc:
            self.notify(exc.message(), title=exc.title, severity="error", timeout=8)
            return
        self.push_screen(screen_class())

    def action_open_queue(self) -> None:
        self._open(QueueScreen, "answers.read")

    def action_open_translations(self) -> None:
        self._open(TranslationsScreen, "comms.read")

    def action_open_agreement(self) -> None:
        self._open(AgreementScreen, "agreement.read")

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        keys, seen = [], set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            label = binding.key_display or self.get_key_display(binding)
            if (label, binding.description) in seen or not binding.description:
                continue
            seen.add((label, binding.description))
            keys.append((label, binding.description))
        self.push_screen(HelpScreen(keys))

    # -- quitting never loses edits ----------------------------------------------------------
    def unsaved_edits(self) -> list[str]:
        edits: list[str] = []
        for screen in self.screen_stack:
            found = getattr(screen, "unsaved_edits", None)
            if found is not None:
                edits += found()
        return edits

    async def action_quit(self) -> None:
        from tui.screens.dialogs import DiscardEdits
        edits = self.unsaved_edits()
        if not edits:
            self.exit()
            return
        if isinstance(self.screen, DiscardEdits):
            return

        def decided(discard: bool | None) -> None:
            if discard:
                self.exit()

        self.push_screen(DiscardEdits(edits), decided)
