"""Hostile packs are refused by what the zip says before anything is unpacked, and by
what comes out while it is unpacked: zip bombs (a pack that unpacks a thousand times its
size), headers that lie, member names no file system holds, and a metadata.json that is
huge or nested a hundred thousand deep. Each is a 4xx that says what was wrong, also
over HTTP, and the staging folder never grows past the bound tied to the upload."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from cohear import limits
from cohear.errors import TooLarge, Unprocessable
from language_packs import packs
from tests.test_language_packs_install import assert_nothing_installed, rezip

MB = 1024 * 1024


@pytest.fixture
def staged(monkeypatch) -> list[int]:
    """Bytes found in each staging folder when the install cleans it up: what an install
    wrote before it was refused (the folder is removed in a `finally`)."""
    sizes: list[int] = []
    real_rmtree = shutil.rmtree

    def measuring_rmtree(path, *args, **kwargs):
        path = Path(path)
        if path.name.startswith(".staging-"):
            sizes.append(sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
                         if path.exists() else 0)
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(packs.shutil, "rmtree", measuring_rmtree)
    return sizes


def with_zeros(source: Path, dest: Path, megabytes: int) -> Path:
    """A real pack plus one member of `megabytes` MB of zeros, deflated (about 1000 to 1)."""
    rezip(source, dest)
    with zipfile.ZipFile(dest, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("translate-en_ur-1_0/padding.bin", "w", force_zip64=True) as out:
            block = bytes(MB)
            for _ in range(megabytes):
                out.write(block)
    return dest


def test_a_zip_bomb_is_refused_from_its_central_directory_before_anything_is_written(
        store, copy_pack_files, tmp_path, staged):
    bomb = with_zeros(copy_pack_files[("en", "ur")], tmp_path / "bomb.argosmodel", 100)
    assert bomb.stat().st_size < MB
    with pytest.raises(TooLarge) as err:
        packs.install(store, bomb)
    assert "would unpack to 107,1" in err.value.detail  # 100 MiB of zeros and the pack
    assert f"more than {packs.unpack_bound(bomb.stat().st_size):,}" in err.value.detail
    assert sum(staged) == 0
    assert_nothing_installed(store)


def test_one_member_packed_a_thousand_to_one_is_refused_under_the_total_bound(
        store, copy_pack_files, tmp_path, staged):
    bomb = with_zeros(copy_pack_files[("en", "ur")], tmp_path / "small-bomb.argosmodel", 10)
    declared = sum(i.file_size for i in zipfile.ZipFile(bomb).infolist())
    assert declared < packs.unpack_bound(bomb.stat().st_size)  # the total alone would pass
    with pytest.raises(TooLarge) as err:
        packs.install(store, bomb)
    assert "padding.bin" in err.value.detail and "zip bomb" in err.value.detail
    assert sum(staged) == 0
    assert_nothing_installed(store)


def test_a_pack_that_unpacks_a_little_is_still_installed(store, copy_pack_files):
    # The copy pack's model is mostly zeros (about 50 to 1 overall): under the bounds.
    assert packs.install(store, copy_pack_files[("en", "ur")])[0]["name"] == "translate-en_ur"


def test_bytes_are_counted_as_written_not_taken_from_the_header(
        store, copy_pack_files, tmp_path, monkeypatch, staged):
    """A member that yields more than it declares (a zip reader that trusts the stream, or
    headers that lie) stops at its declared size: the writes are counted."""
    pack = rezip(copy_pack_files[("en", "ur")], tmp_path / "liar.argosmodel")
    real_open = zipfile.ZipFile.open
    served = []

    class Endless(io.RawIOBase):
        """Zeros, far more than the member declares (capped so a broken bound ends)."""

        def __init__(self):
            self.left = 50 * MB

        def readable(self):
            return True

        def readinto(self, buf):
            n = min(len(buf), self.left)
            buf[:n] = bytes(n)
            self.left -= n
            served.append(n)
            return n

    def lying_open(self, name, mode="r", *args, **kwargs):
        member = name.filename if isinstance(name, zipfile.ZipInfo) else name
        if mode == "r" and member.endswith("model/model.bin"):
            return io.BufferedReader(Endless())
        return real_open(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", lying_open)
    with pytest.raises(TooLarge, match="unpacks to more than it declares"):
        packs.install(store, pack)
    declared = next(i.file_size for i in zipfile.ZipFile(pack).infolist()
                    if i.filename.endswith("model/model.bin"))
    assert sum(served) <= declared + 2 * packs.CHUNK
    assert sum(staged) <= declared + 2 * packs.CHUNK
    assert_nothing_installed(store)


def test_a_member_name_longer_than_a_file_system_allows_is_a_422(
        store, copy_pack_files, tmp_path, staged):
    bad = rezip(copy_pack_files[("en", "ur")], tmp_path / "longname.argosmodel",
                add={"translate-en_ur-1_0/" + "a" * 300: b"x"})
    with pytest.raises(Unprocessable) as err:
        packs.install(store, bad)
    assert "file or folder name of 300 characters" in err.value.detail
    assert sum(staged) == 0
    deep = rezip(copy_pack_files[("en", "ur")], tmp_path / "deep.argosmodel",
                 add={"translate-en_ur-1_0/" + "d/" * 600 + "x": b"x"})
    with pytest.raises(Unprocessable, match="a path of 1,221 characters"):
        packs.install(store, deep)
    assert_nothing_installed(store)


@pytest.mark.parametrize("metadata, error, words", [
    ("[" * 100_000 + "]" * 100_000, Unprocessable, "nests 100,000 levels deep"),
    ('{"a": ' * 5_000 + "1" + "}" * 5_000, Unprocessable, "nests 5,000 levels deep"),
    (json.dumps({"from_code": "en", "to_code": "ur", "package_version": "1.0",
                 # random letters: big, but not a zip bomb
                 "padding": base64.b64encode(os.urandom(limits.PACK_METADATA_BYTES)).decode()}),
     TooLarge, r"metadata.json is 1,398,\d{3} bytes; the limit is 1,048,576"),
], ids=["brackets", "objects", "huge"])
def test_a_huge_or_deeply_nested_metadata_json_is_a_4xx(store, copy_pack_files, tmp_path,
                                                        metadata, error, words):
    bad = rezip(copy_pack_files[("en", "ur")], tmp_path / "meta.argosmodel",
                replace={"metadata.json": metadata.encode()})
    with pytest.raises(error, match=words):
        packs.install(store, bad)
    assert_nothing_installed(store)


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert packs._json_depth('{"name": "[[[[{{{{", "x": ["\\"]]]]"]}') == 2


def test_hostile_packs_over_http_are_4xx_that_say_what_was_wrong(api, store, copy_pack_files,
                                                                tmp_path, staged):
    source = copy_pack_files[("en", "ur")]
    cases = {
        "bomb.argosmodel": (with_zeros(source, tmp_path / "bomb.argosmodel", 100), 413,
                            "would unpack to"),
        "name.argosmodel": (rezip(source, tmp_path / "name.argosmodel",
                                  add={"translate-en_ur-1_0/" + "n" * 300: b"x"}), 422,
                            "file or folder name of 300 characters"),
        "nested.argosmodel": (rezip(source, tmp_path / "nested.argosmodel", replace={
            "metadata.json": b"[" * 200_000 + b"]" * 200_000}), 422, "nests 200,000 levels"),
    }
    for name, (path, status, words) in cases.items():
        staged.clear()
        r = api["admin"].post("/api/packs", files={"file": (name, path.read_bytes())})
        assert r.status_code == status, (name, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert words in r.json()["detail"], (name, r.json())
        # The bomb and the bad name are refused before a byte is unpacked; the nested
        # metadata after unpacking the (small) pack it came in.
        assert sum(staged) <= (0 if name != "nested.argosmodel" else 4 * MB), (name, staged)
    assert api["admin"].get("/api/packs").json() == []
