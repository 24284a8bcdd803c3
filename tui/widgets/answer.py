"""Widgets of the answer review screen: the transcript's segments with their times and
confidence, and the facts about a recording."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui.display import for_terminal

LOW_CONFIDENCE = 0.6


def clock(seconds: float | None) -> str:
    seconds = max(0.0, seconds or 0.0)
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


class SegmentTable(DataTable):
    """One row per segment: number, start-end, confidence (low ones highlighted), words."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_columns("#", "time", "confidence", "words")

    def show(self, segments: list[dict], *, reorder: bool) -> None:
        self.clear()
        for seg in segments:
            conf = seg.get("confidence")
            low = conf is not None and conf < LOW_CONFIDENCE
            style = "dim strike" if seg.get("rejected") else ("bold yellow" if low else "")
            words = for_terminal(seg.get("text") or "", reorder=reorder)
            if seg.get("rejected"):
                words = f"{words}  [rejected: {seg.get('rejected_reason')}]"
            self.add_row(str(seg["index"]), f"{clock(seg['start'])}-{clock(seg['end'])}",
                         Text("" if conf is None else f"{conf:.2f}" + (" low" if low else ""),
                              style="bold yellow" if low else ""),
                         Text(words, style=style), key=str(seg["index"]))


def recording_facts(recording, transcript: dict | None) -> Text:
    """Duration, format, expected and detected language, in a few lines."""
    text = Text()
    text.append("Recording\n", style="bold")
    text.append(f"duration {clock(recording.duration_seconds)}  "
                f"({recording.format}, {recording.sample_rate} Hz)\n")
    text.append(f"speech {recording.speech_ratio:.0%} of it\n")
    expected = recording.language_hint or "not given"
    text.append(f"expected language {expected}\n")
    if transcript:
        detected = transcript.get("detected_language") or "unknown"
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
        text.append(f"transcript version {transcript['version']} by {transcript['author']}")
    return text
