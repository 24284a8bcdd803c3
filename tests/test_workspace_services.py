"""What the workspace builds on, tested through the services on a real database: messages
a page at a time with filters and the coverage map's counts (both in SQL), the live
plain-language check of unsaved words, removing glossary terms, editing and reordering a
survey's questions, and `cohear collect link/list/withdraw`."""

from __future__ import annotations

import pytest

from cohear import audit
from cohear.errors import Conflict, Forbidden, NotFound
from comms import listing
from comms import service as comms
from comms.listing import MessageFilters
from surveys import service as surveys


@pytest.fixture
def messages(store, people, copy_packs):
    """Five messages: machine, approved, human requested, stale; a survey question."""
    comm, reviewer = people["communicator"][0], people["reviewer"][0]
    made = {}
    for name, channel, audience, tags in (("flu", "sms", "parents", ["flu"]),
                                          ("bus", "letter", "older people", ["travel"]),
                                          ("gp", "sms", "parents", ["gp", "flu"]),
                                          ("jab", "poster", "", [])):
        made[name] = comms.create_message(store, comm, title=f"About {name}",
                                          source_text=f"Come to the {name} clinic.",
                                          channel=channel, audience=audience, tags=tags)["id"]
    comms.translate_messages(store, comm, [made["flu"], made["bus"], made["gp"]], ["ur", "bn"])
    comms.approve_translation(store, reviewer, made["bus"], "ur")
    comms.request_human(store, comm, made["bus"], ["so"])
    comms.edit_message(store, comm, made["gp"], source_text="Come to the GP surgery.")
    survey = surveys.create_survey(store, comm, title="S", purpose="p", base_language="en",
                                   questions=[{"kind": "open", "name": "q1", "text": "Why?"}])
    made["question"] = survey["questions"][0]["message_id"]
    return made


def ids(rows) -> list[int]:
    return [r["id"] for r in rows]


def test_the_message_list_filters_in_sql_and_leaves_survey_words_out(store, people, messages):
    m = messages
    assert ids(listing.message_page(store)) == [m["jab"], m["gp"], m["bus"], m["flu"]]
    assert listing.count_messages(store) == 4
    assert ids(listing.message_page(store, MessageFilters(kind="survey"))) == [m["question"]]
    assert listing.count_messages(store, MessageFilters(kind="all")) == 5
    by = lambda **f: ids(listing.message_page(store, MessageFilters(**f)))  # noqa: E731
    assert by(channel="sms") == [m["gp"], m["flu"]]
    assert by(audience="parents") == [m["gp"], m["flu"]]
    assert by(tag="flu") == [m["gp"], m["flu"]]
    assert by(owner_id=people["communicator"][0].id) == [m["jab"], m["gp"], m["bus"], m["flu"]]
    assert by(owner_id=people["admin"][0].id) == []
    assert by(stale_only=True) == [m["gp"]]
    assert by(language="ur", status="approved") == [m["bus"]]
    assert by(language="ur", status="stale") == [m["gp"]]
    assert by(status="human_requested") == [m["bus"]]
    assert by(language="ur", status="machine") == [m["flu"]]
    # No Urdu yet, with a pack: `none`; Somali has no pack, so `no path` (bus's is asked for).
    assert by(language="ur", status="none") == [m["jab"]]
    assert by(language="so", status="no_path") == [m["jab"], m["gp"], m["flu"]]
    assert by(language="so", status="none") == []


def test_each_row_has_its_status_per_language_with_stale_for_an_old_version(store, messages):
    rows = {r["id"]: r for r in listing.message_page(store)}
    assert rows[messages["gp"]]["statuses"] == {"ur": "stale", "bn": "stale"}
    assert rows[messages["bus"]]["statuses"] == {"ur": "approved", "bn": "machine",
                                                 "so": "human_requested"}
    paths = listing.machine_paths(store)
    assert listing.cell_state(rows[messages["jab"]], "ur", paths) == "none"
    assert listing.cell_state(rows[messages["jab"]], "so", paths) == "no_path"


