"""Compose and edit a health message: its title, channel, audience, tags and source, with
comms' plain-language check run as one types (a moment after the last key: reading age,
long sentences, passive voice, jargon with its plain words), each finding marked where it
is, placeholders and protected terms marked too, one key to use the plain words, and for
SMS the encoding, length and segments of the source and of each translation.

Saving new words makes a new version and every translation of the old one stale: the
screen says which before it saves."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Header, Input, Select, Static, TextArea

from cohear.errors import CohearError
from comms import service as comms
from language_packs.registry import LANGUAGES
from tui.display import safe
from tui.screens.base import ReviewScreen
from tui.widgets.compose import PlainEditor, findings_view, marks_of, plain_alternative, sms_view
from tui.widgets.footer import KeyFooter
from tui.widgets.translations import STATUS_WORDS

CHECK_DELAY = 0.3      # seconds after the last key before the words are checked again


def _tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


class ComposeScreen(ReviewScreen):
    # Keys an editor does not take, and none a browser keeps (Ctrl+N, Ctrl+T, Ctrl+W).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+r", "use_plain", "Use plain words"),
        Binding("ctrl+l", "next_finding", "Next finding"),
        Binding("ctrl+g", "translate", "Translate"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "save": "comms.write", "use_plain": "comms.write"}

    def __init__(self, message_id: int | None = None):
        super().__init__()
        self.message_id = message_id
        self.message: dict | None = None
        self.translations: list[dict] = []
        self.saved: dict = {}
        self.report: dict | None = None
        self.checked_text: str | None = None
        self.current: int | None = None
        self.timer: Timer | None = None

    def compose(self) -> ComposeResult:
        languages = [(lang.english_name, tag) for tag, lang in LANGUAGES.items()]
        yield Header()
        yield Static(id="compose-title")
        with Horizontal(id="compose-fields"):
            yield Input(placeholder="title (staff see it; it is not sent)", id="title")
            yield Select([(c.replace("_", " "), c) for c in comms.CHANNELS], value="sms",
                         allow_blank=False, id="channel")
            yield Input(placeholder="who it is for", id="audience")
            yield Input(placeholder="tags, comma separated", id="tags")
            yield Select(languages, value="en", allow_blank=False, id="source-language")
        with Horizontal(id="compose-body"):
            with Vertical(id="compose-left"):
                yield PlainEditor(id="source")
            with VerticalScroll(id="compose-right"):
                yield Static(id="findings")
                yield Static(id="sms")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        editor = self.query_one("#source", PlainEditor)
        (editor if self.message_id else self.query_one("#title", Input)).focus()

    # -- loading ----------------------------------------------------------------------------
    def load(self) -> None:
        editor = self.query_one("#source", PlainEditor)
        if self.message_id is not None:
            try:
                self.message = comms.get_message(self.store, self.message_id)
                self.translations = comms.list_translations(self.store, self.message_id)
            except CohearError as exc:
                self.failed(exc)
                self.app.pop_screen()
                return
            m = self.message
            # The fields hold the words as shown (a stored control character as U+FFFD,
            # one for one in the editor), so a save without typing changes nothing and
            # one with new words stores them without the control characters.
            self.saved = {"title": safe(m["title"]), "channel": m["channel"],
                          "audience": safe(m["audience"]),
                          "tags": ", ".join(safe(t) for t in m["tags"]),
                          "source": safe(m["source_text"], keep_length=True),
                          "language": m["source_language"]}
        else:
            self.saved = {"title": "", "channel": "sms", "audience": "", "tags": "",
                          "source": "", "language": "en"}
        self.query_one("#title", Input).value = self.saved["title"]
        self.query_one("#channel", Select).value = self.saved["channel"]
        self.query_one("#audience", Input).value = self.saved["audience"]
        self.query_one("#tags", Input).value = self.saved["tags"]
        language = self.query_one("#source-language", Select)
        if self.saved["language"] not in [v for _, v in language._options]:
            language.set_options([(self.saved["language"], self.saved["language"])])
        language.value = self.saved["language"]
        # A message's language is set when it is made; its translations depend on it.
        language.disabled = self.message_id is not None
        editor.load_text(self.saved["source"])
        editor.read_only = not self.user.may("comms.write")
        editor.border_title = ("Source: plain words, marked as you type" if not editor.read_only
                               else "Source (read only for your role)")
        self.show_title()
        self.check_now()

    def show_title(self) -> None:
        title = Text()
        if self.message is None:
            title.append("New message", style="bold")
            title.append("  ·  Ctrl+S saves it as version 1")
        else:
            m = self.message
            title.append(f"Message {m['id']}, version {m['version']}", style="bold")
            live = [t for t in self.translations if t["status"] != "stale"]
            title.append(f"  ·  {len(self.translations)} translations"
                         + (f" ({len(live)} of this version)" if self.translations else ""))
            title.append("  ·  new words make a new version", style="dim")
        self.query_one("#compose-title", Static).update(title)

    # -- checking as one types -------------------------------------------------------------
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id != "source":
            return
        if self.timer is not None:
            self.timer.stop()
        self.timer = self.set_timer(CHECK_DELAY, self.check_later)

    def check_later(self) -> None:
        self.timer = None
        editor = self.query_one("#source", PlainEditor)
        self.run_check(editor.text, self.query_one("#source-language", Select).value)

    @work(thread=True, exclusive=True, group="plain-check")
    def run_check(self, text: str, language: str) -> None:
        try:
            report = comms.check_text(self.store, text, source_language=language)
        except CohearError:
            report = {"findings": [], "placeholders": []}
        finally:
            self.store.close()      # the thread's own connection
        self.app.call_from_thread(self.checked, text, report)

    def check_now(self) -> None:
        """Check the words at once (on loading, and before using a finding)."""
        editor = self.query_one("#source", PlainEditor)
        language = self.query_one("#source-language", Select).value
        self.checked(editor.text, comms.check_text(self.store, editor.text,
                                                   source_language=language))

    def checked(self, text: str, report: dict) -> None:
        editor = self.query_one("#source", PlainEditor)
        if text != editor.text:
            return      # typed on since: the next check is on its way
        self.report, self.checked_text = report, text
        editor.mark(marks_of(report) if text.strip() else [])
        self.show_findings()

    def findings(self) -> list[dict]:
        return [f for f in (self.report or {}).get("findings", []) if f["kind"] != "reading_age"]

    def show_findings(self) -> None:
        editor = self.query_one("#source", PlainEditor)
        at = editor.offset_of(editor.cursor_location)
        self.current = next((i for i, f in enumerate(self.findings())
                             if f["start"] <= at <= f["end"]), None)
        self.query_one("#findings", Static).update(
            findings_view(self.report if editor.text.strip() else None, self.current)
            if editor.text.strip() else Text("Write the message: it is checked as you type.",
                                            style="dim"))
        sms = self.query_one("#sms", Static)
        if self.query_one("#channel", Select).value == "sms":
            sms.display = True
            sms.update(Group(Text("\nSMS length", style="bold"),
                             sms_view((self.report or {}).get("sms"), self.translations)))
        else:
            sms.display = False

    def on_text_area_selection_changed(self, event: TextArea.SelectionChanged) -> None:
        if self.report is not None:
            self.show_findings()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "channel":
            self.show_findings()
        elif event.select.id == "source-language" and self.is_mounted:
            self.check_later()

    # -- using a finding -------------------------------------------------------------------
    def _fresh_findings(self) -> list[dict]:
        editor = self.query_one("#source", PlainEditor)
        if self.checked_text != editor.text:
            self.check_now()
        return self.findings()

    def action_use_plain(self) -> None:
        editor = self.query_one("#source", PlainEditor)
        if editor.read_only:
            return
        jargon = [f for f in self._fresh_findings() if f["kind"] == "jargon"]
        if not jargon:
            self.notify("no jargon here to replace", timeout=3)
            return
        at = editor.offset_of(editor.cursor_location)
        # The term at the cursor, else the next one after it, else the first.
        finding = next((f for f in jargon if f["start"] <= at <= f["end"]),
                       next((f for f in jargon if f["start"] > at), jargon[0]))
        plain = plain_alternative(finding["text"])
        if plain is None:
            return
        start, end = editor.location_of(finding["start"]), editor.location_of(finding["end"])
        editor.replace(plain, start, end)
        editor.move_cursor(editor.location_of(finding["start"] + len(plain)))
        self.check_now()
        self.notify(f"'{finding['text']}' → '{plain}'", timeout=3)

    def action_next_finding(self) -> None:
        editor = self.query_one("#source", PlainEditor)
        found = self._fresh_findings()
        if not found:
            self.notify("nothing to look at: no findings", timeout=3)
            return
        at = editor.offset_of(editor.cursor_location)
        target = next((f for f in found if f["start"] > at), found[0])
        editor.selection = (editor.location_of(target["start"]),
                            editor.location_of(target["end"]))
        editor.focus()
        self.show_findings()

    # -- saving ----------------------------------------------------------------------------
    def current_values(self) -> dict:
        return {"title": self.query_one("#title", Input).value.strip(),
                "channel": self.query_one("#channel", Select).value,
                "audience": self.query_one("#audience", Input).value.strip(),
                "tags": ", ".join(_tags(self.query_one("#tags", Input).value)),
                "source": self.query_one("#source", PlainEditor).text,
                "language": self.query_one("#source-language", Select).value}

    def unsaved_edits(self) -> list[str]:
        now, before = self.current_values(), self.saved
        changed = [k for k in now if k != "language" and str(now[k]).strip() !=
                   str(before.get(k, "")).strip()]
        if not changed:
            return []
        what = f"message {self.message_id}" if self.message_id else "the new message"
        return [f"{what}: its {', '.join(changed)}"]

    def action_save(self) -> None:
        if not self.user.may("comms.write"):
            self.attempt(self.user.require, "comms.write")
            return
        values = self.current_values()
        if self.message_id is None:
            made = self.attempt(comms.create_message, self.store, self.user,
                                title=values["title"], source_text=values["source"],
                                channel=values["channel"], audience=values["audience"],
                                tags=_tags(values["tags"]), source_language=values["language"])
            if made:
                self.message_id = made["id"]
                self.notify(f"saved as message {made['id']}, version 1", timeout=4)
                self.load()
            return
        if not self.unsaved_edits():
            self.notify("nothing has changed", timeout=3)
            return
        # Someone else may have saved since this screen read the message: say so now,
        # before a dialog names versions that no longer hold (the save is refused anyway).
        now = self.attempt(comms.get_message, self.store, self.message_id)
        if now and now["version"] != self.message["version"]:
            self.changed_elsewhere(now["version"])
            return
        new_words = values["source"].strip() != self.saved["source"].strip()
        going_stale = [t for t in self.translations if t["status"] != "stale"]
        if new_words and going_stale:
            from tui.screens.dialogs import Confirm
            listed = ", ".join(f"{t['language']} ({STATUS_WORDS.get(t['status'], t['status'])})"
                               for t in going_stale)
            version = self.message["version"]
            body = (f"Saving makes version {version + 1} of this message. Its "
                    f"{len(going_stale)} translations of version {version} become stale: "
                    f"{listed}.\n\nTheir words are kept, but each must be translated (or "
                    "edited) and approved again before it is used.")

            def decided(yes: bool | None) -> None:
                if yes:
                    self.save_edit(values, len(going_stale))

            self.app.push_screen(Confirm("Save a new version?", body,
                                         yes="Save version " + str(version + 1),
                                         no="Keep editing"), decided)
            return
        self.save_edit(values, 0)

    def save_edit(self, values: dict, stale: int) -> None:
        before = self.saved
        changes = {k: values[k] for k in ("title", "channel", "audience")
                   if values[k] != before[k]}
        if values["tags"] != before["tags"]:
            changes["tags"] = _tags(values["tags"])
        if values["source"].strip() != before["source"].strip():
            changes["source_text"] = values["source"]
        try:
            done = comms.edit_message(self.store, self.user, self.message_id,
                                      expected_version=self.message["version"], **changes)
        except CohearError as exc:
            if exc.code == "message-changed":
                self.changed_elsewhere(exc.extra["current_version"])
            else:
                self.failed(exc)
            return
        if done:
            self.notify(f"saved: version {done['version']}"
                        + (f"; {stale} translations are now stale" if stale else ""), timeout=5)
            self.load()

    def changed_elsewhere(self, current: int) -> None:
        """Someone saved this message since it was opened: nothing was written, and the
        editor keeps the words typed here so they can be copied into the new version."""
        self.notify(f"Changed by someone else: reload. Message {self.message_id} is now at "
                    f"version {current}; you edited version {self.message['version']}. Copy "
                    "your words, press Esc and open it again to edit the current version.",
                    title="Not saved", severity="error", timeout=12)

    def action_translate(self) -> None:
        from tui.screens.translate import TranslateScreen
        if self.message_id is None:
            self.notify("save the message first (Ctrl+S)", severity="warning")
            return
        if self.unsaved_edits():
            self.notify("save your changes first (Ctrl+S): translations are of saved words",
                        severity="warning")
            return
        self.app.push_screen(TranslateScreen(self.message_id))
