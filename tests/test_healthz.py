"""The service answers /healthz without a token, with its status and the names of the
parts that are wrong only; admins read every part's details at /api/health; everything
else needs a token."""

import pytest


def test_healthz_reports_database_jobs_and_model(live_server, people, whisper_model):
    from cohear import cuda
    cuda.remember({})  # this process has loaded no model yet
    with live_server.client(people["admin"][1]) as c:
        r = c.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["database"]["ok"] is True
    assert body["jobs"]["ok"] is True
    # The device is known once the model has loaded (and proved it) for a transcription.
    assert body["whisper"] == {"ok": True, "model": "base", "verified": True,
                               "requested": "auto", "device": None, "compute_type": None,
                               "fallback_reason": None}
    assert body["status"] == "ok"
    cuda.remember({"model": "base", "requested": "auto", "device": "cpu",
                   "compute_type": "int8", "fallback_reason": None})
    with live_server.client(people["admin"][1]) as c:
        body = c.get("/api/health").json()
    assert (body["whisper"]["device"], body["whisper"]["compute_type"]) == ("cpu", "int8")
    assert body["status"] == "ok"
    with live_server.client() as c:
        assert c.get("/healthz").json() == {"status": "ok", "problems": []}
    cuda.remember({})


def test_healthz_says_how_to_fix_a_missing_model(live_server, people):
    with live_server.client(people["admin"][1]) as c:
        body = c.get("/api/health").json()
    assert body["status"] == "degraded"
    assert body["whisper"]["ok"] is False
    assert "cohear models install" in body["whisper"]["fix"]
    with live_server.client() as c:
        assert c.get("/healthz").json() == {"status": "degraded", "problems": ["whisper"]}


@pytest.mark.parametrize("who", ["anonymous", "collector", "researcher", "reviewer"])
def test_only_admins_learn_the_database_path_job_counts_and_the_machine(api, live_server,
                                                                          who):
    """/healthz is the same for everyone and says nothing about the machine: no path, no
    counts, no device, no version, no packs; /api/health is for admins only."""
    store = live_server.app.state.store
    r = api[who].get("/healthz")
    assert r.status_code == 200
    assert set(r.json()) == {"status", "problems"}
    for secret in (str(store.path), str(store.settings.data_dir), "counts", "pending",
                   "device", "version", "installed", "sqlite"):
        assert secret not in r.text, secret
    details = api[who].get("/api/health")
    assert details.status_code == (401 if who == "anonymous" else 403), details.text
    admin = api["admin"].get("/api/health").json()
    assert admin["database"]["path"] == str(store.path) and "counts" in admin["jobs"]


def test_a_broken_part_is_named_but_not_described(api, live_server, monkeypatch):
    store = live_server.app.state.store
    monkeypatch.setattr(type(store), "pending_migrations",
                        lambda self: [type("M", (), {"key": "surveys/9999"})()])
    body = api["anonymous"].get("/healthz").json()
    assert body["status"] == "degraded" and "database" in body["problems"]
    assert "9999" not in str(body)
    assert api["admin"].get("/api/health").json()["database"]["pending_migrations"] == [
        "surveys/9999"]


def test_anonymous_caller_gets_401_problem(api):
    r = api["anonymous"].get("/api/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 401 and "token" in body["detail"]


def test_me_returns_the_signed_in_user(api):
    assert api["reviewer"].get("/api/me").json()["role"] == "reviewer"