def test_coverage_totals_count_every_state_per_language(store, people, messages):
    totals = listing.coverage_totals(store)
    assert totals["ur"] == {"machine": 1, "needs_review": 0, "approved": 1,
                            "human_requested": 0, "received": 0, "stale": 1, "none": 1,
                            "no_path": 0}
    assert totals["so"]["human_requested"] == 1 and totals["so"]["no_path"] == 3
    assert totals["pl"]["none"] == 4        # a copy pack en->pl is installed
    assert sum(totals["ti"].values()) == 4 and totals["ti"]["no_path"] == 4
    assert listing.map_languages(store)[:3] == ["ur", "pa-Guru", "pa-Arab"]
    # A language outside the region's list joins the map once a message is in it.
    assert "sw" not in listing.map_languages(store)
    comms.request_human(store, people["communicator"][0], messages["jab"], ["sw"])
    assert listing.map_languages(store)[-1] == "sw"
    assert listing.coverage_totals(store, MessageFilters(channel="sms"))["ur"]["machine"] == 1


def test_the_live_check_reads_unsaved_words(store):
    report = comms.check_text(store, "Prior to your jab, call NHS 111 or 0121 496 0123. "
                                     "Your letter was sent by the surgery.")
    kinds = {f["kind"]: f for f in report["findings"]}
    assert kinds["jargon"]["text"] == "Prior to" and kinds["jargon"]["suggestion"] == "say 'before'"
    assert kinds["passive_voice"]["text"] == "was sent"
    assert {p["kind"] for p in report["placeholders"]} >= {"term", "phone"}
    assert report["sms"]["encoding"] == "GSM-7"


def test_glossary_terms_are_removed_with_an_audit_entry(store, people):
    comm = people["communicator"][0]
    comms.add_glossary_term(store, comm, "Pharmacy First")
    comms.add_glossary_term(store, comm, "GP", language_tag="ur", translation="جی پی")
    comms.remove_glossary_term(store, comm, "GP", language_tag="ur")
    comms.remove_glossary_term(store, comm, "Pharmacy First")
    assert [g for g in comms.list_glossary(store) if g["note"] != "built in"] == []
    [entry] = [e for e in audit.entries(store.conn, limit=50) if e["action"] == "glossary.remove"
               and e["entity_id"] == "GP"]
    assert entry["before"]["translation"] == "جی پی"
    with pytest.raises(NotFound):
        comms.remove_glossary_term(store, comm, "Pharmacy First")
    with pytest.raises(Conflict, match="built-in"):
        comms.remove_glossary_term(store, comm, "NHS")
    with pytest.raises(Forbidden):
        comms.remove_glossary_term(store, people["reviewer"][0], "NHS", language_tag="ur")


@pytest.fixture
def survey(store, people):
    comm = people["communicator"][0]
    return surveys.create_survey(store, comm, title="Clinic", purpose="Hear people",
                                 base_language="en", target_languages=["ur"], questions=[
        {"kind": "consent", "name": "consent", "text": "Do you agree?"},
        {"kind": "single_choice", "name": "how", "text": "How did you come?",
         "options": {"choices": [{"value": "bus", "label": "By bus"},
                                 {"value": "walk", "label": "On foot"}]},
         "texts": {"ur": "آپ کیسے آئے؟"}},
        {"kind": "integer", "name": "age", "text": "How old are you?"}])


