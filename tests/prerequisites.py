"""pytest plugin: a test that cannot run because something it needs is missing (Chromium,
a Python package, `chattr` on this file system) skips on a developer's machine, saying
what is missing, but fails under `CI=true`, so CI never reports green over tests it
did not run. `.ci/run` installs the prerequisites and sets `CI=true`.

Tests say what they need through `missing()`, `skip_unless()` and `require_module()`;
`pytest.importorskip` counts as a prerequisite too. Skips for other reasons (a test
that does not apply here) stay skips.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest

PREFIX = "prerequisite missing: "
_IMPORT_SKIP = "could not import "  # pytest.importorskip's reason


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(what: str) -> NoReturn:
    """Skip this test (fail it under CI=true): `what` is missing, and how to get it."""
    pytest.skip(PREFIX + what)


def skip_unless(present: bool, what: str) -> pytest.MarkDecorator:
    """A skipif mark with a prerequisite's reason."""
    return pytest.mark.skipif(not present, reason=PREFIX + what)


def require_module(name: str, how: str) -> ModuleType:
    """The module, or a prerequisite skip saying how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing(f"the Python module {name} ({exc}); {how}")


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report).removeprefix("Skipped: ")
    if reason.startswith(PREFIX) or reason.startswith(_IMPORT_SKIP):
        report.outcome = "failed"
        report.longrepr = (f"CI=true and a prerequisite of this test is missing, so it fails "
                           f"instead of skipping: {reason}. `.ci/run` installs what the tests "
                           "need; see CONTRIBUTING.md")
