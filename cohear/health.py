"""What a monitor, or an admin, needs to know: can cohear do its work right now?

Anyone may ask `/healthz` (a load balancer or a monitor holds no token), so it says
only `ok` or `degraded` and which parts are wrong, by name: `database`, `jobs`,
`whisper`, `language_packs`. Everything else (the database's path on disk, pending
migrations, job counts, the Whisper device and why it fell back, installed packs, the
version) tells an outsider about the machine and what it holds, and is for admins at
`/api/health` (`system.check`), as `cohear doctor` is on the machine itself.
"""

from __future__ import annotations

from cohear import __version__, logs
from cohear.errors import CohearError
from cohear.jobs import JobQueue
from cohear.store import Store

PARTS = ("database", "jobs", "whisper", "language_packs")


def summary(store: Store, jobs: JobQueue) -> dict:
    """`status` and `problems` (the names of the parts that are wrong), nothing more."""
    full = details(store, jobs)
    return {"status": full["status"], "problems": problems(full)}


def problems(full: dict) -> list[str]:
    """The parts that are wrong, or that work but not as planned (a GPU machine
    transcribing on its CPU)."""
    wrong = [part for part in PARTS if not full.get(part, {}).get("ok", True)]
    if full.get("whisper", {}).get("fallback_reason") and "whisper" not in wrong:
        wrong.append("whisper")
    return wrong


def details(store: Store, jobs: JobQueue) -> dict:
    """Every part's state, with what to do about a wrong one (admins only)."""
    from cohear import models

    out: dict = {"status": "ok", "version": __version__}
    try:
        store.one("SELECT 1")
        pending = store.pending_migrations()
        out["database"] = {"ok": not pending, "path": str(store.path),
                           "pending_migrations": [m.key for m in pending]}
    except CohearError as exc:
        out["database"] = {"ok": False, "error": exc.message()}
    try:
        out["jobs"] = {"ok": True, "backend": store.settings.job_backend, "counts": jobs.counts()}
    except Exception as exc:  # noqa: BLE001
        out["jobs"] = {"ok": False, "error": logs.summary(exc)}
    try:
        wanted = store.settings.whisper_model
        listed = {m["name"]: m for m in models.list_models(store)}
        m = listed.get(wanted)
        out["whisper"] = {"ok": bool(m and m["verified"] and m["present"]), "model": wanted,
                          "verified": bool(m and m["verified"])} | whisper_device(store)
        if not out["whisper"]["ok"]:
            out["whisper"]["fix"] = "run `cohear models install`"
        elif out["whisper"]["fallback_reason"]:
            out["whisper"]["fix"] = ("the GPU is not used: see the fallback reason, and "
                                     "`cohear doctor` for what is missing")
    except Exception as exc:  # noqa: BLE001
        out["whisper"] = {"ok": False, "error": logs.summary(exc)}
    try:
        from language_packs import packs
        out["language_packs"] = {"ok": True, "installed": packs.installed_pairs(store)}
    except (ImportError, AttributeError):
        out["language_packs"] = {"ok": True, "installed": []}
    if not all(part.get("ok") for key, part in out.items() if isinstance(part, dict)):
        out["status"] = "degraded"
    # A GPU machine transcribing on its CPU still works, but far slower than planned.
    if out.get("whisper", {}).get("fallback_reason"):
        out["status"] = "degraded"
    return out


def whisper_device(store: Store) -> dict:
    """Where this process transcribes: the setting, and once the model has loaded (with
    the first transcription) the device it proved, its compute type and, when `auto`
    fell back to the CPU, why. Before that, `device` is null."""
    from cohear import cuda
    choice = cuda.current_choice()
    if choice.get("model") != store.settings.whisper_model:
        choice = {}
    return {"requested": store.settings.whisper_device, "device": choice.get("device"),
            "compute_type": choice.get("compute_type"),
            "fallback_reason": choice.get("fallback_reason")}
