"""The suite's own pytest plugins: a selection whose tests pass exits 0 even though the TUI
snapshot plugin sees snapshots it did not use, a whole run still fails on a stale
snapshot, and under CI=true a missing prerequisite fails instead of skipping."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

# Plugins the small projects below do not use, left out so each run starts quickly.
UNUSED = ["-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:schemathesis",
          "-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:textual-snapshot"]


def run_pytest(args: list[str], cwd: Path, *, ci: bool = False,
               lean: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(REPO)
    if ci:
        env["CI"] = "true"
    options = UNUSED if lean else ["-p", "no:randomly", "-p", "no:cacheprovider"]
    return subprocess.run([sys.executable, "-m", "pytest", "-q", *options, *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_passing_selection_of_tui_snapshot_tests_exits_0():
    # syrupy reads "not Help" as matching test_help's snapshot (case-sensitively), pytest
    # deselects test_help (case-insensitively): before, this ended "2 passed" with exit 1.
    # Only the TUI's test files are collected (fewer imports); still no path is named,
    # which is how `python3 dev.py test -k ...` runs.
    r = run_pytest(["-k", "(test_queue or test_help) and not Help",
                    "--ignore-glob", "tests/test_[!t]*.py"], REPO, lean=False)
    assert re.search(r"\b\d+ passed\b", r.stdout) and " failed" not in r.stdout, \
        r.stdout[-2000:]
    assert "snapshots unused" in r.stdout  # still said, as a warning
    assert r.returncode == 0, r.stdout[-2000:]


@pytest.fixture(scope="module")
def recorded_project(tmp_path_factory) -> Path:
    """A tiny project of three syrupy snapshot tests, their snapshots recorded once."""
    root = tmp_path_factory.mktemp("snapshots")
    (root / "test_snaps.py").write_text(textwrap.dedent("""
        def test_alpha(snapshot):
            assert snapshot == "alpha"

        def test_beta(snapshot):
            assert snapshot == "beta"

        def test_gamma_and_more(snapshot):
            assert snapshot == "gamma"
    """))
    r = run_pytest(["--snapshot-update"], root)
    assert r.returncode == 0, r.stdout
    return root


@pytest.fixture
def snapshot_project(recorded_project, tmp_path) -> Path:
    return Path(shutil.copytree(recorded_project, tmp_path / "project"))


# Selections that syrupy alone ends with "1 snapshot unused" and exit 1 (it matches -k
# against snapshot names its own way), and the other ways of selecting.
SELECTIONS = [["-k", "not beta"], ["-k", "alpha and not Gamma"],
              ["--deselect", "test_snaps.py::test_beta"], ["test_snaps.py::test_alpha"]]


@pytest.mark.parametrize("selection", SELECTIONS, ids=lambda s: " ".join(s))
def test_a_selection_only_warns_about_unused_snapshots(recorded_project, selection):
    r = run_pytest(["-p", "tests.selection", *selection], recorded_project)
    assert " passed" in r.stdout and "failed" not in r.stdout, r.stdout
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize("selection", SELECTIONS[:2], ids=lambda s: " ".join(s))
def test_without_the_plugin_syrupy_fails_those_selections(recorded_project, selection):
    # What the plugin is for: the same passing selections, syrupy alone, exit 1.
    r = run_pytest(selection, recorded_project)
    assert " passed" in r.stdout and "1 snapshot unused" in r.stdout, r.stdout
    assert r.returncode == 1


def test_a_whole_run_still_fails_on_a_stale_snapshot(snapshot_project):
    tests = snapshot_project / "test_snaps.py"
    tests.write_text(tests.read_text().split("def test_beta")[0])  # beta, gamma deleted
    r = run_pytest(["-p", "tests.selection"], snapshot_project)
    assert "1 passed" in r.stdout and "2 snapshots unused" in r.stdout, r.stdout
    assert r.returncode == 1


def test_a_failing_selection_still_fails(snapshot_project):
    tests = snapshot_project / "test_snaps.py"
    tests.write_text(tests.read_text().replace('== "alpha"', '== "changed"'))
    r = run_pytest(["-p", "tests.selection", "-k", "alpha"], snapshot_project)
    assert "1 failed" in r.stdout
    assert r.returncode == 1


@pytest.fixture
def skipping_project(tmp_path) -> Path:
    (tmp_path / "test_needs.py").write_text(textwrap.dedent("""
        import pytest
        from tests import prerequisites

        @prerequisites.skip_unless(False, "/usr/bin/nothing: install it")
        def test_needs_a_program():
            pass

        def test_needs_a_module():
            prerequisites.require_module("no_such_module_for_cohear", "pip install it")

        def test_imports_or_skips():
            pytest.importorskip("another_module_that_is_not_here")

        def test_does_not_apply_here():
            pytest.skip("only meaningful on Windows")

        @pytest.mark.xfail(reason="known")
        def test_expected_to_fail():
            assert False
    """))
    return tmp_path


def test_missing_prerequisites_skip_on_a_developer_machine(skipping_project):
    r = run_pytest(["-p", "tests.prerequisites", "-rs"], skipping_project)
    assert "4 skipped, 1 xfailed" in r.stdout, r.stdout
    assert "prerequisite missing: /usr/bin/nothing: install it" in r.stdout
    assert r.returncode == 0


def test_missing_prerequisites_fail_under_ci(skipping_project):
    r = run_pytest(["-p", "tests.prerequisites", "-rfs"], skipping_project, ci=True)
    # A skipif mark skips in setup, so that one fails as an error.
    assert "2 failed, 1 skipped, 1 xfailed, 1 error" in r.stdout, r.stdout
    assert "CI=true and a prerequisite of this test is missing" in r.stdout
    for name in ("test_needs_a_module", "test_imports_or_skips"):
        assert f"FAILED test_needs.py::{name}" in r.stdout
    assert "ERROR at setup of test_needs_a_program" in r.stdout
    assert r.returncode == 1


def test_the_suite_loads_both_plugins():
    from tests import conftest
    assert set(conftest.pytest_plugins) == {"tests.selection", "tests.prerequisites"}
