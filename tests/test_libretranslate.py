"""The LibreTranslate-compatible routes answer real HTTP clients (httpx, and the
LibreTranslate client shipped in argostranslate) in LibreTranslate's JSON shapes,
with a cohear token as the api_key."""

from __future__ import annotations

import pytest


@pytest.fixture
def lt(live_server, people, copy_packs):
    """An anonymous httpx client on the live server, plus tokens by role."""
    tokens = {role: token for role, (_, token) in people.items()}
    with live_server.client() as client:
        yield client, tokens


def test_translate_json_with_api_key(lt):
    client, tokens = lt
    r = client.post("/translate", json={"q": "Hello world.", "source": "en", "target": "ur",
                                        "format": "text", "api_key": tokens["communicator"]})
    assert r.status_code == 200
    assert r.json() == {"translatedText": "Hello world."}


def test_translate_a_list_answers_a_list(lt):
    client, tokens = lt
    q = ["Wash your hands.", "Call 111. It is free."]
    r = client.post("/translate", json={"q": q, "source": "en", "target": "pl",
                                        "api_key": tokens["reviewer"]})
    assert r.json() == {"translatedText": q}


def test_translate_form_with_bearer_header(lt):
    client, tokens = lt
    r = client.post("/translate", data={"q": "Hello world.", "source": "en", "target": "bn"},
                    headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert r.status_code == 200 and r.json() == {"translatedText": "Hello world."}


def test_form_with_repeated_q_answers_a_list(lt):
    client, tokens = lt
    r = client.post("/translate", data={"q": ["One.", "Two."], "source": "en", "target": "ur",
                                        "api_key": tokens["communicator"]})
    assert r.json() == {"translatedText": ["One.", "Two."]}


def test_auto_source_reports_the_detected_language(lt):
    client, tokens = lt
    r = client.post("/translate", json={"q": "آپ کا بہت شکریہ، ہاتھ دھوئیں۔", "source": "auto",
                                        "target": "en", "api_key": tokens["communicator"]})
    body = r.json()
    assert body["translatedText"] == "آپ کا بہت شکریہ، ہاتھ دھوئیں۔"
    assert body["detectedLanguage"]["language"] == "ur"
    assert 0 < body["detectedLanguage"]["confidence"] <= 100


def test_auto_source_for_html_looks_at_the_words_not_the_tags(lt):
    client, tokens = lt
    q = '<p class="notice"><strong>آپ کا شکریہ</strong></p>'
    r = client.post("/translate", json={"q": q, "source": "auto", "target": "en",
                                        "format": "html", "api_key": tokens["reviewer"]})
    assert r.json()["detectedLanguage"]["language"] == "ur"
    assert r.json()["translatedText"] == "<p><strong>آپ کا شکریہ</strong></p>"


def test_html_format_is_sanitised(lt):
    client, tokens = lt
    q = '<p onmouseover="x()">Hello <b>world</b>.</p><script>steal()</script>'
    r = client.post("/translate", json={"q": q, "source": "en", "target": "ur",
                                        "format": "html", "api_key": tokens["communicator"]})
    assert r.json() == {"translatedText": "<p>Hello <b>world</b>.</p>"}


@pytest.mark.parametrize("body, status, words", [
    ({"q": "Hello.", "source": "en", "target": "ur"}, 401, "Invalid API key"),
    ({"q": "Hello.", "source": "en", "target": "ur", "api_key": "coh_nope_nope"}, 401,
     "Invalid API key"),
    ({"source": "en", "target": "ur", "key": "communicator"}, 400, "missing q"),
    ({"q": "Hello.", "target": "ur", "key": "communicator"}, 400, "missing source"),
    ({"q": "Hello.", "source": "en", "target": "ps", "key": "communicator"}, 400,
     "human translator"),
    ({"q": "Hello.", "source": "en", "target": "xx", "key": "communicator"}, 400,
     "not a language cohear knows"),
    ({"q": "a" * 5001, "source": "en", "target": "ur", "key": "communicator"}, 400,
     "5,000 characters"),
    ({"q": "Hello.", "source": "en", "target": "ur", "key": "collector"}, 403,
     "admin, communicator or reviewer"),
])
def test_errors_come_in_libretranslate_shape(lt, body, status, words):
    client, tokens = lt
    body = dict(body)
    role = body.pop("key", None)
    if role:
        body["api_key"] = tokens[role]
    r = client.post("/translate", json=body)
    assert r.status_code == status
    assert list(r.json()) == ["error"]
    assert words in r.json()["error"]


def test_languages_lists_codes_names_and_reachable_targets(lt):
    client, _ = lt
    r = client.get("/languages")
    assert r.status_code == 200
    by_code = {item["code"]: item for item in r.json()}
    assert by_code["en"]["name"] == "English"
    assert sorted(by_code["en"]["targets"]) == ["bn", "pl", "ur", "zh-Hant"]
    # Urdu reaches English directly and the others through English.
    assert sorted(by_code["ur"]["targets"]) == ["bn", "en", "pl", "zh-Hant"]
    assert set(by_code) == {"en", "ur"}


def test_detect_answers_candidates(lt):
    client, tokens = lt
    r = client.post("/detect", data={"q": "ਤੁਹਾਡਾ ਧੰਨਵਾਦ", "api_key": tokens["collector"]})
    assert r.status_code == 200
    assert r.json()[0]["language"] == "pa-Guru"
    r = client.post("/detect", data={"q": "ਤੁਹਾਡਾ ਧੰਨਵਾਦ"})
    assert r.status_code == 401 and "error" in r.json()


def test_the_libretranslate_client_in_argostranslate_works(live_server, people, copy_packs):
    from argostranslate.apis import LibreTranslateAPI
    client = LibreTranslateAPI(live_server.url, api_key=people["communicator"][1])
    assert client.translate("Book your flu vaccine.", "en", "ur") == "Book your flu vaccine."
    assert {lang["code"] for lang in client.languages()} == {"en", "ur"}
