"""The repository stays ruff-clean under the configuration in pyproject.toml."""

import subprocess
import sys

from tests.conftest import REPO


def test_ruff_finds_nothing():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                        "--exclude", ".venv", "."], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-1000:]
