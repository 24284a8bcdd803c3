"""`cohear surveys ...` and `cohear export`: import XLSForms, list and show surveys,
summarise them, and write research exports with a progress bar (a thin layer over
the surveys services)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

surveys_app = typer.Typer(help="Co-production surveys: import, list, show, summarise.",
                          no_args_is_help=True)
AS_HELP = "Act as this cohear user (recorded in the audit log); default: the system."


def _ctx(as_user: str | None):
    from cohear.auth import SYSTEM, get_user
    from cohear.cli import open_store

    store = open_store()
    return store, (get_user(store, as_user) if as_user else SYSTEM)


@surveys_app.command("import-xlsform")
def import_xlsform(file: Annotated[Path, typer.Argument(help="A KoboToolbox/ODK XLSForm (.xlsx).",
                                                        exists=True, dir_okay=False)],
                   as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None):
    """Create a survey from an XLSForm; prints what could not be imported."""
    from cohear.cli import console
    from surveys import xlsform

    store, actor = _ctx(as_user)
    out = xlsform.import_xlsform(store, actor, file.read_bytes())
    survey = out["survey"]
    console.print(f"survey {survey['id']} {survey['title']!r}: {len(survey['questions'])} "
                  "questions in " + ", ".join([survey["base_language"]] +
                                              survey["target_languages"]))
    for lang in out["report"]["languages"]:
        if lang.get("translation") == "human translation only":
            console.print(f"  {lang['tag']} ({lang['column']}): not one of the region's "
                          "languages, human translation only", highlight=False)
    for line in out["report"]["unsupported"]:
        console.print(f"  [yellow]not imported:[/] {line}", highlight=False)


@surveys_app.command("export-xlsform")
def export_xlsform(survey_id: int,
                   out: Annotated[Path, typer.Option("--out", help="The .xlsx file to write.")]):
    """Write a survey's current version as an XLSForm (for KoboToolbox or ODK)."""
    from cohear.cli import console
    from surveys import xlsform

    store, _ = _ctx(None)
    data = xlsform.export_xlsform(store, survey_id)
    tmp = out.with_name(f".{out.name}.partial")
    tmp.write_bytes(data)
    tmp.replace(out)
    console.print(f"wrote {out}")


@surveys_app.command("list")
def list_surveys():
    """List surveys with their version, question and answer counts."""
    from cohear.cli import open_store, print_table
    from surveys import service

    rows = service.list_surveys(open_store())
    for r in rows:
        r["languages"] = ", ".join([r["base_language"]] + r["target_languages"])
    print_table(rows, ["id", "title", "version", "languages", "questions", "answers"])


@surveys_app.command("show")
def show(survey_id: int):
    """Show one survey: its purpose, languages open for collection, and questions."""
    from cohear.cli import console, print_table
    from surveys import service

    store, _ = _ctx(None)
    survey = service.get_survey(store, survey_id)
    console.print(f"[bold]{survey['title']}[/] (version {survey['version']}): {survey['purpose']}")
    opened = ", ".join(o["language"] + (" (English accepted)" if o["accepted_in_english"] else "")
                       for o in survey["open_languages"]) or "none yet"
    console.print(f"open for collection in: {opened}")
    rows = [{"#": q["position"], "name": q["name"], "type": q["kind"], "text": q["text"],
             "approved in": ", ".join(k for k, v in q["texts"].items()
                                      if v["status"] == "approved")}
            for q in survey["questions"]]
    print_table(rows, ["#", "name", "type", "text", "approved in"])


@surveys_app.command("summary")
def summary_command(survey_id: int,
                    charts: Annotated[Path | None, typer.Option(
                        help="Write answers.png and codes.png into this folder.")] = None):
    """Counts of answers per question, language and demographic band, and code frequencies."""
    from cohear.cli import console, print_table
    from surveys import summary

    store, actor = _ctx(None)
    data = summary.summarise(store, actor, survey_id)
    print_table(data["answers_by_question_and_language"], ["question", "language", "answers"],
                title="answers")
    if data["answers_by_demographic_band"]:
        print_table(data["answers_by_demographic_band"],
                    ["demographic", "band", "question", "answers"], title="by demographic band")
    if data["codes_by_language"]:
        print_table(data["codes_by_language"], ["code", "language", "codings", "answers"],
                    title="codes")
    if charts:
        charts.mkdir(parents=True, exist_ok=True)
        for name in ("answers", "codes"):
            if name == "codes" and not data["codes_by_language"]:
                continue
            (charts / f"{name}.png").write_bytes(summary.chart_png(store, actor, survey_id, name))
            console.print(f"wrote {charts / (name + '.png')}")


