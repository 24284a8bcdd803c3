"""`cohear langs` (what each region language gets here), `cohear packs install|list|remove`
and `cohear translate` (offline machine translation of text or a file of lines).

The command line acts as the local administrator, like the shell's own commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

packs_app = typer.Typer(help="Argos Translate packs: install (file, folder or name), list, "
                             "remove.", no_args_is_help=True)

# Lines are translated this many at a time so the progress bar moves; each group is
# still one batched call per language.
PROGRESS_GROUP = 64


def langs(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False):
    """Which region languages get machine translation, speech recognition, or human
    translation only, on this machine (from the packs actually installed here)."""
    from rich.table import Table

    from cohear.cli import console, open_store, print_json
    from language_packs.service import MACHINE, coverage

    rows = coverage(open_store())
    if as_json:
        print_json(rows)
        return
    table = Table(title="Languages on this machine")
    for column in ("tag", "language", "dir", "translation", "en→X", "X→en",
                   "speech recognition", "note"):
        table.add_column(column)
    for r in rows:
        english = r["tag"] == "en"
        mark = {True: "yes", False: "—" if english else "no"}
        style = "green" if r["translation"] == MACHINE else (None if english else "yellow")
        table.add_row(r["tag"], r["english_name"], r["direction"], r["translation"],
                      mark[r["pack_from_english"]], mark[r["pack_to_english"]],
                      mark[r["speech_recognition"]], r["advice"] or "", style=style)
    console.print(table)
    console.print("Machine translation needs review by a fluent speaker before use; "
                  "'human translation only' languages go to translators.")


@packs_app.command("install")
def packs_install(
    what: Annotated[str, typer.Argument(help="An .argosmodel file, a folder of them, or a "
                                             "pack name like translate-en_ur (needs a "
                                             "network).")],
    source: Annotated[str | None, typer.Option("--from", help="Refuse unless the pack "
                                                              "translates from this tag.")] = None,
    target: Annotated[str | None, typer.Option("--to", help="Refuse unless the pack "
                                                            "translates to this tag.")] = None,
):
    """Install packs after verifying them (zip, metadata, model loads and runs)."""
    from cohear.cli import console, open_store, progress_bar
    from language_packs.packs import install

    store = open_store()
    with progress_bar("installing") as bar:
        task = bar.add_task("verifying and installing", total=None)
        installed = install(store, what, expect_source=source, expect_target=target,
                            progress=lambda done, total: bar.update(task, completed=done,
                                                                    total=total))
    for info in installed:
        replaced = (f" (replaced version {info['replaced']['package_version']})"
                    if info.get("replaced") else "")
        console.print(f"installed {info['name']} {info['version']}: {info['source']} → "
                      f"{info['target']}{replaced}")


@packs_app.command("list")
def packs_list():
    """Installed packs."""
    from cohear.cli import console, open_store, print_table
    from language_packs.packs import list_packs

    rows = list_packs(open_store())
    if not rows:
        console.print("no packs installed; see `cohear langs` and `cohear packs install`")
        return
    for r in rows:
        r["size"] = f"{r['size_bytes'] / 1e6:.1f} MB"
        r["direction"] = f"{r['source_tag']} → {r['target_tag']}"
    print_table(rows, ["name", "direction", "package_version", "size", "present",
                       "installed_at", "path"])


@packs_app.command("remove")
def packs_remove(name: Annotated[str, typer.Argument(help="translate-en_ur or en_ur")]):
    """Remove an installed pack."""
    from cohear.cli import console, open_store
    from language_packs.packs import remove

    info = remove(open_store(), name)
    console.print(f"removed {info['name']} {info['version']}")


def translate(
    text: Annotated[str | None, typer.Argument(help="The text (or use --file).")] = None,
    to: Annotated[str, typer.Option("--to", help="Target tags, comma-separated: ur,bn,pl")] = "",
    source: Annotated[str, typer.Option("--from", help="Source tag.")] = "en",
    file: Annotated[Path | None, typer.Option("--file", help="A UTF-8 file: one message "
                                                             "per line.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
):
    """Machine-translate text offline with the installed packs (a draft for review)."""
    from cohear.cli import console, open_store, print_json, progress_bar
    from cohear.errors import BadInput
    from language_packs.engine import get_engine
    from language_packs.registry import get_language

    targets = [get_language(t).tag for t in to.split(",") if t.strip()]
    if not targets:
        raise BadInput("no target language given", fix="add --to ur,bn,pl")
    if file is not None:
        lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    elif text is not None:
        lines = [text]
    else:
        raise BadInput("nothing to translate", fix='give the text, or --file FILE')
    if not lines:
        raise BadInput(f"{file} has no text", fix="one message per line")
    engine = get_engine(open_store())
    for tag in targets:
        if not engine.can_translate(source, tag):
            engine.translate(lines[:1], source, tag)  # raises, saying what to install
    results: dict[str, list] = {}
    with progress_bar("translating") as bar:
        task = bar.add_task(f"{len(lines)} message(s) × {len(targets)} language(s)",
                            total=len(lines) * len(targets))
        for tag in targets:
            out = results[tag] = []
            for start in range(0, len(lines), PROGRESS_GROUP):
                group = lines[start:start + PROGRESS_GROUP]
                out.extend(engine.translate(group, source, tag))
                bar.advance(task, len(group))
    if as_json:
        print_json({tag: [{"text": r.text, "pivoted": r.pivoted, "engine": r.engine}
                          for r in found] for tag, found in results.items()})
        return
    for tag, found in results.items():
        lang = get_language(tag)
        note = " (via English)" if found and found[0].pivoted else ""
        console.print(f"[bold]{lang.english_name} ({tag}){note}[/] — {found[0].engine}",
                      highlight=False)
        for r in found:
            console.print(r.text, highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("langs")(langs)
    app.command("translate")(translate)
    app.add_typer(packs_app, name="packs")
