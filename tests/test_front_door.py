"""The front door (`GET /`) on a real server: a page of cohear's own (or JSON) that says
what the server is, its version, the Whisper model's state and the installed packs,
links onward, loads nothing, carries the field page's security headers, and tells
nobody anything about people."""

from __future__ import annotations

import base64
import hashlib
import re

from cohear import __version__
from cohear.frontdoor import wants_json

BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                  "image/webp,*/*;q=0.8")


def test_a_browser_gets_a_page_that_loads_nothing_and_links_onward(api, people):
    answer = api["anonymous"].get("/", headers={"Accept": BROWSER_ACCEPT})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert f"<title>cohear {__version__}</title>" in page
    assert "not installed or not verified" in page and "cohear models install" in page
    assert "none: every language goes to human translators" in page
    for href in ('href="/collect/"', 'href="/docs"', 'href="http://127.0.0.1:8001/"'):
        assert href in page
    assert "cohear tui --token YOUR_TOKEN" in page and "cohear tui --web" in page
    # Nothing to fetch: no script, stylesheet, image, font or frame, inline or not.
    assert not re.search(r"<(script|link|img|iframe|object|embed|audio|video)\b", page, re.I)
    assert " src=" not in page and "url(" not in page and "@import" not in page
    # The one style block is exactly the one the policy lets in by its hash.
    [style] = re.findall(r"<style>(.*?)</style>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in answer.headers["content-security-policy"]


def test_the_page_carries_the_field_pages_security_headers(api):
    door = api["anonymous"].get("/", headers={"Accept": BROWSER_ACCEPT}).headers
    field = api["anonymous"].get("/collect/").headers
    for name in ("x-content-type-options", "referrer-policy", "permissions-policy",
                 "x-frame-options", "cross-origin-opener-policy", "cross-origin-resource-policy",
                 "cache-control"):
        assert door[name] == field[name], name
    policy = {d.split()[0]: d.split()[1:] for d in door["content-security-policy"].split("; ")}
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in door["content-security-policy"]
    assert set(policy) == {"default-src", "style-src", "base-uri", "form-action",
                           "frame-ancestors", "object-src"}


def test_json_gives_the_same_facts(store, api, whisper_model, copy_packs):
    facts = api["anonymous"].get("/", headers={"Accept": "application/json"})
    assert facts.status_code == 200 and facts.headers["content-type"] == "application/json"
    body = facts.json()
    assert body["version"] == __version__ and body["name"] == "cohear"
    assert body["whisper"] == {"model": "base", "verified": True}
    pairs = {(p["source"], p["target"]) for p in body["translation_packs"]}
    assert ("en", "ur") in pairs and ("en", "zh-Hant") in pairs
    assert body["links"]["field_page"] == "/collect/"
    assert body["links"]["browser_workspace"] == "http://127.0.0.1:8001/"
    page = api["anonymous"].get("/").text
    assert "Whisper model <code>base</code>: <span class=\"ok\">verified</span>" in page
    assert "<code>en</code> → <code>ur</code>" in page
    assert facts.headers["content-security-policy"].startswith("default-src 'none'")


def test_it_says_nothing_about_people(store, api, people):
    from comms import service as comms
    comms.create_message(store, people["communicator"][0], title="Mrs Begum's reminder",
                         source_text="Your appointment is on Tuesday.", channel="sms")
    for accept in (BROWSER_ACCEPT, "application/json"):
        for who in ("anonymous", "admin"):
            text = api[who].get("/", headers={"Accept": accept}).text
            assert "Begum" not in text and "appointment" not in text
            assert not any(user.name in text for user, _ in people.values())


def test_a_workspace_address_from_the_settings(settings, store, people):
    from tests.conftest import LiveServer
    with LiveServer(settings.replace(workspace_url="https://cohear.example.nhs.uk/workspace/")
                    ) as server, server.client() as client:
        body = client.get("/", headers={"Accept": "application/json"}).json()
    assert body["links"]["browser_workspace"] == "https://cohear.example.nhs.uk/workspace/"


def test_which_answer_an_accept_header_gets():
    assert not wants_json(None) and not wants_json("*/*") and not wants_json(BROWSER_ACCEPT)
    assert wants_json("application/json") and wants_json("application/json, */*;q=0.1")
    assert not wants_json("text/html;q=1, application/json;q=0.5")
    assert wants_json("text/html;q=0.5, application/json")


def test_head_answers_as_get_does(api):
    got = api["anonymous"].get("/", headers={"Accept": BROWSER_ACCEPT})
    head = api["anonymous"].head("/", headers={"Accept": BROWSER_ACCEPT})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-security-policy"] == got.headers["content-security-policy"]
