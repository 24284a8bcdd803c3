"""A fresh CUDA machine: the NVIDIA runtime libraries are found in pip's wheel folders and
loaded (dependencies first) so CTranslate2 finds them by name; `auto` proves CUDA before
trusting it and falls back to the CPU, saying why, where it fails; `cuda` set explicitly
fails loudly with the reason and the fix; `cohear doctor` reports all of it.

There is no GPU here: the failures are made to happen with a fake library folder (real
shared objects built by the C compiler, or files named like the libraries that are not
libraries) and a fake CUDA device count, against the real CTranslate2, which then fails
to use CUDA as it does on a machine without a driver."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cohear import cuda
from cohear.errors import ModelError
from tests.conftest import REPO

CC = shutil.which("cc") or shutil.which("gcc")


def compile_library(folder: Path, soname: str, source: str, links: list[str] = ()) -> Path:
    """A real shared object named and sonamed like a CUDA library."""
    if CC is None:
        pytest.fail("a C compiler (cc) is needed to build the fake CUDA libraries")
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / f"{soname}.c"
    src.write_text(source)
    out = folder / soname
    subprocess.run([CC, "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", str(out), str(src),
                    f"-L{folder}", *[f"-l:{name}" for name in links]], check=True)
    src.unlink()
    return out


def fake_cublas(site: Path, *, with_lt: bool = True) -> Path:
    """site/nvidia/cublas/lib as nvidia-cublas-cu12 lays it out: libcublas.so.12 needs
    libcublasLt.so.12 by name and carries no search path for it."""
    lib = site / "nvidia" / "cublas" / "lib"
    compile_library(lib, "libcublasLt.so.12", "int cohear_fake_lt(void) { return 12; }\n")
    compile_library(lib, "libcublas.so.12", "int cohear_fake_lt(void);\n"
                    "int cohear_fake_cublas(void) { return cohear_fake_lt() * 10; }\n",
                    links=["libcublasLt.so.12"])
    if not with_lt:
        (lib / "libcublasLt.so.12").unlink()
    return lib


def run_python(code: str, *args: str, env: dict | None = None) -> dict:
    """Run `code` in a fresh interpreter (loading libraries changes the process) and
    return the JSON it prints last."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO), **(env or {})),
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


LOAD_AND_OPEN_BY_NAME = """
import ctypes, json, sys
from pathlib import Path
from cohear import cuda

def by_name():
    # What CTranslate2 does the first time a model computes on the GPU.
    try:
        return ctypes.CDLL("libcublas.so.12").cohear_fake_cublas()
    except OSError as exc:
        return str(exc)

before = by_name()
found = cuda.load([Path(sys.argv[1])])
print(json.dumps({"before": before, "after": by_name(), "found": found.as_dict(),
                  "problem": found.problem()}))
"""


def test_the_wheels_libraries_load_dependencies_first_and_are_then_found_by_name(tmp_path):
    lib = fake_cublas(tmp_path / "site")
    out = run_python(LOAD_AND_OPEN_BY_NAME, str(tmp_path / "site"))
    assert "cannot open shared object file" in out["before"]  # no LD_LIBRARY_PATH, no luck
    assert out["after"] == 120
    cublas = {x["soname"]: x for x in out["found"]["libraries"] if x["wheel"] == "nvidia-cublas-cu12"}
    assert cublas["libcublasLt.so.12"] == {"soname": "libcublasLt.so.12", "wheel": "nvidia-cublas-cu12",
                                           "required": True, "status": "loaded",
                                           "path": str(lib / "libcublasLt.so.12"), "error": None}
    assert cublas["libcublas.so.12"]["status"] == "loaded"
    assert out["found"]["ok"] is True and out["problem"] is None
    # cuDNN is not there: reported, not required (CTranslate2 4.6.3+ does without it).
    cudnn = [x for x in out["found"]["libraries"] if x["wheel"] == "nvidia-cudnn-cu12"]
    assert cudnn and all(x["status"] == "missing" and not x["required"] for x in cudnn)


