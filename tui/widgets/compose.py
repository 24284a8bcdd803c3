"""Widgets of the compose screen: the source editor that marks the plain-language findings,
placeholders and protected terms where they are, and the panels that list the findings
and each language's SMS length."""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets.text_area import TextAreaTheme

from comms.jargon import JARGON
from tui.widgets.editor import WordsEditor

# What each mark looks like in the editor, and its name in the panel.
MARKS = {
    "jargon": (Style(color="#000000", bgcolor="#ffaf00", bold=True), "jargon"),
    "passive_voice": (Style(color="#ff87ff", underline=True, italic=True), "passive voice"),
    "long_sentence": (Style(underline=True, color="#ffd75f"), "long sentence"),
    "placeholder": (Style(color="#000000", bgcolor="#5fd7d7"), "placeholder"),
    "term": (Style(color="#87d75f", bold=True), "protected term"),
}
THEME = TextAreaTheme(name="cohear-plain",
                      syntax_styles={name: style for name, (style, _) in MARKS.items()})


def plain_alternative(text: str) -> str | None:
    """The plain words for a jargon term, in the term's own capitalisation."""
    plain = JARGON.get(text.lower())
    if plain is None:
        return None
    if text[:1].isupper():
        plain = plain[:1].upper() + plain[1:]
    return plain


def marks_of(report: dict) -> list[tuple[int, int, str]]:
    """(start, end, mark) in the text's characters: findings where they are (not the
    reading age, which is about the whole text), placeholders and protected terms."""
    spans = [(f["start"], f["end"], f["kind"]) for f in report.get("findings", [])
             if f["kind"] in MARKS]
    for p in report.get("placeholders", []):
        spans.append((p["start"], p["end"], "term" if p["kind"] == "term" else "placeholder"))
    return spans


class PlainEditor(WordsEditor):
    """The message's source. Marks the findings, placeholders and terms given to
    `mark()`: TextArea draws highlights per line in UTF-8 byte columns, so character
    offsets are turned into those once per check."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.spans: list[tuple[int, int, str]] = []
        self.register_theme(THEME)
        self.theme = THEME.name

    def mark(self, spans: list[tuple[int, int, str]]) -> None:
        self.spans = spans
        self._build_highlight_map()
        self.refresh()

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        spans = getattr(self, "spans", None)
        if not spans:
            return
        lines = self.text.split("\n")
        starts, at = [], 0
        for line in lines:
            starts.append(at)
            at += len(line) + 1

        def where(offset: int) -> tuple[int, int]:
            row = max(0, min(len(lines) - 1, _row_of(starts, offset)))
            column = min(len(lines[row]), max(0, offset - starts[row]))
            return row, len(lines[row][:column].encode("utf-8"))

        for start, end, name in spans:
            if end <= start or start >= at:
                continue
            (top, left), (bottom, right) = where(start), where(min(end, at - 1))
            for row in range(top, bottom + 1):
                first = left if row == top else 0
                last = right if row == bottom else len(lines[row].encode("utf-8"))
                if last > first:
                    highlights[row].append((first, last, name))

    def offset_of(self, location: tuple[int, int]) -> int:
        row, column = location
        lines = self.text.split("\n")
        return sum(len(line) + 1 for line in lines[:row]) + column

    def location_of(self, offset: int) -> tuple[int, int]:
        lines = self.text.split("\n")
        for row, line in enumerate(lines):
            if offset <= len(line):
                return row, offset
            offset -= len(line) + 1
        return len(lines) - 1, len(lines[-1])


def _row_of(starts: list[int], offset: int) -> int:
    row = 0
    for i, start in enumerate(starts):
        if start <= offset:
            row = i
    return row


def findings_view(report: dict | None, current: int | None) -> Group:
    """The reading age and every finding in order, the one at the cursor marked ▶."""
    if report is None:
        return Group(Text("checking…", style="dim"))
    parts: list = []
    age = report.get("reading_age")
    if age is not None:
        good = age <= 11
        parts.append(Text.assemble(("Reading age ", "bold"),
                                   (f"{age:g}", "bold #87d75f" if good else "bold #ff5f5f"),
                                   f" (NHS aims for {report.get('target_reading_age', '9 to 11')})"
                                   f"  ·  {report.get('words', 0)} words"))
    listed = [f for f in report.get("findings", []) if f["kind"] != "reading_age"]
    if not listed:
        parts.append(Text("No long sentences, passive voice or jargon found.", style="#87d75f"))
    # One row per finding: its mark's name, then the words, wrapped under themselves.
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=1)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    for i, f in enumerate(listed):
        style, name = MARKS.get(f["kind"], (Style(), f["kind"]))
        words = Text(f["message"])
        if f.get("suggestion"):
            words.append(f" — {f['suggestion']}", style="dim")
        if f["kind"] == "jargon" and plain_alternative(f["text"]):
            words.append(" (Ctrl+R uses it)", style="dim italic")
        grid.add_row(Text("▶" if i == current else "", style="bold"), Text(name, style=style),
                     words)
    if listed:
        parts.append(grid)
    kept = report.get("placeholders", [])
    if kept:
        line = Text("Kept as they are: ", style="bold")
        for i, p in enumerate(kept):
            if i:
                line.append(", ")
            line.append(p["text"], style=MARKS["term" if p["kind"] == "term"
                                             else "placeholder"][0])
        parts.append(Text(""))
        parts.append(line)
    return Group(*parts)


def sms_view(source: dict | None, translations: list[dict]) -> Table:
    """Encoding, length and segments of the source (as typed) and each translation."""
    table = Table(box=None, padding=(0, 1), show_header=True, header_style="bold")
    for name in ("", "encoding", "chars", "segments"):
        table.add_column(name)
    rows = [("source (as typed)", source)] + [(t["language"], t.get("sms"))
                                              for t in translations]
    for label, info in rows:
        if not info:
            continue
        style = "bold #ff5f5f" if info.get("warning") else ""
        table.add_row(Text(label), info["encoding"], str(info["characters"]),
                      Text(str(info["segments"]), style=style))
    return table
