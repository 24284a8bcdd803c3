"""Translating whole files (LibreTranslate's `/translate_file`): plain text, HTML, Word
(.docx) and OpenDocument text (.odt), read into units of text and written back in the
same format with each unit replaced by its translation.

- Plain text: each non-blank line is a unit (blank lines and indentation are kept).
- HTML: sanitised as every HTML text cohear translates (`markup.sanitise`), then each
  text node is a unit and the tags stay as they were.
- DOCX and ODT: each paragraph and heading (body, tables, headers, footers, notes) is a
  unit. Its translation goes into the paragraph's first run of text and the other runs
  are emptied: paragraph and character styles, tables, images and everything that is not
  text are kept, but a paragraph's inline formatting (one bold word) is not carried
  over, as a machine translation reorders words.

Files are untrusted: a DOCX or ODT is a zip read in memory with bounds on its size, its
number of members, each member's unpacked size (never more than it declares) and its
compression ratio. A document with a DTD in any part (in whatever encoding, UTF-16 and
UTF-32 with or without a BOM included, whether cohear reads that part or only copies it
into the translated file) is refused, and so is a part that looks like XML but cannot be
read as far as its first element (what cohear cannot read it cannot vouch for). The parts
read are parsed by lxml with entities left unresolved, no network and no DTD, and their
nesting and elements are counted while libxml2 streams them (bounds in cohear/limits.py),
so a hostile part is refused at its first element too many.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from lxml import etree

from cohear import limits
from cohear.errors import BadInput, TooLarge
from cohear.safexml import as_utf8, xml_prolog

MAX_FILE_BYTES = 10 * 1024 * 1024       # an uploaded file
MAX_UNPACKED_BYTES = 50 * 1024 * 1024   # all members of a DOCX/ODT together, unpacked
MAX_MEMBERS = 2000
MAX_RATIO = 200                         # unpacked / packed, per member (zip bombs are 1000+)
MAX_FILE_CHARS = 100_000                # words to translate in one file
FORMATS = {".txt": "text", ".html": "html", ".htm": "html", ".docx": "docx", ".odt": "odt"}
SUPPORTED_EXTENSIONS = [".txt", ".html", ".htm", ".docx", ".odt"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# Word parts that hold a reader's words.
_DOCX_PART = re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")
# ODT elements whose words belong to paragraphs of their own (notes, frames, comments).
_ODT_OWN_PARAGRAPHS = {"{urn:oasis:names:tc:opendocument:xmlns:text:1.0}note",
                       "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}frame",
                       "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}annotation"}
_ODT_SPACE = {f"{_TEXT}s": " ", f"{_TEXT}tab": "\t", f"{_TEXT}line-break": "\n"}


def kind_of(filename: str) -> str | None:
    """text, html, docx or odt from a file name's extension; None when not supported."""
    return FORMATS.get(PurePath(filename or "").suffix.lower())


