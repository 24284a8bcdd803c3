"""`cohear doctor`: what this machine can do for cohear, and the fix for what is wrong:
the device CTranslate2 sees and the compute types it supports there, the CUDA libraries
found and from where, the Whisper model and its verification (and the device it proves
on), and the job backend.

Plain data out (`diagnose()`), so the CLI prints it as a report or as JSON.
"""

from __future__ import annotations

from pathlib import Path

from cohear import cuda
from cohear.errors import CohearError
from cohear.store import Store


def diagnose(store: Store, *, prove: bool = True) -> dict:
    """Every check, each with `ok` and, when not ok, `fix`. `prove` loads the configured
    Whisper model on the configured device (the same proof transcription makes)."""
    report: dict = {"ctranslate2": _ctranslate2(), "driver": _driver(),
                    "cuda_libraries": _libraries(), "whisper": _whisper(store, prove),
                    "jobs": _jobs(store)}
    gpu = report["ctranslate2"]["cuda_devices"] > 0 or cuda.gpu_expected()
    # Missing CUDA libraries matter only where there is a GPU to use them.
    if not gpu:
        report["cuda_libraries"]["ok"] = True
        report["cuda_libraries"].pop("fix", None)
        report["cuda_libraries"]["note"] = "no GPU here: the CPU needs none of them"
        report["driver"]["ok"] = True
        report["driver"].pop("fix", None)
        report["driver"]["note"] = "no GPU here"
    report["problems"] = [f"{name}: {part.get('error') or 'not ok'}. Fix: {part['fix']}"
                          for name, part in report.items()
                          if isinstance(part, dict) and not part.get("ok") and part.get("fix")]
    report["ok"] = not report["problems"]
    return report


def _ctranslate2() -> dict:
    cuda.load()
    import ctranslate2
    devices = cuda.device_count()
    types = {"cpu": sorted(ctranslate2.get_supported_compute_types("cpu")), "cuda": None}
    out = {"ok": True, "version": ctranslate2.__version__, "cuda_devices": devices,
           "compute_types": types}
    if devices:
        try:
            types["cuda"] = sorted(ctranslate2.get_supported_compute_types("cuda"))
        except (RuntimeError, ValueError) as exc:
            reason, fix = cuda.explain(exc)
            out.update(ok=False, error=f"CTranslate2 cannot query the GPU: {reason}", fix=fix)
    return out


def _driver() -> dict:
    version, why = cuda.driver_version()
    if version:
        return {"ok": True, "cuda_version": version}
    return {"ok": False, "cuda_version": None, "error": why,
            "fix": "install the NVIDIA driver (`nvidia-smi` must list the GPU)"}


def _libraries() -> dict:
    found = cuda.load()
    out = found.as_dict()
    if not found.ok:
        out["error"] = found.problem()
        failed = next((lib for lib in found.libraries if lib.required and lib.status == "failed"),
                      None)
        out["fix"] = (f"reinstall it: pip install --force-reinstall {failed.wheel}" if failed
                      else f"install the CUDA 12 libraries: {cuda.GPU_EXTRA}")
    return out


def _whisper(store: Store, prove: bool) -> dict:
    from cohear import models
    name = store.settings.whisper_model
    out: dict = {"ok": False, "model": name, "requested": store.settings.whisper_device}
    try:
        path = models.resolve(store, name)
        out["path"] = str(path)
        out["files_verified"] = models.verify(store, name)["files"]
    except CohearError as exc:
        return out | {"error": exc.detail, "fix": exc.fix or "see `cohear models list`"}
    out["ok"] = True
    if not prove:
        out["device"] = None
        out["note"] = "not loaded (--no-prove)"
        return out
    try:
        from speech.transcribe import load_model
        loaded = load_model(path, name=name, device=store.settings.whisper_device,
                            compute_type=store.settings.whisper_compute_type,
                            cpu_threads=store.settings.cpu_threads)
    except CohearError as exc:
        return out | {"ok": False, "device": None, "error": exc.detail,
                      "fix": exc.fix or "see the error"}
    out |= {k: v for k, v in loaded.device_state().items() if k not in ("model", "requested")}
    if loaded.fallback_reason:
        out |= {"ok": False, "error": f"on the CPU although a GPU is here: "
                                      f"{loaded.fallback_reason}",
                "fix": cuda.explain(loaded.fallback_reason)[1]}
    return out


def _jobs(store: Store) -> dict:
    s = store.settings
    if s.job_backend == "sqlite":
        return {"ok": True, "backend": "sqlite", "queue": str(s.queue_path)}
    out = {"ok": False, "backend": "redis", "redis_url": _masked(s.redis_url)}
    try:
        import redis
    except ImportError:
        return out | {"error": "the redis client is not installed",
                      "fix": 'pip install "cohear[redis]"'}
    try:
        redis.Redis.from_url(s.redis_url, socket_timeout=3, socket_connect_timeout=3).ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        return out | {"error": f"Redis does not answer ({type(exc).__name__})",
                      "fix": "start Redis, or check COHEAR_REDIS_URL (host, port, password)"}
    return out | {"ok": True}


def _masked(url: str) -> str:
    """A Redis URL without its password."""
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def lines(report: dict) -> list[str]:
    """The report in words: each check on a line, its details and fix underneath."""
    ct, d, libs, w, j = (report[k] for k in ("ctranslate2", "driver", "cuda_libraries",
                                            "whisper", "jobs"))
    types = ct["compute_types"]
    blocks = [(ct, [f"CTranslate2 {ct['version']}: {ct['cuda_devices']} CUDA device(s); "
                    f"compute types on cpu: {', '.join(types['cpu'])}"
                    + (f"; on cuda: {', '.join(types['cuda'])}" if types["cuda"] else "")]),
              (d, ["NVIDIA driver: " + (f"supports CUDA {d['cuda_version']}"
                                        if d["cuda_version"] else d.get("error", "none"))
                   + (f" ({d['note']})" if d.get("note") else "")])]
    lib_lines = ["CUDA libraries" + (f" ({libs['note']})" if libs.get("note") else "")]
    for lib in libs["libraries"]:
        where = f" from {Path(lib['path']).parent}" if lib["path"] else ""
        why = f": {lib['error']}" if lib["error"] else ""
        need = "" if lib["required"] else " (used by CTranslate2 4.5-4.6.2 only)"
        lib_lines.append(f"  {lib['soname']:<40} {lib['status']}{where}{why}{need}")
    blocks.append((libs, lib_lines))
    where = f", runs on {w['device']} with {w['compute_type']}" if w.get("device") else ""
    blocks.append((w, [f"Whisper model {w['model']!r}"
                       + (f": {w['files_verified']} files verified" if w.get("files_verified")
                          else "") + where + (f" ({w['note']})" if w.get("note") else "")]))
    blocks.append((j, [f"job backend {j['backend']}: {j.get('queue') or j.get('redis_url')}"]))
    out = []
    for part, text in blocks:
        out.append(("ok  " if part.get("ok") else "BAD ") + text[0])
        out += ["    " + line for line in text[1:]]
        if not part.get("ok") and part.get("fix"):
            out.append(f"    problem: {part.get('error')}")
            out.append(f"    fix: {part['fix']}")
    out.append("all good" if report["ok"] else f"{len(report['problems'])} problem(s)")
    return out
