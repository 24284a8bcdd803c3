"""Safeguarding keywords per language: the words about self-harm, abuse and danger that
raise an answer's safeguarding flag, so it goes to the top of every review queue.

The lists live in `safeguarding_keywords.toml` (one table per language; its header says
how a term is written), so a safeguarding lead can read and review them without reading
code. They are a net, not a classifier: a person reads every flagged answer, and
reviewers raise flags by hand. A missed disclosure never reaches the top of the queue,
so the lists lean towards flagging.

How an answer is matched:

- **Normalised first**, the answer and the lists alike: Unicode NFC, case folded,
  zero-width joiners and other invisible format characters dropped; in Arabic script
  the letter variants typed on Arabic and Persian keyboards read as one (ي ى ی, ك ک,
  ه ہ ھ ة, أ إ آ ا, ؤ و, ئ ی, ۓ ے) and harakat and tatweel dropped; Gurmukhi nukta and
  addak dropped and tippi read as bindi; Latin letters lose their accents ("zabic sie"
  is "zabić się", as people type on an English keyboard).
- **Words, not substrings**: the answer is split into words (letters, marks and digits;
  Python's `\\w` would split Bengali and Gurmukhi words at their vowel signs), and a
  term matches whole words, so "مار" (beat) is not found in "بیماری" (illness).
- **Inflections**: English words are compared by their Snowball stem (snowballstemmer:
  beats, beating, beaten... ; "kill myself" matches "killing myself"). No stemmer exists
  for Urdu, Punjabi, Bengali or Somali (and the Snowball stemmers for Polish and Arabic
  are too light to rely on for these verbs), so their lists give each verb stem with the
  endings the language uses (Urdu -تا/-تی/-تے/-نا/-ا..., Punjabi -ਦਾ/-ਦੀ/-ਦੇ/-ਿਆ... and
  -دا/-دی/-یا..., Bengali's forms of মারা written out) and each list names them.
- **Context where a word is ambiguous**: a verb that also has everyday uses flags only
  next to a victim ("مجھے … مارتا", "beat me", "bije … dzieci") or an abuser ("شوہر …
  مارتا"); "I beat the eggs", "serce mi bije", "মারা গেছেন" (passed away) and "risk"
  words (خطرہ, خطر) on their own do not flag. English `except` terms cancel a match
  inside them ("it hurts me" is a symptom).
- **Which lists**: the answer's language's list, the list of every language whose
  script the answer's letters use (a Punjabi answer recorded as pa-Arab whose
  transcript Whisper wrote in Gurmukhi; Urdu typed in a Punjabi session), and English
  always (answers mix languages). `keyword_hits` is called on an answer's words in its
  language and on its English rendering.

Covered: English, Urdu, Punjabi (Gurmukhi and Shahmukhi), Bengali (and Sylheti, written
in Bengali letters), Polish, Romanian, Arabic and Somali. Other languages rely on their
English rendering and on reviewers. Romanised Urdu and Punjabi ("mujhe marta hai") are
not covered yet. Recall and precision per language on a labelled set are in the README
(`bench/safeguarding.py`).
"""

from __future__ import annotations

import functools
import threading
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CONCERNS = ("self-harm", "abuse", "danger")
DATA_FILE = Path(__file__).with_name("safeguarding_keywords.toml")
GAP_WORDS = 3            # what "…" in a term allows between two words
GAP_MARKS = ("…", "...")
# unicodedata name prefixes -> ISO 15924, for the scripts the lists are written in.
SCRIPTS = {"LATIN": "Latn", "ARABIC": "Arab", "BENGALI": "Beng", "GURMUKHI": "Guru",
           "DEVANAGARI": "Deva"}
_LANGUAGE_KEYS = {"name", "script", "stemmer", "endings", "prefixes", "rewrite", "groups",
                  "same_as", "except", *CONCERNS}


class KeywordFileError(ValueError):
    """The keyword file is not as its header describes (raised when it is loaded)."""


# -- normalising ----------------------------------------------------------------------------

