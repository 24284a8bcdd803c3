"""A voice answer or a spoken consent still arriving when its respondent withdraws, or
when its leader discards the (empty) session, is refused with a clear problem and leaves
nothing behind: no answer, no recording, no audio file, no transcription job. The race
is made to happen, not hoped for: a hook between storing the recording and the write
holds the upload there while the withdrawal or the discard runs to its end, over HTTP on
a real server (as a tester did from the field page) and through the service.

Recordings that surveys stored and nothing came to use (a crash at that moment) are
listed by `cohear db check` and removed by `--repair` after the grace period; a
recording uploaded on its own is listed, never removed."""

from __future__ import annotations

import io
import threading

import httpx
import pytest

from cohear.errors import Conflict, NotFound
from tests.conftest import LiveServer
from tests.test_crash_safety import variants


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def survey(store, users) -> dict:
    from surveys import service
    s = service.create_survey(store, users["communicator"], title="Races", purpose="p",
                              base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "voice", "text": "Say it"},
                                  {"kind": "single_choice", "name": "bus", "text": "Bus?",
                                   "options": {"choices": ["yes", "no"]}}])
    service.open_language(store, users["communicator"], s["id"], "en")
    return {q["name"]: q["id"] for q in s["questions"]} | {"id": s["id"]}


def session_with(store, collector, survey, *, consent: bool, answered: bool) -> dict:
    from surveys import service
    session = service.start_session(store, collector, survey["id"], "en")
    if consent:
        service.record_consent(store, collector, session["id"], method="tick")
    if answered:
        service.submit_answer(store, collector, session["id"], survey["bus"], choices=["yes"])
    return session


class HoldAfterIngest:
    """Replaces `links.store_recording` (the step that stores the audio): after the real
    one returns, the request waits there until released, so a withdrawal or a discard
    runs between storing the recording and writing the answer."""

    def __init__(self, monkeypatch):
        from surveys import links
        self.real = links.store_recording
        self.stored = threading.Event()
        self.release = threading.Event()
        self.ids: list[int] = []
        monkeypatch.setattr(links, "store_recording", self)

    def __call__(self, *args, **kwargs):
        stored = self.real(*args, **kwargs)
        self.ids.append(stored.id)
        self.stored.set()
        assert self.release.wait(120), "the test never released the upload"
        return stored


def in_thread(fn) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - looked at by the test
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    return t, out


def nothing_left(store, recording_id: int) -> None:
    """The recording, its audio files, its note in survey_recordings and any job for it
    are gone; no blob file is left that no row owns."""
    assert store.one("SELECT count(*) FROM recordings WHERE id = ?", (recording_id,))[0] == 0
    assert store.one("SELECT count(*) FROM survey_recordings")[0] == 0
    assert store.one("SELECT count(*) FROM recording_jobs")[0] == 0
    assert store.one("SELECT count(*) FROM jobs WHERE kind = 'speech.transcribe'")[0] == 0
    known = {r[0] for r in store.all("SELECT sha256 FROM blobs")}
    on_disk = {sha for sha, _ in store.blobs.iter_files()}
    assert on_disk <= known, f"audio files no row owns: {sorted(on_disk - known)}"
    assert store.check()["orphan_recordings"] == []


# -- over HTTP, as the field page sends them ------------------------------------------------

def collect_answer(url: str, token: str, session_id: int, question_id: int, audio: bytes,
                   key: str) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=120,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        return c.post(f"/collect/api/sessions/{session_id}/answers",
                      data={"question_id": question_id},
                      files={"audio": ("a.wav", audio, "audio/wav")},
                      headers={"Idempotency-Key": key})


