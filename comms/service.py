"""Health messages and their translations: versions of the source, the per-language
workflow (machine, needs_review, approved; human_requested, received; stale), the
glossary and translation memory. No HTTP and no terminal here.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import nh3

from cohear import audit, limits
from cohear import text as text_rule
from cohear.auth import User
from cohear.errors import BadInput, Conflict, Forbidden, NotFound, TooLarge, Unprocessable
from cohear.permissions import register, who_may
from cohear.store import Store, utcnow
from comms import placeholders, plain, segments, sms
from comms.similarity import chrf
from language_packs.registry import Language, get_language

register({
    "comms.read": {"admin", "communicator", "reviewer", "researcher"},
    "comms.write": {"admin", "communicator"},
    "comms.edit_translation": {"admin", "communicator", "reviewer"},
    # Admins may approve too, so a small team without a reviewer is not stuck.
    "comms.approve": {"admin", "reviewer"},
})

CHANNELS = ("sms", "letter", "phone_script", "poster", "whatsapp")
STATUSES = ("machine", "needs_review", "approved", "human_requested", "received", "stale")
APPROVABLE = ("machine", "needs_review", "received")
MAX_SOURCE_CHARS = limits.MESSAGE_SOURCE_CHARS  # a long letter; longer text is split into messages
MAX_TRANSLATION_CHARS = limits.TRANSLATION_CHARS
MAX_TITLE_CHARS = limits.TITLE_CHARS
MAX_TAGS = limits.TAGS_PER_MESSAGE
SYNC_TRANSLATIONS = 5        # more message x language pairs than this go to a job
WRITE_BATCH = 50             # messages per write transaction: few commits, short locks
MEMORY_LOOKUP = 500          # sentences per translation-memory query
SIMILARITY_MEASURE = ("chrF (0-100) of each source sentence against its back-translation; "
                      "the message's score is their mean weighted by sentence length")

_TAG_LIKE = re.compile(r"<\s*[a-zA-Z!/?]")
# unicodedata name prefixes of the letters each ISO 15924 script allows.
_SCRIPT_NAMES = {
    "Latn": ("LATIN",), "Arab": ("ARABIC",), "Beng": ("BENGALI",), "Guru": ("GURMUKHI",),
    "Gujr": ("GUJARATI",), "Deva": ("DEVANAGARI",), "Ethi": ("ETHIOPIC",),
    "Hans": ("CJK",), "Hant": ("CJK",), "Hani": ("CJK",), "Cyrl": ("CYRILLIC",),
    "Grek": ("GREEK",), "Thaa": ("THAANA",), "Hebr": ("HEBREW",),
}


# -- languages ---------------------------------------------------------------------
def language(tag: str) -> Language:
    """The registry entry for `tag`; unknown tags raise BadInput naming the fix."""
    if not isinstance(tag, str) or not tag.strip():
        raise BadInput("a language tag is needed", fix="use a BCP-47 tag such as ur or pa-Guru")
    return get_language(tag.strip())


def _engine(store: Store):
    # Imported when first needed: it loads CTranslate2, which the CLI rarely needs.
    from language_packs.engine import get_engine
    return get_engine(store)


# -- checking input ------------------------------------------------------------------
def clean_text(text: str, what: str, limit: int) -> str:
    """Plain text only: HTML is reduced to its words (scripts and styles dropped),
    control characters refused, length limited."""
    if not isinstance(text, str):
        raise BadInput(f"the {what} must be text", fix="send a string")
    text_rule.check(text, what)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").strip()
    if _TAG_LIKE.search(text):
        text = html.unescape(nh3.clean(text, tags=set(),
                                       clean_content_tags={"script", "style"}))
        text = re.sub(r"[ \t]{2,}", " ", text).strip()
    if not text:
        raise BadInput(f"the {what} is empty", fix=f"write the {what}")
    if len(text) > limit:
        raise TooLarge(f"the {what} is {len(text):,} characters; the limit is {limit:,}",
                       fix="shorten it, or split it into more than one message")
    # Zero-width (non-)joiners are part of spelling in Persian, Urdu and Indic scripts.
    bad = [c for c in text
           if unicodedata.category(c) in ("Cc", "Cf") and c not in "\n\t\u200c\u200d"]
    if bad:
        raise BadInput(f"the {what} contains control characters ({', '.join(map(repr, bad[:3]))})",
                       fix="paste it as plain text")
    return text


_SCRIPT_NAMES_IN_WORDS = {
    "Latn": "Latin", "Arab": "Arabic", "Beng": "Bengali", "Guru": "Gurmukhi",
    "Gujr": "Gujarati", "Deva": "Devanagari", "Ethi": "Ethiopic", "Hans": "Simplified Chinese",
    "Hant": "Traditional Chinese", "Hani": "Chinese", "Cyrl": "Cyrillic", "Grek": "Greek",
    "Thaa": "Thaana", "Hebr": "Hebrew",
}


def script_name(lang: Language) -> str:
    """The language's script in words ("Gurmukhi", "Arabic", "Simplified Chinese")."""
    return _SCRIPT_NAMES_IN_WORDS.get(lang.script, lang.script)


def _foreign_letters(text: str, lang: Language) -> list[str]:
    """Letters of `text` (placeholders left out) from a script `lang` is not written in;
    a non-Latin language may also hold Latin words (GP, brand names), as real texts do."""
    allowed = _SCRIPT_NAMES.get(lang.script)
    if not allowed:
        return []
    if lang.script != "Latn":
        allowed = (*allowed, "LATIN")
    kept = list(text)
    for p in placeholders.find(text):
        kept[p.start:p.end] = " " * (p.end - p.start)
    foreign = []
    for c in kept:
        if unicodedata.category(c).startswith("L"):
            name = unicodedata.name(c, "")
            if not name.startswith(allowed) and c not in foreign:
                foreign.append(c)
    return foreign


