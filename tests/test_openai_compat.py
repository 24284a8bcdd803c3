"""The OpenAI-compatible speech routes against the official `openai` client over real
HTTP, with the real Whisper model and a cohear token as the API key: every response is
compared field by field with the client's own types (and the raw JSON), every error a
client can meet with OpenAI's status, type, param and code; nothing is stored."""

from __future__ import annotations

import math
import shutil
import subprocess

import openai
import pytest
from openai.types.audio import (
    Transcription,
    TranscriptionSegment,
    TranscriptionVerbose,
    TranscriptionWord,
    Translation,
    TranslationVerbose,
)

from speech.languages import WHISPER_LANGUAGE_NAMES, language_name
from speech.wer import word_error_rate
from tests.test_speech_ingest import CLINIC, CLINIC_TEXT, FLU, FLU_TEXT, nothing_stored

pytestmark = pytest.mark.slow
# The client marks its translations helper deprecated; the route is what is tested here.
no_deprecation = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")


@pytest.fixture
def client(live_server, people, whisper_model):
    _, token = people["collector"]
    with openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=token, max_retries=0,
                       timeout=120) as c:
        yield c


def required(model: type) -> set[str]:
    """The fields a client's type requires (neither Optional nor defaulted)."""
    return {name for name, f in model.model_fields.items() if f.is_required()}


# OpenAI's verbose responses carry `task` (the API reference's examples show it), which
# the client's types leave out; it is the one field allowed beyond them.
UNTYPED_BY_THE_CLIENT = {"task"}


def conforms(raw: dict, model: type) -> None:
    """Every field of `raw` is one the client's type declares, every required one is
    there, and each parses to the declared type (not left as an unknown extra)."""
    declared = set(model.model_fields) | UNTYPED_BY_THE_CLIENT
    assert set(raw) <= declared, set(raw) - declared
    assert required(model) <= set(raw), required(model) - set(raw)
    parsed = model.model_validate(raw)
    assert set(parsed.model_extra or {}) <= UNTYPED_BY_THE_CLIENT, parsed.model_extra
    for name, value in raw.items():
        if name in UNTYPED_BY_THE_CLIENT:
            continue
        declared = model.model_fields[name].annotation
        if declared is float:
            assert isinstance(value, (int, float)) and not isinstance(value, bool), name
        elif declared is int:
            assert isinstance(value, int) and not isinstance(value, bool), name
        elif declared is str:
            assert isinstance(value, str), name


def create(client, *, endpoint: str = "transcriptions", path=FLU, **params):
    """(the client's parsed object, the raw JSON) of one call."""
    api = getattr(client.audio, endpoint)
    with open(path, "rb") as fh:
        response = api.with_raw_response.create(model="whisper-1", file=fh, **params)
    return response.parse(), response.http_response.json()


def test_json_answers_text_and_usage_only(client, store):
    parsed, raw = create(client)
    assert isinstance(parsed, Transcription) and set(raw) == {"text", "usage"}
    conforms(raw, Transcription)
    assert word_error_rate(FLU_TEXT, parsed.text) <= 0.35, parsed.text
    assert raw["usage"]["type"] == "duration" and isinstance(raw["usage"]["seconds"], int)
    assert parsed.usage.seconds >= 1
    nothing_stored(store)


def test_verbose_json_segments_carry_real_tokens_seek_and_temperature(client, live_server):
    parsed, raw = create(client, path=CLINIC, language="en", response_format="verbose_json")
    assert isinstance(parsed, TranscriptionVerbose)
    # No granularity asked for: segments, as OpenAI's default, and no words.
    assert list(raw) == ["task", "language", "duration", "text", "segments", "usage"]
    conforms(raw, TranscriptionVerbose)
    assert raw["task"] == "transcribe" and raw["language"] == "english"
    assert parsed.duration == pytest.approx(4.38, abs=0.05)
    assert raw["usage"] == {"type": "duration", "seconds": math.ceil(raw["duration"])}
    assert word_error_rate(CLINIC_TEXT, parsed.text) <= 0.35
    assert [s["id"] for s in raw["segments"]] == list(range(len(raw["segments"])))
    for segment in raw["segments"]:
        assert set(segment) == set(TranscriptionSegment.model_fields)
        conforms(segment, TranscriptionSegment)
        # Whisper's own token ids of the words (its vocabulary has 51,865 entries).
        assert segment["tokens"] and all(isinstance(t, int) and 0 <= t < 51865
                                         for t in segment["tokens"])
        assert segment["temperature"] == 0.0 and segment["end"] > segment["start"]
        assert segment["seek"] == round(segment["start"] * 100)
    assert parsed.segments[0].text.strip() in parsed.text

    # The temperature sent is the temperature used (sampling, as faster-whisper does).
    _, warm = create(client, response_format="verbose_json", temperature=0.2)
    assert warm["segments"] and {s["temperature"] for s in warm["segments"]} == {0.2}
    assert word_error_rate(FLU_TEXT, warm["text"]) <= 0.5, warm["text"]