def safe_name(filename: str) -> str:
    """A client's file name reduced to a harmless base name (never a path)."""
    name = PurePath((filename or "").replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "document"
    stem, dot, ext = name.rpartition(".")
    return (stem[:80] + dot + ext[:10]) if dot else name[:90]


class _Slot:
    """Where a piece of a unit's text lives: an element's text or tail."""

    __slots__ = ("element", "attr")

    def __init__(self, element, attr: str):
        self.element, self.attr = element, attr

    def get(self) -> str:
        return getattr(self.element, self.attr) or ""

    def set(self, value: str) -> None:
        setattr(self.element, self.attr, value)


@dataclass
class Document:
    """A file read into units of text, and how to write it back with translations."""

    units: list[str]
    _write: Callable[[list[str]], bytes]

    def write(self, translations: list[str]) -> bytes:
        if len(translations) != len(self.units):
            raise ValueError("one translation per unit")
        return self._write(translations)

    @property
    def chars(self) -> int:
        return sum(len(u) for u in self.units)


def open_document(data: bytes, filename: str) -> Document:
    """Read `data` as the format its name says; BadInput for a file that is not that."""
    kind = kind_of(filename)
    if kind is None:
        raise BadInput("Invalid request: file format not supported",
                       fix="send " + ", ".join(SUPPORTED_EXTENSIONS))
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(f"the file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}",
                       fix="split the document")
    if not data:
        raise BadInput("Invalid request: empty file", fix="send a file with words in it")
    document = {"text": _text, "html": _html, "docx": _docx, "odt": _odt}[kind](data)
    if document.chars > MAX_FILE_CHARS:
        raise TooLarge(f"Invalid request: request ({document.chars}) exceeds text limit "
                       f"({MAX_FILE_CHARS})", fix="split the document")
    return document


# -- plain text and HTML -------------------------------------------------------------
def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput("the file is not UTF-8 text", fix="save it as UTF-8 and send it again") \
            from None


def _text(data: bytes) -> Document:
    lines = _decoded(data).replace("\r\n", "\n").split("\n")
    spots = [i for i, line in enumerate(lines) if line.strip()]

    def write(translations: list[str]) -> bytes:
        out = list(lines)
        for i, text in zip(spots, translations):
            line = lines[i]
            lead, trail = line[:len(line) - len(line.lstrip())], line[len(line.rstrip()):]
            out[i] = lead + text.strip() + trail
        return "\n".join(out).encode("utf-8")

    return Document([lines[i].strip() for i in spots], write)


def _html(data: bytes) -> Document:
    from language_packs.markup import html_pieces, join_pieces
    pieces = html_pieces(_decoded(data))
    spots = [i for i, (kind, value) in enumerate(pieces) if kind == "text" and value.strip()]

    def write(translations: list[str]) -> bytes:
        return join_pieces(pieces, dict(zip(spots, translations))).encode("utf-8")

    return Document([pieces[i][1].strip() for i in spots], write)


# -- DOCX and ODT: zip members and XML -----------------------------------------------
def _members(data: bytes, what: str) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    """Every member of a zip, read in memory within the bounds (see the module)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BadInput(f"the file is not a {what} document (not a zip package)",
                       fix=f"send the {what} file as the word processor saved it") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise TooLarge(f"the {what} package has {len(infos):,} parts; the limit is "
                       f"{MAX_MEMBERS:,}", fix="send an ordinary document")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_UNPACKED_BYTES:
        raise TooLarge(f"the {what} unpacks to {declared:,} bytes; the limit is "
                       f"{MAX_UNPACKED_BYTES:,}", fix="split the document")
    contents: dict[str, bytes] = {}
    for info in infos:
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1_000_000:
            raise TooLarge(f"a part of the {what} ({info.filename[:60]!r}) is compressed "
                           f"{info.file_size // max(info.compress_size, 1)} to 1, beyond the "
                           f"limit of {MAX_RATIO} to 1", fix="send an ordinary document")
        try:
            with archive.open(info) as member:
                body = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError):
            raise BadInput(f"the {what} package is damaged ({info.filename[:60]!r} cannot be "
                           "read)", fix="save the document again and send it") from None
        if len(body) > info.file_size:
            raise BadInput(f"a part of the {what} holds more than it declares",
                           fix="send the document as the word processor saved it")
        prolog = xml_prolog(body)
        if prolog == "dtd":
            raise BadInput(f"a part of the {what} ({info.filename[:60]!r}) declares a DTD, "
                           "which word processors never write",
                           fix="send the document as the word processor saved it")
        if prolog == "unreadable":
            # Copied into the translated file as it is, so what cohear cannot read it
            # cannot vouch for: refused, not taken for safe.
            raise BadInput(f"a part of the {what} ({info.filename[:60]!r}) looks like XML "
                           "but cannot be read (its encoding or its first lines are broken)",
                           fix="send the document as the word processor saved it")
        contents[info.filename] = body
    return infos, contents


class _Elements:
    """Elements counted across the XML parts read of one document."""

    def __init__(self) -> None:
        self.count = 0


def parse_xml(data: bytes, what: str, counted: _Elements | None = None):
    """An XML part parsed safely: no entities resolved, no network, no DTD (refused);
    TooLarge at the first element nested too deep or one too many (`counted` carries
    the count across a document's parts)."""
    counted = counted if counted is not None else _Elements()
    try:
        data = as_utf8(data)  # libxml2 alone reads UTF-32 with a BOM as broken
    except UnicodeDecodeError:
        raise BadInput(f"the {what} holds XML that cannot be read",
                       fix="save the document again and send it") from None
    events = etree.iterparse(io.BytesIO(data), events=("start", "end"),
                             resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_blank_text=False)
    depth = 0
    try:
        for event, _element in events:
            if event == "end":
                depth -= 1
                continue
            depth += 1
            counted.count += 1
            if depth > limits.DOCUMENT_DEPTH:
                raise TooLarge(f"the {what} nests elements more than {limits.DOCUMENT_DEPTH} "
                               "deep", fix="send the document as the word processor saved it")
            if counted.count > limits.DOCUMENT_XML_ELEMENTS:
                raise TooLarge(f"the {what} holds more than {limits.DOCUMENT_XML_ELEMENTS:,} "
                               "elements", fix="split the document")
    except etree.XMLSyntaxError:
        raise BadInput(f"the {what} holds XML that cannot be read",
                       fix="save the document again and send it") from None
    root = events.root
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise BadInput(f"the {what} declares a DTD, which word processors never write",
                       fix="send the document as the word processor saved it")
    return root


def _xml_bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _package(infos: list[zipfile.ZipInfo], contents: dict[str, bytes]) -> bytes:
    """The zip again, member for member in the same order and compression (an ODT's
    uncompressed `mimetype` stays first)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in infos:
            archive.writestr(info, contents[info.filename], compress_type=info.compress_type)
    return out.getvalue()


def _zip_document(infos: list[zipfile.ZipInfo], contents: dict[str, bytes], what: str,
                  parts: list[str], paragraphs) -> Document:
    """Units from the named XML parts; `paragraphs(root)` yields each unit's slots."""
    counted = _Elements()
    roots = {name: parse_xml(contents[name], what, counted) for name in parts}
    units: list[str] = []
    places: list[list[_Slot]] = []
    for name in parts:
        for slots in paragraphs(roots[name]):
            text = "".join(s.get() for s in slots)
            if text.strip():
                units.append(text.strip())
                places.append(slots)

    def write(translations: list[str]) -> bytes:
        for slots, text in zip(places, translations):
            first = next(s for s in slots if s.get())
            for slot in slots:
                slot.set(text if slot is first else "")
            if first.element.tag == f"{_W}t":
                first.element.set(_XML_SPACE, "preserve")
        updated = dict(contents)
        for name in parts:
            updated[name] = _xml_bytes(roots[name])
        return _package(infos, updated)

    return Document(units, write)


def _docx(data: bytes) -> Document:
    infos, contents = _members(data, "DOCX")
    if "word/document.xml" not in contents:
        raise BadInput("the file is not a DOCX document (it has no word/document.xml)",
                       fix="send a Word .docx file")
    parts = sorted(name for name in contents if _DOCX_PART.match(name))

    def paragraphs(root):
        for p in root.iter(f"{_W}p"):
            # The runs of this paragraph, not of paragraphs nested in it (text boxes).
            yield [_Slot(t, "text") for t in p.iter(f"{_W}t")
                   if next(t.iterancestors(f"{_W}p")) is p]

    return _zip_document(infos, contents, "DOCX", parts, paragraphs)


def _odt(data: bytes) -> Document:
    infos, contents = _members(data, "ODT")
    if contents.get("mimetype", b"").strip() != _ODT_MIMETYPE or "content.xml" not in contents:
        raise BadInput("the file is not an OpenDocument text (.odt)",
                       fix="send a Writer .odt file")
    parts = [name for name in ("content.xml", "styles.xml") if name in contents]

    def own(element, slots: list[_Slot]) -> None:
        for child in element:
            if not isinstance(child.tag, str):  # comments and processing instructions
                continue
            if child.tag in _ODT_OWN_PARAGRAPHS or child.tag in (f"{_TEXT}p", f"{_TEXT}h"):
                slots.append(_Slot(child, "tail"))
                continue
            if child.tag not in _ODT_SPACE:
                slots.append(_Slot(child, "text"))
                own(child, slots)
            slots.append(_Slot(child, "tail"))

    def paragraphs(root):
        for p in root.iter(f"{_TEXT}p", f"{_TEXT}h"):
            slots = [_Slot(p, "text")]
            own(p, slots)
            yield slots

    return _zip_document(infos, contents, "ODT", parts, paragraphs)