def test_a_library_whose_dependency_is_missing_fails_with_the_loaders_reason(tmp_path):
    fake_cublas(tmp_path / "site", with_lt=False)
    out = run_python(LOAD_AND_OPEN_BY_NAME, str(tmp_path / "site"))
    states = {x["soname"]: x for x in out["found"]["libraries"]}
    assert states["libcublasLt.so.12"]["status"] == "missing"
    assert states["libcublas.so.12"]["status"] == "failed"
    assert "libcublasLt.so.12" in states["libcublas.so.12"]["error"]
    assert out["found"]["ok"] is False
    assert "libcublasLt.so.12 was not found" in out["problem"]


def test_a_file_named_like_cublas_that_is_not_a_library_is_named_with_the_fix(tmp_path):
    lib = tmp_path / "site" / "nvidia" / "cublas" / "lib"
    lib.mkdir(parents=True)
    (lib / "libcublasLt.so.12").write_bytes(b"not an ELF file " * 64)
    (lib / "libcublas.so.12").write_bytes(b"\x7fELF truncated")
    found = cuda.load([tmp_path / "site"])
    states = {x.soname: x for x in found.libraries}
    assert states["libcublasLt.so.12"].status == "failed"
    assert states["libcublasLt.so.12"].error  # dlerror's words, e.g. "invalid ELF header"
    assert str(lib) not in states["libcublasLt.so.12"].error  # the path is reported once
    # CTranslate2's own words when it cannot open cuBLAS, explained with what was found.
    reason, fix = cuda.explain(RuntimeError("Library libcublas.so.12 is not found or cannot "
                                            "be loaded"), found)
    assert "libcublas" in reason and str(lib) in reason and "failed to load" in reason
    assert fix == "reinstall it: pip install --force-reinstall nvidia-cublas-cu12"
    # Nothing there at all: the fix is the extra that brings the wheels.
    empty = cuda.load([tmp_path / "nowhere"])
    reason, fix = cuda.explain(RuntimeError("Library libcublas.so.12 is not found or cannot "
                                            "be loaded"), empty)
    assert 'pip install "cohear[gpu]"' in fix
    assert empty.problem().startswith("libcublasLt.so.12 was not found")


@pytest.mark.parametrize(("message", "words"), [
    ("CUDA failed with error CUDA driver version is insufficient for CUDA runtime version",
     "NVIDIA driver"),
    ("CUDA failed with error no CUDA-capable device is detected", "nvidia-smi"),
    ("CUDA failed with error out of memory", "free GPU memory"),
    ("Could not load library libcudnn_ops.so.9. Error: libcudnn_ops.so.9: cannot open shared "
     "object file", "nvidia-cudnn-cu12"),
])
def test_ctranslate2s_cuda_errors_come_with_a_fix(message, words, tmp_path):
    reason, fix = cuda.explain(RuntimeError(message), cuda.load([tmp_path]))
    assert reason.startswith(message.split(".")[0])
    assert words in fix


# -- auto proves CUDA before trusting it ---------------------------------------------------
@pytest.fixture
def fresh_models():
    """No warm model or device decision from earlier tests, and none left behind."""
    from speech import transcribe
    transcribe._CACHE.clear()
    cuda.remember({})
    yield
    transcribe._CACHE.clear()
    cuda.remember({})


@pytest.fixture
def one_fake_gpu(monkeypatch):
    """CTranslate2 counts one CUDA device; the real library then fails to use it (this
    machine has no driver), as it does on a GPU box with a driver or library missing."""
    import ctranslate2
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)


@pytest.mark.slow
def test_auto_falls_back_to_cpu_int8_saying_why_and_healthz_shows_it(
        one_fake_gpu, fresh_models, live_server, store, whisper_model, caplog):
    from speech.transcribe import model_for
    with caplog.at_level(logging.WARNING, logger="cohear.speech"):
        model = model_for(store)
        again = model_for(store)
    assert again is model  # proven once, kept warm
    assert (model.device, model.compute_type) == ("cpu", "int8")
    assert "driver version is insufficient" in model.fallback_reason
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "using the CPU with int8" in warnings[0]
    assert "NVIDIA driver" in warnings[0]  # the fix, on the same line
    with live_server.client() as c:
        body = c.get("/healthz").json()
    assert body["whisper"]["device"] == "cpu"
    assert body["whisper"]["compute_type"] == "int8"
    assert body["whisper"]["requested"] == "auto"
    assert "driver version is insufficient" in body["whisper"]["fallback_reason"]
    assert body["status"] == "degraded" and "cohear doctor" in body["whisper"]["fix"]


