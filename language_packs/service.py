"""What each language can have here (machine translation, speech recognition, or human
translation only), and translation of plain text or HTML for people and tools. The
region's languages are always listed; any other BCP-47 language is described on request
(human translation only, speech recognition where Whisper knows it).

Roles: any signed-in person may read the languages; staff may list packs; only admins
install or remove packs; communicators, reviewers and admins may machine-translate
(collectors and researchers work with people's words, not with message drafting).
"""

from __future__ import annotations

from cohear.auth import User
from cohear.errors import BadInput
from cohear.permissions import ALL, STAFF, register
from cohear.store import Store
from language_packs.engine import Translation, get_engine
from language_packs.packs import installed_pairs
from language_packs.registry import ARGOS_PUBLISHED, LANGUAGES, Language, get_language

register({
    "languages.read": ALL,
    "packs.read": STAFF,
    "packs.manage": {"admin"},
    "translate.use": {"communicator", "reviewer", "admin"},
})

MACHINE = "machine translation"
HUMAN = "human translation only"


def _describe(lang: Language, pairs: set[tuple[str, str]]) -> dict:
    from_en = ("en", lang.tag) in pairs
    to_en = (lang.tag, "en") in pairs
    published = lang.argos_code in ARGOS_PUBLISHED if lang.argos_code else False
    if lang.tag == "en":
        translation = "source language"
    elif from_en:
        translation = MACHINE
    else:
        translation = HUMAN
    if not lang.in_region:
        advice = ("not one of the region's languages: use a human translator"
                  + ("" if lang.whisper_code else "; Whisper does not recognise it either"))
    elif lang.tag != "en" and not from_en and published:
        advice = f"an Argos pack exists: cohear packs install translate-en_{lang.argos_code}"
    elif lang.tag != "en" and not published:
        advice = "no Argos pack exists; use a human translator"
    else:
        advice = lang.note
    return {
        "tag": lang.tag, "english_name": lang.english_name, "native_name": lang.native_name,
        "script": lang.script, "direction": lang.direction, "nhs_code": lang.nhs_code,
        "argos_code": lang.argos_code, "whisper_code": lang.whisper_code, "note": lang.note,
        "pack_from_english": from_en, "pack_to_english": to_en,
        "argos_pack_published": published,
        "speech_recognition": lang.whisper_code is not None,
        "translation": translation, "advice": advice, "in_region": lang.in_region,
    }


def coverage(store: Store, also: list[str] | tuple[str, ...] = ()) -> list[dict]:
    """Every region language, then each language in `also` that is not one of them
    (surveys in Swahili, say), with what is installed for it on this machine."""
    pairs = {(p["source"], p["target"]) for p in installed_pairs(store)}
    langs = list(LANGUAGES.values())
    for tag in also:
        lang = get_language(tag)
        if lang not in langs:
            langs.append(lang)
    return [_describe(lang, pairs) for lang in langs]


def language(store: Store, tag: str) -> dict:
    pairs = {(p["source"], p["target"]) for p in installed_pairs(store)}
    return _describe(get_language(tag), pairs)


def translate(store: Store, user: User, texts: list[str], source: str, target: str,
              *, fmt: str = "text") -> list[Translation]:
    """Machine-translate texts (plain or HTML) for a person allowed to. Placeholders and
    protected terms are swapped for tokens first and put back after, with the glossary's
    fixed translations for the target (comms' rules), as for every message."""
    user.require("translate.use")
    if fmt not in ("text", "html"):
        raise BadInput(f"the format {fmt!r} is not known", fix="use text or html")
    guarded = guard(store, source, target)
    if fmt == "text":
        return guarded(list(texts))
    from language_packs.markup import translate_html
    return [translate_html(text, guarded, source, target) for text in texts]


def guard(store: Store, source: str, target: str):
    """A function translating a list of plain texts source -> target through the engine,
    placeholders and protected terms kept (see `comms.placeholders`)."""
    from dataclasses import replace

    from comms import placeholders
    from comms.service import protected_terms
    engine = get_engine(store)
    terms, fixed = protected_terms(store, get_language(target).tag)

    def run(texts: list[str]) -> list[Translation]:
        shielded = [placeholders.protect(t, terms, fixed) for t in texts]
        done = engine.translate([p.text for p in shielded], source, target)
        return [replace(d, text=placeholders.restore(d.text, p)) for d, p in zip(done, shielded)]

    return run


def installed_languages(store: Store) -> dict[str, list[str]]:
    """Every language an installed pack translates from or into (registry order), with
    the tags it reaches: directly, or through English (X -> en -> Y)."""
    pairs = {(p["source"], p["target"]) for p in installed_pairs(store)}
    present = {tag for pair in pairs for tag in pair}
    out: dict[str, list[str]] = {}
    for source in LANGUAGES:
        if source not in present:
            continue
        out[source] = [t for t in LANGUAGES if t != source and (
            (source, t) in pairs or ((source, "en") in pairs and ("en", t) in pairs))]
    return out
