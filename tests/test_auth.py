"""People, roles, tokens and the audit log, through the library and the real HTTP API."""

import sqlite3
import subprocess
import sys
import time

import pytest

from cohear import audit
from cohear.auth import authenticate, create_user, list_tokens, revoke_token
from cohear.errors import BadInput, Conflict, Unauthorized


def test_tokens_are_stored_only_as_hashes(store, people):
    _, token = people["reviewer"]
    store.close()
    raw = b"".join(p.read_bytes() for p in store.settings.data_dir.glob("cohear.db*"))
    assert token.encode() not in raw
    secret = token.split("_", 2)[2]
    assert secret.encode() not in raw


def test_a_token_signs_in_its_user(store, people):
    user, token = people["researcher"]
    assert authenticate(store, token) == user


@pytest.mark.parametrize("token, words", [
    (None, "needs a cohear API token"),
    ("Bearer-nonsense", "not a cohear token"),
    ("xyz_deadbeef_notthesecret", "not a cohear token"),   # three parts, not cohear's
    ("coh_deadbeef_notthesecret", "not valid"),
])
def test_bad_tokens_are_refused_with_reasons(store, people, token, words):
    with pytest.raises(Unauthorized, match=words):
        authenticate(store, token)


def test_a_wrong_secret_for_a_real_prefix_is_refused(store, people):
    _, token = people["admin"]
    prefix = token.split("_")[1]
    with pytest.raises(Unauthorized, match="not valid"):
        authenticate(store, f"coh_{prefix}_guessed")


def test_revoked_and_expired_tokens_are_refused(store, people):
    _, token = people["collector"]
    revoke_token(store, token.split("_")[1])
    with pytest.raises(Unauthorized, match="revoked"):
        authenticate(store, token)
    _, token2 = people["reviewer"]
    with store.transaction() as conn:
        conn.execute("UPDATE tokens SET expires_at = '2000-01-01T00:00:00.000000Z' "
                     "WHERE prefix = ?", (token2.split("_")[1],))
    with pytest.raises(Unauthorized, match="expired on 2000-01-01"):
        authenticate(store, token2)
    states = {t["prefix"]: t["state"] for t in list_tokens(store)}
    assert states[token.split("_")[1]] == "revoked"
    assert states[token2.split("_")[1]] == "expired"


def test_unknown_role_and_duplicate_name(store, people):
    with pytest.raises(BadInput, match="'wizard' is not a role"):
        create_user(store, "merlin", "wizard")
    with pytest.raises(Conflict, match="already exists"):
        create_user(store, "test-admin", "admin")
    assert store.one("SELECT count(*) FROM users WHERE name = 'merlin'")[0] == 0


