#!/usr/bin/env python3
"""Proof that transcription works on a CUDA GPU (device="cuda", float16), with timings.

Self-contained: installs the verified offline base model (`cohear models install`) into
a temporary data directory, builds the benchmark's recordings from cohear/demo_data,
then transcribes them on the GPU, both with one plain faster-whisper call per file
(baseline) and with cohear's batched path, and, for comparison, with cohear's path on
the CPU. Exits non-zero, saying why, when CUDA is missing or the words do not come back.

    python bench/gpu_check.py [--files 24] [--skip-cpu]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MAX_WER = 0.35


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--skip-cpu", action="store_true", help="do not time the CPU run")
    parser.add_argument("--dry-run-on-cpu", action="store_true",
                        help="run every step on the CPU instead (to try the script itself)")
    args = parser.parse_args()
    device, compute_type = ("cpu", "int8") if args.dry_run_on_cpu else ("cuda", "float16")

    import ctranslate2
    gpus = ctranslate2.get_cuda_device_count()
    print(f"CTranslate2 {ctranslate2.__version__}: {gpus} CUDA device(s)")
    if gpus == 0 and not args.dry_run_on_cpu:
        print("FAIL: no CUDA device visible to CTranslate2 (driver, CUDA 12 and cuDNN 9 "
              "libraries needed)")
        return 1
    try:
        print(subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                              "--format=csv,noheader"], check=False, capture_output=True,
                             text=True, timeout=20).stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass

    from transcribe import baseline, build_set

    from speech import audio
    from speech.transcribe import Options, load_model, pick_device, transcribe_many
    from speech.wer import edit_distance, words

    if not args.dry_run_on_cpu and pick_device("auto", "auto") != ("cuda", "float16"):
        print("FAIL: whisper_device=auto did not choose CUDA with float16")
        return 1
    with tempfile.TemporaryDirectory(prefix="cohear-gpu-") as tmp:
        data_dir = Path(tmp) / "data"
        subprocess.run([sys.executable, "-m", "cohear", "--data-dir", str(data_dir), "models",
                        "install"], check=True, cwd=ROOT)
        model_dir = data_dir / "models" / "base"
        recordings = build_set(args.files)
        clips = [audio.decode(io.BytesIO(data), filename="r.wav").samples
                 for _, data, _ in recordings]
        refs = [words(text) for _, _, text in recordings]
        total_audio = sum(c.size for c in clips) / 16_000
        print(f"{len(clips)} recordings, {total_audio:.0f} s of audio")

        def measure(label, run):
            run(clips[:2])  # warm-up: CUDA context, kernels, VAD session
            start = time.perf_counter()
            texts = run(clips)
            elapsed = time.perf_counter() - start
            wer = sum(edit_distance(r, words(t)) for r, t in zip(refs, texts)) / sum(map(len, refs))
            print(f"{label:<28} {total_audio / elapsed:8.1f} audio s per wall s   WER {wer:.3f}")
            return elapsed, wer

        gpu = load_model(model_dir, name="base", device=device, compute_type=compute_type)
        print(f"loaded on {gpu.device}/{gpu.compute_type}")
        base_s, base_wer = measure(f"{device.upper()} baseline (per file)",
                                   lambda cs: [baseline(gpu, c) for c in cs])
        ours_s, ours_wer = measure(f"{device.upper()} cohear (batched)", lambda cs: [
            r.text for r in transcribe_many(gpu, cs, Options(batch_size=16))])
        print(f"speed-up over the baseline on {device}: {base_s / ours_s:.2f}x")
        if not args.skip_cpu and device == "cuda":
            cpu = load_model(model_dir, name="base", device="cpu", compute_type="int8")
            cpu_s, _ = measure("CPU cohear (batched, int8)", lambda cs: [
                r.text for r in transcribe_many(cpu, cs, Options())])
            print(f"GPU over CPU (cohear's path both): {cpu_s / ours_s:.2f}x")
        if ours_wer > MAX_WER or base_wer > MAX_WER:
            print(f"FAIL: word error rate above {MAX_WER}")
            return 1
    print(f"OK: {device} {compute_type} transcription works")
    return 0


if __name__ == "__main__":
    sys.exit(main())
