"""The region's languages: BCP-47 tags, names, scripts, writing direction, NHS codes,
and the one place where Argos Translate and Whisper codes map to cohear's tags.

Any other language a well-formed, registered BCP-47 tag names (Swahili `sw`, Yoruba
`yo`, Cantonese `yue`...) is a language too: its names and script come from the IANA
subtag registry and CLDR (through `langcodes`), it gets no machine translation (cohear's
Argos packs are for the region's languages) and speech recognition only where Whisper
knows it. Such a language is never refused; only a tag that names no language is.

Whether a pack is *installed* is not a fact of the registry; `language_packs.service`
combines these facts with the packs actually installed in a data directory.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cohear.errors import BadInput


@dataclass(frozen=True)
class Language:
    tag: str                    # BCP-47, as used everywhere inside cohear
    english_name: str
    native_name: str
    script: str                 # ISO 15924
    direction: str              # "ltr" or "rtl"
    nhs_code: str | None        # NHS "main spoken language" code (ISO 639-1 based), on export
    argos_code: str | None      # the code Argos Translate packs use for it
    whisper_code: str | None    # the code Whisper recognises it by
    note: str = ""              # what people need to know (e.g. which script speakers read)
    in_region: bool = True      # one of the region's languages (False: any other BCP-47 language)


# Argos Translate publishes en<->X packs for these (the argospm index, also hi, lt, sk).
# Whether one is installed here is decided by the packs table, never by this list.
ARGOS_PUBLISHED = frozenset({"ar", "bn", "fa", "pl", "ro", "ur", "zh", "zt", "es", "pt", "fr",
                             "it", "hi", "lt", "sk"})

# NHS Data Dictionary "Person main spoken language" codes are ISO 639-1 based; Sylheti has
# no code of its own there (recorded as Bengali by most systems), so it gets None here.
LANGUAGES: dict[str, Language] = {lang.tag: lang for lang in (
    Language("en", "English", "English", "Latn", "ltr", "en", "en", "en"),
    Language("ur", "Urdu", "اردو", "Arab", "rtl", "ur", "ur", "ur"),
    Language("pa-Guru", "Punjabi (Gurmukhi)", "ਪੰਜਾਬੀ", "Guru", "ltr", "pa", None, "pa",
             note="Whisper writes Punjabi in Gurmukhi"),
    Language("pa-Arab", "Punjabi (Shahmukhi)", "پنجابی", "Arab", "rtl", "pa", None, "pa",
             note="Whisper recognises Punjabi speech but writes Gurmukhi"),
    Language("bn", "Bengali", "বাংলা", "Beng", "ltr", "bn", "bn", "bn"),
    Language("syl", "Sylheti", "সিলেটি", "Beng", "ltr", None, None, None,
             note="mostly spoken; speakers usually read Bengali, so send Bengali text"),
    Language("pl", "Polish", "polski", "Latn", "ltr", "pl", "pl", "pl"),
    Language("ro", "Romanian", "română", "Latn", "ltr", "ro", "ro", "ro"),
    Language("ar", "Arabic", "العربية", "Arab", "rtl", "ar", "ar", "ar"),
    Language("gu", "Gujarati", "ગુજરાતી", "Gujr", "ltr", "gu", None, "gu"),
    Language("so", "Somali", "Soomaali", "Latn", "ltr", "so", None, "so"),
    Language("ps", "Pashto", "پښتو", "Arab", "rtl", "ps", None, "ps"),
    Language("fa", "Persian (Farsi)", "فارسی", "Arab", "rtl", "fa", "fa", "fa"),
    Language("ckb", "Kurdish (Sorani)", "کوردیی ناوەندی", "Arab", "rtl", "ku", None, None),
    Language("kmr", "Kurdish (Kurmanji)", "Kurmancî", "Latn", "ltr", "ku", None, None),
    Language("ti", "Tigrinya", "ትግርኛ", "Ethi", "ltr", "ti", None, None),
    Language("zh-Hans", "Chinese (Simplified)", "简体中文", "Hans", "ltr", "zh", "zh", "zh"),
    Language("zh-Hant", "Chinese (Traditional)", "繁體中文", "Hant", "ltr", "zh", "zt", "zh",
             note="Whisper may answer in either script"),
    Language("pt", "Portuguese", "português", "Latn", "ltr", "pt", "pt", "pt"),
    Language("es", "Spanish", "español", "Latn", "ltr", "es", "es", "es"),
    Language("fr", "French", "français", "Latn", "ltr", "fr", "fr", "fr"),
    Language("it", "Italian", "italiano", "Latn", "ltr", "it", "it", "it"),
    Language("hi", "Hindi", "हिन्दी", "Deva", "ltr", "hi", "hi", "hi"),
    Language("lt", "Lithuanian", "lietuvių", "Latn", "ltr", "lt", "lt", "lt"),
    Language("sk", "Slovak", "slovenčina", "Latn", "ltr", "sk", "sk", "sk"),
)}

# Tags people and other tools commonly use for a registry language. "ku" is left out on
# purpose: Sorani and Kurmanji differ in script, so the caller must say which.
ALIASES = {
    "pa": "pa-Guru", "pan": "pa-Guru", "pnb": "pa-Arab", "pa-pk": "pa-Arab", "pa-in": "pa-Guru",
    "zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant", "zt": "zh-Hant", "pt-br": "pt", "pt-pt": "pt", "pb": "pt",
    "en-gb": "en", "en-us": "en", "fa-ir": "fa", "prs": "fa", "ur-pk": "ur", "bn-bd": "bn",
}
_BY_LOWER = {tag.lower(): tag for tag in LANGUAGES}
_FROM_ARGOS = {lang.argos_code: lang.tag for lang in LANGUAGES.values() if lang.argos_code}
_FROM_ARGOS["pb"] = "pt"  # Argos' Brazilian Portuguese packs
# Whisper has one code for several of our tags; these are the defaults when it answers.
_FROM_WHISPER = {lang.whisper_code: lang.tag for lang in reversed(LANGUAGES.values())
                 if lang.whisper_code}


# Scripts written right to left (ISO 15924), for languages outside the region's list.
RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Mand",
                         "Samr", "Mend", "Yezi", "Aran"})
MAX_TAG_CHARS = 35  # the longest tag RFC 5646 asks implementations to accept


def normalise_tag(tag: str) -> str:
    """The registry's spelling of `tag` (case-insensitive, common aliases accepted);
    "" when it is not one of the region's languages."""
    key = (tag or "").strip().replace("_", "-").lower()
    return _BY_LOWER.get(key) or ALIASES.get(key) or ""


