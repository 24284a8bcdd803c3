"""Closing a safeguarding concern is a record of what was done: the service, the API and
the command line all refuse to mark a concern handled without a note of the action taken
and who was told, and the note goes in the audit log."""

from __future__ import annotations

import pytest

from cohear import audit
from cohear.cli import main
from cohear.errors import Unprocessable
from surveys import service as surveys

NOTE = "Rang the practice safeguarding lead (Dr Shah); she will call the respondent today"


def concern(ws) -> int:
    return ws["concern"]


def handlings(store, answer_id: int) -> list[dict]:
    return [e for e in audit.entries(store.conn, entity="answer", entity_id=answer_id)
            if e["action"] == "safeguarding.handle"]


@pytest.mark.parametrize("note", ["", "   ", "ok", "done."])
def test_the_service_refuses_to_close_a_concern_without_a_real_note(store, review_workspace,
                                                                   note):
    ws = review_workspace
    with pytest.raises(Unprocessable, match="needs a note of the action taken") as caught:
        surveys.handle_safeguarding(store, ws["users"]["reviewer"], concern(ws), note)
    assert caught.value.status == 422 and "who was told" in caught.value.message()
    answer = surveys.get_answer(store, ws["users"]["reviewer"], concern(ws))
    assert answer["safeguarding_handled_at"] is None and answer["safeguarding_note"] is None
    assert handlings(store, concern(ws)) == []


def test_a_handled_concern_keeps_its_note_in_the_audit_log(store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    handled = surveys.handle_safeguarding(store, reviewer, concern(ws), f"  {NOTE}  ")
    assert handled["safeguarding_note"] == NOTE and handled["safeguarding_handled_by"] == reviewer.id
    follow_up = "Dr Shah spoke to them; referred to the local domestic abuse service"
    surveys.handle_safeguarding(store, reviewer, concern(ws), follow_up)
    entries = handlings(store, concern(ws))
    assert [e["after"]["note"] for e in reversed(entries)] == [NOTE, follow_up]
    assert entries[0]["before"] == {"note": NOTE}          # the earlier note is kept


def test_the_api_answers_422_with_a_problem_and_stores_nothing(api, live_server, people):
    from surveys import service
    store = live_server.app.state.store
    comm, collector, reviewer = (people[r][0] for r in ("communicator", "collector", "reviewer"))
    survey = service.create_survey(store, comm, title="Home", purpose="Feeling safe at home",
                                   base_language="en", questions=[
                                       {"kind": "consent", "name": "consent", "text": "Agree?"},
                                       {"kind": "open", "name": "home", "text": "How is home?"}])
    service.open_language(store, comm, survey["id"], "en")
    session = service.start_session(store, collector, survey["id"], "en")
    service.record_consent(store, collector, session["id"], method="tick")
    question = survey["questions"][1]["id"]
    answer = service.submit_answer(store, collector, session["id"], question,
                                   text="My husband hits me when he drinks")
    assert answer["safeguarding"] == 1                     # raised by the keyword list
    url = f"/api/answers/{answer['id']}/safeguarding/handled"
    for body in ({"note": ""}, {}, {"note": "ok"}):
        r = api["reviewer"].post(url, json=body)
        assert r.status_code == 422, r.text
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "needs a note of the action taken" in problem["detail"]
        assert "who was told" in problem["detail"]
    assert service.get_answer(store, reviewer, answer["id"])["safeguarding_handled_at"] is None
    r = api["reviewer"].post(url, json={"note": NOTE})
    assert r.status_code == 200 and r.json()["safeguarding_note"] == NOTE


def test_the_command_line_needs_the_note_and_a_person(settings, store, review_workspace,
                                                      monkeypatch, capsys):
    monkeypatch.setenv("COHEAR_DATA_DIR", str(settings.data_dir))
    ws = review_workspace
    assert main(["surveys", "concerns"]) == 0
    assert "cannot afford to travel" in capsys.readouterr().out
    assert main(["surveys", "handle-concern", str(concern(ws)), "--note", "",
                 "--as", "test-reviewer"]) == 1
    err = capsys.readouterr().err
    assert "needs a note of the action taken" in err and "Traceback" not in err
    assert main(["surveys", "handle-concern", str(concern(ws)), "--note", NOTE]) == 2
    assert "--as" in capsys.readouterr().err
    assert main(["surveys", "handle-concern", str(concern(ws)), "--note", NOTE,
                 "--as", "test-reviewer"]) == 0
    answer = surveys.get_answer(store, ws["users"]["reviewer"], concern(ws))
    assert answer["safeguarding_note"] == NOTE
    assert main(["surveys", "concerns"]) == 0
    assert "cannot afford to travel" not in capsys.readouterr().out


INVISIBLE = [
    "..........",
    "\u200b" * 12,                     # zero-width spaces
    "\u00ad" * 12,                     # soft hyphens
    "\u2800" * 12,                     # Braille blanks
    "- - - - - - - - - - - -",
    "\u200b.\u00ad \u2800" * 5,
    "o\u200bk\u00ad." * 4,              # 20 characters, 8 letters
    "ok, done!",
]


@pytest.mark.parametrize("note", INVISIBLE)
def test_a_note_of_dots_or_invisible_characters_is_too_short(store, review_workspace, note):
    """Letters and digits are counted, not characters, in any script."""
    ws = review_workspace
    assert len(note) >= 9
    with pytest.raises(Unprocessable, match="needs a note of the action taken") as caught:
        surveys.handle_safeguarding(store, ws["users"]["reviewer"], concern(ws), note)
    assert "letters or digits" in caught.value.message()
    assert note.strip() not in caught.value.message()      # the note is never quoted
    assert handlings(store, concern(ws)) == []


@pytest.mark.parametrize("note", [
    "rang the safeguarding lead",
    "سیف گارڈنگ لیڈ کو فون کیا",          # Urdu: letters of another script count too
    "ਸੁਰੱਖਿਆ ਅਫ਼ਸਰ ਨੂੰ ਦੱਸਿਆ ਗਿਆ ਹੈ",
    "已电话通知安全负责人今天回电",
])
def test_a_few_words_in_any_script_are_enough(store, review_workspace, note):
    ws = review_workspace
    handled = surveys.handle_safeguarding(store, ws["users"]["reviewer"], concern(ws), note)
    assert handled["safeguarding_note"] == note


def test_a_concern_is_not_raised_for_dots_either(store, review_workspace):
    from cohear.errors import BadInput
    ws = review_workspace
    with pytest.raises(BadInput, match="say why"):
        surveys.raise_safeguarding(store, ws["users"]["reviewer"], ws["concern"], "\u200b...")