def test_a_voice_answer_arriving_during_a_withdrawal_is_refused_and_leaves_nothing(
        settings, store, people, users, survey, monkeypatch):
    collector, token = people["collector"]
    session = session_with(store, collector, survey, consent=True, answered=True)
    hold = HoldAfterIngest(monkeypatch)
    with LiveServer(settings, start_worker=False) as server:
        t, out = in_thread(lambda: collect_answer(server.url, token, session["id"],
                                                  survey["voice"], variants(1)[0],
                                                  "race-withdraw-1"))
        assert hold.stored.wait(120), out
        with server.client(token) as c:
            withdrawn = c.post(f"/api/sessions/{session['id']}/withdraw")
        hold.release.set()
        t.join(120)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["deleted"]["answers"] == 1     # the choice answered before
    answer = out["value"]
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "respondent-withdrawn" and problem["fix"]
    assert store.one("SELECT count(*) FROM answers WHERE respondent_id = ?",
                     (session["respondent_id"],))[0] == 0
    nothing_left(store, hold.ids[0])


def test_a_voice_answer_arriving_as_its_empty_session_is_discarded_is_a_404_not_a_500(
        settings, store, people, users, survey, monkeypatch):
    collector, token = people["collector"]
    session = session_with(store, collector, survey, consent=True, answered=False)
    hold = HoldAfterIngest(monkeypatch)
    with LiveServer(settings, start_worker=False) as server:
        t, out = in_thread(lambda: collect_answer(server.url, token, session["id"],
                                                  survey["voice"], variants(1)[0],
                                                  "race-discard-1"))
        assert hold.stored.wait(120), out
        with server.client(token) as c:
            discarded = c.delete(f"/collect/api/sessions/{session['id']}")
        hold.release.set()
        t.join(120)
    assert discarded.status_code == 200, discarded.text
    answer = out["value"]
    assert answer.status_code == 404, answer.text
    problem = answer.json()
    assert "discarded" in problem["detail"] and problem["fix"]
    assert store.one("SELECT count(*) FROM answers")[0] == 0
    assert store.one("SELECT count(*) FROM survey_sessions WHERE id = ?",
                     (session["id"],))[0] == 0
    nothing_left(store, hold.ids[0])


# -- through the service (the CLI, the TUI and the API all call it) -------------------------

@pytest.mark.parametrize("removal", ["withdraw", "discard"])
def test_a_spoken_consent_arriving_during_a_removal_is_refused_and_leaves_nothing(
        store, users, survey, monkeypatch, removal):
    from surveys import service
    collector = users["collector"]
    session = session_with(store, collector, survey, consent=False, answered=False)
    hold = HoldAfterIngest(monkeypatch)
    t, out = in_thread(lambda: service.record_consent(
        store, collector, session["id"], method="verbal_recording",
        recording=io.BytesIO(variants(1)[0]), filename="consent.wav",
        content_type="audio/wav"))
    assert hold.stored.wait(120), out
    remover, done = in_thread(
        (lambda: service.withdraw_consent(store, collector, session["respondent_id"]))
        if removal == "withdraw" else
        (lambda: service.discard_session(store, collector, session["id"])))
    remover.join(120)
    assert "error" not in done, done
    hold.release.set()
    t.join(120)
    error = out.get("error")
    if removal == "withdraw":
        assert isinstance(error, Conflict) and error.code == "respondent-withdrawn", out
    else:
        assert isinstance(error, NotFound) and "discarded" in error.detail, out
    assert store.one("SELECT count(*) FROM consents WHERE recording_id IS NOT NULL")[0] == 0
    nothing_left(store, hold.ids[0])


def test_a_typed_answer_during_a_withdrawal_is_refused_too(store, users, survey, monkeypatch):
    """No recording to wait for, but the same re-check under the write lock: the hook
    here sits in the last step before the write (the safeguarding keyword check)."""
    from surveys import service
    collector = users["collector"]
    session = session_with(store, collector, survey, consent=True, answered=False)
    reached, release = threading.Event(), threading.Event()
    real = service.keyword_hits

    def held(*args):
        reached.set()
        assert release.wait(120)
        return real(*args)

    monkeypatch.setattr(service, "keyword_hits", held)
    t, out = in_thread(lambda: service.submit_answer(store, collector, session["id"],
                                                     survey["bus"], choices=["no"]))
    assert reached.wait(120)
    service.withdraw_consent(store, users["reviewer"], session["respondent_id"])
    release.set()
    t.join(120)
    assert isinstance(out.get("error"), Conflict), out
    assert out["error"].code == "respondent-withdrawn"
    assert store.one("SELECT count(*) FROM answers")[0] == 0


