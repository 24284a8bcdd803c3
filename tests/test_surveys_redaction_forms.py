"""Redaction suggestions find listed names whatever their case (and across Unicode case
folding), and dates of birth and ages in the forms people say and type them in the UK,
without marking appointment dates, scores or weeks of pregnancy."""

from __future__ import annotations

import datetime as dt

import pytest

from surveys import redaction, service


def found(text: str, names=redaction.NAMES) -> set[tuple[str, str]]:
    return {(text[s:e], kind) for s, e, kind in redaction.find_pii(text, names)}


@pytest.mark.parametrize("text", ["ask mohammed khan", "ask MOHAMMED KHAN", "ask Mohammed Khan",
                                  "ask mOhAmMeD kHaN"])
def test_a_listed_name_is_found_in_any_case(text):
    words = text.split()[1:]
    assert found(text) == {(words[0], "name"), (words[1], "name")}


def test_names_are_compared_after_unicode_case_folding_and_decomposition():
    names = ("Strauß", "José", "zainab")
    text = "Frau STRAUSS and Herr Strauß met Jose\u0301 and JOSÉ, and ZAINAB"
    assert found(text, names) == {("STRAUSS", "name"), ("Strauß", "name"),
                                  ("Jose\u0301", "name"), ("JOSÉ", "name"),
                                  ("ZAINAB", "name")}
    # Spans are offsets in the text as written, even where folding changed its length
    # ("ß" folds to "ss", before "Jose" + a combining accent).


def test_a_name_inside_another_word_is_not_a_name():
    assert found("Alistair, Alibaba and Khanum came; Singhal too") == set()


@pytest.mark.parametrize("text, date", [
    ("my DOB is 12/03/1987 thanks", "12/03/1987"),
    ("DOB 12.3.87", "12.3.87"),
    ("born 12-03-1987 in Aston", "12-03-1987"),
    ("I was born on 12 March 1987", "12 March 1987"),
    ("born on the 12th of March 1987", "12th of March 1987"),
    ("March 12th 1987 is my birthday", "March 12th 1987"),
    ("since March 12, 1987", "March 12, 1987"),
    ("12 Sept 1987", "12 Sept 1987"),
    ("I was born in 1987.", "1987"),
    ("born 1987", "1987"),
    ("D.O.B.: 01/02/2019", "01/02/2019"),        # recent, but said to be a date of birth
    ("date of birth is 3 Jan 2020", "3 Jan 2020"),
])
def test_dates_of_birth_in_common_uk_forms_are_suggested(text, date):
    assert (date, "date_of_birth") in found(text)


@pytest.mark.parametrize("text, age", [
    ("aged 34 and well", "34"),
    ("Age: 71", "71"),
    ("I'm 34", "34"),
    ("I’m 29 now", "29"),
    ("I am 58", "58"),
    ("he is 34 years old", "34"),
    ("a 7-year-old girl", "7"),
    ("she is 2 years old", "2"),
])
def test_ages_are_suggested(text, age):
    assert (age, "age") in found(text)


@pytest.mark.parametrize("text", [
    "I was seen on 12/03/" + str(dt.date.today().year),      # an appointment, not a birth
    "31/02/1987 is not a date",
    "rate it 4 of 5, score 12.3",
    "I'm 34 weeks pregnant",
    "I am 5 minutes away",
    "aged 500",
    "version 1.2.3 of the app",
    "it cost 12/03 per week",
])
def test_appointments_scores_and_durations_are_not_dates_of_birth_or_ages(text):
    assert not {kind for _, kind in found(text)} & {"date_of_birth", "age"}, found(text)