def test_edit_a_question_and_its_translations_go_stale(store, people, survey):
    comm = people["communicator"][0]
    how = survey["questions"][1]
    edited = surveys.edit_question(store, comm, how["id"], text="How did you get here?",
                                   options={"choices": [{"value": "bus", "label": "On a bus"},
                                                        {"value": "car", "label": "By car"}]})
    assert edited["text"] == "How did you get here?"
    assert edited["texts"]["ur"]["status"] == "stale"
    assert set(edited["labels"]) == {"choice:bus", "choice:car"}
    message = comms.get_message(store, edited["labels"]["choice:bus"]["message_id"])
    assert message["source_text"] == "On a bus" and message["version"] == 2
    changed = surveys.edit_question(store, comm, survey["questions"][2]["id"], kind="scale",
                                    options={"min": 1, "max": 5, "labels": {"1": "Bad"}})
    assert changed["kind"] == "scale" and list(changed["labels"]) == ["scale:1"]
    assert [e["action"] for e in audit.entries(store.conn, limit=5)].count("question.edit") == 2
    with pytest.raises(Forbidden):
        surveys.edit_question(store, people["reviewer"][0], how["id"], text="x")


def test_reorder_questions_and_nothing_changes_once_answers_exist(store, people, survey):
    comm, collector = people["communicator"][0], people["collector"][0]
    consent, how, age = (q["id"] for q in survey["questions"])
    moved = surveys.move_question(store, comm, age, -1)
    assert [q["id"] for q in moved["questions"]] == [consent, age, how]
    moved = surveys.move_question(store, comm, consent, 5)
    assert [q["id"] for q in moved["questions"]] == [age, how, consent]
    assert [q["position"] for q in moved["questions"]] == [1, 2, 3]
    surveys.open_language(store, comm, survey["id"], "en")
    surveys.start_session(store, collector, survey["id"], "en")
    with pytest.raises(Conflict, match="collection sessions"):
        surveys.move_question(store, comm, age, 1)
    with pytest.raises(Conflict, match="collection sessions"):
        surveys.edit_question(store, comm, how, text="Why?")
    # In a new version it can change, and the earlier version keeps its words.
    surveys.new_version(store, comm, survey["id"])
    new_how = next(q for q in surveys.get_survey(store, survey["id"])["questions"]
                   if q["name"] == "how")
    surveys.edit_question(store, comm, new_how["id"], text="How did you travel?",
                          options={"choices": [{"value": "bus", "label": "Bus"}]})
    old = surveys.get_survey(store, survey["id"], version=1)
    old_how = next(q for q in old["questions"] if q["name"] == "how")
    assert comms.get_message(store, old_how["message_id"])["source_text"] == "How did you come?"
    assert surveys.get_question(store, old_how["id"])["labels"]["choice:bus"]["message_id"] != \
        surveys.get_question(store, new_how["id"])["labels"]["choice:bus"]["message_id"]


def test_collect_links_on_the_command_line(capsys, settings, store, people):
    from cohear.cli import main
    data = ["--data-dir", str(settings.data_dir)]
    assert main(data + ["collect", "link", "test-collector"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "link 1 for test-collector" in out
    assert "http://127.0.0.1:8000/collect/#link=cl_" in out.replace("\n", "")
    # A loopback address (public_url unset) is said to be one, with the way to fix it.
    err = captured.err.replace("\n", " ")
    assert "only works on this computer" in err and "COHEAR_PUBLIC_URL" in err
    assert main(data + ["collect", "list"]) == 0
    listed = capsys.readouterr().out
    assert "waiting" in listed and "cl_" not in listed
    assert main(data + ["collect", "withdraw", "1"]) == 0
    assert "withdrawn" in capsys.readouterr().out
    assert main(data + ["collect", "withdraw", "1"]) == 1
    assert "already withdrawn" in capsys.readouterr().err
    assert main(data + ["collect", "link", "test-reviewer"]) == 1
    assert "links are for collectors" in capsys.readouterr().err


def test_a_link_under_the_public_url_carries_no_note(capsys, settings, store, people,
                                                      monkeypatch):
    from cohear.cli import main
    monkeypatch.setenv("COHEAR_PUBLIC_URL", "https://cohear.example.nhs.uk")
    assert main(["--data-dir", str(settings.data_dir), "collect", "link",
                 "test-collector"]) == 0
    captured = capsys.readouterr()
    assert "https://cohear.example.nhs.uk/collect/#link=cl_" in captured.out.replace("\n", "")
    assert "public_url" not in captured.err
