"""The field-capture page end to end, in real headless Chromium (Debian's) driven by
Playwright, against a real cohear server with the real Whisper model: a collector
signs in, records spoken consent and three answers from a fake microphone fed with
real speech, loses the connection half-way, closes the tab, comes back, and every
answer arrives once, is transcribed, and shows as such on the page.

Every test runs as a leader's phone does: 360×780 CSS px, touch, mobile. One browser
serves the whole module; each test has its own context (its own phone). Screenshots
of the main steps go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import wave
from pathlib import Path

import numpy as np
import pytest

from tests import prerequisites
from tests.conftest import DEMO_DATA, REPO

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 780}

pytestmark = [
    pytest.mark.slow,
    prerequisites.skip_unless(CHROMIUM.exists(), f"{CHROMIUM}: install Debian's chromium package "
                              "(`apt-get install chromium`) to run the browser tests"),
]


def browser_args(fake_audio: Path) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake_audio}"]


@pytest.fixture(scope="module")
def fake_microphone(tmp_path_factory) -> Path:
    """The demo recording (espeak-ng speech, 16 kHz) as 48 kHz 16-bit PCM, the rate
    Chromium's fake capture device runs at, with a little silence after it (it loops)."""
    with wave.open(str(DEMO_DATA / "flu-vaccine-en.wav")) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    target = 48_000
    times = np.arange(int(len(samples) * target / rate)) * rate / target
    resampled = np.interp(times, np.arange(len(samples)), samples)
    padded = np.concatenate([resampled, np.zeros(target // 2)])
    path = tmp_path_factory.mktemp("mic") / "speech-48k.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(target)
        out.writeframes(np.clip(padded, -32768, 32767).astype("<i2").tobytes())
    return path


@pytest.fixture
def survey(store, people):
    """A survey with a consent question and three open questions, open in English."""
    from surveys import service as surveys
    communicator = people["communicator"][0]
    made = surveys.create_survey(
        store, communicator, title="Getting to the clinic", purpose="Hear what stops people "
        "getting vaccinated", base_language="en", questions=[
            {"kind": "consent", "name": "consent",
             "text": "We will record your answers and keep them safely. Do you agree?"},
            {"kind": "open", "name": "barriers", "text": "What makes it hard to get a vaccine?"},
            {"kind": "open", "name": "family", "text": "Who in your family needs a vaccine?"},
            {"kind": "open", "name": "ideas", "text": "What would help you most?"},
        ])
    surveys.open_language(store, communicator, made["id"], "en")
    return made


@pytest.fixture(scope="module")
def browser(fake_microphone):
    playwright = prerequisites.require_module("playwright.sync_api",
                                              "install the test tools: pip install -e .[test]")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM),
                                     args=browser_args(fake_microphone))
        yield chromium
        chromium.close()


# Uncaught errors in any page of any phone, as "page URL: message"; each test must end
# with none (`no_page_errors`): a script that throws mid-journey leaves a leader with a
# page that half works.
PAGE_ERRORS: list[str] = []


def phone(browser, **kw):
    """A new phone: its own storage, 360×780, touch, mobile; its pages' uncaught errors
    are collected in PAGE_ERRORS."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True,
                                  is_mobile=True, **kw)

    def watch(page) -> None:
        page.on("pageerror", lambda error: PAGE_ERRORS.append(f"{page.url}: {error}"))

    context.on("page", watch)
    return context


@pytest.fixture(autouse=True)
def no_page_errors():
    """Every browser test fails on an uncaught error in the page."""
    PAGE_ERRORS.clear()
    yield PAGE_ERRORS
    errors, PAGE_ERRORS[:] = list(PAGE_ERRORS), []
    assert errors == [], "uncaught errors in the page: " + "; ".join(errors)


def choose_language(page, tag: str) -> None:
    """The page language, from the header's menu, as a leader changes it."""
    page.click("#menu-button")
    page.select_option("#page-language", tag)
    page.wait_for_function("(tag) => document.documentElement.lang === tag", arg=tag)
    page.wait_for_selector("#menu", state="hidden")


def shot(page, name: str) -> None:
    """The screen as the phone shows it (360×780), and the whole page scrolled through."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.screenshot(path=str(SHOTS / f"{name}-full.png"), full_page=True)


def unnamed_controls(page) -> list[str]:
    """Visible controls without a name a screen reader can say (WCAG 4.1.2)."""
    return page.evaluate("""() => [...document.querySelectorAll(
        'input, select, textarea, button, meter, audio, output')]
        .filter(el => el.offsetParent !== null).filter(el => {
          const label = el.labels && el.labels.length ? el.labels[0].textContent.trim() : '';
          return !(label || el.getAttribute('aria-label') || el.textContent.trim());
        }).map(el => el.outerHTML)""")


def record(page, recorder: str, seconds: int) -> None:
    """Press Record, wait until the elapsed time shows `seconds`, press Stop."""
    page.click(f"{recorder} .rec-start")
    page.wait_for_selector(f"{recorder}[data-state=recording]")
    page.wait_for_function(
        "([sel, s]) => Number(document.querySelector(sel).dataset.seconds) >= s",
        arg=[recorder, seconds], timeout=30_000)
    # The level meter moved with the speech (its loudest reading is kept on the widget).
    assert float(page.get_attribute(recorder, "data-peak")) > 0.3
    page.click(f"{recorder} .rec-stop")
    page.wait_for_selector(f"{recorder}[data-state=recorded]")


AGE_ITEMS_BY_FOUR_DAYS = """async () => {
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open("cohear-collect");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const tx = db.transaction("items", "readwrite");
  const items = tx.objectStore("items");
  const all = await new Promise((resolve) => {
    const req = items.getAll();
    req.onsuccess = () => resolve(req.result);
  });
  for (const item of all) {
    item.createdAt -= 4 * 24 * 3600 * 1000;
    items.put(item);
  }
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
  return all.length;
}"""


def test_a_collector_records_consent_and_three_answers_through_a_lost_connection(
        browser, live_server, people, store, survey, whisper_model, monkeypatch):
    from webcollect import service
    # Small parts, so that each recording goes up in several, as a long one would.
    monkeypatch.setattr(service, "PART_BYTES", 8 * 1024)
    collector, token = people["collector"]
    parts = []
    context = phone(browser, locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.wait_for_selector("body[data-ready=true]")
    shot(page, "01-sign-in")

    page.fill("#token", token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#setup:not([hidden])")
    assert page.text_content("#who") == f"Signed in as {collector.name}"
    page.select_option("#survey", str(survey["id"]))
    page.select_option("#respondent-language", "en")
    shot(page, "02-choose-survey")
    page.click("#start")

    # Consent first: nothing else opens until it is recorded.
    page.wait_for_selector("#consent:not([hidden])")
    assert page.is_hidden("#question")
    assert "Do you agree?" in page.text_content("#consent-text")
    page.click("#consent-spoken summary")
    record(page, "#consent-recorder", 2)
    shot(page, "03-consent-recorded")
    page.click("#save-consent")

    # Answer 1, recorded twice: the first take is thrown away before upload.
    page.wait_for_selector("#question:not([hidden])")
    assert page.text_content("#saved") == "Consent recorded."
    assert page.text_content("#question-heading") == "Question 1 of 3"
    record(page, "#answer-recorder", 2)
    page.click("#answer-recorder .rec-again")
    page.wait_for_selector("#answer-recorder[data-state=recording]")
    page.wait_for_function(
        "() => Number(document.querySelector('#answer-recorder').dataset.seconds) >= 4",
        timeout=30_000)
    shot(page, "04-recording")
    assert unnamed_controls(page) == []
    page.click("#answer-recorder .rec-stop")
    page.wait_for_selector("#answer-recorder[data-state=recorded]")
    assert unnamed_controls(page) == []
    page.click("#save-answer")

    # The connection goes; answers 2 and 3 are recorded and kept on the phone.
    page.wait_for_function("() => document.querySelector('#question-heading').textContent "
                           "=== 'Question 2 of 3'")
    assert page.text_content("#saved") == "Answer saved on this phone."
    context.set_offline(True)
    page.wait_for_selector("#connection[data-online=false]")
    record(page, "#answer-recorder", 4)
    page.click("#save-answer")
    page.wait_for_function("() => document.querySelector('#question-heading').textContent "
                           "=== 'Question 3 of 3'")
    record(page, "#answer-recorder", 4)
    page.click("#save-answer")
    page.wait_for_selector("#finished:not([hidden])")
    page.wait_for_selector("#queue-list li[data-kind=answer][data-state=waiting]")
    shot(page, "05-offline-waiting")
    waiting = page.locator("#queue-list li[data-state=waiting]").count()
    assert waiting >= 2

    # The tab is closed while answers wait; nothing recorded is lost.
    page.close()
    context.set_offline(False)
    page = context.new_page()
    page.on("request", lambda r: parts.append(r.url) if r.method == "PUT" else None)
    page.goto(f"{live_server.url}/collect/")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function(
        "() => document.querySelectorAll('#queue-list li[data-state=done]').length === 6",
        timeout=120_000)
    page.wait_for_function(
        "() => document.querySelectorAll('#queue-list [data-transcription=transcribed]').length === 3",
        timeout=150_000)
    shot(page, "06-sent-and-transcribed")
    assert page.locator("#queue-list li[data-state=failed]").count() == 0
    statuses = page.locator("#queue-list li[data-kind=answer] .transcription").all_text_contents()
    assert statuses == ["Transcribed"] * 3
    # Days later the phone no longer lists a respondent that is all sent and settled.
    assert page.evaluate(AGE_ITEMS_BY_FOUR_DAYS) == 6
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#uploads[data-items]")
    assert page.get_attribute("#uploads", "data-items") == "0"
    assert page.locator("#queue-list li").count() == 0
    context.close()

    # On the server: one session, one consent, three answers, each stored once.
    sessions = store.all("SELECT * FROM survey_sessions WHERE collector_id = ?", (collector.id,))
    assert len(sessions) == 1 and sessions[0]["ended_at"]
    session_id = sessions[0]["id"]
    consents = store.all("SELECT * FROM consents WHERE session_id = ?", (session_id,))
    assert [c["method"] for c in consents] == ["verbal_recording"]
    answers = store.all("SELECT * FROM answers WHERE session_id = ? ORDER BY question_id",
                        (session_id,))
    assert [a["kind"] for a in answers] == ["voice"] * 3
    assert len({a["recording_id"] for a in answers}) == 3
    recordings = store.all("SELECT * FROM recordings WHERE uploaded_by = ?", (collector.id,))
    assert len(recordings) == 4  # the consent and three answers; the discarded take never left
    assert all(r["format"] == "webm" and r["duration_seconds"] >= 1 for r in recordings)
    for a in answers:
        transcript = store.one("SELECT text FROM transcripts WHERE recording_id = ? "
                               "ORDER BY version DESC", (a["recording_id"],))
        assert transcript is not None and transcript["text"].strip()
    assert len(parts) >= 2 * 4  # answers 2 and 3, each of 4 s, went up in parts
    assert store.one("SELECT count(*) FROM collect_parts")[0] == 0
    keys = store.all("SELECT kind, state FROM collect_uploads WHERE collector_id = ?",
                     (collector.id,))
    assert sorted(k["kind"] for k in keys) == ["answer"] * 3 + ["consent", "session"]  # finish: no key
    assert {k["state"] for k in keys} == {"done"}


def test_the_page_speaks_urdu_right_to_left_in_nastaliq(browser, live_server, store, people):
    """The interface in Urdu: approved strings from comms, right to left, and the
    Nastaliq font from cohear itself when the server has it."""
    from webcollect import fonts
    context = phone(browser, locale="ur-PK")
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.wait_for_selector("body[data-ready=true]")
    choose_language(page, "ur")
    assert page.text_content("#sign-in-heading") == "سائن اِن کریں"
    assert page.evaluate("() => document.documentElement.lang") == "ur"
    font = page.evaluate("() => getComputedStyle(document.querySelector('#sign-in-heading')).fontFamily")
    assert font.startswith('"Noto Nastaliq Urdu"')
    if fonts.find("NotoNastaliqUrdu-Regular.ttf"):
        page.wait_for_function("() => document.fonts.check('16px \"Noto Nastaliq Urdu\"', 'سائن')")
        loaded = page.evaluate("() => [...document.fonts].filter(f => f.status === 'loaded')"
                               ".map(f => f.family)")
        assert "Noto Nastaliq Urdu" in [f.strip('"') for f in loaded]
    shot(page, "07-urdu-sign-in")
    context.close()


def test_nothing_is_loaded_from_outside_cohear(browser, live_server):
    context = phone(browser)
    page = context.new_page()
    outside = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(live_server.url) else None)
    violations = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/collect/")
    page.wait_for_selector("body[data-ready=true]")
    assert outside == []
    assert violations == []
    # At 360 px nothing is wider than the screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_a_one_time_link_signs_the_phone_in_and_leaves_no_code_behind(browser, live_server,
                                                                       api, survey):
    link = api["admin"].post("/collect/api/links", json={"collector": "test-collector"}).json()
    context = phone(browser)
    page = context.new_page()
    page.goto(link["url"])
    page.wait_for_selector("#setup:not([hidden])")
    assert page.text_content("#who") == "Signed in as test-collector"
    assert "link=" not in page.url
    assert unnamed_controls(page) == []
    # A second visit with the same link is refused, and says so.
    again = context.new_page()
    again.goto(link["url"].replace("#", "?x=1#"))
    again.wait_for_selector("#notice:not([hidden])")
    assert "already used" in again.text_content("#notice")
    assert again.get_attribute("#notice", "data-key") == "err_link-used"
    context.close()


def test_a_link_opened_where_the_page_is_already_open_signs_in(browser, live_server, api,
                                                               survey):
    """Opening a link in a tab where the field page was open did nothing: only the
    fragment changed, the code stayed in the address bar, and the page stayed on
    sign-in."""
    link = api["admin"].post("/collect/api/links", json={"collector": "test-collector"}).json()
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_visible("#sign-in")
    page.goto(link["url"])                            # the same tab, the same document
    page.wait_for_selector("#setup:not([hidden])")
    assert page.text_content("#who") == "Signed in as test-collector"
    assert "link=" not in page.url
    # The code left no entry in the history either: back is the page before it.
    page.go_back()
    page.wait_for_timeout(200)
    assert "link=" not in page.url
    context.close()


def test_a_pasted_link_or_its_code_signs_in(browser, live_server, api, survey):
    """Pasting the whole link, or only its code, into the sign-in box said "This sign-in
    code is not right" although the link was valid."""
    admin = api["admin"]
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.wait_for_selector("body[data-ready=true]")
    whole = admin.post("/collect/api/links", json={"collector": "test-collector"}).json()
    sign_in(page, whole["url"])
    assert page.text_content("#who") == "Signed in as test-collector"
    assert page.is_hidden("#notice")
    page.click("#menu-button")
    page.click("#sign-out")
    page.wait_for_selector("#sign-in:not([hidden])")
    code = admin.post("/collect/api/links", json={"collector": "test-collector"}).json()["code"]
    sign_in(page, code)
    assert page.text_content("#who") == "Signed in as test-collector"
    # A used code says so, in the words for a link.
    page.click("#menu-button")
    page.click("#sign-out")
    page.fill("#token", code)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#notice:not([hidden])")
    assert page.get_attribute("#notice", "data-key") == "err_link-used"
    context.close()


def test_the_page_opens_again_without_a_connection(browser, live_server):
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.wait_for_selector("body[data-ready=true]")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_visible("#sign-in")
    assert page.get_attribute("#connection", "data-online") == "false"
    context.close()


def test_items_that_can_never_be_accepted_say_why_instead_of_waiting(browser, live_server,
                                                                     people, store, survey):
    _, token = people["collector"]
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.fill("#token", token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#setup:not([hidden])")
    page.wait_for_function(
        f"() => localStorage.getItem('cohear.collect.survey.{survey['id']}.en')")
    context.set_offline(True)
    page.click("#start")
    page.wait_for_selector("#consent:not([hidden])")
    page.check("#consent-agree")
    page.click("#save-consent")
    page.wait_for_selector("#question:not([hidden])")
    page.fill("#answer-text", "The bus does not run on Sundays.")
    page.click("#save-answer")
    page.wait_for_function("() => document.querySelector('#question-heading').textContent "
                           "=== 'Question 2 of 3'")
    # Meanwhile the survey closes in English (a communicator's decision, made directly).
    with store.transaction() as conn:
        conn.execute("DELETE FROM survey_languages WHERE survey_id = ?", (survey["id"],))
    context.set_offline(False)
    page.wait_for_function(
        "() => document.querySelectorAll('#queue-list li[data-state=failed]').length === 3",
        timeout=60_000)
    codes = [d.get_attribute("data-code") for d in page.locator("#queue-list li .detail").all()]
    assert codes == ["survey-not-open"] * 3
    details = page.locator("#queue-list li .detail").all_text_contents()
    assert all(d.startswith("This survey is closed in this language now") for d in details)
    assert store.one("SELECT count(*) FROM survey_sessions")[0] == 0
    assert store.one("SELECT count(*) FROM answers")[0] == 0
    shot(page, "08-not-accepted")
    context.close()


def test_choices_a_scale_and_a_played_prompt(browser, live_server, people, store):
    import io

    from surveys import service as surveys
    admin, communicator = people["admin"][0], people["communicator"][0]
    made = surveys.create_survey(
        store, communicator, title="Bus times", purpose="Plan the clinic bus",
        base_language="en", questions=[
            {"kind": "consent", "name": "consent", "text": "Do you agree to take part?"},
            {"kind": "single_choice", "name": "bus", "text": "Do you come by bus?",
             "options": {"choices": ["yes", "no"]}},
            {"kind": "scale", "name": "ease", "text": "How easy is it to get here?",
             "options": {"min": 1, "max": 5, "labels": {"1": "very hard", "5": "very easy"}}},
        ])
    surveys.open_language(store, communicator, made["id"], "en")
    consent_id = made["questions"][0]["id"]
    surveys.put_prompt(store, admin, consent_id, "en",
                       io.BytesIO((DEMO_DATA / "flu-vaccine-en.wav").read_bytes()), "audio/wav")
    _, token = people["collector"]
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.fill("#token", token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#setup:not([hidden])")
    page.click("#start")
    page.wait_for_selector("#consent:not([hidden])")
    with page.expect_response(lambda r: f"/questions/{consent_id}/prompt/en" in r.url) as played:
        page.click("#consent-prompt")
    assert played.value.status == 200
    page.check("#consent-agree")
    page.click("#save-consent")
    page.wait_for_selector("#question:not([hidden])")
    assert page.is_hidden("#answer-recorder") and page.is_hidden("#answer-text-wrap")
    assert page.text_content("#choices-legend") == "Choose one"
    page.check("#choice-list input[value=no]")
    page.click("#save-answer")
    page.wait_for_function("() => document.querySelector('#question-heading').textContent "
                           "=== 'Question 2 of 2'")
    labels = page.locator("#choice-list label").all_text_contents()
    assert labels == ["1 – very hard", "2", "3", "4", "5 – very easy"]
    # Skipping never reads as finishing, even on the last question.
    assert page.text_content("#skip") == "Skip"
    page.check("#choice-list input[value='4']")
    shot(page, "09-scale")
    page.click("#save-answer")
    page.wait_for_selector("#finished:not([hidden])")
    page.wait_for_function(
        "() => document.querySelectorAll('#queue-list li[data-state=done]').length === 5",
        timeout=60_000)
    kept = [r[0] for r in store.all("SELECT choices_json FROM answers ORDER BY question_id")]
    assert kept == ['["no"]', '["4"]']
    context.close()


def test_a_token_that_may_not_collect_is_told_so(browser, live_server, people):
    _, token = people["reviewer"]
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.fill("#token", token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#notice:not([hidden])")
    assert page.get_attribute("#notice", "data-key") == "err_role-may-not"
    assert page.text_content("#notice").startswith("This sign-in cannot run surveys.")
    context.close()


def api_links(store) -> dict:
    return dict(store.one("SELECT expires_at FROM collect_links ORDER BY id DESC LIMIT 1"))


def test_an_admin_makes_a_one_time_link_on_the_page(browser, live_server, people, survey, store):
    _, admin_token = people["admin"]
    context = phone(browser, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.fill("#token", admin_token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#links:not([hidden])")
    page.fill("#link-collector", "test-collector")
    page.click("#link-form button[type=submit]")
    page.wait_for_selector("#link-made:not([hidden])")
    assert page.text_content("#link-made-text").startswith("Send this link to the collector.")
    # Its expiry in the UK's order (day, month, year), from the page language's locale.
    link = api_links(store)
    expected = dt.datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    assert f"{expected.day} {expected:%B %Y}" in page.text_content("#link-made-text")
    page.click("#copy-link")
    page.wait_for_function("() => document.querySelector('#link-copied').textContent.length > 0")
    assert page.evaluate("() => navigator.clipboard.readText()") == page.input_value("#link-url")
    check_screen(page, "10-en-admin-link")
    url = page.input_value("#link-url")
    assert url.startswith(f"{live_server.url}/collect/#link=cl_")
    shot(page, "10-admin-link")
    context.close()

    collectors_phone = phone(browser)
    page = collectors_phone.new_page()
    page.goto(url)
    page.wait_for_selector("#setup:not([hidden])")
    assert page.text_content("#who") == "Signed in as test-collector"
    assert page.is_hidden("#links")  # collectors do not issue links
    collectors_phone.close()


def test_an_admin_is_told_in_an_admins_words_why_a_link_was_not_made(browser, live_server,
                                                                     people):
    """Making a link for a user who does not exist said "The server does not have this
    respondent. Tell your coordinator."; for a reviewer, "Tell your coordinator, with this
    code: bad-input"."""
    _, admin_token = people["admin"]
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#token", admin_token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#links:not([hidden])")
    for lang in ("en", "ur"):
        if lang != "en":
            choose_language(page, lang)
        for name, key in (("nobody-here", "err_link-user-unknown"),
                          ("test-reviewer", "err_link-user-not-collector")):
            page.fill("#link-collector", name)
            page.click("#link-form button[type=submit]")
            page.wait_for_function("(key) => document.querySelector('#notice').dataset.key "
                                   "=== key", arg=key)
            shown = page.text_content("#notice")
            assert shown == said(lang, key, name=name), (lang, shown)
            for leader_words in ("respondent", "coordinator", "bad-input", "not-found"):
                assert leader_words not in shown
            assert page.is_hidden("#link-made")
        check_screen(page, f"11-{lang}-admin-link-refused")
    context.close()


# -- a leader's journeys, in English and Urdu ---------------------------------------------

STRINGS = json.loads((REPO / "webcollect" / "interface_text.json").read_text(encoding="utf-8"))
AXE_RESULTS = REPO / "test-artifacts" / "axe"
# Every control a finger presses: at least 44 × 44 CSS px (WCAG 2.5.5, Apple and Android).
SMALL_CONTROLS = """() => [...document.querySelectorAll(
    'button, input:not([type=hidden]), select, textarea, summary, audio, .choice-row label')]
    .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .map(el => { const r = el.getBoundingClientRect();
                 return {el: el.id || el.className || el.tagName, w: Math.round(r.width),
                         h: Math.round(r.height)}; })
    .filter(c => c.w < 44 || c.h < 44)"""


def said(lang: str, key: str, **values) -> str:
    """The page's words for `key` in a language, as shipped, with its values filled in."""
    text = STRINGS[lang][key]
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def check_screen(page, name: str) -> None:
    """axe-core (from the axe-playwright-python wheel, injected from its local file)
    finds no serious or critical violation, and no control is smaller than 44 × 44."""
    from axe_playwright_python.sync_playwright import Axe
    violations = Axe().run(page).response["violations"]
    AXE_RESULTS.mkdir(parents=True, exist_ok=True)
    (AXE_RESULTS / f"{name}.json").write_text(json.dumps(violations, indent=1, ensure_ascii=False),
                                              encoding="utf-8")
    bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:4]}"
           for v in violations if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{name}: " + "; ".join(bad)
    assert page.evaluate(SMALL_CONTROLS) == [], name
    shot(page, name)


def fonts_of(page, selector: str) -> dict[str, int]:
    """The fonts Chromium really drew an element's text with: family -> glyphs."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return {f["familyName"]: f["glyphCount"] for f in fonts}


@pytest.fixture
def journey(store, people):
    """Consent, an open question and a scale, open in English and in Urdu (approved),
    where the scale's top label has no approved Urdu yet (shown in English)."""
    from surveys import service as surveys
    communicator, reviewer = people["communicator"][0], people["reviewer"][0]
    made = surveys.create_survey(
        store, communicator, title="Getting to the clinic", purpose="Hear what stops people",
        base_language="en", target_languages=["ur"], questions=[
            {"kind": "consent", "name": "consent", "text": "We keep your answers safely. Do you agree?",
             "texts": {"ur": "ہم آپ کے جوابات محفوظ رکھتے ہیں۔ کیا آپ راضی ہیں؟"}},
            {"kind": "open", "name": "barriers", "text": "What makes it hard to get here?",
             "texts": {"ur": "یہاں پہنچنا کیوں مشکل ہے؟"}},
            {"kind": "scale", "name": "trust", "text": "How much do you trust the clinic?",
             "texts": {"ur": "آپ کلینک پر کتنا بھروسہ کرتے ہیں؟"},
             "options": {"min": 1, "max": 5, "labels": {"1": "not at all", "5": "very much"}}},
        ])
    trust = made["questions"][2]["id"]
    surveys.set_question_text(store, communicator, trust, "ur", None, {"scale:1": "بالکل نہیں"})
    for q in made["questions"]:
        surveys.approve_question_text(store, reviewer, q["id"], "ur")
    for lang in ("en", "ur"):
        surveys.open_language(store, communicator, made["id"], lang)
    return made


def open_page(context, url: str, lang: str = "en"):
    page = context.new_page()
    page.goto(f"{url}/collect/")
    page.wait_for_selector("body[data-ready=true]")
    if lang != "en":
        choose_language(page, lang)
    return page


def sign_in(page, token: str) -> None:
    page.fill("#token", token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#setup:not([hidden]), #question:not([hidden]), "
                           "#consent:not([hidden])")


def keep_survey_on_phone(page, survey_id: int, lang: str) -> None:
    page.wait_for_function(f"() => localStorage.getItem('cohear.collect.survey.{survey_id}.{lang}')")


def heading_is(page, number: int, total: int) -> None:
    page.wait_for_function("([n, total]) => document.querySelector('#question:not([hidden])') && "
                           "[...document.querySelectorAll('#question-heading bdi')]"
                           ".map(b => b.textContent).join('/') === `${n}/${total}`",
                           arg=[str(number), str(total)])


def done_items(page, n: int, timeout: int = 120_000) -> None:
    """Wait until `n` of the collector's items show as sent (saying what the list shows
    when they do not). Two minutes: on a loaded machine an upload can time out and wait
    out the outbox's backoff before it goes again."""
    try:
        page.wait_for_function(
            "(n) => document.querySelectorAll('#queue-list li[data-state=done]').length === n",
            arg=n, timeout=timeout)
    except Exception as exc:
        raise AssertionError(f"not {n} sent: {page.inner_html('#queue-list')}") from exc


def test_signing_out_warns_and_a_second_collector_never_sees_or_sends_the_firsts_items(
        browser, live_server, people, store, journey):
    (first, first_token), (second, second_token) = people["collector"], people["collector2"]
    context = phone(browser)
    page = open_page(context, live_server.url)
    sign_in(page, first_token)
    keep_survey_on_phone(page, journey["id"], "en")
    check_screen(page, "20-en-setup")
    # Offline: a respondent's consent and first answer stay on the phone.
    context.set_offline(True)
    page.click("#start")
    page.wait_for_selector("#consent:not([hidden])")
    check_screen(page, "21-en-consent")
    page.check("#consent-agree")
    page.click("#save-consent")
    heading_is(page, 1, 2)
    page.fill("#answer-text", "The bus does not run on Sundays")
    page.click("#save-answer")
    heading_is(page, 2, 2)
    page.wait_for_selector("#uploads[data-waiting='3']")
    # Not sent yet: the respondent is told apart by a reference made on the phone.
    assert page.get_attribute("#question-respondent", "data-key") == "local_reference"
    assert page.text_content("#question-respondent").startswith("Reference on this phone: ")

    # Signing out asks first, and says what happens to the three items.
    page.click("#menu-button")
    page.click("#sign-out")
    page.wait_for_selector("#confirm[open]")
    assert page.text_content("#confirm-body") == said("en", "signout_body", count=3)
    check_screen(page, "22-en-sign-out-warning")
    page.click("#confirm button[value=stay]")
    page.wait_for_selector("#confirm", state="hidden")
    assert page.is_visible("#question")
    page.click("#menu-button")
    page.click("#sign-out")
    page.click("#confirm button[value=out]")
    page.wait_for_selector("#sign-in:not([hidden])")
    assert page.is_hidden("#uploads")
    assert page.text_content("#others-waiting") == said("en", "waiting_for_owner", count=3)
    check_screen(page, "23-en-signed-out-items-kept")

    # A second collector on the same phone, online: a fresh start, nothing of the first's.
    context.set_offline(False)
    sign_in(page, second_token)
    page.wait_for_selector("#setup:not([hidden])")
    assert page.text_content("#who") == f"Signed in as {second.name}"
    assert page.locator("#queue-list li").count() == 0
    assert page.text_content("#others-waiting") == said("en", "others_waiting", count=3)
    assert "Sundays" not in page.content()
    # Their own respondent goes up; the first collector's items do not go with it.
    page.click("#start")
    page.wait_for_selector("#consent:not([hidden])")
    page.check("#consent-agree")
    page.click("#save-consent")
    done_items(page, 2)
    check_screen(page, "24-en-second-collector")
    assert store.one("SELECT count(*) FROM survey_sessions WHERE collector_id = ?",
                     (first.id,))[0] == 0
    assert store.one("SELECT count(*) FROM survey_sessions WHERE collector_id = ?",
                     (second.id,))[0] == 1
    assert page.get_attribute("#others-waiting", "data-count") == "3"
    # Nothing unsent: signing out asks nothing.
    page.click("#discard-question")
    page.wait_for_selector("#confirm[open]")
    check_screen(page, "25-en-discard-warning")
    page.click("#confirm button[value=discard]")
    page.wait_for_selector("#setup:not([hidden])")
    page.wait_for_function("() => document.querySelector('#uploads').dataset.items === '0'")
    assert store.one("SELECT count(*) FROM survey_sessions WHERE collector_id = ?",
                     (second.id,))[0] == 0
    page.click("#menu-button")
    page.click("#sign-out")
    page.wait_for_selector("#sign-in:not([hidden])")
    assert page.is_hidden("#confirm")

    # The first collector signs in again: back in their respondent, and it all goes up.
    sign_in(page, first_token)
    heading_is(page, 2, 2)
    done_items(page, 3)
    assert page.locator("#queue-list li[data-state=failed]").count() == 0
    assert page.is_hidden("#others-waiting")
    session = store.one("SELECT * FROM survey_sessions WHERE collector_id = ?", (first.id,))
    assert store.one("SELECT count(*) FROM answers WHERE session_id = ?", (session["id"],))[0] == 1
    context.close()


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_nothing_is_dropped_without_a_word_and_a_saved_answer_can_be_changed(
        browser, live_server, people, store, journey, lang):
    collector, token = people["collector"]
    context = phone(browser)
    page = open_page(context, live_server.url, lang)
    check_screen(page, f"30-{lang}-sign-in")
    sign_in(page, token)
    page.select_option("#respondent-language", lang)
    page.click("#start")
    page.wait_for_selector("#consent:not([hidden])")
    # Saving consent with nothing given says why.
    page.click("#save-consent")
    page.wait_for_selector("#consent-problem:not([hidden])")
    assert page.text_content("#consent-problem") == said(lang, "consent_needed")
    check_screen(page, f"31-{lang}-consent-refused")
    page.check("#consent-agree")
    page.click("#save-consent")
    heading_is(page, 1, 2)

    # Save with nothing entered says why.
    page.click("#save-answer")
    page.wait_for_selector("#answer-problem:not([hidden])")
    assert page.text_content("#answer-problem") == said(lang, "nothing_to_save")
    # Recording is unmistakable, and Save while recording says why.
    record_colour = page.eval_on_selector("#answer-recorder .rec-start",
                                          "el => getComputedStyle(el).backgroundColor")
    page.click("#answer-recorder .rec-start")
    page.wait_for_selector("#answer-recorder[data-state=recording]")
    assert page.is_visible("#answer-recorder .rec-badge")
    assert page.text_content("#answer-recorder .rec-stop [data-i18n=stop]") == said(lang, "stop")
    stop_colour = page.eval_on_selector("#answer-recorder .rec-stop",
                                        "el => getComputedStyle(el).backgroundColor")
    assert stop_colour != record_colour and stop_colour == "rgb(176, 0, 32)"
    assert page.text_content("#answer-recorder .rec-status") == said(lang, "rec_started")
    check_screen(page, f"32-{lang}-recording")
    page.click("#save-answer")
    page.wait_for_selector("#answer-problem:not([hidden])")
    assert page.text_content("#answer-problem") == said(lang, "stop_first")
    page.click("#answer-recorder .rec-stop")
    page.wait_for_selector("#answer-recorder[data-state=recorded]")
    # Leaving with the recording unsaved asks first; this take is left behind.
    page.click("#skip")
    page.wait_for_selector("#confirm[open]")
    assert page.text_content("#confirm-title") == said(lang, "unsaved_title")
    check_screen(page, f"33-{lang}-unsaved-warning")
    page.click("#confirm button[value=drop]")
    heading_is(page, 2, 2)

    # Back to the first question: typed, saved, then changed (a new version).
    page.click("#previous")
    heading_is(page, 1, 2)
    page.fill("#answer-text", "The bus is late")
    page.click("#save-answer")
    heading_is(page, 2, 2)
    page.click("#previous")
    heading_is(page, 1, 2)
    assert page.is_visible("#answered")
    assert page.text_content("#answered-text") == said(lang, "saved_answer_is",
                                                       answer="The bus is late")
    assert page.input_value("#answer-text") == "The bus is late"
    check_screen(page, f"34-{lang}-saved-answer")
    page.fill("#answer-text", "The bus never comes")
    page.click("#save-answer")
    heading_is(page, 2, 2)

    # The last question: a choice made but not saved is never finished away silently.
    page.click("#save-answer")
    page.wait_for_selector("#answer-problem:not([hidden])")
    assert page.text_content("#answer-problem") == said(lang, "nothing_to_save")
    page.check("#choice-list input[value='4']")
    check_screen(page, f"35-{lang}-scale")
    page.click("#finish-early")
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm button[value=back]")
    page.wait_for_selector("#confirm", state="hidden")
    assert page.is_visible("#question") and page.is_checked("#choice-list input[value='4']")
    page.click("#skip")
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm button[value=save]")
    page.wait_for_selector("#finished:not([hidden])")
    assert page.text_content("#finished-heading") == said(lang, "finished_heading")
    done_items(page, 6)  # the session, consent, two versions of answer 1, answer 2, finish
    check_screen(page, f"36-{lang}-finished")

    session = store.one("SELECT * FROM survey_sessions WHERE collector_id = ?", (collector.id,))
    assert session["ended_at"]
    answers = {r["question_id"]: r for r in store.all(
        "SELECT * FROM answers WHERE session_id = ?", (session["id"],))}
    barriers, trust = journey["questions"][1]["id"], journey["questions"][2]["id"]
    assert answers[trust]["choices_json"] == '["4"]'
    assert answers[barriers]["version"] == 2
    words = [r[0] for r in store.all("SELECT text FROM answer_texts WHERE answer_id = ? "
                                     "ORDER BY version", (answers[barriers]["id"],))]
    assert words == ["The bus is late", "The bus never comes"]
    assert store.one("SELECT count(*) FROM recordings")[0] == 0  # the dropped take never left
    context.close()


def test_token_expiry_with_items_waiting_is_said_in_urdu_and_keeps_them_in_view(
        browser, live_server, people, store, journey):
    from cohear.auth import issue_token
    collector, token = people["collector"]
    context = phone(browser, locale="ur-PK")
    page = open_page(context, live_server.url, "ur")
    sign_in(page, token)
    keep_survey_on_phone(page, journey["id"], "ur")
    page.select_option("#respondent-language", "ur")
    context.set_offline(True)
    page.click("#start")
    page.check("#consent-agree")
    page.click("#save-consent")
    heading_is(page, 1, 2)
    page.fill("#answer-text", "بس دیر سے آتی ہے")
    page.click("#save-answer")
    heading_is(page, 2, 2)
    # The token runs out while the phone is offline.
    prefix = token.split("_")[1]
    with store.transaction() as conn:
        conn.execute("UPDATE tokens SET expires_at = '2026-01-01T00:00:00.000000Z' "
                     "WHERE prefix = ?", (prefix,))
    context.set_offline(False)
    page.wait_for_selector("#notice:not([hidden])")
    assert page.get_attribute("#notice", "data-key") == "err_token-expired"
    assert page.text_content("#notice") == said("ur", "err_token-expired")
    text = page.inner_text("body")
    assert prefix not in text and "cohear users" not in text and "2026-01-01" not in text
    # The list stays in view, every item still safe and waiting.
    assert page.is_visible("#uploads") and page.is_visible("#sign-in")
    assert page.locator("#queue-list li[data-state=waiting]").count() == 3
    check_screen(page, "40-ur-token-expired")

    # A new sign-in for the same collector sends them.
    sign_in(page, issue_token(store, collector.name))
    done_items(page, 3)
    assert page.is_hidden("#notice")
    assert store.one("SELECT count(*) FROM answers")[0] == 1
    context.close()


# -- a shared phone: who is signed in is whom the server says the token belongs to ------

A_WORDS = "PLANTPHONE-A the clinic is too far"


class Sent:
    """Every field-page API request the phone makes: (path, token, Idempotency-Key)."""

    def __init__(self, context, url: str):
        self.url = url
        self.requests: list[tuple[str, str, str]] = []
        context.on("request", self.seen)

    def seen(self, request) -> None:
        if request.url.startswith(f"{self.url}/collect/api/") or request.url.startswith(
                f"{self.url}/api/"):
            headers = request.headers
            token = (headers.get("authorization") or "").removeprefix("Bearer ")
            self.requests.append((request.url[len(self.url):], token,
                                  headers.get("idempotency-key") or ""))

    def keys_sent_with(self, token: str) -> set[str]:
        return {key for _, t, key in self.requests if t == token and key}


def phone_item_keys(page) -> set[str]:
    """The keys of every item in the phone's outbox, whoever saved them."""
    return set(page.evaluate("""async () => {
      const db = await new Promise((resolve, reject) => {
        const req = indexedDB.open("cohear-collect");
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const all = await new Promise((resolve) => {
        const req = db.transaction("items").objectStore("items").getAll();
        req.onsuccess = () => resolve(req.result);
      });
      db.close();
      return all.map((i) => i.key);
    }"""))


def save_a_respondent_offline(page, context, words: str) -> str:
    """Offline: a new respondent, their ticked consent and one typed answer, saved on the
    phone (three items waiting). Returns the respondent's reference on the phone."""
    context.set_offline(True)
    page.click("#start")
    page.wait_for_selector("#consent:not([hidden])")
    page.check("#consent-agree")
    page.click("#save-consent")
    heading_is(page, 1, 2)
    page.fill("#answer-text", words)
    page.click("#save-answer")
    heading_is(page, 2, 2)
    page.wait_for_selector("#uploads[data-waiting='3']")
    return page.text_content("#question-respondent").rsplit(": ", 1)[1].split(" ")[0]


def kill_token(store, token: str, how: str) -> None:
    """The token stops working: an admin revokes it, or its 12 hours run out."""
    from cohear.auth import revoke_token
    prefix = token.split("_")[1]
    if how == "revoked":
        revoke_token(store, prefix)
    else:
        with store.transaction() as conn:
            conn.execute("UPDATE tokens SET expires_at = '2026-01-01T00:00:00.000000Z' "
                         "WHERE prefix = ?", (prefix,))


def settled(page) -> str:
    """Which screen the page settled on after a sign-in."""
    page.wait_for_selector(", ".join(f"#{s}:not([hidden])" for s in (
        "checking", "sign-in", "setup", "consent", "question", "finished")))
    return next(s for s in ("checking", "sign-in", "setup", "consent", "question", "finished")
                if page.locator(f"#{s}").count() and page.is_visible(f"#{s}"))


def nothing_of(page, collector_name: str, reference: str | None = None) -> None:
    """The page shows nothing of another collector's: not their name, respondent,
    reference, words or list (only how many of their items wait)."""
    body = page.inner_text("body")
    assert not re.search(re.escape(collector_name) + r"(?![\w-])", body)
    assert (reference is None or reference not in body) and "PLANTPHONE" not in page.content()
    assert page.locator("#queue-list li").count() == 0 or page.is_hidden("#uploads")
    for screen in ("consent", "question", "finished"):
        assert page.is_hidden(f"#{screen}"), screen
    page.click("#menu-button")
    assert page.is_hidden("#who") or page.text_content("#who") != f"Signed in as {collector_name}"
    page.click("#menu-button")


def no_words_of_a_on_the_server(store) -> None:
    assert store.one("SELECT count(*) FROM answer_texts WHERE text LIKE '%PLANTPHONE%'")[0] == 0


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_a_dead_token_then_another_collector_offline_never_sends_the_firsts_items(
        browser, live_server, people, store, journey, how):
    """The outside tester's steps: A saves a respondent offline, A's token stops working,
    B signs in on the same phone offline. B is nobody until the server says who B is;
    then B's own (empty) outbox opens, and nothing of A's goes up with B's token. A signs
    in again and everything of A's is sent, once."""
    from cohear.auth import issue_token
    (first, first_token), (second, second_token) = people["collector"], people["collector2"]
    context = phone(browser)
    sent = Sent(context, live_server.url)
    page = open_page(context, live_server.url)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    sign_in(page, first_token)
    keep_survey_on_phone(page, journey["id"], "en")
    reference = save_a_respondent_offline(page, context, A_WORDS)
    a_keys = phone_item_keys(page)
    assert len(a_keys) == 3

    # A's token stops working; the connection returns and the page is told so.
    kill_token(store, first_token, how)
    context.set_offline(False)
    page.wait_for_selector("#notice:not([hidden])")
    assert page.get_attribute("#notice", "data-key") == f"err_token-{how}"
    assert page.is_visible("#sign-in")
    assert page.locator("#queue-list li[data-state=waiting]").count() == 3
    shot(page, f"60-{how}-a-token-dead")

    # Offline again, B signs in on the same phone: B is not taken for A.
    context.set_offline(True)
    page.fill("#token", second_token)
    page.click("#sign-in-form button[type=submit]")
    assert settled(page) == "checking"
    assert page.get_attribute("#checking-body", "data-key") == "checking_body"
    nothing_of(page, first.name, reference)
    assert page.get_attribute("#others-waiting", "data-count") == "3"
    check_screen(page, f"61-{how}-b-offline-checking")
    # Opened again without a connection, the page still does not know who B is.
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert settled(page) == "checking"
    nothing_of(page, first.name, reference)

    # The connection returns: the server says the token is B's, and B's outbox opens.
    context.set_offline(False)
    page.wait_for_selector("#setup:not([hidden])")
    assert page.text_content("#who") == f"Signed in as {second.name}"
    nothing_of(page, first.name, reference)
    assert page.get_attribute("#others-waiting", "data-count") == "3"
    shot(page, f"62-{how}-b-online")
    # B's own respondent goes up (after anything the phone would have sent before it).
    page.click("#start")
    page.wait_for_selector("#consent:not([hidden])")
    page.check("#consent-agree")
    page.click("#save-consent")
    done_items(page, 2)
    assert not a_keys & sent.keys_sent_with(second_token)
    assert store.one("SELECT count(*) FROM survey_sessions WHERE collector_id = ?",
                     (second.id,))[0] == 1
    assert store.one("SELECT count(*) FROM answers")[0] == 0
    no_words_of_a_on_the_server(store)

    # A signs in again (a new token): A's respondent is back, and all of it is sent once.
    page.click("#menu-button")
    page.click("#sign-out")
    page.wait_for_selector("#sign-in:not([hidden])")
    a_again = issue_token(store, first.name)
    sign_in(page, a_again)
    heading_is(page, 2, 2)
    assert page.text_content("#who") == f"Signed in as {first.name}"
    done_items(page, 3)
    assert page.is_hidden("#others-waiting")
    assert sent.keys_sent_with(a_again) >= a_keys
    assert not a_keys & sent.keys_sent_with(second_token)
    session = store.one("SELECT * FROM survey_sessions WHERE collector_id = ?", (first.id,))
    assert store.one("SELECT count(*) FROM survey_sessions WHERE collector_id = ?",
                     (first.id,))[0] == 1
    answers = store.all("SELECT a.id, t.text FROM answers a JOIN answer_texts t ON "
                        "t.answer_id = a.id WHERE a.session_id = ?", (session["id"],))
    assert [a["text"] for a in answers] == [A_WORDS]
    assert store.one("SELECT count(*) FROM answers a JOIN survey_sessions s ON "
                     "s.id = a.session_id WHERE s.collector_id = ?", (second.id,))[0] == 0
    shot(page, f"63-{how}-a-again-sent")
    context.close()


def test_two_tabs_and_a_link_opened_offline_never_lend_one_collectors_token_to_another(
        browser, live_server, people, store, journey, api):
    """A's respondent waits on the phone, open in one tab. In a second tab, offline, A
    signs out and B signs in: the first tab follows, takes B's token for nobody until
    the server has said whose it is, then shows B's own outbox in both; A's items never
    go with B's token. Then, offline again, A's one-time link is opened in a new tab:
    every tab is nobody's until the link is swapped, then A's, and A's items go once."""
    (first, first_token), (second, second_token) = people["collector"], people["collector2"]
    context = phone(browser)
    sent = Sent(context, live_server.url)
    tab = open_page(context, live_server.url)
    tab.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    sign_in(tab, first_token)
    keep_survey_on_phone(tab, journey["id"], "en")
    reference = save_a_respondent_offline(tab, context, A_WORDS)
    a_keys = phone_item_keys(tab)

    other = open_page(context, live_server.url)
    heading_is(other, 2, 2)  # A's own respondent, A's own confirmed token
    other.click("#menu-button")
    other.click("#sign-out")
    other.click("#confirm button[value=out]")
    other.wait_for_selector("#sign-in:not([hidden])")
    tab.wait_for_selector("#sign-in:not([hidden])")
    other.fill("#token", second_token)
    other.click("#sign-in-form button[type=submit]")
    assert settled(other) == "checking"
    tab.wait_for_selector("#checking:not([hidden])")
    for page in (other, tab):
        nothing_of(page, first.name, reference)
    context.set_offline(False)
    for page in (other, tab):
        page.wait_for_selector("#setup:not([hidden])")
        assert page.text_content("#who") == f"Signed in as {second.name}"
        nothing_of(page, first.name, reference)
        assert page.get_attribute("#others-waiting", "data-count") == "3"
    tab.click("#send-now")
    other.click("#send-now")
    tab.wait_for_function("() => document.querySelector('#uploads').dataset.items === '0'")
    assert not a_keys & {key for _, _, key in sent.requests}
    assert store.one("SELECT count(*) FROM survey_sessions")[0] == 0

    # A comes back with a one-time link, opened in a new tab without a connection.
    link = api["admin"].post("/collect/api/links", json={"collector": first.name}).json()
    context.set_offline(True)
    other.close()
    third = context.new_page()
    third.goto(link["url"])
    third.wait_for_selector("body[data-ready=true]")
    assert "link=" not in third.url
    for page in (third, tab):
        page.wait_for_selector("#checking-body[data-key=checking_link]")
        nothing_of(page, first.name, reference)
        nothing_of(page, second.name)
    shot(third, "64-link-offline-checking")
    context.set_offline(False)
    for page in (third, tab):
        heading_is(page, 2, 2)
        assert page.text_content("#who") == f"Signed in as {first.name}"
        done_items(page, 3)
    shot(third, "65-link-swapped-a-sent")
    assert api["admin"].get("/collect/api/links").json()[0]["state"] == "used"
    link_token = third.evaluate("() => JSON.parse(localStorage.getItem('cohear.collect.signin'))"
                                ".token")
    assert {key for _, _, key in sent.requests if key} == a_keys
    assert {token for _, token, key in sent.requests if key in a_keys} == {link_token}
    assert store.one("SELECT count(*) FROM survey_sessions WHERE collector_id = ?",
                     (first.id,))[0] == 1
    answers = store.all("SELECT t.text FROM answers a JOIN answer_texts t ON t.answer_id = a.id")
    assert [a["text"] for a in answers] == [A_WORDS]
    context.close()


def test_an_admins_or_workers_token_on_a_phone_with_a_collectors_items(
        browser, live_server, people, store, journey):
    """Tokens that are not the items' collector's, entered offline: an admin's is an
    admin once the server says so (their own, empty outbox, and the links form), a
    worker's is refused and forgotten. Neither sends, nor shows, the collector's items."""
    (first, first_token) = people["collector"]
    admin, admin_token = people["admin"]
    _, worker_token = people["worker"]
    context = phone(browser)
    sent = Sent(context, live_server.url)
    page = open_page(context, live_server.url)
    sign_in(page, first_token)
    keep_survey_on_phone(page, journey["id"], "en")
    reference = save_a_respondent_offline(page, context, A_WORDS)
    a_keys = phone_item_keys(page)
    page.click("#menu-button")
    page.click("#sign-out")
    page.click("#confirm button[value=out]")
    page.wait_for_selector("#sign-in:not([hidden])")

    for token in (worker_token, admin_token):
        page.fill("#token", token)
        page.click("#sign-in-form button[type=submit]")
        assert settled(page) == "checking"
        nothing_of(page, first.name, reference)
        context.set_offline(False)
        if token == worker_token:
            page.wait_for_selector("#sign-in:not([hidden])")
            assert page.get_attribute("#notice", "data-key") == "err_role-may-not"
            assert page.evaluate("() => localStorage.getItem('cohear.collect.signin')") == "{}"
            context.set_offline(True)
    page.wait_for_selector("#setup:not([hidden]), #no-surveys:not([hidden])")
    assert page.text_content("#who") == f"Signed in as {admin.name}"
    assert page.is_visible("#links")
    nothing_of(page, first.name, reference)
    assert page.get_attribute("#others-waiting", "data-count") == "3"
    page.click("#send-now")
    page.wait_for_function("() => document.querySelector('#uploads').dataset.items === '0'")
    assert not a_keys & {key for _, _, key in sent.requests}
    assert store.one("SELECT count(*) FROM survey_sessions")[0] == 0
    context.close()


MISTAKEN_SIGN_IN = """([token, who]) => {
  localStorage.setItem("cohear.collect.signin", JSON.stringify({token, me: who}));
}"""


def test_a_phone_that_takes_a_token_for_the_wrong_collector_is_refused_by_the_server(
        browser, live_server, people, store, journey):
    """The second line of defence. First, the state an earlier page version left after
    the tester's steps (B's token, A remembered as "me") is checked again, not trusted.
    Then the page's record is made wrong on purpose (B's token recorded as A's), the
    page opened offline: it shows A, and sends A's items with B's token once online.
    Every item says it is A's, so the server refuses each (403 collector-mismatch) and
    stores nothing; the page says so, asks the server who the token is, and opens B's
    own outbox, A's items still waiting for A."""
    (first, first_token), (second, second_token) = people["collector"], people["collector2"]
    context = phone(browser)
    sent = Sent(context, live_server.url)
    refused = []
    context.on("response", lambda r: refused.append(r.url) if r.status == 403 else None)
    page = open_page(context, live_server.url)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    sign_in(page, first_token)
    keep_survey_on_phone(page, journey["id"], "en")
    save_a_respondent_offline(page, context, A_WORDS)
    a_keys = phone_item_keys(page)

    # What an earlier version kept: the token and, apart from it, who "me" was.
    page.evaluate("""([token, who]) => {
      localStorage.removeItem("cohear.collect.signin");
      localStorage.setItem("cohear.collect.token", token);
      localStorage.setItem("cohear.collect.me", JSON.stringify(who));
    }""", [second_token, {"id": first.id, "name": first.name, "role": "collector"}])
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert settled(page) == "checking"
    assert page.evaluate("() => localStorage.getItem('cohear.collect.me')") is None

    # The planted fault: B's token recorded as A's.
    page.evaluate(MISTAKEN_SIGN_IN, [second_token, {"id": str(first.id), "name": first.name,
                                                    "role": "collector"}])
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    heading_is(page, 2, 2)  # the page believes it: A's respondent, B's token
    context.set_offline(False)
    page.wait_for_selector("#notice[data-key='err_collector-mismatch']")
    page.wait_for_selector("#setup:not([hidden])")
    assert page.text_content("#who") == f"Signed in as {second.name}"
    assert page.get_attribute("#others-waiting", "data-count") == "3"
    shot(page, "66-collector-mismatch")
    assert refused and all("/collect/api/" in url for url in refused)
    assert store.one("SELECT count(*) FROM survey_sessions")[0] == 0
    assert store.one("SELECT count(*) FROM collect_uploads")[0] == 0
    no_words_of_a_on_the_server(store)
    # A's items are still waiting for A, unharmed.
    assert a_keys <= phone_item_keys(page)
    page.click("#menu-button")
    page.click("#sign-out")
    page.wait_for_selector("#sign-in:not([hidden])")
    sign_in(page, first_token)
    done_items(page, 3)
    assert store.one("SELECT count(*) FROM answers")[0] == 1
    assert sent.keys_sent_with(first_token) >= a_keys
    context.close()


def test_the_urdu_page_keeps_a_small_header_latin_words_in_a_latin_font(
        browser, live_server, people, store, journey):
    _, token = people["collector"]
    context = phone(browser, locale="ur-PK")
    page = open_page(context, live_server.url, "ur")
    sign_in(page, token)
    check_screen(page, "48-ur-setup")
    header = page.locator("header.bar").bounding_box()
    assert header["height"] <= 0.12 * PHONE["height"], header
    # Each language in its own name; the English title and name drawn in a Latin font.
    options = page.locator("#respondent-language option").all_text_contents()
    assert "اردو (Urdu)" in options
    page.click("#menu-button")
    assert set(fonts_of(page, "#who bdi")) == {"Noto Sans"}
    check_screen(page, "49-ur-menu")
    page.click("#menu-button")
    page.select_option("#respondent-language", "ur")
    page.click("#start")
    page.wait_for_selector("#consent:not([hidden])")
    # Consent can be given without scrolling.
    for control in ("#consent-agree", "#save-consent"):
        box = page.locator(control).bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], (control, box)
    check_screen(page, "50-ur-consent")
    page.check("#consent-agree")
    page.click("#save-consent")
    heading_is(page, 1, 2)
    page.click("#skip")
    heading_is(page, 2, 2)
    labels = page.locator("#choice-list label").all_text_contents()
    assert labels == ["1 – بالکل نہیں", "2", "3", "4", "5 – very much"]
    # "very much" keeps its space and its Latin letters: never Nastaliq's.
    assert set(fonts_of(page, "label[for=choice-4]")) == {"Noto Sans"}
    assert "Noto Nastaliq Urdu" in fonts_of(page, "label[for=choice-0]")
    check_screen(page, "51-ur-scale")
    context.close()


# -- number, date and time questions ------------------------------------------------

AGE_NEEDED = {"en": "We need the age to know whom the clinic reaches.",
              "ur": "ہمیں عمر جاننی ہے تاکہ معلوم ہو کلینک کن لوگوں تک پہنچتا ہے۔"}
AGE_RANGE = {"en": "Ages 16 to 120 only: this survey is for adults.",
             "ur": "صرف 16 سے 120 سال: یہ سروے بالغوں کے لیے ہے۔"}
LAST_SEEN_HINT = "The day you last saw a doctor or nurse"
CONSENT_HINT = "Read it slowly, and answer any question about it"


@pytest.fixture
def value_survey(store, people):
    """Age (a whole number from 16 to 120, needed), visits a month (a decimal from 0 to
    31), the last appointment (a date up to today) and the arrival time (07:00 to 20:00),
    open in English and Urdu. Age has its hint and messages in both languages; the
    date's hint is in English only (shown, marked, on the Urdu page)."""
    from surveys import service as surveys
    communicator, reviewer = people["communicator"][0], people["reviewer"][0]
    made = surveys.create_survey(
        store, communicator, title="Getting seen", purpose="Who the clinic reaches, and when",
        base_language="en", target_languages=["ur"], questions=[
            {"kind": "consent", "name": "consent", "text": "We keep your answers safely. Do you agree?",
             "texts": {"ur": "ہم آپ کے جوابات محفوظ رکھتے ہیں۔ کیا آپ راضی ہیں؟"},
             "options": {"hint": {"en": CONSENT_HINT}}},
            {"kind": "integer", "name": "age", "text": "How old are you?",
             "texts": {"ur": "آپ کی عمر کتنی ہے؟"},
             "options": {"min": 16, "max": 120, "required": True,
                         "hint": {"en": "In whole years", "ur": "پورے سالوں میں"},
                         "required_message": AGE_NEEDED, "constraint_message": AGE_RANGE}},
            {"kind": "decimal", "name": "visits",
             "text": "How many times a month do you visit the clinic, on average?",
             "texts": {"ur": "آپ اوسطاً مہینے میں کتنی بار کلینک جاتے ہیں؟"},
             "options": {"min": 0, "max": 31}},
            {"kind": "date", "name": "last_appointment", "text": "When was your last appointment?",
             "texts": {"ur": "آپ کی آخری اپائنٹمنٹ کب تھی؟"},
             "options": {"max": "today", "hint": {"en": LAST_SEEN_HINT}}},
            {"kind": "time", "name": "arrival", "text": "What time did you arrive today?",
             "texts": {"ur": "آج آپ کس وقت پہنچے؟"},
             "options": {"min": "07:00", "max": "20:00"}},
        ])
    for q in made["questions"]:
        surveys.approve_question_text(store, reviewer, q["id"], "ur")
    for lang in ("en", "ur"):
        surveys.open_language(store, communicator, made["id"], lang)
    return made


def start_respondent(page, survey_id: int, lang: str) -> None:
    page.select_option("#survey", str(survey_id))
    page.select_option("#respondent-language", lang)
    page.click("#start")
    page.wait_for_selector("#consent:not([hidden])")
    # The consent's hint too (in English only: marked on the Urdu page).
    marked = "" if lang == "en" else " " + said(lang, "words_untranslated")
    assert page.text_content("#consent-hint") == CONSENT_HINT + marked
    page.check("#consent-agree")
    page.click("#save-consent")


def refused_on_the_phone(page, typed: str) -> str:
    """Type a value, press Save, and return what the page says (it stays on the question)."""
    page.fill("#answer-value", typed)
    page.click("#save-answer")
    page.wait_for_selector("#answer-problem:not([hidden])")
    return page.text_content("#answer-problem")


def stored_values(store, collector_id: int) -> dict[str, tuple[str, int]]:
    """question name -> (stored value, version) of the collector's one session."""
    rows = store.all(
        "SELECT q.name, a.choices_json, a.version FROM answers a JOIN survey_questions q "
        "ON q.id = a.question_id JOIN survey_sessions s ON s.id = a.session_id "
        "WHERE s.collector_id = ?", (collector_id,))
    return {r["name"]: (json.loads(r["choices_json"])[0], r["version"]) for r in rows}


def test_number_date_and_time_questions_are_checked_on_the_phone(
        browser, live_server, people, store, value_survey):
    collector, token = people["collector"]
    context = phone(browser, locale="en-GB")
    page = open_page(context, live_server.url)
    sign_in(page, token)
    start_respondent(page, value_survey["id"], "en")
    heading_is(page, 1, 4)

    # Age: a plain text box with the numeric keyboard, its format and range as help, the
    # question's hint, and that it needs an answer.
    assert page.get_attribute("#answer-value", "type") == "text"
    assert page.get_attribute("#answer-value", "inputmode") == "numeric"
    assert page.text_content("#answer-value-help") == "A whole number, e.g. 42. Allowed: 16 to 120."
    assert page.text_content("#question-hint") == "In whole years"
    assert page.is_visible("#question-required")
    assert page.is_hidden("#answer-text-wrap") and page.is_hidden("#answer-recorder")
    # It is not skipped, nor the respondent finished, without a word.
    page.click("#skip")
    page.wait_for_selector("#confirm[open]")
    assert page.text_content("#confirm-title") == said("en", "required_note")
    assert page.text_content("#confirm-words") == AGE_NEEDED["en"]
    check_screen(page, "60-en-required-skip")
    page.click("#confirm button[value=back]")
    page.click("#finish-early")
    page.wait_for_selector("#confirm[open]")
    assert page.text_content("#confirm-body") == said("en", "required_left_body", count=1)
    page.click("#confirm button[value=back]")
    heading_is(page, 1, 4)
    assert refused_on_the_phone(page, "") == AGE_NEEDED["en"]
    assert refused_on_the_phone(page, "forty") == said("en", "value_not_whole")
    assert refused_on_the_phone(page, "4.5") == said("en", "value_not_whole")
    # Out of range: the question's own constraint message.
    assert refused_on_the_phone(page, "130") == AGE_RANGE["en"]
    check_screen(page, "61-en-age-out-of-range")
    page.fill("#answer-value", "42")
    page.click("#save-answer")
    heading_is(page, 2, 4)

    # Visits, on the Bengali page: a decimal keyboard, Bengali digits and a comma accepted.
    choose_language(page, "bn")
    assert page.get_attribute("#answer-value", "inputmode") == "decimal"
    assert page.text_content("#answer-value-help") == (
        said("bn", "help_decimal") + " " + said("bn", "range_between", min="০", max="৩১"))
    assert refused_on_the_phone(page, "৩১,৫") == said("bn", "too_large", max="৩১")
    check_screen(page, "62-bn-visits-too-many")
    page.fill("#answer-value", "২,৫")
    page.click("#save-answer")
    heading_is(page, 3, 4)
    choose_language(page, "en")
    # The other keyboards of the region's languages are read the same way.
    assert page.evaluate("async () => (await import('/collect/static/values.js'))"
                         ".asciiDigits('੪੨ ४२ ૪૨ ٤٢ ۴۲ −٣٫٥')") == "4242424242-3.5"

    # The last appointment: the phone's date picker, limited to today.
    today = dt.date.today()
    assert page.get_attribute("#answer-value", "type") == "date"
    assert page.get_attribute("#answer-value", "max") == today.isoformat()
    assert page.text_content("#answer-value-help") == "A date: day, month and year. Allowed: up to today."
    assert page.text_content("#question-hint") == LAST_SEEN_HINT
    tomorrow = today + dt.timedelta(days=1)
    assert refused_on_the_phone(page, tomorrow.isoformat()) == said("en", "too_late", max="today")
    check_screen(page, "63-en-date-too-late")
    last_visit = today - dt.timedelta(days=10)
    page.fill("#answer-value", last_visit.isoformat())
    page.click("#save-answer")
    heading_is(page, 4, 4)

    # The arrival time: the phone's time picker, from 07:00 to 20:00.
    assert page.get_attribute("#answer-value", "type") == "time"
    assert (page.get_attribute("#answer-value", "min"),
            page.get_attribute("#answer-value", "max")) == ("07:00", "20:00")
    assert refused_on_the_phone(page, "06:30") == said("en", "too_early", min="07:00")
    check_screen(page, "64-en-time-too-early")
    page.fill("#answer-value", "08:05")
    page.click("#save-answer")
    page.wait_for_selector("#finished:not([hidden])")
    done_items(page, 7)  # the session, consent, four answers, finish
    context.close()

    assert stored_values(store, collector.id) == {
        "age": ("42", 1), "visits": ("2.5", 1), "last_appointment": (last_visit.isoformat(), 1),
        "arrival": ("08:05", 1)}


def test_urdu_digits_and_a_value_the_server_refuses_then_changed(
        browser, live_server, people, store, value_survey):
    """On the Urdu page with Urdu digits, on a phone whose clock runs two days ahead:
    it accepts tomorrow under "up to today", the server refuses it, the page says so in
    Urdu, and the leader changes it while the respondent is open."""
    collector, token = people["collector"]
    context = phone(browser, locale="ur-PK")
    context.clock.set_system_time(dt.datetime.now() + dt.timedelta(days=2))
    page = open_page(context, live_server.url, "ur")
    sign_in(page, token)
    start_respondent(page, value_survey["id"], "ur")
    heading_is(page, 1, 4)

    assert page.text_content("#question-hint") == "پورے سالوں میں"
    assert page.get_attribute("#question-hint span", "lang") == "ur"
    # Eastern Arabic-Indic digits, as an Urdu keyboard types them.
    assert refused_on_the_phone(page, "۱۵۰") == AGE_RANGE["ur"]
    check_screen(page, "65-ur-age-out-of-range")
    page.fill("#answer-value", "۴۲")
    page.click("#save-answer")
    heading_is(page, 2, 4)
    # Arabic-Indic digits with the Arabic decimal separator.
    page.fill("#answer-value", "٣٫٥")
    page.click("#save-answer")
    heading_is(page, 3, 4)

    # The date's hint has no Urdu yet: shown in English, marked so.
    assert page.text_content("#question-hint") == f"{LAST_SEEN_HINT} {said('ur', 'words_untranslated')}"
    assert page.get_attribute("#question-hint span", "lang") == "en"
    assert page.text_content("#answer-value-help") == (
        said("ur", "help_date") + " " + said("ur", "range_max", max=said("ur", "today")))
    servers_today = dt.date.today()
    assert page.get_attribute("#answer-value", "max") == (
        servers_today + dt.timedelta(days=2)).isoformat()
    page.fill("#answer-value", (servers_today + dt.timedelta(days=1)).isoformat())
    page.click("#save-answer")
    heading_is(page, 4, 4)

    # The server's clock says tomorrow is after today: not accepted, and why, in Urdu.
    refused = "#queue-list li[data-kind=answer][data-state=failed]"
    page.wait_for_selector(f"{refused} .detail[data-code=answer-out-of-range]", timeout=60_000)
    assert page.text_content(f"{refused} .detail") == said("ur", "err_answer-out-of-range")
    assert page.text_content(f"{refused} .state") == said("ur", "state_failed")
    check_screen(page, "66-ur-not-accepted")
    page.click(f"{refused} .change-answer")
    heading_is(page, 3, 4)
    assert page.text_content("#answered-refused") == said("ur", "err_answer-out-of-range")
    # The same value again would only be refused again.
    page.click("#save-answer")
    page.wait_for_selector("#answer-problem:not([hidden])")
    assert page.text_content("#answer-problem") == said("ur", "refused_unchanged")
    check_screen(page, "67-ur-change-refused-answer")
    page.fill("#answer-value", servers_today.isoformat())
    page.click("#save-answer")
    heading_is(page, 4, 4)
    # The time is not needed: skipped without a question, and the respondent finished.
    page.click("#skip")
    page.wait_for_selector("#finished:not([hidden])")
    done_items(page, 6)  # the session, consent, three answers, finish
    assert page.locator("#queue-list li[data-state=failed]").count() == 0
    context.close()

    assert stored_values(store, collector.id) == {
        "age": ("42", 1), "visits": ("3.5", 1),
        "last_appointment": (servers_today.isoformat(), 1)}
