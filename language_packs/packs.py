"""Argos Translate packs: install (from a file, a folder, or the Argos index by name),
verify before use, list and remove. Packs live in <data_dir>/packs/<from>_<to>/.

An install unpacks into a staging folder, checks the zip (no path traversal, no links,
size bounds), `metadata.json`, and that the CTranslate2 model and the SentencePiece
model load and run; only then is the folder renamed into place and recorded in the
`language_packs` table. A failure at any step leaves nothing behind.

Size bounds are tied to the archive (cohear.limits): before anything is written, the
zip's central directory must declare no member packed more than PACK_COMPRESSION_RATIO
to one (a real pack's model barely compresses; a zip bomb packs about 1000 to one) and
a total under `unpack_bound(archive size)`; while unpacking, the bytes actually written
are counted against the same bound and against each member's declared size, so a zip
whose headers lie stops there too. Over-long member names and a metadata.json that is
too large or nested too deeply are refused with a 4xx that says which.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import uuid
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from cohear import audit, limits
from cohear.auth import SYSTEM, User
from cohear.errors import BadInput, NotFound, TooLarge, Unprocessable
from cohear.store import Store, utcnow
from language_packs.registry import from_argos, get_language

MAX_ARCHIVE_BYTES = 2 * 1024**3       # the largest published packs are a few hundred MB
MAX_UNPACKED_BYTES = 4 * 1024**3
MAX_MEMBERS = 10_000
PACK_NAME = re.compile(r"^translate-([a-z]{2,3})_([a-z]{2,3})$")
CHUNK = 1024 * 1024

_install_lock = threading.Lock()


def packs_dir(store: Store) -> Path:
    return store.settings.data_dir / "packs"


def pack_name(from_code: str, to_code: str) -> str:
    return f"translate-{from_code}_{to_code}"


# -- reading -------------------------------------------------------------------------
def list_packs(store: Store) -> list[dict]:
    """Installed packs, with whether their files are still where the table says."""
    out = []
    for row in store.all("SELECT * FROM language_packs ORDER BY source_tag, target_tag"):
        item = dict(row)
        item.pop("metadata_json")
        item["present"] = (store.settings.data_dir / row["path"] / "model").is_dir()
        out.append(item)
    return out


def installed_pairs(store: Store) -> list[dict]:
    """One entry per installed direction: {source, target, name, version} (BCP-47 tags)."""
    try:
        rows = store.all("SELECT source_tag, target_tag, name, package_version "
                         "FROM language_packs ORDER BY source_tag, target_tag")
    except sqlite3.OperationalError:  # the table arrives with this package's migration
        return []
    return [{"source": r["source_tag"], "target": r["target_tag"], "name": r["name"],
             "version": r["package_version"]} for r in rows]


def find_pack(store: Store, source: str, target: str) -> sqlite3.Row | None:
    return store.one("SELECT * FROM language_packs WHERE source_tag = ? AND target_tag = ?",
                     (source, target))


# -- install -------------------------------------------------------------------------
def install(store: Store, what: str | Path, *, actor: User = SYSTEM,
            expect_source: str | None = None, expect_target: str | None = None,
            progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Install an `.argosmodel` file, every such file in a folder, or a pack by name
    (`translate-en_ur`, from the Argos index; needs a network). Returns the installed packs.

    `expect_source`/`expect_target` (BCP-47) refuse a pack for another direction.
    """
    path = Path(what)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".argosmodel" and p.is_file())
        if not files:
            raise BadInput(f"the folder {path} holds no .argosmodel files",
                           fix="point at a folder of Argos packs, or at one pack file")
    elif path.is_file():
        files = [path]
    elif PACK_NAME.match(str(what)):
        return [install_by_name(store, str(what), actor=actor, expect_source=expect_source,
                                expect_target=expect_target)]
    else:
        raise BadInput(f"{what} is not a file, a folder, or a pack name like translate-en_ur",
                       fix="give the path of an .argosmodel file or a folder of them")
    installed = []
    for i, file in enumerate(files):
        try:
            installed.append(install_file(store, file, actor=actor, expect_source=expect_source,
                                          expect_target=expect_target))
        except (BadInput, Unprocessable) as exc:
            if len(files) == 1:
                raise
            done = ", ".join(p["name"] for p in installed) or "none"
            raise type(exc)(f"{file.name}: {exc.detail} (installed before it: {done})",
                            fix=exc.fix) from None
        if progress:
            progress(i + 1, len(files))
    return installed


