"""The front door (`GET /`): a small page of cohear's own saying what this server is, its
version, whether the Whisper model is verified and which translation packs are installed
(facts about the machine, never about people), with links to the field page, the API
documentation and the browser workspace, and how to start the terminal app.

`Accept: application/json` gets the same facts as JSON. Anyone may read it, like
`/healthz`. The page loads nothing: its one style block is allowed by its hash, and it
carries the field page's security headers.
"""

from __future__ import annotations

import base64
import hashlib
import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from cohear import __version__
from cohear.store import Store

router = APIRouter(tags=["shell"])

STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d1d1d; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
.lead { color: #444; margin-top: 0; }
dt { font-weight: 600; margin-top: .6rem; }
dd { margin-left: 0; }
a { color: #005eb8; }
code { background: #f0f4f5; padding: .1rem .3rem; }
.ok { color: #007f3b; } .no { color: #b3261e; }
ul { padding-left: 1.2rem; }
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
# The field page's headers (webcollect.api), with a CSP that lets the page's own style
# block in by its hash and nothing else at all (no script, no image, no font, no fetch).
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=(), payment=(), usb=()",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-cache",   # as the field page itself: always asked again
}
WORKSPACE_PORT = 8001      # `cohear tui --web`'s default port


class WhisperFacts(BaseModel):
    model: str
    verified: bool


class PackFacts(BaseModel):
    source: str
    target: str
    name: str


class FrontDoorOut(BaseModel):
    name: str
    about: str
    version: str
    whisper: WhisperFacts
    translation_packs: list[PackFacts]
    links: dict[str, str]
    terminal_app: str


def facts(store: Store, request_host: str | None = None) -> dict:
    """What the front door tells anyone: the software and the machine, nothing else."""
    from cohear import models
    settings = store.settings
    wanted = settings.whisper_model
    listed = {m["name"]: m for m in models.list_models(store)}
    model = listed.get(wanted)
    try:
        from language_packs.packs import installed_pairs
        packs = [{"source": p["source"], "target": p["target"], "name": p["name"]}
                 for p in installed_pairs(store)]
    except ImportError:  # pragma: no cover - cohear without language packs
        packs = []
    workspace = settings.workspace_url or (
        f"http://{request_host or '127.0.0.1'}:{WORKSPACE_PORT}/")
    return {
        "name": "cohear",
        "about": "An offline toolkit for health teams to talk with, and listen to, "
                 "communities in their own languages: health messages translated and "
                 "reviewed, co-production surveys, voice answers transcribed and coded.",
        "version": __version__,
        "whisper": {"model": wanted,
                    "verified": bool(model and model["verified"] and model["present"])},
        "translation_packs": packs,
        "links": {"field_page": "/collect/", "api_documentation": "/docs",
                  "openapi": "/openapi.json", "health": "/healthz",
                  "browser_workspace": workspace},
        "terminal_app": "cohear tui --token YOUR_TOKEN",
    }


def wants_json(accept: str | None) -> bool:
    """Whether `Accept` prefers application/json to text/html (a browser's does not)."""
    weights: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[media.strip().lower()] = q
    json_q = weights.get("application/json", 0.0)
    html_q = max(weights.get("text/html", 0.0), weights.get("*/*", 0.0) if not json_q else 0.0)
    return json_q > 0 and json_q >= html_q


def page(f: dict) -> str:
    e = html.escape
    packs = "".join(f"<li><code>{e(p['source'])}</code> → <code>{e(p['target'])}</code> "
                    f"({e(p['name'])})</li>" for p in f["translation_packs"])
    whisper = f["whisper"]
    verified = ('<span class="ok">verified</span>' if whisper["verified"] else
                '<span class="no">not installed or not verified</span>: run '
                '<code>cohear models install</code>')
    links = f["links"]
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cohear {e(f['version'])}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>cohear</h1>
<p class="lead">{e(f['about'])}</p>
<dl>
<dt>Version</dt><dd>{e(f['version'])}</dd>
<dt>Speech recognition</dt><dd>Whisper model <code>{e(whisper['model'])}</code>: {verified}</dd>
<dt>Translation packs installed</dt>
<dd>{f"<ul>{packs}</ul>" if packs else "none: every language goes to human translators "
     "until an admin runs <code>cohear packs install</code>"}</dd>
</dl>
<h2>Where to go</h2>
<ul>
<li><a href="{e(links['field_page'])}">The field page</a>: community leaders run surveys
from a phone.</li>
<li><a href="{e(links['browser_workspace'])}">The workspace in a browser</a>: messages,
translations, surveys and review, with the same token (started on the server with
<code>cohear tui --web</code>).</li>
<li><a href="{e(links['api_documentation'])}">The API documentation</a>
(<a href="{e(links['openapi'])}">OpenAPI</a>, <a href="{e(links['health'])}">health</a>).</li>
</ul>
<h2>The terminal app</h2>
<p>On the server, or over SSH: <code>{e(f['terminal_app'])}</code> (or set
<code>COHEAR_TOKEN</code>). An admin issues tokens with <code>cohear users token NAME</code>.</p>
</main>
</body>
</html>
"""


_HTML_200 = {200: {"description": "the front door, as a page or (Accept: application/json) "
                                  "as JSON", "content": {"text/html": {}}}}


@router.get("/", response_model=FrontDoorOut, responses=_HTML_200)
def front_door(request: Request) -> Response:
    """What this server is, for anyone: a page, or JSON with `Accept: application/json`."""
    found = facts(request.app.state.store, request.url.hostname)
    if wants_json(request.headers.get("accept")):
        response: Response = JSONResponse(FrontDoorOut(**found).model_dump())
    else:
        response = HTMLResponse(page(found))
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


@router.head("/", include_in_schema=False)
def front_door_head(request: Request) -> Response:
    """HEAD answers as GET does, headers only (the server drops the body): uptime monitors
    and link checkers ask with HEAD, and a 405 reads to them as the server being down."""
    return front_door(request)
