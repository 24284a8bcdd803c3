"""Temporary files and folders: the names cohear gives what it writes before it is
complete (blobs and uploads being received, exports being written, packs and models
being unpacked and checked, databases being restored), and their removal once the
process that wrote them is gone.

How a temporary's writer is known to be alive, safely with several processes (a
server, extra workers, the CLI) on one data directory, even on several machines
sharing it: each process that writes temporaries holds an exclusive lock (`flock`) on
its own file `processes/<owner>.lock` for as long as it lives, and every temporary it
writes has `<owner>` in its name (`.upload.tmp4242-1a2b3c4d.5e6f7a8b`). The kernel drops
the lock when the process dies, however it dies (kill -9, power cut), so a temporary
whose owner's lock can be taken belongs to nobody and is removed; one whose owner holds
its lock is left alone. Process ids are only part of the name for people reading it: a
reused pid does not make a dead writer look alive, because the owner's random part
differs. The lock file is created under another name, locked, then renamed into place,
so no other process can see it unlocked.

A temporary outside the data directory (a backup being made, an export written with
the CLI to a path of the user's choosing) is listed in its owner's lock file, so it is
found and removed too.

`clean()` runs at start-up (`cohear serve`, `cohear worker`), in `cohear db check
--repair` and every few minutes in a worker.
"""

from __future__ import annotations

