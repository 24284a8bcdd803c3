"""Crash safety: the server (with its embedded worker) is killed with SIGKILL while
collectors upload (throttled uploads, and the field page's uploads in parts), while
recordings are transcribed, messages translated and surveys exported. Each kill waits
until an upload is in flight and a job of the round's kind is running, and the test
checks afterwards that each kind really was interrupted (the job's run is recorded as
lost, the upload's request was cut). After each restart no temporary of the dead
server is left; at the end every acknowledged upload is there with its hash, every job
completed exactly once, no export file is left that no finished export owns, and every
failure inside a worker thread of the test fails the test.

`COHEAR_CRASH_ROUNDS` sets the number of kills (default 3); the amount of work and the
jobs' `max_attempts` grow with it, since a job may be killed once per round."""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
import wave

import httpx
import pytest

from cohear import temporaries
from cohear.auth import create_user
from cohear.store import Store
from tests.conftest import DEMO_DATA, REPO, free_port, make_settings

ROUNDS = int(os.environ.get("COHEAR_CRASH_ROUNDS", "3"))
KINDS = ("speech.transcribe", "comms.translate", "surveys.export")
EXPORT_ANSWERS = 2500   # enough that an export takes a few seconds
MESSAGES = 30           # enough that a translation job takes a few seconds


def variants(n: int, offset: int = 0) -> list[bytes]:
    """n different real recordings: the demo sentence with a different tail of silence."""
    with wave.open(str(DEMO_DATA / "flu-vaccine-en.wav")) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    out = []
    for i in range(offset, offset + n):
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setparams(params)
            w.writeframes(frames + b"\x00\x00" * (160 * (i + 1)))
        out.append(buf.getvalue())
    return out


class Server:
    def __init__(self, data_dir, port, log):
        env = dict(os.environ, COHEAR_DATA_DIR=str(data_dir), COHEAR_JOB_LEASE_SECONDS="2",
                   COHEAR_JOB_MAX_ATTEMPTS=str(ROUNDS + 2), COHEAR_WORKER_THREADS="2",
                   PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen([sys.executable, "-m", "cohear", "serve", "--port",
                                      str(port)], env=env, cwd=REPO, stdout=log,
                                     stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while True:
            try:
                httpx.get(self.url + "/healthz", timeout=2)
                return
            except httpx.TransportError:
                assert self.proc.poll() is None, "the server died on start-up"
                assert time.time() < deadline, "the server did not come up"
                time.sleep(0.1)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


class Worker(threading.Thread):
    """A test thread whose failures are kept for the test to fail on (an assertion in a
    plain thread only prints a warning)."""

    def __init__(self, name: str, failures: list, stop: threading.Event, free: bool = False):
        super().__init__(name=name, daemon=True)
        self.failures, self.stop, self.free = failures, stop, free
        self.in_flight = threading.Event()  # a request is on its way or being answered
        self.permits = threading.Semaphore(0)  # new items the killer lets it start

    def may_start(self) -> bool:
        """Wait until a new item may start (always, in the undisturbed run)."""
        while not self.free:
            if self.stop.is_set():
                return False
            if self.permits.acquire(timeout=0.05):
                return True
        return True

    def run(self) -> None:
        try:
            self.work()
        except httpx.TransportError:
            pass  # the server died under us: whatever was not acknowledged is sent again
        except BaseException as exc:  # noqa: BLE001 - collected, the test fails on it
            self.failures.append(f"{self.name}: {exc!r}")
        finally:
            self.in_flight.clear()


def throttled_multipart(data: bytes, filename: str, fields: dict[str, str]
                        ) -> tuple[str, object]:
    """A multipart body sent slowly (16 KB every 0.1 s), as a phone on a poor line does."""
    boundary = uuid.uuid4().hex
    head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                    .encode() for k, v in fields.items())
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
             f'filename="{filename}"\r\nContent-Type: audio/wav\r\n\r\n').encode()

    def body():
        yield head
        for i in range(0, len(data), 16384):
            time.sleep(0.1)
            yield data[i:i + 16384]
        yield f"\r\n--{boundary}--\r\n".encode()

    return f"multipart/form-data; boundary={boundary}", body()