def test_suggestions_for_a_typed_answer_include_lower_case_names_dates_of_birth_and_ages(
        store, people):
    users = {role: user for role, (user, _) in people.items()}
    (store.settings.data_dir / "redaction-names.txt").write_text("Grzegorz\n", encoding="utf-8")
    s = service.create_survey(store, users["communicator"], title="Clinic", purpose="Hear",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"}])
    service.open_language(store, users["communicator"], s["id"], "en")
    session = service.start_session(store, users["collector"], s["id"], "en")
    service.record_consent(store, users["collector"], session["id"], method="tick")
    answer = service.submit_answer(
        store, users["collector"], session["id"], s["questions"][1]["id"],
        text="this is mohammed khan, DOB 12/03/1987, I'm 38; my neighbour grzegorz helps")
    suggestions = {(r["found"], r["kind"]) for r in redaction.list_for_answer(store, answer["id"])}
    assert suggestions == {("mohammed", "name"), ("khan", "name"), ("grzegorz", "name"),
                           ("12/03/1987", "date_of_birth"), ("38", "age")}
    text = "this is mohammed khan, DOB 12/03/1987, I'm 38"
    spans = redaction.find_pii(text)
    assert redaction.redact(text, spans)[0] == \
        "this is [name] [name], DOB [date_of_birth], I'm [age]"


def test_a_suggestion_is_listed_with_the_words_around_it_not_the_whole_text(store, people):
    """Listing copied the whole text for every suggestion (18 s for a long transcript): each
    comes with its own words and up to CONTEXT_CHARS either side, and nothing longer."""
    users = {role: user for role, (user, _) in people.items()}
    s = service.create_survey(store, users["communicator"], title="Clinic", purpose="Hear",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"}])
    service.open_language(store, users["communicator"], s["id"], "en")
    session = service.start_session(store, users["collector"], s["id"], "en")
    service.record_consent(store, users["collector"], session["id"], method="tick")
    filler = "the bus to the clinic was late again and the nurse was kind to us. " * 20
    text = "Khan said " + filler + "call 07700 900123 please " + filler + "from Aisha"
    answer = service.submit_answer(store, users["collector"], session["id"],
                                   s["questions"][1]["id"], text=text)
    listed = {r["found"]: r for r in redaction.list_for_answer(store, answer["id"])}
    assert set(listed) == {"Khan", "07700 900123", "Aisha"}
    width = redaction.CONTEXT_CHARS
    phone = listed["07700 900123"]
    start = text.index("07700 900123")
    assert phone["before"] == text[start - width:start]
    assert phone["after"] == text[start + 12:start + 12 + width]
    assert listed["Khan"]["before"] == "" and listed["Aisha"]["after"] == ""
    for item in listed.values():
        assert all(len(v) <= width for k, v in item.items()
                   if isinstance(v, str) and k in ("before", "after"))
        assert max(len(v) for v in item.values() if isinstance(v, str)) < len(text) // 4


def test_redacting_many_spans_maps_every_offset_as_one_span_at_a_time_would():
    """`redact` is linear (its offsets found by binary search); it maps each offset as
    replacing the spans one by one does, overlapping spans joined into one."""
    import random
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice("ab ") for _ in range(rng.randint(0, 80)))
        spans = sorted({(s, rng.randint(s + 1, min(len(text), s + 6)), rng.choice(["age", "name"]))
                        for s in rng.sample(range(len(text)), min(len(text), 5))})
        shown, moved = redaction.redact(text, spans)
        # Overlapping spans are hidden as one, named after the longest of them (the
        # first, between equals).
        merged = []
        for s, e, kind in spans:
            if merged and s < merged[-1][1]:
                ms, me, mk, mlen = merged[-1]
                merged[-1] = (ms, max(me, e), kind if e - s > mlen else mk, max(mlen, e - s))
            else:
                merged.append((s, e, kind, e - s))
        kept = [(s, e, kind) for s, e, kind, _ in merged]
        expected, shift = text, 0
        for s, e, kind in kept:
            expected = expected[:s + shift] + f"[{kind}]" + expected[e + shift:]
            shift += len(kind) + 2 - (e - s)
        assert shown == expected
        for p in range(len(text) + 1):
            inside = next((k for k in kept if k[0] < p < k[1]), None)
            before = [k for k in kept if k[1] <= p]
            want = (moved(inside[0]) if inside else
                    p + sum(len(k[2]) + 2 - (k[1] - k[0]) for k in before))
            assert moved(p) == want, (text, spans, p)
