"""pytest plugin: a selection of tests that pass exits 0, whole runs still fail on a stale
snapshot.

The TUI's snapshots (pytest-textual-snapshot, on syrupy) fail a run that leaves a
snapshot file unused, which keeps deleted or renamed tests from leaving stale pictures
behind. But syrupy guesses which snapshots a run meant to use by matching `-k` against
snapshot names alone (case-sensitively), while pytest matches it against test names,
their modules and markers (case-insensitively), so a `-k` selection whose tests all
passed could end "N passed" with exit status 1. Here any run that is a selection (`-k`,
`-m`, node ids, `--deselect`, `--lf`: anything deselected) only warns about unused
snapshots; a whole run (what CI and `python3 dev.py test` do) still fails on them.
"""

from __future__ import annotations

import pytest

_DESELECTED = pytest.StashKey[bool]()


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[_DESELECTED] = True


def is_selection(config: pytest.Config) -> bool:
    option = config.option
    return bool(config.stash.get(_DESELECTED, False)
                or getattr(option, "keyword", "") or getattr(option, "markexpr", "")
                or any("::" in arg for arg in config.args))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    option = session.config.option
    # syrupy reads this option when the session finishes, after collection.
    if hasattr(option, "warn_unused_snapshots") and is_selection(session.config):
        option.warn_unused_snapshots = True