@pytest.mark.parametrize("granularities, keys", [
    (["word"], ["task", "language", "duration", "text", "words", "usage"]),
    (["segment"], ["task", "language", "duration", "text", "segments", "usage"]),
    (["word", "segment"], ["task", "language", "duration", "text", "segments", "words",
                           "usage"]),
])
def test_timestamp_granularities_choose_segments_and_words(client, granularities, keys):
    parsed, raw = create(client, response_format="verbose_json",
                         timestamp_granularities=granularities)
    assert list(raw) == keys
    conforms(raw, TranscriptionVerbose)
    if "words" in raw:
        assert [w.word for w in parsed.words][:3] == ["I", "would", "like"]
        for word in raw["words"]:
            assert set(word) == set(TranscriptionWord.model_fields)
            conforms(word, TranscriptionWord)
            assert word["word"] == word["word"].strip() and word["end"] >= word["start"]
    if "segments" in raw:
        for segment in raw["segments"]:
            assert set(segment) == set(TranscriptionSegment.model_fields)
            assert segment["tokens"]


def speak(tmp_path, voice: str, text: str):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    path = tmp_path / f"{voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(path), text], check=True)
    return path


@pytest.mark.parametrize("code, text", [
    ("lt", "Sveiki. Norėčiau sužinoti, kur mano mama gali gauti vakciną nuo gripo."),
    ("sk", "Dobrý deň. Chcel by som vedieť, kde môže moja mama dostať očkovanie proti chrípke."),
])
def test_language_is_whisper_s_full_name_for_every_language(client, tmp_path, code, text):
    _, raw = create(client, path=speak(tmp_path, code, text), language=code,
                    response_format="verbose_json")
    assert raw["language"] == WHISPER_LANGUAGE_NAMES[code]


def test_the_language_table_is_the_model_s():
    from faster_whisper.tokenizer import _LANGUAGE_CODES
    assert set(WHISPER_LANGUAGE_NAMES) == set(_LANGUAGE_CODES)
    assert len(set(WHISPER_LANGUAGE_NAMES.values())) == len(WHISPER_LANGUAGE_NAMES)
    assert language_name("lt") == "lithuanian" and language_name("sk") == "slovak"
    assert language_name("pa") == "punjabi" and language_name("ps") == "pashto"
    # Every region language Whisper hears has a full name, never a bare code.
    from language_packs.registry import LANGUAGES
    for lang in LANGUAGES.values():
        if lang.whisper_code:
            assert language_name(lang.whisper_code) != lang.whisper_code, lang.tag


@no_deprecation
def test_translations_answer_as_openai_does(client, store):
    parsed, raw = create(client, endpoint="translations")
    assert isinstance(parsed, Translation) and set(raw) == {"text"}
    assert word_error_rate(FLU_TEXT, parsed.text) <= 0.35

    parsed, raw = create(client, endpoint="translations", response_format="verbose_json")
    assert isinstance(parsed, TranslationVerbose)
    assert list(raw) == ["task", "language", "duration", "text", "segments"]
    conforms(raw, TranslationVerbose)
    assert raw["task"] == "translate" and raw["language"] == "english"
    for segment in raw["segments"]:
        conforms(segment, TranscriptionSegment)

    with open(FLU, "rb") as fh:
        srt = client.audio.translations.create(model="whisper-1", file=fh, response_format="srt")
    assert srt.startswith("1\n00:00:00,") and "vaccine" in srt.lower()
    nothing_stored(store)


