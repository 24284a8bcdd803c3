"""PII redaction suggestions (phones, NHS numbers by their check digit, emails, postcodes,
names) decided by reviewers, and the survey summary as tables and PNG charts."""

from __future__ import annotations

import pytest

from cohear.errors import BadInput, Conflict, Forbidden
from surveys import coding, redaction, service, summary


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


def test_nhs_numbers_are_recognised_by_their_mod_11_check_digit():
    # Weights 10..2 on the first nine digits; the check digit is 11 - (sum mod 11).
    # 943 476 5919: 90 + 36 + 24 + 28 + 42 + 30 + 20 + 27 + 2 = 299; 299 mod 11 = 2 -> 9.
    assert redaction.nhs_number_valid("9434765919")
    assert not redaction.nhs_number_valid("9434765918")
    # 401 023 213?: 40 + 0 + 8 + 0 + 12 + 15 + 8 + 3 + 6 = 92; 92 mod 11 = 4 -> 7.
    assert redaction.nhs_number_valid("4010232137")
    # 010 000 001?: 9 + 2 = 11; remainder 0 -> 11, written as check digit 0.
    assert redaction.nhs_number_valid("0100000010")
    # 000 000 040?: 4 * 3 = 12; remainder 1 -> 10, which no NHS number can have.
    assert not any(redaction.nhs_number_valid(f"000000040{d}") for d in range(10))


def test_personal_data_is_found_by_kind():
    text = ("Ring 07700 900123 or +44 121 496 0018, mail amina.k@example.org, NHS no "
            "943 476 5919 (not 943 476 5918 as an NHS number), B11 4BW, ask Mrs Begum. "
            "I was 45 in 2024 and rate it 4 of 5.")
    found = {(text[s:e], k) for s, e, k in redaction.find_pii(text)}
    assert ("07700 900123", "phone") in found
    assert ("+44 121 496 0018", "phone") in found
    assert ("amina.k@example.org", "email") in found
    assert ("943 476 5919", "nhs_number") in found
    assert ("B11 4BW", "postcode") in found
    assert ("Begum", "name") in found
    assert not any(t in ("45", "2024", "4", "5") for t, _ in found)


def test_redact_replaces_spans_and_maps_offsets():
    text = "call 07700 900123 now"
    redacted, moved = redaction.redact(text, [(5, 17, "phone")])
    assert redacted == "call [phone] now"
    assert moved(0) == 0 and moved(5) == 5 and moved(10) == 5
    assert redacted[moved(18):] == "now"


@pytest.fixture
def answered(store, users):
    s = service.create_survey(store, users["communicator"], title="Clinic", purpose="Hear",
                              base_language="en", target_languages=["ur"], questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"},
                                  {"kind": "demographic", "name": "age", "text": "Age band",
                                   "options": {"field": "age_band"}}])
    service.open_language(store, users["communicator"], s["id"], "en")
    service.open_language(store, users["communicator"], s["id"], "ur", accept_english=True)
    out = []
    for lang, words, band in (("en", "Call Dr Ali on 0121 496 0018", "25-34"),
                              ("en", "The nurse was kind", "65-74"),
                              ("ur", "نرس بہت اچھی تھی", "25-34")):
        sess = service.start_session(store, users["collector"], s["id"], lang)
        service.record_consent(store, users["collector"], sess["id"], method="tick")
        a = service.submit_answer(store, users["collector"], sess["id"],
                                  s["questions"][1]["id"], text=words)
        service.submit_answer(store, users["collector"], sess["id"], s["questions"][2]["id"],
                              choices=[band])
        out.append(a)
    return {"survey": s, "answers": out}


def test_suggestions_are_made_for_answers_and_decided_by_reviewers(store, users, answered):
    a = answered["answers"][0]
    suggestions = redaction.list_for_answer(store, a["id"])
    assert {(r["found"], r["kind"], r["status"]) for r in suggestions} == {
        ("Ali", "name", "suggested"), ("0121 496 0018", "phone", "suggested")}
    phone = next(r for r in suggestions if r["kind"] == "phone")
    with pytest.raises(Forbidden):
        redaction.decide(store, users["researcher"], phone["id"], accept=True)
    assert redaction.decide(store, users["reviewer"], phone["id"], accept=True)["status"] == \
        "accepted"
    # The English rendering gets its own suggestions.
    english = service.add_text_version(store, users["reviewer"], a["id"],
                                       "Call Dr Ali on 0121 496 0018", rendering="english")
    assert {r["answer_text_id"] for r in redaction.list_for_answer(store, a["id"])} == \
        {a["texts"]["original"]["id"], english["id"]}
    by_hand = redaction.add_by_hand(store, users["reviewer"], english["id"], 0, 4, "name")
    assert by_hand["status"] == "accepted"
    with pytest.raises(BadInput):
        redaction.add_by_hand(store, users["reviewer"], english["id"], 20, 99)


def test_summary_counts_answers_by_question_language_and_band(store, users, answered):
    code = coding.create_codebook(store, users["researcher"], "Care",
                                  codes=[{"name": "kindness"}])["codes"][0]["id"]
    for a in answered["answers"][1:]:
        coding.apply_code(store, users["researcher"], a["id"], code)
    data = summary.summarise(store, users["researcher"], answered["survey"]["id"])
    assert data["answers_by_question_and_language"] == [
        {"question": "story", "language": "en", "answers": 2},
        {"question": "story", "language": "ur", "answers": 1},
        {"question": "age", "language": "en", "answers": 2},
        {"question": "age", "language": "ur", "answers": 1}]
    assert data["answers_by_demographic_band"] == [
        {"demographic": "age_band", "question": "story", "band": "25-34", "answers": 2},
        {"demographic": "age_band", "question": "story", "band": "65-74", "answers": 1}]
    assert data["codes_by_language"] == [
        {"code": "kindness", "language": "en", "codings": 1, "answers": 1},
        {"code": "kindness", "language": "ur", "codings": 1, "answers": 1}]
    for chart in ("answers", "codes"):
        png = summary.chart_png(store, users["researcher"], answered["survey"]["id"], chart)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


def test_a_chart_of_nothing_is_refused(store, users):
    s = service.create_survey(store, users["communicator"], title="Empty", purpose="None",
                              base_language="en", questions=[
                                  {"kind": "open", "name": "q", "text": "?"}])
    with pytest.raises(Conflict):
        summary.chart_png(store, users["researcher"], s["id"], "codes")
    with pytest.raises(Forbidden):
        summary.summarise(store, users["collector"], s["id"])