# A sentence for a language with a script of its own is "romanised" when at least this
# many of its words are in Latin letters and they outnumber the words in the language's
# script. Kept names and addresses do not count (placeholders, URLs, email addresses,
# the built-in and glossary terms), nor do acronyms (NHS, GP, COVID), so "اپنے GP سے
# COVID-19 ویکسین" is Urdu; below three Latin words a sentence could be a name kept as
# it is ("Calpol Plus"), so short romanised sentences pass and a reviewer sees them.
ROMANISED_MIN_WORDS = 3
ACRONYM_MAX_LETTERS = 6
# Scripts written without spaces between words: each character counts as a word.
_UNSPACED = {"Hans", "Hant", "Hani"}


def _romanised(text: str, lang: Language, terms: Iterable[str] | None) -> bool:
    if lang.script == "Latn" or lang.script not in _SCRIPT_NAMES:
        return False
    kept = list(text)
    found = (placeholders.find(text) if terms is None
             else placeholders.find(text, tuple(terms)))
    for p in found:
        kept[p.start:p.end] = " " * (p.end - p.start)
    runs, current = [], []
    for c in kept:      # runs of letters and marks (\w splits Indic words at vowel signs)
        if unicodedata.category(c)[0] in "LM":
            current.append(c)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    latin = native = 0
    for run in runs:
        letters = [c for c in run if unicodedata.category(c).startswith("L")]
        if not letters:
            continue
        if all(unicodedata.name(c, "").startswith("LATIN") for c in letters):
            if not (run.isupper() and len(letters) <= ACRONYM_MAX_LETTERS):
                latin += 1
        else:
            native += len(letters) if lang.script in _UNSPACED else 1
    return latin >= ROMANISED_MIN_WORDS and latin > native


def script_problem(text: str, lang: Language, terms: Iterable[str] | None = None) -> str | None:
    """What in `text`'s letters says it is not written as `lang` is ("Gurmukhi letters",
    "Traditional Chinese characters", "mostly Latin letters (romanised)" for romanised
    Urdu and the like: see ROMANISED_MIN_WORDS), or None. Names scripts, never the
    words. `terms`: the names kept as they are (default: the built-in ones)."""
    foreign = _foreign_letters(text, lang)
    if foreign:
        names = sorted({"Chinese" if n == "CJK" else n.title() for n in
                        (unicodedata.name(c, "?").split(" ")[0] for c in foreign)})
        return " and ".join(names) + " letters"
    if _romanised(text, lang, terms):
        return "mostly Latin letters (romanised)"
    if lang.script in ("Hans", "Hant"):
        import hanzidentifier  # CC-CEDICT's character sets: which form of Chinese
        kind = hanzidentifier.identify(text)
        if lang.script == "Hans" and kind == hanzidentifier.TRADITIONAL:
            return "Traditional Chinese characters"
        if lang.script == "Hant" and kind == hanzidentifier.SIMPLIFIED:
            return "Simplified Chinese characters"
    return None


def languages_written_like(text: str, lang: Language) -> list[Language]:
    """The region's other languages with `lang`'s primary subtag whose script `text`
    fits (Gurmukhi text for pa-Arab: pa-Guru), to say what a file may really be."""
    from language_packs.registry import LANGUAGES
    primary = lang.tag.split("-")[0]
    return [other for other in LANGUAGES.values() if other.tag != lang.tag
            and other.tag.split("-")[0] == primary and script_problem(text, other) is None]


def check_script(text: str, lang: Language) -> None:
    """Refuse letters from another script than the language's (e.g. Arabic letters in
    an English source). Placeholders and protected terms are left out, digits and
    punctuation are allowed, and a non-Latin language may also hold Latin words (GP,
    brand names), as real messages do."""
    foreign = _foreign_letters(text, lang)
    if foreign:
        raise BadInput(f"the text mixes scripts: {lang.english_name} is written in "
                       f"{lang.script}, but it contains {''.join(foreign[:10])!r}",
                       fix="write the message in one language; put other languages' "
                           "text in their translations")


def check_translation_script(text: str, lang: Language, what: str = "translation",
                             terms: Iterable[str] | None = None) -> None:
    """Refuse a translation whose letters are not `lang`'s script (Gurmukhi saved as
    Shahmukhi Punjabi, Traditional characters as Simplified Chinese, romanised Urdu):
    BadInput with code `translation-script`, naming the scripts (not the words) and the
    language it may be. `terms`: the names kept as they are (the glossary's)."""
    problem = script_problem(text, lang, terms)
    if problem is None:
        return
    fits = languages_written_like(text, lang)
    fix = (f"if it is {fits[0].english_name}, save it as {fits[0].tag}; otherwise "
           if fits else "")
    raise BadInput(f"the {what} is written in {problem}, but {lang.english_name} "
                   f"({lang.tag}) is written in {script_name(lang)} script",
                   fix=fix + f"ask for the {lang.english_name} translation in "
                             f"{script_name(lang)} script", code="translation-script")


# -- messages ------------------------------------------------------------------------
def _tags(tags: Iterable[str] | None) -> list[str]:
    out = []
    for t in tags or []:
        t = str(t).strip().lower()
        if t and t not in out:
            if len(t) > limits.TAG_CHARS:
                raise TooLarge(f"the tag {t[:20]!r}... is too long",
                               fix=f"keep tags to {limits.TAG_CHARS} characters")
            out.append(t)
        limits.check_count("tags on one message", len(out), MAX_TAGS,
                           fix=f"use at most {MAX_TAGS} tags")
    return out


