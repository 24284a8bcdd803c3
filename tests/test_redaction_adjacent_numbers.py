"""A phone number next to another number is still found: phonenumbers reads a run of
digit groups as one candidate (and two numbers together are no number), so runs are
split into the numbers written in UK forms that phonenumbers accepts; and where kinds
overlap, the suggestion covers all of them (redact more, never less), in the stored
suggestions, in what a researcher reads and in an export."""

from __future__ import annotations

import pytest

from surveys import redaction


def hidden(text: str) -> str:
    return redaction.redact(text, redaction.find_pii(text))[0]


@pytest.mark.parametrize("text, expected", [
    # the tester's three
    ("mobile 07700900123 12/03/1987", "mobile [phone] [date_of_birth]"),
    ("07700 900123 943 476 5919", "[phone] [nhs_number]"),
    ("call 0121 496 0000 07700 900123", "call [phone] [phone]"),
    # and their like
    ("943 476 5919 07700 900123", "[nhs_number] [phone]"),
    ("07700900123 943 476 5919 12/03/1987", "[phone] [nhs_number] [date_of_birth]"),
    ("my numbers: 07700 900123 07700 900456 and 0121 496 0018",
     "my numbers: [phone] [phone] and [phone]"),
    ("text me 07700 900 123 or 07700 900 456", "text me [phone] or [phone]"),
    ("(0121) 496 0018 07700 900123", "[phone] [phone]"),
    ("+44 (0)121 496 0018 07700 900123", "[phone] [phone]"),
    ("0044 121 496 0018 07700 900123", "[phone] [phone]"),
    ("+48 22 123 45 67 07700 900123", "[phone] [phone]"),
    ("0121-496-0000 07700-900-123", "[phone] [phone]"),
    ("I am 34 07700 900123", "I am [age] [phone]"),
    ("07700-900-123 12.03.1987", "[phone] [date_of_birth]"),
    ("tel 01214960000 07700900123", "tel [phone] [phone]"),
])
def test_a_phone_number_next_to_another_number_is_found(text, expected):
    assert hidden(text) == expected


@pytest.mark.parametrize("text", [
    "counted 0 1 2 3 4 5 6 7 8 9 10",
    "ward 4, bed 12, 3 nights",
    "rate it 4 of 5, score 12.3",
    "version 1.2.3 of the app",
])
def test_counts_and_scores_are_not_phone_numbers(text):
    assert redaction.find_pii(text) == []


def test_overlapping_kinds_become_one_span_over_all_of_them():
    # Ten digits across two phone numbers pass the NHS check ("900123 0121"): the
    # numbers are hidden whole, under the kind of the longest span.
    text = "ring +44 7700 900123 0121 496 0000 now"
    assert hidden(text) == "ring [phone] now"
    assert redaction.union([(0, 10, "nhs_number"), (5, 20, "phone"), (18, 25, "name"),
                            (30, 34, "age")]) == [(0, 25, "phone"), (30, 34, "age")]
    # Between spans of one length, the kind listed first (an NHS number is also digits).
    assert redaction.union([(3, 15, "nhs_number"), (3, 15, "phone")]) == [(3, 15, "nhs_number")]


def test_redact_hides_every_word_of_overlapping_decided_spans():
    """A reviewer's own span overlapping a suggestion: the words of both go."""
    text = "Mohammed Khan on 07700 900123 today"
    spans = [(0, 8, "name"), (4, 13, "name"), (17, 29, "phone"), (20, 35, "phone")]
    redacted, moved = redaction.redact(text, spans)
    assert redacted == "[name] on [phone]"
    assert redacted[moved(14):] == "on [phone]"


