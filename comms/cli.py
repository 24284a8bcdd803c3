"""`cohear messages ...`: health messages, checks, translation, approval, translator
files and coverage from the command line (a thin layer over comms.service)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

messages_app = typer.Typer(
    help="Health messages: draft, check, translate, review, export.", no_args_is_help=True
)

AS_HELP = "Act as this cohear user (recorded in the audit log); default: the system."


def _ctx(as_user: str | None):
    from cohear.auth import SYSTEM, get_user
    from cohear.cli import open_store

    store = open_store()
    return store, (get_user(store, as_user) if as_user else SYSTEM)


def _text(text: str | None, file: Path | None) -> str | None:
    if file is not None:
        return sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    return text


@messages_app.command("add")
def add(
    title: Annotated[str, typer.Option(help="A short title staff will recognise.")],
    text: Annotated[str | None, typer.Option(help="The message in plain English.")] = None,
    file: Annotated[
        Path | None, typer.Option(help="Read the message from a file (- for stdin).")
    ] = None,
    channel: Annotated[
        str, typer.Option(help="sms, letter, phone_script, poster or whatsapp.")
    ] = "sms",
    audience: Annotated[str, typer.Option(help="Who it is for.")] = "",
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeat for more).")] = None,
    language: Annotated[str, typer.Option(help="The language it is written in.")] = "en",
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
):
    """Add a message (version 1)."""
    from cohear.cli import console
    from comms import service

    store, actor = _ctx(as_user)
    m = service.create_message(
        store,
        actor,
        title=title,
        source_text=_text(text, file) or "",
        channel=channel,
        audience=audience,
        tags=tag,
        source_language=language,
    )
    console.print(f"added message {m['id']} ({m['channel']}, version 1)")


@messages_app.command("list")
def list_(tag: str | None = None, channel: str | None = None):
    """List messages and the status of each translation."""
    from cohear.cli import open_store, print_table
    from comms import service

    rows = service.list_messages(open_store(), tag=tag, channel=channel)
    for r in rows:
        r["languages"] = ", ".join(f"{k}:{v}" for k, v in r["translations"].items())
    print_table(rows, ["id", "title", "channel", "version", "languages"])


@messages_app.command("show")
def show(
    message_id: int, json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
):
    """Show a message and its translations."""
    from cohear.cli import console, open_store, print_json
    from comms import service

    store = open_store()
    m = service.get_message(store, message_id)
    translations = service.list_translations(store, message_id)
    if json_:
        print_json({**m, "translations": translations})
        return
    console.print(
        f"[bold]{m['title']}[/] (message {m['id']}, {m['channel']}, version {m['version']})",
        highlight=False,
    )
    console.print(m["source_text"], highlight=False, markup=False)
    for t in translations:
        score = "" if t["similarity"] is None else f", chrF {t['similarity']}"
        console.print(
            f"\n[bold]{t['language']}[/] {t['status']} (revision {t['revision']}, of version "
            f"{t['source_version']}{score}{', pivoted' if t['pivoted'] else ''})",
            highlight=False,
        )
        console.print(t["text"] or "(no text yet)", highlight=False, markup=False)
        if t["back_translation"]:
            console.print("back-translation: " + t["back_translation"], style="dim",
                          highlight=False, markup=False)
        if t["placeholder_problems"]:
            console.print(
                "[red]lost:[/] " + ", ".join(p["placeholder"] for p in t["placeholder_problems"])
            )


@messages_app.command("edit")
def edit(
    message_id: int,
    text: Annotated[str | None, typer.Option(help="New source text.")] = None,
    file: Annotated[Path | None, typer.Option(help="Read the new source from a file.")] = None,
    title: str | None = None,
    channel: str | None = None,
    translation: Annotated[
        str | None, typer.Option(help="Edit this language's translation instead of the source.")
    ] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
):
    """Edit the source (a new version; translations become stale) or one translation."""
    from cohear.cli import console
    from comms import service

    store, actor = _ctx(as_user)
    new_text = _text(text, file)
    if translation:
        t = service.edit_translation(store, actor, message_id, translation, new_text or "")
        console.print(f"{t['language']} translation of message {message_id}: {t['status']}")
        return
    m = service.edit_message(
        store, actor, message_id, source_text=new_text, title=title, channel=channel
    )
    console.print(f"message {message_id} is at version {m['version']}")


@messages_app.command("check")
def check(message_id: int):
    """Plain-language check: reading age, long sentences, passive voice, jargon."""
    from cohear.cli import console, open_store
    from comms import service

    report = service.check_message(open_store(), message_id)
    console.print(
        f"reading age {report.get('reading_age', '-')} (aim: 9 to 11); "
        f"SMS: {report['sms']['segments']} {report['sms']['encoding']} segment(s)"
    )
    for f in report["findings"]:
        tip = f" - {f['suggestion']}" if f["suggestion"] else ""
        console.print(
            f"  {f['start']}-{f['end']} {f['kind']}: {f['message']}{tip}",
            highlight=False,
            markup=False,
        )
    if not report["findings"]:
        console.print("  no findings")


@messages_app.command("translate")
def translate(
    message_ids: Annotated[list[int], typer.Argument(help="Message ids.")],
    language: Annotated[
        list[str], typer.Option("--language", "-l", help="Target language (repeat for more).")
    ],
    force: Annotated[bool, typer.Option(help="Translate again even if current.")] = False,
    background: Annotated[bool, typer.Option(help="Queue a job instead of waiting.")] = False,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
):
    """Machine-translate messages, reusing approved sentences from memory."""
    from cohear.cli import console
    from comms import service

    store, actor = _ctx(as_user)
    if background:
        from cohear.jobs import JobQueue

        service.plan_translation(store, list(message_ids), language, force=force)
        job = JobQueue(store).enqueue(
            "comms.translate",
            {"message_ids": list(message_ids), "languages": language, "force": force},
            actor=actor,
        )
        console.print(f"queued job {job}; see `cohear jobs show {job}`")
        return
    result = service.translate_messages(store, actor, list(message_ids), language, force=force)
    for t in result["translated"]:
        console.print(
            f"message {t['message_id']} {t['language']}: machine translation "
            f"({t['reused_segments']} of {t['segments']} sentences from memory"
            f"{', pivoted through English' if t['pivoted'] else ''})"
        )
    for s in result["skipped"]:
        console.print(f"message {s['message_id']} {s['language']}: skipped ({s['status']})")


@messages_app.command("request-human")
def request_human(
    message_id: int,
    language: Annotated[list[str], typer.Option("--language", "-l")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
):
    """Ask for a human translation (the way for languages without a pack)."""
    from cohear.cli import console
    from comms import service

    store, actor = _ctx(as_user)
    for t in service.request_human(store, actor, message_id, language):
        console.print(f"{t['language']}: {t['status']}")


@messages_app.command("approve")
def approve(
    message_id: int,
    language: Annotated[str, typer.Option("--language", "-l")],
    as_user: Annotated[str, typer.Option("--as", help="The reviewer (or admin) approving.")],
    revision: Annotated[int | None, typer.Option(
        help="The revision you reviewed (`cohear messages show` lists it); refused when "
             "the translation has changed since.")] = None,
):
    """Approve one translation (reviewers and admins)."""
    from cohear.cli import console
    from comms import service

    store, actor = _ctx(as_user)
    t = service.approve_translation(store, actor, message_id, language, revision=revision)
    console.print(
        f"{t['language']} translation of message {message_id} approved by "
        f"{t['approved_by']} at {t['approved_at']}"
    )


@messages_app.command("export-xliff")
def export_xliff(
    message_ids: Annotated[list[int], typer.Argument()],
    language: Annotated[str, typer.Option("--language", "-l")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    po: Annotated[bool, typer.Option("--po", help="Write PO instead of XLIFF 2.0.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Include current translations.")] = False,
):
    """Write the sentences that need a translator as XLIFF 2.0 (or PO)."""
    from cohear.cli import console, open_store
    from comms import exchange

    data, _ = exchange.export_file(
        open_store(), list(message_ids), language, "po" if po else "xliff", include_all=all_
    )
    out.write_bytes(data)
    console.print(f"wrote {out}")


@messages_app.command("import-xliff")
def import_xliff(
    path: Path,
    message_id: Annotated[int | None, typer.Option("--message")] = None,
    language: Annotated[str | None, typer.Option("--language", "-l")] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
):
    """Read a translated XLIFF (2.0 or 1.2) or PO file back in."""
    from cohear.cli import console
    from comms import exchange

    store, actor = _ctx(as_user)
    result = exchange.import_file(
        store, actor, path.read_bytes(), message_id=message_id, lang=language
    )
    for r in result["imported"]:
        console.print(
            f"message {r['message_id']} {r['language']}: {r['status']} "
            f"({r['sentences']} sentences from {result['format']})"
        )
    for warning in result.get("warnings", []):
        console.print(f"warning: {warning}")


@messages_app.command("export")
def export(
    message_id: int,
    language: Annotated[
        list[str] | None, typer.Option("--language", "-l", help="Approved language(s).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or html.")] = "html",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File (default: stdout).")] = None,
):
    """An approved message as plain text (one language) or an HTML page (several)."""
    from cohear.cli import open_store
    from cohear.errors import BadInput
    from comms import exports

    store = open_store()
    if fmt == "text":
        if not language or len(language) != 1:
            raise BadInput("plain text is one language", fix="give exactly one --language")
        content = exports.export_text(store, message_id, language[0])
    elif fmt == "html":
        content = exports.export_html(store, message_id, language or None)
    else:
        raise BadInput(f"{fmt!r} is not an export format", fix="use text or html")
    if out is None:
        sys.stdout.write(content)
    else:
        out.write_text(content, encoding="utf-8")


@messages_app.command("coverage")
def coverage(
    language: Annotated[list[str] | None, typer.Option("--language", "-l")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
):
    """Which messages are in which languages, and how far each has got."""
    from cohear.cli import console, open_store, print_json, print_table
    from comms import exports

    store = open_store()
    if fmt == "csv":
        sys.stdout.write(exports.coverage_csv(store, language or None))
        return
    data = exports.coverage(store, language or None)
    if fmt == "json":
        print_json(data)
        return
    rows = [{"id": r["message_id"], "title": r["title"], **r["statuses"]} for r in data["messages"]]
    print_table(rows, ["id", "title", *data["languages"]])
    if not rows:
        console.print("no messages yet")


@messages_app.command("glossary")
def glossary(
    term: Annotated[str | None, typer.Argument(help="Add this term.")] = None,
    language: Annotated[str | None, typer.Option("--language", "-l")] = None,
    translation: Annotated[str | None, typer.Option(help="Its fixed translation.")] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
):
    """List the glossary, or add a do-not-translate term or a fixed translation."""
    from cohear.cli import print_table
    from comms import service

    store, actor = _ctx(as_user)
    if term:
        service.add_glossary_term(
            store, actor, term, language_tag=language, translation=translation
        )
    print_table(service.list_glossary(store), ["term", "language", "translation", "note"])


def register(app: typer.Typer) -> None:
    app.add_typer(messages_app, name="messages")