class Uploader(Worker):
    """A collector uploading recordings (transcribed) through /api/recordings. One cut
    short by a kill is sent again first thing after the restart."""

    def __init__(self, url, token, files, acknowledged, started, failures, stop, free=False):
        super().__init__("uploader", failures, stop, free)
        self.url, self.token, self.files, self.acknowledged = url, token, files, acknowledged
        self.started = started

    def work(self) -> None:
        with httpx.Client(base_url=self.url, timeout=120,
                          headers={"Authorization": f"Bearer {self.token}"}) as c:
            for i, data in enumerate(self.files):
                sha = hashlib.sha256(data).hexdigest()
                if sha in self.acknowledged or self.stop.is_set():
                    continue
                if sha not in self.started and not self.may_start():
                    return
                self.started.add(sha)
                ctype, body = throttled_multipart(data, f"answer-{i}.wav",
                                                  {"transcribe": "true", "language": "en"})
                self.in_flight.set()
                r = c.post("/api/recordings", content=body, headers={"Content-Type": ctype})
                self.in_flight.clear()
                assert r.status_code in (200, 201), r.text
                self.acknowledged[sha] = r.json()["id"]


class Phone(Worker):
    """The field page on a poor line: a session and consent per respondent, then the
    voice answer in 64 KB parts (carrying on from what the server has), then the answer.
    Every item keeps its Idempotency-Key across crashes, as the page does."""

    def __init__(self, url, token, items, acknowledged, started, failures, stop, free=False):
        super().__init__("phone", failures, stop, free)
        self.url, self.token, self.items, self.acknowledged = url, token, items, acknowledged
        self.started = started

    def send(self, c, method, path, **kw):
        self.in_flight.set()
        try:
            return c.request(method, path, **kw)
        finally:
            self.in_flight.clear()

    def work(self) -> None:
        with httpx.Client(base_url=self.url, timeout=120,
                          headers={"Authorization": f"Bearer {self.token}"}) as c:
            for item in self.items:
                if item["key"] in self.acknowledged or self.stop.is_set():
                    continue
                if item["key"] not in self.started and not self.may_start():
                    return
                self.started.add(item["key"])
                r = self.send(c, "POST", "/collect/api/sessions", json={
                    "survey_id": item["survey"], "language": "en"},
                    headers={"Idempotency-Key": item["key"] + "-s"})
                assert r.status_code in (200, 201), r.text
                session = r.json()["session_id"]
                r = self.send(c, "POST", f"/collect/api/sessions/{session}/consent",
                              data={"method": "tick"},
                              headers={"Idempotency-Key": item["key"] + "-c"})
                assert r.status_code in (200, 201), r.text
                data, key = item["audio"], item["key"] + "-a"
                status = self.send(c, "GET", f"/collect/api/parts/{key}").json()
                offset = status["received"]
                while offset < len(data) and not status["saved"]:
                    time.sleep(0.2)
                    r = self.send(c, "PUT", f"/collect/api/parts/{key}", params={
                        "offset": offset, "total": len(data), "session": session},
                        content=data[offset:offset + 32768])
                    assert r.status_code in (200, 409), r.text
                    offset = r.json()["received"]
                r = self.send(c, "POST", f"/collect/api/sessions/{session}/answers",
                              data={"question_id": str(item["question"]), "in_parts": "true"},
                              headers={"Idempotency-Key": key})
                assert r.status_code in (200, 201), r.text
                self.acknowledged[item["key"]] = (r.json()["answer_id"],
                                                  hashlib.sha256(data).hexdigest())


class Office(Worker):
    """A communicator translating and a researcher exporting, one job of each kind at a
    time, until the server dies."""

    def __init__(self, url, office, live: Store, failures, stop):
        super().__init__("office", failures, stop)
        self.url, self.office, self.live = url, office, live

    def waiting(self, kind: str) -> bool:
        return bool(self.live.one("SELECT count(*) FROM jobs WHERE kind = ? AND status IN "
                                  "('queued', 'running')", (kind,))[0])

    def work(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60, headers={
                "Authorization": f"Bearer {self.office['communicator']}"}) as comm, \
                httpx.Client(base_url=self.url, timeout=60, headers={
                    "Authorization": f"Bearer {self.office['researcher']}"}) as research:
            while not self.stop.is_set():
                if not self.waiting("comms.translate"):
                    r = comm.post("/api/messages/translate", json={
                        "message_ids": self.office["messages"], "languages": ["ur"],
                        "force": True, "background": True})
                    assert r.status_code == 202, r.text
                if not self.waiting("surveys.export"):
                    r = research.post("/api/exports", json={"survey_id": self.office["survey"],
                                                            "format": "xlsx"})
                    assert r.status_code == 202, r.text
                self.stop.wait(0.2)


def dead_temporaries(data_dir) -> list[str]:
    return [str(p) for p, _owner, alive in temporaries.find(data_dir) if not alive]


