"""`cohear transcribe FILES...` and `cohear recordings ...`, the demo seeding (idempotent
thanks to sha256), and the Argos English rendering through a real installed pack."""

from __future__ import annotations

import json
import time

import pytest

from cohear.cli import main
from cohear.jobs import JobQueue
from speech import demo, service
from speech.jobs import argos_english, english_renderings
from speech.transcribe import LanguageFinding, Segment, Transcription
from speech.wer import word_error_rate
from tests.test_speech_ingest import CLINIC, CLINIC_TEXT, FLU, FLU_TEXT

pytestmark = pytest.mark.slow


def test_transcribe_files_writes_one_transcript_per_file(store, whisper_model, tmp_path, capsys):
    out = tmp_path / "out"
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    code = main(["--data-dir", str(store.settings.data_dir), "transcribe", str(FLU), str(CLINIC),
                 str(bad), "--format", "srt", "--out", str(out)])
    assert code == 1  # one file could not be read; the others were still transcribed
    assert "notes.wav" in capsys.readouterr().err
    flu = (out / "flu-vaccine-en.srt").read_text()
    assert flu.startswith("1\n00:00:00,")
    assert word_error_rate(FLU_TEXT, flu.split("\n", 2)[2]) <= 0.35
    bus = (out / "clinic-bus-en-8k-mulaw.srt").read_text()
    assert word_error_rate(CLINIC_TEXT, bus.split("\n", 2)[2]) <= 0.35
    assert not (out / "notes.srt").exists()
    # Without --out, JSON goes to standard output as one document.
    assert main(["--data-dir", str(store.settings.data_dir), "transcribe", str(FLU),
                 "--format", "json", "--language", "en"]) == 0
    printed = json.loads(capsys.readouterr().out)["recordings"]
    assert len(printed) == 1 and printed[0]["language"]["hint"] == "en"
    assert word_error_rate(FLU_TEXT, printed[0]["text"]) <= 0.35
    assert store.one("SELECT count(*) FROM recordings")[0] == 0  # nothing stored


def test_demo_recordings_are_seeded_once_and_transcribed(store, people, whisper_model, capsys):
    users = {role: people[role][0] for role in ("collector", "reviewer", "admin")}
    first = demo.seed(store, users)
    assert len(first) == 2 and all("transcription job" in line for line in first)
    again = demo.seed(store, users)
    assert all("already here" in line for line in again)
    assert store.one("SELECT count(*) FROM recordings")[0] == 2
    assert store.one("SELECT count(*) FROM jobs")[0] == 2

    queue = JobQueue(store)
    queue.start_worker(1)
    try:
        deadline = time.time() + 180
        while queue.counts().get("done", 0) < 2:
            assert time.time() < deadline, queue.counts()
            time.sleep(0.2)
    finally:
        queue.stop_worker()
    recs = service.list_recordings(store, users["collector"])
    assert {r.status for r in recs} == {"transcribed"}
    flu = next(r for r in recs if r.filename == FLU.name)

    data_dir = str(store.settings.data_dir)
    assert main(["--data-dir", data_dir, "recordings", "list"]) == 0
    assert main(["--data-dir", data_dir, "recordings", "transcript", str(flu.id),
                 "--format", "vtt"]) == 0
    printed = capsys.readouterr().out
    assert "transcribed" in printed
    vtt = printed[printed.index("WEBVTT"):]
    assert word_error_rate(FLU_TEXT, vtt.split("\n", 3)[3]) <= 0.35
    assert main(["--data-dir", data_dir, "recordings", "show", "999"]) == 1


def test_argos_renders_english_where_a_pack_is_installed(store, copy_packs):
    urdu = "مجھے فلو ویکسین کے بارے میں جاننا ہے۔"
    # The test pack "translates" by copying, so the English is the same text: what is
    # tested is that the real installed pack and CTranslate2 produced it.
    assert argos_english(store, urdu, "ur") == urdu
    assert argos_english(store, urdu, "so") is None  # no Somali pack here
    heard = Transcription(LanguageFinding("ur", "ur", 0.9, "ur"),
                          [Segment(0, 0.0, 3.0, urdu, -0.2, 0.05, 1.0)], 3.0)
    assert english_renderings(store, None, None, heard, whisper_translate=False) == {
        "argos": urdu}
    english = Transcription(LanguageFinding(None, "en", 0.9, "en"),
                            [Segment(0, 0.0, 3.0, FLU_TEXT, -0.2, 0.05, 1.0)], 3.0)
    assert english_renderings(store, None, None, english) == {"source": FLU_TEXT}
