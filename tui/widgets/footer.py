"""The footer: every key of the screen, each label whole, on as many rows as it takes."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# A footer key is drawn as " KEY DESCRIPTION " (the key padded by one cell each side, the
# description followed by one), with a cell between columns.
_PADDING = 4


def key_width(key: FooterKey) -> int:
    """Cells a footer key needs to show its key and its whole description."""
    return cell_len(key.key_display) + cell_len(key.description) + _PADDING


def app_wide_actions(app) -> set[str]:
    """The actions of the app's own keys (help, queue, quit...), on every screen."""
    return {binding.action for bindings in app._bindings.key_to_bindings.values()
            for binding in bindings}


class KeyFooter(Footer):
    """Textual's footer laid out as a grid whose columns are as wide as the longest label
    ("^s Save correction"), with as many columns as the terminal has room for: a screen
    with many keys wraps onto more rows instead of cutting labels or hiding keys."""

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        # The screen's own keys first, then the app's (help, queue, quit...), whatever
        # order the focused widget's bindings happened to put them in.
        app_actions = app_wide_actions(self.app)
        keys.sort(key=lambda k: isinstance(k, FooterKey) and k.action in app_actions)
        self._layout_columns(keys)
        yield from keys

    def _layout_columns(self, keys: list) -> None:
        plain = [k for k in keys if isinstance(k, FooterKey)
                 and not k.has_class("-command-palette")]
        palette = [k for k in keys if isinstance(k, FooterKey) and k.has_class("-command-palette")]
        if not plain:
            return
        widest = max(key_width(k) for k in plain)
        room = (self.app.size.width or 80) - sum(key_width(k) + 1 for k in palette)
        columns = max(1, min(len(plain), room // widest))
        self.styles.grid_size_columns = columns
        self.styles.grid_columns = f"{widest}"
        self._columns_for = self.app.size.width

    def on_resize(self, event: events.Resize) -> None:
        if getattr(self, "_columns_for", None) not in (None, self.app.size.width):
            self.call_after_refresh(self.recompose)