def _audience(audience: str | None) -> str:
    # Refused, not cut: a cut audience would be stored as something nobody wrote.
    return limits.check_chars("the audience", (audience or "").strip(), limits.AUDIENCE_CHARS,
                              fix="say who the message is for in a few words")


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise BadInput(f"{channel!r} is not a channel", fix="use one of: " + ", ".join(CHANNELS))
    return channel


def create_message(store: Store, actor: User, *, title: str, source_text: str,
                   channel: str, audience: str = "", tags: Iterable[str] | None = None,
                   source_language: str = "en") -> dict:
    """A new message at version 1."""
    text_rule.check(audience, "audience")
    text_rule.check_each(tags, "tag")
    title = clean_text(title, "title", MAX_TITLE_CHARS)
    text = clean_text(source_text, "message", MAX_SOURCE_CHARS)
    lang = language(source_language)
    check_script(text, lang)
    now = utcnow()
    with store.transaction() as conn:
        mid = conn.execute(
            "INSERT INTO messages (title, audience, channel, tags_json, source_language, "
            "owner_id, current_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
            (title, _audience(audience), _channel(channel),
             json.dumps(_tags(tags)), lang.tag, actor.id or None, now, now)).lastrowid
        conn.execute("INSERT INTO message_versions (message_id, version, source_text, "
                     "segments_json, created_by, created_at) VALUES (?, 1, ?, ?, ?, ?)",
                     (mid, text, _sentences_json(text, lang.tag), actor.id or None, now))
        audit.record(conn, actor, "message.create", "message", mid,
                     after={"title": title, "source_text": text, "version": 1})
    return get_message(store, mid)


def _message_row(store: Store, message_id: int):
    if not isinstance(message_id, int) or not 0 < message_id < 2**63:
        raise NotFound(f"message {message_id} does not exist", fix="see `cohear messages list`")
    row = store.one("SELECT m.*, v.source_text, v.segments_json, u.name AS owner "
                    "FROM messages m JOIN message_versions v "
                    "ON v.message_id = m.id AND v.version = m.current_version "
                    "LEFT JOIN users u ON u.id = m.owner_id WHERE m.id = ?", (message_id,))
    if row is None:
        raise NotFound(f"message {message_id} does not exist", fix="see `cohear messages list`")
    return row


def _sentences_json(text: str, lang: str) -> str:
    return json.dumps([{"source": s.source, "start": s.start, "sep": s.sep}
                       for s in segments.split(text, lang)], ensure_ascii=False)


def source_segments(message) -> list[segments.Segment]:
    """The sentences of a message's current version, as split when it was saved."""
    if message["segments_json"]:
        return [segments.Segment(**s) for s in json.loads(message["segments_json"])]
    return segments.split(message["source_text"], message["source_language"])


def _message_dict(row, counts: dict | None = None) -> dict:
    return {"id": row["id"], "title": row["title"], "audience": row["audience"],
            "channel": row["channel"], "tags": json.loads(row["tags_json"]),
            "source_language": row["source_language"], "owner": row["owner"],
            "version": row["current_version"], "source_text": row["source_text"],
            "created_at": row["created_at"], "updated_at": row["updated_at"],
            "translations": counts or {}}


def get_message(store: Store, message_id: int) -> dict:
    row = _message_row(store, message_id)
    counts = {r["language"]: r["status"] for r in store.all(
        "SELECT language, status FROM translations WHERE message_id = ? ORDER BY language",
        (message_id,))}
    return _message_dict(row, counts)


def list_messages(store: Store, *, tag: str | None = None, channel: str | None = None,
                  limit: int = 500) -> list[dict]:
    sql = ("SELECT m.*, v.source_text, u.name AS owner FROM messages m JOIN message_versions v "
           "ON v.message_id = m.id AND v.version = m.current_version "
           "LEFT JOIN users u ON u.id = m.owner_id WHERE 1=1")
    params: list = []
    if tag:
        sql += " AND EXISTS (SELECT 1 FROM json_each(m.tags_json) WHERE value = ?)"
        params.append(tag.strip().lower())
    if channel:
        sql += " AND m.channel = ?"
        params.append(_channel(channel))
    sql += " ORDER BY m.id LIMIT ?"
    params.append(limit)
    rows = store.all(sql, tuple(params))
    statuses: dict[int, dict] = {}
    for r in store.all("SELECT message_id, language, status FROM translations"):
        statuses.setdefault(r["message_id"], {})[r["language"]] = r["status"]
    return [_message_dict(r, statuses.get(r["id"], {})) for r in rows]


def versions(store: Store, message_id: int) -> list[dict]:
    _message_row(store, message_id)
    return [dict(r) for r in store.all(
        "SELECT v.version, v.source_text, v.created_at, u.name AS created_by "
        "FROM message_versions v "
        "LEFT JOIN users u ON u.id = v.created_by WHERE v.message_id = ? ORDER BY v.version",
        (message_id,))]


def message_changed(message_id: int, edited: int, current: int) -> Conflict:
    """The refusal of an edit made to a version that is no longer the current one."""
    return Conflict(f"message {message_id} was changed by someone else: you edited version "
                    f"{edited}, and it is now at version {current}",
                    fix="reload the message, then make your edit again on the current version",
                    extra={"current_version": current, "edited_version": edited},
                    code="message-changed")


