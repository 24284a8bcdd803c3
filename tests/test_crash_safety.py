"""Crash safety: the server (with its embedded worker) is killed with SIGKILL at random
points while collectors upload, recordings are transcribed, messages are translated and
researchers export. After each restart the store checks clean, every acknowledged upload
is there with its hash, every job completes exactly once, and no partial export is left
looking complete."""

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
import wave

import httpx
import pytest

from cohear.auth import create_user
from cohear.store import Store
from tests.conftest import DEMO_DATA, REPO, free_port, make_settings

ROUNDS = int(os.environ.get("COHEAR_CRASH_ROUNDS", "3"))


def variants(n: int) -> list[bytes]:
    """n different real recordings: the demo sentence with a different tail of silence."""
    with wave.open(str(DEMO_DATA / "flu-vaccine-en.wav")) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    out = []
    for i in range(n):
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setparams(params)
            w.writeframes(frames + b"\x00\x00" * (160 * (i + 1)))
        out.append(buf.getvalue())
    return out


class Server:
    def __init__(self, data_dir, port):
        env = dict(os.environ, COHEAR_DATA_DIR=str(data_dir), COHEAR_JOB_LEASE_SECONDS="2",
                   PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen([sys.executable, "-m", "cohear", "serve", "--port",
                                      str(port)], env=env, cwd=REPO,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
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


@pytest.mark.timeout(900)
def test_killing_the_server_loses_no_acknowledged_upload_and_no_job(tmp_path, whisper_model,
                                                                    store):
    settings = store.settings
    _, token = create_user(store, "crash-collector", "collector")
    office = prepare_office_work(store, tmp_path)
    store.close()
    files = variants(8)
    acknowledged: dict[str, int] = {}      # sha256 -> recording id, from a 201/200 answer
    rng = random.Random(20261127)
    headers = {"Authorization": f"Bearer {token}"}

    def office_work(url: str, stop: threading.Event):
        """A communicator translating and a researcher exporting, until the server dies."""
        with httpx.Client(base_url=url, timeout=60, headers={
                "Authorization": f"Bearer {office['communicator']}"}) as comm, \
                httpx.Client(base_url=url, timeout=60, headers={
                    "Authorization": f"Bearer {office['researcher']}"}) as research:
            while not stop.is_set():
                try:
                    r = comm.post("/api/messages/translate", json={
                        "message_ids": office["messages"], "languages": ["ur"],
                        "force": True, "background": True})
                    assert r.status_code == 202, r.text
                    r = research.post("/api/exports", json={"survey_id": office["survey"],
                                                            "format": "csv"})
                    assert r.status_code == 202, r.text
                except httpx.TransportError:
                    return
                stop.wait(0.3)

    def upload_all(url: str, stop: threading.Event):
        with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
            for i, data in enumerate(files):
                sha = hashlib.sha256(data).hexdigest()
                if sha in acknowledged or stop.is_set():
                    continue
                try:
                    r = c.post("/api/recordings", files={"file": (f"answer-{i}.wav", data,
                                                                  "audio/wav")},
                               data={"transcribe": "true", "language": "en"})
                except httpx.TransportError:
                    return                      # the server died under us: not acknowledged
                assert r.status_code in (200, 201), r.text
                acknowledged[sha] = r.json()["id"]

    port = free_port()
    kills = 0
    for _ in range(ROUNDS):
        server = Server(settings.data_dir, port)
        stop = threading.Event()
        uploader = threading.Thread(target=upload_all, args=(server.url, stop))
        office_thread = threading.Thread(target=office_work, args=(server.url, stop))
        uploader.start()
        office_thread.start()
        time.sleep(rng.uniform(0.5, 4.0))         # somewhere in uploads or transcriptions
        server.kill()
        kills += 1
        stop.set()
        uploader.join()
        office_thread.join()
        check = subprocess.run([sys.executable, "-m", "cohear", "db", "check", "--json"],
                               env=dict(os.environ, COHEAR_DATA_DIR=str(settings.data_dir)),
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr

    # a last, undisturbed run: the rest is uploaded and every job finishes
    server = Server(settings.data_dir, port)
    try:
        upload_all(server.url, threading.Event())
        assert len(acknowledged) == len(files)
        live = Store(make_settings(settings.data_dir))
        deadline = time.time() + 600
        while live.one("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")[0]:
            assert time.time() < deadline, "jobs did not finish after the crashes"
            time.sleep(0.5)
    finally:
        server.stop()

    report = live.check()
    assert report["ok"], report["problems"]
    for sha, rec_id in acknowledged.items():
        row = live.one("SELECT original_sha256 FROM recordings WHERE id = ?", (rec_id,))
        assert row["original_sha256"] == sha
        assert live.blobs.hash_file(live.blobs.path(sha)) == sha
        machine = live.all("SELECT job_id FROM transcripts WHERE recording_id = ? AND "
                           "source = 'machine'", (rec_id,))
        assert len(machine) == 1, f"recording {rec_id} has {len(machine)} machine transcripts"
    jobs = live.all("SELECT status, completions FROM jobs WHERE kind = 'speech.transcribe'")
    assert jobs and all(j["status"] == "done" and j["completions"] == 1 for j in jobs)
    others = live.all("SELECT kind, status, completions FROM jobs WHERE kind IN "
                      "('comms.translate', 'surveys.export')")
    assert {j["kind"] for j in others} == {"comms.translate", "surveys.export"}
    assert all(j["status"] == "done" and j["completions"] == 1 for j in others), \
        [dict(j) for j in others if j["status"] != "done"]
    # an export file under its final name exists only for an export that finished
    done = {r[0] for r in live.all("SELECT id FROM survey_exports WHERE status = 'done'")}
    exports_dir = settings.data_dir / "exports"
    finished = [p for p in exports_dir.iterdir() if not p.name.startswith(".")]
    owners = {int(re.match(r"export-(\d+)\.", p.name).group(1)) for p in finished}
    assert finished and owners <= done, (sorted(owners - done), sorted(done))
    partial = [p for p in exports_dir.iterdir() if p.name.startswith(".")]
    # nothing half-written is left behind
    assert not list(live.blobs.tmp.glob("*.part"))
    print(f"crash loop: {kills} kills, {len(acknowledged)} uploads acknowledged, "
          f"{len(jobs)} transcription and {len(others)} translation/export jobs done once "
          f"each, orphan blobs {len(report['orphans'])}, hidden partial export files "
          f"{len(partial)}")


def prepare_office_work(store, tmp_path) -> dict:
    """A copy-model en->ur pack, three messages and a survey with answers to export."""
    from comms import service as comms
    from language_packs.copy_pack import build_copy_pack
    from language_packs.packs import install
    from surveys import service as surveys

    install(store, build_copy_pack(tmp_path / "packs", "en", "ur"))
    communicator, comm_token = create_user(store, "crash-communicator", "communicator")
    _, research_token = create_user(store, "crash-researcher", "researcher")
    collector, _ = create_user(store, "crash-collector-2", "collector")
    messages = [comms.create_message(store, communicator, title=f"Message {i}", channel="sms",
                                     source_text=f"Your flu vaccine is ready. Call us on day {i}.")
                ["id"] for i in range(3)]
    survey = surveys.create_survey(store, communicator, title="Crash", purpose="test",
                                   base_language="en", questions=[
                                       {"kind": "consent", "name": "consent", "text": "Agree?"},
                                       {"kind": "open", "name": "open", "text": "Tell us.",
                                        "options": {"answer": "either"}}])
    surveys.open_language(store, communicator, survey["id"], "en")
    open_q = {q["name"]: q["id"] for q in survey["questions"]}["open"]
    for i in range(5):
        session = surveys.start_session(store, collector, survey["id"], "en")
        surveys.record_consent(store, collector, session["id"], method="tick")
        surveys.submit_answer(store, collector, session["id"], open_q,
                              text=f"The bus to the clinic is late, answer {i}.")
    return {"communicator": comm_token, "researcher": research_token, "messages": messages,
            "survey": survey["id"]}
