"""Widgets of the answer review screen: the transcript's segments with their times and
confidence (rows wrapped at word boundaries, right-to-left words reordered in the F2
mode), a reading view of someone's words, and the facts about a recording."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import DataTable, Static

from tui.display import safe, visual_lines, words

LOW_CONFIDENCE = 0.6
# Cells taken by the columns before the words ("#", time, confidence) and the padding of
# four columns (one cell each side); the words get the rest of the table's width.
_FIXED_COLUMNS = 3 + 13 + 10 + 4 * 2
_MIN_WORDS_WIDTH = 20


def clock(seconds: float | None) -> str:
    seconds = max(0.0, seconds or 0.0)
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def labelled(label: str, text: str | None, *, reorder: bool, style: str = "") -> Table:
    """"ur: <words>": the label in its own column, so wrapped words stay beside it."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(Text(safe(label), style="dim"), words(text, reorder=reorder, style=style))
    return grid


class SegmentTable(DataTable):
    """One row per segment: number, start-end, confidence (low ones highlighted), words.
    A segment's words wrap onto as many lines as they need, broken between words."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.segments: list[dict] = []
        self.reorder = False
        self._shown_width = 0

    def words_width(self) -> int:
        width = self.scrollable_content_region.width or self.app.size.width // 2
        return max(_MIN_WORDS_WIDTH, width - _FIXED_COLUMNS - 1)

    def show(self, segments: list[dict], *, reorder: bool) -> None:
        self.segments, self.reorder = segments, reorder
        width = self.words_width()
        self._shown_width = width
        row = self.cursor_row
        self.clear(columns=True)
        self.add_column("#", width=3)
        self.add_column("time", width=13)
        self.add_column("confidence", width=10)
        self.add_column("words", width=width)
        for seg in segments:
            conf = seg.get("confidence")
            low = conf is not None and conf < LOW_CONFIDENCE
            style = "dim strike" if seg.get("rejected") else ("bold yellow" if low else "")
            text = (seg.get("text") or "").strip()
            lines = visual_lines(text, width, reorder=reorder)
            if seg.get("rejected"):
                lines.append(safe(f"[rejected: {seg.get('rejected_reason')}]"))
            self.add_row(str(seg["index"]), f"{clock(seg['start'])}-{clock(seg['end'])}",
                         Text("" if conf is None else f"{conf:.2f}" + (" low" if low else ""),
                              style="bold yellow" if low else ""),
                         Text("\n".join(lines), style=style, no_wrap=True, overflow="crop"),
                         key=str(seg["index"]), height=max(1, len(lines)))
        if segments:
            self.move_cursor(row=min(row or 0, len(segments) - 1), animate=False)

    def on_resize(self) -> None:
        if self.segments and self.words_width() != self._shown_width:
            self.show(self.segments, reorder=self.reorder)


class ReadingView(Static):
    """Someone's words for reading: wrapped at word boundaries, right-to-left rows
    reordered in the F2 mode. Never edited (the editor keeps the stored order)."""

    def show(self, text: str | None, *, reorder: bool) -> None:
        self.update(words(text, reorder=reorder))


def recording_facts(recording, transcript: dict | None) -> Text:
    """Duration, format, expected and detected language, in a few lines."""
    text = Text()
    text.append("Recording\n", style="bold")
    text.append(f"duration {clock(recording.duration_seconds)}  "
                f"({safe(recording.format)}, {recording.sample_rate} Hz)\n")
    text.append(f"speech {recording.speech_ratio:.0%} of it\n")
    expected = safe(recording.language_hint) or "not given"
    text.append(f"expected language {expected}\n")
    if transcript:
        detected = safe(transcript.get("detected_language")) or "unknown"
        prob = transcript.get("language_probability")
        text.append(f"detected language {detected}"
                    + (f" ({prob:.0%})" if prob is not None else "") + "\n")
        if transcript.get("language_mismatch"):
            text.append("the detected language differs from the expected one\n",
                        style="bold yellow")
        conf = transcript.get("confidence")
        if conf is not None:
            text.append(f"transcript confidence {conf:.2f}\n",
                        style="bold yellow" if conf < LOW_CONFIDENCE else "")
        text.append(f"transcript version {transcript['version']} by "
                    f"{safe(transcript['author'])}")
    return text
