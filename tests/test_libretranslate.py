"""The LibreTranslate-compatible routes against real clients over real HTTP: the
official `libretranslatepy` client and argostranslate's, httpx for the routes those
clients do not wrap (`/translate_file`, `/suggest`), with the tiny copy-model packs the
tests build (each "translates" a text into itself, so every answer is predictable).
Shapes and status codes are LibreTranslate's (its app.py, with API keys required)."""

from __future__ import annotations

import io
import json
import urllib.error
import zipfile

import pytest
from libretranslatepy import LibreTranslateAPI

from cohear import limits
from comms import service as comms

# LibreTranslate's /frontend/settings keys, exactly.
FRONTEND_KEYS = {"charLimit", "frontendTimeout", "apiKeys", "keyRequired", "suggestions",
                 "filesTranslation", "supportedFilesFormat", "language"}


@pytest.fixture
def lt(live_server, people, copy_packs):
    """An anonymous httpx client on the live server, plus tokens by role."""
    tokens = {role: token for role, (_, token) in people.items()}
    with live_server.client() as client:
        yield client, tokens


def official(live_server, key: str | None) -> LibreTranslateAPI:
    return LibreTranslateAPI(live_server.url, api_key=key)


def refused(call) -> tuple[int, dict]:
    """(status, body) of a call the official client makes and the server refuses."""
    with pytest.raises(urllib.error.HTTPError) as failed:
        call()
    return failed.value.code, json.loads(failed.value.read())


# -- the official client ---------------------------------------------------------------
def test_the_official_client_translates_detects_and_lists(live_server, people, copy_packs):
    client = official(live_server, people["communicator"][1])
    assert client.translate("Book your flu vaccine.", "en", "ur") == "Book your flu vaccine."
    assert client.translate("Wash your hands.", "en", "zh-Hant") == "Wash your hands."
    detected = client.detect("ਤੁਹਾਡਾ ਧੰਨਵਾਦ, ਹੱਥ ਧੋਵੋ")
    assert detected[0]["language"] == "pa-Guru"
    assert all(set(d) == {"confidence", "language"} for d in detected)
    # Every installed language, each with what it reaches (directly or through English).
    assert client.languages() == [
        {"code": "en", "name": "English", "targets": ["ur", "bn", "pl", "zh-Hant"]},
        {"code": "ur", "name": "Urdu", "targets": ["en", "bn", "pl", "zh-Hant"]},
        {"code": "bn", "name": "Bengali", "targets": []},
        {"code": "pl", "name": "Polish", "targets": []},
        {"code": "zh-Hant", "name": "Chinese (Traditional)", "targets": []},
    ]
    # Anyone may list languages, as from LibreTranslate itself.
    assert official(live_server, None).languages() == client.languages()


@pytest.mark.parametrize("role, key, status, words", [
    ("anonymous", None, 400, "Please contact the server operator to get an API key"),
    ("wrong", "coh_nope_nope", 403, "Invalid API key"),
    ("collector", None, 403, "admin, communicator or reviewer"),
])
def test_keys_are_refused_as_libretranslate_refuses_them(live_server, people, copy_packs,
                                                        role, key, status, words):
    key = people[role][1] if role in people else key
    code, body = refused(lambda: official(live_server, key).translate("Hello.", "en", "ur"))
    assert (code, list(body)) == (status, ["error"]) and words in body["error"]


def test_revoked_and_expired_keys_are_invalid_keys(live_server, people, copy_packs, store):
    from cohear.auth import revoke_token
    token = people["communicator"][1]
    revoke_token(store, token.split("_")[1])
    code, body = refused(lambda: official(live_server, token).translate("Hi.", "en", "ur"))
    assert code == 403 and body["error"].startswith("Invalid API key") and "revoked" in body["error"]


