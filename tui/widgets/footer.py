"""The footer: every key of the screen, on as many rows as it takes, never cut off."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

KEYS_PER_ROW = 6


class KeyFooter(Footer):
    """Textual's footer laid out as a grid (see cohear.tcss), so a screen with many keys
    wraps to a second row instead of hiding the last ones off the edge."""

    def compose(self) -> ComposeResult:
        yield from super().compose()
        self.styles.grid_size_columns = KEYS_PER_ROW
