"""Widgets of the coding screen: the codebook as a tree, and the list of codings."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree


class CodebookTree(Tree):
    """Codebooks and their codes, parents above children; each leaf's data is the code."""

    def show(self, codebooks: list[dict]) -> None:
        self.clear()
        self.root.expand()
        for book in codebooks:
            node = self.root.add(Text(book["name"], style="bold"), expand=True)
            placed = {None: node}
            parents = {code["parent_id"] for code in book["codes"]}
            for code in book["codes"]:
                parent = placed.get(code["parent_id"], node)
                label = Text("■ ", style=code["colour"]).append(code["name"], style="")
                if code["id"] in parents:
                    placed[code["id"]] = parent.add(label, data=code, expand=True)
                else:
                    parent.add_leaf(label, data=code)
            if not book["codes"]:
                node.add_leaf(Text("no codes yet", style="dim"))


def coding_lines(codings: list[dict], text: dict | None) -> Text:
    """One line per coding: the code, and the words of the span it covers."""
    out = Text()
    for i, c in enumerate(codings):
        if i:
            out.append("\n")
        out.append(c["code"], style="bold")
        out.append(f"  by {c['coder']}  ")
        if c["answer_text_id"] is None:
            out.append("whole answer", style="dim")
        elif text is not None and c["answer_text_id"] == text["id"]:
            out.append(f"\"{text['text'][c['start_offset']:c['end_offset']]}\"")
            out.append(f"  ({c['start_offset']}-{c['end_offset']})", style="dim")
        else:
            out.append(f"characters {c['start_offset']}-{c['end_offset']} of an earlier version",
                       style="dim")
    return out
