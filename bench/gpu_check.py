#!/usr/bin/env python3
"""Proof that transcription works on a CUDA GPU, with timings: the one command to run on
a fresh GPU machine.

    python bench/gpu_check.py [--files 24] [--skip-cpu] [--wheels DIR] [--no-install]

1. Installs what it needs into this Python: `pip install -e ".[gpu]"` (the NVIDIA
   cuBLAS/cuDNN wheels, NVML), or from a folder of wheels with `--wheels DIR` on a
   machine without an index; then runs itself again so the new packages are imported.
2. Prints `cohear doctor`'s view (the device, compute types, the CUDA libraries found
   and from where, the driver) and requires that `whisper_device=auto` proves CUDA with
   float16 on its own, with no LD_LIBRARY_PATH.
3. Installs the verified offline base model into a temporary data directory, builds
   bench/transcribe.py's 24 recordings, and prints the same table as bench/transcribe.py
   for plain faster-whisper (one `WhisperModel.transcribe` per file) and cohear's batched
   path on the GPU: audio seconds per wall second, WER, peak memory, plus peak GPU memory
   (NVML, else nvidia-smi) while each path ran; then cohear's path on the CPU for
   comparison (unless --skip-cpu).

Exits non-zero, saying why, when CUDA is missing, `auto` does not choose it, or the words
do not come back. `--dry-run-on-cpu` runs every step on the CPU, to try the script itself.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ goes last: its translate.py must not hide translate-toolkit's `translate`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))

MAX_WER = 0.35


def install(wheels: Path | None) -> int:
    """pip install -e ".[gpu]" into this interpreter, from the index or a wheel folder."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[gpu]"]
    if wheels:
        command += ["--no-index", "--find-links", str(wheels)]
    print("installing:", " ".join(command[3:]), flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT)
    print(f"install took {time.perf_counter() - start:.0f} s (exit {done.returncode})", flush=True)
    return done.returncode


class GpuMemory:
    """Peak GPU memory in use (MiB) between `start()` and `stop()`, sampled in a thread:
    NVML through nvidia-ml-py, else nvidia-smi."""

    def __init__(self, index: int = 0):
        self.index = index
        self._nvml = None
        try:
            import pynvml
            pynvml.nvmlInit()
            self._nvml = pynvml.nvmlDeviceGetHandleByIndex(index)
            self._pynvml = pynvml
        except Exception:  # noqa: BLE001 - nvidia-smi serves instead
            self._nvml = None
        self._peak = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def used(self) -> float:
        if self._nvml is not None:
            return self._pynvml.nvmlDeviceGetMemoryInfo(self._nvml).used / 2**20
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
                              f"--id={self.index}"], capture_output=True, text=True, timeout=10)
        return float(out.stdout.strip() or 0)

    def start(self) -> None:
        self._peak = self.used()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        interval = 0.02 if self._nvml is not None else 0.2
        while not self._stop.wait(interval):
            self._peak = max(self._peak, self.used())

    def stop(self) -> float:
        self._stop.set()
        if self._thread:
            self._thread.join()
        return max(self._peak, self.used())


def check(args) -> int:
    device, compute_type = ("cpu", "int8") if args.dry_run_on_cpu else ("cuda", "float16")
    from cohear import cuda
    from cohear.doctor import _ctranslate2, _driver, _libraries
    found = cuda.load()  # before CTranslate2 is imported, as cohear itself does
    parts = {"ctranslate2": _ctranslate2(), "driver": _driver(), "cuda_libraries": _libraries()}
    ct = parts["ctranslate2"]
    print(f"CTranslate2 {ct['version']}: {ct['cuda_devices']} CUDA device(s); compute types "
          f"cpu {ct['compute_types']['cpu']}, cuda {ct['compute_types']['cuda']}")
    print(f"NVIDIA driver: {parts['driver'].get('cuda_version') or parts['driver'].get('error')}")
    for lib in found.libraries:
        print(f"  {lib.soname:<40} {lib.status:<8} {lib.path or ''} {lib.error or ''}")
    print("LD_LIBRARY_PATH:", os.environ.get("LD_LIBRARY_PATH") or "(not set)")
    try:
        print(subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                              "--format=csv,noheader"], check=False, capture_output=True,
                             text=True, timeout=20).stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    if ct["cuda_devices"] == 0 and not args.dry_run_on_cpu:
        print(f"FAIL: {cuda.no_device_reason()}")
        return 1

    from transcribe import compare, install_model, print_table

    from speech.transcribe import Options, load_model, transcribe_many

    with tempfile.TemporaryDirectory(prefix="cohear-gpu-") as tmp:
        model_dir = install_model(Path(tmp))
        auto = load_model(model_dir, name="base", device="auto")
        print(f"whisper_device=auto chose {auto.device}/{auto.compute_type}"
              + (f" (fell back: {auto.fallback_reason})" if auto.fallback_reason else ""))
        if not args.dry_run_on_cpu and (auto.device, auto.compute_type) != ("cuda", "float16"):
            print("FAIL: whisper_device=auto did not prove CUDA with float16")
            return 1
        model = load_model(model_dir, name="base", device=device, compute_type=compute_type)
        from transcribe import build_set
        recordings = build_set(args.files)
        memory = GpuMemory() if device == "cuda" else None
        print(f"\n{device.upper()} {compute_type}: one plain faster-whisper call per file "
              f"(baseline) vs cohear's batched path")
        result = compare(model, recordings, args.group, memory)
        print(f"{len(recordings)} recordings, {result['audio_seconds']:.0f} s of audio")
        print_table(result, per_file=False)
        wers = result["wer"]
        if not args.skip_cpu and device == "cuda":
            import io

            from speech import audio
            cpu = load_model(model_dir, name="base", device="cpu", compute_type="int8")
            clips = [audio.decode(io.BytesIO(data), filename="r.wav").samples
                     for _, data, _ in recordings]
            transcribe_many(cpu, clips[:1], Options())
            start = time.perf_counter()
            transcribe_many(cpu, clips, Options())
            cpu_s = time.perf_counter() - start
            print(f"CPU int8 cohear {result['audio_seconds'] / cpu_s:6.2f} audio s per wall s; "
                  f"GPU over CPU (cohear's path both): {cpu_s / result['seconds']['cohear']:.2f}x")
        if max(wers.values()) > MAX_WER:
            print(f"FAIL: word error rate above {MAX_WER}: {wers}")
            return 1
    print(f"OK: {device} {compute_type} transcription works")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--group", type=int, default=8, help="recordings per batch group")
    parser.add_argument("--skip-cpu", action="store_true", help="do not time the CPU run")
    parser.add_argument("--no-install", action="store_true",
                        help='do not run pip install -e ".[gpu]" first')
    parser.add_argument("--wheels", type=Path, help="install from this folder of wheels "
                        "(no package index)")
    parser.add_argument("--dry-run-on-cpu", action="store_true",
                        help="run every step on the CPU instead (to try the script itself)")
    args = parser.parse_args()
    if not args.no_install:
        if install(args.wheels) != 0:
            print("FAIL: could not install cohear[gpu]")
            return 1
        # A new interpreter, so the packages just installed are the ones imported.
        return subprocess.run([sys.executable, __file__, "--no-install",
                               *[a for a in sys.argv[1:] if a != "--no-install"]]).returncode
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
