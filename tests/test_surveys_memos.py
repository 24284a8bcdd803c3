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
