"""Redaction benchmark: the cost of submitting an answer full of personal data (its
redaction suggestions found and stored) and of a reviewer's and a researcher's view of
it, for the longest typed answer cohear takes now (`TYPED_ANSWER_CHARS`) and for the
162,000-character text a security tester once typed through the API, which only a
transcript may now be (`ANSWER_TEXT_CHARS`).

The baseline, measured in the same run on the same stored 162,000-character answer, is
the listing and redaction as they were: every suggestion read with its own copy of the
whole text, and the redacted text rebuilt with a sum over all pieces before each span.

Prints seconds and bytes per case and the ratios: the old views of the long text against
today's, and the whole old case (submit + views) against a maximal typed answer now.

    .venv/bin/python bench/redaction_views.py
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LONG_CHARS = 162_000
# Dense with personal data, as the tester's answer was: names, phone numbers, dates.
PIECES = ("clinic", "bus", "07700 900{:03d}", "nurse", "12/03/1987", "Khan", "late", "kind",
          "Aisha", "was", "the", "pharmacy")


def words(rng: random.Random, chars: int) -> str:
    out, size = [], 0
    while size < chars:
        piece = rng.choice(PIECES).format(rng.randrange(1000))
        out.append(piece)
        size += len(piece) + 1
    return " ".join(out)[:chars].strip()


def old_list_for_answer(store, answer_id: int) -> list[dict]:
    """The listing as it was: the whole text joined onto every suggestion's row."""
    rows = store.all("SELECT r.*, t.rendering, t.version, t.text FROM redactions r JOIN "
                     "answer_texts t ON t.id = r.answer_text_id WHERE t.answer_id = ? "
                     "ORDER BY r.id", (answer_id,))
    out = []
    for r in rows:
        item = dict(r)
        item["found"] = item.pop("text")[r["start_offset"]:r["end_offset"]]
        out.append(item)
    return out


def old_redact(text: str, spans) -> str:
    """Redaction as it was: a sum over every piece so far before each span."""
    pieces, cursor, starts = [], 0, []
    for s, e, kind in spans:
        if s < cursor:
            continue
        pieces.append(text[cursor:s])
        label = f"[{kind}]"
        starts.append((s, e, sum(len(p) for p in pieces), len(label)))
        pieces.append(label)
        cursor = e
    pieces.append(text[cursor:])
    return "".join(pieces)


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - t0


def main() -> None:
    from cohear import limits
    from cohear.auth import create_user
    from cohear.settings import load_settings
    from cohear.store import Store
    from surveys import redaction, service, views

    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(load_settings(env={}, data_dir=Path(tmp), embedded_worker=False))
        store.migrate()
        people = {role: create_user(store, f"bench-{role}", role)[0]
                  for role in ("communicator", "collector", "reviewer", "researcher")}
        survey = service.create_survey(
            store, people["communicator"], title="Bench", purpose="Time redaction",
            base_language="en", questions=[
                {"kind": "consent", "name": "consent", "text": "Agree?"},
                {"kind": "open", "name": "story", "text": "Tell us"}])
        service.open_language(store, people["communicator"], survey["id"], "en")
        story = survey["questions"][1]["id"]

        def session() -> int:
            s = service.start_session(store, people["collector"], survey["id"], "en")
            service.record_consent(store, people["collector"], s["id"], method="tick")
            return s["id"]

        def views_of(answer_id: int) -> dict:
            reviewer, t_rev = timed(views.answer_view, store, answer_id, people["reviewer"])
            researcher, t_res = timed(views.answer_view, store, answer_id,
                                      people["researcher"])
            return {"reviewer_s": t_rev, "researcher_s": t_res,
                    "reviewer_bytes": len(json.dumps(reviewer, default=str)),
                    "suggestions": len(reviewer["redactions"])}

        # A maximal typed answer now.
        typed = words(rng, limits.TYPED_ANSWER_CHARS)
        answer, t_submit = timed(service.submit_answer, store, people["collector"], session(),
                                 story, text=typed)
        typed_case = {"chars": len(typed), "submit_s": t_submit} | views_of(answer["id"])

        # The tester's 162,000 characters, now only a transcript's length: stored as a
        # transcript is (`_insert_text`: the words and their suggestions in one
        # transaction) on an answer made a voice answer.
        long_text = words(rng, LONG_CHARS)
        short = service.submit_answer(store, people["collector"], session(), story, text="x")
        store.conn.execute("UPDATE answers SET kind = 'voice' WHERE id = ?", (short["id"],))

        def transcript() -> None:
            with store.transaction() as conn:
                service._insert_text(conn, store, short["id"], "original", "en", long_text,
                                     "whisper")
        _, t_submit = timed(transcript)
        long_case = {"chars": len(long_text), "submit_s": t_submit} | views_of(short["id"])

        # The baseline: the same stored answer listed and redacted the old way.
        listed, t_old_list = timed(old_list_for_answer, store, short["id"])
        _, t_new_list = timed(redaction.list_for_answer, store, short["id"])
        spans = sorted((r["start_offset"], r["end_offset"], r["kind"]) for r in listed
                       if r["version"] == 2)
        _, t_old_redact = timed(old_redact, long_text, spans)
        _, t_new_redact = timed(redaction.redact, long_text, spans)
        old_views = (long_case["reviewer_s"] - t_new_list + t_old_list
                     + long_case["researcher_s"] - t_new_redact + t_old_redact)
        new_views = long_case["reviewer_s"] + long_case["researcher_s"]
        store.close()

    for name, case in (("typed answer at the bound", typed_case),
                       ("162,000 characters (a transcript's length)", long_case)):
        print(f"{name}: {case['chars']:,} chars, {case['suggestions']:,} suggestions; "
              f"submit {case['submit_s']:.2f} s, reviewer view {case['reviewer_s']:.3f} s "
              f"({case['reviewer_bytes']:,} bytes), researcher view "
              f"{case['researcher_s']:.3f} s")
    print(f"baseline on the 162,000 characters: listing {t_old_list:.3f} s (now "
          f"{t_new_list:.3f} s), redacting {t_old_redact:.3f} s (now {t_new_redact:.3f} s)")
    print(f"views of 162,000 characters, old / now: {old_views / new_views:.1f}x")
    old_total = long_case["submit_s"] + old_views
    new_total = (typed_case["submit_s"] + typed_case["reviewer_s"]
                 + typed_case["researcher_s"])
    print(f"old 162,000-character typed case (submit + views) / a maximal typed answer now: "
          f"{old_total / new_total:.0f}x")


if __name__ == "__main__":
    main()
