"""Answer review: the question in both languages, the transcript's segments with times
and confidence, the English beside it (current, out of date, being rendered, or none and
how to get one), the recording's facts; correct the transcript (a new version), verify,
raise or handle a safeguarding concern, decide redactions, play the audio, type the
English or ask for a human translation.

Everything is read through `surveys.views.reading_view`: a researcher sees the redacted,
pseudonymised view, exactly as in a research export.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Static, TextArea

from cohear.errors import CohearError, NotFound
from surveys import english, redaction, views
from surveys import service as surveys
from surveys.values import VALUE_KINDS, describe_range
from tui import player
from tui.display import has_rtl, language_is_rtl, safe, safe_text, words
from tui.screens.base import ReviewScreen
from tui.screens.dialogs import AskNote, WriteWords
from tui.widgets.answer import ReadingView, SegmentTable, labelled, recording_facts
from tui.widgets.editor import WordsEditor
from tui.widgets.footer import KeyFooter

try:  # voice answers need the speech package; typed answers do not
    from speech import service as speech
except ModuleNotFoundError:  # pragma: no cover - cohear without speech
    speech = None

ENGLISH_STATES = {
    "source": ("the answer is in English", "dim"),
    "current": ("", ""),
    "out_of_date": ("OUT OF DATE: made from earlier words; the answer was corrected since",
                    "bold red"),
    "queued": ("being rendered from the newest words by the translation engine…",
               "bold yellow"),
    "none": ("no English yet", "bold yellow"),
}


class AnswerScreen(ReviewScreen):
    # Keys an editor does not take (TextArea binds Ctrl+A/E/K/U/W/X/C/V/Z/Y/D), and none
    # that tmux (Ctrl+B) or screen (Ctrl+A) keep for themselves; F10 and F11 are the
    # terminal's own in many emulators.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save correction"),
        Binding("ctrl+r", "verify", "Verify"),
        Binding("ctrl+g", "raise_concern", "Raise concern"),
        Binding("ctrl+l", "clear_concern", "Handle concern"),
        Binding("ctrl+o", "play", "Play"),
        Binding("ctrl+t", "play_segment", "Play segment"),
        Binding("ctrl+n", "code", "Code"),
        Binding("f3", "accept_redaction", "Accept redaction"),
        Binding("f4", "reject_redaction", "Reject redaction"),
        Binding("f8", "type_english", "Type English"),
        Binding("f9", "request_translation", "Ask translator"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "save": "answers.review", "verify": "answers.review",
        "raise_concern": "safeguarding.raise", "clear_concern": "safeguarding.handle",
        "play": "recordings.audio", "play_segment": "recordings.audio",
        "code": "coding.apply",
        "accept_redaction": "redactions.decide", "reject_redaction": "redactions.decide",
        "type_english": "answers.review", "request_translation": "answers.request_translation",
    }

    def __init__(self, answer_id: int):
        super().__init__()
        self.answer_id = answer_id
        self.answer: dict = {}
        self.question: dict = {}
        self.english: dict = {}
        self.transcript: dict | None = None
        self.recording = None
        self.loaded_text = ""
        self.segment_lines: list[int] = []  # segment index of each editor line
        self.redactions: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="answer-title")
        with Horizontal(id="answer-body"):
            with Vertical(id="answer-left"):
                yield Static(id="question")
                yield SegmentTable(id="segments")
                with VerticalScroll(id="reading-scroll"):
                    yield ReadingView(id="reading")
                yield WordsEditor(id="transcript")
            with VerticalScroll(id="answer-right"):
                yield Static(id="english")
                yield Static(id="recording")
                yield Static(id="safeguarding")
                yield Static(id="redactions")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        editor = self.query_one("#transcript", TextArea)
        (editor if editor.display else self.query_one("#segments")).focus()

    # -- reading -------------------------------------------------------------------------
    @property
    def may_edit(self) -> bool:
        return self.user.may("answers.review")

    def load(self) -> None:
        try:
            row = self.store.one("SELECT kind FROM answers WHERE id = ?", (self.answer_id,))
            if row is not None and row["kind"] == "voice" and self.user.may("recordings.read"):
                surveys.sync_transcript(self.store, self.answer_id)   # a newer English?
            self.answer = views.reading_view(self.store, self.answer_id, self.user)
        except CohearError as exc:
            self.failed(exc)
            self.app.pop_screen()
            return
        self.question = surveys.get_question(self.store, self.answer["question_id"])
        self.english = english.english_state(self.store, self.answer)
        self.transcript, self.recording = None, None
        rid = self.answer.get("recording_id")
        # Roles without access to recordings (researchers) see the answer's words only.
        if rid is not None and speech is not None and self.user.may("recordings.read"):
            try:
                self.recording = speech.get_recording(self.store, rid, self.user)
                self.transcript = speech.transcript(self.store, rid, self.user)
            except NotFound:
                self.transcript = None  # not transcribed yet
            except CohearError as exc:
                self.failed(exc)
        editor = self.query_one("#transcript", TextArea)
        if self.transcript:
            kept = [s for s in self.transcript["segments"] if not s["rejected"]]
            self.segment_lines = [s["index"] for s in kept]
            self.loaded_text = safe("\n".join(s["text"].strip() for s in kept),
                                    keep_length=True)
        else:
            self.segment_lines = []
            original = self.answer["texts"].get("original")
            self.loaded_text = safe(original.text if original else "", keep_length=True)
        editor.load_text(self.loaded_text)
        self.show()

    def refresh_words(self) -> None:
        if self.answer:
            self.show()

    def show(self) -> None:
        reorder = self.reorder_rtl
        a, lang = self.answer, self.answer["language"]
        title = Text()
        title.append(f"Answer {a['id']}", style="bold")
        # A researcher sees the respondent's pseudonym, the one in research exports.
        if a["redacted"]:
            title.append(f"  ·  respondent {safe(a['respondent'])}")
        title.append(f"  ·  {safe(lang)}  ·  {a['kind']}  ·  ")
        title.append(safe(a["status"]), style={"verified": "bold green",
                                         "transcribed": "bold yellow"}.get(a["status"], "bold"))
        if a["safeguarding"] and not a["safeguarding_handled_at"]:
            title.append("  ·  SAFEGUARDING", style="bold red")
        if a["redacted"]:
            title.append("  ·  redacted view", style="italic")
        self.query_one("#answer-title", Static).update(title)
        self.query_one("#question", Static).update(self._question(reorder))

        table = self.query_one("#segments", SegmentTable)
        table.display = self.transcript is not None
        if self.transcript is not None:
            table.show(self.transcript["segments"], reorder=reorder)
        self._show_words(reorder)
        self._show_english()
        self._show_recording()
        self._show_safeguarding()
        self.query_one("#redactions", Static).update(self._redactions())
        self.refresh_bindings()

    def _question(self, reorder: bool) -> Group:
        q, a, lang = self.question, self.answer, self.answer["language"]
        parts: list = [safe_text(f"Question {q['name']}", style="bold")]
        in_language = q["texts"].get(lang, {}).get("text")
        if in_language and lang != "en":
            parts.append(labelled(f"{lang}:", in_language, reorder=reorder))
        parts.append(labelled("en:", q["texts"].get("en", {}).get("text") or q["text"],
                              reorder=reorder))
        hints = q["options"].get("hint") or {}
        hint = hints.get(lang) or hints.get("en") or next(iter(hints.values()), "")
        if hint:
            parts.append(labelled("hint:", hint, reorder=reorder, style="italic"))
        if a["kind"] == "choice" and q["kind"] in VALUE_KINDS:
            # A number, date or time: the value as given, and what the question allowed.
            value = Text("value: ", style="dim")
            value.append(safe((a["choices"] or [""])[0]), style="bold")
            value.append(f"  ({describe_range(q['kind'], q['options'])})", style="dim")
            parts.append(value)
        elif a["kind"] == "choice":
            parts.append(labelled("chosen:", ", ".join(a["choices"] or []), reorder=reorder,
                                  style="bold"))
        return Group(*parts)

    def _show_words(self, reorder: bool) -> None:
        """The editor (stored order, for correcting) and, where it helps, a reading view:
        for a role that cannot edit, always; for an editor, in the F2 mode when a typed
        answer holds right-to-left words (a voice answer's segments are its reading view)."""
        a = self.answer
        editor = self.query_one("#transcript", TextArea)
        reading = self.query_one("#reading", ReadingView)
        scroll = self.query_one("#reading-scroll")
        words_here = a["kind"] != "choice"
        editor.read_only = not self.may_edit
        editor.display = words_here and self.may_edit
        editor.border_title = ("Transcript: one line per segment" if self.transcript
                               else "Answer's words") + " (Ctrl+S saves a new version)"
        rtl = language_is_rtl(a["language"]) or has_rtl(self.loaded_text)
        editor.border_subtitle = "stored order" + ("; F2 shows them in reading order"
                                                   if rtl and not reorder else "") if rtl else ""
        wanted = words_here and self.transcript is None and (
            not self.may_edit or (reorder and has_rtl(self.loaded_text)))
        scroll.display = wanted
        if wanted:
            title = ("Answer's words" + (" (redacted)" if a["redacted"] else "")
                     + (" in reading order" if reorder and has_rtl(self.loaded_text) else "")
                     + ("" if self.may_edit else ": read only for your role"))
            scroll.border_title = title
            reading.show(self.loaded_text, reorder=reorder)

    def _show_english(self) -> None:
        state = self.english
        parts: list = []
        head = Text("English", style="bold")
        note, style = ENGLISH_STATES[state["state"]]
        text = self.answer["texts"].get("english")
        if state["state"] == "source":
            parts += [head, Text(note, style=style)]
        else:
            if text is not None:
                if state["state"] == "current":
                    head.append(f"  ({state.get('made_by')})", style="dim")
                parts.append(head)
                if state["state"] != "current":
                    parts.append(Text(note, style=style))
                parts.append(words(text.text, reorder=self.reorder_rtl))
                if state["state"] != "current":
                    parts.append(Text(f"(by {state.get('made_by')}, from version "
                                      f"{state.get('of_version')} of the words)", style="dim"))
            else:
                parts += [head, Text(note, style=style)]
            parts.append(self._english_ways_forward())
        self.query_one("#english", Static).update(Group(*parts))

    def _english_ways_forward(self) -> Text:
        state, out = self.english, Text(style="dim")
        lang = self.answer["language"]
        request = state.get("request")
        if state["state"] in ("none", "out_of_date") and not state["machine_translation"]:
            out.append(f"This machine has no translation engine for {lang} into English.\n")
        elif state["state"] == "out_of_date":
            out.append("The engine renders the corrected words in the background.\n")
        if request:
            who = request.get("requested_by_name") or "someone"
            out.append(safe(f"A human translation was asked for by {who} on "
                            f"{request['requested_at'][:10]}"
                            + (f": {request['note']}" if request.get("note") else "") + ".\n"),
                       style="italic")
        ways = []
        if state["state"] != "current" and self.permitted("type_english"):
            ways.append("F8 types the English")
        if not request and self.permitted("request_translation"):
            ways.append("F9 asks for a human translation")
        if ways:
            out.append("; ".join(ways) + ".")
        return out

    def _show_recording(self) -> None:
        widget = self.query_one("#recording", Static)
        if self.recording is None:
            widget.update(Text("Recording\n", style="bold").append(
                "a typed answer: no recording" if self.answer.get("recording_id") is None
                else "not available to you", style="dim"))
            return
        facts = recording_facts(self.recording, self.transcript)
        if self.transcript is None:
            facts.append("not transcribed yet", style="dim")
        widget.update(facts)

    def _show_safeguarding(self) -> None:
        a = self.answer
        parts: list = [Text("Safeguarding", style="bold")]
        if not a["safeguarding"]:
            parts.append(Text("no concern raised", style="dim"))
        elif a["redacted"]:
            # The reason and the note are staff's words about a person: not for research.
            parts.append(Text("handled" if a["safeguarding_handled_at"] else "concern open",
                              style="" if a["safeguarding_handled_at"] else "bold red"))
        else:
            parts.append(words(a["safeguarding_reason"], reorder=self.reorder_rtl,
                               style="bold red" if not a["safeguarding_handled_at"] else ""))
            parts.append(safe_text(f"raised by {a['safeguarding_raised_by']}"))
            if a["safeguarding_handled_at"]:
                parts.append(Text("handled:", style="green"))
                parts.append(words(a["safeguarding_note"] or "(no note: closed before notes "
                                   "were required)", reorder=self.reorder_rtl, style="green"))
        self.query_one("#safeguarding", Static).update(Group(*parts))

    def _redactions(self) -> Group:
        head = Text("Suggested redactions", style="bold")
        if self.answer["redacted"]:
            # A researcher sees that personal data was hidden, never what it was.
            self.redactions = []
            hidden = [s[2] for t in self.answer["texts"].values() for s in t.spans]
            return Group(Text("Personal data", style="bold"), Text(
                f"{len(hidden)} item(s) hidden: " + ", ".join(sorted(set(hidden)))
                if hidden else "none found", style="dim"))
        self.redactions = redaction.list_for_answer(self.store, self.answer_id)
        parts: list = [head]
        if not self.redactions:
            parts.append(Text("none", style="dim"))
        pending = self._next_redaction()
        for r in self.redactions:
            marker = "> " if pending is not None and r["id"] == pending["id"] else "  "
            style = {"accepted": "green", "rejected": "dim"}.get(r["status"], "bold")
            parts.append(labelled(f"{marker}{r['kind']}", r["found"], reorder=self.reorder_rtl,
                                  style=style))
            parts.append(Text(f"    {r['status']} ({r['rendering']} v{r['version']})",
                              style=style))
        if pending is not None:
            parts.append(Text("F3 accepts, F4 rejects the one marked >", style="dim"))
        return Group(*parts)

    def _next_redaction(self) -> dict | None:
        return next((r for r in self.redactions if r["status"] == "suggested"), None)

    def _decide(self, accept: bool) -> None:
        pending = self._next_redaction()
        if pending is None:
            self.notify("no suggested redaction is waiting", timeout=3)
            return
        if self.attempt(redaction.decide, self.store, self.user, pending["id"], accept):
            self.notify(f"redaction of {pending['kind']} {'accepted' if accept else 'rejected'}",
                        timeout=3)
            self.query_one("#redactions", Static).update(self._redactions())
        self.refresh_bindings()

    def action_accept_redaction(self) -> None:
        self._decide(True)

    def action_reject_redaction(self) -> None:
        self._decide(False)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Keys the role may not use are not offered; keys that can do nothing for this
        answer stay in the footer, dimmed."""
        offered = super().check_action(action, parameters)
        if not offered or not self.answer:
            return offered
        if action in ("play", "play_segment") and self.recording is None:
            return None
        if action in ("accept_redaction", "reject_redaction") and self._next_redaction() is None:
            return None
        if action == "clear_concern" and not (self.answer["safeguarding"]
                                              and not self.answer["safeguarding_handled_at"]):
            return None
        if action == "save" and self.answer["kind"] == "choice":
            return None
        if action in ("type_english", "request_translation") and (
                self.answer["language"] == "en" or "original" not in self.answer["texts"]):
            return None
        if action == "request_translation" and self.english.get("request"):
            return None
        return offered

    def unsaved_edits(self) -> list[str]:
        if not self.answer:
            return []
        if self.query_one("#transcript", TextArea).text != self.loaded_text:
            return [f"answer {self.answer_id}: the transcript"]
        return []

    # -- writing -------------------------------------------------------------------------
    def action_save(self) -> None:
        new = self.query_one("#transcript", TextArea).text
        if new == self.loaded_text:
            self.notify("nothing has changed", timeout=3)
            return
        try:
            saved = self._save(new)
        except CohearError as exc:
            self.failed(exc)
            return
        self.notify(safe(f"saved as a new version by {self.user.name}"), timeout=4)
        self.load()
        return saved

    def _save(self, new: str):
        if self.transcript is not None:
            lines = new.split("\n")
            old = self.loaded_text.split("\n")
            if len(lines) == len(self.segment_lines):
                # Same lines, same segments: keep each segment's timings.
                edits = [{"index": i, "text": line} for i, line, before
                         in zip(self.segment_lines, lines, old) if line != before]
                corrected = speech.correct(self.store, self.recording.id, self.user,
                                           segments=edits,
                                           base_version=self.transcript["version"])
            else:
                corrected = speech.correct(self.store, self.recording.id, self.user,
                                           text=" ".join(x.strip() for x in lines if x.strip()),
                                           base_version=self.transcript["version"])
            return surveys.add_text_version(self.store, self.user, self.answer_id,
                                            corrected["text"])
        return surveys.add_text_version(self.store, self.user, self.answer_id, new)

    def action_verify(self) -> None:
        if self.unsaved_edits():
            self.notify("save or undo your edits before verifying", severity="warning")
            return
        if self.attempt(surveys.verify_answer, self.store, self.user, self.answer_id):
            self.notify(f"answer {self.answer_id} verified", timeout=3)
            self.load()

    def action_raise_concern(self) -> None:
        def raised(reason: str | None) -> None:
            if reason is not None and self.attempt(surveys.raise_safeguarding, self.store,
                                                   self.user, self.answer_id, reason):
                self.notify("safeguarding concern raised", severity="warning")
                self.load()

        self.app.push_screen(AskNote("Why is this a safeguarding concern?", "reason",
                                     min_chars=1), raised)

    def action_clear_concern(self) -> None:
        def handled(note: str | None) -> None:
            if note is not None and self.attempt(surveys.handle_safeguarding, self.store,
                                                 self.user, self.answer_id, note):
                self.notify("safeguarding concern marked as handled")
                self.load()

        self.app.push_screen(AskNote(
            "What was done about this concern, and who was told?",
            "e.g. rang the practice safeguarding lead, who will call them today",
            hint="The concern stays open until this is recorded; the note goes in the "
                 "audit log.", min_chars=surveys.MIN_HANDLING_NOTE_CHARS), handled)

    def action_type_english(self) -> None:
        current = self.answer["texts"].get("english")

        def typed(text: str | None) -> None:
            if text is not None and self.attempt(english.set_english, self.store, self.user,
                                                 self.answer_id, text):
                self.notify("English saved as a new version (audit-logged)", timeout=4)
                self.load()

        lang = self.answer["language"]
        self.app.push_screen(WriteWords(
            f"English for answer {self.answer_id} ({lang})",
            safe(current.text if current is not None else "", keep_length=True),
            hint="A human translation of the answer's newest words. It replaces the English "
                 "shown (the earlier one stays in the audit log) and fulfils an open request "
                 "for a translator."), typed)

    def action_request_translation(self) -> None:
        def asked(note: str | None) -> None:
            if note is not None and self.attempt(english.request_translation, self.store,
                                                 self.user, self.answer_id, note):
                self.notify("human translation requested; it is listed with `cohear surveys "
                            "translation-requests` and at /api/translation-requests",
                            timeout=6)
                self.load()

        self.app.push_screen(AskNote(
            f"Ask for a human translation of answer {self.answer_id} into English",
            "a note for the translator (optional)",
            hint="The request is recorded and listed for translators; it is fulfilled when "
                 "a reviewer enters the English (F8)."), asked)

    # -- listening -----------------------------------------------------------------------
    def _audio(self):
        if self.recording is None:
            self.notify("this answer has no recording you can play", severity="warning")
            return None
        found = self.attempt(speech.audio_file, self.store, self.recording.id, self.user,
                             "normalised")
        return found[0] if found else None

    def action_play(self) -> None:
        path = self._audio()
        if path is not None and self.attempt(player.play, path):
            self.notify("playing the recording", timeout=3)

    def action_play_segment(self) -> None:
        path = self._audio()
        if path is None or self.transcript is None:
            return
        table = self.query_one("#segments", SegmentTable)
        segs = self.transcript["segments"]
        if not segs:
            return
        seg = segs[min(table.cursor_row or 0, len(segs) - 1)]
        if self.attempt(player.play, path, seg["start"], seg["end"],
                        self.store.settings.data_dir):
            self.notify(f"playing segment {seg['index']}", timeout=3)

    def action_code(self) -> None:
        from tui.screens.coding import CodingScreen
        self.app.push_screen(CodingScreen(self.answer_id))