_LETTERS = str.maketrans({
    # Arabic script: the variants Arabic, Persian and Urdu keyboards type for one letter.
    "ي": "ی", "ى": "ی", "ك": "ک", "ه": "ہ", "ھ": "ہ", "ة": "ہ", "ۃ": "ہ", "ۂ": "ہ",
    "ۀ": "ہ", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "ئ": "ی", "ۓ": "ے",
    # Gurmukhi: tippi and bindi both nasalise; spellings differ.
    "\u0a70": "\u0a02",
    # Bengali khanda ta is ta with a virama (typed either way).
    "\u09ce": "\u09a4\u09cd",
    # Apostrophes as phones type them.
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'",
    # Latin letters without a decomposition.
    "ł": "l", "đ": "d", "ø": "o", "ı": "i",
})
_DROP = frozenset(
    [chr(c) for c in range(0x064B, 0x0660)]          # harakat, hamza above and below
    + [chr(c) for c in range(0x0610, 0x061B)]        # Arabic honorific and Quranic signs
    + [chr(c) for c in range(0x06D6, 0x06EE)]        # Quranic annotation signs
    + ["\u0670", "\u0640",                           # superscript alef, tatweel
       "\u0a3c", "\u0a71",                           # Gurmukhi nukta, addak
       "\u093c"])                                    # Devanagari nukta


@functools.lru_cache(maxsize=4096)
def _char(c: str) -> str:
    """One character as matching reads it (cached: answers repeat few characters)."""
    if c in _DROP or unicodedata.category(c) == "Cf":   # ZWJ, ZWNJ, LRM, soft hyphen...
        return ""
    if c.isascii():
        return c
    if unicodedata.name(c, "").startswith("LATIN"):
        return unicodedata.normalize("NFD", c)[0]      # the letter without its accent
    return c


def normalise(text: str) -> str:
    """`text` as the keyword lists are matched against it (see the module docstring)."""
    folded = unicodedata.normalize("NFC", text or "").casefold().translate(_LETTERS)
    return "".join(_char(c) for c in folded)


def _is_word_char(c: str) -> bool:
    return unicodedata.category(c)[0] in "LMN"


def words(text: str) -> list[str]:
    """The normalised words of `text`: runs of letters, marks and digits (an apostrophe
    inside a word stays in it: "don't")."""
    out, current = [], []
    norm = normalise(text)
    for i, c in enumerate(norm):
        if _is_word_char(c) or (c == "'" and current and i + 1 < len(norm)
                                and _is_word_char(norm[i + 1])):
            current.append(c)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


def scripts_of(text: str) -> set[str]:
    """The ISO 15924 scripts of the letters in `text` (those the lists are written in)."""
    found = set()
    for c in set(text or ""):
        if c.isalpha():
            script = SCRIPTS.get(unicodedata.name(c, "").split(" ")[0])
            if script:
                found.add(script)
    return found


# -- the lists ----------------------------------------------------------------------------

_stem_lock = threading.Lock()


@functools.lru_cache(maxsize=65536)
def _stem(stemmer: str, word: str) -> str:
    with _stem_lock:  # a Snowball stemmer object keeps its state while it works
        return _stemmers(stemmer).stemWord(word)


@functools.cache
def _stemmers(name: str):
    import snowballstemmer
    return snowballstemmer.stemmer(name)


@dataclass(frozen=True)
class Slot:
    """One word of a term: the words it accepts as written, by stem, or by beginning."""
    exact: frozenset[str] = frozenset()
    stems: frozenset[str] = frozenset()
    starts: tuple[str, ...] = ()

    def accepts(self, word: str, stem: str | None) -> bool:
        return (word in self.exact or (stem is not None and stem in self.stems)
                or word.startswith(self.starts))


@dataclass(frozen=True)
class Term:
    concern: str                       # a CONCERNS entry, or "except"
    text: str                          # as written in the file
    slots: tuple[Slot | None, ...]     # None: up to GAP_WORDS other words


