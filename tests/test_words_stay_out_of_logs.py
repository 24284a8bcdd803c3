"""People's words never reach a job's error or a log line. Each failure here is planted
so that the exception's own message quotes people's words (as libraries' messages
quote their input): in an export, a transcription, a translation, an API route and the
Argos English rendering. The job record shows a category and a reference, the log line
that reference and where in the code it failed; neither holds the words."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest

from tests.conftest import DEMO_DATA

WORDS = "Maryam Quellbrook told us 07700 900461 about the clinic"
TOKENS = ("Quellbrook", "900461")


class Everything(logging.Handler):
    """Every log record of the process, as a plain formatter prints it (exception text
    and all), so a message quoted anywhere in a record would show here."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def log_lines():
    handler = Everything()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)


def assert_no_words(where: str, text: str) -> None:
    lines = [line for line in text.splitlines() if any(t in line for t in TOKENS)]
    assert not lines, f"{where} holds people's words: {lines[:5]}"


def wait_failed(client, job_id: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("failed", "done", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end")


@pytest.fixture
def answered(store, people):
    """A survey with a typed answer holding WORDS and a voice answer."""
    from surveys import service
    comm, collector = people["communicator"][0], people["collector"][0]
    s = service.create_survey(store, comm, title="Logs", purpose="p", base_language="en",
                              questions=[{"kind": "consent", "name": "c", "text": "Agree?"},
                                         {"kind": "open", "name": "o", "text": "Say"}])
    service.open_language(store, comm, s["id"], "en")
    q = s["questions"][1]["id"]
    session = service.start_session(store, collector, s["id"], "en")
    service.record_consent(store, collector, session["id"], method="tick")
    typed = service.submit_answer(store, collector, session["id"], q, text=WORDS)
    return {"survey": s["id"], "answer": typed["id"], "question": q}


def check_job(api, job: dict, log_lines) -> None:
    assert job["status"] == "failed", job
    assert_no_words(f"job {job['id']}'s error", job["error"] or "")
    ref = re.search(r"reference ([0-9a-f]{12})", job["error"]).group(1)
    # The reference leads an admin to the log line, which says where it failed.
    line = next(line for line in log_lines.lines if ref in line)
    assert f"job {job['id']}" in line and ".py:" in line
    failed = api["reviewer"].get("/api/jobs", params={"status": "failed"}).json()
    assert_no_words("the failed jobs list", str(failed))


def test_a_failed_export_keeps_the_answers_words_out_of_its_error_and_the_log(
        api, answered, monkeypatch, log_lines):
    from surveys import exports

    def write_csv(path, columns, rows, tick):
        first = next(iter(rows))
        raise ValueError(f"cannot write the cell {first['answer_text']!r}")  # as csv libs do

    monkeypatch.setattr(exports, "_write_csv", write_csv)
    r = api["researcher"].post("/api/exports", json={"survey_id": answered["survey"],
                                                     "format": "csv"})
    assert r.status_code == 202, r.text
    job = wait_failed(api["admin"], r.json()["job_id"])
    check_job(api, job, log_lines)
    assert job["error"].startswith("ValueError; reference ")
    assert_no_words("the log", log_lines.text())


def test_a_failed_transcription_keeps_words_out(api, people, answered, monkeypatch,
                                                log_lines, whisper_model):
    from speech import jobs as speech_jobs

    def transcribe_many(*args, **kwargs):
        raise RuntimeError(f"the decoder choked on: {WORDS}")

    monkeypatch.setattr(speech_jobs, "transcribe_many", transcribe_many)
    r = api["collector"].post("/api/recordings", files={"file": (
        "a.wav", (DEMO_DATA / "flu-vaccine-en.wav").read_bytes(), "audio/wav")},
        data={"transcribe": "true"})
    assert r.status_code == 201, r.text
    job = wait_failed(api["admin"], r.json()["job"]["id"])
    check_job(api, job, log_lines)
    assert_no_words("the log", log_lines.text())


def test_a_failed_translation_keeps_words_out(api, people, monkeypatch, log_lines, copy_packs):
    from comms import service as comms

    message = api["communicator"].post("/api/messages", json={
        "title": "Clinic", "channel": "sms", "source_text": "Your clinic is open."}).json()

    def translate_messages(store, actor, message_ids, languages, **kwargs):
        raise ValueError(f"no pack could take {WORDS}")

    monkeypatch.setattr(comms, "translate_messages", translate_messages)
    r = api["communicator"].post("/api/messages/translate", json={
        "message_ids": [message["id"]], "languages": ["ur"], "background": True})
    assert r.status_code == 202, r.text
    job = wait_failed(api["admin"], r.json()["job_id"])
    check_job(api, job, log_lines)
    assert_no_words("the log", log_lines.text())


def test_an_unexpected_error_in_a_route_logs_a_reference_not_the_words(api, answered,
                                                                       monkeypatch, log_lines):
    from surveys import service

    def broken(store, actor, answer_id):
        raise KeyError(WORDS)

    monkeypatch.setattr(service, "get_answer", broken)
    r = api["reviewer"].get(f"/api/answers/{answered['answer']}")
    assert r.status_code == 500
    ref = r.json()["reference"]
    assert_no_words("the problem", r.text)
    line = next(line for line in log_lines.lines if ref in line)
    assert "KeyError" in line and "api.py:" in line
    assert_no_words("the log", log_lines.text())


def test_a_failed_english_rendering_logs_its_category_only(store, monkeypatch, log_lines):
    from language_packs import engine as engine_module
    from speech.jobs import argos_english

    class Engine:
        def can_translate(self, source, target):
            return True

        def translate(self, texts, source, target):
            raise ValueError(f"cannot split {texts[0]!r}")

    monkeypatch.setattr(engine_module, "get_engine", lambda store: Engine())
    assert argos_english(store, WORDS, "ur") is None
    assert "ValueError" in log_lines.text()
    assert_no_words("the log", log_lines.text())


def test_the_word_free_formatter_keeps_library_messages_out(log_lines):
    """Defence in depth for log lines cohear does not write itself (a library's)."""
    from cohear.logs import WordFreeFormatter
    try:
        try:
            raise UnicodeError(f"bad byte in {WORDS}")
        except UnicodeError as exc:
            raise ValueError(f"could not read {WORDS}") from exc
    except ValueError as exc:
        record = logging.LogRecord("lib", logging.ERROR, __file__, 1, "failed: %s", (exc,),
                                   (type(exc), exc, exc.__traceback__))
    text = WordFreeFormatter().format(record)
    assert_no_words("the formatted line", text)
    assert "failed: ValueError" in text and "UnicodeError" in text
    assert "test_words_stay_out_of_logs.py:" in text


def test_uvicorn_access_lines_lose_their_query_string():
    from cohear.logs import NoQueryStrings
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "POST", f"/translate?q={WORDS}&api_key=coh_x",
                                "1.1", 200), None)
    NoQueryStrings().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "POST /translate HTTP/1.1" 200'


