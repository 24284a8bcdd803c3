"""The workspace: staff draft and translate health messages, build surveys, review
answers, transcripts and coding, and export, from a terminal or (`cohear tui --web`) a
browser. It holds the signed-in user, the store, the app-wide keys and where each role
starts: communicators on Messages, reviewers and collectors on the Queue, researchers on
Agreement and exports, admins on a choice of screens.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from cohear.auth import User
from cohear.errors import CohearError
from cohear.store import Store
from tui.commands import ActionsProvider
from tui.display import safe
from tui.screens.agreement import AgreementScreen
from tui.screens.coverage import CoverageScreen
from tui.screens.glossary import GlossaryScreen
from tui.screens.help import HelpScreen
from tui.screens.home import HomeScreen
from tui.screens.links import FieldLinksScreen
from tui.screens.messages import MessagesScreen
from tui.screens.queue import QueueScreen
from tui.screens.surveys import SurveysScreen
from tui.screens.translations import TranslationsScreen

# Each domain registers its actions (answers.read, comms.approve...) in cohear.permissions
# when its service is imported: all are imported before any role is checked.
DOMAIN_SERVICES = ("comms.service", "speech.service", "surveys.service", "surveys.coding",
                   "surveys.agreement", "surveys.exports", "surveys.redaction",
                   "surveys.english", "surveys.views", "webcollect.links",
                   "language_packs.service")
for _name in DOMAIN_SERVICES:
    importlib.import_module(_name)


class CohearApp(App):
    """cohear's Textual review app for one signed-in person."""

    CSS_PATH = "cohear.tcss"
    TITLE = "cohear"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: these work even while an editor (which binds F6/F7 itself) has focus.
        Binding("f1", "help", "Help", priority=True),
        Binding("f2", "toggle_rtl", "RTL display", priority=True),
        Binding("f5", "open_queue", "Queue", priority=True),
        Binding("f6", "open_translations", "Translations", priority=True),
        Binding("f7", "open_agreement", "Agreement", priority=True),
        # Not priority: the answer screen keeps F3, F4, F8 and F9 for its own keys
        # (redactions, English), and Ctrl+F is free wherever an editor is.
        Binding("f3", "open_messages", "Messages"),
        Binding("f4", "open_surveys", "Surveys"),
        Binding("f8", "open_coverage", "Coverage map"),
        Binding("f9", "open_glossary", "Glossary"),
        Binding("f12", "go_home", "Home"),
        Binding("ctrl+f", "open_links", "Field links"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    # The app-wide keys a role may not use are not offered (see ReviewScreen).
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "open_queue": "answers.read",
        "open_translations": "comms.read",
        "open_agreement": "agreement.read",
        "open_messages": "comms.read",
        "open_coverage": "comms.read",
        "open_glossary": "comms.read",
        # Collectors read surveys on the field page; the builder is for staff.
        "open_surveys": "comms.read",
        "open_links": "collect.links",
    }
    # Where each screen key leads, and the permission it needs (checked again on the way).
    DESTINATIONS: ClassVar[dict[str, tuple[type, str]]] = {
        "open_queue": (QueueScreen, "answers.read"),
        "open_translations": (TranslationsScreen, "comms.read"),
        "open_agreement": (AgreementScreen, "agreement.read"),
        "open_messages": (MessagesScreen, "comms.read"),
        "open_coverage": (CoverageScreen, "comms.read"),
        "open_glossary": (GlossaryScreen, "comms.read"),
        "open_surveys": (SurveysScreen, "comms.read"),
        "open_links": (FieldLinksScreen, "collect.links"),
    }

    reorder_rtl: reactive[bool] = reactive(False)

    def __init__(self, store: Store, user: User | None, *, reorder_rtl: bool = False):
        """With no `user`, the app opens on the sign-in screen (the browser workspace,
        where each tab signs in with its own token)."""
        super().__init__()
        self.store = store
        self.user = user
        self.set_reactive(CohearApp.reorder_rtl, reorder_rtl)
        if user is not None:
            self.sub_title = safe(f"{user.name} ({user.role})")

    def on_mount(self) -> None:
        if self.user is None:
            from tui.screens.signin import SignInScreen
            self.push_screen(SignInScreen(), self.signed_in)
            return
        self.push_screen(self.home_screen())
        self.warm_up()

    def signed_in(self, user: User | None) -> None:
        if user is None:
            self.exit()
            return
        self.user = user
        self.sub_title = safe(f"{user.name} ({user.role})")
        self.push_screen(self.home_screen())
        self.warm_up()

    def warm_up(self) -> None:
        if self.user.may("comms.write"):
            self.load_reading_age()

    @work(thread=True, exclusive=True, group="warm-up")
    def load_reading_age(self) -> None:
        """The reading age counts syllables with the CMU dictionary, which takes a second or
        more to load the first time: load it now, so the first check as one types is not
        held up by it."""
        from comms import plain
        plain.reading_age("Warm up the syllable dictionary.")

    def home_screen(self) -> Screen:
        """The first screen of the signed-in role: what that role does."""
        role = self.user.role
        if role == "admin":
            return HomeScreen()
        if role == "communicator":
            return MessagesScreen()
        if role == "researcher":
            return AgreementScreen()
        return QueueScreen()      # reviewers; collectors see their own answers there

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
        if self.user is None or isinstance(self.screen, screen_class):
            return
        try:
            self.user.require(action)
        except CohearError as exc:
            self.notify(safe(exc.message()), title=exc.title, severity="error", timeout=8)
            return
        self.push_screen(screen_class())

    def open_destination(self, action: str) -> None:
        """Open the screen an app-wide key leads to (also from Home and the palette)."""
        screen_class, permission = self.DESTINATIONS[action]
        self._open(screen_class, permission)

    def action_open_queue(self) -> None:
        self.open_destination("open_queue")

    def action_open_translations(self) -> None:
        self.open_destination("open_translations")

    def action_open_agreement(self) -> None:
        self.open_destination("open_agreement")

    def action_open_messages(self) -> None:
        self.open_destination("open_messages")

    def action_open_coverage(self) -> None:
        self.open_destination("open_coverage")

    def action_open_glossary(self) -> None:
        self.open_destination("open_glossary")

    def action_open_surveys(self) -> None:
        self.open_destination("open_surveys")

    def action_open_links(self) -> None:
        self.open_destination("open_links")

    def action_go_home(self) -> None:
        """Back to the role's first screen (asking first about unsaved edits on the way)."""
        if self.user is None or len(self.screen_stack) <= 2:
            return
        edits = [e for screen in self.screen_stack[2:]
                 for e in (getattr(screen, "unsaved_edits", lambda: [])())]

        def go(discard: bool | None = True) -> None:
            if discard:
                while len(self.screen_stack) > 2:
                    self.pop_screen()

        if not edits:
            go()
            return
        from tui.screens.dialogs import DiscardEdits
        self.push_screen(DiscardEdits(edits, leaving="go home"), go)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        needed = self.ACTION_PERMISSIONS.get(action)
        if self.user is None:
            # Before signing in, only help, the display mode and quitting.
            return action in ("help", "toggle_rtl", "quit", "command_palette")
        if needed is not None and not self.user.may(needed):
            return False
        if action == "go_home" and len(self.screen_stack) <= 2:
            return None
        # Already there: shown dimmed.
        if action in self.DESTINATIONS and isinstance(self.screen,
                                                      self.DESTINATIONS[action][0]):
            return None
        return True

    def keys_in_use(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every action the screen in front offers this person:
        its own keys and the app's, once per action, none that the role may not use."""
        by_action: dict[tuple[str, str], list[str]] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            # Widgets' own editing and movement keys (show=False) are described in the
            # notes of F1, not listed one by one.
            if not binding.description or not binding.show:
                continue
            keys = by_action.setdefault((binding.action, binding.description), [])
            label = binding.key_display or self.get_key_display(binding)
            if label not in keys:
                keys.append(label)
        from tui.widgets.footer import app_wide_actions
        everywhere = app_wide_actions(self)
        listed = sorted(by_action.items(), key=lambda item: item[0][0] in everywhere)
        return [(" ".join(keys), description) for (_, description), keys in listed]

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.keys_in_use()))

    # -- the command palette's own commands ------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's "Keys" panel lists every widget's internal keys ("Show menu" four
        # times); F1 is cohear's list. Its screenshot goes to a Downloads folder that a
        # server account seldom has: ours goes to the data directory (see screenshot()).
        for command in super().get_system_commands(screen):
            if command.title == "Keys":
                yield SystemCommand("Keys", "Every key of this screen, with what it does (F1)",
                                    self.action_help)
            elif command.title == "Screenshot":
                yield SystemCommand("Screenshot", "Save an SVG picture of this screen in the "
                                    "data directory's screenshots folder", self.action_screenshot)
            else:
                yield command

    def screenshot_folder(self) -> Path:
        return self.store.settings.data_dir / "screenshots"

    def screenshot(self) -> Path:
        """Save the screen as SVG under DATA_DIR/screenshots/ and return the path. A
        screenshot shows people's words, so it stays with the data they came from: inside
        the data directory (owner-only), never the current folder or a shared Downloads."""
        folder = self.screenshot_folder()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        name = type(self.screen).__name__.removesuffix("Screen").lower() or "screen"
        path = folder / f"cohear-{name}-{stamp}.svg"
        svg = self.export_screenshot()
        tmp = path.with_name(f".{path.name}.partial")
        # Owner-only, like everything else in the data directory.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(svg)
        tmp.replace(path)
        return path

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        try:
            saved = self.screenshot()
        except OSError as exc:
            self.notify(f"could not save the screenshot in {self.screenshot_folder()}: "
                        f"{exc.strerror or exc}", title="Screenshot", severity="error",
                        timeout=10)
            return
        self.notify(f"saved to {saved}", title="Screenshot", timeout=10)

    # -- errors in the browser workspace ------------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """In the browser workspace the app's error output lands in the server's log, so it
        says the error's category, a reference and where in the code, never its message or
        the values around it (Textual's own traceback shows locals: people's words)."""
        error = getattr(self, "_crash", None)
        if not self.is_web or error is None:
            super()._fatal_error()
            return
        from rich.text import Text

        from cohear import logs
        self.bell()
        self._exit_renderables.append(Text(
            f"cohear workspace stopped: {logs.category(error)}, reference {logs.reference()}"
            f"\n{logs.frames(error)}"))
        self._close_messages_no_wait()

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
