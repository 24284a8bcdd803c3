"""The workspace in a browser (`cohear tui --web`): textual-serve runs one `cohear tui`
process per browser tab, each opening on the token screen, and relays it to xterm.js.

cohear serves its own page, not textual-serve's template, which loads Roboto Mono from
Google's CDN: ours loads textual-serve's JavaScript, CSS and fonts from the installed
wheel and nothing from anywhere else. Every answer carries security headers; the
websocket that starts an app process is refused from another site's page (its Origin
must be this server), for a Host this server does not answer to when bound to this
machine (DNS rebinding), and beyond `max_sessions` processes at once, since anyone who
reaches the port can open the token screen.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from textual_serve.server import Server

from cohear.errors import BadInput

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_PORT = 8001
MAX_SESSIONS = 16
PAGE = Path(__file__).parent / "web_page"
# xterm.js writes its own <style> elements (the renderer's cell sizes, the theme), so
# styles may be inline; scripts, fonts and connections come from this server only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "microphone=(), camera=(), geolocation=(), payment=(), usb=()",
    "Cache-Control": "no-store",
}


def check_bind(host: str, allow_remote: bool) -> None:
    """Refuse an address beyond this machine unless asked for on purpose."""
    if host not in LOCAL_HOSTS and not allow_remote:
        raise BadInput(f"the browser workspace would listen on {host}, beyond this machine",
                       fix="add --allow-remote, and put it behind the same TLS proxy as the "
                           "API (cohear has no TLS of its own; tokens would cross the "
                           "network in clear)")


def app_command(data_dir: Path, *, reorder_rtl: bool = False) -> str:
    """The command each tab's app process runs: the token screen, never a token from the
    server's environment."""
    parts = [sys.executable, "-m", "cohear", "--data-dir", str(data_dir), "tui", "--sign-in"]
    if reorder_rtl:
        parts.append("--rtl-reorder")
    return " ".join(shlex.quote(p) for p in parts)


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        for name, value in SECURITY_HEADERS.items():
            exc.headers.setdefault(name, value)
        raise
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class WorkspaceServer(Server):
    """textual-serve's server with cohear's page, headers and websocket checks."""

    def __init__(self, command: str, *, host: str, port: int, allow_remote: bool,
                 public_url: str | None = None, max_sessions: int = MAX_SESSIONS):
        super().__init__(command, host=host, port=port, title="cohear workspace",
                         public_url=public_url)
        self.allow_remote = allow_remote
        self.configured_url = public_url
        self.max_sessions = max_sessions
        self.sessions = 0
        self.page = jinja2.Environment(loader=jinja2.FileSystemLoader(PAGE),
                                       autoescape=True).get_template("workspace.html")

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[security_headers])
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
            web.get("/cohear/workspace.css", self.handle_css),
        ])
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    def base_url(self, request: web.Request) -> str:
        """Where the browser reached us: the configured public URL (behind a proxy), else
        the scheme and Host of the request."""
        if self.configured_url:
            return self.configured_url.rstrip("/")
        return f"{request.scheme}://{request.host}"

    def host_allowed(self, request: web.Request) -> bool:
        """Bound to this machine, answer only to this machine's names (a page on another
        site whose name was made to point here cannot drive the workspace)."""
        if self.allow_remote:
            return True
        name = urlsplit(f"//{request.host}").hostname or ""
        return name in LOCAL_HOSTS

    async def handle_index(self, request: web.Request) -> web.Response:
        if not self.host_allowed(request):
            raise web.HTTPMisdirectedRequest(text="this workspace answers on this machine only")
        base = self.base_url(request)
        scheme = "wss" if base.startswith("https") else "ws"
        font_size = request.query.get("fontsize", "16")
        html = self.page.render(
            static_url=f"{base}/static/", cohear_url=f"{base}/cohear/", page_url=f"{base}/",
            websocket_url=f"{scheme}:{base.split(':', 1)[1]}/ws",
            font_size=font_size if font_size.isdigit() and 8 <= int(font_size) <= 40 else "16")
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def handle_css(self, request: web.Request) -> web.Response:
        return web.Response(text=(PAGE / "workspace.css").read_text(encoding="utf-8"),
                            content_type="text/css", charset="utf-8")

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin", "")
        allowed = {self.base_url(request), f"{request.scheme}://{request.host}"}
        if not self.host_allowed(request) or origin.rstrip("/") not in allowed:
            raise web.HTTPForbidden(text="the workspace is opened from its own page only")
        if self.sessions >= self.max_sessions:
            raise web.HTTPServiceUnavailable(
                text=f"{self.max_sessions} workspace sessions are open already; close one")
        self.sessions += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1

    async def on_startup(self, app: web.Application) -> None:
        # textual-serve prints a banner; cohear says where it is and what it needs.
        self.console.print(f"cohear workspace on {self.public_url}/  (each tab signs in "
                           "with its own token; Ctrl+C stops)", highlight=False)


def serve(data_dir: Path, *, host: str, port: int, allow_remote: bool,
          public_url: str | None = None, reorder_rtl: bool = False,
          max_sessions: int = MAX_SESSIONS) -> None:
    """Run the browser workspace until stopped."""
    check_bind(host, allow_remote)
    # No app process may inherit a token: each tab signs in for itself.
    os.environ.pop("COHEAR_TOKEN", None)
    server = WorkspaceServer(app_command(data_dir, reorder_rtl=reorder_rtl), host=host,
                             port=port, allow_remote=allow_remote, public_url=public_url,
                             max_sessions=max_sessions)
    server.serve()
