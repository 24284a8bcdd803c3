"""Fuzzing over real HTTP, in the fixture world (tests/authz_world.py), as every role and
anonymously.

- Schemathesis over cohear's own OpenAPI description, COHEAR_FUZZ_EXAMPLES examples per
  operation (20 by default): no 5xx, every status the operation answers is documented
  in its description, every body matches its documented schema and media type (errors
  are RFC 9457 problems), and no body shows a stack trace. A longer run:
  `COHEAR_FUZZ_EXAMPLES=200 python3 dev.py test tests/test_fuzz_api.py`.
- Hypothesis over the routes the description leaves out or cannot describe (they read
  their own bodies): the LibreTranslate-compatible routes and the field page's link
  exchange, with JSON, forms, raw bytes and nonsense; each answers in its own documented
  shape, never a 5xx.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("COHEAR_FUZZ_EXAMPLES", "20"))
LEAKS = ("Traceback (most recent call last)", 'File "/', "sqlite3.", "Exception:")
IDENTITIES = ("admin", "communicator", "collector", "reviewer", "researcher", "anonymous")
CHECKS = (not_a_server_error, status_code_conformance, response_schema_conformance,
          content_type_conformance)
FUZZ = dict(deadline=None, database=None, derandomize=True,
            suppress_health_check=list(HealthCheck))


def headers_for(world, who: str) -> dict:
    token = world.tokens.get(who)
    return {"Authorization": f"Bearer {token}"} if token else {}


def test_every_operation_as_every_role(live_server, world):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    problems: dict[str, set[str]] = defaultdict(set)
    statuses: Counter = Counter()
    reached: set[str] = set()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=EXAMPLES, phases=[Phase.explicit, Phase.generate], **FUZZ)
        @given(case=operation.as_strategy())
        def fuzz(case):
            for who in IDENTITIES:
                response = case.call(base_url=live_server.url, headers=headers_for(world, who))
                statuses[f"{response.status_code // 100}xx"] += 1
                if response.status_code < 300:
                    reached.add(case.operation.path + " " + case.method)
                where = f"{case.method} {case.operation.path}"
                text = response.content.decode("utf-8", "replace")
                leak = next((marker for marker in LEAKS if marker in text), None)
                if leak:
                    problems[where].add(f"as {who}: the body shows internals ({leak!r})")
                for check in CHECKS:
                    try:
                        case.validate_response(response, checks=[check])
                    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - all at the end
                        first = str(exc).splitlines()[0][:200]
                        problems[where].add(f"{check.__name__}: {response.status_code} as "
                                            f"{who}: {first} ({response.text[:200]!r})")

        fuzz()
    assert operations >= 100
    print(f"{operations} operations, {sum(statuses.values())} calls: "
          + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
          + f"; {len(reached)} operations answered a 2xx at least once")
    report = [f"{op}\n    " + "\n    ".join(sorted(found)[:4]) for op, found in
              sorted(problems.items())]
    assert not problems, f"{len(problems)} operations failed:\n" + "\n".join(report[:40])


# -- the routes outside the description ---------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
TEXT = st.text(max_size=120)
LT_FIELDS = st.fixed_dictionaries({}, optional={
    "q": TEXT | st.lists(TEXT, max_size=4) | JSON,
    "source": st.sampled_from(["en", "ur", "auto", "pl", "xx", "", "EN"]) | JSON,
    "target": st.sampled_from(["ur", "en", "bn", "zz", ""]) | JSON,
    "format": st.sampled_from(["text", "html", "pdf"]) | JSON,
    "api_key": st.sampled_from(["", "coh_x_y", "nonsense"]) | TEXT,
    "alternatives": JSON,
})


def _form(fields: dict) -> dict:
    """A form can carry only text: anything else is sent as its JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}


BODIES = st.one_of(
    st.builds(lambda f: {"json": f}, LT_FIELDS),
    st.builds(lambda f: {"data": _form(f)}, LT_FIELDS),
    st.builds(lambda f: {"params": _form(f)}, LT_FIELDS),
    st.builds(lambda v: {"json": v}, JSON),
    st.builds(lambda b, t: {"content": b, "headers": {"Content-Type": t}}, st.binary(max_size=200),
              st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                               "multipart/form-data; boundary=x", "text/plain",
                               "application/json; charset=latin-1"])),
    st.just({}),
)
EXCHANGE_BODIES = st.one_of(
    st.builds(lambda c: {"json": {"code": c}}, TEXT | JSON),
    st.builds(lambda v: {"json": v}, JSON),
    st.builds(lambda b, t: {"content": b, "headers": {"Content-Type": t}}, st.binary(max_size=200),
              st.sampled_from(["application/json", "text/plain", "application/octet-stream"])),
    st.just({}),
)
ROUTES = {("POST", "/translate"): BODIES, ("POST", "/detect"): BODIES,
          ("GET", "/languages"): BODIES, ("POST", "/languages"): BODIES,
          ("GET", "/frontend/settings"): BODIES,
          ("POST", "/collect/api/links/exchange"): EXCHANGE_BODIES}


def _shape_problem(method: str, path: str, r) -> str | None:
    """What is wrong with an answer of a route outside the description, if anything."""
    if r.status_code >= 500:
        return f"a server error: {r.status_code}"
    if any(marker in r.text for marker in LEAKS):
        return "the body shows internals"
    try:
        body = r.json()
    except ValueError:
        return f"not JSON: {r.text[:80]!r}"
    if path == "/collect/api/links/exchange":
        if r.status_code >= 400:
            ok = (r.headers["content-type"].startswith("application/problem+json")
                  and isinstance(body.get("detail"), str) and body.get("status") == r.status_code)
        else:
            ok = {"token", "collector", "expires_at"} <= set(body)
        return None if ok else f"not the documented shape: {r.status_code} {body!r:.120}"
    if r.status_code >= 400:  # LibreTranslate's error shape
        ok = isinstance(body, dict) and isinstance(body.get("error"), str)
    elif path == "/translate":
        text = body.get("translatedText") if isinstance(body, dict) else None
        ok = isinstance(text, str) or (isinstance(text, list)
                                       and all(isinstance(t, str) for t in text))
    elif path == "/detect":
        ok = isinstance(body, list) and all({"language", "confidence"} <= set(d) for d in body)
    elif path == "/languages":
        ok = isinstance(body, list) and all({"code", "name", "targets"} <= set(d) for d in body)
    else:
        ok = isinstance(body, dict) and "keyRequired" in body
    return None if ok else f"not the documented shape: {r.status_code} {body!r:.120}"


def _fuzzer(clients: dict, method: str, path: str, bodies, problems: set[str]):
    @settings(max_examples=EXAMPLES * 3, phases=[Phase.generate], **FUZZ)
    @given(request=bodies, who=st.sampled_from(IDENTITIES))
    def fuzz(request, who):
        r = clients[who].request(method, path, **request)
        found = _shape_problem(method, path, r)
        if found:
            problems.add(f"{method} {path} as {who} with {request!r:.160}: {found}")

    return fuzz


def test_routes_outside_the_description_as_every_role(live_server, world):
    problems: set[str] = set()
    clients = {who: live_server.client(world.tokens.get(who)) for who in IDENTITIES}
    try:
        for (method, path), bodies in ROUTES.items():
            _fuzzer(clients, method, path, bodies, problems)()
    finally:
        for client in clients.values():
            client.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(sorted(problems)[:30])
