"""A DTD in any part of a DOCX or ODT is refused whatever the part's encoding: UTF-32
with a BOM (which libxml2 alone reads as broken XML, once taken for "no DTD"), UTF-32 and
UTF-16 without one, declared or not; and a part that looks like XML but cannot be read
as far as its first element is refused too (fail closed), since it would be copied into
the translated file unread. Parts that are not XML at all (images) pass."""

from __future__ import annotations

import io
import zipfile

import pytest

from cohear.errors import BadInput
from cohear.safexml import xml_prolog
from language_packs import documents
from tests.test_libretranslate import docx_bytes, fetch, odt_bytes, send_file, with_parts
from tests.test_libretranslate import lt as lt  # noqa: F401 - the shared fixture

LAUGHS = ('<!DOCTYPE x [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
OFFICE = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
ENCODINGS = ["utf-32", "utf-32-le", "utf-32-be", "utf-16", "utf-16-le", "utf-16-be", "utf-8"]
# Each member kind the attack tried: read for words, or only copied into the result.
PARTS = {
    "docx": {
        "word/document.xml": f'<w:document {W}><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r>'
                             '</w:p></w:body></w:document>',
        "word/styles.xml": f"<w:styles {W}>&lol3;</w:styles>",
        "word/settings.xml": f"<w:settings {W}>&lol3;</w:settings>",
        "word/_rels/document.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats'
                                        '.org/package/2006/relationships">&lol3;</Relationships>',
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               'content-types">&lol3;</Types>',
        "customXml/item1.xml": "<x>&lol3;</x>",
        "word/media/extra.bin": "<x>&lol3;</x>",
    },
    "odt": {
        "content.xml": f"<office:document-content {OFFICE}>&lol3;</office:document-content>",
        "styles.xml": f"<office:document-styles {OFFICE}>&lol3;</office:document-styles>",
        "settings.xml": "<x>&lol3;</x>",
        "meta.xml": f"<office:document-meta {OFFICE}>&lol3;</office:document-meta>",
        "META-INF/manifest.xml": '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                                 'opendocument:xmlns:manifest:1.0">&lol3;</manifest:manifest>',
        "Pictures/a.svg": "<svg>&lol3;</svg>",
    },
}
CASES = [(kind, part, encoding, declared) for kind, parts in PARTS.items() for part in parts
         for encoding in ENCODINGS for declared in (True, False)]


def package(kind: str, parts: dict[str, bytes]) -> bytes:
    return with_parts(docx_bytes() if kind == "docx" else odt_bytes(), parts)


def encoded(xml: str, encoding: str, declared: bool) -> bytes:
    declaration = f'<?xml version="1.0" encoding="{encoding.upper()}"?>' if declared else ""
    return (declaration + xml).encode(encoding)


@pytest.mark.parametrize("kind, part, encoding, declared", CASES,
                         ids=[f"{k}-{p}-{e}-{'declared' if d else 'undeclared'}"
                              for k, p, e, d in CASES])
def test_a_dtd_in_any_part_in_any_encoding_is_refused(kind, part, encoding, declared):
    data = package(kind, {part: encoded(LAUGHS + PARTS[kind][part], encoding, declared)})
    with pytest.raises(BadInput, match="declares a DTD"):
        documents.open_document(data, f"flu.{kind}")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_part_without_a_dtd_in_any_encoding_is_read(encoding):
    styles = f"<office:document-styles {OFFICE}/>"
    data = package("odt", {"styles.xml": encoded(styles, encoding, declared=True)})
    assert "Flu vaccine" in documents.open_document(data, "flu.odt").units


@pytest.mark.parametrize("body, why", [
    (b"\xff\xfe\x00\x00<\x00\x00\x00\x00\xd8\x00\x00", "a UTF-32 code unit that is no character"),
    (b"\xff\xfe<\x00\x00\xd8", "a lone UTF-16 surrogate"),
    (b'<?xml version="1.0" encoding="X-NO-SUCH"?><x/>', "an encoding nobody knows"),
    (b'<?xml version="1.0" encoding="UTF-32"?><x/>', "UTF-32 declared, UTF-8 written"),
    (b"<?xml version='1.0'?><!-- never closed", "broken before its first element"),
], ids=["utf-32-bad-unit", "utf-16-lone-surrogate", "unknown-encoding", "wrong-encoding",
        "broken"])
def test_a_part_that_cannot_be_read_is_refused_not_taken_for_safe(body, why):
    assert xml_prolog(body) == "unreadable", why
    data = package("odt", {"settings.xml": body})
    with pytest.raises(BadInput, match="cannot be read"):
        documents.open_document(data, "flu.odt")


@pytest.mark.parametrize("body", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"",
    b"application/vnd.oasis.opendocument.text",
], ids=["png", "jpeg", "empty", "mimetype"])
def test_parts_that_are_not_xml_pass(body):
    assert xml_prolog(body) == "not xml"
    data = package("odt", {"Pictures/image.bin": body})
    assert "Flu vaccine" in documents.open_document(data, "flu.odt").units


def test_the_attacks_odt_is_refused_over_http_and_nothing_is_kept(lt, store):  # noqa: F811
    """/translate_file with settings.xml in UTF-32 holding a billion-laughs DTD: a 400,
    no translated file written (it once came back with the DTD copied in)."""
    client, tokens = lt
    settings = encoded(LAUGHS + "<x>&lol3;</x>", "utf-32", declared=True)
    data = package("odt", {"settings.xml": settings})
    r = send_file(client, tokens["communicator"], "flu.odt", data)
    assert r.status_code == 400 and "declares a DTD" in r.json()["error"], r.text
    folder = store.settings.data_dir / "translated-files"
    assert not folder.exists() or list(folder.iterdir()) == []
    # The same document without the DTD is translated, its settings copied as they were.
    plain = package("odt", {"settings.xml": encoded("<x>plain</x>", "utf-32", declared=True)})
    out = fetch(client, send_file(client, tokens["communicator"], "flu.odt", plain))
    assert zipfile.ZipFile(io.BytesIO(out)).read("settings.xml") == \
        encoded("<x>plain</x>", "utf-32", declared=True)
