#!/usr/bin/env python3
"""Set up cohear and run it, or run its tests. Needs only Python 3.11+ (no sudo).

    python3 dev.py run     # venv + install + offline Whisper model + demo, then serve on 127.0.0.1:8000
    python3 dev.py test    # venv + install (with test tools), then the whole test suite
    python3 dev.py mutate  # mutation testing of the promise-carrying parts (slow; not in CI)

Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -k jobs`). `mutate`
takes area names from tests/mutation.toml (e.g. `python3 dev.py mutate access jobs`) and
writes mutation-report/SUMMARY.md; see tests/mutate.py.
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


def mutate(args: list[str]) -> int:
    setup("test")
    # Niced: the machine it runs on is usually shared, and this takes a while.
    nice = ["nice", "-n", "10"] if os.name != "nt" else []
    return subprocess.call([*nice, str(PY), str(ROOT / "tests" / "mutate.py"), *args], cwd=ROOT)


def main() -> int:
    commands = {"run": lambda: run(), "test": lambda: test(sys.argv[2:]), "mutate": lambda: mutate(sys.argv[2:])}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    os.chdir(ROOT)
    return commands[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())
