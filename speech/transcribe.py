"""Transcription with faster-whisper: the warm model cache, language detection and
hinting, and the quality guards that mark Whisper's known hallucinations as rejected.

Plain data in, plain data out: `transcribe_many()` takes the 16 kHz mono samples of one
or more recordings and returns a `Transcription` for each (reporting progress after
each batch); `transcribe()` is faster-whisper's batched pipeline, used for word timestamps.

Confidence of a segment (0..1) = exp(avg_logprob) x (1 - no_speech_prob), where
exp(avg_logprob) is the geometric mean probability of its tokens. A transcript's
confidence is the mean over its kept segments, weighted by their duration.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cohear import cuda
from cohear.errors import ModelError

log = logging.getLogger("cohear.speech")

SAMPLE_RATE = 16_000
FRAMES_PER_SECOND = 100  # Whisper's mel frames (10 ms): the unit of a segment's `seek`
LOW_CONFIDENCE = 0.5  # a segment or transcript below this needs a reviewer's ear
# Whisper's own thresholds for its fallback decoding; cohear uses them to reject.
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4
REPEATS = 4  # the same 1-4 word phrase this many times in a row is a loop
# Detection this sure of another language than the hint decides the decoding language.
CONFIDENT_DETECTION = 0.8


def pick_device(requested: str = "auto", compute_type: str = "auto") -> tuple[str, str]:
    """The device and compute type a setting asks for, before any proof: CUDA with
    float16 where CTranslate2 counts a GPU, else the CPU with int8; settings may force.
    `load_model` proves CUDA works before trusting this choice."""
    device = requested
    if device == "auto":
        device = "cuda" if cuda.device_count() > 0 else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


@dataclass(frozen=True)
class LoadedModel:
    """A Whisper model held warm in this process, with its batched pipeline."""

    name: str
    path: str
    device: str
    compute_type: str
    whisper: object  # faster_whisper.WhisperModel
    batched: object  # faster_whisper.BatchedInferencePipeline
    requested: str = "auto"  # the whisper_device setting it was loaded for
    # Why `auto` is on the CPU although a GPU was there to use (None when it is not).
    fallback_reason: str | None = None

    def describe(self) -> dict:
        return {"model": self.name, "device": self.device, "compute_type": self.compute_type}

    def device_state(self) -> dict:
        return {"model": self.name, "requested": self.requested, "device": self.device,
                "compute_type": self.compute_type, "fallback_reason": self.fallback_reason}


_CACHE: dict[tuple, LoadedModel] = {}
_CACHE_LOCK = threading.Lock()


def load_model(path: str | Path, *, name: str = "", device: str = "auto",
               compute_type: str = "auto", cpu_threads: int = 0) -> LoadedModel:
    """The model at `path`, loaded once per process and kept warm (keyed by path, the
    device and compute type settings, and threads).

    CUDA is proven before it is trusted: the model is loaded there and encodes a second
    of silence. With `device="auto"`, a missing driver or library puts the model on the
    CPU with int8 instead, logged once with the reason (`fallback_reason`); with
    `device="cuda"` the same failure is a ModelError carrying the reason and the fix.
    """
    cuda.load()  # before faster-whisper imports CTranslate2 and CUDA is first touched
    key = (str(path), device, compute_type, cpu_threads)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load_proven(path, name or Path(path).name, device, compute_type,
                                       cpu_threads)
        loaded = _CACHE[key]
        cuda.remember(loaded.device_state())  # what /healthz and workers report
        return loaded


def _load_proven(path, name: str, requested: str, compute_type: str,
                 cpu_threads: int) -> LoadedModel:
    if requested == "cpu":
        return _load(path, name, "cpu", "int8" if compute_type == "auto" else compute_type,
                     cpu_threads, requested)
    if cuda.device_count() == 0:
        reason = cuda.no_device_reason()
        fix = "install the NVIDIA driver (`nvidia-smi` must list the GPU)"
        if requested == "cuda":
            raise ModelError(f"whisper_device is 'cuda' but {reason}",
                             fix=f"{fix}, or set COHEAR_WHISPER_DEVICE=auto or cpu")
        # With no sign of a GPU at all, the CPU is the plan, not a fallback.
        fallback = reason if cuda.gpu_expected() else None
        if fallback:
            log.warning("whisper_device=auto: using the CPU with int8 because %s. Fix: %s",
                        reason, fix)
        return _load(path, name, "cpu", "int8", cpu_threads, requested, fallback)
    cuda_type = "float16" if compute_type == "auto" else compute_type
    try:
        loaded = _load(path, name, "cuda", cuda_type, cpu_threads, requested, prove=True)
    except (RuntimeError, ValueError, OSError, ModelError) as exc:
        reason, fix = cuda.explain(exc.detail if isinstance(exc, ModelError) else exc)
        if requested == "cuda":
            raise ModelError(f"the Whisper model {name!r} cannot run on CUDA: {reason}",
                             fix=f"{fix}; or set COHEAR_WHISPER_DEVICE=auto to fall back to "
                                 "the CPU") from None
        log.warning("whisper_device=auto: CUDA failed (%s); using the CPU with int8. Fix: %s",
                    reason, fix)
        return _load(path, name, "cpu", "int8", cpu_threads, requested, reason)
    return loaded


def _load(path, name: str, device: str, compute_type: str, cpu_threads: int, requested: str,
          fallback_reason: str | None = None, *, prove: bool = False) -> LoadedModel:
    from faster_whisper import BatchedInferencePipeline, WhisperModel
    try:
        whisper = WhisperModel(str(path), device=device, compute_type=compute_type,
                               cpu_threads=cpu_threads, local_files_only=True)
    except (RuntimeError, ValueError, OSError) as exc:
        if prove:
            raise
        raise ModelError(f"the Whisper model at {path} could not be loaded on {device} "
                         f"({exc})", fix="check `cohear models verify NAME`, or set "
                         "COHEAR_WHISPER_DEVICE=cpu") from None
    if prove:
        # CTranslate2 opens cuBLAS only when a model first computes: encode a second of
        # silence so a missing library fails here, not in the first real job.
        from faster_whisper.audio import pad_or_trim
        features = pad_or_trim(whisper.feature_extractor(np.zeros(SAMPLE_RATE, np.float32))[..., :-1])
        whisper.encode(features[np.newaxis])
    return LoadedModel(name, str(path), device, compute_type, whisper,
                       BatchedInferencePipeline(model=whisper), requested, fallback_reason)


def model_for(store, name: str | None = None) -> LoadedModel:
    """The model `name` (default: the configured `whisper_model`), verified, on the
    configured device."""
    from cohear.models import resolve
    s = store.settings
    name = name or s.whisper_model
    path = resolve(store, name)
    return load_model(path, name=name, device=s.whisper_device,
                      compute_type=s.whisper_compute_type, cpu_threads=s.cpu_threads)


@dataclass(frozen=True)
class Options:
    """How to transcribe one recording."""

    language: str | None = None  # the survey's or caller's hint (a Whisper code)
    task: str = "transcribe"  # or "translate" (into English)
    word_timestamps: bool = False
    initial_prompt: str | None = None
    temperature: float | None = None  # None: Whisper's fallback ladder 0.0 .. 1.0
    beam_size: int = 5
    batch_size: int = 8
    vad_filter: bool = True
    # Timestamps make sentence-sized segments (readable subtitles, finer progress);
    # without them the batched pipeline returns one segment per 30 s of speech.
    without_timestamps: bool = False
    # Listen for the language even when hinted, to flag a disagreement (off for a second
    # pass over audio whose language is already known, e.g. the English translation).
    check_hint: bool = True


@dataclass
class Segment:
    index: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    words: list[dict] | None = None
    rejected_reason: str | None = None
    # What Whisper decoded, as OpenAI's verbose_json reports it: the text's token ids,
    # the start of the 30 s window in 10 ms frames, and the temperature actually used.
    tokens: list[int] = field(default_factory=list)
    seek: int = 0
    temperature: float = 0.0

    @property
    def rejected(self) -> bool:
        return self.rejected_reason is not None

    @property
    def confidence(self) -> float:
        return segment_confidence(self.avg_logprob, self.no_speech_prob)

    def as_dict(self) -> dict:
        return {"index": self.index, "start": round(self.start, 3), "end": round(self.end, 3),
                "text": self.text, "confidence": round(self.confidence, 3),
                "avg_logprob": round(self.avg_logprob, 4),
                "no_speech_prob": round(self.no_speech_prob, 4),
                "compression_ratio": round(self.compression_ratio, 3),
                "rejected": self.rejected, "rejected_reason": self.rejected_reason,
                "words": self.words}


@dataclass
class LanguageFinding:
    """The hint, what Whisper heard, and the language used to decode."""

    hint: str | None
    detected: str | None
    probability: float | None
    used: str | None
    mismatch: bool = False

    def as_dict(self) -> dict:
        return {"hint": self.hint, "detected": self.detected,
                "probability": None if self.probability is None else round(self.probability, 3),
                "used": self.used, "language_mismatch": self.mismatch}


@dataclass
class Transcription:
    """A finished transcription: the finding, all segments (rejected ones kept), facts."""

    language: LanguageFinding
    segments: list[Segment] = field(default_factory=list)
    duration: float = 0.0

    @property
    def kept(self) -> list[Segment]:
        return [s for s in self.segments if not s.rejected]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.kept if s.text).strip()

    @property
    def confidence(self) -> float:
        return transcript_confidence(self.kept)

    @property
    def needs_review(self) -> bool:
        return needs_review(self.segments, self.language)


def segment_confidence(avg_logprob: float, no_speech_prob: float) -> float:
    """exp(avg_logprob) x (1 - no_speech_prob), clamped to 0..1 (see the module docstring)."""
    value = math.exp(min(0.0, avg_logprob)) * (1.0 - max(0.0, min(1.0, no_speech_prob)))
    return max(0.0, min(1.0, value))


def transcript_confidence(kept: list[Segment]) -> float:
    total = sum(max(0.0, s.end - s.start) for s in kept)
    if not kept:
        return 0.0
    if total <= 0:
        return sum(s.confidence for s in kept) / len(kept)
    return sum(s.confidence * max(0.0, s.end - s.start) for s in kept) / total


def needs_review(segments: list[Segment], language: LanguageFinding) -> bool:
    """Low confidence, a rejected segment or a language that disagrees with the hint."""
    kept = [s for s in segments if not s.rejected]
    return (language.mismatch
            or any(s.rejected for s in segments)
            or any(s.confidence < LOW_CONFIDENCE for s in kept)
            or (bool(kept) and transcript_confidence(kept) < LOW_CONFIDENCE)
            or (language.probability is not None and language.probability < LOW_CONFIDENCE))


_WORD = re.compile(r"\w+(?:['’]\w+)?", re.UNICODE)


def repeated_phrase(text: str, repeats: int = REPEATS) -> str | None:
    """A 1-4 word phrase said `repeats` or more times in a row, as Whisper's loops do."""
    words = [w.lower() for w in _WORD.findall(text)]
    for n in range(1, 5):
        for start in range(max(0, len(words) - n * repeats + 1)):
            phrase = words[start:start + n]
            count = 1
            pos = start + n
            while words[pos:pos + n] == phrase:
                count += 1
                pos += n
            if count >= repeats:
                return " ".join(phrase)
    return None


