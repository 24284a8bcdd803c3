"""The `speech.transcribe` job: transcribe a stored recording with the warm Whisper model,
render it in English, and write the machine's transcript version exactly once.

The job is two functions: `compute_transcription` (audio in, plain data out; runs
wherever the GPU is) and `store_transcription` (judges and writes that data and completes
the job in one transaction; runs on the server). This server's worker calls one after
the other; a worker on another machine computes, and the server stores what it posts
(cohear/workers.py). Jobs queue by the model they ask for (`cohear.transcribe.<model>`).

Progress is the share of the recording's speech chunks decoded so far (with word
timestamps: the end of the latest segment over the length); reporting it is also where
a cancellation is noticed. The transcript rows and the job's completion
are written in one transaction, so a retried job never leaves two machine versions.
"""

from __future__ import annotations

import logging

from cohear import logs
from cohear.errors import NotFound
from cohear.jobs import JobContext, RemoteKind, handler, remote, route
from speech import service
from speech.schema import check_result
from speech.transcribe import (
    SAMPLE_RATE,
    Options,
    Transcription,
    from_wire,
    model_for,
    read_wav,
    to_wire,
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


def transcription_queue(payload: dict) -> str:
    """The queue of the Whisper model a transcription job asks for."""
    return f"cohear.transcribe.{payload.get('model') or 'base'}"


def local_queues(store) -> list[str]:
    """The transcription queues this data directory's workers take: one per model
    installed here, and always the configured one (so a job for it fails with the
    model's own error here rather than waiting for a worker), unless
    `transcribe_locally` is off (workers on other machines transcribe)."""
    if not store.settings.transcribe_locally:
        return []
    from cohear.models import list_models
    names = [store.settings.whisper_model]
    names += [m["name"] for m in list_models(store) if m["verified"] and m["present"]]
    return [transcription_queue({"model": n}) for n in dict.fromkeys(names)]


route(service.TRANSCRIBE_JOB, transcription_queue, local_queues)


def compute_transcription(store, model, samples, payload: dict, *, progress=lambda f: None,
                          duration: float | None = None) -> dict:
    """Transcribe one recording's 16 kHz samples with `model` and render it in English:
    the part of the job that needs the GPU, the same on this server and on a worker
    elsewhere (`store` is the local one, for its language packs). Returns the result as
    plain data (`to_wire` plus the English renderings and the engine), never stored here.

    `progress(fraction)` is called as chunks are decoded; it raises to stop the work
    (a cancellation, or a lease lost)."""
    duration = max(duration or samples.size / SAMPLE_RATE, 0.001)
    hint = service.whisper_language(payload.get("language"))
    options = Options(language=hint, word_timestamps=bool(payload.get("word_timestamps")))
    progress(0.01)
    # The English translation pass takes about as long again: transcription is the first 70%.
    if options.word_timestamps:
        finding, segments = transcribe(model, samples, options)
        result = Transcription(finding, [], duration)
        for segment in segments:
            result.segments.append(segment)
            progress(0.7 * min(1.0, segment.end / duration))
    else:
        result = transcribe_many(model, [samples], options,
                                 on_batch=lambda done, total: progress(0.7 * done / total))[0]
    english = english_renderings(store, model, samples, result, check=lambda: progress(0.7))
    engine = model.describe() | {"vad_filter": options.vad_filter, "beam_size": options.beam_size}
    return to_wire(result) | {"english": english, "engine": engine}


def store_transcription(ctx: JobContext, data: dict, *, worker: str | None = None) -> dict:
    """Write a computed transcription as the recording's machine version and complete the
    job, in one transaction: the part both paths share (this server's worker, and the
    API that takes a remote worker's result). The language decision and the quality
    guards are made here again from what Whisper decoded, so a result is judged the same
    wherever it was computed; an English rendering the computing side could not make
    with Argos is made here when a pack is installed here."""
    store = ctx.store
    recording_id = ctx.payload["recording_id"]
    rec = store.one("SELECT id FROM recordings WHERE id = ?", (recording_id,))
    if rec is None:
        raise NotFound(f"recording {recording_id} no longer exists", fix="nothing to transcribe")
    result = from_wire(data, service.whisper_language(ctx.payload.get("language")))
    english = dict(data.get("english") or {})
    if result.text and result.language.used != "en" and "argos" not in english:
        argos = argos_english(store, result.text, result.language.used)
        if argos:
            english["argos"] = argos
    engine = dict(data.get("engine") or {}) | ({"worker": worker} if worker else {})
    with store.transaction() as conn:
        tid = service.save_machine_transcript(conn, rec["id"], ctx.job_id, result, english,
                                              engine)
        finding = result.language
        summary = {"recording_id": rec["id"], "transcript_id": tid,
                   "language": finding.used, "language_mismatch": finding.mismatch,
                   "confidence": round(result.confidence, 3),
                   "needs_review": result.needs_review,
                   "segments": len(result.segments),
                   "rejected_segments": sum(s.rejected for s in result.segments)}
        ctx.complete(conn, summary)
    return summary


@handler(service.TRANSCRIBE_JOB)
def transcribe_recording(ctx: JobContext) -> dict:
    store = ctx.store
    rec = store.one("SELECT * FROM recordings WHERE id = ?", (ctx.payload["recording_id"],))
    if rec is None:
        raise NotFound(f"recording {ctx.payload['recording_id']} no longer exists",
                       fix="nothing to transcribe")
    samples = read_wav(store.blobs.read(rec["normalised_sha256"]))
    model = model_for(store, ctx.payload.get("model"))
    data = compute_transcription(store, model, samples, ctx.payload, progress=ctx.progress,
                                 duration=rec["duration_seconds"])
    return store_transcription(ctx, data)


# -- on a worker elsewhere (cohear/workers.py) -------------------------------------------
def _brief(store, payload: dict) -> dict:
    """What a remote worker is told: the model, the language hint, whether it wants word
    timestamps, how long the audio is. No words, no file names."""
    rec = store.one("SELECT duration_seconds FROM recordings WHERE id = ?",
                    (payload["recording_id"],))
    if rec is None:
        raise NotFound(f"recording {payload['recording_id']} no longer exists",
                       fix="nothing to transcribe")
    return {"model": payload.get("model") or store.settings.whisper_model,
            "language": payload.get("language"),
            "word_timestamps": bool(payload.get("word_timestamps")),
            "audio_seconds": rec["duration_seconds"]}


def _input(store, payload: dict):
    rec = store.one("SELECT normalised_sha256 FROM recordings WHERE id = ?",
                    (payload["recording_id"],))
    if rec is None:
        raise NotFound(f"recording {payload['recording_id']} no longer exists",
                       fix="nothing to transcribe")
    path = store.blobs.path(rec["normalised_sha256"])
    if not path.exists():
        raise NotFound(f"the audio of recording {payload['recording_id']} is gone",
                       fix="nothing to transcribe")
    return path, "audio/wav"


def _compute_remote(job) -> dict:
    """On the worker: its own model and device, the fetched WAV held in memory only."""
    samples = read_wav(job.data)
    model = model_for(job.store, job.brief["model"])
    return compute_transcription(job.store, model, samples, job.brief, progress=job.progress,
                                 duration=job.brief.get("audio_seconds"))


remote(service.TRANSCRIBE_JOB, RemoteKind(
    model=lambda payload: payload.get("model"), brief=_brief, input=_input,
    check=check_result, compute=_compute_remote,
    store=lambda ctx, result, worker: store_transcription(ctx, result, worker=worker)))


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
