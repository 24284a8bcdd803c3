"""The field page's server side over real HTTP: its security headers, its own files,
its interface text (comms messages, approved per language), one-time sign-in links,
collectors kept to their own sessions, uploads sent twice but stored once, consent
before answers, and the size and duration limits."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest

from tests.conftest import DEMO_DATA

VOICE = (DEMO_DATA / "flu-vaccine-en.wav").read_bytes()


def key() -> str:
    return str(uuid.uuid4())


def count(store, table: str, where: str = "1=1", params: tuple = ()) -> int:
    return store.one(f"SELECT count(*) FROM {table} WHERE {where}", params)[0]


@pytest.fixture
def survey(store, people):
    from surveys import service as surveys
    communicator = people["communicator"][0]
    made = surveys.create_survey(
        store, communicator, title="Clinic access", purpose="Hear what stops people coming",
        base_language="en", target_languages=["ur"], questions=[
            {"kind": "consent", "name": "consent", "text": "Do you agree to take part?",
             "texts": {"ur": "کیا آپ حصہ لینے پر رضامند ہیں؟"}},
            {"kind": "open", "name": "barriers", "text": "What makes it hard to get there?",
             "texts": {"ur": "وہاں پہنچنا کیوں مشکل ہے؟"}},
            {"kind": "single_choice", "name": "bus", "text": "Do you come by bus?",
             "texts": {"ur": "کیا آپ بس سے آتے ہیں؟"},
             "options": {"choices": [{"value": "yes", "label": "Yes",
                                      "labels": {"ur": "جی ہاں"}},
                                     {"value": "no", "label": "No", "labels": {"ur": "نہیں"}}]}},
        ])
    for q in made["questions"]:
        surveys.approve_question_text(store, people["admin"][0], q["id"], "ur")
    surveys.open_language(store, communicator, made["id"], "en")
    surveys.open_language(store, communicator, made["id"], "ur")
    return surveys.get_survey(store, made["id"])


def question(survey, name: str) -> int:
    return next(q["id"] for q in survey["questions"] if q["name"] == name)


def start(client, survey, language: str = "en", idem: str | None = None):
    return client.post("/collect/api/sessions", json={"survey_id": survey["id"],
                                                      "language": language},
                       headers={"Idempotency-Key": idem or key()})


def consent(client, session_id: int, idem: str | None = None):
    return client.post(f"/collect/api/sessions/{session_id}/consent", data={"method": "tick"},
                       headers={"Idempotency-Key": idem or key()})


def answer(client, session_id: int, question_id: int, idem: str | None = None, *,
           text: str | None = None, audio: bytes | None = None, choices=None):
    data: dict = {"question_id": str(question_id)}
    if text is not None:
        data["text"] = text
    if choices is not None:
        data["choices"] = choices
    files = {"audio": ("answer.wav", audio, "audio/wav")} if audio is not None else None
    return client.post(f"/collect/api/sessions/{session_id}/answers", data=data, files=files,
                       headers={"Idempotency-Key": idem or key()})


@pytest.fixture
def consented(api, survey):
    r = start(api["collector"], survey)
    assert r.status_code == 201, r.text
    session_id = r.json()["session_id"]
    assert consent(api["collector"], session_id).status_code == 201
    return session_id


# -- the page -----------------------------------------------------------------------

def test_the_page_and_its_files_carry_strict_security_headers(api):
    anonymous = api["anonymous"]
    assert anonymous.get("/collect", follow_redirects=False).headers["location"] == "/collect/"
    for path in ("/collect/", "/collect/static/app.js", "/collect/static/collect.css",
                 "/collect/fonts.css", "/collect/interface/en"):
        r = anonymous.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "microphone=(self)" in r.headers["permissions-policy"]
        assert "set-cookie" not in r.headers
    assert anonymous.get("/collect/").headers["content-type"].startswith("text/html")
    assert anonymous.get("/collect/static/app.js").headers["content-type"].startswith(
        "text/javascript")


def test_the_page_has_no_inline_code_and_loads_nothing_from_elsewhere(api):
    html = api["anonymous"].get("/collect/").text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<style" not in html and " style=" not in html and "javascript:" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    for ref in re.findall(r"""(?:src|href)="(/collect/[^"]+)\"""", html):
        assert api["anonymous"].get(ref).status_code == 200, ref
    for name in ("app.js", "queue.js", "recorder.js", "i18n.js", "values.js", "sw.js"):
        script = api["anonymous"].get(f"/collect/static/{name}").text
        assert "http://" not in script and "https://" not in script, name
        assert "eval(" not in script and "innerHTML" not in script, name


def test_only_the_pages_own_files_are_served(api):
    for path in ("/collect/static/api.py", "/collect/static/..%2Fapi.py",
                 "/collect/static/interface_text.json", "/collect/static/.hidden.js",
                 "/collect/fonts/passwd", "/collect/fonts/..%2F..%2Fetc%2Fpasswd"):
        assert api["anonymous"].get(path).status_code == 404, path


def test_fonts_are_served_from_cohear_only_where_present(api):
    from webcollect import fonts
    css = api["anonymous"].get("/collect/fonts.css").text
    for face in fonts.FACES:
        declared = f'url("fonts/{face.file}")' in css
        assert declared == (fonts.find(face.file) is not None), face.family
        if declared:
            r = api["anonymous"].get(f"/collect/fonts/{face.file}")
            assert r.status_code == 200 and r.headers["content-type"] == "font/ttf"
            assert r.content == fonts.find(face.file).read_bytes()
    assert ':lang(ur), :lang(pa-Arab), :lang(skr) { font-family: "Noto Nastaliq Urdu"' in css


# -- interface text -----------------------------------------------------------------

def test_the_interface_is_offered_in_five_languages_through_approved_comms_translations(
        api, store):
    from comms import service as comms
    from webcollect import strings
    english = api["anonymous"].get("/collect/interface/en").json()
    keys = set(english["strings"])
    assert keys == set(strings.shipped()["en"]) and len(keys) > 50
    for language in ("ur", "bn", "pa-Guru", "pl"):
        page = api["anonymous"].get(f"/collect/interface/{language}").json()
        assert page["source"] == "comms"
        assert set(page["strings"]) == keys
        assert set(page["approved"]) == keys, language
        assert page["strings"] == strings.shipped()[language]
        for k in keys:
            assert set(re.findall(r"\{\w+\}", page["strings"][k])) == set(
                re.findall(r"\{\w+\}", english["strings"][k])), (language, k)
        assert page["direction"] == ("rtl" if language == "ur" else "ltr")
    messages = comms.list_messages(store, tag=strings.TAG)
    assert len(messages) == len(keys)
    history = comms.translation_history(store, messages[0]["id"], "ur")
    assert [h["status"] for h in history] == ["human_requested", "received", "approved"]
    assert api["anonymous"].get("/collect/interface/fr").status_code == 400


def test_a_translation_changed_in_comms_reaches_the_page_only_once_approved(api, store, people):
    from comms import service as comms
    from webcollect import strings
    api["anonymous"].get("/collect/interface/pl")
    message = next(m for m in comms.list_messages(store, tag=strings.TAG)
                   if m["title"] == strings.TITLE + "start")
    comms.edit_translation(store, people["communicator"][0], message["id"], "pl",
                           "Rozpocznij z nową osobą")
    page = api["anonymous"].get("/collect/interface/pl").json()
    assert page["strings"]["start"] == "Start with a new respondent"
    assert "start" not in page["approved"]
    comms.approve_translation(store, people["reviewer"][0], message["id"], "pl")
    page = api["anonymous"].get("/collect/interface/pl").json()
    assert page["strings"]["start"] == "Rozpocznij z nową osobą"
    # Seeding again leaves the reviewer's text alone.
    strings.seed(store)
    assert comms.get_translation(store, message["id"], "pl")["text"] == "Rozpocznij z nową osobą"


# -- one-time links -----------------------------------------------------------------

def test_a_one_time_link_signs_a_collector_in_once(api, store, people, live_server):
    r = api["admin"].post("/collect/api/links", json={"collector": "test-collector",
                                                      "token_minutes": 60})
    assert r.status_code == 201, r.text
    link = r.json()
    code = link["code"]
    assert link["url"] == f"{live_server.url}/collect/#link={code}"
    assert count(store, "collect_links", "code_hash = ?", (code,)) == 0
    assert count(store, "collect_links", "code_hash = ?",
                 (hashlib.sha256(code.encode()).hexdigest(),)) == 1

    got = api["anonymous"].post("/collect/api/links/exchange", json={"code": code})
    assert got.status_code == 200, got.text
    assert got.headers["cache-control"] == "no-store"
    token = got.json()["token"]
    with live_server.client(token) as phone:
        me = phone.get("/api/me").json()
        assert (me["name"], me["role"]) == ("test-collector", "collector")
    again = api["anonymous"].post("/collect/api/links/exchange", json={"code": code})
    assert again.status_code == 401 and "already used" in again.json()["detail"]
    listed = api["admin"].get("/collect/api/links").json()
    assert listed[0]["state"] == "used" and "code" not in listed[0]

    # Withdrawing a used link ends the sign-in it gave.
    assert api["admin"].delete(f"/collect/api/links/{link['id']}").status_code == 200
    with live_server.client(token) as phone:
        assert phone.get("/api/me").status_code == 401


def test_expired_withdrawn_and_unknown_links_do_not_sign_in(api, store):
    expired = api["admin"].post("/collect/api/links", json={"collector": "test-collector"}).json()
    with store.transaction() as conn:
        conn.execute("UPDATE collect_links SET expires_at = '2020-01-01T00:00:00.000000Z' "
                     "WHERE id = ?", (expired["id"],))
    r = api["anonymous"].post("/collect/api/links/exchange", json={"code": expired["code"]})
    assert r.status_code == 401 and "expired" in r.json()["detail"]

    withdrawn = api["admin"].post("/collect/api/links", json={"collector": "test-collector"}
                                  ).json()
    api["admin"].delete(f"/collect/api/links/{withdrawn['id']}")
    r = api["anonymous"].post("/collect/api/links/exchange", json={"code": withdrawn["code"]})
    assert r.status_code == 401 and "withdrawn" in r.json()["detail"]

    for code in ("cl_" + "x" * 32, "coh_abc_def", ""):
        assert api["anonymous"].post("/collect/api/links/exchange",
                                     json={"code": code}).status_code == 401
    assert count(store, "tokens", "label LIKE 'one-time link%'") == 0


def test_only_admins_issue_links_and_only_for_collectors(api):
    for role in ("collector", "communicator", "reviewer", "researcher", "anonymous"):
        r = api[role].post("/collect/api/links", json={"collector": "test-collector"})
        assert r.status_code in (401, 403), role
    r = api["admin"].post("/collect/api/links", json={"collector": "test-reviewer"})
    assert r.status_code == 400 and "for collectors" in r.json()["detail"]
    r = api["admin"].post("/collect/api/links", json={"collector": "test-collector",
                                                      "link_minutes": 0})
    assert r.status_code == 400


# -- collecting -----------------------------------------------------------------------

def test_a_survey_comes_in_the_respondents_language_with_its_direction(api, survey):
    listed = api["collector"].get("/collect/api/surveys").json()
    assert [s["id"] for s in listed] == [survey["id"]]
    assert {lang["tag"] for lang in listed[0]["languages"]} == {"en", "ur"}
    urdu = api["collector"].get(f"/collect/api/surveys/{survey['id']}/ur").json()
    assert urdu["language"] == {"tag": "ur", "name": "Urdu", "native_name": "اردو",
                                "direction": "rtl"}
    assert urdu["consent"]["text"] == "کیا آپ حصہ لینے پر رضامند ہیں؟"
    assert [q["name"] for q in urdu["questions"]] == ["barriers", "bus"]
    # The choice labels were approved with the question: served in Urdu, and said so.
    assert urdu["questions"][1]["choices"] == [
        {"value": "yes", "label": "جی ہاں", "label_language": "ur"},
        {"value": "no", "label": "نہیں", "label_language": "ur"}]
    assert not any(q["in_base_language"] for q in urdu["questions"])
    r = api["collector"].get(f"/collect/api/surveys/{survey['id']}/pl")
    assert r.status_code == 409


def test_answers_wait_for_consent(api, survey, store):
    session_id = start(api["collector"], survey).json()["session_id"]
    r = answer(api["collector"], session_id, question(survey, "barriers"), text="The bus")
    assert r.status_code == 409 and "consent" in r.json()["detail"]
    assert count(store, "answers") == 0
    assert count(store, "collect_uploads", "kind = 'answer'") == 0


def test_the_same_session_sent_twice_is_one_session(api, survey, store):
    idem = key()
    first, second = start(api["collector"], survey, idem=idem), start(api["collector"], survey,
                                                                       idem=idem)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["session_id"] == second.json()["session_id"]
    assert second.json()["duplicate"] is True
    assert count(store, "survey_sessions") == 1 and count(store, "respondents") == 1


def test_the_same_answer_sent_twice_is_stored_once(api, survey, store, consented):
    collector = api["collector"]
    idem = key()
    first = answer(collector, consented, question(survey, "barriers"), idem, text="The bus")
    second = answer(collector, consented, question(survey, "barriers"), idem, text="The bus")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["answer_id"] == second.json()["answer_id"]
    assert first.json()["transcription"] == "not needed"
    assert count(store, "answers") == 1
    # A different answer to a question already answered is its next version.
    other = answer(collector, consented, question(survey, "barriers"), text="Too far")
    assert other.status_code == 201, other.text
    assert (other.json()["answer_id"], other.json()["version"]) == (first.json()["answer_id"], 2)
    assert count(store, "answers") == 1
    # Reusing a key for another kind of item is refused.
    assert consent(collector, consented, idem).status_code == 409


def test_an_answer_given_again_is_a_new_version_until_the_session_is_finished(
        api, survey, store, consented):
    collector = api["collector"]
    barriers = question(survey, "barriers")
    first = answer(collector, consented, barriers, text="The bus")
    assert first.status_code == 201 and first.json()["version"] == 1
    again_key = key()
    changed = answer(collector, consented, barriers, again_key, text="Too far to walk")
    assert changed.status_code == 201, changed.text
    assert changed.json()["answer_id"] == first.json()["answer_id"]
    assert changed.json()["version"] == 2
    # The same key again is the same version, not a third.
    assert answer(collector, consented, barriers, again_key,
                  text="Too far to walk").json()["version"] == 2
    assert count(store, "answers") == 1
    kept = store.one("SELECT * FROM answer_versions WHERE answer_id = ?",
                     (first.json()["answer_id"],))
    assert kept["version"] == 1
    assert store.one("SELECT text FROM answer_texts WHERE id = ?",
                     (kept["answer_text_id"],))["text"] == "The bus"
    finished = collector.post(f"/collect/api/sessions/{consented}/finish")
    assert finished.status_code == 200 and finished.json()["finished"] is True
    late = answer(collector, consented, barriers, text="Something else")
    assert late.status_code == 409 and late.json()["code"] == "session-finished"
    assert store.one("SELECT version FROM answers")["version"] == 2


def test_a_session_without_answers_can_be_discarded_and_one_with_answers_cannot(
        api, survey, store, consented):
    collector = api["collector"]
    # Another collector cannot discard it.
    assert api["collector2"].delete(f"/collect/api/sessions/{consented}").status_code in (403,
                                                                                          404)
    r = collector.delete(f"/collect/api/sessions/{consented}")
    assert r.status_code == 200, r.text
    assert count(store, "survey_sessions") == 0 and count(store, "respondents") == 0
    assert count(store, "consents") == 0
    assert store.one("SELECT count(*) FROM audit_log WHERE action = 'session.discard'")[0] == 1
    kept = start(collector, survey).json()["session_id"]
    consent(collector, kept)
    answer(collector, kept, question(survey, "barriers"), text="The bus")
    refused = collector.delete(f"/collect/api/sessions/{kept}")
    assert refused.status_code == 409 and refused.json()["code"] == "session-has-answers"
    assert count(store, "answers") == 1


def test_problems_the_page_meets_carry_a_stable_code(api, survey, store, people):
    collector = api["collector"]
    session_id = start(collector, survey).json()["session_id"]
    r = answer(collector, session_id, question(survey, "barriers"), text="x")
    assert r.json()["code"] == "consent-missing" and r.json()["fix"]
    consent(collector, session_id)
    r = answer(collector, session_id, question(survey, "bus"), choices=["maybe"])
    assert r.status_code == 400 and r.json()["code"] == "answer-invalid"
    r = answer(api["collector2"], session_id, question(survey, "barriers"), text="x")
    assert r.status_code in (403, 404) and r.json()["code"] in ("session-not-yours", "not-found")
    assert start(collector, survey, "pl").json()["code"] == "survey-not-open"
    assert api["anonymous"].get("/collect/api/surveys").json()["code"] == "token-missing"
    assert api["reviewer"].get("/collect/api/surveys").json()["code"] == "role-may-not"


def test_a_recording_sent_again_under_a_new_key_is_recognised_by_its_bytes(api, survey, store,
                                                                           consented):
    collector = api["collector"]
    first = answer(collector, consented, question(survey, "barriers"), audio=VOICE)
    assert first.status_code == 201, first.text
    assert first.json()["transcription"] in ("queued", "transcribing", "failed", "transcribed")
    # The phone lost the answer to its first upload and (wrongly) made a new key.
    second = answer(collector, consented, question(survey, "barriers"), audio=VOICE)
    assert second.status_code == 200 and second.json()["duplicate"] is True
    assert second.json()["answer_id"] == first.json()["answer_id"]
    assert count(store, "answers") == 1 and count(store, "recordings") == 1


def test_choices_are_checked_and_kept(api, survey, store, consented):
    bus = question(survey, "bus")
    r = answer(api["collector"], consented, bus, choices=["maybe"])
    assert r.status_code == 400
    r = answer(api["collector"], consented, bus, choices=["yes"])
    assert r.status_code == 201, r.text
    assert store.one("SELECT choices_json FROM answers")[0] == '["yes"]'


def test_each_upload_needs_a_proper_idempotency_key(api, survey, store):
    for bad in (None, "short", "has spaces in it", "x" * 101):
        headers = {} if bad is None else {"Idempotency-Key": bad}
        r = api["collector"].post("/collect/api/sessions", json={"survey_id": survey["id"],
                                                                 "language": "en"},
                                  headers=headers)
        assert r.status_code == (422 if bad is None else 400), bad
    assert count(store, "survey_sessions") == 0


def test_collectors_see_and_touch_only_their_own_sessions(api, survey, store, consented):
    answer(api["collector"], consented, question(survey, "barriers"), text="The bus is late")
    other = api["collector2"]
    r = other.get(f"/collect/api/sessions/{consented}")
    assert r.status_code == 404 and "The bus" not in r.text
    r = answer(other, consented, question(survey, "bus"), choices=["yes"])
    assert r.status_code in (403, 404)
    assert consent(other, consented).status_code in (403, 404)
    status = other.get(f"/collect/api/status?session={consented}").json()
    assert status == [{"session_id": consented, "missing": True}]
    mine = api["collector"].get(f"/collect/api/status?session={consented}").json()
    assert mine[0]["consent"] is True and len(mine[0]["answers"]) == 1
    assert "The bus" not in str(mine)  # statuses only: no one's words travel back
    assert count(store, "answers") == 1


def test_uploads_over_the_size_limit_are_refused_and_nothing_is_kept(api, survey, store,
                                                                     consented, monkeypatch):
    from webcollect import service
    monkeypatch.setattr(service, "MAX_ANSWER_BYTES", len(VOICE) - 1)
    r = answer(api["collector"], consented, question(survey, "barriers"), audio=VOICE)
    assert r.status_code == 413, r.text
    assert count(store, "answers") == 0 and count(store, "recordings") == 0
    assert count(store, "collect_uploads", "kind = 'answer'") == 0


def test_recordings_over_the_duration_limit_are_refused(api, survey, store, consented,
                                                        monkeypatch):
    monkeypatch.setenv("COHEAR_SPEECH_MAX_SECONDS", "2")  # the demo recording is ~3.9 s
    r = answer(api["collector"], consented, question(survey, "barriers"), audio=VOICE)
    assert r.status_code == 413 and "longer than the limit" in r.json()["detail"]
    assert count(store, "answers") == 0 and count(store, "recordings") == 0


def test_a_questions_recorded_prompt_plays_on_the_page(api, survey, store, people):
    import io

    from surveys import service as surveys
    barriers = question(survey, "barriers")
    surveys.put_prompt(store, people["admin"][0], barriers, "ur", io.BytesIO(VOICE), "audio/wav")
    urdu = api["collector"].get(f"/collect/api/surveys/{survey['id']}/ur").json()
    assert [q["has_prompt"] for q in urdu["questions"]] == [True, False]
    r = api["collector"].get(f"/collect/api/questions/{barriers}/prompt/ur")
    assert r.status_code == 200 and r.content == VOICE
    assert r.headers["content-type"] == "audio/wav"
    assert api["collector"].get(f"/collect/api/questions/{barriers}/prompt/en").status_code == 404
    assert api["anonymous"].get(f"/collect/api/questions/{barriers}/prompt/ur").status_code == 401


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_text_colour_meets_wcag_aa_contrast_on_its_background():
    from importlib import resources
    css = (resources.files("webcollect") / "static" / "collect.css").read_text()
    var = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = {
        "body text": (var["ink"], var["paper"]),
        "help text": (var["muted"], var["paper"]),
        "question on its panel": (var["ink"], var["panel"]),
        "buttons and the top bar": (var["primary-ink"], var["primary"]),
        "quiet buttons": (var["primary"], var["paper"]),
        "sent": (var["ok"], var["paper"]),
        "waiting": (var["warn"], var["paper"]),
        "not accepted": (var["bad"], var["paper"]),
    }
    # Colours written out in rules rather than variables, with the background they sit on.
    for rule in (r"\.connection\.offline \{[^}]*\}", r"\.notice \{[^}]*\}",
                 r"button:disabled \{[^}]*\}"):
        body = re.search(rule, css).group(0)
        fg = re.search(r"[^-]color:\s*(#[0-9a-fA-F]{6}|var\(--([a-z-]+)\))", body)
        bg = re.search(r"background:\s*(#[0-9a-fA-F]{6})", body).group(1)
        pairs[rule] = (fg.group(1) if fg.group(1).startswith("#") else var[fg.group(2)], bg)
    low = {name: round(contrast(*p), 2) for name, p in pairs.items() if contrast(*p) < 4.5}
    assert low == {}
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0


def test_a_recording_sent_in_parts_carries_on_where_the_connection_dropped(
        api, survey, store, consented, monkeypatch):
    from webcollect import service
    monkeypatch.setattr(service, "PART_BYTES", 16 * 1024)
    collector, idem, total = api["collector"], key(), len(VOICE)
    url = f"/collect/api/parts/{idem}"
    assert collector.get(url).json() == {"received": 0, "total": None, "part_bytes": 16384,
                                         "saved": False}

    def put(offset: int, size: int = 16 * 1024):
        return collector.put(f"{url}?offset={offset}&total={total}",
                             content=VOICE[offset:offset + size],
                             headers={"Content-Type": "application/octet-stream"})

    assert put(0).json()["received"] == 16384
    # The phone lost the answer to its second part and sends it again: refused, with
    # how much has arrived, and nothing is appended twice.
    assert put(16384).status_code == 200
    again = put(16384)
    assert again.status_code == 409 and again.json()["received"] == 32768
    # Answering before every byte is there is refused.
    early = collector.post(f"/collect/api/sessions/{consented}/answers",
                           data={"question_id": str(question(survey, "barriers")),
                                 "in_parts": "true"}, headers={"Idempotency-Key": idem})
    assert early.status_code == 409
    offset = 32768
    while offset < total:
        offset = put(offset).json()["received"]
    assert collector.get(url).json()["received"] == total
    done = collector.post(f"/collect/api/sessions/{consented}/answers",
                          data={"question_id": str(question(survey, "barriers")),
                                "in_parts": "true"}, headers={"Idempotency-Key": idem})
    assert done.status_code == 201, done.text
    recording = store.one("SELECT * FROM recordings")
    assert recording["original_sha256"] == hashlib.sha256(VOICE).hexdigest()
    assert count(store, "collect_parts") == 0
    assert not list((store.settings.data_dir / "collect-parts").iterdir())
    # Sent once more after it was stored (its reply was lost): recognised, not stored.
    assert collector.get(url).json()["saved"] is True
    repeat = collector.post(f"/collect/api/sessions/{consented}/answers",
                            data={"question_id": str(question(survey, "barriers")),
                                  "in_parts": "true"}, headers={"Idempotency-Key": idem})
    assert repeat.status_code == 200 and repeat.json()["duplicate"] is True
    assert count(store, "answers") == 1


def test_parts_are_checked_for_size_and_belong_to_their_collector(api, consented, monkeypatch):
    from webcollect import service
    monkeypatch.setattr(service, "PART_BYTES", 1024)
    idem = key()
    url = f"/collect/api/parts/{idem}"
    r = api["collector"].put(f"{url}?offset=0&total={service.MAX_ANSWER_BYTES + 1}",
                             content=b"x" * 10)
    assert r.status_code == 413
    r = api["collector"].put(f"{url}?offset=0&total=5000", content=b"x" * 2000)
    assert r.status_code == 400
    assert api["collector"].put(f"{url}?offset=0&total=5000", content=b"x" * 1000
                                ).status_code == 200
    # Another collector's parts under the same key are theirs alone.
    assert api["collector2"].get(url).json()["received"] == 0
    assert api["anonymous"].get(url).status_code == 401


def test_a_malformed_exchange_is_refused_in_words(api):
    for body in (b"not json", b"[]", b'{"code": 5}', b'{"code": "' + b"x" * 300 + b'"}'):
        r = api["anonymous"].post("/collect/api/links/exchange", content=body,
                                  headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and "code" in r.json()["detail"], body


def test_scale_labels_are_served_in_urdu_once_approved_with_the_question(api, store, people):
    from surveys import service as surveys
    communicator, reviewer = people["communicator"][0], people["reviewer"][0]
    made = surveys.create_survey(
        store, communicator, title="Trust", purpose="How much people trust the clinic",
        base_language="en", questions=[
            {"kind": "consent", "name": "consent", "text": "Do you agree?",
             "texts": {"ur": "کیا آپ راضی ہیں؟"}},
            {"kind": "scale", "name": "trust", "text": "How much do you trust it?",
             "texts": {"ur": "آپ اس پر کتنا بھروسہ کرتے ہیں؟"},
             "options": {"min": 1, "max": 5, "labels": {"1": "not at all", "5": "very"}}}])
    trust = made["questions"][1]["id"]
    for q in made["questions"]:
        surveys.approve_question_text(store, reviewer, q["id"], "ur")
    surveys.open_language(store, communicator, made["id"], "ur")
    url = f"/collect/api/surveys/{made['id']}/ur"
    before = api["collector"].get(url).json()["questions"][0]
    assert before["labels"] == {"1": "not at all", "5": "very"}
    assert before["label_languages"] == {"1": "en", "5": "en"}
    r = api["communicator"].put(f"/api/surveys/questions/{trust}/texts/ur",
                                json={"labels": {"scale:1": "بالکل نہیں", "scale:5": "بہت"}})
    assert r.status_code == 200, r.text
    # Translated but not yet approved: still the survey's own words.
    assert api["collector"].get(url).json()["questions"][0]["labels"]["1"] == "not at all"
    r = api["reviewer"].post(f"/api/surveys/questions/{trust}/texts/ur/approve")
    assert r.status_code == 200, r.text
    after = api["collector"].get(url).json()["questions"][0]
    assert after["labels"] == {"1": "بالکل نہیں", "5": "بہت"}
    assert after["label_languages"] == {"1": "ur", "5": "ur"}
    listed = api["collector"].get("/collect/api/surveys").json()
    names = {lang["tag"]: lang["native_name"] for s in listed for lang in s["languages"]}
    assert names["ur"] == "اردو"
