"""The exchange with human translators: the sentences of messages that need a
translation, written as XLIFF 2.0 or PO, and the translated file read back in.

XLIFF 2.0 and PO are written and read with translate-toolkit; XLIFF 1.2 files (which
older CAT tools send back) are read too. Each unit's id names the message, the source
version and the sentence (`m12-v3-s0`), so a file made for another message or an older
version of it is refused before anything changes.

- **Languages in PO files.** gettext, translate-toolkit, polib and Poedit name a language
  as a POSIX locale (`ll`, `ll_CC`, `ll@variant`), and translate-toolkit does not read a
  BCP-47 script subtag (`pa-Guru`, `zh-Hans`) as a language. So the `Language:` header is
  the locale gettext itself uses for that language and script (`gettext_language`):
  `pa_IN` for Punjabi in Gurmukhi, `pa_PK` for Shahmukhi (Arabic script), `zh_CN` for
  Simplified and `zh_TW` for Traditional Chinese, the plain tag elsewhere (`ur`, `ckb`).
  cohear's own tag rides along in `X-Cohear-Language`. On import the file's language is
  `X-Cohear-Language` when present, else `Language:` read as a locale, a BCP-47 tag or
  `ll@script`, so a file cohear wrote always re-imports as it stands. XLIFF carries
  BCP-47 tags (`trgLang`, `target-language`) as the standard says.
- **Scripts**: every translated sentence must be written in the target language's
  script (Latin words such as GP or a web address are allowed in any language; for
  Chinese, Traditional characters are not Simplified). A sentence mostly in Latin
  letters for a language with a script of its own (romanised Urdu, "Yeh aap ki hifazat
  karta hai") is not: at least three Latin words, outnumbering the words in the
  language's script, not counting placeholders, addresses, acronyms or the glossary's
  kept names (`service.ROMANISED_MIN_WORDS`). A file with a sentence that is
  not is refused whole, as for any other sentence that cannot be taken: the problem
  lists each sentence and what its letters are (`refused`), and says which language the
  file may really be (Gurmukhi under `Language: pa_PK` is pa-Guru). Imported with an
  explicit language whose script the words fit while the header's does not, the file is
  taken as that language and the report says the header was wrong.
- **Fuzzy entries** (PO `#, fuzzy`; XLIFF 1.2 states that ask for review) come in as
  `needs_review`, never `received`, and the import report lists them.
- **XML** is read through `cohear.safexml` whatever its encoding: a DTD is refused, and
  translate-toolkit only ever sees the document that parser produced.
- Characters XML cannot hold (in words stored before cohear refused them) are written
  as U+FFFD; a translator's file holding one is refused (`cohear.text`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from lxml import etree
from translate.storage import po, xliff, xliff2

from cohear import safexml
from cohear import text as text_rule
from cohear.auth import User
from cohear.errors import BadInput, Conflict, TooLarge
from cohear.store import Store
from comms import placeholders, segments, service

FORMATS = ("xliff", "po")
MAX_FILE_BYTES = 5 * 1024 * 1024
NEEDS_TRANSLATOR = ("human_requested", "stale")
_UNIT_ID = re.compile(r"^m(\d+)-v(\d+)-s(\d+)$")
XLIFF2_NS = "urn:oasis:names:tc:xliff:document:2.0"
MEDIA_TYPES = {"xliff": "application/xliff+xml", "po": "text/x-gettext-translation"}
XLIFF12_NS = "urn:oasis:names:tc:xliff:document:1.2"
# The locale gettext (and glibc, Poedit, translate-toolkit) uses for a language whose
# cohear tag names a script; every other tag is its own locale.
GETTEXT_LOCALES = {"pa-Guru": "pa_IN", "pa-Arab": "pa_PK", "zh-Hans": "zh_CN", "zh-Hant": "zh_TW"}
# `ll@modifier` script names some translators' tools write.
_SCRIPT_MODIFIERS = {"gurmukhi": "Guru", "guru": "Guru", "arabic": "Arab", "arab": "Arab",
                     "shahmukhi": "Arab", "hans": "Hans", "simplified": "Hans",
                     "hant": "Hant", "traditional": "Hant"}
# XLIFF 1.2 target states that say a translator is not done with a translation.
REVIEW_STATES_12 = ("needs-review-translation", "needs-review-adaptation", "needs-review-l10n",
                    "needs-adaptation", "needs-l10n")
FUZZY_NOTE = "marked fuzzy (needs review) in the file"


def _po_date() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M+0000")


def gettext_language(tag: str) -> str:
    """The POSIX locale for a cohear tag, as a PO file's `Language:` header says it."""
    return GETTEXT_LOCALES.get(tag, tag.replace("-", "_"))