import errno
import fcntl
import importlib
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Folders under the data directory where temporaries are written (others are listed in
# the owner's lock file). Old-style names, from before owners, are matched by pid.
PLACES = ("", "blobs/tmp", "exports", "packs", "models", "collect-parts", "translated-files")
PROCESSES = "processes"
_OWNER = re.compile(r"(?:^|\.)(tmp\d+-[0-9a-f]{8})(?:\.|$)")
_LEGACY = {  # place -> pattern with the writer's pid, for names written before owners
    "blobs/tmp": re.compile(r"^(?:upload-)?(\d+)-[^/]*$"),
    "exports": re.compile(r"^\.export-.*\.(\d+)\.partial(?:\.qde)?$"),
}
_STALE_NEW = 60.0  # a lock file still being created this long after is abandoned

_lock = threading.Lock()
_owners: dict[Path, tuple[str, int]] = {}  # data dir -> (owner, fd holding its lock)


def _reset_after_fork() -> None:
    # A child process is a new writer with its own owner and lock; the copy of the
    # parent's lock it inherited must not keep the parent's temporaries looking alive.
    for _, fd in _owners.values():
        os.close(fd)
    _owners.clear()


os.register_at_fork(after_in_child=_reset_after_fork)


def owner(data_dir: Path) -> str:
    """This process's owner name for temporaries under `data_dir` (taken on first use)."""
    data_dir = Path(data_dir).resolve()
    with _lock:
        found = _owners.get(data_dir)
        if found:
            return found[0]
        name = f"tmp{os.getpid()}-{secrets.token_hex(4)}"
        folder = data_dir / PROCESSES
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        new = folder / f".{name}.new"
        fd = os.open(new, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.replace(new, folder / f"{name}.lock")
        except BaseException:
            os.close(fd)
            new.unlink(missing_ok=True)
            raise
        _owners[data_dir] = (name, fd)
        return name


def path(data_dir: Path, folder: Path, label: str) -> Path:
    """A new temporary's name in `folder` (created if needed): `.<label>.<owner>.<random>`,
    different on every call. The caller writes it, then renames it into place or
    removes it."""
    data_dir = Path(data_dir).resolve()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = owner(data_dir)
    out = folder / f".{label}.{name}.{secrets.token_hex(4)}"
    where = folder.resolve()
    inside_a_temporary = any(_OWNER.search(p.name) for p in (where, *where.parents))
    if not inside_a_temporary and not any(where == data_dir / place for place in PLACES):
        _remember_elsewhere(data_dir, out.resolve())
    return out


def _remember_elsewhere(data_dir: Path, where: Path) -> None:
    """Note a temporary outside the known folders in this process's lock file."""
    _, fd = _owners[data_dir]
    line = os.fsencode(str(where)) + b"\n"
    if b"\n" in line[:-1]:
        return  # a path with a newline cannot be listed; it is not one cohear makes
    with _lock:
        os.lseek(fd, 0, os.SEEK_END)
        os.write(fd, line)


def _alive(data_dir: Path, name: str, cache: dict[str, bool]) -> bool:
    """Whether the owner `name` still holds its lock (a process that is still writing)."""
    if name in cache:
        return cache[name]
    mine = _owners.get(data_dir)
    if mine and mine[0] == name:
        cache[name] = True
        return True
    lock_file = data_dir / PROCESSES / f"{name}.lock"
    try:
        # Opened for writing: where flock is carried by POSIX locks (NFS), an exclusive
        # lock needs it.
        fd = os.open(lock_file, os.O_RDWR)
    except FileNotFoundError:
        cache[name] = False  # its lock file is gone: cleaned after it died
        return False
    except PermissionError:
        cache[name] = True   # cannot tell (a read-only data directory): leave it be
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            cache[name] = True
            return True
        raise
    finally:
        os.close(fd)
    cache[name] = False
    return False


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(entry: Path) -> bool:
    try:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def find(data_dir: Path) -> list[tuple[Path, str, bool]]:
    """Every temporary under the known folders: (path, owner, whether its owner lives)."""
    data_dir = Path(data_dir).resolve()
    cache: dict[str, bool] = {}
    out = []
    for place in PLACES:
        folder = data_dir / place
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            m = _OWNER.search(entry.name)
            if m:
                out.append((entry, m.group(1), _alive(data_dir, m.group(1), cache)))
                continue
            legacy = _LEGACY.get(place)
            lm = legacy.match(entry.name) if legacy else None
            if lm:
                pid = int(lm.group(1))
                out.append((entry, f"pid {pid}", _pid_alive(pid)))
    return out


# Packages' own leftovers that only their tables can tell apart (a file under its final
# name whose row never committed): fn(store) -> removed names. Modules that register one
# are loaded by `clean`; missing ones are skipped.
CLEANERS: dict[str, Callable[[Any], list[str]]] = {}
CLEANER_MODULES = ("surveys.jobs", "webcollect.service", "language_packs.libretranslate")


def cleaner(name: str) -> Callable:
    def register(fn: Callable[[Any], list[str]]) -> Callable[[Any], list[str]]:
        CLEANERS[name] = fn
        return fn
    return register


def clean(store: Any) -> list[str]:
    """Remove every temporary whose writer is gone (and what each package's cleaner
    finds), for the store's data directory. Returns what was removed."""
    removed = clean_files(store.settings.data_dir)
    for name in CLEANER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not (exc.name and (exc.name == name or name.startswith(exc.name + "."))):
                raise
    for fn in CLEANERS.values():
        removed += fn(store)
    return removed


def clean_files(data_dir: Path) -> list[str]:
    """Remove every temporary whose writer is gone, here and where their lock files list
    them, and the lock files of dead processes. Returns what was removed."""
    data_dir = Path(data_dir).resolve()
    removed: list[str] = []
    for entry, _, alive in find(data_dir):
        if not alive and _remove(entry):
            removed.append(str(entry.relative_to(data_dir)))
    folder = data_dir / PROCESSES
    if not folder.is_dir():
        return removed
    cache: dict[str, bool] = {}
    now = time.time()
    for lock_file in sorted(folder.iterdir()):
        if lock_file.name.endswith(".new"):
            try:
                stale = now - lock_file.stat().st_mtime > _STALE_NEW
            except FileNotFoundError:
                continue
            if stale and _remove(lock_file):
                removed.append(str(lock_file.relative_to(data_dir)))
            continue
        if not lock_file.name.endswith(".lock"):
            continue
        name = lock_file.name[:-len(".lock")]
        if _alive(data_dir, name, cache):
            continue
        removed += _clean_elsewhere(lock_file, name)
        if _remove(lock_file):
            removed.append(str(lock_file.relative_to(data_dir)))
    return removed


def _clean_elsewhere(lock_file: Path, name: str) -> list[str]:
    """Temporaries a dead owner wrote outside the data directory. Only names that carry
    that owner are touched, so a damaged list cannot make this delete anything else."""
    out = []
    try:
        lines = lock_file.read_bytes().splitlines()
    except OSError:
        return out
    for raw in lines:
        where = Path(os.fsdecode(raw))
        m = _OWNER.search(where.name)
        if not where.is_absolute() or not m or m.group(1) != name:
            continue
        if where.exists() and _remove(where):
            out.append(str(where))
    return out
