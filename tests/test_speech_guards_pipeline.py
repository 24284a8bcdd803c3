"""Whisper's hallucinations are caught on the way to the stored transcript, not only by
the guard functions on their own: the `speech.transcribe` job runs on real audio through
the real model and pipeline, except that what Whisper *says* for each stretch of speech
is scripted (a fake only to make the failure happen, since real speech rarely makes the
base model loop on cue): text over silence, a phrase looping, the same words as the two
segments before. The rejections must land in the stored transcript, with their reasons,
and the transcript must be flagged for review.

Both ways the job transcribes are covered: cohear's batched path (CTranslate2's
`generate` scripted; VAD, features, encoder and language detection real) and, with word
timestamps, faster-whisper's pipeline (its `Segment` objects scripted)."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, replace
from types import SimpleNamespace

import numpy as np
import pytest

from cohear.jobs import JobQueue
from speech import jobs as speech_jobs
from speech import service
from speech.transcribe import load_model, read_wav, speech_chunks
from tests.test_speech_ingest import FLU, pcm16, wav_bytes

pytestmark = pytest.mark.slow

REPEATED = "The bus was late again."
SILENCE = "Thank you for watching."
LOOP = "I went to the I went to the I went to the I went to the clinic"


@dataclass
class Said:
    text: str
    avg_logprob: float = -0.2
    no_speech_prob: float = 0.02


def script(i: int) -> Said:
    """What "Whisper" says for stretch i of the recording."""
    return {0: Said(REPEATED), 1: Said(REPEATED), 2: Said(REPEATED),
            3: Said(SILENCE, avg_logprob=-1.4, no_speech_prob=0.93),
            4: Said(LOOP, avg_logprob=-0.3)}.get(i, Said(f"Then I saw nurse number {i}."))


EXPECTED = {2: "the same words as the two segments before", 3: "text over silence",
            4: "repetition loop"}


@pytest.fixture(scope="module")
def recording_wav() -> bytes:
    """About 140 s of real speech (the demo sentence with pauses): five or more stretches
    of up to 30 s for Whisper's batched path."""
    gap = np.zeros(8_000, dtype=np.int16)
    return wav_bytes(np.concatenate([np.concatenate([pcm16(FLU), gap]) for _ in range(32)]))


class ScriptedGenerate:
    """CTranslate2's Whisper model with `generate` scripted; everything else is real."""

    def __init__(self, real, whisper):
        from faster_whisper.tokenizer import Tokenizer
        self._real = real
        self._tokenizer = Tokenizer(whisper.hf_tokenizer, True, task="transcribe",
                                    language="en")
        self.calls = 0

    def generate(self, encoded, prompts, **kwargs):
        out = []
        for _ in prompts:
            said = script(self.calls)
            self.calls += 1
            tokens = self._tokenizer.encode(" " + said.text)
            # cohear averages faster-whisper's way: score * len / (len + 1)
            score = said.avg_logprob * (len(tokens) + 1) / len(tokens)
            out.append(SimpleNamespace(sequences_ids=[tokens], scores=[score],
                                       no_speech_prob=said.no_speech_prob))
        return out

    def __getattr__(self, name):
        return getattr(self._real, name)


class WithModel:
    def __init__(self, whisper, model):
        self._whisper, self.model = whisper, model

    def __getattr__(self, name):
        return getattr(self._whisper, name)


class ScriptedPipeline:
    """faster-whisper's batched pipeline, answering with real `Segment` objects scripted."""

    def __init__(self, duration: float):
        self.duration = duration
        self.calls = 0

    def transcribe(self, audio, **kwargs):
        from faster_whisper.transcribe import Segment, Word
        self.calls += 1

        def segments():
            for i in range(6):
                said = script(i)
                start, end = i * 20.0, i * 20.0 + 4.0
                words = [Word(start + k * 0.3, start + k * 0.3 + 0.25, " " + w, 0.9)
                         for k, w in enumerate(said.text.split())]
                yield Segment(id=i, seek=0, start=start, end=end, text=" " + said.text,
                              tokens=[], avg_logprob=said.avg_logprob,
                              compression_ratio=1.0, no_speech_prob=said.no_speech_prob,
                              words=words, temperature=0.0)

        return segments(), SimpleNamespace(language="en", language_probability=0.99)


def run_job(store, collector, rec_id: int, *, word_timestamps: bool = False) -> dict:
    queue = JobQueue(store)
    job_id = service.queue_transcription(store, rec_id, collector, jobs=queue,
                                         word_timestamps=word_timestamps)
    queue.start_worker(1)
    try:
        deadline = time.time() + 300
        while (job := queue.get(job_id))["status"] not in ("done", "failed"):
            assert time.time() < deadline, job
            time.sleep(0.1)
    finally:
        queue.stop_worker()
    assert job["status"] == "done", job
    return job


def assert_rejections_stored(store, collector, rec_id: int, job: dict) -> None:
    doc = service.transcript(store, rec_id, collector)
    segments = doc["segments"]
    assert len(segments) >= 5
    for seg in segments:
        wanted = EXPECTED.get(seg["index"])
        if wanted:
            assert seg["rejected"] and wanted in seg["rejected_reason"], seg
        else:
            assert not seg["rejected"], seg
    assert "(compression ratio" in segments[4]["rejected_reason"] or \
        "said 4 or more times" in segments[4]["rejected_reason"]
    # Rejected words are kept to see but are not the transcript's text.
    assert SILENCE not in doc["text"] and "I went to the I went" not in doc["text"]
    assert doc["text"].count(REPEATED) == 2
    assert doc["needs_review"]
    assert job["result"]["rejected_segments"] == 3
    assert job["result"]["needs_review"] is True


def test_rejections_from_the_batched_path_land_in_the_stored_transcript(
        store, people, whisper_model, recording_wav, monkeypatch):
    collector = people["collector"][0]
    rec = service.ingest(store, io.BytesIO(recording_wav), filename="long.wav",
                         content_type="audio/wav", uploaded_by=collector, language_hint="en")
    real = load_model(whisper_model, name="base")
    generate = ScriptedGenerate(real.whisper.model, real.whisper)
    scripted = replace(real, whisper=WithModel(real.whisper, generate))
    monkeypatch.setattr(speech_jobs, "model_for", lambda store, name=None: scripted)
    job = run_job(store, collector, rec.id)
    sha = store.one("SELECT normalised_sha256 FROM recordings WHERE id = ?", (rec.id,))[0]
    chunks = len(speech_chunks(read_wav(store.blobs.read(sha))))
    assert generate.calls == chunks >= 5  # every stretch went through the scripted model
    assert_rejections_stored(store, collector, rec.id, job)


def test_rejections_from_faster_whispers_pipeline_land_in_the_stored_transcript(
        store, people, whisper_model, recording_wav, monkeypatch):
    collector = people["collector"][0]
    rec = service.ingest(store, io.BytesIO(recording_wav), filename="long.wav",
                         content_type="audio/wav", uploaded_by=collector, language_hint="en")
    real = load_model(whisper_model, name="base")
    pipeline = ScriptedPipeline(rec.duration_seconds)
    scripted = replace(real, batched=pipeline)
    monkeypatch.setattr(speech_jobs, "model_for", lambda store, name=None: scripted)
    job = run_job(store, collector, rec.id, word_timestamps=True)
    assert pipeline.calls == 1
    assert_rejections_stored(store, collector, rec.id, job)
    doc = service.transcript(store, rec.id, collector)
    assert doc["segments"][0]["words"][0]["word"].strip() == "The"