def test_text_srt_and_vtt_are_text(client, store):
    with open(FLU, "rb") as fh:
        srt = client.audio.transcriptions.create(model="base", file=fh, response_format="srt")
    assert srt.startswith("1\n00:00:00,") and "vaccine" in srt.lower()
    with open(FLU, "rb") as fh:
        vtt = client.audio.transcriptions.create(model="whisper-1", file=fh,
                                                 response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:")
    with open(FLU, "rb") as fh:
        text = client.audio.transcriptions.create(model="whisper-1", file=fh,
                                                  response_format="text", prompt="Flu clinic.")
    assert word_error_rate(FLU_TEXT, text) <= 0.35
    nothing_stored(store)


def test_a_silent_file_is_no_words_not_an_error(client, tmp_path):
    import wave
    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\0\0" * 32000)
    parsed, raw = create(client, path=path, response_format="verbose_json")
    assert raw["text"] == "" and raw["segments"] == [] and raw["duration"] == 2.0


def error_of(excinfo) -> dict:
    body = excinfo.value.body
    assert set(body) == {"message", "type", "param", "code"}, body
    return body


@pytest.mark.parametrize("params, status, param, code, words", [
    ({"file": ("notes.txt", b"not audio " * 100, "text/plain")}, 400, None, None,
     "Invalid file format"),
    ({"file": ("a.wav", FLU.read_bytes()[:20000], "audio/wav")}, 400, None, None,
     "could not be decoded"),
    ({"response_format": "docx"}, 400, "response_format", "invalid_value", "'docx'"),
    ({"response_format": "json", "timestamp_granularities": ["word"]}, 400,
     "timestamp_granularities", "invalid_value", "verbose_json"),
    ({"response_format": "text", "timestamp_granularities": ["segment"]}, 400,
     "timestamp_granularities", "invalid_value", "verbose_json"),
    ({"response_format": "verbose_json", "timestamp_granularities": ["sentence"]}, 400,
     "timestamp_granularities", "invalid_value", "'sentence'"),
    ({"temperature": 2}, 400, "temperature", "decimal_above_max_value", "<= 1"),
    ({"temperature": -0.5}, 400, "temperature", "decimal_below_min_value", ">= 0"),
    ({"language": "klingon"}, 400, "language", "invalid_language_format", "ISO-639-1"),
    ({"language": "ti"}, 400, "language", "invalid_language_format", "'ti'"),
    ({"model": "gpt-9-transcribe"}, 404, None, "model_not_found", "`gpt-9-transcribe`"),
])
def test_errors_a_client_can_meet(client, store, params, status, param, code, words):
    kwargs = {"model": "whisper-1", "file": ("flu.wav", FLU.read_bytes(), "audio/wav")} | params
    with pytest.raises(openai.APIStatusError) as failed:
        client.audio.transcriptions.create(**kwargs)
    error = error_of(failed)
    assert failed.value.status_code == status
    assert error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code) and words in error["message"]
    nothing_stored(store)


def test_empty_and_oversized_files(client, store, monkeypatch):
    with pytest.raises(openai.BadRequestError) as empty:
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", b"", "audio/wav"))
    assert (error_of(empty)["param"], error_of(empty)["code"]) == ("file", "audio_too_short")

    monkeypatch.setenv("COHEAR_SPEECH_MAX_BYTES", "50000")
    with pytest.raises(openai.APIStatusError) as big:
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", FLU.read_bytes()))
    assert big.value.status_code == 413 and error_of(big)["type"] == "server_error"
    assert "Maximum content size limit (50000) exceeded" in error_of(big)["message"]
    nothing_stored(store)


def test_keys_and_roles_as_openai_answers_them(live_server, people, whisper_model, store):
    def call(key):
        with openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0) as c:
            c.audio.transcriptions.create(model="whisper-1", file=("a.wav", FLU.read_bytes()))

    with pytest.raises(openai.AuthenticationError) as wrong:
        call("coh_nope_notarealtokenatall")
    error = error_of(wrong)
    assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
    assert "Incorrect API key provided: coh_nope" in error["message"]
    assert "notarealtokenatall" not in error["message"]  # shown masked, as OpenAI does

    with pytest.raises(openai.AuthenticationError) as denied:
        call(people["researcher"][1])
    error = error_of(denied)
    assert error["code"] == "missing_scope" and "insufficient permissions" in error["message"]
    assert "researcher" in error["message"]

    with live_server.client() as anonymous:
        r = anonymous.post("/v1/audio/transcriptions", files={"file": ("a.wav", b"x")},
                           data={"model": "whisper-1"})
    assert r.status_code == 401 and "You didn't provide an API key" in r.json()["error"]["message"]

    with live_server.client(people["collector"][1]) as signed_in:
        r = signed_in.post("/v1/audio/transcriptions", json={"model": "whisper-1"})
        assert r.status_code == 400 and "multipart/form-data" in r.json()["error"]["message"]
        r = signed_in.post("/v1/audio/transcriptions", data={"model": "whisper-1"},
                           files={"other": ("a.wav", b"x")})
        assert r.status_code == 400 and r.json()["error"]["param"] == "file"
        assert r.json()["error"]["code"] == "missing_required_parameter"
        r = signed_in.post("/v1/audio/transcriptions", files={"file": ("a.wav", b"x")})
        assert r.status_code == 400 and r.json()["error"]["param"] == "model"
    nothing_stored(store)
