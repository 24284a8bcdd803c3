"""`cohear collect ...`: one-time sign-in links for the field page (make, list, withdraw),
a thin layer over webcollect.links. Only admins may; the CLI acts as the system unless
`--as` names an admin."""

from __future__ import annotations

from typing import Annotated

import typer

collect_app = typer.Typer(help="The field page: one-time sign-in links for collectors.",
                          no_args_is_help=True)
AS_HELP = "Act as this cohear admin (recorded in the audit log); default: the system."


def _ctx(as_user: str | None):
    from cohear.auth import SYSTEM, get_user
    from cohear.cli import open_store

    store = open_store()
    return store, (get_user(store, as_user) if as_user else SYSTEM)


@collect_app.command("link")
def link(name: Annotated[str, typer.Argument(help="The collector's user name.")],
         link_minutes: Annotated[int, typer.Option(
             help="How long the link can be opened.")] = 24 * 60,
         token_minutes: Annotated[int, typer.Option(
             help="How long the phone stays signed in once it is opened.")] = 12 * 60,
         as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None):
    """Make a one-time sign-in link for a collector; prints it once."""
    from cohear.cli import console
    from webcollect import links

    store, actor = _ctx(as_user)
    made = links.issue_link(store, actor, name, link_minutes=link_minutes,
                            token_minutes=token_minutes)
    console.print(f"link {made['id']} for {made['collector']}, usable once until "
                  f"{made['expires_at'][:16]} UTC:", highlight=False)
    # The whole link on a line of its own, so it can be copied; it is shown only now.
    console.print(store.settings.base_url + made["path"], highlight=False, soft_wrap=True)
    note = store.settings.base_url_note
    if note:
        # On stderr: the link stays the only line a script reads from stdout.
        from cohear.cli import err_console
        err_console.print(f"note: {note}", style="yellow", highlight=False)


@collect_app.command("list")
def list_(as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None):
    """List one-time links, newest first, with their state (never their codes)."""
    from cohear.cli import print_table
    from webcollect import links

    store, actor = _ctx(as_user)
    rows = links.list_links(store, actor)
    for r in rows:
        r["expires"] = r["expires_at"][:16]
        r["used"] = (r["used_at"] or "")[:16]
    print_table(rows, ["id", "collector", "state", "expires", "used", "token_prefix"])


@collect_app.command("withdraw")
def withdraw(link_id: Annotated[int, typer.Argument(help="The link's id (see `list`).")],
             as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None):
    """Withdraw a link; if it was used, the token it gave stops working too."""
    from cohear.cli import console
    from webcollect import links

    store, actor = _ctx(as_user)
    done = links.revoke_link(store, actor, link_id)
    console.print(f"link {done['id']} for {done['collector']} withdrawn"
                  + (f"; token {done['token_prefix']} revoked" if done["token_prefix"] else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(collect_app, name="collect")
