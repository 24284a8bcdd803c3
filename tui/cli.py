"""`cohear tui`: start the review app signed in with a token."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("tui")
    def tui(token: str | None = typer.Option(
                None, "--token", help="Your cohear token (default: $COHEAR_TOKEN).",
                show_default=False),
            rtl_reorder: bool = typer.Option(
                False, "--rtl-reorder", help="Start with right-to-left words reordered for "
                "terminals that cannot lay them out (F2 toggles).")):
        """Review answers, transcripts, translations and coding in the terminal."""
        from cohear.cli import open_store
        from tui.app import CohearApp
        from tui.signin import sign_in
        store = open_store()
        user = sign_in(store, token)
        CohearApp(store, user, reorder_rtl=rtl_reorder).run()
