"""The NVIDIA runtime libraries CTranslate2 needs on a GPU, found in pip's wheels and
loaded before CTranslate2 first touches CUDA, so a fresh `pip install "cohear[gpu]"`
works with no LD_LIBRARY_PATH; and the words that explain a CUDA failure with its fix.

CTranslate2's Linux wheels link the CUDA runtime statically and open cuBLAS by its
soname (`libcublas.so.12`) the first time a model runs on the GPU; wheels 4.5.0 to 4.6.2
were also built against cuDNN 9 (4.6.3 and later convolve without it). NVIDIA ships
those libraries as wheels (`nvidia-cublas-cu12`, `nvidia-cudnn-cu12`) whose files land in
`site-packages/nvidia/<name>/lib`, a folder the dynamic loader never searches. Loading
each with `RTLD_GLOBAL`, dependencies first, puts its soname in the process, so
CTranslate2's later `dlopen("libcublas.so.12")` finds the one already loaded.

Hand-written rather than NVIDIA's `cuda-pathfinder`: that picks whichever CUDA major
version is installed, while CTranslate2's build needs exactly the sonames below, and
cohear must be able to say, per library, where it looked and why one failed.
"""

from __future__ import annotations

import ctypes
import logging
import os
import site
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("cohear.cuda")

GPU_EXTRA = 'pip install "cohear[gpu]"'

# (wheel folder under site-packages/nvidia, soname, needed by every CTranslate2 4.x build),
# in dependency order: a library comes after those it links to.
LIBRARIES: tuple[tuple[str, str, bool], ...] = (
    ("cublas", "libcublasLt.so.12", True),
    ("cublas", "libcublas.so.12", True),
    ("cudnn", "libcudnn_graph.so.9", False),
    ("cudnn", "libcudnn_engines_precompiled.so.9", False),
    ("cudnn", "libcudnn_engines_runtime_compiled.so.9", False),
    ("cudnn", "libcudnn_heuristic.so.9", False),
    ("cudnn", "libcudnn_ops.so.9", False),
    ("cudnn", "libcudnn_cnn.so.9", False),
    ("cudnn", "libcudnn_adv.so.9", False),
    ("cudnn", "libcudnn.so.9", False),
)
WHEELS = {"cublas": "nvidia-cublas-cu12", "cudnn": "nvidia-cudnn-cu12"}


@dataclass(frozen=True)
class Library:
    """One runtime library: where it was found and whether it loaded."""

    soname: str
    wheel: str
    required: bool
    status: str  # loaded | failed | missing
    path: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Libraries:
    """What `load()` found: each library, and the folders it searched."""

    libraries: tuple[Library, ...]
    searched: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Every library CTranslate2 needs on a GPU is loaded."""
        return all(lib.status == "loaded" for lib in self.libraries if lib.required)

    def problem(self) -> str | None:
        """The first required library that is missing or failed, in words; None if none."""
        for lib in self.libraries:
            if lib.required and lib.status == "missing":
                return (f"{lib.soname} was not found in any nvidia/{_folder(lib.soname)}/lib "
                        "folder of this Python")
            if lib.required and lib.status == "failed":
                return f"{lib.soname} in {Path(lib.path or '').parent} could not be loaded ({lib.error})"
        return None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "libraries": [asdict(lib) for lib in self.libraries],
                "searched": list(self.searched)}


def _folder(soname: str) -> str:
    return next(folder for folder, name, _ in LIBRARIES if name == soname)


def site_dirs() -> list[Path]:
    """Where pip puts packages for this Python: site-packages folders, then sys.path."""
    found: list[Path] = []
    candidates = list(getattr(site, "getsitepackages", lambda: [])())
    user = getattr(site, "getusersitepackages", lambda: None)()
    if user:
        candidates.append(user)
    candidates += sys.path
    for entry in candidates:
        path = Path(entry or ".").resolve()
        if path not in found and path.is_dir():
            found.append(path)
    return found


_LOCK = threading.Lock()
_LOADED: Libraries | None = None


def load(search: list[Path] | None = None) -> Libraries:
    """Load the CUDA runtime libraries from the first `nvidia/<name>/lib` folder that
    holds them (`search`: the folders holding `nvidia/`, default `site_dirs()`), each
    with RTLD_GLOBAL, in dependency order. Safe to call often: the default search runs
    once per process. A library that is missing or fails to load is reported, never
    raised: CPU work goes on without it."""
    global _LOADED
    with _LOCK:
        if search is None and _LOADED is not None:
            return _LOADED
        roots = site_dirs() if search is None else [Path(p) for p in search]
        folders = {}
        for name in dict.fromkeys(folder for folder, _, _ in LIBRARIES):
            folders[name] = next((root / "nvidia" / name / "lib" for root in roots
                                  if (root / "nvidia" / name / "lib").is_dir()), None)
        out = []
        for folder, soname, required in LIBRARIES:
            directory = folders[folder]
            path = directory / soname if directory else None
            if path is None or not path.exists():
                out.append(Library(soname, WHEELS[folder], required, "missing"))
                continue
            try:
                ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            except OSError as exc:
                out.append(Library(soname, WHEELS[folder], required, "failed", str(path),
                                   _short(exc)))
                continue
            out.append(Library(soname, WHEELS[folder], required, "loaded", str(path)))
        result = Libraries(tuple(out), tuple(str(r) for r in roots))
        if search is None:
            _LOADED = result
        return result


def _short(exc: OSError) -> str:
    """dlerror's text without the path it repeats (the path is reported on its own)."""
    text = str(exc)
    head, sep, tail = text.partition(": ")
    return tail if sep and head.startswith("/") else text


