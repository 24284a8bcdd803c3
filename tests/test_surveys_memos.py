"""Memos: on codes (replaced, the old one kept in the audit log) and on answers (added,
never overwritten), visible only where the answer is, and erased on withdrawal."""

import pytest

from cohear import audit
from cohear.errors import BadInput, NotFound, TooLarge
from surveys import coding, service


@pytest.fixture
def answered(store, people):
    communicator, collector = people["communicator"][0], people["collector"][0]
    survey = service.create_survey(store, communicator, title="Memos", purpose="test",
                                   base_language="en", questions=[
                                       {"kind": "consent", "name": "consent", "text": "Agree?"},
                                       {"kind": "open", "name": "open", "text": "Tell us.",
                                        "options": {"answer": "either"}}])
    service.open_language(store, communicator, survey["id"], "en")
    session = service.start_session(store, collector, survey["id"], "en")
    service.record_consent(store, collector, session["id"], method="tick")
    q = {x["name"]: x["id"] for x in survey["questions"]}
    answer = service.submit_answer(store, collector, session["id"], q["open"],
                                   text="The clinic is too far for my mother.")
    book = coding.create_codebook(store, people["researcher"][0], "Themes",
                                  codes=[{"name": "access", "memo": "getting there"}])
    return {"answer": answer, "session": session, "code": book["codes"][0]}


def test_answer_memos_are_added_and_listed(store, people, answered):
    reviewer, researcher = people["reviewer"][0], people["researcher"][0]
    coding.add_answer_memo(store, reviewer, answered["answer"]["id"], "distance, not cost")
    coding.add_answer_memo(store, researcher, answered["answer"]["id"], "see also answer 12")
    memos = coding.answer_memos(store, reviewer, answered["answer"]["id"])
    assert [(m["author"], m["text"]) for m in memos] == [
        ("test-reviewer", "distance, not cost"), ("test-researcher", "see also answer 12")]
    with pytest.raises(BadInput, match="empty"):
        coding.add_answer_memo(store, reviewer, answered["answer"]["id"], "   ")
    with pytest.raises(TooLarge, match="10,000"):
        coding.add_answer_memo(store, reviewer, answered["answer"]["id"], "x" * 10_001)
    with pytest.raises(NotFound):
        coding.add_answer_memo(store, reviewer, 999_999, "nowhere")


def test_a_code_memo_is_replaced_and_the_old_one_audited(store, people, answered):
    code = coding.set_code_memo(store, people["reviewer"][0], answered["code"]["id"],
                                "getting to the clinic: distance, buses, opening hours")
    assert code["memo"].startswith("getting to the clinic")
    entry = audit.entries(store.conn, entity="code", entity_id=answered["code"]["id"])[0]
    assert entry["action"] == "code.memo"
    assert entry["before"] == {"memo": "getting there"}
    assert entry["after"]["memo"].startswith("getting to the clinic")


def test_withdrawal_removes_memos_on_the_respondents_answers(store, people, answered):
    coding.add_answer_memo(store, people["reviewer"][0], answered["answer"]["id"],
                           "mentions her mother")
    report = service.withdraw_consent(store, people["admin"][0],
                                      answered["session"]["respondent_id"])
    assert report["deleted"]["memos"] == 1
    assert store.one("SELECT count(*) FROM answer_memos")[0] == 0
    assert "mentions her mother" not in str(audit.entries(store.conn, limit=1000))


MEMO = "Respondent Sarah said call 07700 900456, or email sarah.k@example.org"


