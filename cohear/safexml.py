"""Reading XML that came from outside: one parser for every reader (XLIFF, REFI-QDA
codebooks and projects, the XML inside XLSX workbooks), which refuses any DTD.

A document type declaration is where entities live (XXE, "billion laughs"), and no
format cohear reads needs one. The check runs on what libxml2 decoded, so it holds
whatever the encoding (UTF-8, UTF-16, UTF-32, any declared charset): the DTD is
refused, not merely left unexpanded. The parser itself also resolves no entities,
loads no DTD and touches no network, so nothing is expanded even on the way to the
refusal.
"""

from __future__ import annotations

import io
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

    def doctype(self, *_names) -> None:
        self.dtd = True
        raise _Stop

    def start(self, tag, attrib) -> None:
        raise _Stop

    def end(self, tag) -> None:
        pass

    def data(self, data) -> None:
        pass

    def close(self) -> bool:
        return self.dtd


def declares_dtd(data: bytes) -> bool:
    """Whether `data`, read as XML in whatever encoding, declares a DTD before its first
    element. Lenient where `refuse_dtd` is strict: bytes that are not XML (an image in a
    document package) are no DTD, and a DTD followed by broken XML still counts, as the
    declaration is seen before the break. Cheap: it stops at the first element."""
    target = _Prolog()
    parser = etree.XMLParser(target=target, **_parser_options())
    chunk = 64 * 1024
    try:
        for at in range(0, len(data), chunk):
            parser.feed(data[at:at + chunk])
        parser.close()
    except _Stop:
        pass
    except etree.XMLSyntaxError:
        pass
    return target.dtd