def export_command(
    survey: Annotated[int, typer.Option("--survey", help="The survey's id.")],
    format: Annotated[str, typer.Option("--format",
                                        help="csv, wide-csv, xlsx, json or qdpx.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    identifiable: Annotated[bool, typer.Option(
        help="Respondent ids instead of pseudonyms (admins only; audit-logged).")] = False,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
):
    """Export a survey for research: pseudonymised, redacted, with a data dictionary."""
    from cohear.cli import console, progress_bar
    from surveys import exports

    store, actor = _ctx(as_user)
    with progress_bar("exporting") as bar:
        task = bar.add_task(f"survey {survey} as {format}", total=None)
        report = exports.export_survey(
            store, actor, survey, format, out, identifiable=identifiable,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    console.print(f"wrote {report['rows']} rows to {report['path']}"
                  + (f" (columns described in {report['dictionary']})"
                     if report["dictionary"] else ""))


@surveys_app.command("concerns")
def concerns(survey: Annotated[int | None, typer.Option("--survey", help="Only this survey.")]
             = None):
    """Open safeguarding concerns (not yet handled), oldest first."""
    from cohear.auth import SYSTEM
    from cohear.cli import open_store, print_table
    from surveys import service

    rows = [r for r in service.review_queue(open_store(), SYSTEM, survey_id=survey, limit=1000)
            if r["safeguarding"] and not r["safeguarding_handled_by"]]
    print_table(rows, ["id", "survey_id", "language", "kind", "safeguarding_reason"],
                title="open safeguarding concerns")


@surveys_app.command("handle-concern")
def handle_concern(
        answer_id: int,
        note: Annotated[str, typer.Option("--note", help="What was done and who was told "
                                          "(recorded in the audit log).")],
        as_user: Annotated[str, typer.Option("--as", help="The reviewer or admin who handled "
                                             "it (a person, for the record).")]):
    """Record how a safeguarding concern was handled: the action taken and who was told."""
    from cohear.cli import console
    from surveys import service

    store, actor = _ctx(as_user)
    service.handle_safeguarding(store, actor, answer_id, note)
    console.print(f"answer {answer_id}: safeguarding concern handled by {actor.name}")


@surveys_app.command("translation-requests")
def translation_requests(
        language: Annotated[str | None, typer.Option(help="Only this language.")] = None,
        status: Annotated[str, typer.Option(help="open, done or cancelled.")] = "open"):
    """Answers waiting for a human translation into English (a reviewer enters it in the
    review app, or with POST /api/answers/ID/texts)."""
    from cohear.auth import SYSTEM
    from cohear.cli import open_store, print_table
    from surveys import english

    rows = english.list_requests(open_store(), SYSTEM, status=status, language=language)
    print_table(rows, ["id", "answer_id", "survey_id", "language", "requested_by_name",
                       "requested_at", "status", "note"], title="translation requests")


@surveys_app.command("retention")
def retention_command(
        days: Annotated[int | None, typer.Option(help="Override audio_retention_days.")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would go.")] = False):
    """Delete voice answers' audio past the retention period after verification."""
    from cohear.cli import console, open_store
    from surveys.retention import apply_retention
    report = apply_retention(open_store(), days=days, dry_run=dry_run)
    if report.get("note"):
        console.print(report["note"])
        return
    verb = "would delete" if dry_run else "deleted"
    console.print(f"{verb} the audio of {len(report['recordings'])} recording(s) "
                  f"({report['blobs']} files, {report['bytes']:,} bytes) verified before "
                  f"{report['cutoff'][:10]}: {', '.join(map(str, report['recordings'])) or 'none'}")


@surveys_app.command("suggest-redactions")
def suggest_redactions_command():
    """Look for personal data again in every stored answer with today's rules, adding
    the suggestions older rules missed (run once after upgrading); nothing is removed."""
    from cohear.cli import console, open_store
    from surveys.redaction import suggest_again
    report = suggest_again(open_store())
    console.print(f"read {report['texts']} answer texts; added {report['added']} "
                  "redaction suggestion(s) for reviewers to decide")


def register(app: typer.Typer) -> None:
    app.add_typer(surveys_app, name="surveys")
    app.command("export")(export_command)
