"""Translators' files with the tools translators use: every language tag cohear has goes
out as PO and XLIFF and comes back as it stands; gettext's msgfmt, polib and
translate-toolkit read cohear's PO; exported XLIFF 2.0 is valid against the OASIS core
schema; fuzzy entries come in as needing review; and no XML reader accepts a DTD,
whatever the encoding."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import polib
import pytest
from lxml import etree
from translate.storage import po, xliff, xliff2

from cohear.errors import BadInput
from comms import exchange, placeholders, service
from language_packs.registry import LANGUAGES
from surveys import coding, xlsform

DATA = Path(__file__).resolve().parent / "data"
TAGS = [t for t in LANGUAGES if t != "en"]
MESSAGE = "Hello {first_name}, your flu vaccine is ready. Call 0121 496 0000 to book."


@pytest.fixture
def team(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def flu(store, team):
    return service.create_message(store, team["communicator"], title="Flu", source_text=MESSAGE,
                                  channel="sms")


class _LocalXmlSchema(etree.Resolver):
    """The XLIFF schema imports xml.xsd from www.w3.org: use the copy in tests/data."""

    def resolve(self, url, pubid, context):
        if url.endswith("/xml.xsd"):
            return self.resolve_filename(str(DATA / "xml.xsd"), context)
        return None


def xliff2_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalXmlSchema())
    return etree.XMLSchema(etree.parse(str(DATA / "xliff_core_2.0.xsd"), parser))


# A few words in each script, for files "translated" by the tests: a language with a
# script of its own refuses a sentence mostly in Latin letters (romanised), so the
# English source cannot stand in for a translation.
SAMPLE = {"Latn": "przetłumaczona wiadomość", "Arab": "ترجمہ شدہ پیغام یہاں",
          "Guru": "ਅਨੁਵਾਦ ਕੀਤਾ ਸੁਨੇਹਾ ਇੱਥੇ", "Beng": "অনুবাদ করা বার্তা এখানে",
          "Gujr": "અનુવાદિત સંદેશ અહીં", "Deva": "अनुवादित संदेश यहाँ",
          "Ethi": "ዝተተርጎመ መልእኽቲ ኣብዚ", "Hans": "翻译的信息在这里", "Hant": "翻譯的訊息在這裡"}


def translated(tag: str, source: str, prefix: str = "") -> str:
    """A stand-in translation of `source` into `tag`: words in its script, and the
    source's placeholders as a translator keeps them."""
    kept = " ".join(p.text for p in placeholders.find(source, ()))
    return f"{prefix}[{tag}] {SAMPLE[LANGUAGES[tag].script]} {kept}".strip()


@pytest.mark.parametrize("tag", TAGS)
def test_po_goes_out_in_gettexts_form_and_comes_back_as_it_stands(store, team, flu, tag,
                                                                  tmp_path):
    service.request_human(store, team["communicator"], flu["id"], [tag])
    data, name = exchange.export_file(store, [flu["id"]], tag, "po")
    path = tmp_path / name
    path.write_bytes(data)
    header = polib.pofile(str(path)).metadata
    assert header["Language"] == exchange.gettext_language(tag)
    assert "-" not in header["Language"] and header["X-Cohear-Language"] == tag
    # translate-toolkit reads the language (it cannot read a BCP-47 script subtag).
    assert po.pofile.parsestring(data).gettargetlanguage() == header["Language"]
    # A translator fills it in with polib (as Poedit would) and it imports as it stands.
    doc = polib.pofile(str(path))
    for entry in doc:
        entry.msgstr = translated(tag, entry.msgid)
    doc.save(str(path))
    result = exchange.import_file(store, team["communicator"], path.read_bytes())
    assert result["language"] == tag and result["format"] == "PO"
    assert result["imported"][0]["status"] == "received" and "warnings" not in result
    assert service.get_translation(store, flu["id"], tag)["text"].startswith(doc[0].msgstr)


def test_gettexts_msgfmt_checks_coheres_po_for_every_language_without_a_warning(store, team,
                                                                               flu, tmp_path):
    if not shutil.which("msgfmt"):
        pytest.skip("msgfmt is not installed (Debian: apt-get install gettext; .ci/run does)")
    service.request_human(store, team["communicator"], flu["id"], TAGS)
    for tag in TAGS:
        data, name = exchange.export_file(store, [flu["id"]], tag, "po")
        path = tmp_path / name
        path.write_bytes(data)
        checked = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        assert "warning" not in checked.stderr, (tag, checked.stderr)


