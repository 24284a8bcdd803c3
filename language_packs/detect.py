"""Offline language detection for the region's languages, by script and then by a few
tell-tale letters and common words. No model, no network.

How it works: count letters per Unicode script. A script used by one registry language
decides it (Gurmukhi -> pa-Guru, Bengali -> bn, Gujarati -> gu, Devanagari -> hi,
Ethiopic -> ti). Arabic script is split by letters each language has and the others
lack (Urdu ے ٹ ڈ ڑ ں ہ, Pashto ټ ډ ړ ښ ږ, Sorani ە ێ ۆ ڵ ڕ, Persian پ چ ژ گ without those).
Chinese is Simplified or Traditional by characters that differ between the two. Latin
script is scored by language-specific letters and a short list of very common words.

Limits: short texts (a word or two) are guesses and get low confidence; Sylheti cannot
be told from Bengali in writing (it reads as bn); Shahmukhi Punjabi is often taken for
Urdu; languages outside the registry are reported as the nearest registry language.
"""

from __future__ import annotations

import re
import unicodedata

_SCRIPT_LANGUAGE = {"GURMUKHI": "pa-Guru", "BENGALI": "bn", "GUJARATI": "gu",
                    "DEVANAGARI": "hi", "ETHIOPIC": "ti"}

# Letter -> weight per language. Urdu, Pashto and Sorani letters are strong evidence;
# the Persian letters are shared with them, so they count for less.
_ARABIC_MARKERS = {
    "ur": dict.fromkeys("ےٹڈڑںۓھہۂ", 3),
    "ps": dict.fromkeys("ټډړښږځڅۍېګ", 3),
    "ckb": dict.fromkeys("ەێۆڵڕۊ", 3),
    "fa": dict.fromkeys("پچژگیک", 0.5),
    "ar": dict.fromkeys("ةىإأيك", 1),
}
_SIMPLIFIED = set("们这个国说医药时会来对没为门见长开关问间听书写东车马鸟鱼气电话钱请认让")
_TRADITIONAL = set("們這個國說醫藥時會來對沒為門見長開關問間聽書寫東車馬鳥魚氣電話錢請認讓")

_LATIN_LETTERS = {
    "pl": set("ąęłżźśćń"), "ro": set("ășțâî"), "lt": set("ąčęėįšųūž"),
    "sk": set("ľĺŕôäčšžťňď"), "kmr": set("êûîşç"), "pt": set("ãõçâêô"),
    "es": set("ñ¿¡áéíóú"), "fr": set("çéèêëàâîïôûœ"), "it": set("àèéìòù"),
}
_COMMON_WORDS = {
    "en": "the and you your to of is are for with please this that have be in it not",
    "pl": "i w nie na się jest to że z do jak co tak ale",
    "ro": "și în de la nu este un o cu pentru să care mai",
    "so": "iyo waa ka ku in oo u ay aad la ee si haddii",
    "pt": "e de o a que não um uma para com por os as",
    "es": "y de el la que no un una para con por los las es",
    "fr": "et de le la les des un une pour avec vous est pas",
    "it": "e di il la che non un una per con sono gli le",
    "lt": "ir yra kad ne su į tai kaip bet",
    "sk": "a je na sa v to že nie ako aj",
    "kmr": "û ji bi de di ku ez tu em ev",
}
_LATIN_WORDS = {tag: set(words.split()) for tag, words in _COMMON_WORDS.items()}
_WORD = re.compile(r"\w+", re.UNICODE)


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    if name.startswith("CJK"):
        return "HAN"
    return name.split(" ")[0]


def detect(text: str) -> list[dict]:
    """Candidate languages, best first: [{"language": tag, "confidence": 0..100}]."""
    counts: dict[str, int] = {}
    for ch in text:
        script = _script(ch)
        if script:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return [{"language": "en", "confidence": 0.0}]
    script, n = max(counts.items(), key=lambda kv: kv[1])
    share = n / sum(counts.values())
    length_factor = min(1.0, n / 20)  # a few letters are not much evidence
    if script in _SCRIPT_LANGUAGE:
        return [{"language": _SCRIPT_LANGUAGE[script],
                 "confidence": round(100 * share * (0.5 + 0.5 * length_factor), 1)}]
    if script == "ARABIC":
        return _rank({tag: sum(marks.get(ch, 0) for ch in text) for tag, marks in
                      _ARABIC_MARKERS.items()}, default="ar", share=share,
                     length_factor=length_factor)
    if script in ("HAN", "HIRAGANA", "KATAKANA"):
        simp = sum(ch in _SIMPLIFIED for ch in text)
        trad = sum(ch in _TRADITIONAL for ch in text)
        return _rank({"zh-Hans": simp, "zh-Hant": trad}, default="zh-Hans", share=share,
                     length_factor=length_factor)
    if script == "LATIN":
        lowered = text.lower()
        words = _WORD.findall(lowered)
        scores = {tag: 0.0 for tag in set(_LATIN_WORDS) | set(_LATIN_LETTERS)}
        for tag, common in _LATIN_WORDS.items():
            scores[tag] += sum(w in common for w in words)
        for tag, letters in _LATIN_LETTERS.items():
            scores[tag] += 1.5 * sum(ch in letters for ch in lowered)
        return _rank(scores, default="en", share=share, length_factor=length_factor)
    return [{"language": "en", "confidence": 0.0}]


def _rank(scores: dict[str, float], *, default: str, share: float,
          length_factor: float) -> list[dict]:
    total = sum(scores.values())
    if total <= 0:
        return [{"language": default, "confidence": round(30 * share * length_factor, 1)}]
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"language": tag, "confidence": round(100 * share * (score / total)
                                                  * (0.5 + 0.5 * length_factor), 1)}
            for tag, score in ranked if score > 0]
