"""The `speech.transcribe` job: transcribe a stored recording with the warm Whisper model,
render it in English, and write the machine's transcript version exactly once.

Progress is the share of the recording's speech chunks decoded so far (with word
timestamps: the end of the latest segment over the length); reporting it is also where
a cancellation is noticed. The transcript rows and the job's completion
are written in one transaction, so a retried job never leaves two machine versions.
"""

from __future__ import annotations

import logging

from cohear import logs
from cohear.errors import NotFound
from cohear.jobs import JobContext, handler
from speech import service
from speech.transcribe import (
    Options,
    Transcription,
    model_for,
    read_wav,
    transcribe,
    transcribe_many,
)

log = logging.getLogger("cohear.speech")


def english_renderings(store, model, samples, result: Transcription, *,
                       whisper_translate: bool = True, check=lambda: None) -> dict[str, str]:
    """English versions of a transcript, by engine: `source` when it is English already,
    `argos` where a language pack is installed, `whisper-translate` (Whisper's translate
    task) otherwise or as well."""
    text = result.text
    if not text:
        return {}
    lang = result.language.used
    if lang == "en":
        return {"source": text}
    out: dict[str, str] = {}
    argos = argos_english(store, text, lang)
    if argos:
        out["argos"] = argos
    if whisper_translate:
        check()
        english = transcribe_many(model, [samples], Options(language=lang, task="translate",
                                                            check_hint=False))[0]
        translated = english.text
        if translated:
            out["whisper-translate"] = translated
    return out


def argos_english(store, text: str, whisper_code: str | None) -> str | None:
    """The Argos engine's English for `text`, or None where no pack (or no engine) is here."""
    try:
        from language_packs.engine import get_engine
        from language_packs.registry import from_whisper
    except ImportError:
        return None
    try:
        source = from_whisper(whisper_code or "")
        engine = get_engine(store)
        if not engine.can_translate(source, "en"):
            return None
        return " ".join(t.text for t in engine.translate([text], source, "en")).strip() or None
    except Exception as exc:  # noqa: BLE001 - an English rendering is extra, never fatal
        # The category only: the engine's message may quote the words it was given.
        log.warning("Argos English rendering from %s failed: %s", whisper_code,
                    logs.category(exc))
        return None


@handler(service.TRANSCRIBE_JOB)
def transcribe_recording(ctx: JobContext) -> dict:
    store = ctx.store
    rec = store.one("SELECT * FROM recordings WHERE id = ?", (ctx.payload["recording_id"],))
    if rec is None:
        raise NotFound(f"recording {ctx.payload['recording_id']} no longer exists",
                       fix="nothing to transcribe")
    samples = read_wav(store.blobs.read(rec["normalised_sha256"]))
    duration = max(rec["duration_seconds"], 0.001)
    model = model_for(store)
    hint = service.whisper_language(ctx.payload.get("language"))
    options = Options(language=hint, word_timestamps=bool(ctx.payload.get("word_timestamps")))
    ctx.progress(0.01)
    # The English translation pass takes about as long again: transcription is the first 70%.
    if options.word_timestamps:
        finding, segments = transcribe(model, samples, options)
        result = Transcription(finding, [], duration)
        for segment in segments:
            result.segments.append(segment)
            ctx.progress(0.7 * min(1.0, segment.end / duration))
    else:
        result = transcribe_many(model, [samples], options,
                                 on_batch=lambda done, total: ctx.progress(0.7 * done / total))[0]
        finding = result.language
    english = english_renderings(store, model, samples, result, check=lambda: ctx.progress(0.7))
    engine = model.describe() | {"vad_filter": options.vad_filter, "beam_size": options.beam_size}
    with store.transaction() as conn:
        tid = service.save_machine_transcript(conn, rec["id"], ctx.job_id, result, english,
                                              engine)
        summary = {"recording_id": rec["id"], "transcript_id": tid,
                   "language": finding.used, "language_mismatch": finding.mismatch,
                   "confidence": round(result.confidence, 3),
                   "needs_review": result.needs_review,
                   "segments": len(result.segments),
                   "rejected_segments": sum(s.rejected for s in result.segments)}
        ctx.complete(conn, summary)
    return summary


@handler(service.ENGLISH_JOB)
def english_for_corrected_words(ctx: JobContext) -> dict:
    """Render one transcript version (a reviewer's correction) in English with the
    translation engine, from the corrected words, and store it as current."""
    store = ctx.store
    recording_id, version = int(ctx.payload["recording_id"]), int(ctx.payload["version"])
    row = store.one("SELECT text, language FROM transcripts WHERE recording_id = ? AND "
                    "version = ?", (recording_id, version))
    if row is None:
        return {"recording_id": recording_id, "version": version, "rendered": False,
                "reason": "the transcript version no longer exists"}
    english = argos_english(store, row["text"], row["language"]) if row["text"] else None
    with store.transaction() as conn:
        saved = bool(english) and service.save_english(conn, recording_id, version, "argos",
                                                       english)
        result = {"recording_id": recording_id, "version": version, "rendered": saved}
        if not saved:
            result["reason"] = "no translation engine for the transcript's language"
        ctx.complete(conn, result)
    return result


def english_for_stale_transcripts(store, pack: dict) -> None:
    """A pack into English arrived: render corrected transcripts in its language whose
    English is out of date."""
    if pack.get("target") != "en":
        return
    for recording_id, version in service.stale_transcripts(store, pack["source"]):
        service.queue_english(store, recording_id, version)


try:
    from language_packs.packs import on_install
except ModuleNotFoundError:  # pragma: no cover - cohear without language_packs
    pass
else:
    on_install(english_for_stale_transcripts)
