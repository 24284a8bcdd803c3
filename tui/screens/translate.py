"""Translate one message: every language with the honest path to it on this machine
(machine translation through an installed pack, directly or through English, or a human
translator only), its state, chrF and sentences from memory. Choose languages, run the
machine translation as a durable `comms.translate` job with a progress bar (the same job
the API queues: retried after a crash, listed in `cohear jobs`, cancellable), ask human
translators for the rest, write a translator file (XLIFF or PO) and read one back, and
open any language side by side."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import DataTable, Header, ProgressBar, Static

from cohear.errors import CohearError
from cohear.jobs import JobQueue, worker_owner
from comms import exchange, listing
from comms import service as comms
from language_packs.registry import LANGUAGES
from tui import files
from tui.display import safe
from tui.screens.base import ReviewScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.messages import state_text
from tui.widgets.translations import LanguageTable

JOB_POLL = 0.25        # seconds between looks at the job's progress


def path_words(source: str, tag: str, pairs: set[tuple[str, str]]) -> Text:
    """How this machine can translate source -> tag, in words."""
    if (source, tag) in pairs:
        return Text("machine", style="bold #5fafff")
    if (source, "en") in pairs and ("en", tag) in pairs:
        return Text("machine, via English", style="bold #5fafff")
    return Text("human only", style="bold #d787ff")


class TranslateScreen(ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "choose", "Choose"),
        Binding("a", "choose_machine", "Choose machine ones"),
        Binding("t", "machine_translate", "Machine-translate"),
        Binding("h", "ask_humans", "Human translators"),
        Binding("e", "export_file", "Export file"),
        Binding("i", "import_file", "Import file"),
        Binding("c", "cancel_job", "Cancel job"),
        Binding("r", "reload", "Reload"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "choose": "comms.write", "choose_machine": "comms.write",
        "machine_translate": "comms.write", "ask_humans": "comms.write",
        "export_file": "comms.write", "import_file": "comms.write", "cancel_job": "comms.write"}

    def __init__(self, message_id: int, *, focus: str | None = None):
        super().__init__()
        self.message_id = message_id
        self.focus_language = focus
        self.message: dict = {}
        self.translations: dict[str, dict] = {}
        self.languages: list[str] = []
        self.chosen: set[str] = set()
        self.pairs: set[tuple[str, str]] = set()
        self.queue: JobQueue | None = None
        self.job_id: int | None = None
        self.poller: Timer | None = None
        self.away = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="translate-title")
        yield LanguageTable(id="languages", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(id="job-progress", show_eta=False)
        yield Static(id="job")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#job-progress", ProgressBar).display = False
        self.load()
        table = self.query_one("#languages", DataTable)
        if self.focus_language in self.languages:
            table.move_cursor(row=self.languages.index(self.focus_language), animate=False)
        table.focus()

    def on_screen_suspend(self) -> None:
        self.away = True

    def on_screen_resume(self) -> None:
        if self.away:
            self.away = False
            self.load()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        running = self.job_id is not None
        if action == "cancel_job":
            return True if running else None
        if action in ("machine_translate", "import_file") and running:
            return None
        return True

    # -- reading ---------------------------------------------------------------------------
    def load(self) -> None:
        try:
            self.message = comms.get_message(self.store, self.message_id)
            self.translations = {t["language"]: t for t in
                                 comms.list_translations(self.store, self.message_id)}
        except CohearError as exc:
            self.failed(exc)
            self.app.pop_screen()
            return
        source = self.message["source_language"]
        self.pairs = listing.machine_paths(self.store)
        self.languages = [t for t in LANGUAGES if t != source]
        self.languages += sorted(set(self.translations) - set(self.languages))
        table = self.query_one("#languages", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        table.add_column(" ", width=3)
        table.add_column("language", width=34)
        table.add_columns("path", "state", "chrF", "memory", "by")
        for tag in self.languages:
            t = self.translations.get(tag)
            name = LANGUAGES[tag].english_name if tag in LANGUAGES else tag
            state = (("stale" if t["source_version"] != t["current_version"] else t["status"])
                     if t else ("none" if (source, tag) in self.pairs or
                                (source, "en") in self.pairs and ("en", tag) in self.pairs
                                else "no_path"))
            reused = (f"{t['reused_segments']}/{len(t['segments'])}" if t and t["segments"]
                      else "")
            who = (t["approved_by"] or t["updated_by"] or "") if t else ""
            table.add_row(Text("[x]" if tag in self.chosen else "[ ]", style="bold"),
                          Text(safe(f"{tag}  {name}")), path_words(source, tag, self.pairs),
                          state_text(state),
                          "" if not t or t["similarity"] is None else f"{t['similarity']:.0f}",
                          reused, Text(safe(who)), key=tag)
        if self.languages:
            table.move_cursor(row=min(row or 0, len(self.languages) - 1), animate=False)
        m = self.message
        title = Text.assemble((f"Message {m['id']}: ", "bold"), (safe(m["title"]), "bold"),
                              f"  ·  version {m['version']}, written in {source}  ·  ")
        # Only keys this role has: a reviewer reviews, a communicator also translates.
        hint = ("space chooses languages; t machine-translates them, h asks translators"
                if self.user.may("comms.write") else
                "Enter opens a language side by side to review it")
        title.append(f"{len(self.chosen)} chosen" if self.chosen else hint,
                     style="dim" if not self.chosen else "bold")
        self.query_one("#translate-title", Static).update(title)

    def cursor_language(self) -> str | None:
        table = self.query_one("#languages", DataTable)
        if not self.languages or table.cursor_row is None:
            return None
        return self.languages[min(table.cursor_row, len(self.languages) - 1)]

    def has_path(self, tag: str) -> bool:
        source = self.message["source_language"]
        return (source, tag) in self.pairs or ((source, "en") in self.pairs
                                               and ("en", tag) in self.pairs)

    # -- choosing --------------------------------------------------------------------------
    def action_choose(self) -> None:
        tag = self.cursor_language()
        if tag is None:
            return
        self.chosen.symmetric_difference_update({tag})
        self.load()

    def action_choose_machine(self) -> None:
        wanted = {t for t in self.languages if self.has_path(t)}
        self.chosen = set() if wanted <= self.chosen else self.chosen | wanted
        self.load()

    def _chosen_or_cursor(self) -> list[str]:
        if self.chosen:
            return [t for t in self.languages if t in self.chosen]
        tag = self.cursor_language()
        return [tag] if tag else []

    # -- machine translation as a job -------------------------------------------------------
    def action_machine_translate(self) -> None:
        if self.job_id is not None:
            return
        wanted = self._chosen_or_cursor()
        machine = [t for t in wanted if self.has_path(t)]
        human = [t for t in wanted if not self.has_path(t)]
        if human:
            self.notify(f"{', '.join(human)}: no machine path on this machine; h asks a human "
                        "translator", severity="warning", timeout=6)
        if not machine:
            return
        planned = self.attempt(comms.plan_translation, self.store, [self.message_id], machine)
        if planned is None:
            return
        work_, skipped = planned
        if not work_:
            self.notify("already translated for this version: " +
                        ", ".join(s["language"] for s in skipped) + ". Enter opens one to edit",
                        timeout=6)
            return
        self.queue = self.queue or JobQueue(self.store)
        job_id = self.attempt(self.queue.enqueue, "comms.translate",
                              {"message_ids": [self.message_id], "languages": machine,
                               "force": False}, actor=self.user)
        if job_id is None:
            return
        self.job_id = job_id
        bar = self.query_one("#job-progress", ProgressBar)
        bar.update(total=1.0, progress=0)
        bar.display = True
        self.query_one("#job", Static).update(f"job {job_id}: translating into "
                                              f"{', '.join(machine)}…")
        self.refresh_bindings()
        self.poller = self.set_interval(JOB_POLL, self.poll_job)
        self.run_job(job_id)

    @work(thread=True, exclusive=True, group="translate-job")
    def run_job(self, job_id: int) -> None:
        """Run the job here unless a worker (cohear serve, cohear worker) took it first:
        claiming is one conditional update, so it runs once either way."""
        try:
            self.queue.run_job(job_id, owner=worker_owner())
        finally:
            self.store.close()          # this thread's connection

    def poll_job(self) -> None:
        if self.job_id is None or self.queue is None:
            return
        job = self.queue.get(self.job_id)
        bar = self.query_one("#job-progress", ProgressBar)
        bar.update(progress=job["progress"] or 0)
        if job["status"] not in ("done", "failed", "cancelled"):
            return
        if self.poller is not None:
            self.poller.stop()
        self.poller = None
        self.job_id = None
        result = job["result"] or {}
        line = self.query_one("#job", Static)
        if job["status"] == "done":
            self.chosen.clear()
            pairs = result.get("pairs", [])
            reused = sum(p.get("reused_segments", 0) for p in pairs)
            line.update(Text(f"job {job['id']} done: {result.get('translated', 0)} translated"
                             + (f", {reused} sentences from memory" if reused else "")
                             + ". Enter on a language compares it side by side.",
                             style="bold #87d75f"))
        else:
            line.update(Text(f"job {job['id']} {job['status']}: {job.get('error') or ''}",
                             style="bold #ff5f5f"))
        self.refresh_bindings()
        self.load()

    def action_cancel_job(self) -> None:
        if self.job_id is not None and self.queue is not None:
            self.attempt(self.queue.cancel, self.job_id)

    # -- human translators -----------------------------------------------------------------
    def action_ask_humans(self) -> None:
        wanted = self._chosen_or_cursor()
        if not wanted:
            return
        if self.attempt(comms.request_human, self.store, self.user, self.message_id, wanted):
            self.notify(f"asked for a human translation: {', '.join(wanted)} (e writes the "
                        "file for the translator)", timeout=5)
            self.chosen -= set(wanted)
            self.load()

    def action_export_file(self) -> None:
        from tui.screens.dialogs import AskPath
        tag = self.cursor_language()
        if tag is None:
            return
        default = files.exports_folder(self.store) / f"message-{self.message_id}-{tag}.xlf"

        def chosen(path: str | None) -> None:
            if path:
                export_translator_file(self, self.message_id, tag, Path(path))

        self.app.push_screen(AskPath(f"Write a translator file for {tag}", value=str(default),
                                     hint="A name ending .po writes PO (Poedit, gettext); "
                                          "anything else XLIFF 2.0 (CAT tools)."), chosen)

    def action_import_file(self) -> None:
        from tui.screens.dialogs import AskPath

        def chosen(path: str | None) -> None:
            if path and import_translator_file(self, self.message_id, Path(path)):
                self.load()

        self.app.push_screen(AskPath("Read a translated file back (XLIFF or PO)",
                                     value=str(files.exports_folder(self.store)) + "/",
                                     must_exist=True), chosen)

    # -- opening ---------------------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from tui.screens.compare import CompareScreen
        tag = self.cursor_language()
        if tag is None:
            return
        if tag not in self.translations:
            self.notify(f"no {tag} translation yet: t machine-translates it, h asks a "
                        "translator, and in the side-by-side view you may type one",
                        timeout=6)
        self.app.push_screen(CompareScreen(self.message_id, tag))

    def action_reload(self) -> None:
        self.load()

    def on_unmount(self) -> None:
        if self.poller is not None:
            self.poller.stop()


def export_translator_file(screen: ReviewScreen, message_id: int, tag: str, path: Path) -> None:
    """Write the message's sentences for a translator into `tag` (those already translated
    come filled in) as PO when the name ends .po, else XLIFF 2.0."""
    fmt = "po" if path.suffix.lower() == ".po" else "xliff"
    made = screen.attempt(exchange.export_file, screen.store, [message_id], tag, fmt,
                          include_all=True)
    if made is None:
        return
    data, _ = made
    try:
        files.write_whole(path, data)
    except OSError as exc:
        screen.notify(f"could not write {path}: {exc.strerror or exc}", severity="error",
                      timeout=8)
        return
    files.deliver(screen.app, path)
    screen.notify(f"wrote {path} ({fmt.upper()})", timeout=6)


def import_translator_file(screen: ReviewScreen, message_id: int, path: Path) -> bool:
    """Read a translator's file into the message; nothing changes if any of it is wrong."""
    from tui.screens.dialogs import ShowText
    try:
        data = files.read_upto(path)
    except OSError as exc:
        screen.notify(f"could not read {path}: {exc.strerror or exc}", severity="error",
                      timeout=8)
        return False
    report = screen.attempt(exchange.import_file, screen.store, screen.user, data,
                            message_id=message_id)
    if report is None:
        return False
    done = ", ".join(f"{i['language']} ({i['sentences']} sentences, {i['status']})"
                     for i in report["imported"])
    if report.get("warnings"):
        screen.app.push_screen(ShowText("Imported, with warnings",
                                        f"{done}\n\n" + "\n".join(report["warnings"])))
    else:
        screen.notify(f"imported {report['format']}: {done}", timeout=6)
    return True
