"""The OpenAI-compatible speech routes answer the official `openai` Python client over
real HTTP, with a cohear token as the API key; they store nothing, and their errors
come in OpenAI's error shape."""

from __future__ import annotations

import openai
import pytest

from speech.wer import word_error_rate
from tests.test_speech_ingest import CLINIC, CLINIC_TEXT, FLU, FLU_TEXT, nothing_stored

pytestmark = pytest.mark.slow


@pytest.fixture
def client(live_server, people, whisper_model):
    _, token = people["collector"]
    with openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=token, max_retries=0,
                       timeout=120) as c:
        yield c


# The client marks its translations helper deprecated; the route is what is tested here.
@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_the_openai_client_transcribes_and_nothing_is_stored(client, store):
    with open(FLU, "rb") as fh:
        result = client.audio.transcriptions.create(model="whisper-1", file=fh)
    assert word_error_rate(FLU_TEXT, result.text) <= 0.35, result.text

    with open(CLINIC, "rb") as fh:
        verbose = client.audio.transcriptions.create(
            model="whisper-1", file=fh, language="en", response_format="verbose_json",
            timestamp_granularities=["word", "segment"], temperature=0)
    assert word_error_rate(CLINIC_TEXT, verbose.text) <= 0.35
    assert verbose.language == "english" and verbose.duration == pytest.approx(4.38, abs=0.05)
    assert verbose.segments and verbose.segments[0].end > verbose.segments[0].start
    assert verbose.words and verbose.words[0].word

    with open(FLU, "rb") as fh:
        srt = client.audio.transcriptions.create(model="base", file=fh, response_format="srt")
    assert srt.startswith("1\n00:00:00,") and "vaccine" in srt.lower()
    with open(FLU, "rb") as fh:
        text = client.audio.transcriptions.create(model="whisper-1", file=fh,
                                                  response_format="text", prompt="Flu clinic.")
    assert word_error_rate(FLU_TEXT, text) <= 0.35

    with open(FLU, "rb") as fh:
        english = client.audio.translations.create(model="whisper-1", file=fh)
    assert word_error_rate(FLU_TEXT, english.text) <= 0.35
    nothing_stored(store)


def test_errors_come_in_openais_shape(client, live_server, store):
    with pytest.raises(openai.BadRequestError) as bad:
        client.audio.transcriptions.create(model="whisper-1",
                                           file=("notes.txt", b"not audio " * 100, "text/plain"))
    error = bad.value.body
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and "not audio" in error["message"]
    assert bad.value.status_code == 400 and error["code"] == "unsupported-media"

    with pytest.raises(openai.BadRequestError) as fmt:
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", FLU.read_bytes()),
                                           response_format="docx")
    assert fmt.value.body["param"] == "response_format"

    wrong_key = openai.OpenAI(base_url=f"{live_server.url}/v1", api_key="sk-not-cohear",
                              max_retries=0)
    with pytest.raises(openai.AuthenticationError) as auth:
        wrong_key.audio.transcriptions.create(model="whisper-1", file=("a.wav", FLU.read_bytes()))
    assert auth.value.body["type"] == "authentication_error"
    nothing_stored(store)


def test_a_researcher_may_not_use_the_speech_server(live_server, people, whisper_model):
    with openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=people["researcher"][1],
                       max_retries=0) as c, pytest.raises(openai.PermissionDeniedError) as denied:
        c.audio.transcriptions.create(model="whisper-1", file=("a.wav", FLU.read_bytes()))
    assert "researcher" in denied.value.body["message"]
