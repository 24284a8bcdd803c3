"""Withdrawal removes a respondent from everything cohear wrote: every table (answers and
their versions, words, codings of both kinds, memos, redactions, safeguarding notes,
English renderings, recordings, transcripts, contact details), the audio files, earlier
export files, unfinished field-page uploads, job records, the audit log's words, the
WAL file and the server's log, and says what it removed. Another respondent's data
(the control) stays whole, which also shows the searches below can find what they look
for."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest

from cohear.errors import Conflict
from cohear.jobs import JobQueue
from cohear.store import Store
from speech.transcribe import LanguageFinding, Segment, Transcription
from tests.conftest import DEMO_DATA, REPO, free_port, make_settings
from tests.test_crash_safety import variants

# What respondent A said or gave, as planted tokens: none may survive their withdrawal.
A_WORDS = {
    "typed": "Brinwhistle said the bus never comes",
    "typed_again": "Actually Brinwhistle walks with Quorvane",
    "english": "In English Zephlarch means the clinic",
    "machine": "Mossgrove clinic is closed on Fridays",
    "machine_english": "Mossgrove translated Kettlebrand",
    "correction": "Mossgrove clinic Vendrayle corrected",
    "memo": "Memo about Oskerfell",
    "safeguarding": "Worried about Tremaine Halvorsk",
    "handled": "Called Halvorsk back on Tuesday",
    "contact": "Pellinore Drabwick 07700 900462 pd@example.org",
    "phone": "07700 900462",
}
A_TOKENS = ("Brinwhistle", "Quorvane", "Zephlarch", "Mossgrove", "Kettlebrand", "Vendrayle",
            "Oskerfell", "Halvorsk", "Drabwick", "900462", "pd@example.org")
B_TOKENS = ("Fennimore", "Glaswick")  # the control respondent's


@pytest.fixture
def users(people):
    return {role: user for role, (user, _) in people.items()}


def make_survey(store, users) -> dict:
    from surveys import service
    s = service.create_survey(store, users["communicator"], title="Withdrawal",
                              purpose="p", base_language="en", questions=[
                                  {"kind": "consent", "name": "consent", "text": "Agree?"},
                                  {"kind": "open", "name": "story", "text": "Tell us"},
                                  {"kind": "open", "name": "voice", "text": "Say it",
                                   "options": {"answer": "voice"}},
                                  {"kind": "single_choice", "name": "bus", "text": "Bus?",
                                   "options": {"choices": ["yes", "no"]}}])
    service.open_language(store, users["communicator"], s["id"], "en")
    return {q["name"]: q["id"] for q in s["questions"]} | {"survey": s["id"]}


def plant_a(store, users, q, consent_audio: bytes, voice_audio: bytes) -> dict:
    """Respondent A with everything a respondent can leave behind."""
    from speech import service as speech
    from surveys import coding, redaction, service
    collector, reviewer, researcher = users["collector"], users["reviewer"], users["researcher"]
    session = service.start_session(store, collector, q["survey"], "en",
                                    contact=A_WORDS["contact"])
    service.record_consent(store, collector, session["id"], method="verbal_recording",
                           recording=io.BytesIO(consent_audio), filename="consent.wav",
                           content_type="audio/wav")
    typed = service.submit_answer(store, collector, session["id"], q["story"],
                                  text=f"{A_WORDS['typed']}, call {A_WORDS['phone']}")
    typed = service.submit_answer(store, collector, session["id"], q["story"],
                                  text=A_WORDS["typed_again"])
    assert typed["version"] == 2
    service.add_text_version(store, reviewer, typed["id"], A_WORDS["english"],
                             rendering="english", source="translation")
    voice = service.submit_answer(store, collector, session["id"], q["voice"],
                                  audio=io.BytesIO(voice_audio), filename="voice.wav",
                                  content_type="audio/wav")
    result = Transcription(LanguageFinding("en", "en", 0.9, "en"),
                           [Segment(0, 0.0, 2.0, A_WORDS["machine"], -0.2, 0.01, 1.1)], 2.0)
    with store.transaction() as conn:
        speech.save_machine_transcript(conn, voice["recording_id"], None, result,
                                       {"argos": A_WORDS["machine_english"]}, {"model": "t"})
    speech.correct(store, voice["recording_id"], reviewer, text=A_WORDS["correction"])
    service.sync_transcript(store, voice["id"])
    # The machine English rendered the first transcript; after the correction a
    # reviewer writes the English of the corrected words (the review app's F8).
    service.add_text_version(store, reviewer, voice["id"], A_WORDS["machine_english"],
                             rendering="english", source="translation")
    service.submit_answer(store, collector, session["id"], q["bus"], choices=["yes"])

    book = coding.create_codebook(store, reviewer, "Themes", survey_id=q["survey"],
                                  codes=[{"name": "Transport"}, {"name": "Access"}])
    codes = {c["name"]: c["id"] for c in book["codes"]}
    texts = service.get_answer(store, reviewer, typed["id"])["texts"]
    coding.apply_code(store, reviewer, typed["id"], codes["Transport"],
                      answer_text_id=texts["original"]["id"], start=0, end=8)
    coding.apply_code(store, researcher, typed["id"], codes["Access"])
    coding.apply_code(store, reviewer, voice["id"], codes["Access"])
    coding.add_answer_memo(store, reviewer, typed["id"], A_WORDS["memo"])
    first_text = store.one("SELECT id FROM answer_texts WHERE answer_id = ? AND version = 1 "
                           "AND rendering = 'original'", (typed["id"],))[0]
    suggested = store.all("SELECT id FROM redactions WHERE answer_text_id = ?", (first_text,))
    assert suggested, "the phone number was not suggested for redaction"
    redaction.decide(store, reviewer, suggested[0]["id"], True)
    redaction.add_by_hand(store, reviewer, texts["english"]["id"], 12, 21)
    service.raise_safeguarding(store, reviewer, voice["id"], A_WORDS["safeguarding"])
    service.handle_safeguarding(store, reviewer, voice["id"], A_WORDS["handled"])
    return {"session": session["id"], "respondent": session["respondent_id"],
            "typed": typed["id"], "voice": voice["id"], "codebook": codes,
            "recording": voice["recording_id"]}


def plant_b(store, users, q, codes) -> dict:
    from surveys import coding, service
    collector, reviewer = users["collector"], users["reviewer"]
    session = service.start_session(store, collector, q["survey"], "en")
    service.record_consent(store, collector, session["id"], method="tick")
    typed = service.submit_answer(store, collector, session["id"], q["story"],
                                  text="Fennimore says the buses are fine")
    coding.apply_code(store, reviewer, typed["id"], codes["Transport"])
    coding.add_answer_memo(store, reviewer, typed["id"], "Glaswick memo")
    return {"session": session["id"], "typed": typed["id"]}


def distinct_recordings(n: int) -> list[bytes]:
    """n real recordings whose bytes differ throughout (the demo sentence, each at its
    own loudness), so a slice of one is found only where that one went."""
    with wave.open(str(DEMO_DATA / "flu-vaccine-en.wav")) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64)
    out = []
    for i in range(n):
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setparams(params)
            w.writeframes((samples * (0.93 - 0.07 * i)).astype("<i2").tobytes())
        out.append(buf.getvalue())
    return out


def loudest_bytes(wav: bytes, n: int = 64) -> bytes:
    """n bytes of a WAV's samples around its loudest one: found only where it went."""
    samples = np.frombuffer(wav[44:], dtype="<i2")
    at = 44 + 2 * max(16, int(np.abs(samples.astype(np.int32)).argmax()) - 16)
    return wav[at:at + n]


