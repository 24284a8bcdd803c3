"""Coding one answer: pick a code in the codebook tree and apply it to the whole answer
or to the words selected in the text. Other coders' codes stay hidden until you have
coded the answer yourself, so agreement between coders stays honest.

The words come from `surveys.views.reading_view`: a researcher codes the redacted text,
and a selection in it is mapped back to the stored words (a redacted item is coded
whole or not at all).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Static, TextArea, Tree

from cohear.errors import CohearError
from surveys import coding, views
from tui.display import has_rtl, safe, safe_text, words
from tui.screens.base import ReviewScreen
from tui.screens.dialogs import AskNote
from tui.widgets.answer import ReadingView, labelled
from tui.widgets.coding import CodebookTree, coding_lines
from tui.widgets.editor import WordsEditor
from tui.widgets.footer import KeyFooter


class CodingScreen(ReviewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "code_selection", "Code selection"),
        Binding("w", "code_whole", "Code whole answer"),
        Binding("u", "remove_last", "Remove my code"),
        Binding("t", "focus_tree", "Codebook"),
        Binding("e", "focus_text", "Text"),
        Binding("m", "memo_answer", "Memo on answer"),
        Binding("M", "memo_code", "Memo on code"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        action: "coding.apply" for action in
        ("code_selection", "code_whole", "remove_last", "memo_answer", "memo_code")}

    def __init__(self, answer_id: int):
        super().__init__()
        self.answer_id = answer_id
        self.answer: dict = {}
        self.text: views.TextView | None = None  # the version of the words being coded
        self.code: dict | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="coding-body"):
            yield CodebookTree("Codebooks", id="codebook")
            with Vertical(id="coding-right"):
                yield Static(id="coding-title")
                with VerticalScroll(id="coding-reading-scroll"):
                    yield ReadingView(id="coding-reading")
                yield WordsEditor(id="coding-text", read_only=True)
                with VerticalScroll(id="coding-lists"):
                    yield Static(id="code-memo")
                    yield Static(id="my-codes")
                    yield Static(id="other-codes")
        yield KeyFooter()

    def on_mount(self) -> None:
        try:
            self.user.require("coding.apply")
            self.answer = views.reading_view(self.store, self.answer_id, self.user)
        except CohearError as exc:
            self.failed(exc)
            self.app.pop_screen()
            return
        self.text = self.answer["texts"].get("original")
        area = self.query_one("#coding-text", TextArea)
        # One for one, so a selection's offsets are still offsets into the stored words.
        area.load_text(safe(self.text.text if self.text else "", keep_length=True))
        area.border_title = ((f"version {self.text.version} of the answer's words"
                              + (" (redacted)" if self.text.redacted else "")
                              + ": select words, then press a") if self.text else
                             "this answer has no words yet: code the whole answer (w)")
        survey_id = self.answer["survey_id"]
        books = coding.list_codebooks(self.store)
        # The survey's own codebooks first, then the general ones.
        books.sort(key=lambda b: (b["survey_id"] != survey_id, b["survey_id"] is not None,
                                  b["id"]))
        tree = self.query_one("#codebook", CodebookTree)
        tree.show([coding.get_codebook(self.store, b["id"]) for b in books])
        self.show()
        tree.focus()

    def show(self) -> None:
        reorder = self.reorder_rtl
        title = Text()
        title.append(f"Coding answer {self.answer_id}", style="bold")
        if self.answer["redacted"]:
            title.append(f"  ·  respondent {safe(self.answer['respondent'])}")
        title.append(f"  ·  {safe(self.answer['language'])}  ·  {self.answer['kind']}")
        self.query_one("#coding-title", Static).update(title)
        # In the F2 mode right-to-left words are shown for reading above the text, where
        # words are selected in their stored order.
        scroll = self.query_one("#coding-reading-scroll")
        scroll.display = bool(reorder and self.text and has_rtl(self.text.text))
        if scroll.display:
            scroll.border_title = "the words in reading order (select them below)"
            self.query_one("#coding-reading", ReadingView).show(self.text.text, reorder=True)
        self._show_memo()
        codings = coding.codings_for_answer(self.store, self.answer_id)
        mine = [c for c in codings if c["coder_id"] == self.user.id]
        others = [c for c in codings if c["coder_id"] != self.user.id]
        self.query_one("#my-codes", Static).update(Group(
            Text("Your codes", style="bold"),
            coding_lines(mine, self.text, reorder=reorder) if mine
            else Text("none yet", style="dim")))
        if not mine:
            theirs = Text("hidden until you have coded this answer", style="dim")
        elif others:
            theirs = coding_lines(others, self.text, reorder=reorder)
        else:
            theirs = Text("none", style="dim")
        self.query_one("#other-codes", Static).update(
            Group(Text("Other coders' codes", style="bold"), theirs))

    def refresh_words(self) -> None:
        if self.answer:
            self.show()

    def _show_memo(self) -> None:
        reorder = self.reorder_rtl
        parts: list = [Text("Code", style="bold")]
        if self.code is None:
            parts.append(Text("choose a code in the codebook", style="dim"))
        else:
            parts.append(safe_text(self.code["path"], style="bold"))
            if self.code["description"]:
                parts.append(words(self.code["description"], reorder=reorder))
            if self.code["memo"]:
                parts.append(labelled("memo:", self.code["memo"], reorder=reorder))
        parts.append(Text("Memos on this answer", style="bold"))
        memos = coding.answer_memos(self.store, self.user, self.answer_id) if self.answer else []
        for m in memos:
            parts.append(labelled(f"{m['author']}, {m['created_at'][:16].replace('T', ' ')}:",
                                  m["text"], reorder=reorder))
        if not memos:
            parts.append(Text("none (m adds one)", style="dim"))
        self.query_one("#code-memo", Static).update(Group(*parts))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        self.code = event.node.data
        self._show_memo()

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        self.code = event.node.data
        self._show_memo()

    # -- coding ----------------------------------------------------------------------------
    def _chosen_code(self) -> dict | None:
        if self.code is None:
            self.notify("choose a code in the codebook first (t)", severity="warning")
        return self.code

    def selection_offsets(self) -> tuple[int, int] | None:
        """The selected words as character offsets into the answer's stored text (a
        selection in a redacted view is mapped back; one touching a redacted item takes
        the whole item)."""
        area = self.query_one("#coding-text", TextArea)
        start, end = sorted(area.selection)
        first = area.document.get_index_from_location(start)
        last = area.document.get_index_from_location(end)
        if last <= first or self.text is None:
            return None
        first, last = self.text.to_stored(first), self.text.to_stored(last, end=True)
        return (first, last) if last > first else None

    def action_code_selection(self) -> None:
        code = self._chosen_code()
        if code is None:
            return
        if self.text is None:
            self.notify("this answer has no words to select: code the whole answer (w)",
                        severity="warning")
            return
        span = self.selection_offsets()
        if span is None:
            self.notify("select some words first (shift and the arrow keys)",
                        severity="warning")
            return
        if self.attempt(coding.apply_code, self.store, self.user, self.answer_id, code["id"],
                        answer_text_id=self.text.id, start=span[0], end=span[1]):
            shown = self.text.text[self.text.to_view(span[0]):self.text.to_view(span[1])]
            self.notify(safe(f"coded \"{shown}\" as {code['name']}"), timeout=3)
            self.show()

    def action_code_whole(self) -> None:
        code = self._chosen_code()
        if code is not None and self.attempt(coding.apply_code, self.store, self.user,
                                             self.answer_id, code["id"]):
            self.notify(safe(f"coded the whole answer as {code['name']}"), timeout=3)
            self.show()

    def action_remove_last(self) -> None:
        mine = [c for c in coding.codings_for_answer(self.store, self.answer_id)
                if c["coder_id"] == self.user.id]
        if not mine:
            self.notify("you have no codes on this answer", severity="warning")
            return
        last = mine[-1]
        try:
            coding.remove_coding(self.store, self.user, last["id"])
        except CohearError as exc:
            self.failed(exc)
            return
        self.notify(safe(f"removed {last['code']}"), timeout=3)
        self.show()

    # -- memos -------------------------------------------------------------------------------
    def action_memo_answer(self) -> None:
        def save(text: str | None) -> None:
            if text and self.attempt(coding.add_answer_memo, self.store, self.user,
                                     self.answer_id, text):
                self.notify("memo added to the answer", timeout=3)
                self._show_memo()

        self.app.push_screen(AskNote(f"Memo on answer {self.answer_id}",
                                     "what you noticed, for yourself and other coders"), save)

    def action_memo_code(self) -> None:
        code = self._chosen_code()
        if code is None:
            return

        def save(text: str | None) -> None:
            if text is None:
                return
            saved = self.attempt(coding.set_code_memo, self.store, self.user, code["id"], text)
            if saved:
                code["memo"] = saved["memo"]
                self.notify(safe(f"memo on {code['name']} saved (the old one is in the "
                                 "audit log)"), timeout=3)
                self._show_memo()

        self.app.push_screen(AskNote(safe(f"Memo on the code {code['path']}"),
                                     safe(code.get("memo")) or "what this code means in practice"),
                             save)

    def action_focus_tree(self) -> None:
        self.query_one("#codebook", CodebookTree).focus()

    def action_focus_text(self) -> None:
        self.query_one("#coding-text", TextArea).focus()
