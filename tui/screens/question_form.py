"""The survey builder's forms: a question of any kind with its options (choices and their
labels, a scale's points and labels, a number, date or time range, the open answer's
form, the demographic field, the consent wording's version, help text, required), a new
survey, opening a language, and attaching a recorded prompt."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Select, SelectionList, Static

from cohear.errors import CohearError
from language_packs.registry import LANGUAGES
from surveys import service as surveys
from surveys.values import FORMATS, VALUE_KINDS
from tui.display import safe
from tui.widgets.choices import MarkedSelectionList
from tui.widgets.editor import WordsEditor
from tui.widgets.footer import KeyFooter

KIND_WORDS = {
    "consent": "consent (asked first)", "open": "open: voice, typed or either",
    "single_choice": "choice: one", "multiple_choice": "choice: several",
    "scale": "scale (e.g. 1 to 5)", "demographic": "demographic (age band, gender...)",
    "integer": "whole number", "decimal": "number with decimals", "date": "date",
    "time": "time of day",
}
# Which group of option fields each kind shows.
GROUPS = {"open": "opt-open", "single_choice": "opt-choices", "multiple_choice": "opt-choices",
          "scale": "opt-scale", "demographic": "opt-demographic", "consent": "opt-consent",
          **dict.fromkeys(VALUE_KINDS, "opt-range")}
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
               ".opus": "audio/ogg", ".m4a": "audio/mp4", ".webm": "audio/webm",
               ".flac": "audio/flac", ".amr": "audio/amr"}


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:60] or "choice"


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """Lines of `value | label` (or a label alone, its value made from it)."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        value, bar, label = line.partition("|")
        out.append((value.strip(), label.strip()) if bar else (_slug(line.strip()), line.strip()))
    return out


def _number(text: str):
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


