"""Transcription through the real faster-whisper base model: the shipped speech comes
back as words (WER bound), also from phone-quality copies; silence gives no invented
text; a language hint that disagrees with what is heard is flagged, not obeyed blindly.

Each recording is transcribed once per module and the results shared by the tests."""

from __future__ import annotations

import io

import numpy as np
import pytest

from speech import audio
from speech.transcribe import Options, load_model, transcribe_all, transcribe_many
from speech.wer import word_error_rate
from tests.test_speech_ingest import (
    CLINIC,
    CLINIC_TEXT,
    FLU,
    FLU_TEXT,
    encode,
    pcm16,
    wav_bytes,
    with_silence,
)

pytestmark = pytest.mark.slow
MAX_WER = 0.35


@pytest.fixture(scope="module")
def model(base_model_dir):
    return load_model(base_model_dir, name="base", device="auto", compute_type="auto")


def decoded(data: bytes, filename: str):
    return audio.decode(io.BytesIO(data), filename=filename)


@pytest.fixture(scope="module")
def results(model):
    """Transcriptions of the shipped recordings and copies made from them, done once."""
    flu = pcm16(FLU)
    clips = {
        "flu": FLU.read_bytes(),
        "clinic-8k-mulaw": CLINIC.read_bytes(),
        "flu-8k-mulaw": encode(flu, "wav", "pcm_mulaw", out_rate=8000),
        "flu-webm-opus": encode(flu, "webm", "libopus", out_rate=48000),
        "flu-amr": encode(flu, "amr", "libopencore_amrnb", out_rate=8000),
    }
    names = {"flu-webm-opus": "a.webm", "flu-amr": "a.amr"}
    samples = [decoded(data, names.get(name, "a.wav")).samples for name, data in clips.items()]
    # Together, as `cohear transcribe` and the benchmark do: each keeps its own result.
    out = dict(zip(clips, transcribe_many(model, samples)))
    out["flu-hint-pl"] = transcribe_all(model, decoded(clips["flu"], "a.wav").samples,
                                        Options(language="pl"))
    return out


@pytest.mark.parametrize("name, reference", [
    ("flu", FLU_TEXT),
    ("clinic-8k-mulaw", CLINIC_TEXT),
    ("flu-8k-mulaw", FLU_TEXT),
    ("flu-webm-opus", FLU_TEXT),
    ("flu-amr", FLU_TEXT),
])
def test_real_speech_comes_back_as_its_words(results, name, reference):
    result = results[name]
    assert word_error_rate(reference, result.text) <= MAX_WER, result.text
    assert result.language.detected == "en" and result.language.used == "en"
    assert not result.language.mismatch
    kept = result.kept
    assert kept and all(0 < s.confidence <= 1 for s in kept)
    assert 0 <= kept[0].start < kept[-1].end <= result.duration + 0.5


def test_clean_speech_is_confident_and_needs_no_review(results):
    result = results["flu"]
    assert result.confidence > 0.6
    assert not result.needs_review
    assert not any(s.rejected for s in result.segments)


def test_a_hint_that_disagrees_with_what_is_heard_is_flagged(results):
    result = results["flu-hint-pl"]
    finding = result.language
    assert finding.hint == "pl" and finding.detected == "en" and finding.mismatch
    assert finding.probability >= 0.8
    # Whisper was sure, so the English words were decoded as English, and a person checks.
    assert finding.used == "en"
    assert word_error_rate(FLU_TEXT, result.text) <= MAX_WER
    assert result.needs_review


def test_silence_and_low_noise_give_no_invented_text(model):
    rng = np.random.default_rng(7)
    hiss = (rng.standard_normal(16_000 * 12) * 0.002 * 32767).astype(np.int16)
    clip = decoded(wav_bytes(hiss), "hiss.wav")
    assert clip.speech_ratio < 0.1
    result = transcribe_all(model, clip.samples)
    assert result.text == ""
    assert result.confidence == 0.0


def test_speech_between_long_silences_keeps_its_times_and_words(model):
    padded = with_silence(pcm16(FLU), 8.0, 6.0, noise=0.001)
    clip = decoded(wav_bytes(padded), "padded.wav")
    result = transcribe_all(model, clip.samples, Options(language="en", word_timestamps=True))
    assert word_error_rate(FLU_TEXT, result.text) <= MAX_WER, result.text
    first, last = result.kept[0], result.kept[-1]
    assert 7.0 <= first.start <= 9.0 and 10.5 <= last.end <= 13.0
    words = [w for s in result.kept for w in s.words]
    assert words and all(7.0 <= w["start"] <= w["end"] <= 13.0 for w in words)