def edit_message(store: Store, actor: User, message_id: int, *, source_text: str | None = None,
                 title: str | None = None, audience: str | None = None,
                 channel: str | None = None, tags: Iterable[str] | None = None,
                 expected_version: int | None = None) -> dict:
    """Change a message. A new source text is a new version, and every translation of the
    old one becomes `stale` (its text kept, still pointing at the version it translates).

    `expected_version` is the version the editor had in front of them: when the message
    has moved on since, the edit is refused (409 `message-changed`) rather than silently
    replacing someone else's words. The API and the TUI always pass it; None (no check)
    is for cohear's own callers that write words nobody edited by hand."""
    text_rule.check(audience, "audience")
    text_rule.check_each(tags, "tag")
    row = _message_row(store, message_id)
    lang = language(row["source_language"])
    text = None if source_text is None else clean_text(source_text, "message", MAX_SOURCE_CHARS)
    if text is not None:
        check_script(text, lang)
    changes: dict = {}
    if title is not None:
        changes["title"] = clean_text(title, "title", MAX_TITLE_CHARS)
    if audience is not None:
        changes["audience"] = _audience(audience)
    if channel is not None:
        changes["channel"] = _channel(channel)
    if tags is not None:
        changes["tags_json"] = json.dumps(_tags(tags))
    now = utcnow()
    with store.transaction() as conn:
        current = conn.execute("SELECT current_version FROM messages WHERE id = ?",
                               (message_id,)).fetchone()[0]
        if expected_version is not None and expected_version != current:
            raise message_changed(message_id, expected_version, current)
        version = current
        if text is not None and text != row["source_text"]:
            version = current + 1
            conn.execute("INSERT INTO message_versions (message_id, version, source_text, "
                         "segments_json, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (message_id, version, text, _sentences_json(text, lang.tag),
                          actor.id or None, now))
            changes["current_version"] = version
            audit.record(conn, actor, "message.edit_source", "message", message_id,
                         before={"source_text": row["source_text"], "version": current},
                         after={"source_text": text, "version": version})
            for t in conn.execute("SELECT * FROM translations WHERE message_id = ? AND "
                                  "status != 'stale'", (message_id,)).fetchall():
                _write_translation(conn, actor, t, {"status": "stale"},
                                   reason=f"source changed to version {version}")
        if changes:
            changes["updated_at"] = now
            sets = ", ".join(f"{k} = ?" for k in changes)
            conn.execute(f"UPDATE messages SET {sets} WHERE id = ?",
                         (*changes.values(), message_id))
            meta = {k: v for k, v in changes.items()
                    if k in ("title", "audience", "channel", "tags_json")}
            if meta:
                audit.record(conn, actor, "message.edit", "message", message_id,
                             before={k: row[k] for k in meta}, after=meta)
    return get_message(store, message_id)


def check_message(store: Store, message_id: int) -> dict:
    """The plain-language check, the placeholders found and, for SMS, the length."""
    row = _message_row(store, message_id)
    report = check_text(store, row["source_text"], source_language=row["source_language"])
    report["version"] = row["current_version"]
    return report


def check_text(store: Store, text: str, *, source_language: str = "en") -> dict:
    """The same check for words not saved yet (an editor checking as one types): the
    plain-language findings (English sources), the placeholders and protected terms
    found, each with character offsets into `text`, and the text's SMS length."""
    report = plain.check(text) if language(source_language).tag == "en" else {"findings": []}
    report["placeholders"] = [p.__dict__ for p in placeholders.find(text, _terms(store))]
    report["sms"] = sms.info(text)
    return report


# -- glossary ------------------------------------------------------------------------
def _terms(store: Store, lang: str | None = None) -> list[str]:
    """Terms kept as they are: the built-in ones, the glossary's for every language, and
    (given `lang`) the glossary's for that language."""
    extra = [r["term"] for r in store.all(
        "SELECT term FROM glossary WHERE translation IS NULL AND "
        "(language IS NULL OR language = ?)", (lang,))]
    return list(placeholders.DO_NOT_TRANSLATE) + extra


def _fixed(store: Store, lang: str) -> dict[str, str]:
    return {r["term"]: r["translation"] for r in store.all(
        "SELECT term, translation FROM glossary WHERE language = ? AND translation IS NOT NULL",
        (lang,))}


def protected_terms(store: Store, lang: str) -> tuple[list[str], dict[str, str]]:
    """What machine translation into `lang` must keep (terms) or render as the glossary
    says (fixed translations): for other domains that translate through the engine."""
    return _terms(store, lang), _fixed(store, lang)


def add_glossary_term(store: Store, actor: User, term: str, *, language_tag: str | None = None,
                      translation: str | None = None, note: str = "") -> dict:
    """A do-not-translate term (no language), or a fixed translation in one language."""
    text_rule.check(note, "glossary note")
    term = clean_text(term, "term", limits.GLOSSARY_TERM_CHARS)
    note = limits.check_chars("the note", (note or "").strip(), limits.NOTE_CHARS)
    lang = language(language_tag).tag if language_tag else None
    if translation is not None:
        translation = clean_text(translation, "fixed translation",
                                 limits.GLOSSARY_TRANSLATION_CHARS)
        if lang is None:
            raise BadInput("a fixed translation needs a language", fix="give --language")
    with store.transaction() as conn:
        conn.execute("INSERT INTO glossary (term, language, translation, note, created_by, "
                     "created_at) VALUES (?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (term, coalesce(language, '')) "
                     "DO UPDATE SET translation = excluded.translation, note = excluded.note",
                     (term, lang, translation, note, actor.id or None, utcnow()))
        audit.record(conn, actor, "glossary.set", "glossary", term,
                     after={"term": term, "language": lang, "translation": translation})
    return {"term": term, "language": lang, "translation": translation, "note": note}


