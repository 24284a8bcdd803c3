"""A short, bounded mixed load on loopback (bench/load.py for the long run): collectors
upload while reviewers read and a researcher exports, against a real `cohear serve`.
No server errors and no "database is locked" may reach a client, and every
acknowledged voice answer is stored."""

import importlib.util
import os

from cohear.store import Store
from tests.conftest import REPO, free_port, make_settings


def load_module():
    spec = importlib.util.spec_from_file_location("bench_load", REPO / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mixed_load_has_no_errors_and_no_locked_database(tmp_path):
    load = load_module()
    data = tmp_path / "data"
    setup = load.prepare(data, collectors=3, reviewers=2, researchers=1)
    port = free_port()
    server = load.start_server(data, port)
    try:
        summary, acknowledged = load.run_load(f"http://127.0.0.1:{port}", setup,
                                              float(os.environ.get("COHEAR_LOAD_SECONDS", "12")))
    finally:
        server.terminate()
        server.wait(30)
    print(summary)
    assert summary["database_is_locked"] == 0
    assert summary["server_errors"] == 0, summary
    kinds = summary["kinds"]
    assert kinds["answer.voice"]["statuses"].get(201, 0) >= 1
    assert kinds["queue.read"]["statuses"].get(200, 0) >= 1
    assert kinds["export.request"]["statuses"].get(202, 0) >= 1
    store = Store(make_settings(data))
    stored = {r[0] for r in store.all("SELECT id FROM answers")}
    assert set(acknowledged) <= stored
    assert store.check()["ok"]