@pytest.mark.parametrize("body, status, words", [
    ({"source": "en", "target": "ur"}, 400, "Invalid request: missing q parameter"),
    ({"q": "Hello.", "target": "ur"}, 400, "Invalid request: missing source parameter"),
    ({"q": "Hello.", "source": "en"}, 400, "Invalid request: missing target parameter"),
    ({"q": "Hello.", "source": "en", "target": "xx"}, 400, "xx is not supported"),
    ({"q": "Hello.", "source": "en", "target": "ps"}, 400,
     "Pashto (ps) is not available as a target language from English (en)"),
    ({"q": "Hello.", "source": "en", "target": "ur", "format": "pdf"}, 400,
     "pdf format is not supported"),
    ({"q": "Hello.", "source": "en", "target": "ur", "alternatives": "many"}, 400,
     "alternatives parameter is not a number"),
    ({"q": "a" * 5001, "source": "en", "target": "ur"}, 400,
     "Invalid request: request (5001) exceeds text limit (5000)"),
    ({"q": ["a"] * (limits.TEXTS_PER_TRANSLATION + 1), "source": "en", "target": "ur"}, 400,
     f"Invalid request: request ({limits.TEXTS_PER_TRANSLATION + 1}) exceeds text limit "
     f"({limits.TEXTS_PER_TRANSLATION})"),
])
def test_bad_requests_are_libretranslate_s(lt, body, status, words):
    client, tokens = lt
    r = client.post("/translate", json=body | {"api_key": tokens["communicator"]})
    assert r.status_code == status and list(r.json()) == ["error"]
    assert words in r.json()["error"]


