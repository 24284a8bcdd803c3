"""The integration points between surveys and the other domains: languages (their
NHS codes), question texts as comms messages, and voice answers as speech recordings.

Every call into comms/, speech/ or language_packs/ goes through this module, so the
rest of the package never needs to know which of their services is installed.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from types import ModuleType
from typing import IO, Any

from cohear.errors import BadInput, CohearError


def _service(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == name or name.startswith(exc.name + ".")):
            return None
        raise


# -- languages ---------------------------------------------------------------------

# Used only when language_packs' registry does not know a tag: NHS "main spoken
# language" codes follow ISO 639-1 where one exists, so the primary subtag is the code.
_FALLBACK_NAMES = {"en": "English", "ur": "Urdu", "pa": "Punjabi", "bn": "Bengali",
                   "pl": "Polish", "ro": "Romanian", "ar": "Arabic", "gu": "Gujarati",
                   "so": "Somali", "ps": "Pashto", "fa": "Persian", "zh": "Chinese",
                   "ti": "Tigrinya", "ku": "Kurdish", "ckb": "Kurdish (Sorani)",
                   "es": "Spanish", "pt": "Portuguese", "fr": "French", "it": "Italian"}


_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class LanguageInfo:
    tag: str
    english_name: str
    nhs_code: str
    direction: str = "ltr"
    in_region: bool = True


def language(tag: str) -> LanguageInfo:
    """The BCP-47 tag, its English name and NHS main-spoken-language code. Any language
    a registered tag names is accepted (a survey may be in Swahili); only a tag that
    names no language is refused."""
    tag = (tag or "").strip()
    if not _TAG.match(tag):
        raise BadInput(f"{tag!r} is not a language tag" if tag else "a language is needed",
                       fix="give a BCP-47 tag such as 'ur' or 'pa-Guru'")
    registry = _service("language_packs.registry")
    if registry is not None and hasattr(registry, "get_language"):
        lang = registry.get_language(tag)  # BadInput for a tag that names no language
        return LanguageInfo(lang.tag, lang.english_name, getattr(lang, "nhs_code", "") or "",
                            lang.direction, getattr(lang, "in_region", True))
    primary = tag.split("-")[0].lower()
    return LanguageInfo(tag, _FALLBACK_NAMES.get(primary, tag), primary, "ltr",
                        primary in _FALLBACK_NAMES)


def tag_for_name(name: str) -> str | None:
    """The tag of a language given by name ("Urdu", "Polski", "Kiswahili", "chinese"),
    or None when no language has that name. The region's names come first, then the
    names CLDR knows (langcodes), and the result is always the registry's spelling, so
    "chinese" is zh-Hans wherever it is written."""
    wanted = (name or "").strip().casefold()
    if not wanted:
        return None
    registry = _service("language_packs.registry")
    for lang in getattr(registry, "LANGUAGES", {}).values():
        if wanted in (lang.english_name.casefold(), (lang.native_name or "").casefold()):
            return lang.tag
    found = next((tag for tag, english in _FALLBACK_NAMES.items()
                  if english.casefold() == wanted), None)
    if found is None:
        try:
            import langcodes

            found = langcodes.find(name.strip()).to_tag()
        except (ImportError, LookupError, ValueError):
            return None
    try:
        return language(found).tag
    except CohearError:
        return None


def languages_sharing(primary: str) -> list[LanguageInfo]:
    """The region's languages written with this primary subtag ("pa": pa-Guru and
    pa-Arab; "zh": zh-Hans and zh-Hant), with their English names."""
    registry = _service("language_packs.registry")
    found = getattr(registry, "LANGUAGES", {}).values() if registry is not None else []
    return [language(lang.tag) for lang in found
            if lang.tag.split("-")[0] == (primary or "").lower()]


def written_in(texts: list[str], tag: str) -> bool:
    """Whether every text's letters fit the language's script (comms' rule for
    translations: Latin words are allowed in any language)."""
    svc = _service("comms.service")
    if svc is None or not hasattr(svc, "script_problem"):
        return True
    lang = svc.language(tag)
    return all(svc.script_problem(t, lang) is None for t in texts if t and t.strip())


# -- question texts (comms) ---------------------------------------------------------

def _comms():
    svc = _service("comms.service")
    if svc is None:
        raise CohearError("survey questions need the comms package, which is not installed",
                          fix="install cohear with comms", status=503)
    return svc


def question_message(store, actor: Any, *, survey_title: str, name: str, text: str,
                     language: str) -> int:
    """A comms message carrying a question's words (read aloud, so a phone script)."""
    message = _comms().create_message(
        store, actor, title=f"{survey_title[:150]}: question {name}"[:200], source_text=text,
        channel="phone_script", tags=["survey-question"], source_language=language)
    return int(message["id"])


