"""Widgets of the coding screen: the codebook as a tree, and the list of codings."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Tree

from tui.display import safe
from tui.widgets.answer import labelled


class CodebookTree(Tree):
    """Codebooks and their codes, parents above children; each leaf's data is the code."""

    def show(self, codebooks: list[dict]) -> None:
        self.clear()
        self.root.expand()
        for book in codebooks:
            node = self.root.add(Text(safe(book["name"]), style="bold"), expand=True)
            placed = {None: node}
            parents = {code["parent_id"] for code in book["codes"]}
            for code in book["codes"]:
                parent = placed.get(code["parent_id"], node)
                label = Text("■ ", style=code["colour"]).append(safe(code["name"]), style="")
                if code["id"] in parents:
                    placed[code["id"]] = parent.add(label, data=code, expand=True)
                else:
                    parent.add_leaf(label, data=code)
            if not book["codes"]:
                node.add_leaf(Text("no codes yet", style="dim"))


def coding_lines(codings: list[dict], text, *, reorder: bool) -> Group:
    """One entry per coding: the code, the coder, and the words of the span it covers as
    the reader may see them (`text` is the surveys.views.TextView being coded: a
    researcher's is redacted, and spans are mapped into it)."""
    out: list = []
    for c in codings:
        head = Text()
        head.append(safe(c["code"]), style="bold")
        head.append(f"  by {safe(c['coder'])}  ")
        if c["answer_text_id"] is None:
            head.append("whole answer", style="dim")
            out.append(head)
        elif text is not None and c["answer_text_id"] == text.id:
            start, end = text.to_view(c["start_offset"]), text.to_view(c["end_offset"])
            if end <= start:                  # wholly inside a redacted item
                end = start + next((s[4] for s in text.spans if s[3] == start), 0)
            head.append(f"({c['start_offset']}-{c['end_offset']})", style="dim")
            out.append(head)
            out.append(labelled("  ", f"\"{text.text[start:end]}\"", reorder=reorder))
        else:
            head.append(f"characters {c['start_offset']}-{c['end_offset']} of an earlier "
                        "version", style="dim")
            out.append(head)
    return Group(*out)
