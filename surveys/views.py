"""What each reader sees of respondents' answers and sessions. Staff who may read
identifiable data (`answers.read_identifiable`: admins, reviewers, and collectors for
their own) get the stored answer; everyone else who may read answers (researchers) gets
the pseudonymised, redacted view, built here for the API and the TUI alike:

- respondents appear only as the salted pseudonym the research exports use (`P-…`),
  never as the internal respondent id, the `R-…` id or a session id;
- words are shown with accepted and still-undecided redaction suggestions applied
  (only those a reviewer rejected stay), exactly as in a pseudonymised export;
- coded spans are given in the redacted words, and a span a researcher marks in them
  is mapped back to the stored words;
- nothing else about the respondent travels: no contact, collector, safeguarding
  reason or note, recording or transcription job;
- safeguarding only as whether a concern is open now (`safeguarding` 1 while one is
  open, else 0): a concern that was raised and handled is not told, since that alone
  says something about a person that research has no need of.

Each view is an allow-list: a field added to the stored answer later stays out of the
researcher's view until it is added here.
The review app reads answers through `reading_view`, whose texts carry the maps between
shown and stored offsets, so no screen can show a researcher words an export would have
redacted.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from cohear.auth import User
from cohear.errors import BadInput, NotFound
from cohear.store import Store
from surveys import coding, redaction, service
from surveys.service import latest_texts, visible_answer_row

# Redactions a pseudonymised reader sees applied (the same rule as pseudonymised exports).
APPLIED = ("accepted", "suggested")
# Fields of an answer that identify a respondent or hold staff's free text about them.
_WITHHELD = ("session_id", "respondent_id", "collector_id", "created_by", "verified_by",
             "transcription_job_id", "safeguarding_reason", "safeguarding_raised_by",
             "safeguarding_handled_by", "safeguarding_handled_at", "safeguarding_note")


def concern_open(row) -> int:
    """1 while the answer has a safeguarding concern nobody has handled yet, else 0: all
    a pseudonymised reader is told about safeguarding."""
    return int(bool(row["safeguarding"]) and not row["safeguarding_handled_at"])


def identifiable(viewer: User) -> bool:
    """May `viewer` see respondents' words unredacted, and the internal ids?"""
    return viewer.may("answers.read_identifiable")


def pseudonymiser(store: Store) -> Callable[[str], str]:
    """cohear id (`R-…`) -> the research pseudonym (`P-…`) of this installation."""
    from surveys import exports
    key = exports.salt(store)
    return lambda cohear_id: exports.pseudonym(key, cohear_id)


class _Redacted:
    """One stored text version as a pseudonymised reader sees it, with the offset maps."""

    def __init__(self, store: Store, answer_text_id: int):
        row = store.one("SELECT text FROM answer_texts WHERE id = ?", (answer_text_id,))
        if row is None:
            raise NotFound(f"text {answer_text_id} does not exist", fix="check the id")
        marks = ",".join("?" * len(APPLIED))
        spans = sorted((r["start_offset"], r["end_offset"], r["kind"]) for r in store.all(
            f"SELECT start_offset, end_offset, kind FROM redactions WHERE answer_text_id = ? "
            f"AND status IN ({marks})", (answer_text_id, *APPLIED)))
        self.stored = row["text"]
        self.text, self.moved = redaction.redact(self.stored, spans)
        self._forward: list[int] | None = None

    def stored_span(self, start: int, end: int) -> tuple[int, int]:
        """A span [start, end) of the redacted words as a span of the stored words. A span
        that starts or ends inside a `[kind]` label takes in the whole redacted part."""
        if self._forward is None:
            # moved() is non-decreasing over stored offsets, so it can be searched.
            self._forward = [self.moved(p) for p in range(len(self.stored) + 1)]
        forward = self._forward
        first = bisect.bisect_left(forward, start)
        if first > 0 and (first == len(forward) or forward[first] > start):
            first = bisect.bisect_left(forward, forward[first - 1])
        last = bisect.bisect_left(forward, end)
        return first, min(last, len(self.stored))


def _texts(store: Store, answer_id: int, cache: dict[int, _Redacted]) -> dict[str, dict]:
    out = {}
    for rendering, row in service.latest_texts(store.conn, answer_id).items():
        shown = cache.setdefault(row["id"], _Redacted(store, row["id"]))
        out[rendering] = {"id": row["id"], "rendering": rendering, "version": row["version"],
                          "language": row["language"], "text": shown.text}
    return out


def coding_view(store: Store, viewer: User, coding_row: dict,
                cache: dict[int, _Redacted] | None = None) -> dict:
    """A coding as `viewer` may see it: for a pseudonymised reader, its span is given in
    the redacted words."""
    if identifiable(viewer):
        return coding_row
    cache = {} if cache is None else cache
    item = {k: coding_row[k] for k in ("id", "answer_id", "code_id", "code", "coder_id",
                                       "coder", "answer_text_id", "start_offset",
                                       "end_offset", "created_at") if k in coding_row}
    if item["answer_text_id"] is not None and item["start_offset"] is not None:
        shown = cache.setdefault(item["answer_text_id"], _Redacted(store, item["answer_text_id"]))
        item["start_offset"] = shown.moved(item["start_offset"])
        item["end_offset"] = shown.moved(item["end_offset"])
    return item


