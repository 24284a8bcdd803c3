"""The authorisation matrix: every route × every role (and anonymous, expired and
revoked tokens), against the one permissions table. A new route that declares no
rule fails here until it does."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from cohear.auth import revoke_token
from cohear.permissions import PERMISSIONS, ROLES

# Routes anyone may call (the reason documents the exception).
PUBLIC = {
    ("GET", "/healthz"): "monitoring",
    ("GET", "/openapi.json"): "the API's own description",
    ("GET", "/docs"): "the API's documentation page",
    ("GET", "/languages"): "LibreTranslate clients list languages before they have a key",
    ("POST", "/languages"): "LibreTranslate answers both GET and POST",
    ("GET", "/frontend/settings"): "LibreTranslate clients read it to learn a key is needed",
    ("GET", "/health"): "LibreTranslate's health check",
    ("GET", "/download_file/{filename}"): "a translated file; its random 128-bit name is the "
                                          "credential, as LibreTranslate's links are (30 min)",
}


def protocol_action(route: APIRoute) -> str | None:
    """Routes that speak another product's protocol (LibreTranslate, OpenAI) check the
    same permissions table in their own error shape, and name the action they check."""
    return (route.openapi_extra or {}).get("x-cohear-action")


def refusal(route: APIRoute, who: str) -> int:
    """The status a route answers a refused caller with: 401 for no key or a key that
    is invalid, expired or revoked, 403 for a role that may not. A protocol route answers
    as the product it imitates does and declares it in `x-cohear-refusals` (OpenAI: 401
    for a key without the scope; LibreTranslate: 400 for no key, 403 for a bad one)."""
    default = {"anonymous": 401, "invalid": 401, "forbidden": 403}[who]
    return ((route.openapi_extra or {}).get("x-cohear-refusals") or {}).get(who, default)


def route_action(route: APIRoute) -> str | None:
    """The permission the route checks: an `allow(...)` dependency, or a protocol route's."""
    if protocol_action(route):
        return protocol_action(route)
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        action = getattr(dep.call, "action", None)
        if action:
            return action
        stack.extend(dep.dependencies)
    return None


def api_routes(app):
    """(method, full path, APIRoute) for every route, through included routers too."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before route contexts: app.routes is already flat
        pairs = [(r.path, r) for r in app.routes]
    else:
        pairs = [(ctx.path, ctx.original_route) for ctx in iter_route_contexts(app.routes)]
    for path, route in pairs:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                yield method, path, route


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_declares_who_may_call_it(live_server):
    missing = []
    for method, path, route in api_routes(live_server.app):
        if (method, path) in PUBLIC:
            continue
        action = route_action(route)
        if action is None:
            missing.append(f"{method} {path}")
        elif action is not None:
            assert action in PERMISSIONS, f"{method} {path}: unknown action {action}"
    assert not missing, "routes with no permission rule: " + ", ".join(missing)


def test_each_role_gets_exactly_its_allowed_routes(api, live_server):
    checked = 0
    for method, path, route in api_routes(live_server.app):
        action = route_action(route)
        if action is None:
            continue
        path = concrete(path)
        for role in ROLES:
            r = api[role].request(method, path)
            allowed = role in PERMISSIONS[action]
            if allowed:
                assert r.status_code not in (401, 403), (method, path, role, r.status_code, r.text)
            else:
                assert r.status_code == refusal(route, "forbidden"), (method, path, role,
                                                                      r.status_code, r.text)
                if not protocol_action(route):
                    assert "may not do this" in r.json()["detail"]
            checked += 1
        assert api["anonymous"].request(method, path).status_code == refusal(route, "anonymous"), \
            (method, path)
    assert checked >= 5 * 6


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_revoked_and_expired_tokens_open_no_route(api, live_server, people, how):
    store = live_server.app.state.store
    _, token = people["admin"]
    prefix = token.split("_")[1]
    if how == "revoked":
        revoke_token(store, prefix)
    else:
        with store.transaction() as conn:
            conn.execute("UPDATE tokens SET expires_at = '2001-01-01T00:00:00.000000Z' "
                         "WHERE prefix = ?", (prefix,))
    for method, path, route in api_routes(live_server.app):
        if route_action(route) is None:
            continue
        r = api["admin"].request(method, concrete(path))
        assert r.status_code == refusal(route, "invalid"), (method, path, r.status_code)
        assert how in r.text