def install_file(store: Store, archive: Path, *, actor: User = SYSTEM,
                 expect_source: str | None = None, expect_target: str | None = None,
                 label: str | None = None) -> dict:
    """Verify one `.argosmodel` in a staging folder, then move it into place and record it.
    `label` names the file in messages (an upload's original name; never used as a path)."""
    archive = Path(archive)
    label = label or archive.name
    size = archive.stat().st_size
    if size > MAX_ARCHIVE_BYTES:
        raise BadInput(f"{label} is {size:,} bytes, over the limit of "
                       f"{MAX_ARCHIVE_BYTES:,} for a pack", fix="check that it is an Argos pack")
    if not zipfile.is_zipfile(archive):
        raise Unprocessable(f"{label} is not a zip archive, so not an Argos pack",
                            fix="Argos packs are .argosmodel zip files; download it again")
    root = packs_dir(store)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = root / f".staging-{uuid.uuid4().hex}"
    try:
        top = _extract(archive, staging, label)
        metadata = verify(top)
        source, target = metadata["source_tag"], metadata["target_tag"]
        _check_direction(source, target, expect_source, expect_target)
        return _activate(store, top, metadata, _sha256(archive), size, actor)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_direction(source: str, target: str, expect_source: str | None,
                     expect_target: str | None) -> None:
    wanted_source = get_language(expect_source).tag if expect_source else source
    wanted_target = get_language(expect_target).tag if expect_target else target
    if (source, target) != (wanted_source, wanted_target):
        raise BadInput(f"this pack translates {source} to {target}, but a pack for "
                       f"{wanted_source} to {wanted_target} was asked for",
                       fix=f"install translate-{_code(wanted_source)}_{_code(wanted_target)} "
                           "instead; Argos packs work in one direction only")


def _code(tag: str) -> str:
    return get_language(tag).argos_code or tag


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def unpack_bound(archive_bytes: int) -> int:
    """The most an archive of this size may unpack to: PACK_COMPRESSION_RATIO times its
    size (at least PACK_UNPACKED_FLOOR_BYTES, at most MAX_UNPACKED_BYTES)."""
    return min(MAX_UNPACKED_BYTES, max(limits.PACK_UNPACKED_FLOOR_BYTES,
                                       limits.PACK_COMPRESSION_RATIO * archive_bytes))


def _extract(archive: Path, staging: Path, label: str) -> Path:
    """Unpack member by member after checking every name and declared size; returns the
    pack's folder. Writing stops at the bound for this archive's size, counted as written."""
    damaged = Unprocessable(f"{label} is damaged (the zip cannot be read)",
                            fix="download or copy the pack again")
    bound = unpack_bound(archive.stat().st_size)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            tops = _check_members(label, members, bound)
            staging.mkdir(mode=0o700)
            total = 0
            for info in members:
                dest = staging.joinpath(*PurePosixPath(info.filename).parts)
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with zf.open(info) as src, open(dest, "xb") as out:
                    for chunk in iter(lambda: src.read(CHUNK), b""):
                        written += len(chunk)
                        total += len(chunk)
                        # Headers can lie: what comes out is counted, not what was declared.
                        if written > info.file_size or total > bound:
                            raise TooLarge(f"{label} unpacks to more than it declares (over "
                                           f"{min(bound, total):,} bytes), so it was stopped",
                                           fix="this is not a normal Argos pack; do not use it")
                        out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, FileExistsError):
        raise damaged from None
    return staging / tops