def rejection_reason(text: str, avg_logprob: float, no_speech_prob: float,
                     compression_ratio: float) -> str | None:
    """Why a segment looks like one of Whisper's hallucinations, or None to keep it."""
    if not text.strip():
        return "no words"
    if no_speech_prob > NO_SPEECH_PROB and avg_logprob < LOW_LOGPROB:
        return (f"text over silence (no-speech probability {no_speech_prob:.2f}, "
                f"average log-probability {avg_logprob:.2f})")
    if compression_ratio > MAX_COMPRESSION_RATIO:
        return f"repetition loop (compression ratio {compression_ratio:.1f})"
    phrase = repeated_phrase(text)
    if phrase:
        return f"repetition loop ({phrase!r} said {REPEATS} or more times in a row)"
    return None


def check_hint(model: LoadedModel, audio: np.ndarray, hint: str) -> LanguageFinding:
    """With a hint, detect the spoken language too, and flag (not relabel) a disagreement.

    The hint is used unless Whisper is at least CONFIDENT_DETECTION sure of another
    language (decoding English speech as Polish gives nonsense); either way a
    disagreement sets `mismatch`, which puts the transcript in front of a reviewer.
    """
    try:
        detected, probability, _ = model.whisper.detect_language(audio, vad_filter=True)
    except (ValueError, IndexError, RuntimeError):
        # No speech to listen to: nothing to disagree with.
        return LanguageFinding(hint, None, None, hint)
    return _decide(hint, detected, probability)