def driver_version() -> tuple[str | None, str | None]:
    """(the CUDA version the installed NVIDIA driver supports, e.g. "12.8", or None;
    why not, when None)."""
    try:
        libcuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None, "the NVIDIA driver's libcuda.so.1 is not installed"
    version = ctypes.c_int(0)
    if libcuda.cuDriverGetVersion(ctypes.byref(version)) != 0:
        return None, "libcuda.so.1 did not report a version"
    return f"{version.value // 1000}.{version.value % 1000 // 10}", None


def device_count() -> int:
    """CUDA devices CTranslate2 sees (0 without a driver or a GPU)."""
    load()
    import ctranslate2
    try:
        return int(ctranslate2.get_cuda_device_count())
    except RuntimeError:
        return 0


# What CTranslate2 (or the CUDA runtime inside it) says, and what a person should do.
_FIXES = (
    ("libcublas", f"install the CUDA 12 libraries: {GPU_EXTRA} (nvidia-cublas-cu12)"),
    ("libcudnn", f"install cuDNN 9 for CUDA 12: {GPU_EXTRA} (nvidia-cudnn-cu12)"),
    ("driver version is insufficient",
     "install or update the NVIDIA driver (CTranslate2's wheels need one for CUDA 12; "
     "`nvidia-smi` must work)"),
    ("no cuda-capable device", "check that the GPU is visible to this machine or container "
                               "(`nvidia-smi`; in Docker, run with --gpus all)"),
    ("out of memory", "free GPU memory (another process holds it), or use a smaller "
                      "model or COHEAR_WHISPER_COMPUTE_TYPE=int8_float16"),
    ("compute type", "set COHEAR_WHISPER_COMPUTE_TYPE to one `cohear doctor` lists for cuda"),
)


def explain(error: BaseException | str, found: Libraries | None = None) -> tuple[str, str]:
    """(why CUDA could not be used, what to do) for an error from CTranslate2, with what
    `load()` found (or `found`) when a library is to blame."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    lowered = text.lower()
    found = found or load()
    for needle, fix in _FIXES:
        if needle in lowered:
            if needle.startswith("libcu"):
                detail = next((lib for lib in found.libraries if needle in lib.soname
                               and lib.status != "loaded"), None)
                if detail and detail.status == "failed":
                    text += f"; {detail.soname} in {Path(detail.path or '').parent} failed to load: {detail.error}"
                    fix = f"reinstall it: pip install --force-reinstall {detail.wheel}"
            return text, fix
    problem = found.problem()
    if problem:
        return f"{text}; {problem}", f"install the CUDA 12 libraries: {GPU_EXTRA}"
    return text, "see `cohear doctor` for what CTranslate2 and CUDA report on this machine"


def no_device_reason() -> str:
    """Why CTranslate2 counts no CUDA device, as far as this machine tells."""
    version, why = driver_version()
    if version is None:
        return f"CTranslate2 sees no CUDA device ({why})"
    return f"CTranslate2 sees no CUDA device (the NVIDIA driver supports CUDA {version})"


_CHOICE: dict = {}


def remember(choice: dict) -> None:
    """Record the device decision of the Whisper model this process loaded last."""
    _CHOICE.clear()
    _CHOICE.update(choice)


def current_choice() -> dict:
    """The device decision of the last Whisper model loaded in this process ({} before
    any): model, requested, device, compute_type, fallback_reason."""
    return dict(_CHOICE)


def gpu_expected() -> bool:
    """Signs of an NVIDIA GPU that CUDA should be using: the driver's device files or
    its /proc entry. On a machine with neither, CPU is the plan, not a fallback."""
    visible = os.environ.get("NVIDIA_VISIBLE_DEVICES", "").strip().lower()
    return any(Path(p).exists() for p in _GPU_SIGNS) or visible not in ("", "void", "none")


_GPU_SIGNS = ("/dev/nvidia0", "/proc/driver/nvidia/gpus")
