"""Reading XML that came from outside: one parser for every reader (XLIFF, REFI-QDA
codebooks and projects, the XML inside XLSX workbooks), which refuses any DTD.

A document type declaration is where entities live (XXE, "billion laughs"), and no
format cohear reads needs one. The check runs on what libxml2 decoded, so it holds
whatever the encoding (UTF-8, UTF-16, UTF-32, any declared charset): the DTD is
refused, not merely left unexpanded. The parser itself also resolves no entities,
loads no DTD and touches no network, so nothing is expanded even on the way to the
refusal. What libxml2 cannot decode (UTF-32 with a BOM) is refused as not well-formed.

`xml_prolog` checks the parts of a document package (DOCX, ODT) that cohear may only
copy: it decodes UTF-16 and UTF-32 itself before libxml2 looks for a DTD, and tells a
part that is not XML (an image) from XML it cannot read, which the caller refuses.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import IO

from lxml import etree

from cohear.errors import BadInput


def _parser_options() -> dict:
    return {"resolve_entities": False, "no_network": True, "load_dtd": False,
            "dtd_validation": False, "huge_tree": False}


def _refuse(docinfo, what: str, fix: str) -> None:
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None \
            or docinfo.system_url or docinfo.public_id:
        raise BadInput(f"the {what} declares a DTD (<!DOCTYPE ...>), which cohear never reads",
                       fix=fix)


def parse(data: bytes, *, what: str, fix: str) -> etree._Element:
    """The root element of an XML document; BadInput (400) if it is not well-formed XML
    or declares a DTD."""
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(**_parser_options()))
    except etree.XMLSyntaxError as exc:
        raise BadInput(f"the {what} is not well-formed XML (line {exc.lineno})",
                       fix=fix) from None
    _refuse(root.getroottree().docinfo, what, fix)
    return root


def refuse_dtd(source: bytes | IO[bytes], *, what: str, fix: str) -> None:
    """Check a document's prolog only (it stops at the first element, so a large
    document costs little): BadInput if it declares a DTD or is not XML. For readers
    that parse the bytes themselves afterwards (translate-toolkit, openpyxl)."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        for _event, element in etree.iterparse(stream, events=("start",), **_parser_options()):
            _refuse(element.getroottree().docinfo, what, fix)
            return
    except etree.XMLSyntaxError as exc:
        raise BadInput(f"the {what} is not well-formed XML (line {exc.lineno})",
                       fix=fix) from None
    raise BadInput(f"the {what} holds no XML element", fix=fix)


def refuse_dtd_in_zip(archive: zipfile.ZipFile, *, what: str, fix: str) -> None:
    """`refuse_dtd` for every XML member of a zip (an XLSX workbook, a .qdpx project)."""
    for info in archive.infolist():
        if info.filename.lower().endswith((".xml", ".rels", ".qde", ".vml")):
            with archive.open(info) as member:
                refuse_dtd(member, what=f"{what} (its part {info.filename!r})", fix=fix)


class _Stop(Exception):
    """Ends a prolog scan at the first element or document type declaration."""


class _Prolog:
    """A libxml2 parser target that notes a document type declaration and stops."""

    def __init__(self) -> None:
        self.dtd = False
        self.started = False

    def doctype(self, *_names) -> None:
        self.dtd = True
        raise _Stop

    def start(self, tag, attrib) -> None:
        self.started = True
        raise _Stop

    def end(self, tag) -> None:
        pass

    def data(self, data) -> None:
        pass

    def close(self) -> bool:
        return self.dtd


# Byte order marks, longest first (UTF-32 LE's begins with UTF-16 LE's).
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"), (b"\xef\xbb\xbf", "utf-8"))
_DECLARATION = re.compile(r"<\?xml\s[^>]*\?>")
_XML_SPACE = " \t\r\n"


def _wide_encoding(data: bytes) -> tuple[str, int] | None:
    """The UTF-16 or UTF-32 a document is in, and its BOM's length, from its first bytes
    (a BOM, or where the zero bytes of its first character fall: XML 1.0 appendix F);
    None for a byte encoding (UTF-8, or what its declaration names)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return (encoding, len(bom)) if encoding != "utf-8" else None
    head = data[:4]
    if len(head) == 4 and head[:3] == b"\x00\x00\x00" and head[3]:
        return "utf-32-be", 0
    if len(head) == 4 and head[1:] == b"\x00\x00\x00" and head[0]:
        return "utf-32-le", 0
    if len(head) >= 2 and head[0] == 0 and head[1]:
        return "utf-16-be", 0
    if len(head) >= 2 and head[1] == 0 and head[0]:
        return "utf-16-le", 0
    return None


def as_utf8(data: bytes) -> bytes:
    """XML in UTF-16 or UTF-32 (BOM or none, declared or not) as UTF-8 without its
    declaration, for libxml2 to read; any other bytes as they are (libxml2 reads UTF-8
    and the byte encodings a declaration names). UnicodeDecodeError on a bad code unit."""
    wide = _wide_encoding(data)
    if wide is None:
        return data
    encoding, bom = wide
    text = data[bom:].decode(encoding)
    declaration = _DECLARATION.match(text)
    return (text[declaration.end():] if declaration else text).encode("utf-8")


def xml_prolog(data: bytes) -> str:
    """What `data`'s prolog says, read as XML in whatever encoding: "not xml" (its first
    character, after any BOM and white space, is not "<": an image in a document
    package), "dtd" (a document type declaration before the first element, even if
    broken XML follows), "xml" (an element first, no DTD) or "unreadable" (it looks
    like XML but cannot be read as far as its first element: a bad byte in its encoding,
    an encoding nobody knows, broken markup). Cheap: it stops at the first element.

    UTF-16 and UTF-32 (with a BOM or without, declared or not) are decoded here and
    handed to libxml2 as UTF-8 without their declaration, since libxml2 reads UTF-32
    with a BOM as broken and UTF-16 without one as not XML, and a DTD it cannot see is
    one it cannot refuse. "unreadable" is for the caller to refuse: what cohear cannot
    read it cannot vouch for."""
    wide = _wide_encoding(data)
    if wide is not None:
        encoding, bom = wide
        text = data[bom:].decode(encoding, errors="replace")
        if not text.lstrip(_XML_SPACE).startswith("<"):
            return "not xml"
        try:
            data = as_utf8(data)
        except UnicodeDecodeError:
            return "unreadable"
    elif not data.removeprefix(b"\xef\xbb\xbf").lstrip(_XML_SPACE.encode()).startswith(b"<"):
        return "not xml"
    target = _Prolog()
    parser = etree.XMLParser(target=target, **_parser_options())
    chunk = 64 * 1024
    try:
        for at in range(0, len(data), chunk):
            parser.feed(data[at:at + chunk])
        parser.close()
    except _Stop:
        pass
    except (etree.XMLSyntaxError, LookupError, ValueError):
        # An unknown declared encoding is a LookupError from lxml, a broken one a
        # ValueError; both before any element is seen.
        return "dtd" if target.dtd else "unreadable"
    if target.dtd:
        return "dtd"
    return "xml" if target.started else "unreadable"

