"""The service answers /healthz without a token, and everything else needs one."""


def test_healthz_reports_database_jobs_and_model(live_server, whisper_model):
    from cohear import cuda
    cuda.remember({})  # this process has loaded no model yet
    with live_server.client() as c:
        r = c.get("/healthz")
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
    with live_server.client() as c:
        body = c.get("/healthz").json()
    assert (body["whisper"]["device"], body["whisper"]["compute_type"]) == ("cpu", "int8")
    assert body["status"] == "ok"
    cuda.remember({})


def test_healthz_says_how_to_fix_a_missing_model(live_server):
    with live_server.client() as c:
        body = c.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["whisper"]["ok"] is False
    assert "cohear models install" in body["whisper"]["fix"]


def test_anonymous_caller_gets_401_problem(api):
    r = api["anonymous"].get("/api/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 401 and "token" in body["detail"]


def test_me_returns_the_signed_in_user(api):
    assert api["reviewer"].get("/api/me").json()["role"] == "reviewer"