def test_researchers_read_memos_on_an_answer_redacted_as_the_answer_is(store, people,
                                                                        answered):
    """A reviewer's memo quoting the respondent's name and number reached a researcher
    unredacted, beside an answer that read [phone]."""
    reviewer, researcher = people["reviewer"][0], people["researcher"][0]
    answer_id = answered["answer"]["id"]
    coding.add_answer_memo(store, reviewer, answer_id, MEMO)
    [staff] = coding.answer_memos(store, reviewer, answer_id)
    assert staff["text"] == MEMO and staff["redacted"] is False
    [shown] = coding.answer_memos(store, researcher, answer_id)
    assert shown["text"] == "Respondent [name] said call [phone], or email [email]"
    assert shown["redacted"] is True and shown["hidden"] == ["name", "phone", "email"]
    # What is stored is unchanged: the researcher's view is made as it is read.
    assert store.one("SELECT text FROM answer_memos")[0] == MEMO


def test_the_respondents_own_contact_details_are_hidden_in_memos(store, people):
    communicator, collector = people["communicator"][0], people["collector"][0]
    reviewer, researcher = people["reviewer"][0], people["researcher"][0]
    survey = service.create_survey(store, communicator, title="Contact", purpose="test",
                                   base_language="en", questions=[
                                       {"kind": "consent", "name": "consent", "text": "Agree?"},
                                       {"kind": "open", "name": "open", "text": "Tell us."}])
    service.open_language(store, communicator, survey["id"], "en")
    session = service.start_session(store, collector, survey["id"], "en",
                                    contact="Zubeida Okafor, 14 Ladywood Road, 0121 4960000")
    service.record_consent(store, collector, session["id"], method="tick")
    answer = service.submit_answer(store, collector, session["id"], survey["questions"][1]["id"],
                                   text="The bus is too dear.")
    coding.add_answer_memo(store, reviewer, answer["id"],
                           "okafor (at 14 ladywood road) asked us to ring 0121 496 0000")
    [shown] = coding.answer_memos(store, researcher, answer["id"])
    assert shown["text"] == "[contact] (at [contact]) asked us to ring [contact]"
    assert "Okafor" not in shown["text"] and "496" not in shown["text"]


def test_code_memos_are_redacted_for_readers_of_the_pseudonymised_view(store, people,
                                                                       answered, tmp_path):
    reviewer, researcher = people["reviewer"][0], people["researcher"][0]
    communicator = people["communicator"][0]
    code_id = answered["code"]["id"]
    coding.set_code_memo(store, reviewer, code_id, "like Ayesha Khan on 07700 900123: bus fares")
    book_id = answered["code"]["codebook_id"]
    for who in (researcher, communicator):
        book = coding.get_codebook(store, book_id, who)
        assert book["memos_redacted"] is True
        assert book["codes"][0]["memo"] == "like [name] [name] on [phone]: bus fares"
    staff = coding.get_codebook(store, book_id, reviewer)
    assert staff["memos_redacted"] is False and "07700 900123" in staff["codes"][0]["memo"]
    for exported in (coding.export_codebook_csv(store, book_id, redacted=True),
                     coding.export_qdc(store, book_id, redacted=True).decode()):
        assert "[phone]" in exported and "07700" not in exported and "Ayesha" not in exported
    assert "07700 900123" in coding.export_codebook_csv(store, book_id)
    # In a research project (.qdpx) the code's memo travels with the code, redacted in a
    # pseudonymised export; memos on answers are not exported at all.
    import zipfile

    from surveys import exports
    answer_id = answered["answer"]["id"]
    coding.apply_code(store, researcher, answer_id, code_id)
    coding.add_answer_memo(store, reviewer, answer_id, "answer memo: " + MEMO)
    survey_id = store.one("SELECT survey_id FROM survey_sessions")[0]
    for identifiable, who in ((False, researcher), (True, people["admin"][0])):
        out = tmp_path / f"{identifiable}.qdpx"
        exports.export_survey(store, who, survey_id, "qdpx", out, identifiable=identifiable)
        with zipfile.ZipFile(out) as z:
            project = z.read("project.qde").decode()
        assert ("07700 900123" in project) is identifiable
        assert ("[name] [name] on [phone]: bus fares" in project) is not identifiable
        assert "answer memo" not in project and "Sarah" not in project