def answer_view(store: Store, answer_id: int, viewer: User) -> dict:
    """One answer with its newest words and codings, as `viewer` may see it (404 for an
    answer they may not reach)."""
    answer = service.get_answer(store, viewer, answer_id)
    codings = coding.codings_for_answer(store, answer_id)
    if identifiable(viewer):
        answer["codings"] = codings
        if viewer.may("redactions.decide"):
            answer["redactions"] = redaction.list_for_answer(store, answer_id)
        return answer
    row = store.one("SELECT r.cohear_id, s.survey_id FROM answers a JOIN respondents r ON "
                    "r.id = a.respondent_id JOIN survey_sessions s ON s.id = a.session_id "
                    "WHERE a.id = ?", (answer_id,))
    cache: dict[int, _Redacted] = {}
    return {"id": answer["id"], "survey_id": row["survey_id"],
            "survey_version": answer["survey_version"], "question_id": answer["question_id"],
            "respondent": pseudonymiser(store)(row["cohear_id"]),
            "language": answer["language"], "kind": answer["kind"],
            "choices": answer["choices"], "status": answer["status"],
            "safeguarding": concern_open(answer), "texts": _texts(store, answer_id, cache),
            "codings": [coding_view(store, viewer, c, cache) for c in codings],
            "pseudonymised": True}


def queue_view(store: Store, viewer: User, **filters) -> list[dict]:
    """The review queue (`service.review_queue`) as `viewer` may see it."""
    rows = service.review_queue(store, viewer, **filters)
    if identifiable(viewer) or not rows:
        return rows
    who = pseudonymiser(store)
    marks = ",".join("?" * len(rows))
    respondents = {r["id"]: who(r["cohear_id"]) for r in store.all(
        f"SELECT a.id, r.cohear_id FROM answers a JOIN respondents r ON r.id = a.respondent_id "
        f"WHERE a.id IN ({marks})", tuple(row["id"] for row in rows))}
    return [{"id": row["id"], "survey_id": row["survey_id"], "question_id": row["question_id"],
             "respondent": respondents[row["id"]], "language": row["language"],
             "kind": row["kind"], "status": row["status"],
             "safeguarding": concern_open(row)} for row in rows]


def sessions_view(store: Store, viewer: User, survey_id: int | None = None) -> list[dict]:
    """Collection sessions as `viewer` may see them: a pseudonymised reader gets one entry
    per session with the respondent's pseudonym and the ids of its answers, but no
    session, respondent or collector id."""
    rows = service.list_sessions(store, viewer, survey_id)
    if identifiable(viewer):
        return rows
    who = pseudonymiser(store)
    answers: dict[int, list[int]] = {}
    for r in store.all("SELECT a.session_id, a.id FROM answers a JOIN survey_sessions s ON "
                       "s.id = a.session_id" + (" WHERE s.survey_id = ?" if survey_id else "")
                       + " ORDER BY a.id", (survey_id,) if survey_id else ()):
        answers.setdefault(r["session_id"], []).append(r["id"])
    return [{"respondent": who(row["respondent"]), "survey_id": row["survey_id"],
             "survey_version": row["survey_version"], "language": row["language"],
             "answers": answers.get(row["id"], []), "pseudonymised": True}
            for row in sorted(rows, key=lambda r: (who(r["respondent"]), r["survey_id"]))]


def stored_span(store: Store, viewer: User, answer_id: int, answer_text_id: int | None,
                start: int | None, end: int | None) -> tuple[int | None, int | None]:
    """Where a span `viewer` marked lies in the stored words. A pseudonymised reader marks
    spans in the redacted words they were shown; anyone else marks the stored words."""
    if identifiable(viewer) or answer_text_id is None or (start is None and end is None):
        return start, end
    row = store.one("SELECT 1 FROM answer_texts WHERE id = ? AND answer_id = ?",
                    (answer_text_id, answer_id))
    if row is None:
        raise NotFound(f"answer {answer_id} has no text {answer_text_id}",
                       fix="code one of the answer's own text versions")
    shown = _Redacted(store, answer_text_id)
    start = 0 if start is None else start
    end = len(shown.text) if end is None else end
    if not 0 <= start < end <= len(shown.text):
        raise BadInput(f"the span {start}..{end} is outside the words, which are "
                       f"{len(shown.text)} characters long as you see them",
                       fix=f"choose 0 <= start < end <= {len(shown.text)}")
    return shown.stored_span(start, end)


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
        marks = ",".join("?" * len(APPLIED))
        found = sorted((r["start_offset"], r["end_offset"], r["kind"]) for r in store.all(
            f"SELECT start_offset, end_offset, kind FROM redactions WHERE answer_text_id = ? "
            f"AND status IN ({marks})", (row["id"], *APPLIED)))
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


def reading_view(store: Store, answer_id: int, viewer: User) -> dict:
    """An answer as `viewer` may read it on a screen (the review app, and the English
    route): its fields, `respondent` (a pseudonym in the redacted view, else the cohear
    id), `texts` (rendering -> TextView of the newest version, with offset maps for coding)
    and `redacted` (whether this is the redacted view)."""
    viewer.require("answers.read")
    row = visible_answer_row(store.conn, viewer, answer_id)
    item = dict(row)
    item["choices"] = json.loads(item.pop("choices_json")) if row["choices_json"] else None
    cohear_id = store.one("SELECT cohear_id FROM respondents WHERE id = ?",
                          (row["respondent_id"],))[0]
    redacted = not identifiable(viewer)
    if redacted:
        item["safeguarding"] = concern_open(row)
        for name in _WITHHELD:
            item.pop(name, None)
        item["respondent"] = pseudonymiser(store)(cohear_id)
    else:
        item["respondent"] = cohear_id
    item["survey_id"] = store.one("SELECT survey_id FROM survey_sessions WHERE id = ?",
                                  (row["session_id"],))[0]
    item["redacted"] = redacted
    item["texts"] = {rendering: text_view(store, text, redacted=redacted)
                     for rendering, text in latest_texts(store.conn, answer_id).items()}
    return item
