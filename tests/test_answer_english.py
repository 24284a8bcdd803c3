"""Every answer a reviewer reads has an English they can understand, or says why not:
typed answers are rendered by the translation engine in a queued job (queued again for
waiting answers when a pack arrives later), a human translation can be requested and is
entered by a reviewer (audited), and after a correction the English is rendered again or
marked out of date, in the service and the API."""

from __future__ import annotations

import json

import pytest

from cohear import audit
from cohear.cli import main
from cohear.jobs import JobQueue
from speech import service as speech
from surveys import english, views
from surveys import service as surveys

URDU = "بس بہت دیر سے آئی اور میں ڈاکٹر سے نہیں مل سکی"


def run_queued(store, kind: str) -> list[dict]:
    """Run every queued job of `kind` here and now, as a worker would."""
    queue = JobQueue(store)
    ran = []
    for row in store.all("SELECT id FROM jobs WHERE kind = ? AND status = 'queued' "
                         "ORDER BY id", (kind,)):
        assert queue.run_job(row["id"], owner="test") == "done"
        ran.append(queue.get(row["id"]))
    return ran


def typed_urdu(store, ws, text: str = URDU) -> int:
    collector = ws["users"]["collector"]
    session = surveys.start_session(store, collector, ws["survey"], "ur")
    surveys.record_consent(store, collector, session["id"], method="tick")
    return surveys.submit_answer(store, collector, session["id"], ws["question"],
                                 text=text)["id"]


def state(store, answer_id: int, viewer) -> dict:
    return english.english_state(store, views.reading_view(store, answer_id, viewer))


def test_a_typed_answer_is_rendered_in_english_by_a_queued_job(store, review_workspace,
                                                               copy_packs):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    answer_id = typed_urdu(store, ws)
    before = state(store, answer_id, reviewer)
    assert before["state"] == "queued" and before["machine_translation"]
    [job] = run_queued(store, english.ENGLISH_JOB)
    assert job["result"]["answer_ids"] == [answer_id]
    assert URDU not in str(job["payload"]) + str(job["result"])   # ids only, never words
    after = state(store, answer_id, reviewer)
    assert after["state"] == "current" and after["made_by"].startswith("argos:translate-ur_en")
    view = views.reading_view(store, answer_id, reviewer)
    assert view["texts"]["english"].text == URDU          # the copy pack copies its input
    assert [e for e in audit.entries(store.conn, entity="answer", entity_id=answer_id)
            if e["action"] == "answer.english"]


def test_a_correction_makes_the_english_out_of_date_until_it_is_rendered_again(
        store, review_workspace, copy_packs):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    answer_id = typed_urdu(store, ws)
    run_queued(store, english.ENGLISH_JOB)
    corrected = URDU.replace("بہت ", "")
    surveys.add_text_version(store, reviewer, answer_id, corrected)
    assert state(store, answer_id, reviewer)["state"] == "queued"
    store.conn.execute("UPDATE jobs SET status = 'cancelled' WHERE kind = ?",
                       (english.ENGLISH_JOB,))                 # a worker has not run yet
    assert state(store, answer_id, reviewer)["state"] == "out_of_date"
    english.queue_english(store, [answer_id])
    run_queued(store, english.ENGLISH_JOB)
    fresh = state(store, answer_id, reviewer)
    assert fresh["state"] == "current" and fresh["of_version"] == 2
    assert views.reading_view(store, answer_id, reviewer)["texts"]["english"].text == corrected


def test_without_a_pack_a_human_translation_is_requested_and_entered_by_a_reviewer(
        store, review_workspace, settings, monkeypatch, capsys):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    answer_id = typed_urdu(store, ws)
    assert store.one("SELECT count(*) FROM jobs WHERE kind = ?", (english.ENGLISH_JOB,))[0] == 0
    first = state(store, answer_id, reviewer)
    assert first["state"] == "none" and not first["machine_translation"]
    assert first["request"] is None
    request = english.request_translation(store, reviewer, answer_id, "Mirpuri")
    assert request["status"] == "open" and request["of_version"] == 1
    assert [r["answer_id"] for r in english.list_requests(store, reviewer)] == [answer_id]
    monkeypatch.setenv("COHEAR_DATA_DIR", str(settings.data_dir))
    assert main(["surveys", "translation-requests"]) == 0
    assert "Mirpuri" in capsys.readouterr().out
    with pytest.raises(Exception, match="already requested"):
        english.request_translation(store, reviewer, answer_id)
    english.set_english(store, reviewer, answer_id,
                        "The bus was very late and I could not see the doctor")
    done = english.get_request(store, request["id"])
    assert done["status"] == "done" and done["done_by"] == reviewer.id
    now = state(store, answer_id, reviewer)
    assert now["state"] == "current" and now["made_by"] == "a reviewer"
    [entry] = [e for e in audit.entries(store.conn, entity="answer", entity_id=answer_id)
               if e["action"] == "answer.text"]
    assert entry["actor_name"] == reviewer.name
    assert entry["after"]["rendering"] == "english"
    assert english.list_requests(store, reviewer) == []


def test_a_pack_installed_later_renders_the_answers_that_were_waiting(
        store, review_workspace, copy_pack_files):
    from language_packs.packs import install
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    waiting = typed_urdu(store, ws)
    assert state(store, waiting, reviewer)["state"] == "none"
    install(store, copy_pack_files[("ur", "en")])
    assert state(store, waiting, reviewer)["state"] == "queued"
    run_queued(store, english.ENGLISH_JOB)
    assert state(store, waiting, reviewer)["state"] == "current"