def transcribe(model: LoadedModel, audio: np.ndarray, options: Options = Options()
               ) -> tuple[LanguageFinding, Iterator[Segment]]:
    """Transcribe 16 kHz mono float32 samples. Segments come as a generator, each already
    judged by the quality guards (rejected ones carry a reason and stay in the output).

    Without a language hint, Whisper's own detection (part of the transcription) names
    the language; with one, `check_hint` listens first.
    """
    finding = None
    if options.language:
        finding = (check_hint(model, audio, options.language) if options.check_hint
                   else LanguageFinding(options.language, None, None, options.language))
    kwargs = {"language": finding.used if finding else None, "task": options.task,
              "beam_size": options.beam_size, "word_timestamps": options.word_timestamps,
              "initial_prompt": options.initial_prompt or None,
              "vad_filter": options.vad_filter}
    if options.temperature is not None:
        kwargs["temperature"] = options.temperature
    if options.vad_filter:
        raw, info = model.batched.transcribe(audio, batch_size=options.batch_size,
                                             without_timestamps=options.without_timestamps,
                                             **kwargs)
    else:
        raw, info = model.whisper.transcribe(audio, **kwargs)
    if finding is None:
        finding = LanguageFinding(None, info.language, info.language_probability, info.language)
    return finding, _judged(raw)


