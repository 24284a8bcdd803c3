"""Playing a recording, or one segment of it, through whatever audio player this machine
has (ffplay, paplay, aplay or afplay on PATH); over SSH there is usually none, and we say so.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
import wave
from functools import cache
from pathlib import Path

from cohear.errors import CohearError

# In order of preference; each plays a WAV file given as the last argument.
PLAYERS: dict[str, list[str]] = {
    "ffplay": ["-nodisp", "-autoexit", "-loglevel", "quiet"],
    "paplay": [],
    "aplay": ["-q"],
    "afplay": [],
}


class NoPlayer(CohearError):
    status = 503
    title = "No audio player"
    type_slug = "no-audio-player"


def find_player() -> str | None:
    """The path of the first audio player on PATH, or None."""
    for name in PLAYERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def cut_segment(wav_path: Path, start: float, end: float, out_dir: Path) -> Path:
    """A new WAV file holding [start, end) seconds of `wav_path` (a PCM WAV)."""
    with wave.open(str(wav_path), "rb") as src:
        rate = src.getframerate()
        first = max(0, int(start * rate))
        last = min(src.getnframes(), max(first, int(end * rate)))
        src.setpos(first)
        frames = src.readframes(last - first)
        params = src.getparams()
    out = out_dir / f"segment-{first}-{last}.wav"
    with wave.open(str(out), "wb") as dst:
        dst.setparams(params)
        dst.writeframes(frames)
    return out


@cache
def _segment_dir(data_dir: Path | None) -> Path:
    """One folder for this process's segment files (people's voices), removed when it
    exits. In the data directory, named for this process (`cohear.temporaries`), so if
    the TUI is killed the next start-up there removes them; the system's temporary
    folder would keep them."""
    if data_dir is None:
        folder = Path(tempfile.mkdtemp(prefix="cohear-play-"))
    else:
        from cohear import temporaries
        folder = temporaries.path(data_dir, Path(data_dir) / "blobs" / "tmp", "play")
        folder.mkdir(mode=0o700)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def play(wav_path: Path, start: float | None = None, end: float | None = None,
         data_dir: Path | None = None) -> subprocess.Popen:
    """Start playing (the whole file, or [start, end)); returns at once. A segment is cut
    into a temporary file under `data_dir` (the store's) when given."""
    player = find_player()
    if player is None:
        raise NoPlayer("this machine has no audio player (ffplay, paplay, aplay or afplay)",
                       fix="listen on a machine with speakers, or install one of them")
    target = wav_path
    if start is not None and end is not None:
        target = cut_segment(wav_path, start, end, _segment_dir(data_dir))
    args = PLAYERS[Path(player).name]
    return subprocess.Popen([player, *args, str(target)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