def language_from_header(value: str | None) -> str | None:
    """cohear's tag for a PO `Language:` value (a locale, `ll@script`, or BCP-47); None
    when there is none."""
    value = (value or "").strip()
    if not value:
        return None
    base, _, modifier = value.partition("@")
    base = base.split(".")[0]  # pa_IN.UTF-8
    script = _SCRIPT_MODIFIERS.get(modifier.strip().lower())
    if script:
        return service.language(f"{base.split('_')[0]}-{script}").tag
    return service.language(base).tag


def _unit_id(message_id: int, version: int, index: int) -> str:
    return f"m{message_id}-v{version}-s{index}"


def export_file(store: Store, message_ids: list[int], lang: str, fmt: str = "xliff", *,
                include_all: bool = False) -> tuple[bytes, str]:
    """A file for a translator, and a file name for it. It holds every sentence of each
    message whose `lang` translation is missing, stale or requested from a human (with
    `include_all`, of every message given). Sentences unchanged since a stale translation
    come pre-filled, so only the changed ones are empty."""
    if fmt not in FORMATS:
        raise BadInput(f"{fmt!r} is not an exchange format", fix="use xliff or po")
    tag = service.language(lang).tag
    if not message_ids:
        raise BadInput("no messages given", fix="name at least one message")
    units: list[tuple[str, str, str, str]] = []   # id, source, target, note
    source_langs = set()
    for mid in dict.fromkeys(message_ids):
        message = service._message_row(store, mid)
        service._not_source(message, [tag])
        source_langs.add(message["source_language"])
        row = store.one("SELECT * FROM translations WHERE message_id = ? AND language = ?",
                        (mid, tag))
        if row is not None and row["status"] not in NEEDS_TRANSLATOR and not include_all:
            continue
        old = {s["source"]: s["target"] for s in json.loads(row["segments_json"])} if row else {}
        for i, seg in enumerate(service.source_segments(message)):
            kept = placeholders.find(seg.source, ())
            note = f"message {mid} \"{message['title']}\", version {message['current_version']}"
            if kept:
                note += "; keep exactly: " + ", ".join(p.text for p in kept)
            units.append((_unit_id(mid, message["current_version"], i), seg.source,
                          old.get(seg.source, ""), note))
    if len(source_langs) > 1:
        raise BadInput("these messages are written in different languages",
                       fix="export the messages of one source language at a time")
    if not units:
        raise BadInput(f"no sentence of these messages needs a {tag} translation",
                       fix="pass include_all to export them anyway")
    source_lang = source_langs.pop()
    name = (f"messages-{message_ids[0]}" if len(message_ids) == 1 else
            f"messages-{len(message_ids)}") + f"-{tag}"
    units = [(uid, text_rule.xml_safe(source), text_rule.xml_safe(target),
              text_rule.xml_safe(note)) for uid, source, target, note in units]
    if fmt == "po":
        store_ = po.pofile()
        store_.updateheader(add=True, Language=gettext_language(tag),
                            Content_Type="text/plain; charset=UTF-8",
                            Project_Id_Version=name, X_Generator="cohear",
                            X_Source_Language=source_lang, X_Cohear_Language=tag,
                            Language_Team=f"{service.language(tag).english_name} translators",
                            Last_Translator="", PO_Revision_Date=_po_date(),
                            Plural_Forms="nplurals=2; plural=(n != 1);")
        for uid, source, target, note in units:
            unit = store_.addsourceunit(source)
            unit.setcontext(uid)
            unit.addnote(note, origin="developer")
            unit.target = target
        return bytes(store_), name + ".po"
    doc = xliff2.Xliff2File(sourcelanguage=source_lang, targetlanguage=tag)
    for uid, source, target, note in units:
        unit = doc.addsourceunit(source)
        unit.setid(uid)
        unit.addnote(note)
        if target:
            unit.target = target
    return _xliff2_layout(bytes(doc)), name + ".xlf"


def _xliff2_layout(data: bytes) -> bytes:
    """translate-toolkit puts `<notes>` and `xml:space` on `<segment>`; the XLIFF 2.0
    core schema has them on `<unit>` (notes first), where strict CAT tools look."""
    root = safexml.parse(data, what="XLIFF file", fix="report this as a bug in cohear")
    ns = {"x": XLIFF2_NS}
    space = "{http://www.w3.org/XML/1998/namespace}space"
    for unit in root.iterfind(".//x:unit", ns):
        for segment in unit.iterfind("x:segment", ns):
            if segment.get(space):
                unit.set(space, segment.attrib.pop(space))
            for notes in segment.findall("x:notes", ns):
                segment.remove(notes)
                unit.insert(0, notes)
            segment.set("state", "translated" if segment.find("x:target", ns) is not None
                        else "initial")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _needs_review_12(unit) -> bool:
    """An XLIFF 1.2 unit whose target state asks for review (translate-toolkit's isfuzzy
    reads only `approved`, which many tools never set)."""
    for target in unit.xmlelement.iter():
        if etree.QName(target).localname == "target":
            return target.get("state") in REVIEW_STATES_12
    return False