def remove_glossary_term(store: Store, actor: User, term: str, *,
                         language_tag: str | None = None) -> dict:
    """Remove a do-not-translate term (no language) or one language's fixed translation.
    The built-in terms (NHS, GP, medicine names) are part of cohear and cannot go."""
    actor.require("comms.write")
    term = (term or "").strip()
    lang = language(language_tag).tag if language_tag else None
    if lang is None and term in placeholders.DO_NOT_TRANSLATE:
        raise Conflict(f"{term!r} is one of cohear's built-in protected terms",
                       fix="built-in terms stay; give it a fixed translation per language "
                           "instead")
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM glossary WHERE term = ? AND coalesce(language, '') "
                           "= ?", (term, lang or "")).fetchone()
        if row is None:
            raise NotFound(f"the glossary has no entry {term!r}"
                           + (f" in {lang}" if lang else " for every language"),
                           fix="see the glossary's list")
        conn.execute("DELETE FROM glossary WHERE id = ?", (row["id"],))
        audit.record(conn, actor, "glossary.remove", "glossary", term,
                     before={"term": term, "language": lang, "translation": row["translation"],
                             "note": row["note"]})
    return {"term": term, "language": lang, "translation": row["translation"],
            "note": row["note"]}


def list_glossary(store: Store) -> list[dict]:
    built_in = [{"term": t, "language": None, "translation": None, "note": "built in"}
                for t in placeholders.DO_NOT_TRANSLATE]
    return built_in + [dict(r) for r in store.all(
        "SELECT term, language, translation, note FROM glossary ORDER BY term, language")]


# -- translations: reading -------------------------------------------------------------
def _translation_row(store: Store, message_id: int, lang: str):
    row = store.one("SELECT * FROM translations WHERE message_id = ? AND language = ?",
                    (message_id, lang))
    if row is None:
        raise NotFound(f"message {message_id} has no {lang} translation yet",
                       fix="translate it first, or request a human translation")
    return row


def translation_dict(store: Store, row, message=None) -> dict:
    message = message or _message_row(store, row["message_id"])
    lang = language(row["language"])
    segs = json.loads(row["segments_json"])
    names = {r["id"]: r["name"] for r in store.all(
        "SELECT id, name FROM users WHERE id IN (?, ?)", (row["approved_by"], row["updated_by"]))}
    out = {
        "message_id": row["message_id"], "language": row["language"],
        "language_name": lang.english_name, "direction": lang.direction,
        "status": row["status"], "text": row["text"],
        "source_version": row["source_version"], "current_version": message["current_version"],
        "origin": row["origin"], "engine": row["engine"], "pivoted": bool(row["pivoted"]),
        "back_translation": row["back_translation"], "similarity": row["similarity"],
        "similarity_measure": SIMILARITY_MEASURE,
        "placeholder_problems": json.loads(row["placeholder_problems_json"]),
        "segments": segs, "reused_segments": sum(1 for s in segs if s.get("reused")),
        "revision": row["revision"], "approved_by": names.get(row["approved_by"]),
        "approved_at": row["approved_at"], "updated_by": names.get(row["updated_by"]),
        "updated_at": row["updated_at"],
    }
    if message["channel"] == "sms" and row["text"]:
        out["sms"] = sms.info(row["text"])
    return out


def list_translations(store: Store, message_id: int) -> list[dict]:
    message = _message_row(store, message_id)
    return [translation_dict(store, r, message) for r in store.all(
        "SELECT * FROM translations WHERE message_id = ? ORDER BY language", (message_id,))]


def get_translation(store: Store, message_id: int, lang: str) -> dict:
    return translation_dict(store, _translation_row(store, message_id, language(lang).tag))


def translation_history(store: Store, message_id: int, lang: str) -> list[dict]:
    row = _translation_row(store, message_id, language(lang).tag)
    return [dict(r) for r in store.all(
        "SELECT r.revision, r.source_version, r.status, r.text, r.reason, r.created_at, "
        "u.name AS created_by FROM translation_revisions r "
        "LEFT JOIN users u ON u.id = r.created_by "
        "WHERE r.translation_id = ? ORDER BY r.revision", (row["id"],))]


# -- translations: writing -------------------------------------------------------------
_WORD_FIELDS = ("text", "status", "source_version")


def _write_translation(conn, actor: User, row, changes: dict, *, reason: str) -> int:
    """Change (or, with row None, create) a translation, adding a revision and an audit
    entry with the before and after of its words and status."""
    now = utcnow()
    actor_id = actor.id or None
    if row is None:
        fields = {"revision": 1, "updated_at": now, "updated_by": actor_id, **changes}
        cols = ", ".join(fields)
        tid = conn.execute(f"INSERT INTO translations ({cols}) VALUES "
                           f"({', '.join('?' * len(fields))})", tuple(fields.values())).lastrowid
        before = None
        current = fields
    else:
        tid = row["id"]
        fields = {"revision": row["revision"] + 1, "updated_at": now, "updated_by": actor_id,
                  **changes}
        sets = ", ".join(f"{k} = ?" for k in fields)
        conn.execute(f"UPDATE translations SET {sets} WHERE id = ?", (*fields.values(), tid))
        before = {k: row[k] for k in _WORD_FIELDS}
        current = {**dict(row), **fields}
    conn.execute("INSERT INTO translation_revisions (translation_id, revision, source_version, "
                 "status, text, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (tid, current["revision"], current["source_version"], current["status"],
                  current["text"], reason, actor_id, now))
    audit.record(conn, actor, f"translation.{current['status']}", "translation", tid,
                 before=before, after={k: current[k] for k in _WORD_FIELDS}
                 | {"message_id": current["message_id"], "language": current["language"]},
                 detail=reason)
    return tid


def _problems(source: str, text: str) -> str:
    return json.dumps(placeholders.missing(source, text), ensure_ascii=False)


def translation_changed(message_id: int, tag: str, seen: int, current: int) -> Conflict:
    """The refusal of an edit or approval of a translation revision that is not the
    current one (someone saved, translated or imported it meanwhile)."""
    seen_words = f"revision {seen}" if seen else "no translation"
    now_words = f"revision {current}" if current else "no translation"
    return Conflict(f"the {tag} translation of message {message_id} was changed by someone "
                    f"else: you had {seen_words}, and it is now at {now_words}",
                    fix="reload and review again: read the current text before you save "
                        "or approve it",
                    extra={"current_revision": current, "seen_revision": seen},
                    code="translation-changed")


