"""Coding one answer: pick a code in the codebook tree and apply it to the whole answer
or to the words selected in the text. Other coders' codes stay hidden until you have
coded the answer yourself, so agreement between coders stays honest.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Static, TextArea, Tree

from cohear.errors import CohearError
from surveys import coding
from surveys import service as surveys
from tui.display import words
from tui.screens.base import ReviewScreen
from tui.screens.dialogs import AskNote
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
        self.text: dict | None = None  # the answer_texts row being coded
        self.code: dict | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="coding-body"):
            yield CodebookTree("Codebooks", id="codebook")
            with Vertical(id="coding-right"):
                yield Static(id="coding-title")
                yield WordsEditor(id="coding-text", read_only=True)
                with VerticalScroll(id="coding-lists"):
                    yield Static(id="code-memo")
                    yield Static(id="my-codes")
                    yield Static(id="other-codes")
        yield KeyFooter()

    def on_mount(self) -> None:
        try:
            self.user.require("coding.apply")
            self.answer = surveys.get_answer(self.store, self.user, self.answer_id)
        except CohearError as exc:
            self.failed(exc)
            self.app.pop_screen()
            return
        self.text = self.answer["texts"].get("original")
        area = self.query_one("#coding-text", TextArea)
        area.load_text(self.text["text"] if self.text else "")
        area.border_title = (f"version {self.text['version']} of the answer's words: select "
                             "words, then press a" if self.text else
                             "this answer has no words yet: code the whole answer (w)")
        survey_id = self.store.one("SELECT survey_id FROM survey_sessions WHERE id = ?",
                                   (self.answer["session_id"],))[0]
        books = coding.list_codebooks(self.store)
        # The survey's own codebooks first, then the general ones.
        books.sort(key=lambda b: (b["survey_id"] != survey_id, b["survey_id"] is not None,
                                  b["id"]))
        tree = self.query_one("#codebook", CodebookTree)
        tree.show([coding.get_codebook(self.store, b["id"]) for b in books])
        self.show()
        tree.focus()

    def show(self) -> None:
        title = Text()
        title.append(f"Coding answer {self.answer_id}", style="bold")
        title.append(f"  ·  {self.answer['language']}  ·  {self.answer['kind']}")
        self.query_one("#coding-title", Static).update(title)
        self._show_memo()
        codings = coding.codings_for_answer(self.store, self.answer_id)
        mine = [c for c in codings if c["coder_id"] == self.user.id]
        others = [c for c in codings if c["coder_id"] != self.user.id]
        my_text = Text("Your codes\n", style="bold")
        my_text.append_text(coding_lines(mine, self.text) if mine
                            else Text("none yet", style="dim"))
        self.query_one("#my-codes", Static).update(my_text)
        other_text = Text("Other coders' codes\n", style="bold")
        if not mine:
            other_text.append("hidden until you have coded this answer", style="dim")
        elif others:
            other_text.append_text(coding_lines(others, self.text))
        else:
            other_text.append("none", style="dim")
        self.query_one("#other-codes", Static).update(other_text)

    def refresh_words(self) -> None:
        if self.answer:
            self.show()

    def _show_memo(self) -> None:
        memo = Text("Code\n", style="bold")
        if self.code is None:
            memo.append("choose a code in the codebook", style="dim")
        else:
            memo.append(self.code["path"], style="bold")
            if self.code["description"]:
                memo.append(f"\n{self.code['description']}")
            if self.code["memo"]:
                memo.append("\nmemo: ", style="italic")
                memo.append_text(words(self.code["memo"], reorder=self.reorder_rtl))
        memo.append("\nMemos on this answer\n", style="bold")
        memos = coding.answer_memos(self.store, self.user, self.answer_id) if self.answer else []
        for m in memos:
            memo.append(f"{m['author']}, {m['created_at'][:16].replace('T', ' ')}: ",
                        style="italic")
            memo.append_text(words(m["text"], reorder=self.reorder_rtl))
            memo.append("\n")
        if not memos:
            memo.append("none (m adds one)", style="dim")
        self.query_one("#code-memo", Static).update(memo)

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
        """The selected words as character offsets into the answer's text."""
        area = self.query_one("#coding-text", TextArea)
        start, end = sorted(area.selection)
        first = area.document.get_index_from_location(start)
        last = area.document.get_index_from_location(end)
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
                        answer_text_id=self.text["id"], start=span[0], end=span[1]):
            self.notify(f"coded \"{self.text['text'][span[0]:span[1]]}\" as {code['name']}",
                        timeout=3)
            self.show()

    def action_code_whole(self) -> None:
        code = self._chosen_code()
        if code is not None and self.attempt(coding.apply_code, self.store, self.user,
                                             self.answer_id, code["id"]):
            self.notify(f"coded the whole answer as {code['name']}", timeout=3)
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
        self.notify(f"removed {last['code']}", timeout=3)
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
                self.notify(f"memo on {code['name']} saved (the old one is in the audit log)",
                            timeout=3)
                self._show_memo()

        self.app.push_screen(AskNote(f"Memo on the code {code['path']}",
                                     code.get("memo") or "what this code means in practice"),
                             save)

    def action_focus_tree(self) -> None:
        self.query_one("#codebook", CodebookTree).focus()

    def action_focus_text(self) -> None:
        self.query_one("#coding-text", TextArea).focus()
