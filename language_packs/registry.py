"""The region's languages: BCP-47 tags, names, scripts, writing direction, NHS codes,
and the one place where Argos Translate and Whisper codes map to cohear's tags.

Whether a pack is *installed* is not a fact of the registry; `language_packs.service`
combines these facts with the packs actually installed in a data directory.
"""

from __future__ import annotations

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


def normalise_tag(tag: str) -> str:
    """The registry's spelling of `tag` (case-insensitive, common aliases accepted)."""
    key = (tag or "").strip().replace("_", "-").lower()
    return _BY_LOWER.get(key) or ALIASES.get(key) or ""


def get_language(tag: str) -> Language:
    """The registry entry for a BCP-47 tag; BadInput listing the known tags otherwise."""
    found = normalise_tag(tag)
    if not found:
        hint = (" (say ckb for Sorani or kmr for Kurmanji)"
                if (tag or "").strip().lower() in ("ku", "kur") else "")
        raise BadInput(f"{tag!r} is not a language cohear knows{hint}",
                       fix="use one of: " + ", ".join(LANGUAGES))
    return LANGUAGES[found]


def is_rtl(tag: str) -> bool:
    return get_language(tag).direction == "rtl"


def from_whisper(code: str) -> str:
    """cohear's tag for a language code Whisper detected ("pa" -> "pa-Guru", "zh" -> "zh-Hans")."""
    try:
        return _FROM_WHISPER[code]
    except KeyError:
        raise BadInput(f"Whisper's language {code!r} is not one of the region's languages",
                       fix="add it to language_packs/registry.py, or choose the language "
                           "by hand") from None


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