def edit_translation(store: Store, actor: User, message_id: int, lang: str, text: str,
                     *, reason: str = "edited by hand",
                     expected_revision: int | None = None) -> dict:
    """A person's new text for a translation. It now needs review (or, when a human
    translation was requested, it is `received`), and it translates the current version.

    `expected_revision` is the translation revision the editor started from (0: there was
    no translation yet); when it has moved on since, the edit is refused (409
    `translation-changed`). Saving the very text already stored is no change and is
    never refused. None (no check) is for imports and suggestions, which carry no
    revision."""
    lang_entry = language(lang)
    tag = lang_entry.tag
    text = clean_text(text, "translation", MAX_TRANSLATION_CHARS)
    check_translation_script(text, lang_entry, terms=_terms(store, tag))
    message = _message_row(store, message_id)
    _not_source(message, [tag])
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM translations WHERE message_id = ? AND language = ?",
                           (message_id, tag)).fetchone()
        current = message["current_version"]
        if row is not None and row["text"] == text and row["source_version"] == current:
            return translation_dict(store, row, message)
        now_at = 0 if row is None else row["revision"]
        if expected_revision is not None and expected_revision != now_at:
            raise translation_changed(message_id, tag, expected_revision, now_at)
        requested = row is not None and row["status"] == "human_requested"
        status = "received" if requested else "needs_review"
        changes = {"text": text, "status": status, "source_version": message["current_version"],
                   "segments_json": _align(message, text, tag), "placeholder_problems_json":
                   _problems(message["source_text"], text), "approved_by": None,
                   "approved_at": None, "similarity": None, "back_translation": None}
        if row is None:
            changes |= {"message_id": message_id, "language": tag, "origin": "human"}
        else:
            changes["origin"] = "human"
        _write_translation(conn, actor, row, changes, reason=reason)
    return get_translation(store, message_id, tag)


def _align(message, text: str, tag: str) -> str:
    """Sentence pairs of a hand-edited translation, when it has as many sentences as the
    source (then each can go into memory on approval); otherwise none."""
    source = source_segments(message)
    target = segments.split(text, tag)
    if len(source) != len(target):
        return "[]"
    pairs = [{"source": s.source, "target": t.source, "back": None, "similarity": None,
              "sep": t.sep, "reused": False} for s, t in zip(source, target, strict=True)]
    return json.dumps(pairs, ensure_ascii=False)


def request_human(store: Store, actor: User, message_id: int,
                  languages: Iterable[str]) -> list[dict]:
    """Ask for a human translation (any language, and the only way for those without a
    pack). The old text, if any, is kept until the new one arrives."""
    tags = [language(t).tag for t in languages]
    if not tags:
        raise BadInput("no languages given", fix="name at least one language")
    message = _message_row(store, message_id)
    _not_source(message, tags)
    with store.transaction() as conn:
        for tag in tags:
            row = conn.execute("SELECT * FROM translations WHERE message_id = ? AND language = ?",
                               (message_id, tag)).fetchone()
            if row is not None and row["status"] == "human_requested":
                continue
            changes = {"status": "human_requested", "approved_by": None, "approved_at": None}
            if row is None:
                changes |= {"message_id": message_id, "language": tag, "text": "",
                            "origin": "none", "source_version": message["current_version"]}
            _write_translation(conn, actor, row, changes, reason="human translation requested")
    return [get_translation(store, message_id, t) for t in tags]


def approve_translation(store: Store, actor: User, message_id: int, lang: str, *,
                        revision: int | None = None) -> dict:
    """Approve a translation of the current version (reviewers and admins). Refused when
    it is stale, empty, or has lost a placeholder. Its sentences go into memory.

    `revision` names the text the reviewer read: when the translation has been changed
    since (a hand edit, a new machine translation, a translator's file), approving would
    approve words nobody reviewed, so it is refused (409 `translation-changed`). Asking
    again for a revision that has since been approved with the same words is answered
    with the approval, so a retried request is harmless. The API and the TUI always pass
    it; None (no check) is for cohear's own callers approving words they wrote."""
    actor.require("comms.approve")
    tag = language(lang).tag
    message = _message_row(store, message_id)
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM translations WHERE message_id = ? AND language = ?",
                           (message_id, tag)).fetchone()
        if row is None:
            raise NotFound(f"message {message_id} has no {tag} translation",
                           fix="translate it or request a human translation first")
        if row["status"] == "approved":
            if revision is None or revision == row["revision"] or _same_words(
                    conn, row, revision):
                return translation_dict(store, row, message)
            raise translation_changed(message_id, tag, revision, row["revision"])
        if revision is not None and revision != row["revision"]:
            raise translation_changed(message_id, tag, revision, row["revision"])
        if row["source_version"] != message["current_version"] or row["status"] == "stale":
            raise Conflict(f"the {tag} translation is of version {row['source_version']}, but "
                           f"the message is now at version {message['current_version']}",
                           fix="translate it again or edit it to match the new source, "
                               "then approve")
        if row["status"] not in APPROVABLE:
            raise Conflict(f"the {tag} translation is {row['status']}: there is no text to approve",
                           fix="wait for the translator's text (import it), then approve")
        problems = placeholders.missing(message["source_text"], row["text"])
        if problems:
            lost = ", ".join(p["placeholder"] for p in problems)
            raise Unprocessable(f"the {tag} translation has lost {lost}",
                                fix="edit the translation so it contains every placeholder "
                                    "exactly as in the source, then approve",
                                extra={"placeholder_problems": problems})
        now = utcnow()
        approval = {"status": "approved", "approved_by": actor.id or None, "approved_at": now,
                    "placeholder_problems_json": "[]"}
        _write_translation(conn, actor, row, approval, reason="approved")
        _remember(conn, actor, message, row, now)
    return get_translation(store, message_id, tag)