@pytest.mark.slow
def test_cuda_set_explicitly_fails_loudly_with_the_reason_and_the_fix(
        one_fake_gpu, fresh_models, whisper_model):
    from speech.transcribe import load_model
    with pytest.raises(ModelError) as caught:
        load_model(whisper_model, name="base", device="cuda")
    message = caught.value.message()
    assert "cannot run on CUDA" in message and "driver version is insufficient" in message
    assert "Install or update the NVIDIA driver" in message
    assert cuda.current_choice() == {}  # nothing was loaded


def test_a_gpu_the_driver_cannot_reach_is_a_fallback_and_no_gpu_at_all_is_not(
        fresh_models, whisper_model, tmp_path, monkeypatch):
    from speech.transcribe import load_model
    monkeypatch.delenv("NVIDIA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(cuda, "_GPU_SIGNS", (str(tmp_path / "dev-nvidia0"),))
    plain = load_model(whisper_model, name="base", device="auto", cpu_threads=1)
    assert (plain.device, plain.fallback_reason) == ("cpu", None)  # a CPU machine, as planned
    (tmp_path / "dev-nvidia0").touch()  # the GPU's device file, but no driver library
    stranded = load_model(whisper_model, name="base", device="auto", cpu_threads=2)
    assert stranded.device == "cpu"
    assert stranded.fallback_reason == ("CTranslate2 sees no CUDA device (the NVIDIA "
                                        "driver's libcuda.so.1 is not installed)")
    with pytest.raises(ModelError) as caught:
        load_model(whisper_model, name="base", device="cuda")
    assert "Install the NVIDIA driver" in caught.value.message()


# -- cohear doctor -----------------------------------------------------------------------
def doctor(data_dir: Path, *args: str, site: Path | None = None) -> tuple[int, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + ([str(site)] if site else [])))
    done = subprocess.run([sys.executable, "-m", "cohear", "--data-dir", str(data_dir),
                           "doctor", *args], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=300)
    return done.returncode, done.stdout + done.stderr


def test_doctor_reports_device_libraries_model_and_backend(store, whisper_model, tmp_path):
    lib = fake_cublas(tmp_path / "site")
    rc, out = doctor(store.settings.data_dir, "--json", site=tmp_path / "site")
    assert rc == 0, out
    report = json.loads(out)
    assert report["ctranslate2"]["cuda_devices"] == 0
    assert "int8" in report["ctranslate2"]["compute_types"]["cpu"]
    libs = {x["soname"]: x for x in report["cuda_libraries"]["libraries"]}
    assert libs["libcublas.so.12"]["status"] == "loaded"
    assert libs["libcublas.so.12"]["path"] == str(lib / "libcublas.so.12")  # from where
    assert report["whisper"] | {"path": None} == {
        "ok": True, "model": "base", "requested": "auto", "path": None, "files_verified": 4,
        "device": "cpu", "compute_type": "int8", "fallback_reason": None}
    assert report["jobs"] == {"ok": True, "backend": "sqlite",
                              "queue": str(store.settings.queue_path)}
    assert report["ok"] is True and report["problems"] == []
    rc, text = doctor(store.settings.data_dir, "--no-prove", site=tmp_path / "site")
    assert rc == 0
    assert f"libcublas.so.12                          loaded from {lib}" in text
    assert "all good" in text


def test_doctor_gives_the_fix_for_each_problem(store, tmp_path):
    rc, text = doctor(store.settings.data_dir)  # no model installed
    assert rc == 1
    assert "BAD Whisper model 'base'" in text
    assert "fix: run `cohear models install`" in text
    settings = store.settings.data_dir / "cohear.toml"
    settings.write_text('job_backend = "redis"\nredis_url = "redis://:secret@127.0.0.1:9/0"\n')
    rc, out = doctor(store.settings.data_dir, "--json", "--no-prove")
    report = json.loads(out)
    assert report["jobs"]["ok"] is False
    assert report["jobs"]["redis_url"] == "redis://:***@127.0.0.1:9/0"  # no password shown
    assert "COHEAR_REDIS_URL" in report["jobs"]["fix"]
    assert any(p.startswith("jobs: Redis does not answer") for p in report["problems"])