def test_translate_shapes(lt):
    client, tokens = lt
    key = {"api_key": tokens["reviewer"]}
    q = ["Wash your hands.", "Call 111. It is free."]
    r = client.post("/translate", json={"q": q, "source": "en", "target": "pl"} | key)
    assert r.json() == {"translatedText": q}
    r = client.post("/translate", data={"q": ["One.", "Two."], "source": "en", "target": "ur"},
                    headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert r.json() == {"translatedText": ["One.", "Two."]}
    r = client.post("/translate", json={"q": "آپ کا بہت شکریہ، ہاتھ دھوئیں۔", "source": "auto",
                                        "target": "en"} | key)
    assert set(r.json()) == {"translatedText", "detectedLanguage"}
    assert r.json()["detectedLanguage"]["language"] == "ur"
    assert 0 < r.json()["detectedLanguage"]["confidence"] <= 100
    r = client.post("/translate", json={"q": "Hello.", "source": "en", "target": "ur",
                                        "alternatives": 2} | key)
    assert r.json() == {"translatedText": "Hello.", "alternatives": []}
    q = '<p onmouseover="x()">Hello <b>world</b>.</p><script>steal()</script>'
    r = client.post("/translate", json={"q": q, "source": "en", "target": "ur",
                                        "format": "html"} | key)
    assert r.json() == {"translatedText": "<p>Hello <b>world</b>.</p>"}
    q = '<p class="notice"><strong>آپ کا شکریہ</strong></p>'
    r = client.post("/translate", json={"q": q, "source": "auto", "target": "en",
                                        "format": "html"} | key)
    assert r.json()["detectedLanguage"]["language"] == "ur"
    assert r.json()["translatedText"] == "<p><strong>آپ کا شکریہ</strong></p>"


def test_glossary_and_placeholders_hold_through_translate(lt, store, people):
    client, tokens = lt
    comms.add_glossary_term(store, people["admin"][0], "GP", language_tag="ur",
                            translation="جی پی")
    r = client.post("/translate", json={"q": "See your GP on 12 March at 10:30am.",
                                        "source": "en", "target": "ur",
                                        "api_key": tokens["communicator"]})
    assert r.json() == {"translatedText": "See your جی پی on 12 March at 10:30am."}


def test_settings_health_and_detect(lt):
    client, tokens = lt
    settings = client.get("/frontend/settings").json()
    assert set(settings) == FRONTEND_KEYS
    assert settings["filesTranslation"] is True and settings["suggestions"] is True
    assert settings["supportedFilesFormat"] == [".txt", ".html", ".htm", ".docx", ".odt"]
    assert isinstance(settings["frontendTimeout"], int) and settings["keyRequired"] is True
    assert settings["language"]["target"] == {"code": "ur", "name": "Urdu"}
    assert client.get("/health").json() == {"status": "ok"}
    r = client.post("/detect", data={"q": "ਤੁਹਾਡਾ ਧੰਨਵਾਦ"})
    assert r.status_code == 400 and "API key" in r.json()["error"]
    r = client.post("/detect", data={"api_key": tokens["researcher"]})
    assert r.status_code == 400 and r.json() == {"error": "Invalid request: missing q parameter"}


def test_detect_answers_best_first_and_knows_shahmukhi_from_urdu(lt):
    client, tokens = lt
    r = client.post("/detect", data={"q": "مینوں اج کلینک نئیں جانا",
                                     "api_key": tokens["researcher"]})
    assert r.status_code == 200
    found = r.json()
    assert found[0]["language"] == "pa-Arab"
    assert [d["confidence"] for d in found] == sorted((d["confidence"] for d in found),
                                                      reverse=True)


def test_the_libretranslate_client_in_argostranslate_works(live_server, people, copy_packs):
    from argostranslate.apis import LibreTranslateAPI as ArgosClient
    client = ArgosClient(live_server.url, api_key=people["communicator"][1])
    assert client.translate("Book your flu vaccine.", "en", "ur") == "Book your flu vaccine."
    assert {lang["code"] for lang in client.languages()} == {"en", "ur", "bn", "pl", "zh-Hant"}


# -- files ---------------------------------------------------------------------------
SENTENCE = "Book your flu vaccine with your GP before 12 March."
CALL = "Call 0121 496 0000 or visit https://www.nhs.uk/flu today."


def docx_bytes() -> bytes:
    import docx
    document = docx.Document()
    document.add_heading("Flu vaccine", level=1)
    paragraph = document.add_paragraph("Book your flu vaccine ")
    paragraph.add_run("with your GP").bold = True
    paragraph.add_run(" before 12 March.")
    table = document.add_table(rows=1, cols=1)
    table.cell(0, 0).text = CALL
    document.sections[0].header.paragraphs[0].text = "NHS Birmingham"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def odt_bytes() -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.style import Style, TextProperties
    from odf.text import H, P, Span
    document = OpenDocumentText()
    bold = Style(name="Bold", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)
    document.text.addElement(H(outlinelevel="1", text="Flu vaccine"))
    paragraph = P(text="Book your flu vaccine ")
    paragraph.addElement(Span(stylename=bold, text="with your GP"))
    paragraph.addText(" before 12 March.")
    document.text.addElement(paragraph)
    document.text.addElement(P(text=CALL))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def send_file(client, key: str, name: str, data: bytes, source: str = "en", target: str = "ur"):
    return client.post("/translate_file", data={"source": source, "target": target,
                                                "api_key": key},
                       files={"file": (name, data)})


def fetch(client, response) -> bytes:
    """The translated file, fetched as a LibreTranslate client does: the URL alone."""
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["translatedFileUrl"]
    url = response.json()["translatedFileUrl"]
    got = client.get(url)
    assert got.status_code == 200
    return got.content


@pytest.fixture
def glossary(store, people):
    comms.add_glossary_term(store, people["admin"][0], "GP", language_tag="ur",
                            translation="جی پی")


GP_UR = SENTENCE.replace("GP", "جی پی")


def test_plain_text_and_html_files(lt, glossary):
    client, tokens = lt
    text = f"{SENTENCE}\n\n  {CALL}\n"
    out = fetch(client, send_file(client, tokens["communicator"], "flu.txt", text.encode()))
    assert out.decode() == f"{GP_UR}\n\n  {CALL}\n"
    html = f"<h1>Flu</h1><p>{SENTENCE}</p><script>steal()</script><p>{CALL}</p>"
    out = fetch(client, send_file(client, tokens["reviewer"], "flu.html", html.encode()))
    assert out.decode() == f"<h1>Flu</h1><p>{GP_UR}</p><p>{CALL}</p>"


def test_a_docx_comes_back_as_a_docx_word_opens(lt, glossary):
    import docx
    client, tokens = lt
    out = fetch(client, send_file(client, tokens["communicator"], "Flu letter.docx",
                                  docx_bytes()))
    document = docx.Document(io.BytesIO(out))
    paragraphs = [p for p in document.paragraphs if p.text]
    assert [p.text for p in paragraphs] == ["Flu vaccine", GP_UR]
    assert paragraphs[0].style.name == "Heading 1"
    assert document.tables[0].cell(0, 0).text == CALL  # placeholders kept word for word
    assert document.sections[0].header.paragraphs[0].text == "NHS Birmingham"


def test_an_odt_comes_back_as_an_odt_writer_opens(lt, glossary):
    from odf import teletype
    from odf.namespaces import TEXTNS
    from odf.opendocument import load
    client, tokens = lt
    out = fetch(client, send_file(client, tokens["communicator"], "flu.odt", odt_bytes()))
    with zipfile.ZipFile(io.BytesIO(out)) as package:
        first = package.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    document = load(io.BytesIO(out))
    texts = [teletype.extractText(e) for e in document.text.childNodes
             if e.qname in ((TEXTNS, "h"), (TEXTNS, "p"))]
    assert texts == ["Flu vaccine", GP_UR, CALL]


def test_auto_source_for_files(lt):
    client, tokens = lt
    urdu = "آپ کا بہت شکریہ۔\nہاتھ دھوئیں۔"
    out = fetch(client, send_file(client, tokens["communicator"], "shukriya.txt",
                                  urdu.encode(), source="auto", target="en"))
    assert out.decode() == urdu


def with_parts(data: bytes, parts: dict[str, bytes]) -> bytes:
    """The package `data` with the named parts replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, parts.get(info.filename, None) or source.read(info))
        for name, body in parts.items():
            if name not in source.namelist():
                target.writestr(name, body)
    return out.getvalue()


def with_document_xml(data: bytes, xml: bytes) -> bytes:
    return with_parts(data, {"word/document.xml": xml})


def with_dtd(xml: bytes, encoding: str = "utf-8") -> bytes:
    """An XML part given an internal DTD with an entity, in `encoding`."""
    text = xml.decode()
    head, rest = (text.split("?>", 1) if text.startswith("<?xml") else ("", text))
    root = rest.lstrip().split()[0].lstrip("<").rstrip(">")
    doctype = f'<!DOCTYPE {root} [<!ENTITY a "ha">]>'
    declaration = f'<?xml version="1.0" encoding="{encoding.upper()}"?>'
    return (declaration + doctype + rest).encode(encoding)


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def word_document(body: str) -> bytes:
    return f'<?xml version="1.0"?><w:document {W}><w:body>{body}</w:body></w:document>'.encode()


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;">]>'
          b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
          b'<w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>')


@pytest.mark.parametrize("name, data, status, words", [
    ("flu.pdf", b"%PDF-1.4", 400, "Invalid request: file format not supported"),
    ("flu.txt", b"", 400, "Invalid request: empty file"),
    ("flu.txt", "Grüße".encode("latin-1"), 400, "not UTF-8"),
    ("flu.docx", b"PK\x03\x04 not really a zip", 400, "not a DOCX"),
    ("flu.odt", b"not a zip at all", 400, "not a ODT"),
    ("flu.docx", "dtd", 400, "declares a DTD"),
    ("flu.docx", "dtd-utf16", 400, "declares a DTD"),
    ("flu.docx", "bomb", 400, "compressed"),
    ("flu.txt", "x" * 100_001, 400, "exceeds text limit (100000)"),
    # A DTD in a part cohear only copies into the translated file is refused all the same.
    ("flu.docx", "dtd-styles", 400, "declares a DTD"),
    ("flu.docx", "dtd-styles-utf16", 400, "declares a DTD"),
    ("flu.docx", "dtd-unnamed-part", 400, "declares a DTD"),
    ("flu.odt", "dtd-manifest", 400, "declares a DTD"),
    ("flu.odt", "dtd-styles-odt", 400, "declares a DTD"),
    # Nesting and elements are counted while libxml2 streams the file, before any tree.
    ("deep.html", "deep-html", 400, "nests elements more than 100 deep"),
    ("deep.html", "self-closing-divs", 400, "more than 10,000 elements"),
    ("deep.html", "comment-trick", 400, "nests elements more than 100 deep"),
    ("flat.html", "many-elements", 400, "more than 10,000 elements"),
    ("flu.docx", "deep-docx", 400, "nests elements more than 100 deep"),
    ("flu.docx", "many-elements-docx", 400, "more than 200,000 elements"),
    ("flu.odt", "deep-odt", 400, "nests elements more than 100 deep"),
    # Attributes and references are counted before html5ever reads them too.
    ("attrs.html", "many-attributes", 400, "more than 100 attributes"),
    ("attrs.html", "attributes-in-all", 400, "more than 50,000 attributes"),
    ("refs.html", "many-references", 400, "more than 100,000 character or entity"),
    ("refs.html", "many-numeric-references", 400, "more than 100,000 character or entity"),
], ids=["pdf", "empty", "latin-1", "not-a-zip-docx", "not-a-zip-odt", "dtd", "dtd-utf16",
        "zip-bomb", "too-many-words", "dtd-docx-styles", "dtd-docx-styles-utf16",
        "dtd-docx-unnamed-part", "dtd-odt-manifest", "dtd-odt-styles", "deep-html",
        "self-closing-divs", "comment-trick", "many-html-elements", "deep-docx",
        "many-docx-elements", "deep-odt", "many-attributes", "attributes-in-all",
        "many-references", "many-numeric-references"])
def test_files_cohear_cannot_or_will_not_read(lt, store, name, data, status, words):
    client, tokens = lt
    if data == "dtd":
        data = with_document_xml(docx_bytes(), LAUGHS)
    elif data == "dtd-utf16":
        data = with_document_xml(docx_bytes(), LAUGHS.decode().replace(
            '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"))
    elif data == "bomb":
        data = with_document_xml(docx_bytes(), b"<x>" + b" " * 5_000_000 + b"</x>")
    elif data in HOSTILE:
        data = HOSTILE[data]()
    elif isinstance(data, str):
        data = ("word " * 20 + "\n") * (len(data) // 90 + 1)
        data = data.encode()
    r = send_file(client, tokens["communicator"], name, data)
    assert r.status_code == status and list(r.json()) == ["error"], r.text
    assert words in r.json()["error"]
    folder = store.settings.data_dir / "translated-files"
    assert not folder.exists() or list(folder.iterdir()) == []


def _part(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


HOSTILE = {
    "dtd-styles": lambda: with_parts(docx_bytes(), {
        "word/styles.xml": with_dtd(_part(docx_bytes(), "word/styles.xml"))}),
    "dtd-styles-utf16": lambda: with_parts(docx_bytes(), {
        "word/styles.xml": with_dtd(_part(docx_bytes(), "word/styles.xml"), "utf-16")}),
    "dtd-unnamed-part": lambda: with_parts(docx_bytes(), {
        "word/media/extra.bin": with_dtd(b"<extra>&a;</extra>")}),
    "dtd-manifest": lambda: with_parts(odt_bytes(), {
        "META-INF/manifest.xml": with_dtd(_part(odt_bytes(), "META-INF/manifest.xml"))}),
    "dtd-styles-odt": None,
    "deep-html": lambda: ("<div>" * 100_000 + "x" + "</div>" * 100_000).encode(),
    "self-closing-divs": lambda: ("<div/>" * 100_000 + "x").encode(),
    "comment-trick": lambda: ("<!-->" + "<div>" * 1_000 + "x").encode(),
    "many-elements": lambda: ("<b>x</b>" * 10_001).encode(),
    "deep-docx": lambda: with_document_xml(docx_bytes(), word_document(
        "<w:sdt>" * 150 + "<w:p><w:r><w:t>x</w:t></w:r></w:p>" + "</w:sdt>" * 150)),
    "many-elements-docx": lambda: with_document_xml(docx_bytes(), word_document(
        "".join(f'<w:p w:rsidR="{i:08X}"/>' for i in range(200_001)))),
    # The attack's: one element with 200,000 attributes (8 s in html5ever), and 500,000
    # references (5 s before the text limit was reached).
    "many-attributes": lambda: ("<p " + " ".join(f'a{i}="x"' for i in range(200_000))
                                + ">hi</p>").encode(),
    "attributes-in-all": lambda: ("<p " + " ".join(f'a{i}="x"' for i in range(100))
                                  + ">hi</p>").encode() * 501,
    "many-references": lambda: ("<p>" + "&amp;" * 500_000 + "</p>").encode(),
    "many-numeric-references": lambda: ("<p>" + "&#1575&#x627;" * 50_001 + "</p>").encode(),
    "deep-odt": lambda: with_parts(odt_bytes(), {"content.xml": _part(
        odt_bytes(), "content.xml").replace(b"<text:h ", b"<text:span>" * 150 + b"<text:h ")}),
}
HOSTILE["dtd-styles-odt"] = lambda: with_parts(odt_bytes(), {
    "styles.xml": with_dtd(_part(odt_bytes(), "styles.xml"))})


def test_bounds_are_checked_before_html5ever_parses_anything(monkeypatch):
    """The deep file never reaches nh3 (html5ever): refused while libxml2 streams it."""
    from cohear.errors import TooLarge
    from language_packs import documents, markup
    seen = []
    monkeypatch.setattr(markup.nh3, "clean", lambda *a, **k: seen.append(a) or "")
    with pytest.raises(TooLarge, match="100 deep"):
        documents.open_document(HOSTILE["deep-html"](), "deep.html")
    assert seen == []


@pytest.mark.parametrize("case", ["many-attributes", "many-references"])
def test_attributes_and_references_are_refused_before_html5ever_reads_them(monkeypatch, case):
    from cohear.errors import TooLarge
    from language_packs import documents, markup
    seen = []
    monkeypatch.setattr(markup.nh3, "clean", lambda *a, **k: seen.append(a) or "")
    with pytest.raises(TooLarge):
        documents.open_document(HOSTILE[case](), "leaflet.html")
    assert seen == []


def test_html_at_the_attribute_and_reference_bounds_is_read():
    from language_packs import markup
    element = "<p " + " ".join(f'a{i}="x"' for i in range(limits.HTML_ATTRIBUTES_PER_ELEMENT))
    markup.check_shape(element + ">" + "&amp;" * limits.HTML_REFERENCES + "</p>")
    markup.check_shape((element + ">hi</p>") * (limits.HTML_ATTRIBUTES
                                                // limits.HTML_ATTRIBUTES_PER_ELEMENT))


def test_html_texts_are_bounded_on_translate_too(lt):
    """/translate format=html: an element with too many attributes is a 400 problem."""
    client, tokens = lt
    q = "<p " + " ".join(f"a{i}" for i in range(limits.HTML_ATTRIBUTES_PER_ELEMENT + 1)) + ">hi"
    assert len(q) < 5_000
    r = client.post("/translate", json={"q": q, "source": "en", "target": "ur",
                                        "format": "html", "api_key": tokens["communicator"]})
    assert r.status_code == 400 and "more than 100 attributes" in r.json()["error"], r.text


def test_ordinary_html_with_implied_end_tags_is_well_within_the_bounds(lt):
    """Thousands of paragraphs without their end tags, lists nested 30 deep: translated."""
    client, tokens = lt
    paragraphs = "".join(f"<p>Paragraph {i}." for i in range(3_000))
    nested = "<ul><li>level" * 30 + "</ul>" * 30
    out = fetch(client, send_file(client, tokens["communicator"], "long.html",
                                  f"<h1>Flu</h1>{paragraphs}{nested}".encode())).decode()
    assert out.count("<p>") == 3_000 and "Paragraph 2999." in out
    assert out.count("<li>") == 30


def test_file_requests_refused_as_libretranslate_refuses_them(lt):
    client, tokens = lt
    r = client.post("/translate_file", data={"source": "en", "target": "ur"},
                    files={"file": ("a.txt", b"Hello.")})
    assert r.status_code == 400 and "API key" in r.json()["error"]
    r = send_file(client, tokens["collector"], "a.txt", b"Hello.")
    assert r.status_code == 403
    r = client.post("/translate_file", data={"source": "en", "target": "ur",
                                             "api_key": tokens["communicator"]})
    assert r.json() == {"error": "Invalid request: missing file parameter"}
    r = send_file(client, tokens["communicator"], "a.txt", b"Hello.", target="ps")
    assert r.status_code == 400 and "not available as a target language" in r.json()["error"]
    assert client.get("/download_file/../../cohear.db").status_code == 404
    r = client.get("/download_file/..%2F..%2Fcohear.db")
    assert r.status_code in (400, 404) and b"SQLite" not in r.content
    assert client.get("/download_file/..cohear.db").json() == {"error": "Invalid filename"}
    r = client.get("/download_file/" + "0" * 32 + ".flu.txt")
    assert r.status_code == 404 and "expired" in r.json()["error"]


def test_translated_files_expire(lt, store):
    from language_packs.libretranslate import remove_expired_files
    client, tokens = lt
    response = send_file(client, tokens["communicator"], "a.txt", b"Hello.")
    assert remove_expired_files(store) == 0
    assert remove_expired_files(store, older_than_minutes=0) == 1
    assert client.get(response.json()["translatedFileUrl"]).status_code == 404


def test_expired_files_go_at_start_up_and_in_housekeeping_without_any_request(settings, store):
    """Nobody calls /translate_file again: start-up and the worker's periodic cleaning
    remove files past their 30 minutes (and half-written ones of dead writers), keeping
    fresh ones, whose links still work."""
    import os
    import subprocess
    import sys
    import time

    from cohear import app, maintenance
    from language_packs.libretranslate import FILES_DIR
    folder = settings.data_dir / FILES_DIR
    folder.mkdir(exist_ok=True)

    def files(age_minutes: float):
        old = folder / f"{os.urandom(16).hex()}.old.txt"
        old.write_text("Translated words.")
        then = time.time() - age_minutes * 60
        os.utime(old, (then, then))
        return old
    # A half-written file of a process that is gone (a child that wrote it and exited).
    subprocess.run([sys.executable, "-c", (
        "import sys; from pathlib import Path; from cohear import temporaries; "
        f"d = Path({str(settings.data_dir)!r}); "
        f"temporaries.path(d, d / {FILES_DIR!r}, 'translated').write_text('half')")],
        check=True)
    expired, fresh = files(31), files(5)
    app.create_app(settings, start_worker=False)  # start-up
    assert not expired.exists() and fresh.exists()
    assert sorted(p.name for p in folder.iterdir()) == [fresh.name]
    expired = files(31)
    assert maintenance.clean_temporaries(store) == [f"{FILES_DIR}/{expired.name[:32]}"]
    assert not expired.exists() and fresh.exists()


# -- suggestions -----------------------------------------------------------------------
def suggest(client, key, **fields):
    return client.post("/suggest", json=fields | {"api_key": key})


def test_a_suggestion_is_a_translation_needing_review_never_approved(lt, store, people):
    client, tokens = lt
    admin = people["admin"][0]
    message = comms.create_message(store, admin, title="Hands", source_text="Wash your hands.",
                                   channel="sms")
    comms.edit_translation(store, admin, message["id"], "ur", "ہاتھ دھوئیں۔")
    comms.approve_translation(store, people["reviewer"][0], message["id"], "ur")

    r = suggest(client, tokens["reviewer"], q="Wash your hands.", s="اپنے ہاتھ دھوئیں۔",
                source="en", target="ur")
    assert r.status_code == 200 and r.json() == {"success": True}
    found = comms.get_translation(store, message["id"], "ur")
    assert (found["status"], found["text"]) == ("needs_review", "اپنے ہاتھ دھوئیں۔")
    assert found["approved_by"] is None
    history = comms.translation_history(store, message["id"], "ur")
    assert history[-1]["reason"] == "suggested through LibreTranslate"

    # A text no message has becomes a new message, for those who may write messages.
    r = suggest(client, tokens["communicator"], q="Drink water.", s="پانی پیئیں۔",
                source="en", target="ur")
    assert r.json() == {"success": True}
    new = [m for m in comms.list_messages(store) if m["title"].startswith("Suggested")]
    assert len(new) == 1 and new[0]["tags"] == ["suggestion"]
    assert comms.get_translation(store, new[0]["id"], "ur")["status"] == "needs_review"
    r = suggest(client, tokens["reviewer"], q="Sleep well.", s="اچھی نیند۔", source="en",
                target="ur")
    assert r.status_code == 403 and "no message has this text" in r.json()["error"]


@pytest.mark.parametrize("fields, role, status, words", [
    ({"q": "Hi.", "source": "en", "target": "ur"}, "reviewer", 400, "missing s parameter"),
    ({"s": "Hi.", "source": "en", "target": "ur"}, "reviewer", 400, "missing q parameter"),
    ({"q": "Hi.", "s": "x", "source": "en", "target": "xx"}, "reviewer", 400,
     "xx is not supported"),
    ({"q": "Hi.", "s": "x", "source": "en", "target": "ur"}, "collector", 403,
     "admin, communicator or reviewer"),
    ({"q": "Hi.", "s": "x", "source": "en", "target": "ur"}, "researcher", 403, "may not"),
])
def test_bad_suggestions(lt, fields, role, status, words):
    client, tokens = lt
    r = suggest(client, tokens[role], **fields)
    assert r.status_code == status and words in r.json()["error"], r.text
    r = client.post("/suggest", json=fields)
    assert r.status_code == 400 and "API key" in r.json()["error"]
