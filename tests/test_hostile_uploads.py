"""Hostile uploads over real HTTP: each is refused quickly with a clear error, memory
stays bounded, and nothing is stored."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from cohear.auth import create_user
from cohear.store import Store
from tests import prerequisites
from tests.conftest import DEMO_DATA, free_port, make_settings


def silent_flac(minutes: int) -> bytes:
    """A tiny file that decodes to a long stretch of audio (a decompression bomb)."""
    buf = io.BytesIO()
    container = av.open(buf, "w", format="flac")
    stream = container.add_stream("flac", rate=8000)
    stream.layout = "mono"
    block = np.zeros((1, 8000 * 10), dtype=np.int16)
    pts = 0
    for _ in range(minutes * 6):
        frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
        frame.sample_rate, frame.pts = 8000, pts
        pts += block.shape[1]
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    return buf.getvalue()


def nothing_stored(store) -> bool:
    return (store.one("SELECT count(*) FROM recordings")[0] == 0
            and list(store.blobs.iter_files()) == []
            and not list(store.blobs.tmp.glob("*.part")))


def _proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _reset_peak(pid: int) -> None:
    """Start measuring the process's peak memory from now (Linux: clear_refs "5")."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError as exc:
        prerequisites.missing(f"Linux's /proc/PID/clear_refs, to measure one request's memory "
                              f"({exc.strerror})")


@pytest.fixture
def server_process(tmp_path):
    """`cohear serve` in a process of its own (so its memory is the request's alone), with a
    two-minute duration limit; yields (process, collector's client)."""
    data = tmp_path / "data"
    store = Store(make_settings(data))
    store.migrate()
    _, token = create_user(store, "bomb-collector", "collector")
    store.close()
    port = free_port()
    env = dict(os.environ, COHEAR_DATA_DIR=str(data), COHEAR_SPEECH_MAX_SECONDS="120")
    proc = subprocess.Popen([sys.executable, "-m", "cohear", "serve", "--port", str(port),
                             "--no-worker"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                          headers={"Authorization": f"Bearer {token}"})
    try:
        deadline = time.time() + 60
        while True:
            try:
                client.get("/healthz")
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.time() < deadline, "cohear serve did not start"
                time.sleep(0.2)
        yield proc, client
    finally:
        client.close()
        proc.terminate()
        proc.wait(30)


@pytest.mark.slow
def test_a_decompression_bomb_is_refused_with_memory_bounded(server_process):
    proc, client = server_process
    bomb = silent_flac(minutes=45)             # 45 minutes of audio (~86 MB at 16 kHz) in <1 MB
    assert len(bomb) < 1_000_000
    # Warm the server up with a real upload first (decoder, VAD model), so what is measured
    # is the bomb's request alone; the peak is reset just before it, so an earlier peak
    # cannot hide it.
    warm = client.post("/api/recordings", files={
        "file": ("flu.wav", (DEMO_DATA / "flu-vaccine-en.wav").read_bytes(), "audio/wav")})
    assert warm.status_code == 201, warm.text
    _reset_peak(proc.pid)
    before_kib = _proc_kib(proc.pid, "VmRSS")
    r = client.post("/api/recordings", files={"file": ("bomb.flac", bomb, "audio/flac")})
    grown_mb = (_proc_kib(proc.pid, "VmHWM") - before_kib) / 1024
    assert r.status_code == 413, r.text
    assert "longer than the limit of 2 minutes" in r.json()["detail"]
    # Decoding to the limit holds about 4 MB of samples; decoding it all, about 86 MB.
    assert grown_mb < 40, f"refusing the bomb grew the server's memory by {grown_mb:.0f} MB"
    assert [r["id"] for r in client.get("/api/recordings").json()] == [warm.json()["id"]]


def test_a_path_in_the_filename_never_becomes_a_path(api, store):
    data = (DEMO_DATA / "flu-vaccine-en.wav").read_bytes()
    r = api["collector"].post("/api/recordings", files={
        "file": ("../../../../etc/cron.d/evil.wav", data, "audio/wav")})
    assert r.status_code == 201, r.text
    sha = r.json()["original_sha256"]
    path = store.blobs.path(sha)
    assert path.exists() and path.name == sha
    assert path.resolve().is_relative_to(store.blobs.root.resolve())
    for p in store.settings.data_dir.rglob("*"):
        assert "evil" not in p.name and "cron" not in p.name


def test_a_polyglot_html_page_with_audio_inside_is_refused(api, store):
    wav = (DEMO_DATA / "flu-vaccine-en.wav").read_bytes()
    polyglot = b"<html><script>alert(document.cookie)</script></html>\n" + wav
    r = api["collector"].post("/api/recordings", files={"file": ("page.wav", polyglot,
                                                                 "audio/wav")})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["detail"]
    assert nothing_stored(store)


def test_zero_bytes_are_refused(api, store):
    r = api["collector"].post("/api/recordings", files={"file": ("empty.wav", b"", "audio/wav")})
    assert 400 <= r.status_code < 500 and "empty" in r.json()["detail"].lower()
    assert nothing_stored(store)


def test_huge_headers_are_refused_quickly(live_server, people):
    with live_server.client(people["collector"][1]) as c:
        try:
            status = c.get("/api/me", headers={"X-Padding": "a" * 200_000}).status_code
        except httpx.ReadError:
            status = "connection closed"         # uvicorn drops the request outright
    assert status in (400, 431, "connection closed")
    with live_server.client(people["collector"][1]) as c:
        assert c.get("/api/me").status_code == 200   # and the service carries on


def test_slow_clients_do_not_starve_the_service(live_server, people):
    """Slowloris-style: many connections trickle bytes and never finish. Bounded to 20
    connections and a few seconds; other people are still served meanwhile."""
    stop = threading.Event()
    socks = []

    def trickle():
        s = socket.create_connection(("127.0.0.1", live_server.port))
        socks.append(s)
        s.sendall(b"POST /api/recordings HTTP/1.1\r\nHost: x\r\n")
        while not stop.is_set():
            try:
                s.sendall(b"X-a: b\r\n")
            except OSError:
                return
            stop.wait(0.5)

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(20)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        with live_server.client(people["reviewer"][1]) as c:
            for _ in range(5):
                assert c.get("/api/me", timeout=10).status_code == 200
    finally:
        stop.set()
        for s in socks:
            s.close()
        for t in threads:
            t.join(5)