def _looks_like_po(data: bytes) -> bool:
    """A PO file starts with a comment, `msgctxt`/`msgid` or a string, in UTF-8 (gettext's
    own encoding). Everything else goes to the XML reader, which decodes any encoding and
    refuses a DTD; so no file reaches a parser by a test on undecoded bytes."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"#", b'"') or head.startswith((b"msgid", b"msgctxt"))


def _parse(data: bytes) -> tuple[str, str | None, list[tuple[str, str, str, bool]]]:
    """(format name, target language, [(unit id, source, target, fuzzy)])."""
    fix = "send the .xlf or .po file exported by cohear, translated, as the tool saved it"
    if not _looks_like_po(data):
        root = safexml.parse(data, what="XLIFF file", fix=fix + " (without a DTD)")
        namespace = etree.QName(root).namespace
        # translate-toolkit parses what the safe parser produced, never the raw bytes.
        clean = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        try:
            if namespace == XLIFF2_NS:
                doc, kind = xliff2.Xliff2File.parsestring(clean), "XLIFF 2.0"
            elif namespace == XLIFF12_NS or etree.QName(root).localname == "xliff":
                doc, kind = xliff.xlifffile.parsestring(clean), "XLIFF 1.2"
            else:
                raise BadInput("the file is XML but not XLIFF", fix=fix)
        except BadInput:
            raise
        except Exception as exc:  # noqa: BLE001 - any parse failure is the file's fault
            raise BadInput(f"the file is not valid XLIFF ({type(exc).__name__})",
                           fix=fix) from None
        units = [((u.getid() or "").split("\x04")[-1], u.source or "", u.target or "",
                  kind == "XLIFF 1.2" and _needs_review_12(u))
                 for u in doc.units if not u.isheader()]
        language = doc.gettargetlanguage()
        return kind, service.language(language).tag if language else None, units
    try:
        doc = po.pofile.parsestring(data)
    except Exception as exc:  # noqa: BLE001
        raise BadInput(f"the file is neither XLIFF nor a valid PO file ({type(exc).__name__})",
                       fix=fix) from None
    units = [(u.getcontext() or "", u.source or "", u.target or "", u.isfuzzy())
             for u in doc.units if not u.isheader()]
    header = doc.parseheader()
    language = (language_from_header(header.get("X-Cohear-Language"))
                or language_from_header(header.get("Language")))
    return "PO", language, units


def import_file(store: Store, actor: User, data: bytes, *, message_id: int | None = None,
                lang: str | None = None) -> dict:
    """Read a translated file back. Every sentence of every message in it must match the
    message's current version and be translated; otherwise nothing is changed."""
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(f"the file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}",
                       fix="split the messages over several files")
    kind, file_lang, units = _parse(data)
    tag_text = lang or file_lang
    if not tag_text:
        raise BadInput("the file does not say which language it is in",
                       fix="give the language (e.g. --language ur)")
    target_lang = service.language(tag_text)
    tag = target_lang.tag
    notes: list[str] = []
    if lang and file_lang and file_lang != tag:
        # A file whose words are in the script asked for, but not in the one its header
        # names, has a wrong header (pa_PK over Gurmukhi): the words decide, and the
        # report says so. Otherwise the two languages really differ.
        said = service.language(file_lang)
        words = [t for _, _, t, _ in units if t.strip()]
        if not (words and all(service.script_problem(t, target_lang) is None for t in words)
                and any(service.script_problem(t, said) for t in words)):
            raise BadInput(f"the file is a {file_lang} translation, not {tag}",
                           fix="import it as the language it is in")
        notes.append(f"the file says it is {said.english_name} ({file_lang}), but its "
                     f"sentences are written in {service.script_name(target_lang)} script; "
                     f"imported as {tag}, as asked")
    if not units:
        raise BadInput("the file has no sentences", fix="export the message again")
    by_message: dict[int, dict[int, str]] = {}
    fuzzy: dict[int, list[int]] = {}
    versions: dict[int, int] = {}
    wrong_script: list[dict] = []
    kept_terms = service._terms(store, tag)   # glossary names may stay in Latin letters
    for uid, source, target, is_fuzzy in units:
        m = _UNIT_ID.match(uid)
        if not m:
            raise BadInput(f"the file has a sentence {uid!r} that cohear did not export",
                           fix="translate the file exported by cohear without changing its ids")
        mid, version, index = (int(g) for g in m.groups())
        if message_id is not None and mid != message_id:
            raise BadInput(f"the file is for message {mid}, not message {message_id}",
                           fix=f"import it into message {mid}, or export message {message_id}")
        message = service._message_row(store, mid)
        if version != message["current_version"]:
            raise Conflict(f"the file was made for version {version} of message {mid}, but the "
                           f"message is now at version {message['current_version']}",
                           fix="export the message again and translate the new file")
        segs = service.source_segments(message)
        if index >= len(segs) or segs[index].source != source.strip():
            raise Conflict(f"sentence {index + 1} of message {mid} in the file does not match "
                           "the message's text",
                           fix="export the message again; do not edit the source sentences")
        if not target.strip():
            raise BadInput(f"sentence {index + 1} of message {mid} has no translation",
                           fix="translate every sentence, then import the file")
        text_rule.check(target, f"translation of sentence {index + 1} of message {mid}")
        problem = service.script_problem(target, target_lang, kept_terms)
        if problem:
            wrong_script.append({"message_id": mid, "sentence": index + 1, "found": problem})
        by_message.setdefault(mid, {})[index] = target.strip()
        if is_fuzzy:
            fuzzy.setdefault(mid, []).append(index + 1)
        versions[mid] = version
    if wrong_script:
        _refuse_script(wrong_script, target_lang, [t for _, _, t, _ in units if t.strip()])
    done = []
    for mid, targets in by_message.items():
        message = service._message_row(store, mid)
        service._not_source(message, [tag])
        segs = service.source_segments(message)
        absent = [str(i + 1) for i in range(len(segs)) if i not in targets]
        if absent:
            raise BadInput(f"the file lacks sentence(s) {', '.join(absent)} of message {mid}",
                           fix="export the message again and translate the whole file")
    with store.transaction() as conn:
        for mid, targets in by_message.items():
            message = service._message_row(store, mid)
            segs = service.source_segments(message)
            ordered = [targets[i] for i in range(len(segs))]
            text = segments.join(ordered, [s.sep for s in segs])
            row = conn.execute("SELECT * FROM translations WHERE message_id = ? AND language = ?",
                               (mid, tag)).fetchone()
            # A fuzzy sentence is the translator saying "not sure": a reviewer must look.
            status = "needs_review" if mid in fuzzy else "received"
            changes = {"text": text, "status": status, "origin": "human",
                       "source_version": message["current_version"],
                       "segments_json": json.dumps(
                           [{"source": s.source, "target": t, "back": None,
                             "similarity": None, "sep": s.sep, "reused": False}
                            for s, t in zip(segs, ordered, strict=True)],
                           ensure_ascii=False),
                       "placeholder_problems_json": service._problems(message["source_text"], text),
                       "back_translation": None, "similarity": None, "pivoted": 0,
                       "engine": None, "approved_by": None, "approved_at": None}
            if row is None:
                changes |= {"message_id": mid, "language": tag}
            service._write_translation(conn, actor, row, changes,
                                       reason=f"imported from a {kind} file"
                                       + (f", sentence(s) {sorted(fuzzy[mid])} " + FUZZY_NOTE
                                          if mid in fuzzy else ""))
            item = {"message_id": mid, "language": tag, "sentences": len(segs),
                    "status": status}
            if mid in fuzzy:
                item["fuzzy_sentences"] = sorted(fuzzy[mid])
            done.append(item)
    report = {"format": kind, "language": tag, "imported": done}
    warnings = notes + [
        f"message {mid}: sentence(s) {', '.join(map(str, sorted(f)))} {FUZZY_NOTE}; the "
        f"{tag} translation needs review before it can be approved"
        for mid, f in sorted(fuzzy.items())]
    if warnings:
        report["warnings"] = warnings
    return report


