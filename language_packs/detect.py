"""Offline language detection for the region's languages: a trained model where one
knows the language, cohear's own rules where none does. No network.

The model is lingua (`lingua-language-detector`, its n-gram models ship inside the
wheel), restricted to the 18 region languages it knows. Measured on a labelled set of
short health sentences (`tests/health_sentences.py`, `bench/language_id.py`), it beats
cohear's rules on every language it knows (English, Polish, Romanian, Somali,
Portuguese, Spanish, French, Italian, Lithuanian, Slovak and Urdu; the others tie), so
it decides those. It does not know Pashto, Sorani or Kurmanji Kurdish, Tigrinya or
Shahmukhi Punjabi, and tells Chinese from nothing but Japanese, so per script:

- Gurmukhi, Bengali, Gujarati, Devanagari and Ethiopic letters decide the language
  alone (pa-Guru, bn, gu, hi, ti): no model is needed, or loaded.
- Arabic script: letters only Pashto or Sorani have decide ps or ckb; otherwise lingua
  chooses among Urdu, Arabic and Persian, and Punjabi words (مینوں، نوں، وچ، نال، نئیں،
  اے ...) weigh for Shahmukhi (pa-Arab) against Urdu's function words (ہے، نہیں، سے،
  کو ...): each net Punjabi word makes pa-Arab likelier (one 65%, two 88%, three 96%)
  and the model's languages share the rest, so "مینوں اج کلینک نئیں جانا" is pa-Arab
  93, Urdu 7.
- Han characters: hanzidentifier (CC-CEDICT's character sets) tells Traditional
  (zh-Hant) from Simplified (zh-Hans); text written the same in both reads as zh-Hans.
- Latin script: Kurmanji's letters with its common words decide kmr; otherwise lingua.

lingua loads each language's model the first time a text might be in it (lazily, once
per process): on the benchmark all of them took about 350 MB and 10 s on first use;
`COHEAR_LANGUAGE_ID=low-memory` uses its trigram models only (35 MB, half a second, a
few more short sentences wrong). See `bench/language_id.py`.

Limits: a word or two is a guess and gets low confidence; Sylheti cannot be told from
Bengali in writing (it reads as bn); languages outside the registry are reported as the
nearest registry language.
"""

from __future__ import annotations

import os
import re
import threading
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


def detect_by_rules(text: str) -> list[dict]:
    """cohear's rules alone (script, tell-tale letters, common words): candidate
    languages, best first, [{"language": tag, "confidence": 0..100}]. `detect` uses them
    where the model knows nothing; the benchmark compares the two."""
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


# -- the model, and the mix -------------------------------------------------------------
# lingua's names for the region languages it knows.
_LINGUA = {"ENGLISH": "en", "URDU": "ur", "PUNJABI": "pa-Guru", "BENGALI": "bn",
           "POLISH": "pl", "ROMANIAN": "ro", "ARABIC": "ar", "PERSIAN": "fa",
           "SOMALI": "so", "GUJARATI": "gu", "CHINESE": "zh-Hans", "PORTUGUESE": "pt",
           "SPANISH": "es", "FRENCH": "fr", "ITALIAN": "it", "LITHUANIAN": "lt",
           "SLOVAK": "sk", "HINDI": "hi"}
# Words of Punjabi in Shahmukhi that Urdu does not use (each one is evidence), and
# Urdu's own function words (evidence against). "اج" (today) counts half: Urdu writes
# آج, but people typing quickly drop the madda.
_SHAHMUKHI_WORDS = dict.fromkeys(
    "نوں وچ نال تسیں تہاڈا تہاڈی تہاڈے ساڈا ساڈی ساڈے اے ایں کتھے کتھوں لئی لوڑ سکدا "
    "سکدی سکدے کردے کردا کردی مینوں تینوں اوہ ایہہ نئیں کجھ ایتھے اوتھے کیہ توں دتی دتا "
    "لگدا لگدی جاندا جاندی اوہناں ایہناں چنگا چنگی ہن سی تے ہتھ آں کدی کدے چاہندا چاہندی".split(), 1.0) | {"اج": 0.5}
_URDU_WORDS = dict.fromkeys("ہے ہیں نہیں سے کو تھا تھی تھے رہا رہی گا گی گے یہ وہ".split(), 1.0)
# How much one net Punjabi word is worth: the chance the text is Punjabi is
# 1 - _SHAHMUKHI_DOUBT ** net (one word 65%, two 88%, three 96%).
_SHAHMUKHI_DOUBT = 0.35
# Kurmanji is hardly ever written without one of these (Somali, which shares some
# short words, never has them).
_KURMANJI_LETTERS = set("êîûş")
_model = None
_model_lock = threading.Lock()