class QuestionForm(ModalScreen[dict | None]):
    """A question to add or change; answers {kind, name, text, options} or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save", "Save"),
                                             Binding("escape", "cancel", "Cancel")]

    def __init__(self, base_language: str, question: dict | None = None):
        super().__init__()
        self.base = base_language
        self.question = question or {}

    def compose(self) -> ComposeResult:
        q = self.question
        options = q.get("options", {})
        kind = q.get("kind", "open")
        with VerticalScroll(id="dialog", classes="wide form"):
            # Stored words are shown through safe (editors one for one): a control
            # character an old row holds is U+FFFD here, and saved so.
            yield Label(safe(f"Question {q['name']!r}") if q else "A new question",
                        id="dialog-title")
            if q:
                yield Static("New words make a new version of its message: its translations "
                             "become stale and are reviewed again.", id="dialog-hint")
            with Horizontal(classes="form-row"):
                yield Select([(w, k) for k, w in KIND_WORDS.items()], value=kind,
                             allow_blank=False, id="kind")
                yield Input(value=safe(q.get("name", "")), placeholder="short name (letters, digits, _)",
                            id="name", disabled=bool(q))
            yield WordsEditor(text=safe(q.get("text", ""), keep_length=True), id="text")
            with Vertical(id="opt-open", classes="options"):
                yield Select([("voice or typed", "either"), ("voice only", "voice"),
                              ("typed only", "text")], value=options.get("answer", "either"),
                             allow_blank=False, id="answer")
            with Vertical(id="opt-choices", classes="options"):
                yield Static("Choices, one a line: value | label (or just the label).",
                             classes="form-hint")
                yield WordsEditor(text=safe("\n".join(f"{c['value']} | {c['label']}" for c in
                                                      options.get("choices", [])),
                                            keep_length=True), id="choices")
            with Vertical(id="opt-scale", classes="options"):
                with Horizontal(classes="form-row"):
                    yield Input(str(options.get("min", 1)), placeholder="lowest point",
                                id="scale-min")
                    yield Input(str(options.get("max", 5)), placeholder="highest point",
                                id="scale-max")
                yield Static("Labels, one a line: point | words (e.g. 1 | Not at all).",
                             classes="form-hint")
                yield WordsEditor(text=safe("\n".join(f"{k} | {v}" for k, v in
                                                      options.get("labels", {}).items()),
                                            keep_length=True),
                                  id="scale-labels")
            with Vertical(id="opt-range", classes="options"):
                yield Static(id="range-hint", classes="form-hint")
                with Horizontal(classes="form-row"):
                    yield Input("" if options.get("min") is None else str(options["min"]),
                                placeholder="lowest (optional)", id="range-min")
                    yield Input("" if options.get("max") is None else str(options["max"]),
                                placeholder="highest (optional)", id="range-max")
            with Vertical(id="opt-demographic", classes="options"):
                yield Select([(f.replace("_", " "), f) for f in surveys.DEMOGRAPHIC_FIELDS],
                             value=options.get("field", "age_band"), allow_blank=False,
                             id="field")
            with Vertical(id="opt-consent", classes="options"):
                yield Input(str(options.get("consent_version", 1)),
                            placeholder="consent wording version", id="consent-version")
            yield Input(safe((options.get("hint") or {}).get(self.base, "")),
                        placeholder=f"help text in {self.base} (optional)", id="hint")
            yield Checkbox("an answer is required", bool(options.get("required")),
                           id="required")
            yield Static("", id="dialog-problem")
            yield Static("Ctrl+S to save, Escape to cancel; Tab moves between fields.")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-problem", Static).display = False
        self.show_options(self.query_one("#kind", Select).value)
        self.query_one("#text" if self.question else "#kind").focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "kind":
            self.show_options(event.value)

    def show_options(self, kind: str) -> None:
        for group in set(GROUPS.values()):
            self.query_one(f"#{group}").display = GROUPS.get(kind) == group
        if kind in FORMATS:
            self.query_one("#range-hint", Static).update(
                f"Range (optional), each {FORMATS[kind]}"
                + (" or 'today'" if kind == "date" else "") + ".")

    def options(self, kind: str) -> dict:
        options: dict = {}
        value = lambda wid: self.query_one(f"#{wid}", Input).value  # noqa: E731
        if kind == "open":
            options["answer"] = self.query_one("#answer", Select).value
        elif kind in ("single_choice", "multiple_choice"):
            options["choices"] = [{"value": v, "label": label or v} for v, label in
                                  parse_pairs(self.query_one("#choices", WordsEditor).text)]
        elif kind == "scale":
            options["min"], options["max"] = _number(value("scale-min")), _number(
                value("scale-max"))
            options["labels"] = dict(parse_pairs(self.query_one("#scale-labels",
                                                                WordsEditor).text))
        elif kind in VALUE_KINDS:
            for which in ("min", "max"):
                raw = value(f"range-{which}").strip()
                if raw:
                    options[which] = (_number(raw) if kind == "integer" else
                                      float(raw) if kind == "decimal" and
                                      re.fullmatch(r"-?\d+(\.\d+)?", raw) else raw)
        elif kind == "demographic":
            options["field"] = self.query_one("#field", Select).value
        elif kind == "consent":
            options["consent_version"] = _number(value("consent-version")) or 1
        hint = dict((self.question.get("options") or {}).get("hint") or {})
        words = value("hint").strip()
        if words:
            hint[self.base] = words
        else:
            hint.pop(self.base, None)
        if hint:
            options["hint"] = hint
        for what in ("required_message", "constraint_message"):
            kept = (self.question.get("options") or {}).get(what)
            if kept:
                options[what] = kept
        if self.query_one("#required", Checkbox).value:
            options["required"] = True
        return options

    def action_save(self) -> None:
        kind = self.query_one("#kind", Select).value
        problem = self.query_one("#dialog-problem", Static)
        try:
            options = surveys.normalise_options(kind, self.options(kind))
        except CohearError as exc:
            problem.update(f"{exc.message()}")
            problem.display = True
            return
        text = self.query_one("#text", WordsEditor).text.strip()
        name = self.query_one("#name", Input).value.strip()
        if not text or not name:
            problem.update("A question needs a name and its words.")
            problem.display = True
            return
        self.dismiss({"kind": kind, "name": name, "text": text, "options": options})

    def action_cancel(self) -> None:
        self.dismiss(None)


class NewSurvey(ModalScreen[dict | None]):
    """A survey's title, purpose, its own language and the languages it is for."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save", "Save"),
                                             Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="wide form"):
            yield Label("A new survey", id="dialog-title")
            yield Input(placeholder="title", id="survey-title")
            yield Input(placeholder="purpose: what it is for, in a sentence", id="purpose")
            yield Select([(f"written in {lang.english_name}", tag)
                          for tag, lang in LANGUAGES.items()], value="en", allow_blank=False,
                         id="base")
            yield Static("The languages it is for (space chooses):", classes="form-hint")
            yield MarkedSelectionList(*[(f"{tag}  {lang.english_name}", tag)
                                       for tag, lang in LANGUAGES.items() if tag != "en"],
                                     id="targets")
            yield Static("", id="dialog-problem")
            yield Static("Ctrl+S to save, Escape to cancel; Tab moves between fields.")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-problem", Static).display = False
        self.query_one("#survey-title", Input).focus()

    def action_save(self) -> None:
        title = self.query_one("#survey-title", Input).value.strip()
        purpose = self.query_one("#purpose", Input).value.strip()
        if not title or not purpose:
            problem = self.query_one("#dialog-problem", Static)
            problem.update("A survey needs a title and a purpose.")
            problem.display = True
            return
        self.dismiss({"title": title, "purpose": purpose,
                      "base_language": self.query_one("#base", Select).value,
                      "target_languages": list(self.query_one("#targets",
                                                              SelectionList).selected)})

    def action_cancel(self) -> None:
        self.dismiss(None)