def test_the_servers_log_config_leaves_messages_and_query_strings_out(settings, store, people,
                                                                      answered, monkeypatch,
                                                                      capfd):
    """uvicorn as `cohear serve` configures it: the traceback uvicorn itself logs for a
    500, and its access line for a request whose query string carries words."""
    import threading

    import httpx
    import uvicorn

    from cohear import logs
    from cohear.app import create_app
    from surveys import service
    from tests.conftest import free_port

    def broken(store, actor, answer_id):
        raise KeyError(WORDS)

    monkeypatch.setattr(service, "get_answer", broken)
    loggers = [logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    port = free_port()
    app = create_app(settings.replace(port=port), start_worker=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_config=logs.uvicorn_config("info")))
    thread = threading.Thread(target=server.run, daemon=True)
    try:
        thread.start()
        while not server.started:
            time.sleep(0.05)
        token = people["reviewer"][1]
        url, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
        # A connection each: uvicorn closes the one a 500 went out on.
        assert httpx.get(f"{url}/api/answers/{answered['answer']}", headers=auth,
                         timeout=60).status_code == 500
        httpx.post(f"{url}/translate", headers=auth, timeout=60,
                   params={"q": WORDS, "source": "en", "target": "ur"})
    finally:
        server.should_exit = True
        thread.join(15)
        for lg, handlers, level, propagate in saved:
            lg.handlers, lg.level, lg.propagate = handlers, level, propagate
    out, err = capfd.readouterr()
    assert "POST /translate HTTP/1.1" in out and "KeyError" in err
    # The test's own HTTP client logs through the same root logger here; its lines are
    # not the server's.
    server_lines = [line for line in (out + err).splitlines()
                    if " httpx " not in line and " httpcore" not in line]
    assert_no_words("the server's output", "\n".join(server_lines))


def test_healthz_and_housekeeping_failures_name_a_category_only(api, store, monkeypatch,
                                                               log_lines):
    """/healthz answers anyone and /api/health admins: a failure they report never
    carries a message (it may quote words), only a category; a
    periodic housekeeping task's failure is logged by category and place."""
    from cohear import jobs, models

    def broken_models(store):
        raise ValueError(f"cannot list models for {WORDS}")

    monkeypatch.setattr(models, "list_models", broken_models)
    health = api["anonymous"].get("/healthz").json()
    assert health == {"status": "degraded", "problems": ["whisper"]}
    details = api["admin"].get("/api/health").json()
    assert details["whisper"] == {"ok": False, "error": "ValueError"}
    assert_no_words("/healthz", str(health) + str(details))

    ran = threading.Event()

    def housekeeping(store):
        ran.set()
        raise RuntimeError(f"tidying up after {WORDS}")

    monkeypatch.setitem(jobs.PERIODIC, "test.words", (3600, housekeeping))
    worker = jobs.Worker(jobs.JobQueue(store), 1)
    worker.start()
    try:
        assert ran.wait(30)
        deadline = time.monotonic() + 10
        while "periodic task test.words failed" not in log_lines.text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        worker.stop()
    assert "RuntimeError" in log_lines.text()
    assert_no_words("the log", log_lines.text())
