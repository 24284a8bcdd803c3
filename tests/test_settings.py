"""Settings come from COHEAR_* variables and an optional TOML file, with clear errors."""

import json
import subprocess
import sys

import pytest

from cohear.errors import SettingsError
from cohear.settings import load_settings


def test_defaults_are_private_and_offline(tmp_path):
    s = load_settings(env={"COHEAR_DATA_DIR": str(tmp_path)})
    assert s.host == "127.0.0.1"
    assert s.whisper_model == "base"
    assert s.job_backend == "sqlite"
    assert s.data_dir == tmp_path.resolve()


def test_environment_overrides_file(tmp_path):
    cfg = tmp_path / "cohear.toml"
    cfg.write_text('[cohear]\nport = 9000\nwhisper_device = "cpu"\nworker_threads = 2\n')
    s = load_settings(env={"COHEAR_CONFIG": str(cfg), "COHEAR_PORT": "9100"})
    assert s.port == 9100                 # environment wins
    assert s.whisper_device == "cpu"      # from the file
    assert s.worker_threads == 2


def test_toml_in_data_dir_is_read(tmp_path):
    (tmp_path / "cohear.toml").write_text('whisper_model = "small"\n')
    assert load_settings(env={"COHEAR_DATA_DIR": str(tmp_path)}).whisper_model == "small"


@pytest.mark.parametrize("content, words", [
    ("port = ", "not valid TOML"),
    ('colour = "blue"\n', "unknown setting 'colour'"),
    ('port = "eighty"\n', "'port'"),
    ('whisper_device = "tpu"\n', "Use one of: auto, cpu, cuda"),
    ('job_backend = "redis"\n', "redis_url is empty"),
])
def test_malformed_settings_file_names_the_problem(tmp_path, content, words):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(content)
    with pytest.raises(SettingsError) as err:
        load_settings(env={"COHEAR_CONFIG": str(cfg)})
    assert words in err.value.message()
    assert err.value.fix


def test_bad_environment_value(tmp_path):
    with pytest.raises(SettingsError, match="COHEAR_EMBEDDED_WORKER"):
        load_settings(env={"COHEAR_EMBEDDED_WORKER": "perhaps"})


def test_config_command_masks_secrets(tmp_path):
    env = {"COHEAR_DATA_DIR": str(tmp_path), "COHEAR_JOB_BACKEND": "redis",
           "COHEAR_REDIS_URL": "redis://:hunter2@db:6379/0", "PATH": ""}
    out = subprocess.run([sys.executable, "-m", "cohear", "config"], env=env,
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    assert data["redis_url"] == "***"
    assert "hunter2" not in out
    assert data["job_backend"] == "redis"


def test_config_command_reports_a_broken_file_in_one_line(tmp_path):
    cfg = tmp_path / "cohear.toml"
    cfg.write_text("[cohear\n")
    r = subprocess.run([sys.executable, "-m", "cohear", "config"],
                       env={"COHEAR_CONFIG": str(cfg), "PATH": ""}, capture_output=True, text=True)
    assert r.returncode == 1
    assert "not valid TOML" in r.stderr
    assert "Traceback" not in r.stderr