def text_compression_ratio(text: str) -> float:
    """Whisper's repetition measure (bytes over zlib-compressed bytes), for one segment.

    Whisper reports it for a whole 30 s window, where a speaker who says two sentences
    twice looks like a loop; per segment, only a segment that repeats itself scores high.
    """
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _judged(raw) -> Iterator[Segment]:
    before: list[Segment] = []
    for i, seg in enumerate(raw):
        segment = _judge_one(i, float(seg.start), float(seg.end), seg.text.strip(),
                             seg.avg_logprob, seg.no_speech_prob, before)
        if seg.words:
            segment.words = [{"start": round(w.start, 3), "end": round(w.end, 3),
                              "word": w.word, "probability": round(w.probability, 3)}
                             for w in seg.words]
        segment.tokens = list(seg.tokens or [])
        segment.seek = int(seg.seek or 0)
        segment.temperature = float(seg.temperature or 0.0)
        before.append(segment)
        yield segment


def _decide(hint: str | None, detected: str, probability: float) -> LanguageFinding:
    """The language to decode with (see `check_hint` for the rule)."""
    if not hint:
        return LanguageFinding(None, detected, probability, detected)
    mismatch = detected != hint and probability >= LOW_CONFIDENCE
    used = detected if mismatch and probability >= CONFIDENT_DETECTION else hint
    return LanguageFinding(hint, detected, probability, used, mismatch)