def _check_members(name: str, members: list[zipfile.ZipInfo], bound: int) -> str:
    """Check the central directory before anything is written: counts, names, links,
    declared sizes and compression ratios. Returns the pack's one top-level folder."""
    if len(members) > MAX_MEMBERS:
        raise Unprocessable(f"{name} holds {len(members):,} files, more than the "
                            f"{MAX_MEMBERS:,} an Argos pack may", fix="do not use this file")
    declared = sum(m.file_size for m in members)
    if declared > bound:
        raise TooLarge(f"{name} would unpack to {declared:,} bytes, more than "
                       f"{bound:,} for a file of its size", fix="do not use this file; a real "
                       "Argos pack is hardly smaller packed than unpacked")
    for m in members:
        if m.file_size > max(limits.PACK_COMPRESSION_RATIO * m.compress_size, CHUNK):
            raise TooLarge(f"{name} packs {m.filename[:80]!r} {m.file_size // max(1, m.compress_size):,}"
                           f" to one (the limit is {limits.PACK_COMPRESSION_RATIO} to one): it "
                           "looks like a zip bomb", fix="do not use this file")
    tops: set[str] = set()
    for m in members:
        raw = m.filename
        _check_member_name(name, raw)
        parts = PurePosixPath(raw).parts
        unsafe = (raw.startswith(("/", "\\")) or "\\" in raw or ":" in raw or not parts
                  or any(p in ("..", ".") for p in parts) or "\x00" in raw)
        if unsafe:
            raise Unprocessable(f"{name} contains an unsafe path {raw!r} (outside the pack "
                                "folder)", fix="do not use this file; it is not a normal "
                                               "Argos pack and may be an attack")
        if (m.external_attr >> 16) & 0o170000 == 0o120000:
            raise Unprocessable(f"{name} contains a symbolic link {raw!r}",
                                fix="Argos packs hold plain files only; do not use this file")
        if len(parts) == 1 and not m.is_dir():
            raise Unprocessable(f"{name} has the file {raw!r} at its top level, not inside "
                                "a pack folder", fix="an Argos pack is a zip of one folder "
                                                     "holding metadata.json, model/ and "
                                                     "sentencepiece.model")
        tops.add(parts[0])
    if len(tops) != 1:
        raise Unprocessable(f"{name} has {len(tops)} top-level folders, not one",
                            fix="an Argos pack is a zip of one folder holding metadata.json, "
                                "model/ and sentencepiece.model")
    return tops.pop()


def _check_member_name(name: str, raw: str) -> None:
    """Names a file system can hold: each part at most 255 bytes, the path bounded."""
    if len(raw) > limits.PACK_MEMBER_PATH_CHARS:
        raise Unprocessable(f"{name} holds a path of {len(raw):,} characters ({raw[:60]!r}...), "
                            f"longer than the {limits.PACK_MEMBER_PATH_CHARS:,} a pack may use",
                            fix="do not use this file; it is not a normal Argos pack")
    for part in PurePosixPath(raw).parts:
        if len(part.encode("utf-8", "surrogateescape")) > limits.PACK_MEMBER_NAME_BYTES:
            raise Unprocessable(f"{name} holds a file or folder name of {len(part):,} "
                                f"characters ({part[:60]!r}...), longer than the "
                                f"{limits.PACK_MEMBER_NAME_BYTES} bytes a file name may have",
                                fix="do not use this file; it is not a normal Argos pack")