@dataclass(frozen=True)
class KeywordList:
    tag: str
    name: str
    script: str
    stemmer: str | None = None
    rewrite: dict[str, tuple[str, ...]] = field(default_factory=dict)
    terms: tuple[Term, ...] = ()
    exceptions: tuple[Term, ...] = ()


@dataclass(frozen=True)
class Match:
    concern: str
    language: str      # the list that matched
    term: str          # the term as written in the file (never the answer's words)


def _compile(text: str, concern: str, where: str, table: dict, stemmer: str | None) -> Term:
    endings = [normalise(e) for e in table.get("endings", [])]
    prefixes = [normalise(p) for p in table.get("prefixes", [])]
    groups = table.get("groups", {})
    parts = text.split()
    if not parts or parts[0] in GAP_MARKS or parts[-1] in GAP_MARKS:
        raise KeywordFileError(f"{where}: {text!r} must begin and end with a word")
    slots: list[Slot | None] = []
    for part in parts:
        if part in GAP_MARKS:
            if slots[-1] is None:
                raise KeywordFileError(f"{where}: {text!r} has two gaps in a row")
            slots.append(None)
            continue
        exact: set[str] = set()
        stems: set[str] = set()
        starts: list[str] = []
        alternatives = []
        for alt in part.split("|"):
            if alt.startswith("{") and alt.endswith("}"):
                if alt[1:-1] not in groups:
                    raise KeywordFileError(f"{where}: {text!r} uses the group {alt}, which "
                                           "the language does not define")
                alternatives.extend(groups[alt[1:-1]].split("|"))
            else:
                alternatives.append(alt)
        for alt in alternatives:
            if not alt or alt in ("*", "+", "~", "="):
                raise KeywordFileError(f"{where}: {text!r} has an empty word")
            prefixed = alt.startswith("*")
            body = alt[1:] if prefixed else alt
            if prefixed and not prefixes:
                raise KeywordFileError(f"{where}: {text!r} uses *word, but the language lists "
                                       "no prefixes")
            marker = body[-1] if body[-1] in "*+~" else ""
            body = body[:-1] if marker else body
            exactly = body.startswith("=")
            body = normalise(body.removeprefix("="))
            if marker in ("*", "+") and not endings:
                raise KeywordFileError(f"{where}: {text!r} uses stem{marker}, but the language "
                                       "lists no endings")
            if marker == "~":
                starts.append(body)
                continue
            forms = {body + e for e in endings} if marker in ("*", "+") else set()
            if marker != "+":
                forms.add(body)
            if prefixed:
                forms |= {p + f for p in prefixes for f in forms}
            if stemmer and not (exactly or marker or prefixed):
                stems.update(_stem(stemmer, f) for f in forms)
            else:
                exact.update(forms)
        slots.append(Slot(frozenset(exact), frozenset(stems), tuple(starts)))
    return Term(concern, text, tuple(slots))