def test_a_withdrawal_just_after_the_answer_was_saved_takes_it_and_says_so(
        store, users, survey, monkeypatch):
    """The other order: the answer is saved, then the respondent withdraws before its
    transcription is queued. The withdrawal's counts include it, nothing of it stays,
    and the request says what happened (409), not that a recording is missing."""
    from surveys import links, service
    collector = users["collector"]
    session = session_with(store, collector, survey, consent=True, answered=False)
    real, reports = links.queue_transcription, []

    def withdrawn_first(*args, **kwargs):
        reports.append(service.withdraw_consent(store, users["reviewer"],
                                                session["respondent_id"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(links, "queue_transcription", withdrawn_first)
    with pytest.raises(Conflict) as refused:
        service.submit_answer(store, collector, session["id"], survey["voice"],
                              audio=io.BytesIO(variants(1)[0]), filename="a.wav",
                              content_type="audio/wav")
    assert refused.value.code == "respondent-withdrawn"
    assert reports[0]["deleted"]["answers"] == 1 and reports[0]["deleted"]["recordings"] == 1
    assert store.one("SELECT count(*) FROM answers")[0] == 0
    assert store.one("SELECT count(*) FROM recordings")[0] == 0
    assert store.one("SELECT count(*) FROM jobs WHERE kind = 'speech.transcribe'")[0] == 0


def test_a_refused_answer_keeps_a_recording_that_was_already_there(store, users, survey):
    """The same bytes sent again for a withdrawn respondent: the recording they name is
    the one an earlier answer uses, and it stays."""
    from surveys import service
    collector = users["collector"]
    audio = variants(1)[0]
    first = session_with(store, collector, survey, consent=True, answered=False)
    kept = service.submit_answer(store, collector, first["id"], survey["voice"],
                                 audio=io.BytesIO(audio), filename="a.wav",
                                 content_type="audio/wav")
    other = session_with(store, collector, survey, consent=True, answered=True)
    service.withdraw_consent(store, collector, other["respondent_id"])
    with pytest.raises(Conflict) as refused:
        service.submit_answer(store, collector, other["id"], survey["voice"],
                              audio=io.BytesIO(audio), filename="a.wav",
                              content_type="audio/wav")
    assert refused.value.code == "respondent-withdrawn"
    assert store.one("SELECT count(*) FROM recordings WHERE id = ?",
                     (kept["recording_id"],))[0] == 1


# -- recordings a crash left behind ---------------------------------------------------------

def test_db_check_lists_recordings_no_answer_uses_and_repair_removes_them_after_grace(
        store, users, survey, capsys, monkeypatch):
    """A crash between storing a voice answer's recording and saving the answer leaves a
    recording of no one; `db check` lists it, `--repair` removes it once it is older than
    the grace period, and never a recording uploaded on its own."""
    from cohear.cli import main
    from speech import service as speech
    from surveys import links
    collector = users["collector"]
    one, two, own = variants(3)
    left = [links.store_recording(store, io.BytesIO(audio), filename="a.wav",
                                  content_type="audio/wav", uploaded_by=collector,
                                  language_hint="en") for audio in (one, two)]
    standalone = speech.ingest(store, io.BytesIO(own), filename="mine.wav",
                               content_type="audio/wav", uploaded_by=collector)
    used = session_with(store, collector, survey, consent=True, answered=False)
    with store.transaction() as conn:  # one of them came to be used after all
        conn.execute("UPDATE consents SET recording_id = ? WHERE session_id = ?",
                     (left[1].id, used["id"]))
    report = store.check()
    assert report["ok"] and report["orphan_recordings"] == [left[0].id]
    assert report["unattached_recordings"] == [standalone.id]
    # Young: a request may be about to save its answer, so repair leaves it.
    assert store.check(repair=True)["recordings_removed"] == []
    assert store.one("SELECT count(*) FROM recordings WHERE id = ?", (left[0].id,))[0] == 1
    with store.transaction() as conn:  # two hours later
        conn.execute("UPDATE recordings SET created_at = '2001-01-01T00:00:00.000000Z'")
    monkeypatch.setenv("COHEAR_DATA_DIR", str(store.settings.data_dir))
    assert main(["db", "check"]) == 0
    out = capsys.readouterr().out
    assert f"recordings of answers or consents never saved: 1 ({left[0].id})" in out
    assert f"(kept): 1 ({standalone.id})" in out
    shas = store.one("SELECT original_sha256, normalised_sha256 FROM recordings WHERE id = ?",
                     (left[0].id,))
    assert main(["db", "check", "--repair"]) == 0
    assert f"removed: 1 ({left[0].id})" in capsys.readouterr().out
    assert store.one("SELECT count(*) FROM recordings WHERE id = ?", (left[0].id,))[0] == 0
    assert not any(store.blobs.path(sha).exists() for sha in shas)
    assert store.one("SELECT count(*) FROM recordings WHERE id IN (?, ?)",
                     (left[1].id, standalone.id))[0] == 2
    assert store.one("SELECT count(*) FROM audit_log WHERE action = 'recording.discard' "
                     "AND entity_id = ?", (str(left[0].id),))[0] == 1
    assert store.check()["orphan_recordings"] == []


def test_the_migration_notes_the_recordings_surveys_already_use(tmp_path, monkeypatch):
    """A database from before: recordings that answers and consents use are noted as
    theirs; one nothing uses cannot be told from an upload of its own and is kept."""
    from cohear import store as store_module
    from cohear.auth import create_user
    from speech import service as speech
    from surveys import service
    from tests.conftest import make_settings
    every = store_module.discover_migrations()
    monkeypatch.setattr(store_module, "discover_migrations",
                        lambda: [m for m in every if m.key != "surveys/0014"])
    old = store_module.Store(make_settings(tmp_path / "data"))
    old.migrate()
    comm, _ = create_user(old, "comm", "communicator")
    collector, _ = create_user(old, "coll", "collector")
    s = service.create_survey(old, comm, title="Old", purpose="p", base_language="en",
                              questions=[{"kind": "consent", "name": "consent", "text": "OK?"},
                                         {"kind": "open", "name": "voice", "text": "Say"}])
    service.open_language(old, comm, s["id"], "en")
    session = service.start_session(old, collector, s["id"], "en")
    a, b, c = variants(3)
    original_ingest = speech.ingest

    def ingest_as_before(*args, on_stored=None, **kwargs):  # the old code noted nothing
        return original_ingest(*args, **kwargs)

    monkeypatch.setattr(speech, "ingest", ingest_as_before)
    consent = service.record_consent(old, collector, session["id"], method="verbal_recording",
                                     recording=io.BytesIO(a), filename="c.wav",
                                     content_type="audio/wav")
    answer = service.submit_answer(old, collector, session["id"], s["questions"][1]["id"],
                                   audio=io.BytesIO(b), filename="v.wav",
                                   content_type="audio/wav")
    loose = speech.ingest(old, io.BytesIO(c), filename="x.wav", content_type="audio/wav",
                          uploaded_by=collector)
    old.close()
    monkeypatch.setattr(store_module, "discover_migrations", lambda: every)
    new = store_module.Store(make_settings(tmp_path / "data"))
    assert new.migrate() == ["surveys/0014_survey_recordings"]
    assert {tuple(r) for r in new.all("SELECT recording_id, purpose FROM survey_recordings")} \
        == {(consent["recording_id"], "consent"), (answer["recording_id"], "answer")}
    report = new.check(repair=True, grace_seconds=0)
    assert report["orphan_recordings"] == [] and report["unattached_recordings"] == [loose.id]
    new.close()