@pytest.mark.parametrize("value,tag", [("pa_IN", "pa-Guru"), ("pa_PK", "pa-Arab"),
                                       ("pa@gurmukhi", "pa-Guru"), ("pa@arabic", "pa-Arab"),
                                       ("pa-Guru", "pa-Guru"), ("pa_Arab", "pa-Arab"),
                                       ("zh_CN", "zh-Hans"), ("zh_TW", "zh-Hant"),
                                       ("zh_HK", "zh-Hant"), ("ur_PK.UTF-8", "ur"), ("ckb", "ckb")])
def test_a_po_language_header_is_read_in_every_form_tools_write(value, tag):
    assert exchange.language_from_header(value) == tag


def test_a_po_file_without_coheres_own_header_still_imports_by_its_language(store, team, flu,
                                                                            tmp_path):
    service.request_human(store, team["communicator"], flu["id"], ["pa-Arab"])
    data, name = exchange.export_file(store, [flu["id"]], "pa-Arab", "po")
    doc = polib.pofile(data.decode())
    del doc.metadata["X-Cohear-Language"]  # a tool that drops unknown headers
    for entry in doc:
        entry.msgstr = translated("pa-Arab", entry.msgid)
    result = exchange.import_file(store, team["communicator"], str(doc).encode())
    assert result["language"] == "pa-Arab"


def test_fuzzy_entries_come_in_as_needing_review_and_the_report_says_so(store, team, flu):
    service.request_human(store, team["communicator"], flu["id"], ["so"])
    data, _ = exchange.export_file(store, [flu["id"]], "so", "po")
    doc = polib.pofile(data.decode())
    for i, entry in enumerate(doc):
        entry.msgstr = "SO " + entry.msgid
        if i == 1:
            entry.flags.append("fuzzy")
    result = exchange.import_file(store, team["communicator"], str(doc).encode())
    assert result["imported"][0]["status"] == "needs_review"
    assert result["imported"][0]["fuzzy_sentences"] == [2]
    assert "fuzzy" in result["warnings"][0] and "sentence(s) 2" in result["warnings"][0]
    assert service.get_translation(store, flu["id"], "so")["status"] == "needs_review"


def test_an_xliff_12_state_asking_for_review_needs_review_too(store, team, flu):
    service.request_human(store, team["communicator"], flu["id"], ["ti"])
    doc = xliff.xlifffile(sourcelanguage="en")
    doc.settargetlanguage("ti")
    for i, seg in enumerate(service.source_segments(service._message_row(store, flu["id"]))):
        unit = doc.addsourceunit(seg.source)
        unit.setid(f"m{flu['id']}-v1-s{i}")
        unit.target = translated("ti", seg.source)
    data = bytes(doc).replace(b'state="translated"', b'state="needs-review-translation"', 1)
    result = exchange.import_file(store, team["communicator"], data)
    assert result["imported"][0]["status"] == "needs_review"


@pytest.mark.parametrize("tag", TAGS)
def test_xliff_20_is_valid_against_the_oasis_schema_and_round_trips(store, team, flu, tag):
    service.request_human(store, team["communicator"], flu["id"], [tag])
    data, _ = exchange.export_file(store, [flu["id"]], tag, "xliff")
    xliff2_schema().assertValid(etree.fromstring(data))
    doc = xliff2.Xliff2File.parsestring(data)
    assert doc.gettargetlanguage() == tag
    for unit in doc.units:
        unit.target = translated(tag, unit.source)
    filled = bytes(doc)
    xliff2_schema().assertValid(etree.fromstring(filled))
    result = exchange.import_file(store, team["communicator"], filled)
    assert result["language"] == tag and result["format"] == "XLIFF 2.0"
    # The same sentences through XLIFF 1.2, as older CAT tools send them back.
    old = xliff.xlifffile(sourcelanguage="en")
    old.settargetlanguage(tag)
    for unit in doc.units:
        u = old.addsourceunit(unit.source)
        u.setid(unit.getid())
        u.target = translated(tag, unit.source, "1.2 ")
    assert exchange.import_file(store, team["communicator"], bytes(old))["language"] == tag
    assert service.get_translation(store, flu["id"], tag)["text"].startswith(f"1.2 [{tag}]")


