"""`cohear tui`: the workspace signed in with a token, in this terminal or (`--web`) served
to browsers, one app process per tab."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("tui")
    def tui(token: str | None = typer.Option(
                None, "--token", help="Your cohear token (default: $COHEAR_TOKEN).",
                show_default=False),
            rtl_reorder: bool = typer.Option(
                False, "--rtl-reorder", help="Start with right-to-left words reordered for "
                "terminals that cannot lay them out (F2 toggles)."),
            sign_in: bool = typer.Option(
                False, "--sign-in", help="Open on the token screen (ignores --token and "
                "$COHEAR_TOKEN)."),
            web: bool = typer.Option(
                False, "--web", help="Serve the workspace to browsers instead, one app "
                "process per tab, each signing in with its own token."),
            host: str = typer.Option("127.0.0.1", "--host", help="With --web: the address "
                                     "to listen on."),
            port: int = typer.Option(8001, "--port", help="With --web: the port."),
            allow_remote: bool = typer.Option(
                False, "--allow-remote", help="With --web: allow an address beyond this "
                "machine (put it behind a TLS proxy)."),
            public_url: str | None = typer.Option(
                None, "--public-url", help="With --web behind a proxy: the address "
                "browsers use, e.g. https://cohear.example.nhs.uk/workspace"),
            max_sessions: int = typer.Option(
                16, "--max-sessions", min=1, max=500, help="With --web: browser tabs (app "
                "processes) at once; more are refused until one closes.")):
        """The workspace: messages, surveys, review, coding and exports, in the terminal or
        a browser."""
        from cohear.cli import open_store
        if web:
            try:
                from tui import web as web_workspace
            except ImportError as exc:
                # textual-serve is a dependency; an install made without it (--no-deps, a
                # trimmed image) gets the fix in one line, not a traceback.
                from cohear.errors import CohearError
                raise CohearError(
                    f"the browser workspace needs {exc.name or 'textual-serve'}, which is not "
                    "installed", fix="install it with `python -m pip install "
                    "'textual-serve>=1.1'` (or reinstall cohear with its dependencies), or "
                    "run `cohear tui` in a terminal", status=503) from None
            store = open_store()     # migrated now, so every tab's process starts at once
            data_dir = store.settings.data_dir
            store.close()
            web_workspace.serve(data_dir, host=host, port=port, allow_remote=allow_remote,
                                public_url=public_url, reorder_rtl=rtl_reorder,
                                max_sessions=max_sessions)
            return
        from tui.app import CohearApp
        from tui.signin import sign_in as check_token
        store = open_store()
        user = None if sign_in else check_token(store, token)
        CohearApp(store, user, reorder_rtl=rtl_reorder).run()
