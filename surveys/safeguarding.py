"""Safeguarding keywords per language: words about self-harm, abuse and danger that
raise an answer's safeguarding flag, so it goes to the top of every review queue.

The lists are a starting point, not a classifier: a person reads every flagged answer,
and reviewers can raise a flag by hand. Matching ignores case and word endings.
"""

from __future__ import annotations

import re
import unicodedata

# language (primary subtag) -> concern -> words or phrases
KEYWORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "self-harm": ("suicide", "kill myself", "end my life", "self-harm", "self harm",
                      "hurt myself", "cutting myself", "overdose", "want to die"),
        "abuse": ("abuse", "abused", "beats me", "hits me", "hit me", "rape", "assault",
                  "forced marriage", "domestic violence", "controlling"),
        "danger": ("not safe", "unsafe", "threatened", "threatens", "locked in", "trafficked",
                   "weapon", "knife"),
    },
    "ur": {
        "self-harm": ("خودکشی", "خود کشی", "مرنا چاہتا", "مرنا چاہتی", "اپنے آپ کو نقصان"),
        "abuse": ("مارتا ہے", "مارتی ہے", "تشدد", "زیادتی", "زبردستی شادی"),
        "danger": ("محفوظ نہیں", "خطرہ", "دھمکی"),
    },
    "pa": {
        "self-harm": ("ਖੁਦਕੁਸ਼ੀ", "ਮਰਨਾ ਚਾਹੁੰਦਾ", "ਮਰਨਾ ਚਾਹੁੰਦੀ"),
        "abuse": ("ਕੁੱਟਦਾ", "ਹਿੰਸਾ", "ਜ਼ਬਰਦਸਤੀ"),
        "danger": ("ਸੁਰੱਖਿਅਤ ਨਹੀਂ", "ਖ਼ਤਰਾ", "ਧਮਕੀ"),
    },
    "bn": {
        "self-harm": ("আত্মহত্যা", "মরে যেতে চাই"),
        "abuse": ("মারধর", "নির্যাতন", "জোর করে বিয়ে"),
        "danger": ("নিরাপদ নই", "বিপদ", "হুমকি"),
    },
    "pl": {
        "self-harm": ("samobójstwo", "zabić się", "skrzywdzić siebie", "chcę umrzeć"),
        "abuse": ("bije mnie", "przemoc", "gwałt", "znęca"),
        "danger": ("nie jestem bezpieczna", "nie jestem bezpieczny", "grozi", "niebezpiecz"),
    },
    "ro": {
        "self-harm": ("sinucidere", "să mă omor", "vreau să mor"),
        "abuse": ("mă bate", "violență", "abuz", "viol"),
        "danger": ("nu sunt în siguranță", "amenință", "pericol"),
    },
    "ar": {
        "self-harm": ("انتحار", "أقتل نفسي", "أريد أن أموت"),
        "abuse": ("يضربني", "عنف", "اعتداء", "زواج قسري"),
        "danger": ("لست بأمان", "تهديد", "خطر"),
    },
    "so": {
        "self-harm": ("is dil", "naftayda"),
        "abuse": ("i garaaca", "xadgudub", "kufsi"),
        "danger": ("ammaan ma ihi", "khatar", "hanjabaad"),
    },
}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def keyword_hits(text: str, language: str) -> list[str]:
    """The concerns (e.g. 'self-harm') whose words appear in `text`, checking the lists
    for the text's language and always English (answers mix languages)."""
    if not text:
        return []
    folded = _fold(text)
    primary = (language or "en").split("-")[0].lower()
    found: list[str] = []
    for lang in dict.fromkeys((primary, "en")):
        for concern, words in KEYWORDS.get(lang, {}).items():
            if concern in found:
                continue
            for word in words:
                w = _fold(word)
                # Latin-script words must start at a word boundary ("hit" is not in "white").
                pattern = (r"(?<!\w)" + re.escape(w)) if w[:1].isascii() else re.escape(w)
                if re.search(pattern, folded):
                    found.append(concern)
                    break
    return found
