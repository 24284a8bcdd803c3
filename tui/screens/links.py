"""Field links (admins): one-time sign-in links for community leaders' phones. Make one for
a collector (shown once, whole, to copy into a text message), list them with their state,
and withdraw one (and the token it gave, if it was used)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Header, Input, Label, Select, Static

from cohear.auth import list_users
from tui.display import safe
from tui.screens.base import ReviewScreen
from tui.widgets.footer import KeyFooter
from webcollect import links

STATE_STYLES = {"waiting": "bold #5fafff", "used": "bold #87d75f", "expired": "dim",
                "withdrawn": "bold #ff5f5f"}


class MakeLink(ModalScreen[dict | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save", "Make link"),
                                             Binding("escape", "cancel", "Cancel")]

    def __init__(self, collectors: list[str]):
        super().__init__()
        self.collectors = collectors

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide form"):
            yield Label("A one-time sign-in link", id="dialog-title")
            yield Static("The link signs a phone in as this collector once. Send it privately "
                         "(it is shown once); the phone then stays signed in for the hours "
                         "given.", id="dialog-hint")
            chooser = Select([(Text(safe(c)), c) for c in self.collectors], prompt="collector",
                             id="collector")
            if len(self.collectors) == 1:
                chooser.value = self.collectors[0]      # the only one: chosen already
            yield chooser
            with Horizontal(classes="form-row"):
                yield Label("Hours the link can be opened:", classes="field-label")
                yield Input(str(links.DEFAULT_LINK_MINUTES // 60), id="link-hours")
            with Horizontal(classes="form-row"):
                yield Label("Hours the phone stays signed in:", classes="field-label")
                yield Input(str(links.DEFAULT_TOKEN_MINUTES // 60), id="token-hours")
            yield Static("", id="dialog-problem")
            yield Static("Ctrl+S makes the link, Escape cancels.")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-problem", Static).display = False
        self.query_one("#collector", Select).focus()

    def action_save(self) -> None:
        problem = self.query_one("#dialog-problem", Static)
        collector = self.query_one("#collector", Select)
        try:
            hours = [float(self.query_one(f"#{w}", Input).value) for w in
                     ("link-hours", "token-hours")]
        except ValueError:
            hours = []
        if collector.is_blank() or len(hours) != 2:
            problem.update("Choose the collector, and give both times in hours.")
            problem.display = True
            return
        self.dismiss({"collector": collector.value, "link_minutes": round(hours[0] * 60),
                      "token_minutes": round(hours[1] * 60)})

    def action_cancel(self) -> None:
        self.dismiss(None)


class FieldLinksScreen(ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "make", "Make link"),
        Binding("w", "withdraw", "Withdraw"),
        Binding("r", "reload", "Reload"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"make": "collect.links",
                                                    "withdraw": "collect.links"}

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="links-title")
        table = DataTable(id="links", cursor_type="row", zebra_stripes=True)
        table.add_columns("id", "collector", "state", "link expires (UTC)", "used (UTC)",
                          "token")
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#links", DataTable).focus()

    def load(self) -> None:
        self.links = self.attempt(links.list_links, self.store, self.user) or []
        table = self.query_one("#links", DataTable)
        row = table.cursor_row
        table.clear()
        for link in self.links:
            table.add_row(str(link["id"]), Text(safe(link["collector"])),
                          Text(link["state"], style=STATE_STYLES.get(link["state"], "")),
                          link["expires_at"][:16].replace("T", " "),
                          (link["used_at"] or "")[:16].replace("T", " "),
                          link["token_prefix"] or "", key=str(link["id"]))
        if self.links:
            table.move_cursor(row=min(row or 0, len(self.links) - 1), animate=False)
        self.query_one("#links-title", Static).update(Text.assemble(
            ("Field links", "bold"), f"  ·  {len(self.links)} links  ·  the field page is at "
            f"{self.store.settings.base_url}/collect/  ·  also `cohear collect link NAME`"))

    def selected(self) -> dict | None:
        table = self.query_one("#links", DataTable)
        if not self.links or table.cursor_row is None:
            return None
        return self.links[min(table.cursor_row, len(self.links) - 1)]

    def action_reload(self) -> None:
        self.load()

    def action_make(self) -> None:
        from tui.screens.dialogs import ShowText
        collectors = [u["name"] for u in list_users(self.store) if u["role"] == "collector"]
        if not collectors:
            self.notify("there is no collector yet: `cohear users add NAME --role collector`",
                        severity="warning", timeout=6)
            return

        def made(values: dict | None) -> None:
            if not values:
                return
            link = self.attempt(links.issue_link, self.store, self.user, values["collector"],
                                link_minutes=values["link_minutes"],
                                token_minutes=values["token_minutes"])
            if link is None:
                return
            self.load()
            url = self.store.settings.base_url + link["path"]
            body = Text(url, style="bold")
            note = self.store.settings.base_url_note
            if note:
                body.append(f"\n\nNote: {note}.", style="bold yellow")
            self.app.push_screen(ShowText(
                f"Link {link['id']} for {link['collector']}",
                body,
                hint=f"Shown only now: copy it and send it to {safe(link['collector'])} privately. "
                     f"It works once, until {link['expires_at'][:16].replace('T', ' ')} UTC."))

        self.app.push_screen(MakeLink(collectors), made)

    def action_withdraw(self) -> None:
        from tui.screens.dialogs import Confirm
        link = self.selected()
        if link is None:
            return
        if link["state"] == "withdrawn":
            self.notify("already withdrawn", timeout=3)
            return
        also = (f" The phone signed in with it (token {link['token_prefix']}) is signed out."
                if link["token_prefix"] else "")

        def decided(yes: bool | None) -> None:
            if yes and self.attempt(links.revoke_link, self.store, self.user, link["id"]):
                self.notify(f"link {link['id']} withdrawn", timeout=3)
                self.load()

        self.app.push_screen(Confirm(f"Withdraw link {link['id']} for {link['collector']}?",
                                     "It will not work any more." + also, yes="Withdraw"),
                             decided)