def test_users_add_prints_the_token_once(settings):
    env = {"COHEAR_DATA_DIR": str(settings.data_dir), "PATH": ""}
    r = subprocess.run([sys.executable, "-m", "cohear", "users", "add", "amina", "--role",
                        "collector"], env=env, capture_output=True, text=True, check=True)
    token = r.stdout.strip()
    assert token.startswith("coh_")
    listing = subprocess.run([sys.executable, "-m", "cohear", "users", "tokens"], env=env,
                             capture_output=True, text=True, check=True).stdout
    assert token.split("_")[1] in listing and token not in listing
    bad = subprocess.run([sys.executable, "-m", "cohear", "users", "add", "x", "--role", "boss"],
                         env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "not a role" in bad.stderr and "Traceback" not in bad.stderr


# -- the audit log ----------------------------------------------------------------------
def test_every_account_change_is_audited(store, people):
    _, token = people["collector"]
    revoke_token(store, token.split("_")[1], actor=people["admin"][0])
    actions = [e["action"] for e in audit.entries(store.conn, limit=100)]
    assert actions.count("user.create") == len(people)  # each role, and a second collector
    assert "token.revoke" in actions
    revoked = audit.entries(store.conn, limit=1)[0]
    assert revoked["actor_name"] == "test-admin"
    # About whom, and which of their tokens (its public prefix, never the secret).
    assert (revoked["action"], revoked["entity"], revoked["entity_id"], revoked["detail"]) == (
        "token.revoke", "user", str(people["collector"][0].id), f"token {token.split('_')[1]}")


def test_the_audit_log_is_append_only(store, people):
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        with store.transaction() as conn:
            conn.execute("DELETE FROM audit_log")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        with store.transaction() as conn:
            conn.execute("UPDATE audit_log SET actor_name = 'someone else'")


def test_erasure_keeps_the_fact_but_not_the_words(store, people):
    with store.transaction() as conn:
        audit.record(conn, people["reviewer"][0], "transcript.edit", "transcript", 7,
                     before={"text": "my name is Ayesha"}, after={"text": "my name is [name]"})
        erased = audit.erase_words(conn, "transcript", [7])
    assert erased == 1
    entry = audit.entries(store.conn, entity="transcript", entity_id=7)[0]
    assert entry["action"] == "transcript.edit" and entry["actor_name"] == "test-reviewer"
    assert entry["before"] is None and entry["after"] is None and entry["erased"]


# -- roles over HTTP --------------------------------------------------------------------
def test_role_refusal_names_the_role_that_may(api):
    r = api["reviewer"].get("/api/users")
    assert r.status_code == 403
    body = r.json()
    assert "'reviewer'" in body["detail"] and "admin" in body["detail"]
    assert body["title"] == "Not allowed"


def test_admin_adds_a_user_over_http_and_the_token_works(api, live_server):
    r = api["admin"].post("/api/users", json={"name": "bilal", "role": "collector"})
    assert r.status_code == 201
    with live_server.client(r.json()["token"]) as c:
        assert c.get("/api/me").json() == {"id": r.json()["id"], "name": "bilal",
                                            "role": "collector"}


def test_revoked_token_is_refused_over_http(api, people):
    _, token = people["researcher"]
    assert api["researcher"].get("/api/me").status_code == 200
    assert api["admin"].delete(f"/api/tokens/{token.split('_')[1]}").status_code == 204
    r = api["researcher"].get("/api/me")
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


@pytest.mark.parametrize("path, allowed", [
    ("/api/users", {"admin"}),
    ("/api/tokens", {"admin"}),
    ("/api/audit", {"admin"}),
    ("/api/me", {"admin", "communicator", "collector", "reviewer", "researcher"}),
    ("/api/jobs", {"admin", "communicator", "collector", "reviewer", "researcher"}),
    ("/api/models", {"admin", "communicator", "reviewer", "researcher"}),
])
def test_shell_routes_allow_exactly_these_roles(api, path, allowed):
    for role in ("admin", "communicator", "collector", "reviewer", "researcher"):
        status = api[role].get(path).status_code
        assert (status == 200) == (role in allowed), (path, role, status)
    assert api["anonymous"].get(path).status_code == 401


def test_a_collector_cannot_read_another_collectors_job(api, live_server, people):
    from cohear.jobs import JobQueue
    queue = JobQueue(live_server.app.state.store)
    import cohear.maintenance  # noqa: F401 - registers the job kind
    job_id = queue.enqueue("cohear.integrity_check", {}, actor=people["collector"][0])
    assert api["collector"].get(f"/api/jobs/{job_id}").status_code == 200
    with live_server.client(people["collector2"][1]) as other:
        assert other.get(f"/api/jobs/{job_id}").status_code == 404
        assert all(j["id"] != job_id for j in other.get("/api/jobs").json())


def test_a_tokens_last_use_is_recorded_to_the_minute(store, people):
    """`cohear users tokens` shows when each token was last used (an admin spots a token
    still in use, or one never used): signing in records it."""
    _, token = people["reviewer"]
    prefix = token.split("_")[1]

    def last_used() -> str | None:
        return {t["prefix"]: t["last_used_at"] for t in list_tokens(store)}[prefix]

    assert last_used() is None
    authenticate(store, token)
    first = last_used()
    assert first is not None and first[:10] == time.strftime("%Y-%m-%d", time.gmtime())
    with store.transaction() as conn:   # a use a while ago
        conn.execute("UPDATE tokens SET last_used_at = '2020-01-01T00:00:00.000000Z' WHERE prefix = ?",
                     (prefix,))
    authenticate(store, token)
    assert last_used()[:10] == first[:10]