def _json_depth(text: str) -> int:
    """How deeply objects and lists nest in a JSON text, without parsing it (a parser
    recurses, and a text of 100,000 brackets would exhaust Python's stack)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def verify(pack_dir: Path) -> dict:
    """Check an unpacked pack: metadata, the CTranslate2 model and SentencePiece load and
    translate one word. Returns the metadata with `source_tag`/`target_tag` added."""
    metadata = read_metadata(pack_dir)
    import ctranslate2
    import sentencepiece as spm

    model_dir = pack_dir / "model"
    if not model_dir.is_dir() or not ctranslate2.contains_model(str(model_dir)):
        raise Unprocessable(f"the pack {metadata['name']} has no CTranslate2 model in model/",
                            fix="this is not a usable Argos pack; download it again")
    sp_path = pack_dir / "sentencepiece.model"
    if not sp_path.is_file():
        older = " (it uses the older BPE tokenizer, which cohear does not run)" if (
            pack_dir / "bpe.model").exists() else ""
        raise Unprocessable(f"the pack {metadata['name']} has no sentencepiece.model{older}",
                            fix="install a current version of the pack")
    try:
        processor = spm.SentencePieceProcessor(model_file=str(sp_path))
    except (RuntimeError, OSError) as exc:
        raise Unprocessable(f"the pack's sentencepiece.model does not load ({exc})",
                            fix="the pack is damaged; download it again") from None
    try:
        translator = ctranslate2.Translator(str(model_dir), device="cpu", inter_threads=1,
                                            intra_threads=1)
        translator.translate_batch([processor.encode("Hello.", out_type=str)], beam_size=1,
                                   max_decoding_length=8)
    except Exception as exc:  # noqa: BLE001 - CTranslate2 raises many kinds for a bad model

        raise Unprocessable(f"the pack's model does not load or run ({exc})",
                            fix="the pack is damaged or for another CTranslate2; "
                                "download it again") from None
    return metadata


def read_metadata(pack_dir: Path) -> dict:
    """metadata.json of an unpacked pack, read with argostranslate's own reader and checked."""
    path = pack_dir / "metadata.json"
    if not path.is_file():
        raise Unprocessable("the zip is not an Argos pack: its folder has no metadata.json",
                            fix="Argos packs are .argosmodel files from the Argos index")
    size = path.stat().st_size
    if size > limits.PACK_METADATA_BYTES:
        raise TooLarge(f"the pack's metadata.json is {size:,} bytes; the limit is "
                       f"{limits.PACK_METADATA_BYTES:,}", fix="this is not a normal Argos pack; "
                                                             "download it again")
    try:
        text = path.read_text(encoding="utf-8")
        depth = _json_depth(text)
        if depth > limits.PACK_METADATA_DEPTH:
            raise Unprocessable(f"the pack's metadata.json nests {depth:,} levels deep; the "
                                f"limit is {limits.PACK_METADATA_DEPTH}",
                                fix="this is not a normal Argos pack; download it again")
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Unprocessable(f"the pack's metadata.json is not valid JSON ({exc})",
                            fix="the pack is damaged; download it again") from None
    if not isinstance(raw, dict):
        raise Unprocessable("the pack's metadata.json is not an object",
                            fix="the pack is damaged; download it again")
    keys = ("from_code", "to_code", "package_version", "argos_version", "type",
            "target_prefix")
    try:
        from argostranslate.package import Package
        pkg = Package(pack_dir)
        meta = {k: getattr(pkg, k, None) for k in keys}
    except OSError:
        # argostranslate creates folders in the home directory when imported; where that
        # is not writable, read the same fields (with its defaults) ourselves.
        meta = {k: raw.get(k) for k in keys}
        meta["type"] = meta["type"] or "translate"
    missing = [k for k in ("from_code", "to_code", "package_version")
               if not isinstance(meta[k], str) or not meta[k]]
    if missing:
        raise Unprocessable(f"the pack's metadata.json lacks {', '.join(missing)}",
                            fix="this is not a complete Argos pack; download it again")
    if meta["type"] != "translate":
        raise Unprocessable(f"the pack is of type {meta['type']!r}, not a translation pack",
                            fix="install a translate-<from>_<to> pack")
    return {
        "name": pack_name(meta["from_code"], meta["to_code"]), "from_code": meta["from_code"],
        "to_code": meta["to_code"], "package_version": meta["package_version"],
        "argos_version": meta["argos_version"] or "", "target_prefix": meta["target_prefix"] or "",
        "source_tag": from_argos(meta["from_code"]), "target_tag": from_argos(meta["to_code"]),
        "raw": raw,
    }