@pytest.mark.timeout(900 + 240 * ROUNDS)
def test_killing_the_server_mid_upload_and_mid_job_loses_nothing(tmp_path, whisper_model,
                                                                 store):
    settings = store.settings
    data_dir = settings.data_dir
    _, token = create_user(store, "crash-collector", "collector")
    office = prepare_office_work(store, tmp_path)
    phone_survey = prepare_phone_survey(store)
    store.close()
    # Each round starts at most a few new uploads of each kind; the last run sends the rest.
    files = variants(ROUNDS + 3)
    items = [{"key": f"phone-{i}", "audio": audio} | phone_survey
             for i, audio in enumerate(variants(ROUNDS + 2, offset=100))]
    acknowledged: dict[str, int] = {}      # sha256 -> recording id, from a 201/200 answer
    answered: dict[str, tuple] = {}        # phone item key -> (answer id, sha256)
    started: set = set()                   # uploads and phone items begun at least once
    failures: list[str] = []
    interrupted = {"upload": 0, "parts": 0}
    dead_seen = 0
    rng = random.Random(20261127)
    log = open(tmp_path / "server.log", "ab")  # noqa: SIM115 - closed below
    live = Store(make_settings(data_dir))
    port = free_port()

    def waiting(kind: str) -> int:
        return live.one("SELECT count(*) FROM jobs WHERE kind = ? AND status IN "
                        "('queued', 'running')", (kind,))[0]

    for r in range(ROUNDS):
        server = Server(data_dir, port, log)
        # The dead server's half-written files went at start-up; only live ones remain.
        assert dead_temporaries(data_dir) == []
        stop = threading.Event()
        uploader = Uploader(server.url, token, files, acknowledged, started, failures, stop)
        phone = Phone(server.url, token, items, answered, started, failures, stop)
        workers = [uploader, phone, Office(server.url, office, live, failures, stop)]
        for w in workers:
            w.start()
        # The round's job kind must be running (a transcription needs an upload first)...
        target = KINDS[r % len(KINDS)]
        deadline = time.time() + 180
        while time.time() < deadline and not failures:
            if live.one("SELECT count(*) FROM jobs WHERE kind = ? AND status = 'running'",
                        (target,))[0]:
                break
            if target == "speech.transcribe" and not waiting(target) \
                    and not uploader.in_flight.is_set():
                uploader.permits.release()
            time.sleep(0.02)
        # ... and an upload under way (alternating the two kinds of upload), when it dies.
        upload = uploader if r % 2 == 0 else phone
        upload.permits.release()
        (phone if upload is uploader else uploader).permits.release()
        upload.in_flight.wait(30)
        time.sleep(rng.uniform(0.05, 0.3))
        in_flight = {"upload": uploader.in_flight.is_set(), "parts": phone.in_flight.is_set()}
        running = {row[0] for row in live.all("SELECT kind FROM jobs WHERE status = 'running'")}
        server.kill()
        stop.set()
        for w in workers:
            w.join(180)
        assert not failures, failures
        assert target in running, f"round {r}: no {target} job was running at the kill"
        interrupted = {k: n + in_flight[k] for k, n in interrupted.items()}
        dead_seen += len(dead_temporaries(data_dir))
        check = subprocess.run([sys.executable, "-m", "cohear", "db", "check", "--json"],
                               env=dict(os.environ, COHEAR_DATA_DIR=str(data_dir),
                                        PYTHONPATH=str(REPO)),
                               capture_output=True, text=True, cwd=REPO)
        assert check.returncode == 0, check.stdout + check.stderr

    # A last, undisturbed run: the uploads cut short are finished (and a few more are
    # sent), and every job finishes.
    server = Server(data_dir, port, log)
    try:
        assert dead_temporaries(data_dir) == []
        stop = threading.Event()
        for w in (Uploader(server.url, token, files, acknowledged, started, failures, stop,
                           free=True),
                  Phone(server.url, token, items, answered, started, failures, stop,
                        free=True)):
            w.start()
            w.join(600)
        assert not failures, failures
        assert len(acknowledged) == len(files) and len(answered) == len(items)
        deadline = time.time() + 600
        while live.one("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")[0]:
            assert time.time() < deadline, "jobs did not finish after the crashes"
            time.sleep(0.5)
    finally:
        server.stop()
        log.close()

    report = live.check()
    assert report["ok"], report["problems"]
    # Each kind of work was really cut short at least once.
    assert interrupted["upload"] >= 1 and interrupted["parts"] >= 1, interrupted
    lost = {row[0]: row[1] for row in live.all(
        "SELECT j.kind, count(*) FROM job_runs r JOIN jobs j ON j.id = r.job_id "
        "WHERE r.outcome = 'lost' GROUP BY j.kind")}
    assert all(lost.get(kind, 0) >= 1 for kind in KINDS), lost
    assert dead_seen >= 1, "no kill ever left a half-written file to clean up"
    # Every acknowledged upload is there, whole, transcribed once.
    recordings = dict(acknowledged)
    for key, (answer_id, sha) in answered.items():
        row = live.one("SELECT recording_id FROM answers WHERE id = ?", (answer_id,))
        assert row is not None, f"answer {answer_id} for {key} is missing"
        recordings[sha] = row["recording_id"]
    for sha, rec_id in recordings.items():
        row = live.one("SELECT original_sha256 FROM recordings WHERE id = ?", (rec_id,))
        assert row["original_sha256"] == sha
        assert live.blobs.hash_file(live.blobs.path(sha)) == sha
        machine = live.all("SELECT job_id FROM transcripts WHERE recording_id = ? AND "
                           "source = 'machine'", (rec_id,))
        assert len(machine) == 1, f"recording {rec_id} has {len(machine)} machine transcripts"
    jobs = live.all("SELECT kind, status, completions, attempts FROM jobs")
    assert {j["kind"] for j in jobs} == set(KINDS)
    assert all(j["status"] == "done" and j["completions"] == 1 for j in jobs), \
        [dict(j) for j in jobs if j["status"] != "done"]
    # Only finished exports have files, nothing half-written is left anywhere, and the
    # field page's parts went once their answers were stored.
    done = {r[0] for r in live.all("SELECT id FROM survey_exports WHERE status = 'done'")}
    exports_dir = data_dir / "exports"
    names = sorted(p.name for p in exports_dir.iterdir())
    owners = {int(re.match(r"export-(\d+)\.", n).group(1)) for n in names}
    assert names and owners <= done, (names, sorted(done))
    assert temporaries.find(data_dir) == []
    parts = data_dir / "collect-parts"
    assert not parts.exists() or list(parts.iterdir()) == []
    assert live.one("SELECT count(*) FROM collect_parts")[0] == 0
    print(f"crash loop: {ROUNDS} kills; uploads cut {interrupted}; job runs lost {lost}; "
          f"{len(recordings)} recordings, {len(jobs)} jobs done once each; "
          f"half-written files removed at restarts: {dead_seen}")