def test_a_translation_with_a_control_character_is_refused_and_nothing_changes(store, team, flu):
    service.request_human(store, team["communicator"], flu["id"], ["so"])
    data, _ = exchange.export_file(store, [flu["id"]], "so", "po")
    doc = polib.pofile(data.decode())
    for entry in doc:
        entry.msgstr = "SO-MARK " + entry.msgid
    # A raw U+000B byte in the file (polib would write it as \v, which translate-toolkit
    # reads back as a plain "v").
    raw = str(doc).encode().replace(b"SO-MARK", b"SO\x0b")
    with pytest.raises(Exception) as caught:
        exchange.import_file(store, team["communicator"], raw)
    assert getattr(caught.value, "status", None) == 422
    assert service.get_translation(store, flu["id"], "so")["status"] == "human_requested"


# -- no DTD, whatever the encoding ------------------------------------------------------------

def _xliff_with_entity(store, team, flu) -> str:
    service.request_human(store, team["communicator"], flu["id"], ["ur"])
    data, _ = exchange.export_file(store, [flu["id"]], "ur", "xliff")
    doc = xliff2.Xliff2File.parsestring(data)
    for unit in doc.units:
        unit.target = "&leak;"
    text = bytes(doc).decode("utf-8").replace("&amp;leak;", "&leak;")
    body = text.split("?>", 1)[1]
    return '<!DOCTYPE xliff [<!ENTITY leak "ENTITY WAS EXPANDED">]>' + body


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_an_xliff_file_with_a_dtd_is_refused_in_every_encoding(store, team, flu, encoding):
    doc = _xliff_with_entity(store, team, flu)
    declared = encoding.upper().replace("-LE", "").replace("-BE", "") if encoding != "utf-8" \
        else "UTF-8"
    data = f'<?xml version="1.0" encoding="{declared}"?>{doc}'.encode(encoding)
    with pytest.raises(BadInput) as caught:
        exchange.import_file(store, team["communicator"], data)
    assert "DTD" in caught.value.detail or "not well-formed" in caught.value.detail
    t = service.get_translation(store, flu["id"], "ur")
    assert t["status"] == "human_requested" and "EXPANDED" not in (t["text"] or "")


def test_a_utf16_xliff_without_a_dtd_is_read(store, team, flu):
    service.request_human(store, team["communicator"], flu["id"], ["ur"])
    data, _ = exchange.export_file(store, [flu["id"]], "ur", "xliff")
    doc = xliff2.Xliff2File.parsestring(data)
    for unit in doc.units:
        unit.target = translated("ur", unit.source)
    text = bytes(doc).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    result = exchange.import_file(store, team["communicator"], text.encode("utf-16"))
    assert result["language"] == "ur" and result["format"] == "XLIFF 2.0"


def test_a_codebook_file_with_a_dtd_is_refused(store, team):
    qdc = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE CodeBook [<!ENTITY e "x">]>'
           '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid='
           '"9e4d6c1f-4b1e-4c1a-9a0e-0b5c3f0c2f11" name="&e;" isCodable="true"/></Codes>'
           '</CodeBook>').encode("utf-16")
    with pytest.raises(BadInput, match="DTD"):
        coding.import_qdc(store, team["researcher"], "Evil", qdc)
    assert store.one("SELECT count(*) FROM codebooks")[0] == 0


def test_a_workbook_whose_xml_declares_a_dtd_is_refused(store, team):
    from openpyxl import Workbook
    wb = Workbook()
    wb.active.title = "survey"
    wb.active.append(["type", "name", "label"])
    wb.active.append(["text", "q1", "Hello"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                if text.startswith("<?xml"):
                    text = text.split("?>", 1)[1]
                data = ('<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet ['
                        '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                        + text).encode("utf-8")
            dst.writestr(info, data)
    with pytest.raises(BadInput, match="DTD"):
        xlsform.parse_xlsform(out.getvalue())