def _activate(store: Store, top: Path, metadata: dict, sha: str, size: int,
              actor: User) -> dict:
    """Rename the verified folder into place and record it; undo the rename on failure."""
    rel = Path("packs") / f"{metadata['from_code']}_{metadata['to_code']}"
    final = store.settings.data_dir / rel
    with _install_lock:
        old = None
        if final.exists():
            old = final.with_name(f".old-{uuid.uuid4().hex}")
            os.rename(final, old)
        os.rename(top, final)
        try:
            with store.transaction() as conn:
                before = conn.execute(
                    "SELECT name, package_version, path FROM language_packs "
                    "WHERE source_tag = ? AND target_tag = ?",
                    (metadata["source_tag"], metadata["target_tag"])).fetchone()
                conn.execute("DELETE FROM language_packs WHERE source_tag = ? AND target_tag = ?",
                             (metadata["source_tag"], metadata["target_tag"]))
                conn.execute(
                    "INSERT INTO language_packs (name, from_code, to_code, source_tag, "
                    "target_tag, package_version, argos_version, path, archive_sha256, "
                    "size_bytes, metadata_json, installed_at, installed_by) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (metadata["name"], metadata["from_code"], metadata["to_code"],
                     metadata["source_tag"], metadata["target_tag"],
                     metadata["package_version"], metadata["argos_version"], rel.as_posix(),
                     sha, size, json.dumps(metadata["raw"], ensure_ascii=False), utcnow(),
                     actor.name))
                audit.record(conn, actor, "pack.install", "language_pack", metadata["name"],
                             before={"name": before["name"],
                                     "version": before["package_version"]} if before else None,
                             after={"name": metadata["name"],
                                    "version": metadata["package_version"]},
                             detail=f"sha256 {sha}")
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            if old is not None:
                os.rename(old, final)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        if before is not None and before["path"] != rel.as_posix():
            # The same direction under another Argos code (e.g. "pb" replacing "pt").
            shutil.rmtree(store.settings.data_dir / before["path"], ignore_errors=True)
    if before is not None:
        before = {"name": before["name"], "package_version": before["package_version"]}
    return {"name": metadata["name"], "source": metadata["source_tag"],
            "target": metadata["target_tag"], "version": metadata["package_version"],
            "path": str(final), "archive_sha256": sha, "replaced": before}


def install_by_name(store: Store, name: str, *, actor: User = SYSTEM,
                    expect_source: str | None = None, expect_target: str | None = None) -> dict:
    """Download `translate-xx_yy` from the Argos index (needs a network), then install it
    through the same checks as a file."""
    m = PACK_NAME.match(name)
    if not m:
        raise BadInput(f"{name!r} is not a pack name", fix="pack names look like translate-en_ur")
    from_code, to_code = m.groups()
    from_argos(from_code)
    from_argos(to_code)
    import urllib.error
    import urllib.request

    from argostranslate import networking
    from argostranslate import settings as argos_settings
    from argostranslate.package import AvailablePackage

    url = argos_settings.remote_package_index
    offline = ("copy the .argosmodel file to this machine (from one with a network) and run "
               "`cohear packs install FILE`")
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            index = json.loads(response.read(64 * 1024 * 1024))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BadInput(f"cannot reach the Argos package index at {url} ({reason}); "
                       "this machine looks offline", fix=offline) from None
    wanted = [AvailablePackage(meta) for meta in index if isinstance(meta, dict)
              and meta.get("from_code") == from_code and meta.get("to_code") == to_code
              and meta.get("type", "translate") == "translate"]
    if not wanted:
        raise NotFound(f"the Argos index has no pack {name}",
                       fix="see `cohear langs` for which languages have packs")
    data = networking.get_from(wanted[0].links)
    if data is None:
        raise BadInput(f"the download of {name} failed", fix=offline)
    root = packs_dir(store)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    download = root / f".download-{uuid.uuid4().hex}.argosmodel"
    try:
        download.write_bytes(data)
        return install_file(store, download, actor=actor, expect_source=expect_source,
                            expect_target=expect_target)
    finally:
        download.unlink(missing_ok=True)


# -- remove --------------------------------------------------------------------------
def remove(store: Store, name: str, *, actor: User = SYSTEM) -> dict:
    """Remove an installed pack by name (`translate-en_ur` or `en_ur`)."""
    key = name.strip()
    if not key.startswith("translate-"):
        key = f"translate-{key}"
    with _install_lock:
        with store.transaction() as conn:
            row = conn.execute("SELECT * FROM language_packs WHERE name = ?", (key,)).fetchone()
            if row is None:
                raise NotFound(f"no pack {name!r} is installed",
                               fix="see `cohear packs list` for installed packs")
            conn.execute("DELETE FROM language_packs WHERE id = ?", (row["id"],))
            audit.record(conn, actor, "pack.remove", "language_pack", row["name"],
                         before={"name": row["name"], "version": row["package_version"]})
        folder = store.settings.data_dir / row["path"]
        if folder.exists():
            trash = folder.with_name(f".removed-{uuid.uuid4().hex}")
            os.rename(folder, trash)
            shutil.rmtree(trash, ignore_errors=True)
    return {"name": row["name"], "source": row["source_tag"], "target": row["target_tag"],
            "version": row["package_version"]}