class OpenLanguage(ModalScreen[tuple[str, bool] | None]):
    """Open the survey for collection in a language: it says which questions have no
    approved text there, and what accepting English for them means."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save", "Open it"),
                                             Binding("escape", "cancel", "Cancel")]

    def __init__(self, store, survey: dict):
        super().__init__()
        self.store = store
        self.survey = survey

    def compose(self) -> ComposeResult:
        s = self.survey
        tags = [s["base_language"], *s["target_languages"]]
        opened = {o["language"] for o in s["open_languages"]}
        with Vertical(id="dialog", classes="wide form"):
            yield Label("Open a language for collection", id="dialog-title")
            yield Select([(f"{t}  {LANGUAGES[t].english_name if t in LANGUAGES else t}"
                           + ("  (open)" if t in opened else ""), t) for t in tags],
                         value=tags[0], allow_blank=False, id="language")
            yield Static(id="missing")
            yield Checkbox("open it anyway, with the English text for those questions",
                           False, id="accept-english")
            yield Static("", id="dialog-problem")
            yield Static("Ctrl+S opens it, Escape cancels.")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-problem", Static).display = False
        self.explain(self.query_one("#language", Select).value)
        self.query_one("#language", Select).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.explain(event.value)

    def missing(self, tag: str) -> list[str]:
        return surveys.missing_approvals(self.store, self.survey["id"], tag)

    def explain(self, tag: str) -> None:
        missing = self.missing(tag)
        base = self.survey["base_language"]
        accept = self.query_one("#accept-english", Checkbox)
        accept.display = bool(missing)
        if not missing:
            self.query_one("#missing", Static).update(
                f"Every question has an approved {tag} text: it opens as it is."
                if tag != base else f"{tag} is the survey's own language.")
            return
        self.query_one("#missing", Static).update(
            f"{len(missing)} question(s) have no approved {tag} text: "
            f"{safe(', '.join(missing))}.\n"
            f"Accepting English means the leader's phone shows those questions in the "
            f"survey's own language ({base}), marked as such, to respondents who chose {tag}: "
            "the leader must translate them aloud, and answers to them were asked in words "
            "nobody checked in that language. cohear records that the language was opened "
            "this way. Approve the translations instead where you can.")

    def action_save(self) -> None:
        tag = self.query_one("#language", Select).value
        accept = self.query_one("#accept-english", Checkbox).value
        if self.missing(tag) and not accept:
            problem = self.query_one("#dialog-problem", Static)
            problem.update("Approve those translations first, or tick the box to accept "
                           "English for them.")
            problem.display = True
            return
        self.dismiss((tag, accept))

    def action_cancel(self) -> None:
        self.dismiss(None)


class AttachPrompt(ModalScreen[tuple[str, str] | None]):
    """A recorded prompt for a question in a language, from an audio file."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save", "Attach"),
                                             Binding("escape", "cancel", "Cancel")]

    def __init__(self, languages: list[str], question: str):
        super().__init__()
        self.languages = languages
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide form"):
            yield Label(safe(f"A recorded prompt for {self.question!r}"), id="dialog-title")
            yield Static("Record the question read aloud (a phone's voice recorder will do) "
                         "and give the file here: WAV, MP3, M4A, Ogg/Opus, WebM, FLAC or AMR. "
                         "Leaders play it to respondents on the field page.",
                         id="dialog-hint")
            yield Select([(t, t) for t in self.languages], value=self.languages[0],
                         allow_blank=False, id="language")
            yield Input(placeholder="the audio file's path", id="path")
            yield Static("", id="dialog-problem")
            yield Static("Ctrl+S attaches it, Escape cancels.")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-problem", Static).display = False
        self.query_one("#path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        given = self.query_one("#path", Input).value.strip()
        path = Path(given).expanduser()
        problem = self.query_one("#dialog-problem", Static)
        why = ("give the file's path" if not given else
               f"there is no file {path}" if not path.is_file() else
               f"{path.suffix or 'a file without an ending'} is not an audio file cohear "
               "takes" if path.suffix.lower() not in AUDIO_TYPES else None)
        if why:
            problem.update(why)
            problem.display = True
            return
        self.dismiss((self.query_one("#language", Select).value, str(path)))

    def action_cancel(self) -> None:
        self.dismiss(None)