def test_a_corrected_transcript_is_marked_out_of_date_then_rendered_from_its_words(
        store, review_workspace, copy_pack_files):
    """The English panel kept the machine's English of the old words after a correction."""
    from language_packs.packs import install
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    rid = ws["recording"]
    machine = speech.transcript(store, rid, reviewer)
    assert not machine["english_stale"] and machine["english"]["engine"] == "argos"
    corrected = speech.correct(store, rid, reviewer, segments=[
        {"index": 1, "text": "بس دیر سے آئی"}], base_version=1)
    # No pack here: nothing can render the new words, so the old English is marked.
    assert corrected["english_stale"] and corrected["english_of_version"] == 1
    assert store.one("SELECT count(*) FROM jobs WHERE kind = ?", (speech.ENGLISH_JOB,))[0] == 0
    surveys.add_text_version(store, reviewer, ws["urdu"], corrected["text"])
    assert state(store, ws["urdu"], reviewer)["state"] == "out_of_date"
    # The pack arrives: the corrected words are rendered, and the answer picks it up.
    install(store, copy_pack_files[("ur", "en")])
    [job] = run_queued(store, speech.ENGLISH_JOB)
    assert job["result"]["rendered"]
    fresh = speech.transcript(store, rid, reviewer)
    assert not fresh["english_stale"] and fresh["english"]["text"] == corrected["text"]
    surveys.sync_pending_transcripts(store)
    assert state(store, ws["urdu"], reviewer)["state"] == "current"


def test_a_reviewers_english_with_the_correction_is_current_at_once(store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    done = speech.correct(store, ws["recording"], reviewer, text="بس دیر سے آئی",
                          english="The bus came late.")
    assert not done["english_stale"]
    assert done["english"] == {"engine": "reviewer", "text": "The bus came late."}


def test_the_api_says_which_english_there_is_and_takes_requests(api, live_server, people):
    store = live_server.app.state.store
    comm, collector = people["communicator"][0], people["collector"][0]
    survey = surveys.create_survey(store, comm, title="Bus", purpose="Getting there",
                                   base_language="en", target_languages=["ur"], questions=[
                                       {"kind": "consent", "name": "consent", "text": "Agree?"},
                                       {"kind": "open", "name": "trip", "text": "How?"}])
    surveys.open_language(store, comm, survey["id"], "ur", accept_english=True)
    session = surveys.start_session(store, collector, survey["id"], "ur")
    surveys.record_consent(store, collector, session["id"], method="tick")
    answer = surveys.submit_answer(store, collector, session["id"], survey["questions"][1]["id"],
                                   text=URDU + " 07700 900123")
    url = f"/api/answers/{answer['id']}/english"
    body = api["reviewer"].get(url).json()
    assert body["state"] == "none" and body["machine_translation"] is False
    r = api["reviewer"].post(f"/api/answers/{answer['id']}/translation-request",
                             json={"note": "urgent"})
    assert r.status_code == 201, r.text
    assert api["researcher"].post(f"/api/answers/{answer['id']}/translation-request",
                                  json={}).status_code == 403
    listed = api["reviewer"].get("/api/translation-requests").json()
    assert [x["answer_id"] for x in listed] == [answer["id"]]
    r = api["reviewer"].post(f"/api/answers/{answer['id']}/texts",
                             json={"text": "The bus was late. Call 07700 900123",
                                   "rendering": "english"})
    assert r.status_code == 201, r.text
    assert api["reviewer"].get("/api/translation-requests").json() == []
    assert api["reviewer"].get(url).json()["state"] == "current"
    # A researcher reads the English redacted, and not the staff's note.
    seen = api["researcher"].get(url).json()
    assert "07700" not in seen["text"] and "[phone]" in seen["text"]


def test_withdrawal_removes_translation_requests(store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    answer_id = typed_urdu(store, ws)
    english.request_translation(store, reviewer, answer_id, "please")
    respondent = store.one("SELECT respondent_id FROM answers WHERE id = ?", (answer_id,))[0]
    report = surveys.withdraw_consent(store, reviewer, respondent)
    assert report["deleted"]["translation_requests"] == 1
    assert store.one("SELECT count(*) FROM translation_requests")[0] == 0


def test_a_correction_where_a_pack_can_render_it_queues_its_english_for_that_version(
        store, review_workspace, copy_pack_files):
    """With the language's pack installed, the corrected words are queued for English at
    once: the job names the recording and the new version, and who asked for it."""
    from language_packs.packs import install
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    install(store, copy_pack_files[("ur", "en")])
    corrected = speech.correct(store, ws["recording"], reviewer, segments=[
        {"index": 1, "text": "بس دیر سے آئی"}], base_version=1)
    assert corrected["english_stale"]
    [queued] = store.all("SELECT payload_json, created_by FROM jobs WHERE kind = ?", (speech.ENGLISH_JOB,))
    assert json.loads(queued["payload_json"]) == {"recording_id": ws["recording"], "version": 2}
    assert queued["created_by"] == reviewer.id
    [job] = run_queued(store, speech.ENGLISH_JOB)
    assert job["result"]["rendered"]
    fresh = speech.transcript(store, ws["recording"], reviewer)
    assert not fresh["english_stale"] and fresh["english"]["text"] == corrected["text"]