def load(path: Path = DATA_FILE) -> dict[str, KeywordList]:
    """The keyword lists in `path`, checked as its header describes (KeywordFileError,
    naming the language and term, for anything else)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KeywordFileError(f"{Path(path).name}: {exc}") from None
    out: dict[str, KeywordList] = {}
    for tag, table in data.items():
        if not isinstance(table, dict):
            raise KeywordFileError(f"{tag}: each language is a table")
        unknown = set(table) - _LANGUAGE_KEYS
        if unknown:
            raise KeywordFileError(f"{tag}: unknown key(s) {', '.join(sorted(unknown))} "
                                   f"(known: {', '.join(sorted(_LANGUAGE_KEYS))})")
        if table.get("script") not in SCRIPTS.values():
            raise KeywordFileError(f"{tag}: script must be one of {', '.join(SCRIPTS.values())}")
        if "same_as" in table:
            if table["same_as"] not in data or "same_as" in data[table["same_as"]]:
                raise KeywordFileError(f"{tag}: same_as must name a language with terms")
            table = {**data[table["same_as"]], "name": table.get("name", tag),
                     "script": table["script"]}
        stemmer = table.get("stemmer")
        if stemmer is not None:
            import snowballstemmer
            if stemmer not in snowballstemmer.algorithms():
                raise KeywordFileError(f"{tag}: there is no Snowball stemmer {stemmer!r}")
        terms = tuple(_compile(t, concern, f"{tag}.{concern}", table, stemmer)
                      for concern in CONCERNS for t in table.get(concern, []))
        exceptions = tuple(_compile(t, "except", f"{tag}.except", table, stemmer)
                           for t in table.get("except", []))
        rewrite = {normalise(k): tuple(words(v)) for k, v in table.get("rewrite", {}).items()}
        out[tag] = KeywordList(tag, table.get("name", tag), table["script"], stemmer, rewrite,
                               terms, exceptions)
    return out


@functools.cache
def lists() -> dict[str, KeywordList]:
    """The shipped lists, loaded once per process."""
    return load()


# -- matching ----------------------------------------------------------------------------

def _ends(slots: tuple[Slot | None, ...], ws: list[str], stems: list[str | None], i: int,
          s: int = 0) -> Iterator[int]:
    """Where a match of slots[s:] starting at word i ends (exclusive), every way."""
    if s == len(slots):
        yield i
        return
    slot = slots[s]
    if slot is None:
        for skip in range(GAP_WORDS + 1):
            yield from _ends(slots, ws, stems, i + skip, s + 1)
        return
    if i < len(ws) and slot.accepts(ws[i], stems[i]):
        yield from _ends(slots, ws, stems, i + 1, s + 1)


def _spans(term: Term, ws: list[str], stems: list[str | None]) -> Iterator[tuple[int, int]]:
    first = term.slots[0]
    for i in range(len(ws)):
        if first.accepts(ws[i], stems[i]):  # most words start nothing: no generator for them
            for end in _ends(term.slots, ws, stems, i):
                yield i, end


def _list_matches(kl: KeywordList, base: list[str]) -> list[Match]:
    ws: list[str] = []
    for w in base:
        ws.extend(kl.rewrite.get(w, (w,)))
    stems = [_stem(kl.stemmer, w) for w in ws] if kl.stemmer else [None] * len(ws)
    cancelled = [span for t in kl.exceptions for span in _spans(t, ws, stems)]
    found = []
    for term in kl.terms:
        for start, end in _spans(term, ws, stems):
            if not any(a <= start and end <= b for a, b in cancelled):
                found.append(Match(term.concern, kl.tag, term.text))
                break
    return found


def _own_lists(language: str, known: dict[str, KeywordList]) -> list[str]:
    """The list for an answer's language tag ("pa" is pa-Guru, "ar-EG" is ar)."""
    tag = (language or "").strip()
    by_lower = {k.lower(): k for k in known}
    if tag.lower() in by_lower:
        return [by_lower[tag.lower()]]
    try:
        from surveys import links
        registered = links.language(tag).tag
    except Exception:  # noqa: BLE001 - an unknown tag only means no list of its own
        registered = ""
    if registered.lower() in by_lower:
        return [by_lower[registered.lower()]]
    primary = tag.split("-")[0].lower()
    return [by_lower[primary]] if primary in by_lower else []


def keyword_matches(text: str, language: str) -> list[Match]:
    """Every list term that matches `text` (at most one per term): the answer's own
    language's list, the lists of the scripts its letters use, and English."""
    if not text or not text.strip():
        return []
    known = lists()
    scripts = scripts_of(text)
    chosen = _own_lists(language, known) + [tag for tag, kl in known.items()
                                             if kl.script in scripts] + ["en"]
    base = words(text)
    found: list[Match] = []
    for tag in dict.fromkeys(chosen):
        if tag in known:
            found.extend(_list_matches(known[tag], base))
    return found


def keyword_hits(text: str, language: str) -> list[str]:
    """The concerns (e.g. 'self-harm') whose terms appear in `text`, in CONCERNS order
    (see the module docstring for which lists are checked and how)."""
    found = {m.concern for m in keyword_matches(text, language)}
    return [c for c in CONCERNS if c in found]
