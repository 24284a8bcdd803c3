"""Hostile uploads over real HTTP: each is refused quickly with a clear error, memory
stays bounded, and nothing is stored."""

from __future__ import annotations

import io
import resource
import socket
import threading
import time

import av
import httpx
import numpy as np

from tests.conftest import DEMO_DATA


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


def test_a_decompression_bomb_is_refused_with_memory_bounded(api, store):
    bomb = silent_flac(minutes=45)             # 45 minutes of audio (~170 MB decoded) in <1 MB
    assert len(bomb) < 1_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = api["collector"].post("/api/recordings", files={"file": ("bomb.flac", bomb, "audio/flac")})
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert r.status_code in (413, 422), r.text
    assert "30 minutes" in r.json()["detail"] or "longer than" in r.json()["detail"]
    assert grown_mb < 100, f"decoding the bomb grew memory by {grown_mb:.0f} MB"
    assert nothing_stored(store)


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