def edit_message_source(store, actor: Any, message_id: int, text: str) -> None:
    """New words for a question's (or label's) message: a new version of it, after which
    its translations of the old words are stale."""
    _comms().edit_message(store, actor, message_id, source_text=text)


def check_question_text(text: str, language: str) -> None:
    """Refuse a question's words as comms would refuse them as a message source (letters
    of another script), before anything is created."""
    svc = _comms()
    svc.check_script(svc.clean_text(text, "question", svc.MAX_SOURCE_CHARS),
                     svc.language(language))
def label_message(store, actor: Any, *, survey_title: str, question: str, label: str,
                  text: str, language: str) -> int:
    """A comms message carrying one of a question's labels (a scale point, a choice)."""
    message = _comms().create_message(
        store, actor, title=f"{survey_title[:120]}: question {question}, {label}"[:200],
        source_text=text, channel="phone_script", tags=["survey-question", "question-label"],
        source_language=language)
    return int(message["id"])


def question_translations(store, message_id: int | None) -> dict[str, dict]:
    """language -> {"text", "status"} of a question's message; a translation made for an
    older wording counts as stale, never approved."""
    if message_id is None:
        return {}
    out = {}
    for t in _comms().list_translations(store, message_id):
        status = t["status"]
        if status == "approved" and t["source_version"] != t["current_version"]:
            status = "stale"
        out[t["language"]] = {"text": t["text"], "status": status}
    return out


def set_translation(store, actor: Any, message_id: int, language: str, text: str) -> None:
    _comms().edit_translation(store, actor, message_id, language, text)


def approve_translation(store, actor: Any, message_id: int, language: str) -> None:
    _comms().approve_translation(store, actor, message_id, language)


# -- voice answers (speech) --------------------------------------------------------------

@dataclass(frozen=True)
class StoredRecording:
    """A recording handed to speech for a survey: its id, and whether this upload made it
    (False: the same bytes were already there, so it is not this request's to remove)."""

    id: int
    new: bool


def store_recording(store, fileobj: IO[bytes], *, filename: str, content_type: str | None,
                    uploaded_by: Any, language_hint: str | None,
                    purpose: str = "answer") -> StoredRecording:
    """Hand a voice answer (or spoken consent, `purpose="consent"`) to speech. A new
    recording is noted in `survey_recordings` in the commit that stores it, so one that
    no answer or consent comes to use is known as left behind (`surveys.recordings`)."""
    svc = _service("speech.service")
    if svc is None or not hasattr(svc, "ingest"):
        raise CohearError("voice answers need the speech package, which is not installed",
                          fix="send the answer as text, or install cohear with speech",
                          status=503)

    def note_purpose(conn, recording_id: int) -> None:
        from cohear.store import utcnow
        conn.execute("INSERT OR IGNORE INTO survey_recordings (recording_id, purpose, "
                     "stored_at) VALUES (?, ?, ?)", (recording_id, purpose, utcnow()))

    recording = svc.ingest(store, fileobj, filename=filename, content_type=content_type,
                           uploaded_by=uploaded_by, language_hint=language_hint,
                           on_stored=note_purpose)
    return StoredRecording(int(recording.id), not recording.duplicate)


def queue_transcription(store, recording_id: int, actor: Any, language_hint: str | None
                        ) -> int | None:
    svc = _service("speech.service")
    if svc is None or not hasattr(svc, "queue_transcription"):
        return None
    return svc.queue_transcription(store, recording_id, actor, language_hint=language_hint)


def latest_transcript(store, recording_id: int) -> dict | None:
    """{"text", "version", "english", "english_engine", "english_stale"} of a recording's
    newest transcript, or None yet."""
    svc = _service("speech.service")
    if svc is None or not hasattr(svc, "transcript"):
        return None
    from cohear.auth import SYSTEM
    try:
        found = svc.transcript(store, recording_id, SYSTEM)
    except CohearError:
        return None
    english = found.get("english") or {}
    return {"text": found.get("text") or "", "version": found.get("version") or 1,
            "english": english.get("text") if isinstance(english, dict) else english,
            "english_engine": english.get("engine") if isinstance(english, dict) else None,
            "english_stale": bool(found.get("english_stale"))}


def delete_recordings(conn, store, recording_ids: list[int]) -> tuple[dict, list[str]]:
    """Delete recordings, their transcripts and their audio blobs (consent withdrawn),
    inside the caller's transaction, through speech's own deletion service (which also
    erases their words from the audit log). Returns (counts, blob files to delete after
    commit). A blob still used by a question's audio prompt is kept."""
    from speech import service as speech_service

    def used_by_a_prompt(conn, sha: str) -> bool:
        return conn.execute("SELECT 1 FROM question_prompts WHERE blob_sha256 = ? LIMIT 1",
                            (sha,)).fetchone() is not None

    return speech_service.delete_recordings(conn, store, recording_ids,
                                            still_used=used_by_a_prompt)