def _same_words(conn, row, revision: int) -> bool:
    """Whether `revision` of the translation held the words (of the same source version)
    that are approved now: a retried approval of what was reviewed."""
    old = conn.execute("SELECT text, source_version FROM translation_revisions WHERE "
                       "translation_id = ? AND revision = ?", (row["id"], revision)).fetchone()
    return (old is not None and old["text"] == row["text"]
            and old["source_version"] == row["source_version"])


def _remember(conn, actor: User, message, row, now: str) -> None:
    segs = json.loads(row["segments_json"])
    joined = segments.join([s["target"] for s in segs], [s["sep"] for s in segs])
    aligned = bool(segs) and joined == row["text"]
    pairs = ([(s["source"], s["target"], s.get("back"), s.get("similarity")) for s in segs]
             if aligned else [(message["source_text"], row["text"], row["back_translation"],
                               row["similarity"])])
    for source, target, back, score in pairs:
        conn.execute(
            "INSERT INTO translation_memory (source_language, language, source_text, target_text, "
            "back_translation, similarity, translation_id, approved_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source_language, language, source_text) DO UPDATE SET "
            "target_text = excluded.target_text, back_translation = excluded.back_translation, "
            "similarity = excluded.similarity, translation_id = excluded.translation_id, "
            "approved_by = excluded.approved_by, created_at = excluded.created_at",
            (message["source_language"], row["language"], source, target, back, score,
             row["id"], actor.id or None, now))


def suggest_translation(store: Store, actor: User, *, source_text: str, source_language: str,
                        language_tag: str, text: str, via: str) -> list[dict]:
    """A translation someone suggests for a text (LibreTranslate's `/suggest`). It becomes
    the translation, needing review, of every message whose current source is that text;
    where no message has it, a communicator's or admin's suggestion becomes a new message
    (tagged `suggestion`) with the suggestion as its translation, needing review. Nothing
    is ever approved by a suggestion; the audit log records it as a hand edit `via` what."""
    actor.require("comms.edit_translation")
    source = clean_text(source_text, "text", MAX_SOURCE_CHARS)
    source_tag, tag = language(source_language).tag, language(language_tag).tag
    if source_tag == tag:
        raise BadInput(f"the suggestion is in {tag}, the text's own language",
                       fix="suggest a translation into another language")
    ids = [r["id"] for r in store.all(
        "SELECT m.id FROM messages m JOIN message_versions v ON v.message_id = m.id "
        "AND v.version = m.current_version WHERE m.source_language = ? AND v.source_text = ? "
        "ORDER BY m.id", (source_tag, source))]
    if not ids:
        if not actor.may("comms.write"):
            raise Forbidden("no message has this text as its source, and only the roles "
                            f"{who_may('comms.write')} may make a new one from a suggestion",
                            fix="suggest a translation of an existing message's text")
        ids = [create_message(store, actor, title=f"Suggested translation ({via})",
                              source_text=source, channel="phone_script",
                              tags=["suggestion"], source_language=source_tag)["id"]]
    out = []
    for message_id in ids:
        out.append(edit_translation(store, actor, message_id, tag, text,
                                    reason=f"suggested through {via}"))
    return out


def _not_source(message, tags: list[str]) -> None:
    if message["source_language"] in tags:
        raise BadInput(f"{message['source_language']} is the message's own language",
                       fix="choose other languages to translate into")


# -- machine translation ----------------------------------------------------------------
@dataclass
class _Work:
    message: object
    lang: str
    row: object
    segs: list
    targets: list = field(default_factory=list)
    backs: list = field(default_factory=list)
    scores: list = field(default_factory=list)
    reused: list = field(default_factory=list)
    pivoted: bool = False
    engine: str | None = None


def plan_translation(store: Store, message_ids: list[int], languages: Iterable[str], *,
                     force: bool = False) -> tuple[list[_Work], list[dict]]:
    """Check every message and language before anything is written: unknown messages,
    unknown languages and languages with no pack are refused as a whole."""
    tags = []
    for t in languages:
        tag = language(t).tag
        if tag not in tags:
            tags.append(tag)
    if not tags:
        raise BadInput("no languages given", fix="name at least one language, e.g. ur")
    if not message_ids:
        raise BadInput("no messages given", fix="name at least one message")
    engine = None
    work, skipped = [], []
    for mid in dict.fromkeys(message_ids):
        message = _message_row(store, mid)
        _not_source(message, tags)
        segs = source_segments(message)
        existing = {r["language"]: r for r in store.all(
            "SELECT * FROM translations WHERE message_id = ?", (mid,))}
        for tag in tags:
            row = existing.get(tag)
            if (row is not None and not force and row["status"] != "stale"
                    and row["source_version"] == message["current_version"]):
                reason = ("a human translation was requested"
                          if row["status"] == "human_requested"
                          else "already translated for this version")
                skipped.append({"message_id": mid, "language": tag, "status": row["status"],
                                "reason": reason + " (force translates it again)"})
                continue
            work.append(_Work(message, tag, row, segs))
    for src, tag in {(w.message["source_language"], w.lang) for w in work}:
        engine = engine or _engine(store)
        if not engine.can_translate(src, tag):
            name = language(tag).english_name
            raise Unprocessable(f"there is no translation pack for {src} to {tag} ({name}) "
                                "on this machine",
                                fix=f"request a human translation for {tag}, or install a "
                                    "pack with `cohear packs install`")
    return work, skipped


