"""What a person may read of an answer. Staff who decide redactions (reviewers, admins)
and the collector who gathered it see its words as stored; everyone else who reads
answers (researchers) sees the redacted, pseudonymised view, as in a research export:
accepted and still-undecided redactions applied, the respondent as a pseudonym, and no
internal respondent or session ids and no free-text safeguarding notes.

The TUI reads answers only through `answer_view`, so no screen can show a researcher
words that an export would have redacted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cohear.auth import User
from cohear.permissions import register
from cohear.store import Store
from surveys import exports
from surveys.service import latest_texts, visible_answer_row

register({"answers.read_identifiable": {"admin", "reviewer", "collector"}})

# Redactions applied in the redacted view: the same as a pseudonymised export.
REDACTED_STATUSES = ("accepted", "suggested")
# Fields of an answer that identify a respondent or hold staff's free text about them.
_WITHHELD = ("session_id", "respondent_id", "collector_id", "created_by", "verified_by",
             "transcription_job_id", "safeguarding_reason", "safeguarding_raised_by",
             "safeguarding_handled_by", "safeguarding_note")


def sees_identifiable(viewer: User) -> bool:
    """True for roles that read answers as stored; False means the redacted view."""
    return viewer.may("answers.read_identifiable")


@dataclass(frozen=True)
class TextView:
    """One version of an answer's words as a viewer sees it, with the offsets mapped
    between what is shown and what is stored (codings point into the stored text)."""

    id: int
    rendering: str
    version: int
    language: str
    source: str
    text: str                       # as shown: redacted where `redacted`
    stored_length: int
    redacted: bool
    # (stored start, stored end, kind, shown start, shown length) of each applied span
    spans: tuple[tuple[int, int, str, int, int], ...] = field(default=())

    def to_view(self, stored: int) -> int:
        """A stored offset as an offset into the shown text (inside a span: its start)."""
        shift = 0
        for start, end, _, shown, length in self.spans:
            if stored <= start:
                break
            if stored < end:
                return shown
            shift += length - (end - start)
        return stored + shift

    def to_stored(self, shown: int, *, end: bool = False) -> int:
        """A shown offset as a stored one. Inside a `[phone]` label it goes to the span's
        start (or, for the end of a selection, its end), so a coded span never cuts a
        redacted item in half."""
        shift = 0
        for start, stop, _, at, length in self.spans:
            if shown <= at:
                break
            if shown < at + length:
                return stop if end else start
            shift += length - (stop - start)
        return max(0, min(self.stored_length, shown - shift))

    def as_dict(self) -> dict:
        return {"id": self.id, "rendering": self.rendering, "version": self.version,
                "language": self.language, "source": self.source, "text": self.text,
                "redacted": self.redacted}


def text_view(store: Store, row: dict, *, redacted: bool) -> TextView:
    """The view of one answer_texts row; `redacted` applies accepted and undecided
    redactions (rejected suggestions are never applied)."""
    stored = row["text"]
    spans: list[tuple[int, int, str, int, int]] = []
    shown = stored
    if redacted:
        marks = ",".join("?" * len(REDACTED_STATUSES))
        found = sorted((r["start_offset"], r["end_offset"], r["kind"]) for r in store.all(
            f"SELECT start_offset, end_offset, kind FROM redactions WHERE answer_text_id = ? "
            f"AND status IN ({marks})", (row["id"], *REDACTED_STATUSES)))
        pieces, cursor, length = [], 0, 0
        for start, end, kind in found:
            if start < cursor:          # overlapping suggestions: the earlier one wins
                continue
            pieces.append(stored[cursor:start])
            length += start - cursor
            label = f"[{kind}]"
            spans.append((start, end, kind, length, len(label)))
            pieces.append(label)
            length += len(label)
            cursor = end
        pieces.append(stored[cursor:])
        shown = "".join(pieces)
    return TextView(row["id"], row["rendering"], row["version"], row["language"],
                    row["source"], shown, len(stored), redacted, tuple(spans))


def answer_view(store: Store, answer_id: int, viewer: User) -> dict:
    """An answer as `viewer` may read it: its fields, `respondent` (a pseudonym in the
    redacted view, else the cohear id), `texts` (rendering -> TextView of the newest
    version) and `redacted` (whether this is the redacted view)."""
    viewer.require("answers.read")
    row = visible_answer_row(store.conn, viewer, answer_id)
    item = dict(row)
    item["choices"] = json.loads(item.pop("choices_json")) if row["choices_json"] else None
    cohear_id = store.one("SELECT cohear_id FROM respondents WHERE id = ?",
                          (row["respondent_id"],))[0]
    redacted = not sees_identifiable(viewer)
    if redacted:
        for name in _WITHHELD:
            item.pop(name, None)
        item["respondent"] = exports.pseudonym(exports.salt(store), cohear_id)
    else:
        item["respondent"] = cohear_id
    item["survey_id"] = store.one("SELECT survey_id FROM survey_sessions WHERE id = ?",
                                  (row["session_id"],))[0]
    item["redacted"] = redacted
    item["texts"] = {rendering: text_view(store, text, redacted=redacted)
                     for rendering, text in latest_texts(store.conn, answer_id).items()}
    return item
