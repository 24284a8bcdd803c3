"""The service as a user meets it: the README's run sequence in real processes, problem
details for every kind of error, a request-size limit and no stack traces."""

import json
import os
import subprocess
import sys
import time

import httpx

from tests.conftest import LiveServer, free_port, make_settings

COHEAR = [sys.executable, "-m", "cohear"]


def test_the_run_sequence_brings_up_a_verified_service_with_a_demo(tmp_path):
    """What `python3 dev.py run` does after installing: migrate, install the model, seed, serve."""
    env = dict(os.environ, COHEAR_DATA_DIR=str(tmp_path / "data"))
    for step in (["db", "migrate"], ["models", "install"], ["demo"]):
        subprocess.run(COHEAR + step, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(COHEAR + ["serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.time() < deadline, "the service did not come up"
                time.sleep(0.2)
        assert health == {"status": "ok", "problems": []}
        tokens = json.loads((tmp_path / "data" / "demo-tokens.json").read_text())
        details = httpx.get(f"http://127.0.0.1:{port}/api/health", headers={
            "Authorization": "Bearer " + tokens["demo-admin"]["token"]}).json()
        assert details["whisper"]["verified"] is True and details["database"]["ok"] is True
        assert oct((tmp_path / "data" / "demo-tokens.json").stat().st_mode & 0o777) == "0o600"
        assert set(v["role"] for v in tokens.values()) == {
            "admin", "communicator", "collector", "reviewer", "researcher"}
        me = httpx.get(f"http://127.0.0.1:{port}/api/me", headers={
            "Authorization": "Bearer " + tokens["demo-reviewer"]["token"]}).json()
        assert me["role"] == "reviewer"
    finally:
        server.terminate()
        server.wait(20)
    # the database, the job queue, recordings and models are readable only by their owner
    data = tmp_path / "data"
    loose = [str(p.relative_to(data)) for p in data.rglob("*")
             if p.stat().st_mode & 0o077 and not p.is_symlink()]
    assert loose == []
    # seeding again adds nobody twice
    again = subprocess.run(COHEAR + ["demo"], env=env, check=True, capture_output=True, text=True)
    assert "added demo-" not in again.stdout


def test_help_lists_every_command_with_a_description():
    out = subprocess.run(COHEAR + ["--help"], capture_output=True, text=True, check=True,
                         env=dict(os.environ, COLUMNS="200")).stdout
    for command in ("serve", "worker", "config", "db", "users", "models", "jobs", "demo", "audit"):
        assert f" {command} " in out


def test_errors_are_one_line_unless_debug(tmp_path):
    env = dict(os.environ, COHEAR_DATA_DIR=str(tmp_path / "d"))
    r = subprocess.run(COHEAR + ["jobs", "show", "42"], env=env, capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip().startswith("error: job 42 does not exist")
    assert "Traceback" not in r.stderr
    r = subprocess.run(COHEAR + ["--debug", "jobs", "show", "42"], env=env, capture_output=True,
                       text=True)
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_unknown_routes_and_invalid_bodies_are_problem_details(api):
    r = api["admin"].get("/api/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail"} <= r.json().keys()
    r = api["admin"].post("/api/users", json={"name": "", "role": "admin"})
    assert r.status_code == 422
    assert "name" in r.json()["detail"]


def test_request_size_limit(settings, store, people):
    small = settings.replace(max_request_bytes=1000)
    with LiveServer(small, start_worker=False) as server, \
            server.client(people["admin"][1]) as c:
        r = c.post("/api/users", content=b"{" + b" " * 5000 + b"}",
                   headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert "1,000 bytes" in r.json()["detail"]


def test_an_unexpected_error_shows_no_stack_trace(settings, store, people, monkeypatch):
    import cohear.auth

    def broken(*a, **k):
        raise RuntimeError("secret internals /srv/cohear/app.py line 12")

    monkeypatch.setattr(cohear.auth, "list_users", broken)
    with LiveServer(settings, start_worker=False) as server, \
            server.client(people["admin"][1]) as c:
        r = c.get("/api/users")
    assert r.status_code == 500
    body = r.json()
    assert "reference" in body and body["reference"] in body["detail"]
    assert "secret internals" not in r.text and "Traceback" not in r.text


def test_openapi_and_docs_need_no_token(live_server):
    with live_server.client() as c:
        assert c.get("/openapi.json").status_code == 200
        assert c.get("/docs").status_code == 200


def test_binding_beyond_loopback_warns(tmp_path, caplog):
    from fastapi.testclient import TestClient

    from cohear.app import create_app
    app = create_app(make_settings(tmp_path / "d", host="0.0.0.0"), start_worker=False)
    with caplog.at_level("WARNING"), TestClient(app):
        pass
    assert any("without TLS" in r.message for r in caplog.records)


def test_docs_are_served_without_any_cdn_and_responses_carry_security_headers(live_server):
    with live_server.client() as c:
        page = c.get("/docs")
        assert page.status_code == 200
        assert "cdn" not in page.text.lower() and "https://" not in page.text.split("<body>")[0]
        assert c.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
        r = c.get("/healthz")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_usage_errors_and_version_are_clean():
    version = subprocess.run(COHEAR + ["--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.strip().startswith("cohear ")
    for args in (["no-such-command"], ["users", "add", "amina"]):
        r = subprocess.run(COHEAR + args, capture_output=True, text=True)
        assert r.returncode == 2, (args, r.stderr)
        assert "Error:" in r.stderr and "Traceback" not in r.stderr
