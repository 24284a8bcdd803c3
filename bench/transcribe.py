#!/usr/bin/env python3
"""Transcription speed and accuracy: cohear's path against a plain faster-whisper baseline.

Builds 24 short recordings (5-40 s) from the two spoken WAVs shipped in cohear/demo_data:
sentences joined, padded with silence or hiss, some made phone-quality (8 kHz mu-law,
decoded back by FFmpeg), some quiet. Then transcribes each one two ways, alternating
group by group:

- baseline: one `WhisperModel.transcribe(audio)` call per file with default options
  (beam 5, no VAD, temperature fallback), consuming all segments;
- cohear:   `speech.transcribe.transcribe_many` (warm model, Silero VAD to skip silence,
  the speech chunks of a group of recordings decoded in shared batches, language
  detected from the same encoder pass, cohear's quality guards).

Both use the same warm model (the verified base model, installed into a temporary data
directory unless --model DIR is given) and the same decoded 16 kHz audio; decoding is
not timed. Recordings go in groups (--group), baseline then cohear on each group, so
both meet the same load on a shared machine. Prints audio seconds per wall-clock second
for each and their ratio, the word error rate of each over the whole set, and memory.

    python bench/transcribe.py [--model DIR] [--device auto|cpu|cuda] [--files N]
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
import tracemalloc
import wave
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speech import audio
from speech.transcribe import Options, load_model, transcribe_many
from speech.wer import corpus_word_error_rate, word_error_rate

DEMO = ROOT / "cohear" / "demo_data"
SENTENCES = {
    "flu": (DEMO / "flu-vaccine-en.wav",
            "I would like to know where my mother can get the flu vaccine."),
    "bus": (DEMO / "clinic-bus-en-8k-mulaw.wav",
            "The clinic is too far away, and the bus does not run on Sundays."),
}
RATE = 16_000


def pcm(name: str) -> np.ndarray:
    return np.round(audio.decode(SENTENCES[name][0]).samples * 32767).astype(np.int16)


def quiet(seconds: float, rng, level: float) -> np.ndarray:
    return (rng.standard_normal(int(seconds * RATE)) * level * 32767).astype(np.int16)


def to_wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def phone_quality(samples: np.ndarray) -> bytes:
    """8 kHz mu-law WAV, encoded by FFmpeg's own encoder through PyAV."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as out:
        stream = out.add_stream("pcm_mulaw", rate=8000, layout="mono")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=8000)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def build_set(count: int, seed: int = 11) -> list[tuple[str, bytes, str]]:
    """(label, file bytes, reference text) for `count` recordings of 5-40 s: one to four
    sentences; every third with long pauses (4-10 s, as when someone thinks aloud on the
    phone); every fourth 8 kHz mu-law; every fifth quiet; hiss at two levels."""
    rng = np.random.default_rng(seed)
    speech = {name: pcm(name) for name in SENTENCES}
    out = []
    for i in range(count):
        order = [("flu", "bus")[(i + k) % 2] for k in range(1 + i % 4)]
        parts, ref = [], []
        long_silences = i % 3 == 0
        noise = 0.002 if i % 2 else 0.0005
        gaps = [rng.uniform(4.0, 10.0) if long_silences else rng.uniform(0.3, 1.5)
                for _ in order] + [rng.uniform(0.5, 4.0 if long_silences else 1.0)]
        spoken = sum(speech[name].size for name in order) / RATE
        scale = min(1.0, (39.5 - spoken) / sum(gaps))  # at most 40 s, every word kept
        for name, gap in zip(order, gaps):
            parts += [quiet(gap * scale, rng, noise), speech[name]]
            ref.append(SENTENCES[name][1])
        parts.append(quiet(gaps[-1] * scale, rng, noise))
        samples = np.concatenate(parts)
        if i % 5 == 4:
            samples = (samples * 0.15).astype(np.int16)  # a quiet phone
        duration = samples.size / RATE
        if duration < 5:
            samples = np.concatenate([samples, quiet(5.2 - duration, rng, noise)])
        phone = i % 4 == 1
        label = (f"{samples.size / RATE:4.1f}s {'+'.join(order)}"
                 f"{' 8k-mulaw' if phone else ''}{' long-silences' if long_silences else ''}")
        out.append((label, phone_quality(samples) if phone else to_wav(samples), " ".join(ref)))
    return out


def install_model(tmp: Path) -> Path:
    from cohear.models import install_base
    from cohear.settings import load_settings
    from cohear.store import Store
    store = Store(load_settings(env={}, data_dir=tmp / "data"))
    store.migrate()
    path = Path(install_base(store)["path"])
    store.close()
    return path


