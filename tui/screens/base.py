"""What every review screen shares: the signed-in user, the store, reporting errors in
people's words, the way back, and the list of edits not yet saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.screen import Screen

from cohear.errors import CohearError
from tui.display import safe

if TYPE_CHECKING:
    from tui.app import CohearApp


class ReviewScreen(Screen):
    """A screen of the review app.

    `ACTION_PERMISSIONS` maps an action of the screen's keys to the entry of the
    permissions table it needs: an action the signed-in role may not take is not offered
    at all (not in the footer, F1 or the command palette, and its key does nothing)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {}

    @property
    def cohear(self) -> CohearApp:
        return self.app  # type: ignore[return-value]

    @property
    def store(self):
        return self.cohear.store

    @property
    def user(self):
        return self.cohear.user

    @property
    def reorder_rtl(self) -> bool:
        return self.cohear.reorder_rtl

    def permitted(self, action: str) -> bool:
        """Whether the signed-in role may take this screen's `action`."""
        needed = self.ACTION_PERMISSIONS.get(action)
        return needed is None or self.user.may(needed)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if not self.permitted(action):
            return False
        # The first screen has nowhere to go back to: its Back key is shown dimmed.
        if action == "back" and len(self.app.screen_stack) <= 2:
            return None
        return True

    def unsaved_edits(self) -> list[str]:
        """Descriptions of edits on this screen that are not saved yet."""
        return []

    def refresh_words(self) -> None:
        """Redraw people's words (called when the right-to-left display mode changes)."""

    def failed(self, exc: CohearError) -> None:
        self.notify(safe(exc.message()), title=exc.title, severity="error", timeout=8)

    def attempt(self, action, *args, **kwargs):
        """Run a service call; a refusal or failure is shown, not raised. None on failure."""
        try:
            return action(*args, **kwargs)
        except CohearError as exc:
            self.failed(exc)
            return None

    def action_back(self) -> None:
        if len(self.app.screen_stack) <= 2:
            return
        edits = self.unsaved_edits()
        if not edits:
            self.app.pop_screen()
            return
        from tui.screens.dialogs import DiscardEdits

        def decided(discard: bool | None) -> None:
            if discard:
                self.app.pop_screen()

        self.app.push_screen(DiscardEdits(edits, leaving="go back"), decided)
