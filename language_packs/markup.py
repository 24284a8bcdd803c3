"""HTML translation: sanitise first (nh3 drops scripts, styles, event handlers and
unsafe links), then translate the text between tags and keep the tags as they were.

Text nodes are translated separately, so words split by inline tags
("wash <b>your</b> hands") are translated in pieces; keep messages' markup simple.

Before nh3 (html5ever) sees any HTML, libxml2's HTML parser (an HTML5 tokenizer, linear
in its input) streams it and counts nesting and elements, stopping at the first one over
the bounds in cohear/limits.py: html5ever builds a tree in time that grows with the
square of its depth, so 100,000 nested `<div>`s would hold a worker for half a minute.
libxml2 closes `<div/>` where html5ever nests it; such input is bounded by the element
count instead, which keeps html5ever's worst case under a second. Attributes are bounded
per element and in all as libxml2 streams them (one element with 200,000 attributes held
html5ever for 8 s), and character and entity references are counted in the text before
either parser reads it (500,000 `&amp;` took 5 s before the text limit was reached).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser

import nh3
from lxml import etree

from cohear import limits
from cohear.errors import TooLarge
from language_packs.engine import MAX_TEXT_CHARS, Translation

# Markup a health message needs; everything else is removed with its attributes.
ALLOWED_TAGS = {"a", "b", "strong", "i", "em", "u", "p", "br", "ul", "ol", "li", "h1", "h2",
                "h3", "h4", "span", "div", "blockquote", "small", "sub", "sup", "table",
                "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "*": {"lang", "dir", "title"}}


def sanitise(markup: str) -> str:
    """Remove scripts, styles, event handlers, comments and unsafe URLs."""
    return nh3.clean(markup, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     clean_content_tags={"script", "style"}, strip_comments=True,
                     url_schemes={"http", "https", "mailto", "tel"})


class _Shape:
    """A libxml2 parser target that counts depth and elements and refuses past a bound."""

    def __init__(self) -> None:
        self.depth = 0
        self.elements = 0
        self.attributes = 0

    def start(self, tag, attrib) -> None:
        self.depth += 1
        self.elements += 1
        self.attributes += len(attrib)
        if len(attrib) > limits.HTML_ATTRIBUTES_PER_ELEMENT:
            raise TooLarge(f"an element of the HTML has more than "
                           f"{limits.HTML_ATTRIBUTES_PER_ELEMENT} attributes",
                           fix="send simpler HTML (a health message needs few attributes)")
        if self.attributes > limits.HTML_ATTRIBUTES:
            raise TooLarge(f"the HTML has more than {limits.HTML_ATTRIBUTES:,} attributes",
                           fix="split it into shorter documents")
        if self.depth > limits.DOCUMENT_DEPTH:
            raise TooLarge(f"the HTML nests elements more than {limits.DOCUMENT_DEPTH} deep",
                           fix="send simpler HTML (a health message needs little nesting)")
        if self.elements > limits.HTML_ELEMENTS:
            raise TooLarge(f"the HTML has more than {limits.HTML_ELEMENTS:,} elements",
                           fix="split it into shorter documents")

    def end(self, tag) -> None:
        self.depth -= 1

    def data(self, data) -> None:
        pass

    def close(self) -> None:
        return None


# What html5ever and html.parser read as a character or entity reference (a name with
# or without its ";", a decimal or hexadecimal number).
_REFERENCE = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*)")


def check_shape(markup: str) -> None:
    """TooLarge when `markup` nests elements deeper, or holds more of them or of their
    attributes, or more character and entity references, than the bounds in
    cohear/limits.py; streamed, so it stops at the first one too many."""
    for count, _ in enumerate(_REFERENCE.finditer(markup), start=1):
        if count > limits.HTML_REFERENCES:
            raise TooLarge(f"the HTML has more than {limits.HTML_REFERENCES:,} character "
                           "or entity references (&amp;, &#...;)",
                           fix="send the text as plain characters, or split it")
    parser = etree.HTMLParser(target=_Shape(), recover=True, no_network=True, encoding="utf-8")
    data = markup.encode("utf-8", "replace")
    chunk = 64 * 1024
    for at in range(0, len(data), chunk):
        parser.feed(data[at:at + chunk])
    parser.close()


class _Pieces(HTMLParser):
    """Splits sanitised HTML into tags (kept verbatim) and text nodes (to translate)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[tuple[str, str]] = []  # ("tag", raw) or ("text", unescaped)

    def handle_starttag(self, tag, attrs):
        self.pieces.append(("tag", self.get_starttag_text() or f"<{tag}>"))

    def handle_startendtag(self, tag, attrs):
        self.pieces.append(("tag", self.get_starttag_text() or f"<{tag}/>"))

    def handle_endtag(self, tag):
        self.pieces.append(("tag", f"</{tag}>"))

    def handle_data(self, data):
        self.pieces.append(("text", data))


def html_pieces(markup: str) -> list[tuple[str, str]]:
    """Sanitised HTML as ("tag", raw) and ("text", unescaped) pieces, in order; TooLarge
    for HTML nested or sized past the bounds (`check_shape`)."""
    check_shape(markup)
    parser = _Pieces()
    parser.feed(sanitise(markup))
    parser.close()
    return parser.pieces


def join_pieces(pieces: list[tuple[str, str]], replaced: dict[int, str]) -> str:
    """The HTML again, with the text pieces at the indexes of `replaced` swapped for
    their new (plain) text, keeping each piece's surrounding whitespace."""
    out = [value if kind == "tag" else html.escape(value, quote=False) for kind, value in pieces]
    for i, text in replaced.items():
        value = pieces[i][1]
        lead = value[:len(value) - len(value.lstrip())]
        trail = value[len(value.rstrip()):]
        out[i] = lead + html.escape(text, quote=False) + trail
    return "".join(out)


def translate_html(markup: str, translate: Callable[[list[str]], list[Translation]],
                   source: str, target: str) -> Translation:
    """Sanitise `markup` and translate its text nodes in one batch with `translate`."""
    if len(markup) > MAX_TEXT_CHARS:
        raise TooLarge(f"the HTML is {len(markup):,} characters long; the limit is "
                       f"{MAX_TEXT_CHARS:,} characters per text",
                       fix="split it into shorter messages")
    pieces = html_pieces(markup)
    texts = [(i, value) for i, (kind, value) in enumerate(pieces)
             if kind == "text" and value.strip()]
    done = translate([value.strip() for _, value in texts]) if texts else []
    first = done[0] if done else None
    return Translation(join_pieces(pieces, {i: r.text for (i, _), r in zip(texts, done)}),
                       first.source if first else source, first.target if first else target,
                       first.pivoted if first else False, first.engine if first else "none")