def _refuse(tag: str, why: str) -> BadInput:
    hint = (" (say ckb for Sorani or kmr for Kurmanji)"
            if (tag or "").strip().lower() in ("ku", "kur") else "")
    return BadInput(f"{tag!r} is not a language cohear knows{hint}: {why}",
                    fix="give a BCP-47 tag such as sw, yo or pa-Guru (the region's languages: "
                        + ", ".join(LANGUAGES) + ")")


@functools.lru_cache(maxsize=512)
def _other_language(tag: str) -> Language:
    """A language outside the region's list, from its BCP-47 tag (langcodes: the IANA
    subtag registry for validity, CLDR for names and the likely script)."""
    import langcodes

    raw = tag.strip().replace("_", "-")
    if not raw or len(raw) > MAX_TAG_CHARS or not langcodes.tag_is_valid(raw):
        raise _refuse(tag, "it is not a registered BCP-47 language tag")
    lang = langcodes.get(raw)
    if lang.language in (None, "und") or raw.lower().startswith("x-"):
        raise _refuse(tag, "it names no particular language")
    standard = lang.to_tag()
    if normalise_tag(standard):  # e.g. "iw" -> "he" is not ours, but "in-Guru" may be
        return LANGUAGES[normalise_tag(standard)]
    script = lang.script or lang.maximize().script or ""
    primary = lang.language
    return Language(
        tag=standard, english_name=lang.display_name("en"), native_name=lang.autonym(),
        script=script, direction="rtl" if script in RTL_SCRIPTS else "ltr",
        # NHS main-spoken-language codes are ISO 639-1 based; others have none there.
        nhs_code=primary if len(primary) == 2 else None, argos_code=None,
        whisper_code=primary if primary in _whisper_codes() else None,
        note="not one of the region's languages: human translation only", in_region=False)


@functools.cache
def _whisper_codes() -> frozenset[str]:
    try:
        from faster_whisper.tokenizer import _LANGUAGE_CODES
    except ImportError:  # speech is optional; without it no language has recognition here
        return frozenset()
    return frozenset(_LANGUAGE_CODES)


def get_language(tag: str) -> Language:
    """The language a BCP-47 tag names: the region's entry (aliases accepted), or any
    other registered language. BadInput only for a tag that names no language."""
    found = normalise_tag(tag)
    if found:
        return LANGUAGES[found]
    if (tag or "").strip().lower() in ("ku", "kur"):
        raise _refuse(tag, "Kurdish is written in two scripts")
    return _other_language((tag or "").strip())


def is_region_language(tag: str) -> bool:
    return bool(normalise_tag(tag))


def is_rtl(tag: str) -> bool:
    return get_language(tag).direction == "rtl"


def from_whisper(code: str) -> str:
    """cohear's tag for a language code Whisper detected ("pa" -> "pa-Guru", "zh" -> "zh-Hans";
    a language outside the region keeps Whisper's code, which is a BCP-47 tag)."""
    if code in _FROM_WHISPER:
        return _FROM_WHISPER[code]
    if code and code in _whisper_codes():
        return get_language(code).tag
    raise BadInput(f"{code!r} is not a language code Whisper uses",
                   fix="choose the language by hand")


def to_whisper(tag: str) -> str | None:
    """The code to give Whisper for a tag, or None where Whisper does not know the language."""
    return get_language(tag).whisper_code


def from_argos(code: str) -> str:
    """cohear's tag for an Argos Translate code ("zt" -> "zh-Hant")."""
    try:
        return _FROM_ARGOS[code]
    except KeyError:
        raise BadInput(f"the Argos language code {code!r} is not one of the region's languages",
                       fix="cohear's registry (language_packs/registry.py) lists "
                           + ", ".join(sorted(_FROM_ARGOS))) from None


def to_argos(tag: str) -> str | None:
    return get_language(tag).argos_code
