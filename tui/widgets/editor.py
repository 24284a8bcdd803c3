"""The text editor used for people's words: Textual's TextArea without a blinking cursor
(over SSH every blink is a screen update, and a steady cursor keeps snapshots stable)."""

from __future__ import annotations

from textual.widgets import TextArea


class WordsEditor(TextArea):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("soft_wrap", True)
        super().__init__(**kwargs)
        self.cursor_blink = False
