"""Home: the admin's first screen, a choice of everything the workspace offers, each with
its key; other roles start on what they do and reach this list through the palette."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from tui.display import safe
from tui.screens.base import ReviewScreen
from tui.widgets.footer import KeyFooter

# (app action, what it is, who it is for, its key)
CHOICES = (
    ("open_messages", "Messages", "draft, check and translate health messages", "F3"),
    ("open_coverage", "Coverage map", "every message in every language at a glance", "F8"),
    ("open_glossary", "Glossary", "protected terms and their fixed translations", "F9"),
    ("open_surveys", "Surveys", "build surveys, translate their questions, open languages",
     "F4"),
    ("open_queue", "Review queue", "answers to check, correct, translate and code", "F5"),
    ("open_translations", "Translations", "every translation, grouped, to review", "F6"),
    ("open_agreement", "Agreement and exports", "inter-coder agreement, research exports",
     "F7"),
    ("open_links", "Field links", "one-time sign-in links for community leaders", "Ctrl+F"),
)


class HomeScreen(ReviewScreen):

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="home-title")
        yield OptionList(id="home")
        yield KeyFooter()

    def on_mount(self) -> None:
        user = self.user
        self.query_one("#home-title", Static).update(Text.assemble(
            ("What would you like to do?", "bold"),
            f"  Signed in as {safe(user.name)} ({user.role}). Enter opens; each has its key."))
        options = self.query_one("#home", OptionList)
        for action, name, what, key in CHOICES:
            if not self.app.check_action(action, ()):
                continue
            options.add_option(Option(Text.assemble((f"{key:>7}  ", "bold"), (name, "bold"),
                                                    f"  {what}"), id=action))
        if options.option_count:
            options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.app.open_destination(event.option.id)
