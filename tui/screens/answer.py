"""Answer review: the question in both languages, the transcript's segments with times
and confidence, the English beside it, the recording's facts; correct the transcript
(a new version), verify, raise or clear a safeguarding concern, play the audio.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Static, TextArea

from cohear.errors import CohearError, NotFound
from surveys import redaction
from surveys import service as surveys
from surveys.values import VALUE_KINDS, describe_range
from tui import player
from tui.display import language_is_rtl, words
from tui.screens.base import ReviewScreen
from tui.screens.dialogs import AskNote
from tui.widgets.answer import SegmentTable, recording_facts
from tui.widgets.editor import WordsEditor
from tui.widgets.footer import KeyFooter

try:  # voice answers need the speech package; typed answers do not
    from speech import service as speech
except ModuleNotFoundError:  # pragma: no cover - cohear without speech
    speech = None


class AnswerScreen(ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save transcript"),
        Binding("ctrl+r", "verify", "Verify"),
        Binding("ctrl+g", "raise_concern", "Raise concern"),
        Binding("ctrl+l", "clear_concern", "Clear concern"),
        Binding("ctrl+o", "play", "Play"),
        Binding("ctrl+t", "play_segment", "Play segment"),
        Binding("ctrl+n", "code", "Code"),
        Binding("ctrl+f", "accept_redaction", "Accept redaction"),
        Binding("ctrl+b", "reject_redaction", "Reject redaction"),
    ]

    def __init__(self, answer_id: int):
        super().__init__()
        self.answer_id = answer_id
        self.answer: dict = {}
        self.question: dict = {}
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
                yield WordsEditor(id="transcript")
            with VerticalScroll(id="answer-right"):
                yield Static(id="english")
                yield Static(id="recording")
                yield Static(id="safeguarding")
                yield Static(id="redactions")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#transcript", TextArea).focus()

    # -- reading -------------------------------------------------------------------------
    def load(self) -> None:
        try:
            self.answer = surveys.get_answer(self.store, self.user, self.answer_id)
        except CohearError as exc:
            self.failed(exc)
            self.app.pop_screen()
            return
        self.question = surveys.get_question(self.store, self.answer["question_id"])
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
            self.loaded_text = "\n".join(s["text"].strip() for s in kept)
        else:
            self.segment_lines = []
            original = self.answer["texts"].get("original")
            self.loaded_text = original["text"] if original else ""
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
        title.append(f"  ·  {lang}  ·  {a['kind']}  ·  ")
        title.append(a["status"], style={"verified": "bold green",
                                         "transcribed": "bold yellow"}.get(a["status"], "bold"))
        if a["safeguarding"] and not a["safeguarding_handled_at"]:
            title.append("  ·  SAFEGUARDING", style="bold red")
        self.query_one("#answer-title", Static).update(title)

        q = self.question
        question = Text()
        question.append(f"Question {q['name']}\n", style="bold")
        in_language = q["texts"].get(lang, {}).get("text")
        if in_language:
            question.append(f"{lang}: ")
            question.append_text(words(in_language, reorder=reorder))
            question.append("\n")
        english = q["texts"].get("en", {}).get("text") or q["text"]
        question.append(f"en: {english}")
        hints = q["options"].get("hint") or {}
        hint = hints.get(lang) or hints.get("en") or next(iter(hints.values()), "")
        if hint:
            question.append("\nhint: ", style="italic")
            question.append_text(words(hint, reorder=reorder))
        if a["kind"] == "choice" and q["kind"] in VALUE_KINDS:
            # A number, date or time: the value as given, and what the question allowed.
            question.append("\nvalue: ", style="bold")
            question.append((a["choices"] or [""])[0])
            question.append(f"  ({describe_range(q['kind'], q['options'])})", style="dim")
        elif a["kind"] == "choice":
            question.append("\nchosen: ", style="bold")
            question.append(", ".join(a["choices"] or []))
        self.query_one("#question", Static).update(question)

        table = self.query_one("#segments", SegmentTable)
        table.display = self.transcript is not None
        if self.transcript is not None:
            table.show(self.transcript["segments"], reorder=reorder)
        editor = self.query_one("#transcript", TextArea)
        # A choice answer has no words to correct, only the options chosen (shown above).
        may_edit = self.user.may("answers.review")
        editor.read_only = a["kind"] == "choice" or not may_edit
        editor.display = a["kind"] != "choice"
        editor.border_title = ("Transcript: one line per segment" if self.transcript
                               else "Answer's words") + (
            " (Ctrl+S saves a new version)" if may_edit else " (read only for your role)")
        editor.border_subtitle = ("stored order; F2 reorders the lines above"
                                  if language_is_rtl(lang) else "")
        self._show_english()
        self._show_recording()
        self._show_safeguarding()
        self.query_one("#redactions", Static).update(self._redactions())
        self.refresh_bindings()

    def _show_english(self) -> None:
        english = Text("English\n", style="bold")
        rendering = (self.transcript or {}).get("english")
        if rendering:
            english.append(rendering["text"])
            english.append(f"\n({rendering['engine']})", style="dim")
        elif self.answer["texts"].get("english"):
            english.append(self.answer["texts"]["english"]["text"])
        elif self.answer["language"] == "en":
            english.append("the answer is in English", style="dim")
        else:
            english.append("no English rendering yet", style="dim")
        self.query_one("#english", Static).update(english)

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
        text = Text("Safeguarding\n", style="bold")
        if not a["safeguarding"]:
            text.append("no concern raised", style="dim")
        else:
            text.append(f"{a['safeguarding_reason']}\n",
                        style="bold red" if not a["safeguarding_handled_at"] else "")
            text.append(f"raised by {a['safeguarding_raised_by']}\n")
            if a["safeguarding_handled_at"]:
                text.append(f"handled: {a['safeguarding_note'] or 'no note'}", style="green")
        self.query_one("#safeguarding", Static).update(text)

    def _redactions(self) -> Text:
        self.redactions = redaction.list_for_answer(self.store, self.answer_id)
        text = Text("Suggested redactions\n", style="bold")
        if not self.redactions:
            text.append("none", style="dim")
        pending = self._next_redaction()
        for r in self.redactions:
            marker = "> " if pending is not None and r["id"] == pending["id"] else "  "
            style = {"accepted": "green", "rejected": "dim"}.get(r["status"], "bold")
            text.append(f"{marker}{r['kind']} ", style=style)
            text.append_text(words(r["found"], reorder=self.reorder_rtl, style=style))
            text.append(f"  {r['status']} ({r['rendering']} v{r['version']})\n", style=style)
        if pending is not None:
            text.append("Ctrl+F accepts, Ctrl+B rejects the one marked >", style="dim")
        return text

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
        """Keys that can do nothing for this answer stay in the footer, dimmed."""
        if not self.answer:
            return super().check_action(action, parameters)
        if action in ("play", "play_segment") and self.recording is None:
            return None
        if action in ("accept_redaction", "reject_redaction") and self._next_redaction() is None:
            return None
        if action == "clear_concern" and not (self.answer["safeguarding"]
                                              and not self.answer["safeguarding_handled_at"]):
            return None
        return super().check_action(action, parameters)

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
        self.notify(f"saved as a new version by {self.user.name}", timeout=4)
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
        if not self.user.may("safeguarding.raise"):
            self.attempt(self.user.require, "safeguarding.raise")
            return

        def raised(reason: str | None) -> None:
            if reason is not None and self.attempt(surveys.raise_safeguarding, self.store,
                                                   self.user, self.answer_id, reason):
                self.notify("safeguarding concern raised", severity="warning")
                self.load()

        self.app.push_screen(AskNote("Why is this a safeguarding concern?", "reason"), raised)

    def action_clear_concern(self) -> None:
        if not self.user.may("safeguarding.handle"):
            self.attempt(self.user.require, "safeguarding.handle")
            return

        def handled(note: str | None) -> None:
            if note is not None and self.attempt(surveys.handle_safeguarding, self.store,
                                                 self.user, self.answer_id, note):
                self.notify("safeguarding concern marked as handled")
                self.load()

        self.app.push_screen(AskNote("How was the concern handled?", "note"), handled)

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
        if self.attempt(player.play, path, seg["start"], seg["end"]):
            self.notify(f"playing segment {seg['index']}", timeout=3)

    def action_code(self) -> None:
        from tui.screens.coding import CodingScreen
        if not self.user.may("coding.apply"):
            self.attempt(self.user.require, "coding.apply")
            return
        self.app.push_screen(CodingScreen(self.answer_id))
