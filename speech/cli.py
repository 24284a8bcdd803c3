"""`cohear transcribe FILES...` (in-process, no server, nothing stored) and
`cohear recordings list|show|transcript` over the stored recordings.

The command line acts as the local administrator, like the shell's own commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

recordings_app = typer.Typer(help="Recorded answers and their transcripts.", no_args_is_help=True)

FORMAT_HELP = "json, txt, srt or vtt"
GROUP = 8  # files transcribed together


def _check_format(fmt: str) -> str:
    from cohear.errors import BadInput
    if fmt not in ("json", "txt", "srt", "vtt"):
        raise BadInput(f"{fmt!r} is not a transcript format", fix=f"use {FORMAT_HELP}")
    return fmt


def transcribe_files(
    files: Annotated[list[Path], typer.Argument(help="Audio files to transcribe.")],
    language: Annotated[str | None, typer.Option(help="Language hint, e.g. ur.")] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "txt",
    out: Annotated[Path | None, typer.Option(help="Folder for the transcripts "
                                                "(default: print them).")] = None,
):
    """Transcribe audio files here and now with the installed Whisper model (nothing is
    stored in cohear; use the API to keep a recording)."""
    from cohear.cli import console, err_console, open_store, progress_bar
    from cohear.errors import CohearError
    from speech import audio, formats, service
    from speech.transcribe import Options, model_for, transcribe_many

    _check_format(fmt)
    store = open_store()
    model = model_for(store)
    options = Options(language=service.whisper_language(service.check_language_tag(language)))
    if out:
        out.mkdir(parents=True, exist_ok=True)
    failures = 0
    printed_json: list[dict] = []
    with progress_bar("transcribing") as bar:
        task = bar.add_task(f"{len(files)} file(s)", total=len(files))
        # Files go through in groups whose speech shares the model's batches.
        for first in range(0, len(files), GROUP):
            group = []
            for path in files[first:first + GROUP]:
                try:
                    group.append((path, audio.decode(path, filename=path.name)))
                except CohearError as exc:  # one bad file must not stop the rest
                    failures += 1
                    err_console.print(f"[red]{path}:[/] {exc.message()}", highlight=False,
                                      soft_wrap=True)
                    bar.advance(task)
            if not group:
                continue
            done_before, size = bar.tasks[task].completed, len(group)
            results = transcribe_many(
                model, [d.samples for _, d in group], options,
                on_batch=lambda done, total, base=done_before, n=size: bar.update(
                    task, completed=base + n * done / total))
            bar.update(task, completed=done_before + len(group))
            for (path, decoded), result in zip(group, results):
                document = {"file": str(path), "duration_seconds": round(decoded.duration, 3),
                            "text": result.text, "language": result.language.as_dict(),
                            "confidence": round(result.confidence, 3),
                            "needs_review": result.needs_review,
                            "segments": [s.as_dict() for s in result.segments],
                            "audio": decoded.facts()}
                body, _ = formats.render(document, fmt)
                if out:
                    target = out / f"{path.stem}.{fmt}"
                    target.write_text(body, encoding="utf-8")
                    err_console.print(f"{path} -> {target}", highlight=False)
                elif fmt == "json":
                    printed_json.append(document)
                else:
                    console.print(body, markup=False, highlight=False, end="", soft_wrap=True)
    if printed_json:  # one JSON document (a list) on standard output, not several
        console.print(formats.render({"recordings": printed_json}, "json")[0], markup=False,
                      highlight=False, soft_wrap=True)
    if failures:
        raise typer.Exit(1)


@recordings_app.command("list")
def recordings_list(limit: int = 50):
    """Recordings, newest first."""
    from cohear.auth import SYSTEM
    from cohear.cli import open_store, print_table
    from speech import service
    rows = []
    for r in service.list_recordings(open_store(), SYSTEM, limit=limit):
        rows.append({"id": r.id, "file": r.filename, "seconds": f"{r.duration_seconds:.1f}",
                     "status": r.status, "review": {True: "needed", False: "no"}.get(
                         r.needs_review, "")})
    print_table(rows, ["id", "status", "review", "seconds", "file"])


@recordings_app.command("show")
def recordings_show(recording_id: int):
    """One recording's facts and transcription state, as JSON."""
    from cohear.auth import SYSTEM
    from cohear.cli import open_store, print_json
    from speech import service
    print_json(service.get_recording(open_store(), recording_id, SYSTEM).as_dict())


@recordings_app.command("transcript")
def recordings_transcript(
    recording_id: int,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "txt",
    version: Annotated[int | None, typer.Option(help="Version (default: latest).")] = None,
):
    """A recording's transcript in a format."""
    from cohear.auth import SYSTEM
    from cohear.cli import console, open_store
    from speech import formats, service
    document = service.transcript(open_store(), recording_id, SYSTEM, version)
    body, _ = formats.render(document, _check_format(fmt))
    console.print(body, markup=False, highlight=False, end="", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("transcribe")(transcribe_files)
    app.add_typer(recordings_app, name="recordings")