def _refuse_script(wrong: list[dict], lang, words: list[str]) -> None:
    """Refuse the whole file (as for any other sentence that cannot be taken) when its
    sentences are not written in the language's script, naming each sentence, what its
    letters are, and the language the file may really be in."""
    shown = "; ".join(f"sentence {w['sentence']} of message {w['message_id']}: {w['found']}"
                      for w in wrong[:10]) + ("; ..." if len(wrong) > 10 else "")
    fits = service.languages_written_like(" ".join(words), lang)
    if fits:
        fix = (f"if the file is in {fits[0].english_name}, import it as {fits[0].tag} "
               f"(--language {fits[0].tag}, or ?language={fits[0].tag}), or correct its "
               f"language (PO `Language: {gettext_language(fits[0].tag)}`, XLIFF "
               f"trgLang=\"{fits[0].tag}\"); otherwise ask the translator for "
               f"{lang.english_name} in {service.script_name(lang)} script")
    else:
        fix = (f"ask the translator for {lang.english_name} in {service.script_name(lang)} "
               "script, or import the file as the language it is in")
    raise BadInput(f"the file is for {lang.english_name} ({lang.tag}), written in "
                   f"{service.script_name(lang)} script, but {len(wrong)} sentence(s) are "
                   f"not ({shown}); nothing was imported", fix=fix, code="translation-script",
                   extra={"refused": wrong})
