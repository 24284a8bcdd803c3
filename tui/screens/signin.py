"""Signing in inside the app: the token screen the browser workspace opens on (each tab
signs in for itself), with the same check as `cohear tui --token` (a worker's token is
refused: it is for `cohear worker`)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, Input, Label, Static

from cohear.auth import User, authenticate
from cohear.errors import CohearError
from tui.signin import a_person
from tui.widgets.footer import KeyFooter


class SignInScreen(Screen[User | None]):
    """Paste a cohear token; the screen answers the signed-in user. The token is shown
    masked and never kept beyond the check."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "leave", "Leave")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="signin"):
            yield Label("Sign in to cohear", id="dialog-title")
            yield Static("Paste your cohear token and press Enter. An admin issues one with "
                         "`cohear users token NAME`.", id="dialog-hint")
            yield Input(password=True, placeholder="coh_...", id="token")
            yield Static("", id="dialog-problem")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-problem", Static).display = False
        self.query_one("#token", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        token = event.value.strip()
        problem = self.query_one("#dialog-problem", Static)
        if not token:
            problem.update("Paste a token first.")
            problem.display = True
            return
        try:
            user = a_person(authenticate(self.app.store, token))
        except CohearError as exc:
            event.input.value = ""
            problem.update(exc.message())
            problem.display = True
            return
        self.dismiss(user)

    def action_leave(self) -> None:
        self.dismiss(None)