def speech_chunks(audio: np.ndarray, vad_filter: bool = True) -> list[tuple[np.ndarray, float,
                                                                             float]]:
    """The recording's speech, in chunks of at most 30 s (Whisper's window): (samples,
    start s, end s). Silence between speech is left out, as faster-whisper's batched
    pipeline does."""
    from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps
    if not vad_filter:
        step = 30 * SAMPLE_RATE
        return [(audio[i:i + step], i / SAMPLE_RATE, min(audio.size, i + step) / SAMPLE_RATE)
                for i in range(0, audio.size, step)]
    spans = get_speech_timestamps(audio, VadOptions(max_speech_duration_s=30,
                                                     min_silence_duration_ms=160))
    if not spans:
        return []
    chunks, meta = collect_chunks(audio, spans, max_duration=30)
    return [(chunk, m["segments"][0]["start"] / SAMPLE_RATE, m["segments"][-1]["end"] / SAMPLE_RATE)
            for chunk, m in zip(chunks, meta) if m["segments"]]


def transcribe_many(model: LoadedModel, recordings: list[np.ndarray], options: Options = Options(),
                    on_batch=None) -> list[Transcription]:
    """Transcribe several recordings together: their speech chunks share the model's
    batches, so short recordings fill one batch instead of each paying for a whole pass.

    Each chunk's language is detected from the encoder output the transcription needs
    anyway (no extra pass), so recordings in different languages can share a batch; a
    recording's language is that of its first chunk, decided against the hint by the rule
    in `check_hint`. One segment per chunk (up to 30 s; no timestamps inside a chunk, which
    is both faster and, on the benchmark set, as accurate as the default decoding); use
    `transcribe()` for word timestamps. `on_batch(done, total)` is called after each batch
    (the job handler reports progress, and notices a cancellation, there).
    """
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens
    whisper = model.whisper
    work = [(index, *chunk) for index, samples in enumerate(recordings)
            for chunk in speech_chunks(samples, options.vad_filter)]
    results = [Transcription(LanguageFinding(options.language, None, None, options.language),
                             [], samples.size / SAMPLE_RATE) for samples in recordings]
    decided: set[int] = set()
    tokenizers: dict[str, object] = {}
    suppress = None
    for first in range(0, len(work), options.batch_size):
        batch = work[first:first + options.batch_size]
        features = np.stack([pad_or_trim(whisper.feature_extractor(chunk)[..., :-1])
                             for _, chunk, _, _ in batch])
        encoded = whisper.encode(features)
        detections = whisper.model.detect_language(encoded)
        prompts = []
        for (index, _, _, _), detection in zip(batch, detections):
            token, probability = detection[0]
            if index not in decided:
                results[index].language = _decide(options.language, token[2:-2], probability)
                decided.add(index)
            language = results[index].language.used
            if language not in tokenizers:
                tokenizers[language] = Tokenizer(whisper.hf_tokenizer, True, task=options.task,
                                                 language=language)
            tokenizer = tokenizers[language]
            if suppress is None:
                suppress = get_suppressed_tokens(tokenizer, [-1])
            previous = tokenizer.encode(" " + options.initial_prompt.strip()) \
                if options.initial_prompt else []
            prompts.append(whisper.get_prompt(tokenizer, previous, without_timestamps=True))
        temperature = options.temperature or 0.0
        # As faster-whisper decodes: beam search at 0, else sampling at the temperature
        # (best of 5 samples); CTranslate2 ignores a temperature under beam search.
        decoding = ({"beam_size": 1, "num_hypotheses": 5, "sampling_topk": 0,
                     "sampling_temperature": temperature} if temperature > 0
                    else {"beam_size": options.beam_size, "patience": 1})
        outputs = whisper.model.generate(
            encoded, prompts, length_penalty=1, max_length=whisper.max_length,
            suppress_blank=True, suppress_tokens=suppress, return_scores=True,
            return_no_speech_prob=True, **decoding)
        for (index, _, start, end), output in zip(batch, outputs):
            tokens = output.sequences_ids[0]
            # faster-whisper's own average: the cumulated log-probability over length + 1.
            avg_logprob = output.scores[0] * len(tokens) / (len(tokens) + 1)
            text = tokenizers[results[index].language.used].decode(tokens).strip()
            segment = _judge_one(len(results[index].segments), start, end, text, avg_logprob,
                                 output.no_speech_prob, results[index].segments)
            segment.tokens = list(tokens)
            segment.seek = round(start * FRAMES_PER_SECOND)
            segment.temperature = temperature
            results[index].segments.append(segment)
        if on_batch:
            on_batch(min(first + options.batch_size, len(work)), len(work))
    return results