def model_mode() -> str:
    """`COHEAR_LANGUAGE_ID`: "accurate" (lingua's full models, the default) or
    "low-memory" (its trigram models only: a tenth of the memory, a little less right on
    short texts; see the README's measurements)."""
    mode = os.environ.get("COHEAR_LANGUAGE_ID", "accurate").strip().lower() or "accurate"
    if mode not in ("accurate", "low-memory"):
        from cohear.errors import SettingsError
        raise SettingsError(f"COHEAR_LANGUAGE_ID is {mode!r}",
                            fix="set it to accurate or low-memory, or unset it")
    return mode


def model():
    """The lingua detector, built once per process on first use (its language models
    then load lazily, each the first time a text might be in that language)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                from lingua import Language, LanguageDetectorBuilder
                builder = LanguageDetectorBuilder.from_languages(
                    *(getattr(Language, name) for name in _LINGUA))
                if model_mode() == "low-memory":
                    builder = builder.with_low_accuracy_mode()
                _model = builder.build()
    return _model


def _by_model(text: str) -> list[dict]:
    values = model().compute_language_confidence_values(text)
    found = [{"language": _LINGUA[v.language.name], "confidence": round(100 * v.value, 1)}
             for v in values[:3] if v.value > 0]
    return found or [{"language": "en", "confidence": 0.0}]


def _chinese(text: str) -> list[dict]:
    import hanzidentifier
    kind = hanzidentifier.identify(text)
    han = sum(_script(ch) == "HAN" for ch in text)
    sure = round(100 * min(1.0, han / 6), 1)
    if kind == hanzidentifier.TRADITIONAL:
        return [{"language": "zh-Hant", "confidence": sure}]
    if kind == hanzidentifier.SIMPLIFIED:
        return [{"language": "zh-Hans", "confidence": sure}]
    # Written the same in both, or mixed: Simplified, the more common, but unsure.
    return [{"language": "zh-Hans", "confidence": round(sure / 2, 1)},
            {"language": "zh-Hant", "confidence": round(sure / 2, 1)}]


def _with_shahmukhi(text: str, model: list[dict]) -> list[dict]:
    """The model's Arabic-script candidates with Punjabi (Shahmukhi), which it does not
    know, weighed in: Punjabi words count for it and Urdu function words against it, and
    the model's languages share what is left (confidences still add up as before)."""
    words = _WORD.findall(text)
    net = (sum(_SHAHMUKHI_WORDS.get(w, 0) for w in words)
           - sum(_URDU_WORDS.get(w, 0) for w in words))
    if net <= 0:
        return model
    punjabi = 1 - _SHAHMUKHI_DOUBT ** net
    return [{"language": "pa-Arab", "confidence": round(100 * punjabi, 1)}] + [
        {"language": d["language"], "confidence": round(d["confidence"] * (1 - punjabi), 1)}
        for d in model[:2]]


def _best_first(found: list[dict]) -> list[dict]:
    """Highest confidence first (ties keep their order), so the first is the answer."""
    return sorted(found, key=lambda d: -d["confidence"])


def detect(text: str) -> list[dict]:
    """Candidate languages, best first: [{"language": tag, "confidence": 0..100}], sorted
    by confidence, so the first is the answer (see the module docstring for which part
    decides which language)."""
    return _best_first(_detect(text))


def _detect(text: str) -> list[dict]:
    counts: dict[str, int] = {}
    for ch in text:
        script = _script(ch)
        if script:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return [{"language": "en", "confidence": 0.0}]
    script = max(counts.items(), key=lambda kv: kv[1])[0]
    if script in _SCRIPT_LANGUAGE:
        return detect_by_rules(text)
    if script in ("HAN", "HIRAGANA", "KATAKANA"):
        return _chinese(text)
    if script == "ARABIC":
        ruled = detect_by_rules(text)
        if ruled[0]["language"] in ("ps", "ckb"):
            return ruled
        return _best_first(_with_shahmukhi(text, _by_model(text)))
    if script == "LATIN":
        ruled = detect_by_rules(text)
        best = [d for d in ruled if d["confidence"] == ruled[0]["confidence"]]
        if _KURMANJI_LETTERS & set(text.lower()) and any(d["language"] == "kmr" for d in best):
            kmr = next(d for d in best if d["language"] == "kmr")
            return [kmr] + [d for d in ruled if d is not kmr][:2]
        return _by_model(text)
    return detect_by_rules(text)
