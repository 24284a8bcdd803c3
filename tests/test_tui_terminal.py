"""The review app in a real terminal: `cohear tui` run inside tmux at 120×40, the size and
multiplexer staff use over SSH, and the screen read back from tmux. Textual lays rows out
by its own count of cells; tmux draws them by the C library's wcwidth. Where the two
disagree about a character, a row runs past its column and pushes the panel beside it
off the screen, which no snapshot of Textual's own rendering can show."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
import time
import uuid

from tests import prerequisites

TMUX = shutil.which("tmux")
COLUMNS, ROWS = 120, 40

pytestmark = prerequisites.skip_unless(
    TMUX is not None, "tmux: install it (`apt-get install tmux`) to run the review app in a "
                      "real terminal")


def terminal_width(text: str) -> int:
    """Cells `text` takes in tmux: the C library's wcswidth in a UTF-8 locale, which tmux
    uses for every character it draws."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.setlocale(6, b"C.UTF-8")                     # LC_ALL
    libc.wcswidth.restype = ctypes.c_int
    return libc.wcswidth(ctypes.c_wchar_p(text), len(text))


class Tmux:
    """One tmux server of its own (its own socket), one window of a fixed size."""

    def __init__(self, command: list[str], env: dict[str, str]):
        self.socket = f"cohear-test-{uuid.uuid4().hex[:8]}"
        shell = " ".join(f"'{part}'" for part in command)
        self.run("-f", "/dev/null", "new-session", "-d", "-x", str(COLUMNS), "-y", str(ROWS),
                 "-e", f"COHEAR_DATA_DIR={env['COHEAR_DATA_DIR']}", shell, env=env)

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run([TMUX, "-u", "-L", self.socket, *args], capture_output=True,
                              text=True, env=env, timeout=30, check=True)
        return done.stdout

    def screen(self) -> list[str]:
        return self.run("capture-pane", "-p", "-J").splitlines()

    def wait_for(self, words: str, timeout: float = 90) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.screen()
            if any(words in row for row in rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"{words!r} never showed:\n" + "\n".join(rows))
            time.sleep(0.3)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", key)
            time.sleep(0.3)

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True,
                       check=False)


def test_a_bengali_answer_keeps_every_panel_in_its_column_in_tmux(settings, store,
                                                                  review_workspace, people):
    """In tmux at 120×40 the Bengali question line ran past its column, so the English
    panel beside it was cut ("made from earlier wor"): Textual counted Bengali vowel signs
    as no cell, tmux as one."""
    ws = review_workspace
    _, token = people["reviewer"]
    env = {**os.environ, "COHEAR_DATA_DIR": str(settings.data_dir), "TERM": "xterm-256color",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "COHEAR_TOKEN": token}
    tmux = Tmux([sys.executable, "-m", "cohear", "tui"], env)
    try:
        tmux.wait_for("answers 1-4 of 4")
        tmux.keys("Down", "Down", "Enter")       # the queue: concern, Urdu, Bengali, phone
        rows = tmux.wait_for(f"Answer {ws['bengali']}")
        rows = tmux.wait_for("English")
    finally:
        tmux.close()
    assert any("বাসে" in row for row in rows), "\n".join(rows)
    question = next(row for row in rows if row.lstrip().startswith("bn:"))
    # The right panel's border is the last "│" of each row beside it.
    columns = {terminal_width(row[:row.rindex("│")]) for row in rows if "│" in row}
    assert len(columns) == 1, (columns, question)
    # Each row of the screen is the terminal's width, none wider (a wider one wraps or is cut).
    assert all(terminal_width(row) <= COLUMNS for row in rows), question