def _judge_one(index: int, start: float, end: float, text: str, avg_logprob: float,
               no_speech_prob: float, before: list[Segment]) -> Segment:
    ratio = text_compression_ratio(text)
    reason = rejection_reason(text, avg_logprob, no_speech_prob, ratio)
    said = " ".join(_WORD.findall(text.casefold()))
    earlier = [" ".join(_WORD.findall(s.text.casefold())) for s in before[-2:]]
    if reason is None and said and earlier == [said, said]:
        reason = "repetition loop (the same words as the two segments before)"
    return Segment(index, start, end, text, float(avg_logprob), float(no_speech_prob), ratio,
                   None, reason)


def transcribe_all(model: LoadedModel, audio: np.ndarray, options: Options = Options()
                   ) -> Transcription:
    """One recording, to the end: `transcribe_many`, or faster-whisper's batched pipeline
    (`transcribe()`) when word timestamps are wanted."""
    if options.word_timestamps:
        finding, segments = transcribe(model, audio, options)
        return Transcription(finding, list(segments), audio.size / SAMPLE_RATE)
    return transcribe_many(model, [audio], options)[0]


def read_wav(data: bytes) -> np.ndarray:
    """The float32 samples of a 16 kHz mono 16-bit WAV (the normalised blob)."""
    import io
    import wave
    with wave.open(io.BytesIO(data)) as wav:
        if wav.getframerate() != SAMPLE_RATE or wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise ValueError("not a 16 kHz mono 16-bit WAV")
        frames = wav.readframes(wav.getnframes())
    return np.frombuffer(frames, dtype=np.int16).astype(np.float32) / 32768.0


# -- a transcription as data (what a worker on another machine posts back) --------------
def to_wire(result: Transcription) -> dict:
    """What Whisper decoded, as plain JSON: the language it heard and each segment's words
    and scores, without cohear's verdicts (the side that stores it judges them again)."""
    lang = result.language
    return {"language": {"detected": lang.detected, "probability": lang.probability,
                         "used": lang.used},
            "duration": result.duration,
            "segments": [{"start": s.start, "end": s.end, "text": s.text,
                          "avg_logprob": s.avg_logprob, "no_speech_prob": s.no_speech_prob,
                          "words": s.words, "tokens": list(s.tokens), "seek": s.seek,
                          "temperature": s.temperature} for s in result.segments]}


def from_wire(data: dict, hint: str | None) -> Transcription:
    """A Transcription from `to_wire`'s data, judged here: the language decided against
    `hint` (the job's own) by the rule in `check_hint`, every segment put through the
    quality guards, confidence and needs_review computed, exactly as when it was decoded."""
    lang = data["language"]
    if lang.get("detected"):
        finding = _decide(hint, lang["detected"], float(lang.get("probability") or 0.0))
    else:
        finding = LanguageFinding(hint, None, None, hint or lang.get("used"))
    segments: list[Segment] = []
    for raw in data["segments"]:
        segment = _judge_one(len(segments), float(raw["start"]), float(raw["end"]),
                             str(raw["text"]).strip(), float(raw["avg_logprob"]),
                             float(raw["no_speech_prob"]), segments)
        segment.words = raw.get("words")
        segment.tokens = list(raw.get("tokens") or [])
        segment.seek = int(raw.get("seek") or 0)
        segment.temperature = float(raw.get("temperature") or 0.0)
        segments.append(segment)
    return Transcription(finding, segments, float(data.get("duration") or 0.0))
