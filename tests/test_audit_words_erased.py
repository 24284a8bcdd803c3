"""The audit log keeps people's words only where a withdrawal erases them (an entry's
before and after), never in `detail`, which keeps the fact. Words are planted in every
field a person or a machine writes about a respondent that the audit log records (typed
answers and their versions, reviewers' words, English renderings, transcripts, a
correction and its note, a translation request's note, safeguarding reasons and notes,
memos); each is in the log before the withdrawal and in no column of it after.

Databases from before keep no correction note in `detail` either (cohear 0007), and the
log stays append-only: an erasure may blank the words and nothing else."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest

from cohear import store as store_module
from cohear.auth import create_user
from speech.transcribe import LanguageFinding, Segment, Transcription
from tests.conftest import make_settings
from tests.test_crash_safety import variants

# field -> a word planted there, found nowhere else.
PLANTED = {
    "typed answer": "Quillsprocket",
    "typed answer, second version": "Marrowglade",
    "reviewer's edit of the words": "Thistlebank",
    "reviewer's English": "Brackenfold",
    "machine transcript": "Dunmorrow",
    "machine English": "Ashcombe",
    "transcript correction": "Wrenlowe",
    "correction's English": "Fallowmere",
    "correction note": "Grindlewick",
    "translation request note": "Hollowbrae",
    "safeguarding reason": "Kestrelmoor",
    "safeguarding handling note": "Larkspurne",
    "later handling note": "Mistlethorpe",
    "memo on the answer": "Nettlecombe",
}


def audit_text(store) -> str:
    return "\n".join(" | ".join(str(v) for v in tuple(row))
                     for row in store.all("SELECT * FROM audit_log"))


def plant(store, users) -> dict:
    """One respondent whose words reach every word-bearing field of the audit log."""
    from speech import service as speech
    from surveys import coding, english, service
    collector, reviewer = users["collector"], users["reviewer"]
    s = service.create_survey(store, users["communicator"], title="Audit", purpose="p",
                              base_language="en", target_languages=["ur"], questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?",
                                   "texts": {"ur": "متفق؟"}},
                                  {"kind": "open", "name": "story", "text": "Tell us",
                                   "texts": {"ur": "بتائیں"}},
                                  {"kind": "open", "name": "voice", "text": "Say it",
                                   "texts": {"ur": "کہیں"}}])
    for q in s["questions"]:
        service.approve_question_text(store, reviewer, q["id"], "ur")
    service.open_language(store, users["communicator"], s["id"], "ur")
    q = {q["name"]: q["id"] for q in s["questions"]}
    session = service.start_session(store, collector, s["id"], "ur")
    service.record_consent(store, collector, session["id"], method="tick")
    typed = service.submit_answer(store, collector, session["id"], q["story"],
                                  text=f"{PLANTED['typed answer']} waits for the bus")
    service.submit_answer(store, collector, session["id"], q["story"],
                          text=f"{PLANTED['typed answer, second version']} waits")
    edit, own_english = PLANTED["reviewer's edit of the words"], PLANTED["reviewer's English"]
    service.add_text_version(store, reviewer, typed["id"], f"{edit} waits", source="edit")
    english.set_english(store, reviewer, typed["id"], own_english)
    english.request_translation(store, reviewer, typed["id"],
                                f"see {PLANTED['translation request note']}")
    coding.add_answer_memo(store, reviewer, typed["id"], PLANTED["memo on the answer"])
    service.raise_safeguarding(store, reviewer, typed["id"],
                               f"mentions {PLANTED['safeguarding reason']}")
    service.handle_safeguarding(store, reviewer, typed["id"],
                                f"rang {PLANTED['safeguarding handling note']} today")
    service.handle_safeguarding(store, reviewer, typed["id"],
                                f"rang {PLANTED['later handling note']} again")
    voice = service.submit_answer(store, collector, session["id"], q["voice"],
                                  audio=io.BytesIO(variants(1)[0]), filename="v.wav",
                                  content_type="audio/wav")
    result = Transcription(LanguageFinding("ur", "ur", 0.9, "ur"),
                           [Segment(0, 0.0, 2.0, PLANTED["machine transcript"], -0.2, 0.01,
                                    1.1)], 2.0)
    with store.transaction() as conn:
        speech.save_machine_transcript(conn, voice["recording_id"], None, result,
                                       {"argos": PLANTED["machine English"]}, {"model": "t"})
    speech.correct(store, voice["recording_id"], reviewer,
                   text=PLANTED["transcript correction"],
                   english=PLANTED["correction's English"],
                   note=f"the respondent said {PLANTED['correction note']}, not Dunmore")
    service.sync_transcript(store, voice["id"])
    return {"respondent": session["respondent_id"], "typed": typed["id"],
            "recording": voice["recording_id"]}


def test_no_word_of_a_withdrawn_respondent_stays_in_any_column_of_the_audit_log(store,
                                                                                   people):
    from surveys import service
    users = {role: user for role, (user, _) in people.items()}
    a = plant(store, users)
    before = audit_text(store)
    missing = [field for field, word in PLANTED.items() if word not in before]
    assert not missing, f"the audit log never recorded: {missing}"
    notes = store.one("SELECT detail, after_json FROM audit_log WHERE action = "
                      "'transcript.correct'")
    assert PLANTED["correction note"] not in notes["detail"]
    assert PLANTED["correction note"] in notes["after_json"]

    service.withdraw_consent(store, users["collector"], a["respondent"])

    after = audit_text(store)
    left = {field: word for field, word in PLANTED.items() if word in after}
    assert not left, f"words left in the audit log after the withdrawal: {left}"
    # The facts stay: who corrected which version, handled the concern, and so on.
    facts = {r["action"]: r["detail"] for r in store.all("SELECT action, detail FROM audit_log")}
    assert facts["transcript.correct"] == "version 2"
    assert {"safeguarding.handle", "answer.memo", "answer.translation_request",
            "answer.version", "respondent.withdraw"} <= set(facts)


def old_database(tmp_path, monkeypatch) -> store_module.Store:
    every = store_module.discover_migrations()
    monkeypatch.setattr(store_module, "discover_migrations",
                        lambda: [m for m in every if m.key != "cohear/0007"])
    old = store_module.Store(make_settings(tmp_path / "data"))
    old.migrate()
    monkeypatch.setattr(store_module, "discover_migrations", lambda: every)
    return old


def test_notes_an_older_cohear_wrote_into_detail_move_where_withdrawal_erases_them(
        tmp_path, monkeypatch):
    old = old_database(tmp_path, monkeypatch)
    reviewer, _ = create_user(old, "rev", "reviewer")
    with old.transaction() as conn:  # as the old `speech.correct` wrote them
        for recording, erased in ((1, 0), (2, 0)):
            conn.execute(
                "INSERT INTO audit_log (at, actor_id, actor_name, action, entity, entity_id, "
                "before_json, after_json, detail, erased) VALUES ('2026-01-01T00:00:00Z', ?, "
                "'rev', 'transcript.correct', 'recording', ?, '{\"text\": \"w\"}', "
                "'{\"text\": \"w2\", \"version\": 3}', 'heard Grindlewick', ?)",
                (reviewer.id, str(recording), erased))
        conn.execute("UPDATE audit_log SET before_json = NULL, after_json = NULL, erased = 1 "
                     "WHERE entity_id = '2'")  # a respondent who withdrew before the fix
    old.close()
    new = store_module.Store(make_settings(tmp_path / "data"))
    assert new.migrate() == ["cohear/0007_audit_words_out_of_detail"]
    kept, erased = new.all("SELECT * FROM audit_log WHERE action = 'transcript.correct' "
                           "ORDER BY entity_id")
    assert kept["detail"] == "version 3"
    assert json.loads(kept["after_json"]) == {"text": "w2", "version": 3,
                                              "note": "heard Grindlewick"}
    assert "Grindlewick" not in erased["detail"] and erased["after_json"] is None
    from cohear import audit
    with new.transaction() as conn:
        audit.erase_words(conn, "recording", [1])
    assert "Grindlewick" not in audit_text(new)
    new.close()


@pytest.mark.parametrize("change", [
    "UPDATE audit_log SET detail = 'rewritten'",
    "UPDATE audit_log SET before_json = NULL, after_json = NULL, erased = 1, detail = 'x'",
    "DELETE FROM audit_log",
])
def test_the_audit_log_stays_append_only(store, people, change):
    from cohear import audit
    with store.transaction() as conn:
        audit.record(conn, people["admin"][0], "test.fact", "thing", 1, after={"w": "words"},
                     detail="what happened")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        with store.transaction() as conn:
            conn.execute(change)
    with store.transaction() as conn:  # what a withdrawal does is still allowed
        assert audit.erase_words(conn, "thing", [1]) == 1
    assert store.one("SELECT detail FROM audit_log WHERE action = 'test.fact'")[0] == \
        "what happened"