def every_text(store) -> str:
    """Every value of every row of every table, as text."""
    out = []
    for (table,) in store.all("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in store.all(f"SELECT * FROM {table}"):
            out.append(f"{table}: " + " | ".join(str(v) for v in tuple(row)))
    return "\n".join(out)


def table_counts(store) -> dict[str, int]:
    return {t: store.one(f"SELECT count(*) FROM {t}")[0] for (t,) in store.all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}


def test_withdrawal_with_codings_memos_redactions_and_renderings_leaves_nothing(
        store, users, tmp_path):
    from speech import service as speech
    from surveys import exports, service
    from webcollect import service as collect
    consent_audio, voice_audio, part_audio, b_part = variants(4)
    q = make_survey(store, users)
    a = plant_a(store, users, q, consent_audio, voice_audio)
    b = plant_b(store, users, q, a["codebook"])
    # An export made before the withdrawal holds A's words.
    queue = JobQueue(store)
    made = exports.request_export(store, users["researcher"], q["survey"], "csv", jobs=queue)
    assert queue.run_job(made["job_id"], "test") == "done"
    files = exports.export_files(store, made["id"], "csv")
    assert "Brinwhistle" in files[0].read_text(encoding="utf-8-sig")
    # And a second export, in another format: every file of each goes.
    made2 = exports.request_export(store, users["researcher"], q["survey"], "xlsx", jobs=queue)
    assert queue.run_job(made2["job_id"], "test") == "done"
    files2 = exports.export_files(store, made2["id"], "xlsx")
    assert files2[0].exists()
    # Unfinished field-page uploads: A's (tagged with A's session) and B's.
    collect.add_part(store, users["collector"], "part-of-a-1", 0, 9000, part_audio[:4000],
                     session_id=a["session"])
    collect.add_part(store, users["collector"], "part-of-b-1", 0, 9000, b_part[:4000],
                     session_id=b["session"])
    # A job record an older cohear wrote, whose error quoted A's words.
    with store.transaction() as conn:
        job = conn.execute("SELECT job_id FROM recording_jobs WHERE recording_id = ?",
                           (a["recording"],)).fetchone()[0]
        conn.execute("UPDATE jobs SET status = 'failed', error = ? WHERE id = ?",
                     (f"ValueError: cannot read {A_WORDS['machine']}", job))
        # An open request for a translator's English of A's voice answer, its note quoting A
        # (written here: the service asks it only for answers not in English, and A's are).
        conn.execute("INSERT INTO translation_requests (answer_id, language, of_version, note, "
                     "requested_by, requested_at) VALUES (?, 'ur', 1, ?, ?, '2024-01-01T00:00:00Z')",
                     (a["voice"], f"please check {A_WORDS['memo']}", users["reviewer"].id))
    # Transcribed again after that failure: a second job of the recording, still waiting,
    # which the answer no longer names (it names its first transcription).
    again = speech.queue_transcription(store, a["recording"], users["reviewer"], jobs=JobQueue(store))
    assert again != job
    before = table_counts(store)
    assert all(t in every_text(store) for t in A_TOKENS + B_TOKENS)

    report = service.withdraw_consent(store, users["collector"], a["respondent"])

    assert report["deleted"] == {
        "codings": 3, "memos": 1, "redactions": 2, "answer_versions": 4, "answer_texts": 5,
        "answers": 3, "contact_details": 1, "recordings": 2, "transcripts": 2,
        "audio_files": 4, "exports": 2, "job_records_scrubbed": 4, "upload_parts": 1,
        "translation_requests": 1}
    assert report["exports_removed"] == [made["id"], made2["id"]] and report["wal"] == "done"
    after = table_counts(store)
    gone = {t: before[t] - after[t] for t in before if before[t] != after[t]}
    assert gone == {"codings": 3, "answer_memos": 1, "redactions": 2, "answer_versions": 4,
                    "answer_texts": 5, "answers": 3, "respondent_contacts": 1,
                    "recordings": 2, "transcripts": 2, "transcript_segments": 2,
                    "transcript_english": 2, "recording_jobs": 2, "blobs": 4,
                    "collect_parts": 1, "survey_recordings": 2, "translation_requests": 1,
                    "audit_log": -1}, gone
    # Nothing of A's is left in any table, any column; the control's words are.
    everything = every_text(store)
    assert [t for t in A_TOKENS if t in everything] == []
    assert all(t in everything for t in B_TOKENS)
    for table, column, ids in (("answers", "id", [a["typed"], a["voice"]]),
                               ("answer_texts", "answer_id", [a["typed"], a["voice"]]),
                               ("codings", "answer_id", [a["typed"], a["voice"]]),
                               ("answer_versions", "answer_id", [a["typed"], a["voice"]]),
                               ("recordings", "id", [a["recording"]]),
                               ("transcripts", "recording_id", [a["recording"]])):
        marks = ",".join("?" * len(ids))
        assert store.one(f"SELECT count(*) FROM {table} WHERE {column} IN ({marks})",
                         tuple(ids))[0] == 0, table
    # B is whole: answer, coding, memo, part.
    assert store.one("SELECT count(*) FROM answers WHERE id = ?", (b["typed"],))[0] == 1
    assert store.one("SELECT count(*) FROM codings WHERE answer_id = ?", (b["typed"],))[0] == 1
    assert collect.part_status(store, users["collector"], "part-of-b-1")["received"] == 4000
    assert collect.part_status(store, users["collector"], "part-of-a-1")["received"] == 0
    # Files: the export, A's audio and A's part are gone.
    assert not files[0].exists() and not files[1].exists() and not files2[0].exists()
    parts = store.settings.data_dir / "collect-parts"
    assert sorted(p.name for p in parts.iterdir()) == [
        f"{users['collector'].id}-part-of-b-1.part"]
    export = exports.get_export(store, users["researcher"], made["id"])
    assert export["status"] == "removed" and "withdrew" in export["removed_reason"]
    job_row = store.one("SELECT status, error, result_json FROM jobs WHERE id = ?", (job,))
    assert "Mossgrove" not in (job_row["error"] or "") and job_row["result_json"] is None
    # The waiting transcription never runs: its recording is gone.
    assert store.one("SELECT status FROM jobs WHERE id = ?", (again,))[0] == "cancelled"
    # The audit log keeps the facts, not the words; the withdrawal says what went.
    erased = store.one("SELECT count(*) FROM audit_log WHERE erased = 1")[0]
    assert erased == report["audit_entries_erased"] > 0
    fact = store.one("SELECT detail FROM audit_log WHERE action = 'respondent.withdraw'")[0]
    assert "3 codings" in fact and fact.endswith(f"; exports removed: {made['id']}, {made2['id']}")

    # B withdraws too, while two exports are unfinished and their jobs died after writing
    # the files under their final names: those files go (the jobs write them again).
    unfinished = [exports.request_export(store, users["researcher"], q["survey"], fmt, jobs=queue)
                  for fmt in ("csv", "xlsx")]
    died = [exports.export_files(store, e["id"], fmt)[0] for e, fmt in zip(unfinished, ("csv", "xlsx"))]
    for path in died:
        path.write_bytes(b"Fennimore")
    b_respondent = store.one("SELECT respondent_id FROM survey_sessions WHERE id = ?", (b["session"],))[0]
    report = service.withdraw_consent(store, users["reviewer"], b_respondent)
    assert not any(path.exists() for path in died)
    # The count of entries erased is this withdrawal's own; the fact says what went, by whom.
    assert report["audit_entries_erased"] == store.one(
        "SELECT count(*) FROM audit_log WHERE erased = 1")[0] - erased > 0
    fact = store.one("SELECT actor_id, detail FROM audit_log WHERE action = 'respondent.withdraw' "
                     "ORDER BY id DESC LIMIT 1")
    assert fact["actor_id"] == users["reviewer"].id
    assert fact["detail"] == (
        "consent withdrawn; deleted 0 translation requests, 1 codings, 1 memos, 0 redactions, "
        "1 answer versions, 1 answer texts, 1 answers, 0 contact details, 0 recordings, "
        "0 transcripts, 0 audio files, 0 exports, 0 job records scrubbed, 1 upload parts")

    # An export finished before a respondent's first answer cannot hold them: it stays
    # when they withdraw. Their transcription still running is asked to stop.
    d = service.start_session(store, users["collector"], q["survey"], "en")
    service.record_consent(store, users["collector"], d["id"], method="tick")
    service.submit_answer(store, users["collector"], d["id"], q["story"], text="Tollerby stays")
    earlier = exports.request_export(store, users["researcher"], q["survey"], "csv", jobs=queue)
    assert queue.run_job(earlier["job_id"], "test") == "done"
    earlier_files = [p for p in exports.export_files(store, earlier["id"], "csv") if p.exists()]
    assert earlier_files
    c = service.start_session(store, users["collector"], q["survey"], "en")
    service.record_consent(store, users["collector"], c["id"], method="tick")
    c_voice = service.submit_answer(store, users["collector"], c["id"], q["voice"],
                                    audio=io.BytesIO(variants(1, offset=50)[0]),
                                    filename="c.wav", content_type="audio/wav")
    running = speech.queue_transcription(store, c_voice["recording_id"], users["reviewer"], jobs=queue)
    queue.claim(running, "busy-worker")
    c_respondent = store.one("SELECT respondent_id FROM survey_sessions WHERE id = ?", (c["id"],))[0]
    service.withdraw_consent(store, users["collector"], c_respondent)
    assert all(p.exists() for p in earlier_files)
    assert exports.get_export(store, users["researcher"], earlier["id"])["status"] == "done"
    assert store.one("SELECT cancel_requested FROM jobs WHERE id = ?", (running,))[0] == 1


def files_holding(root: Path, needles: dict[str, bytes]) -> dict[str, list[str]]:
    """needle name -> files under root whose bytes contain it."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for name, needle in needles.items():
            if needle in data:
                found.setdefault(name, []).append(str(path.relative_to(root)))
    return found


def start_server(data_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, COHEAR_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO),
               COHEAR_JOB_MODULES="tests.jobplugins", COHEAR_JOB_LEASE_SECONDS="2")
    proc = subprocess.Popen([sys.executable, "-m", "cohear", "serve", "--port", str(port)],
                            env=env, cwd=REPO, stdout=open(log, "ab"),  # noqa: SIM115
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            httpx.get(url + "/healthz", timeout=2)
            return proc, url
        except httpx.TransportError:
            assert proc.poll() is None and time.time() < deadline, log.read_text()
            time.sleep(0.1)


def wait_jobs(store: Store, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while store.one("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")[0]:
        assert time.time() < deadline, "jobs did not finish"
        time.sleep(0.2)


@pytest.mark.timeout(600)
def test_after_withdrawal_no_file_under_the_data_directory_nor_the_log_holds_them(
        store, people, users, whisper_model, tmp_path):
    """The running server (a real `cohear serve`, its log captured): after A withdraws,
    the database, its WAL, the blobs, the exports, the upload parts, the job queue and
    the server's log hold none of A's words, contact details or audio."""
    consent_audio, voice_audio, part_audio = distinct_recordings(3)
    q = make_survey(store, users)
    a = plant_a(store, users, q, consent_audio, voice_audio)
    b = plant_b(store, users, q, a["codebook"])
    data_dir = store.settings.data_dir
    log = tmp_path / "server.log"
    # A job whose failure quotes A's words (as a library's message would).
    plugins = Store(make_settings(data_dir, job_modules="tests.jobplugins"))
    JobQueue(plugins).enqueue("test.quotes_an_answer", {"answer_id": a["typed"]})
    plugins.close()
    store.close()
    server, url = start_server(data_dir, log)
    live = Store(make_settings(data_dir))
    try:
        collector = httpx.Client(base_url=url, timeout=120, headers={
            "Authorization": f"Bearer {people['collector'][1]}"})
        researcher = httpx.Client(base_url=url, timeout=120, headers={
            "Authorization": f"Bearer {people['researcher'][1]}"})
        # A's voice answer as the field page would send it: a new one, in parts, unfinished.
        r = collector.put("/collect/api/parts/a-unfinished-1", params={
            "offset": 0, "total": len(part_audio), "session": a["session"]},
            content=part_audio[:200_000])
        assert r.status_code == 200, r.text
        # A LibreTranslate client that puts the words in the query string.
        collector.post("/translate", params={"q": A_WORDS["typed"], "source": "en",
                                             "target": "ur"})
        for fmt in ("csv", "xlsx", "json", "qdpx"):
            r = researcher.post("/api/exports", json={"survey_id": q["survey"], "format": fmt})
            assert r.status_code == 202, r.text
        wait_jobs(live)
        failed = live.one("SELECT error FROM jobs WHERE kind = 'test.quotes_an_answer'")[0]
        assert failed and "Brinwhistle" not in failed
        needles = {t: t.encode() for t in A_TOKENS} | {
            name: loudest_bytes(audio) for name, audio in (
                ("consent audio", consent_audio), ("voice audio", voice_audio),
                ("part audio", part_audio))}
        assert len(set(needles.values())) == len(needles)
        before = files_holding(data_dir, needles)
        assert {"Brinwhistle", "consent audio", "voice audio", "part audio"} <= set(before)
        assert any(p.startswith("exports/") for p in before["Brinwhistle"]), before
        assert any(p.startswith("collect-parts/") for p in before["part audio"]), before
        live.close()

        r = collector.post(f"/api/sessions/{a['session']}/withdraw")
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["wal"] == "done" and len(report["exports_removed"]) == 4
        assert report["deleted"]["upload_parts"] == 1
        assert report["deleted"]["audio_files"] == 4
        left = files_holding(data_dir, needles)
        left_in_log = [name for name, needle in needles.items() if needle in log.read_bytes()]
        assert left == {} and left_in_log == [], (left, left_in_log)
        wal = data_dir / "cohear.db-wal"
        assert not wal.exists() or wal.stat().st_size == 0
    finally:
        server.terminate()
        server.wait(30)
    # Still nothing once the server has stopped (its last checkpoint written), and the
    # control respondent's words are found where they should be.
    assert files_holding(data_dir, {t: t.encode() for t in A_TOKENS}) == {}
    assert "Fennimore" in files_holding(data_dir, {"Fennimore": b"Fennimore"})
    lines = log.read_text(errors="replace")
    assert "/translate" in lines and "test.quotes_an_answer" in lines
    assert b["typed"]  # the control respondent was there all along


def test_an_export_being_written_when_a_respondent_withdraws_is_written_again_without_them(
        store, users):
    """The export job reads its rows from one snapshot of the database; a withdrawal
    that commits while it runs would otherwise leave the respondent in the file."""
    import threading

    from cohear.jobs import JobContext
    from surveys import exports, service
    from surveys.jobs import run_export
    q = make_survey(store, users)
    answered = {}
    for name, words in (("a", "Brinwhistle takes two buses"), ("b", "Fennimore walks")):
        session = service.start_session(store, users["collector"], q["survey"], "en")
        service.record_consent(store, users["collector"], session["id"], method="tick")
        service.submit_answer(store, users["collector"], session["id"], q["story"], text=words)
        answered[name] = session
    queue = JobQueue(store)
    made = exports.request_export(store, users["researcher"], q["survey"], "csv", jobs=queue)
    paused, release = threading.Event(), threading.Event()

    class PausedOnce(JobContext):
        def progress(self, fraction: float) -> None:
            if not paused.is_set():
                paused.set()   # rows are being read and written: hold here
                release.wait(60)
            super().progress(fraction)

    claimed = queue.claim(made["job_id"], "test-worker")
    ctx = PausedOnce(store, claimed.job_id, claimed.kind, claimed.payload, claimed.attempt,
                     claimed.owner, claimed.created_by)
    results: list = []
    worker = threading.Thread(target=lambda: results.append(run_export(ctx)))
    worker.start()
    assert paused.wait(60)
    report = service.withdraw_consent(store, users["collector"],
                                      answered["a"]["respondent_id"])
    release.set()
    worker.join(60)
    assert results and results[0]["rows"] == 1
    assert report["exports_removed"] == []  # not finished yet: its job writes it again
    text = exports.export_files(store, made["id"], "csv")[0].read_text(encoding="utf-8-sig")
    assert "Fennimore" in text and "Brinwhistle" not in text
    assert exports.get_export(store, users["researcher"], made["id"])["status"] == "done"
    written = store.one("SELECT count(*) FROM audit_log WHERE action = 'survey.export'")[0]
    assert written == 2  # the first file was thrown away


def test_a_phone_whose_parts_were_dropped_starts_again_and_nothing_is_padded(store, users):
    """Parts sent without their session cannot be told apart, so a withdrawal by one of
    the collector's respondents drops them too: the phone is told to start again, and
    the server never fills the missing bytes with zeros."""
    from surveys import service
    from webcollect import service as collect
    q = make_survey(store, users)
    sessions = []
    for _ in range(2):
        s = service.start_session(store, users["collector"], q["survey"], "en")
        service.record_consent(store, users["collector"], s["id"], method="tick")
        service.submit_answer(store, users["collector"], s["id"], q["story"], text="words")
        sessions.append(s)
    audio = distinct_recordings(1)[0]
    key = "old-page-part-1"
    collect.add_part(store, users["collector"], key, 0, len(audio), audio[:60000])  # no session
    report = service.withdraw_consent(store, users["collector"], sessions[0]["respondent_id"])
    assert report["deleted"]["upload_parts"] == 1
    with pytest.raises(Conflict) as refused:
        collect.add_part(store, users["collector"], key, 60000, len(audio), audio[60000:120000])
    assert refused.value.status == 409 and refused.value.extra["received"] == 0
    collect.add_part(store, users["collector"], key, 0, len(audio), audio[:60000],
                     session_id=sessions[1]["id"])
    done = collect.add_part(store, users["collector"], key, 60000, len(audio), audio[60000:])
    assert done["received"] == len(audio)
    with collect._assembled(store, users["collector"], key) as fh:
        assert fh.read() == audio
    # A part file gone while its row remains (a disk problem, a hand-deleted file): the
    # next part is refused with "start again", never appended after zeros.
    other = "lost-file-part-1"
    collect.add_part(store, users["collector"], other, 0, len(audio), audio[:60000],
                     session_id=sessions[1]["id"])
    collect._part_path(store, users["collector"], other).unlink()
    with pytest.raises(Conflict) as lost:
        collect.add_part(store, users["collector"], other, 60000, len(audio), audio[60000:])
    assert lost.value.status == 409 and lost.value.extra["received"] == 0


def test_a_part_not_installed_is_skipped_but_a_broken_one_stops_the_withdrawal(tmp_path, monkeypatch):
    """Erasers are loaded before every withdrawal; a package that is not installed has
    nothing to erase and is skipped, but one that is installed and fails to import (a
    dependency of its own missing) must stop the withdrawal rather than leave its part
    of the respondent behind."""
    from surveys import withdrawal
    (tmp_path / "eraser_here.py").write_text(
        "from surveys.withdrawal import eraser\n\n"
        "@eraser('test.here')\n"
        "def erase(conn, store, **kw):\n"
        "    return {}, []\n", "utf-8")
    (tmp_path / "eraser_broken.py").write_text("import cohear_dependency_not_installed\n", "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(withdrawal, "ERASERS", {})
    for name in ("eraser_here", "eraser_broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(withdrawal, "ERASER_MODULES",
                        ("not_installed_at_all", "not_installed_pkg.service", "eraser_here"))
    withdrawal._load_erasers()
    assert list(withdrawal.ERASERS) == ["test.here"]   # loaded after the missing ones
    assert withdrawal.ERASERS["test.here"] is sys.modules["eraser_here"].erase
    monkeypatch.setattr(withdrawal, "ERASER_MODULES", ("eraser_broken",))
    with pytest.raises(ModuleNotFoundError) as broken:
        withdrawal._load_erasers()
    assert broken.value.name == "cohear_dependency_not_installed"
