"""The integration points between surveys and the other domains: languages (their
NHS codes), question texts as comms messages, and voice answers as speech recordings.

Every call into comms/, speech/ or language_packs/ goes through this module, so the
rest of the package never needs to know which of their services is installed.
"""

from __future__ import annotations

import importlib
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


@dataclass(frozen=True)
class LanguageInfo:
    tag: str
    english_name: str
    nhs_code: str


def language(tag: str) -> LanguageInfo:
    """The BCP-47 tag, its English name and NHS main-spoken-language code."""
    tag = (tag or "").strip()
    if not tag:
        raise BadInput("a language is needed", fix="give a BCP-47 tag such as 'ur' or 'pa-Guru'")
    registry = _service("language_packs.registry")
    if registry is not None and hasattr(registry, "get_language"):
        try:
            lang = registry.get_language(tag)
        except CohearError:
            lang = None
        if lang is not None:
            return LanguageInfo(lang.tag, lang.english_name, getattr(lang, "nhs_code", "") or "")
    primary = tag.split("-")[0].lower()
    return LanguageInfo(tag, _FALLBACK_NAMES.get(primary, tag), primary)


# -- voice answers (speech) --------------------------------------------------------------

def speech_available() -> bool:
    svc = _service("speech.service")
    return svc is not None and hasattr(svc, "ingest")


def store_recording(store, fileobj: IO[bytes], *, filename: str, content_type: str | None,
                    uploaded_by: Any, language_hint: str | None) -> int:
    """Hand a voice answer to speech; returns the recording id."""
    svc = _service("speech.service")
    if svc is None or not hasattr(svc, "ingest"):
        raise CohearError("voice answers need the speech package, which is not installed",
                          fix="send the answer as text, or install cohear with speech",
                          status=503)
    recording = svc.ingest(store, fileobj, filename=filename, content_type=content_type,
                           uploaded_by=uploaded_by, language_hint=language_hint)
    return int(recording["id"] if isinstance(recording, dict) else recording.id)


def queue_transcription(store, recording_id: int, actor: Any, language_hint: str | None
                        ) -> int | None:
    svc = _service("speech.service")
    if svc is None or not hasattr(svc, "queue_transcription"):
        return None
    return svc.queue_transcription(store, recording_id, actor, language_hint=language_hint)


def latest_transcript(store, recording_id: int) -> dict | None:
    """{"text", "english", "version"} of a recording's newest transcript, or None yet."""
    svc = _service("speech.service")
    if svc is None:
        return None
    for name in ("latest_transcript", "get_transcript"):
        fn = getattr(svc, name, None)
        if fn is None:
            continue
        try:
            found = fn(store, recording_id)
        except CohearError:
            return None
        if not found:
            return None
        found = found if isinstance(found, dict) else vars(found)
        return {"text": found.get("text") or "", "english": found.get("english") or
                found.get("english_text"), "version": found.get("version") or 1}
    return None


def delete_recordings(store, recording_ids: list[int], actor: Any) -> dict:
    """Ask speech to delete these recordings and their transcripts (consent withdrawn)."""
    if not recording_ids:
        return {"recordings": 0, "transcripts": 0}
    svc = _service("speech.service")
    fn = getattr(svc, "delete_recordings", None) if svc else None
    if fn is None:
        fn = getattr(svc, "delete_recording", None) if svc else None
        if fn is None:
            raise CohearError("the speech package cannot delete recordings yet",
                              fix="nothing was deleted; ask an admin to update cohear",
                              status=503)
        totals = {"recordings": 0, "transcripts": 0}
        for rid in recording_ids:
            out = fn(store, rid, actor=actor) or {}
            totals["recordings"] += 1
            totals["transcripts"] += int(out.get("transcripts", 0)) if isinstance(out, dict) else 0
        return totals
    return fn(store, recording_ids, actor=actor) or {"recordings": len(recording_ids)}
