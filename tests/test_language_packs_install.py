"""Installing Argos packs: from a file or a folder, verified in a staging folder before
they become active; bad packs are refused with a clear error and leave nothing behind."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from cohear.audit import entries
from cohear.errors import BadInput, CohearError, NotFound, Unprocessable
from language_packs import packs
from language_packs.engine import get_engine


def rezip(source: Path, dest: Path, *, drop: str | None = None,
          replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> Path:
    """A copy of a real pack with members dropped, replaced or added."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            if drop and info.filename.endswith(drop):
                continue
            data = zin.read(info)
            for suffix, new in (replace or {}).items():
                if info.filename.endswith(suffix):
                    data = new
            zout.writestr(info, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dest


def assert_nothing_installed(store):
    assert packs.list_packs(store) == []
    root = packs.packs_dir(store)
    assert not root.exists() or list(root.iterdir()) == []


def test_install_from_a_file_puts_the_pack_in_place(store, copy_pack_files):
    [info] = packs.install(store, copy_pack_files[("en", "ur")])
    assert (info["name"], info["source"], info["target"], info["version"]) == (
        "translate-en_ur", "en", "ur", "1.0")
    folder = store.settings.data_dir / "packs" / "en_ur"
    assert (folder / "metadata.json").is_file() and (folder / "model" / "model.bin").is_file()
    assert (folder / "sentencepiece.model").is_file()
    [row] = packs.list_packs(store)
    assert row["path"] == "packs/en_ur" and row["present"] is True
    assert packs.installed_pairs(store) == [
        {"source": "en", "target": "ur", "name": "translate-en_ur", "version": "1.0"}]
    assert [e["action"] for e in entries(store.conn, entity="language_pack")] == ["pack.install"]


def test_install_from_a_folder_installs_every_pack_in_it(store, copy_pack_files):
    folder = next(iter(copy_pack_files.values())).parent
    installed = packs.install(store, folder)
    assert sorted(p["name"] for p in installed) == sorted(
        f"translate-{a}_{b}" for a, b in copy_pack_files)
    assert {(p["source"], p["target"]) for p in packs.installed_pairs(store)} == {
        ("en", "ur"), ("ur", "en"), ("en", "pl"), ("en", "bn"), ("en", "zh-Hant")}


def test_a_newer_version_replaces_the_installed_one(store, copy_pack_files, tmp_path):
    from language_packs.copy_pack import build_copy_pack
    packs.install(store, copy_pack_files[("en", "ur")])
    [info] = packs.install(store, build_copy_pack(tmp_path, "en", "ur", package_version="1.1"))
    assert info["replaced"] == {"name": "translate-en_ur", "package_version": "1.0"}
    assert [p["version"] for p in packs.installed_pairs(store)] == ["1.1"]
    assert sorted(p.name for p in packs.packs_dir(store).iterdir()) == ["en_ur"]


def test_corrupt_zip_is_refused(store, copy_pack_files, tmp_path):
    data = copy_pack_files[("en", "ur")].read_bytes()
    bad = tmp_path / "corrupt.argosmodel"
    # Damage the compressed data in the middle but keep the central directory readable.
    middle = len(data) // 3
    bad.write_bytes(data[:middle] + bytes(200) + data[middle + 200:])
    with pytest.raises(Unprocessable) as err:
        packs.install(store, bad)
    assert "damaged" in err.value.detail
    assert_nothing_installed(store)


def test_a_file_that_is_not_a_zip_is_refused(store, tmp_path):
    bad = tmp_path / "notes.argosmodel"
    bad.write_text("hello")
    with pytest.raises(Unprocessable) as err:
        packs.install(store, bad)
    assert "not a zip" in err.value.detail
    assert_nothing_installed(store)


def test_a_zip_that_is_not_an_argos_pack_is_refused(store, tmp_path):
    bad = tmp_path / "photos.argosmodel"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("holiday/readme.txt", "not a pack")
    with pytest.raises(Unprocessable) as err:
        packs.install(store, bad)
    assert "no metadata.json" in err.value.detail
    assert_nothing_installed(store)


def test_a_pack_without_metadata_is_refused(store, copy_pack_files, tmp_path):
    bad = rezip(copy_pack_files[("en", "ur")], tmp_path / "nometa.argosmodel",
                drop="metadata.json")
    with pytest.raises(Unprocessable) as err:
        packs.install(store, bad)
    assert "metadata.json" in err.value.detail
    assert_nothing_installed(store)


def test_incomplete_metadata_is_refused(store, copy_pack_files, tmp_path):
    meta = json.dumps({"from_code": "en", "to_code": "ur"}).encode()
    bad = rezip(copy_pack_files[("en", "ur")], tmp_path / "partial.argosmodel",
                replace={"metadata.json": meta})
    with pytest.raises(Unprocessable) as err:
        packs.install(store, bad)
    assert "package_version" in err.value.detail
    assert_nothing_installed(store)


@pytest.mark.parametrize("evil", ["../escape.txt", "pack/../../escape.txt", "/etc/evil"])
def test_a_zip_with_paths_outside_the_pack_is_refused(store, copy_pack_files, tmp_path, evil):
    bad = rezip(copy_pack_files[("en", "ur")], tmp_path / "evil.argosmodel",
                add={evil: b"gotcha"})
    with pytest.raises(Unprocessable) as err:
        packs.install(store, bad)
    assert "unsafe path" in err.value.detail
    assert_nothing_installed(store)
    assert not (store.settings.data_dir / "escape.txt").exists()
    assert not (tmp_path / "escape.txt").exists()


def test_a_zip_with_a_symbolic_link_is_refused(store, copy_pack_files, tmp_path):
    bad = tmp_path / "link.argosmodel"
    rezip(copy_pack_files[("en", "ur")], bad)
    with zipfile.ZipFile(bad, "a") as zf:
        link = zipfile.ZipInfo("translate-en_ur-1_0/passwd")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(Unprocessable) as err:
        packs.install(store, bad)
    assert "symbolic link" in err.value.detail
    assert_nothing_installed(store)


def test_a_pack_whose_model_does_not_load_is_refused(store, copy_pack_files, tmp_path):
    bad = rezip(copy_pack_files[("en", "ur")], tmp_path / "broken.argosmodel",
                replace={"model/model.bin": b"\x00" * 64})
    with pytest.raises(Unprocessable) as err:
        packs.install(store, bad)
    assert "model does not load" in err.value.detail
    assert_nothing_installed(store)


def test_a_pack_for_the_wrong_direction_is_refused(store, copy_pack_files):
    with pytest.raises(BadInput) as err:
        packs.install(store, copy_pack_files[("ur", "en")], expect_source="en",
                      expect_target="ur")
    assert "translates ur to en" in err.value.detail
    assert "translate-en_ur" in err.value.fix
    assert_nothing_installed(store)


def test_a_failure_while_recording_leaves_the_old_pack_working(store, copy_pack_files, tmp_path,
                                                              monkeypatch):
    from language_packs.copy_pack import build_copy_pack
    packs.install(store, copy_pack_files[("en", "ur")])

    def full_disk(*args, **kwargs):  # a fake, to make the recording step fail
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(packs.audit, "record", full_disk)
    with pytest.raises(OSError):
        packs.install(store, build_copy_pack(tmp_path, "en", "ur", package_version="2.0"))
    monkeypatch.undo()
    assert [p["version"] for p in packs.installed_pairs(store)] == ["1.0"]
    assert sorted(p.name for p in packs.packs_dir(store).iterdir()) == ["en_ur"]
    [result] = get_engine(store).translate(["Still works."], "en", "ur")
    assert result.text == "Still works." and result.engine.endswith("-1.0")


def test_install_by_name_says_clearly_when_there_is_no_network(store, monkeypatch):
    from argostranslate import settings as argos_settings
    # Port 9 on loopback refuses connections: the index is unreachable, as offline.
    monkeypatch.setattr(argos_settings, "remote_package_index", "http://127.0.0.1:9/index.json")
    with pytest.raises(BadInput) as err:
        packs.install(store, "translate-en_ur")
    assert "offline" in err.value.detail
    assert "cohear packs install FILE" in err.value.fix
    assert_nothing_installed(store)


def test_neither_file_folder_nor_name_is_refused(store):
    with pytest.raises(BadInput):
        packs.install(store, "no-such-thing.argosmodel")


def test_remove_deletes_the_files_and_the_record(store, copy_pack_files):
    packs.install(store, copy_pack_files[("en", "pl")])
    removed = packs.remove(store, "translate-en_pl")
    assert removed["name"] == "translate-en_pl"
    assert_nothing_installed(store)
    assert not get_engine(store).can_translate("en", "pl")
    with pytest.raises(NotFound):
        packs.remove(store, "en_pl")
    assert [e["action"] for e in entries(store.conn, entity="language_pack")] == [
        "pack.remove", "pack.install"]


def test_every_refusal_is_a_cohear_error_with_a_fix(store, tmp_path):
    bad = tmp_path / "x.argosmodel"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("toplevel.txt", "no folder")
    bad.write_bytes(buf.getvalue())
    with pytest.raises(CohearError) as err:
        packs.install(store, bad)
    assert err.value.fix