def prepare_office_work(store, tmp_path) -> dict:
    """A copy-model en->ur pack, messages long enough to take a few seconds to translate,
    and a survey big enough to take a few seconds to export."""
    from comms import service as comms
    from language_packs.copy_pack import build_copy_pack
    from language_packs.packs import install
    from surveys import service as surveys

    install(store, build_copy_pack(tmp_path / "packs", "en", "ur"))
    communicator, comm_token = create_user(store, "crash-communicator", "communicator")
    _, research_token = create_user(store, "crash-researcher", "researcher")
    collector, _ = create_user(store, "crash-collector-2", "collector")
    messages = [comms.create_message(
        store, communicator, title=f"Message {i}", channel="letter",
        source_text=" ".join(f"Your flu vaccine appointment {i}-{j} is ready at the clinic "
                             "on the high street." for j in range(6)))["id"]
        for i in range(MESSAGES)]
    survey = surveys.create_survey(store, communicator, title="Crash", purpose="test",
                                   base_language="en", questions=[
                                       {"kind": "consent", "name": "consent", "text": "Agree?"},
                                       {"kind": "open", "name": "open", "text": "Tell us.",
                                        "options": {"answer": "either"}}])
    surveys.open_language(store, communicator, survey["id"], "en")
    open_q = {q["name"]: q["id"] for q in survey["questions"]}["open"]
    for i in range(EXPORT_ANSWERS):
        session = surveys.start_session(store, collector, survey["id"], "en")
        surveys.record_consent(store, collector, session["id"], method="tick")
        surveys.submit_answer(store, collector, session["id"], open_q,
                              text=f"The bus to the clinic is late, answer {i}.")
    return {"communicator": comm_token, "researcher": research_token, "messages": messages,
            "survey": survey["id"]}


def prepare_phone_survey(store) -> dict:
    from surveys import service as surveys
    communicator = store.one("SELECT id, name, role FROM users WHERE role = 'communicator'")
    from cohear.auth import User
    comm = User(*communicator)
    survey = surveys.create_survey(store, comm, title="Phone", purpose="test",
                                   base_language="en", questions=[
                                       {"kind": "consent", "name": "consent", "text": "Agree?"},
                                       {"kind": "open", "name": "voice", "text": "Say it.",
                                        "options": {"answer": "voice"}}])
    surveys.open_language(store, comm, survey["id"], "en")
    return {"survey": survey["id"],
            "question": {q["name"]: q["id"] for q in survey["questions"]}["voice"]}
