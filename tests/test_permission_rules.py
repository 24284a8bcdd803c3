"""The rules of cohear's one permissions table (cohear/permissions.py, README "Who may do
what"), checked on the table's own functions: a domain's actions are added only with known
roles, a role limited to its own must be allowed the action at all, a refusal names exactly
the roles that may, and the API reads a bearer token as RFC 6750 sends it."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from cohear import permissions
from cohear.auth import Unauthorized, User, authenticate
from cohear.deps import bearer
from cohear.errors import Forbidden


@pytest.fixture
def tables(monkeypatch):
    """The tables as they are, restored after the test (register changes them in place)."""
    monkeypatch.setattr(permissions, "PERMISSIONS", dict(permissions.PERMISSIONS))
    monkeypatch.setattr(permissions, "OWN_ONLY", dict(permissions.OWN_ONLY))


def test_registering_an_action_allows_exactly_its_roles(tables):
    permissions.register({"test.read": {"reviewer", "researcher"}, "test.write": {"admin"}})
    for role in permissions.ROLES:
        assert permissions.allowed(role, "test.read") == (role in {"reviewer", "researcher"})
        assert permissions.allowed(role, "test.write") == (role == "admin")
        assert not permissions.limited_to_own(role, "test.read")


def test_an_unknown_role_is_refused_and_nothing_is_registered(tables):
    with pytest.raises(ValueError, match="boss"):
        permissions.register({"test.boss": {"admin", "boss"}})
    assert "test.boss" not in permissions.PERMISSIONS


def test_own_only_limits_the_roles_named_and_only_them(tables):
    permissions.register({"test.sessions": {"admin", "collector"}},
                         own_only={"test.sessions": {"collector"}})
    assert permissions.limited_to_own("collector", "test.sessions")
    assert not permissions.limited_to_own("admin", "test.sessions")
    assert permissions.allowed("collector", "test.sessions")


def test_own_only_for_a_role_not_allowed_the_action_is_refused(tables):
    with pytest.raises(ValueError, match="not allowed it at all"):
        permissions.register({"test.codes": {"admin", "reviewer"}},
                             own_only={"test.codes": {"collector"}})
    assert "test.codes" not in permissions.OWN_ONLY
    # Allowed to every role it limits: accepted.
    permissions.register({"test.codes": {"admin", "reviewer"}}, own_only={"test.codes": {"reviewer"}})
    assert permissions.limited_to_own("reviewer", "test.codes")


@pytest.mark.parametrize("roles, words", [
    ({"admin"}, "admin"),
    ({"admin", "reviewer"}, "admin or reviewer"),
    ({"researcher", "admin", "reviewer"}, "admin, researcher or reviewer"),
    ({"admin", "communicator", "collector", "reviewer", "researcher"},
     "admin, collector, communicator, researcher or reviewer"),
])
def test_a_refusal_names_exactly_the_roles_that_may(tables, roles, words):
    permissions.register({"test.action": roles})
    assert permissions.who_may("test.action") == words
    refused = next(r for r in permissions.ROLES if r not in roles) if len(roles) < 5 else None
    if refused:
        with pytest.raises(Forbidden) as no:
            User(7, "sam", refused).require("test.action")
        assert no.value.fix == f"ask someone with the role {words}"
    User(8, "kim", sorted(roles)[0]).require("test.action")  # allowed: no refusal


def request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode("latin-1"))]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize("header, token", [
    ("Bearer coh_ab_cd", "coh_ab_cd"),
    ("bearer coh_ab_cd", "coh_ab_cd"),      # the scheme is case-insensitive (RFC 7235)
    ("BEARER   coh_ab_cd  ", "coh_ab_cd"),
    ("Basic dXNlcjpwYXNz", None),
    ("Bearer", None),
    ("Bearercoh_ab_cd", None),
    ("", None),
    (None, None),
])
def test_a_bearer_token_is_read_as_rfc_6750_sends_it(header, token):
    assert bearer(request(header)) == token


def test_any_case_of_the_scheme_signs_in(store, people):
    user, token = people["reviewer"]
    for scheme in ("Bearer", "bearer", "BEARER"):
        assert authenticate(store, bearer(request(f"{scheme} {token}"))).id == user.id
    with pytest.raises(Unauthorized):
        authenticate(store, bearer(request(f"Basic {token}")))


def test_own_only_may_limit_every_role_allowed_and_an_unknown_action_is_refused(tables):
    permissions.register({"test.own": {"collector"}}, own_only={"test.own": {"collector"}})
    assert permissions.limited_to_own("collector", "test.own")
    with pytest.raises(ValueError, match="not allowed it at all"):
        permissions.register({}, own_only={"test.never_registered": {"collector"}})


@pytest.mark.parametrize("given", ["prefix", "whole token"])
def test_a_token_is_revoked_by_its_prefix_or_by_the_whole_token(store, people, given):
    """`cohear users revoke PREFIX` takes the prefix `cohear users tokens` lists, or the whole
    token as it was handed out (say, one found pasted somewhere)."""
    from cohear.auth import revoke_token
    _, token = people["reviewer"]
    _, other = people["researcher"]
    revoke_token(store, token.split("_")[1] if given == "prefix" else token)
    with pytest.raises(Unauthorized, match="revoked"):
        authenticate(store, token)
    assert authenticate(store, other).role == "researcher"


def test_a_user_may_exactly_what_their_role_may():
    """The TUI and the services ask `user.may` before offering an action: the same answer
    as the table, for every role and action."""
    for action in permissions.PERMISSIONS:
        for role in permissions.ROLES:
            assert User(1, "someone", role).may(action) == (role in permissions.PERMISSIONS[action])
