"""SMS length: which encoding a text needs (GSM-7 or UCS-2), how many characters it
counts as, and how many message segments it will be sent in.
"""

from __future__ import annotations

# GSM 03.38 basic character set, and the extension table whose characters are sent
# as an escape plus the character (so each counts twice).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = set("\f^{}\\[~]|€")
SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}
WARN_SEGMENTS = 3


def encoding(text: str) -> str:
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def length(text: str, enc: str) -> int:
    """Characters as the network counts them: GSM-7 extension characters count two,
    UCS-2 counts UTF-16 code units (an emoji counts two)."""
    if enc == "GSM-7":
        return sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def _parts(text: str, enc: str) -> int:
    """Segments of a multipart text. A GSM-7 escape pair or a UTF-16 surrogate pair is
    never split across two segments, so a segment can hold one unit less than 153/67."""
    parts, used = 1, 0
    for c in text:
        width = length(c, enc)
        if used + width > PART[enc]:
            parts, used = parts + 1, 0
        used += width
    return parts


def info(text: str, max_segments: int = WARN_SEGMENTS) -> dict:
    """Encoding, length and segments of `text`, with a warning past `max_segments`."""
    enc = encoding(text)
    n = length(text, enc)
    segments = 0 if n == 0 else 1 if n <= SINGLE[enc] else _parts(text, enc)
    out = {"encoding": enc, "characters": n, "segments": segments,
           "per_segment": SINGLE[enc] if segments <= 1 else PART[enc], "warning": None}
    if segments > max_segments:
        out["warning"] = (f"this text needs {segments} SMS segments ({n} {enc} characters); "
                          f"keep it to {max_segments} or fewer")
    return out