def test_what_a_researcher_reads_and_exports_hide_both_numbers(store, people):
    from cohear.jobs import JobQueue
    from surveys import exports, service, views
    users = {role: user for role, (user, _) in people.items()}
    s = service.create_survey(store, users["communicator"], title="Numbers", purpose="p",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"}])
    service.open_language(store, users["communicator"], s["id"], "en")
    session = service.start_session(store, users["collector"], s["id"], "en")
    service.record_consent(store, users["collector"], session["id"], method="tick")
    words = "call 0121 496 0000 07700 900123 or mobile 07700900456 12/03/1987"
    answer = service.submit_answer(store, users["collector"], session["id"],
                                   s["questions"][1]["id"], text=words)
    suggested = {(r["found"], r["kind"]) for r in redaction.list_for_answer(store, answer["id"])}
    assert suggested == {("0121 496 0000", "phone"), ("07700 900123", "phone"),
                         ("07700900456", "phone"), ("12/03/1987", "date_of_birth")}
    seen = views.answer_view(store, answer["id"], users["researcher"])
    assert seen["texts"]["original"]["text"] == \
        "call [phone] [phone] or mobile [phone] [date_of_birth]"
    queue = JobQueue(store)
    made = exports.request_export(store, users["researcher"], s["id"], "csv", jobs=queue)
    assert queue.run_job(made["job_id"], "test") == "done"
    exported = exports.export_files(store, made["id"], "csv")[0].read_text(encoding="utf-8-sig")
    assert "call [phone] [phone] or mobile [phone] [date_of_birth]" in exported
    assert not any(d in exported for d in ("496 0000", "900123", "900456", "1987"))


def test_answers_stored_under_the_older_rules_get_the_missed_suggestions(store, people,
                                                                         monkeypatch, capsys):
    """`cohear surveys suggest-redactions` after upgrading: what the older rules missed
    is suggested; a decision already made stays; nothing is removed."""
    from cohear.cli import main
    from surveys import service, views
    users = {role: user for role, (user, _) in people.items()}
    s = service.create_survey(store, users["communicator"], title="Old", purpose="p",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"}])
    service.open_language(store, users["communicator"], s["id"], "en")
    session = service.start_session(store, users["collector"], s["id"], "en")
    service.record_consent(store, users["collector"], session["id"], method="tick")
    answer = service.submit_answer(store, users["collector"], session["id"],
                                   s["questions"][1]["id"],
                                   text="mobile 07700900123 12/03/1987")
    text_id = answer["texts"]["original"]["id"]
    with store.transaction() as conn:  # what the older rules left: the date, accepted
        conn.execute("DELETE FROM redactions WHERE kind = 'phone'")
        conn.execute("UPDATE redactions SET status = 'accepted'")
    assert "07700900123" in views.answer_view(store, answer["id"], users["researcher"])[
        "texts"]["original"]["text"]
    monkeypatch.setenv("COHEAR_DATA_DIR", str(store.settings.data_dir))
    assert main(["surveys", "suggest-redactions"]) == 0
    assert "added 1 redaction suggestion" in capsys.readouterr().out
    rows = {(r["found"], r["kind"], r["status"]) for r in
            redaction.list_for_answer(store, answer["id"])}
    assert rows == {("07700900123", "phone", "suggested"),
                    ("12/03/1987", "date_of_birth", "accepted")}
    assert views.answer_view(store, answer["id"], users["researcher"])["texts"]["original"][
        "text"] == "mobile [phone] [date_of_birth]"
    assert redaction.suggest_again(store) == {"texts": 1, "added": 0}
    assert store.one("SELECT count(*) FROM redactions WHERE answer_text_id = ?",
                     (text_id,))[0] == 2


SPACED = [
    ("call 07700\u2009900123 today", "call [phone] today"),          # thin space
    ("call 07700\u202f900123 today", "call [phone] today"),          # narrow no-break space
    ("call 07700\u2007900123 today", "call [phone] today"),          # figure space
    ("call 07700\u3000900123 today", "call [phone] today"),          # ideographic space
    ("call 0121\u2009496\u20090000 today", "call [phone] today"),
    ("call 07700\t900123 today", "call [phone] today"),
    ("call 07700\n900123 today", "call [phone] today"),
    ("call 07700\r\n900123 today", "call [phone] today"),
    ("call 07700\u2028900123 today", "call [phone] today"),          # line separator
    ("call 07700 \u2009 900123 today", "call [phone] today"),        # a run of spaces
    ("07700\u2009900123\n0121 496 0000", "[phone]\n[phone]"),
]
RUN_TOGETHER = [
    ("call 0770090012307700900456 today", "call [phone][phone] today"),
    ("call 0121496000007700900123", "call [phone][phone]"),
    ("0770090012307700900456 07700\u2009900789", "[phone][phone] [phone]"),
]


@pytest.mark.parametrize("text, expected", SPACED + RUN_TOGETHER)
def test_any_whitespace_separates_groups_and_numbers_run_together_are_split(text, expected):
    assert hidden(text) == expected


def test_a_long_run_of_numbers_run_together_is_split_into_all_of_them():
    # Split digit by digit, a 20,000-digit run is still one pass (the spans are not
    # copied from step to step) and phonenumbers is asked each distinct candidate once.
    run = "07700900123" * 2000
    assert hidden(run) == "[phone]" * 2000


def test_suggest_redactions_finds_them_in_stored_answers(store, people, monkeypatch, capsys):
    """Answers stored before these rules (their suggestions gone, as the older rules
    left them) get them from `cohear surveys suggest-redactions`."""
    from cohear.cli import main
    from surveys import service, views
    users = {role: user for role, (user, _) in people.items()}
    s = service.create_survey(store, users["communicator"], title="Spaces", purpose="p",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"}])
    service.open_language(store, users["communicator"], s["id"], "en")
    cases = SPACED[:1] + SPACED[6:7] + RUN_TOGETHER[:1]
    answers = []
    for words, _ in cases:
        session = service.start_session(store, users["collector"], s["id"], "en")
        service.record_consent(store, users["collector"], session["id"], method="tick")
        answers.append(service.submit_answer(store, users["collector"], session["id"],
                                             s["questions"][1]["id"], text=words))
    with store.transaction() as conn:
        conn.execute("DELETE FROM redactions")
    monkeypatch.setenv("COHEAR_DATA_DIR", str(store.settings.data_dir))
    assert main(["surveys", "suggest-redactions"]) == 0
    assert "added 4 redaction suggestion" in capsys.readouterr().out
    for answer, (_, expected) in zip(answers, cases, strict=True):
        assert views.answer_view(store, answer["id"], users["researcher"])["texts"][
            "original"]["text"] == expected