def baseline(model, samples: np.ndarray) -> str:
    segments, _ = model.whisper.transcribe(samples)
    return " ".join(s.text.strip() for s in segments)


def cohear(model, recordings: list[np.ndarray]) -> list[str]:
    return [r.text for r in transcribe_many(model, recordings, Options())]


def compare(model, recordings: list[tuple[str, bytes, str]], group: int = 8,
            memory=None) -> dict:
    """Time both paths over `recordings` in groups (baseline then cohear on each group, so
    both meet the same load), then each path's word error rate and peak memory.
    `memory`: a GPU memory probe (bench/gpu_check.py) with `start()` and `stop() -> MiB`."""
    decoded = [audio.decode(io.BytesIO(data), filename="r.wav") for _, data, _ in recordings]
    # Warm both paths once (model pages, VAD session, CUDA kernels) so neither pays the
    # first call.
    baseline(model, decoded[0].samples[: RATE * 3])
    cohear(model, [decoded[0].samples[: RATE * 3]])
    seconds = {"baseline": 0.0, "cohear": 0.0}
    texts: dict[str, list[str]] = {"baseline": [], "cohear": []}
    gpu_peak: dict[str, float] = {}
    for first in range(0, len(decoded), group):
        samples = [d.samples for d in decoded[first:first + group]]
        for name, run in (("baseline", lambda g=samples: [baseline(model, s) for s in g]),
                          ("cohear", lambda g=samples: cohear(model, g))):
            if memory:
                memory.start()
            start = time.perf_counter()
            texts[name] += run()
            seconds[name] += time.perf_counter() - start
            if memory:
                gpu_peak[name] = max(gpu_peak.get(name, 0.0), memory.stop())
    references = [reference for _, _, reference in recordings]
    errors = {name: corpus_word_error_rate(references, texts[name]) for name in texts}
    # Peak Python-side allocations of one call on the longest recording, per path.
    longest = max(decoded, key=lambda d: d.duration).samples
    peaks = {}
    for name, run in (("baseline", lambda: baseline(model, longest)),
                      ("cohear", lambda: cohear(model, [longest]))):
        tracemalloc.start()
        run()
        peaks[name] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return {"recordings": recordings, "texts": texts, "seconds": seconds, "wer": errors,
            "python_peak_mb": peaks, "gpu_peak_mib": gpu_peak or None,
            "audio_seconds": sum(d.duration for d in decoded),
            "durations": [d.duration for d in decoded]}


def print_table(result: dict, *, per_file: bool = True) -> None:
    """The comparison as bench/transcribe.py and bench/gpu_check.py both print it."""
    if per_file:
        for i, (label, _, reference) in enumerate(result["recordings"]):
            line = f"  {label:<44}"
            for name in result["texts"]:
                line += (f"  {name} WER "
                         f"{word_error_rate(reference, result['texts'][name][i]):.2f}")
            print(line)
        print()
    total = result["audio_seconds"]
    for name, wer in result["wer"].items():
        gpu = (f"   peak GPU memory {result['gpu_peak_mib'][name]:.0f} MiB"
               if result["gpu_peak_mib"] else "")
        print(f"{name:<9} {total / result['seconds'][name]:6.2f} audio s per wall s   "
              f"WER {wer:.3f}   peak Python allocations "
              f"{result['python_peak_mb'][name]:.1f} MB{gpu}")
    seconds = result["seconds"]
    print(f"speed-up  {seconds['baseline'] / seconds['cohear']:.2f}x  "
          f"(baseline {seconds['baseline']:.1f} s, cohear {seconds['cohear']:.1f} s)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the whole run: {rss:.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a CTranslate2 Whisper model folder")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--group", type=int, default=8, help="recordings per batch group")
    args = parser.parse_args()
    if args.files < 20:
        parser.error("use at least 20 files")

    with tempfile.TemporaryDirectory(prefix="cohear-bench-") as tmp:
        model_dir = args.model or install_model(Path(tmp))
        model = load_model(model_dir, name="base", device=args.device)
        print(f"model {model_dir.name if isinstance(model_dir, Path) else model_dir} on "
              f"{model.device}/{model.compute_type}")
        recordings = build_set(args.files)
        result = compare(model, recordings, args.group)
        durations = result["durations"]
        print(f"{len(recordings)} recordings, {result['audio_seconds']:.0f} s of audio "
              f"({min(durations):.1f}-{max(durations):.1f} s)")
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
