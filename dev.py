#!/usr/bin/env python3
"""Set up cohear and run it, or run its tests. Needs only Python 3.11+ (no sudo).

    python3 dev.py run     # venv + install + offline Whisper model + demo, then serve on 127.0.0.1:8000
    python3 dev.py test    # venv + install (with test tools), then the whole test suite

Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -k jobs`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("COHEAR_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def sh(*args, **kw) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, **kw)


def setup(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"cohear needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    sh(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    sh(PY, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{extras}]" if extras else str(ROOT))


def run() -> int:
    setup("")
    cohear = [str(PY), "-m", "cohear"]
    sh(*cohear, "db", "migrate")
    sh(*cohear, "models", "install")
    sh(*cohear, "demo")
    print("starting cohear; open http://127.0.0.1:8000/docs (Ctrl+C stops it)", flush=True)
    return subprocess.call(cohear + ["serve"])


def test(pytest_args: list[str]) -> int:
    setup("test")
    code = subprocess.call([str(PY), "-m", "pytest", *pytest_args], cwd=ROOT)
    if code == 5:
        print("pytest collected no tests: that is a failure, not a pass", file=sys.stderr)
        return 1
    return code


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    os.chdir(ROOT)
    return run() if sys.argv[1] == "run" else test(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