def translate_messages(store: Store, actor: User, message_ids: list[int],
                       languages: Iterable[str], *, force: bool = False,
                       progress: Callable[[float], None] | None = None) -> dict:
    """Machine-translate messages into languages, sentence by sentence, reusing approved
    sentences from translation memory. Engine calls are batched per language pair; each
    message's translations are written together, a batch of messages per transaction."""
    work, skipped = plan_translation(store, message_ids, languages, force=force)
    report = progress or (lambda f: None)
    _fill_from_memory(store, work)
    if any(None in w.targets for w in work):
        _machine_translate(store, work, report)
    report(0.9)
    written = []
    by_message: dict[int, list[_Work]] = {}
    for w in work:
        by_message.setdefault(w.message["id"], []).append(w)
    mids = list(by_message)
    for start in range(0, len(mids), WRITE_BATCH):
        with store.transaction() as conn:
            for mid in mids[start:start + WRITE_BATCH]:
                current = conn.execute("SELECT current_version FROM messages WHERE id = ?",
                                       (mid,)).fetchone()[0]
                for w in by_message[mid]:
                    if current != w.message["current_version"]:
                        continue  # edited meanwhile: the next run translates the new version
                    _save_machine(conn, actor, w)
                    written.append({"message_id": mid, "language": w.lang,
                                    "reused_segments": sum(w.reused),
                                    "segments": len(w.segs), "pivoted": w.pivoted})
    report(1.0)
    return {"translated": written, "skipped": skipped}


def _fill_from_memory(store: Store, work: list[_Work]) -> None:
    """Look every sentence up in memory, a few queries per language pair in all."""
    hits: dict[tuple[str, str, str], object] = {}
    wanted: dict[tuple[str, str], set[str]] = {}
    for w in work:
        wanted.setdefault((w.message["source_language"], w.lang), set()).update(
            seg.source for seg in w.segs)
    for (src, tag), sources in wanted.items():
        ordered = sorted(sources)
        for start in range(0, len(ordered), MEMORY_LOOKUP):
            chunk = ordered[start:start + MEMORY_LOOKUP]
            for r in store.all(
                    "SELECT source_text, target_text, back_translation, similarity "
                    "FROM translation_memory WHERE source_language = ? AND language = ? AND "
                    f"source_text IN ({', '.join('?' * len(chunk))})", (src, tag, *chunk)):
                hits[(src, tag, r["source_text"])] = r
    for w in work:
        for seg in w.segs:
            hit = hits.get((w.message["source_language"], w.lang, seg.source))
            w.targets.append(hit["target_text"] if hit else None)
            w.backs.append(hit["back_translation"] if hit else None)
            w.scores.append(hit["similarity"] if hit else None)
            w.reused.append(hit is not None)


def _machine_translate(store: Store, work: list[_Work], report) -> None:
    engine = _engine(store)
    pairs = sorted({(w.message["source_language"], w.lang) for w in work})
    for n, (src, tag) in enumerate(pairs):
        todo = [(w, i) for w in work if (w.message["source_language"], w.lang) == (src, tag)
                for i, t in enumerate(w.targets) if t is None]
        if not todo:
            continue
        fixed = _fixed(store, tag)
        terms = _terms(store, tag)
        guarded = [placeholders.protect(w.segs[i].source, terms, fixed) for w, i in todo]
        results = engine.translate([g.text for g in guarded], src, tag)
        for (w, i), g, r in zip(todo, guarded, results, strict=True):
            w.targets[i] = placeholders.restore(r.text, g)
            w.pivoted = w.pivoted or bool(r.pivoted)
            w.engine = w.engine or r.engine
        if engine.can_translate(tag, src):
            back_guard = [placeholders.protect(w.targets[i], terms) for w, i in todo]
            backs = engine.translate([g.text for g in back_guard], tag, src)
            for (w, i), g, b in zip(todo, back_guard, backs, strict=True):
                w.backs[i] = placeholders.restore(b.text, g)
                w.scores[i] = chrf(w.backs[i], w.segs[i].source)
        report(0.1 + 0.8 * (n + 1) / len(pairs))


def _weighted_score(w: _Work) -> float | None:
    """The sentences' chrF scores, weighted by sentence length (None when a sentence has
    no back-translation, e.g. there is no pack back into the source language)."""
    if not w.segs or any(c is None for c in w.scores):
        return None
    total = sum(len(s.source) for s in w.segs)
    return round(sum(c * len(s.source) for c, s in zip(w.scores, w.segs, strict=True)) / total, 1)


def _save_machine(conn, actor: User, w: _Work) -> None:
    source = w.message["source_text"]
    seps = [s.sep for s in w.segs]
    text = segments.join(w.targets, seps)
    back = segments.join(w.backs, seps) if all(b is not None for b in w.backs) else None
    segs = [{"source": s.source, "target": t, "back": b, "similarity": c, "sep": s.sep,
             "reused": r}
            for s, t, b, c, r in zip(w.segs, w.targets, w.backs, w.scores, w.reused, strict=True)]
    changes = {
        "text": text, "status": "machine", "source_version": w.message["current_version"],
        "segments_json": json.dumps(segs, ensure_ascii=False),
        "origin": "memory" if all(w.reused) else "machine",
        "engine": w.engine if not all(w.reused) else "translation memory",
        "pivoted": int(w.pivoted), "back_translation": back,
        "similarity": _weighted_score(w),
        "placeholder_problems_json": _problems(source, text),
        "approved_by": None, "approved_at": None,
    }
    row = conn.execute("SELECT * FROM translations WHERE message_id = ? AND language = ?",
                       (w.message["id"], w.lang)).fetchone()
    if row is None:
        changes |= {"message_id": w.message["id"], "language": w.lang}
    reused = sum(w.reused)
    reason = (f"machine translation ({w.engine or 'engine'}"
              + (", pivoted through English" if w.pivoted else "")
              + (f", {reused} of {len(w.segs)} sentences from memory" if reused else "") + ")")
    _write_translation(conn, actor, row, changes, reason=reason)
