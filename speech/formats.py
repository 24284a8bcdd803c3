"""Transcript formats: JSON, plain text, SubRip (SRT) and WebVTT.

Each takes the segment dicts of a transcript (`start`, `end`, `text`, `rejected`);
rejected segments appear only in JSON, where they are marked with their reason.
"""

from __future__ import annotations

import json

FORMATS = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _kept(segments: list[dict]) -> list[dict]:
    return [s for s in segments if not s.get("rejected") and (s.get("text") or "").strip()]


def to_text(segments: list[dict]) -> str:
    lines = [s["text"].strip() for s in _kept(segments)]
    return "\n".join(lines) + ("\n" if lines else "")


def to_srt(segments: list[dict]) -> str:
    blocks = [f"{i}\n{_stamp(s['start'], ',')} --> {_stamp(s['end'], ',')}\n{s['text'].strip()}\n"
              for i, s in enumerate(_kept(segments), start=1)]
    return "\n".join(blocks)


def to_vtt(segments: list[dict]) -> str:
    # A blank line ends a cue, and "-->" would be read as timing: neither may be in the text.
    blocks = [f"{_stamp(s['start'], '.')} --> {_stamp(s['end'], '.')}\n"
              f"{' '.join(s['text'].replace('-->', '->').split())}\n"
              for s in _kept(segments)]
    return "WEBVTT\n\n" + "\n".join(blocks)


def render(document: dict, fmt: str) -> tuple[str, str]:
    """(body, media type) of a transcript document in `fmt`."""
    segments = document.get("segments") or []
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2), FORMATS["json"]
    if fmt == "txt":
        return to_text(segments), FORMATS["txt"]
    if fmt == "srt":
        return to_srt(segments), FORMATS["srt"]
    if fmt == "vtt":
        return to_vtt(segments), FORMATS["vtt"]
    from cohear.errors import BadInput
    raise BadInput(f"{fmt!r} is not a transcript format", fix="use json, txt, srt or vtt")
