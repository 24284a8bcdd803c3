"""The field-capture page end to end, in real headless Chromium (Debian's) driven by
Playwright, against a real cohear server with the real Whisper model: a collector
signs in, records spoken consent and three answers from a fake microphone fed with
real speech, loses the connection half-way, closes the tab, comes back, and every
answer arrives once, is transcribed, and shows as such on the page.

Screenshots of the main steps at phone size go to test-artifacts/screenshots/.
"""

from __future__ import annotations

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


@pytest.fixture
def browser(fake_microphone):
    playwright = prerequisites.require_module("playwright.sync_api",
                                              "install the test tools: pip install -e .[test]")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM),
                                     args=browser_args(fake_microphone))
        yield chromium
        chromium.close()


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
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="en-GB")
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
    assert page.is_disabled("#save-consent")
    assert "Do you agree?" in page.text_content("#consent-text")
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
        "() => document.querySelectorAll('#queue-list li[data-state=done]').length === 5",
        timeout=120_000)
    page.wait_for_function(
        "() => document.querySelectorAll('#queue-list [data-transcription=transcribed]').length === 3",
        timeout=150_000)
    shot(page, "06-sent-and-transcribed")
    assert page.locator("#queue-list li[data-state=failed]").count() == 0
    statuses = page.locator("#queue-list li[data-kind=answer] .transcription").all_text_contents()
    assert statuses == ["Transcribed"] * 3
    # Days later the phone no longer lists a respondent that is all sent and settled.
    assert page.evaluate(AGE_ITEMS_BY_FOUR_DAYS) == 5
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#uploads[data-items]")
    assert page.get_attribute("#uploads", "data-items") == "0"
    assert page.locator("#queue-list li").count() == 0
    context.close()

    # On the server: one session, one consent, three answers, each stored once.
    sessions = store.all("SELECT * FROM survey_sessions WHERE collector_id = ?", (collector.id,))
    assert len(sessions) == 1
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
    assert sorted(k["kind"] for k in keys) == ["answer"] * 3 + ["consent", "session"]
    assert {k["state"] for k in keys} == {"done"}


def test_the_page_speaks_urdu_right_to_left_in_nastaliq(browser, live_server, store, people):
    """The interface in Urdu: approved strings from comms, right to left, and the
    Nastaliq font from cohear itself when the server has it."""
    from webcollect import fonts
    context = browser.new_context(viewport=PHONE, locale="ur-PK")
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.wait_for_selector("body[data-ready=true]")
    page.select_option("#page-language", "ur")
    page.wait_for_function("() => document.documentElement.dir === 'rtl'")
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
    context = browser.new_context(viewport=PHONE)
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
    context = browser.new_context(viewport=PHONE)
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
    context.close()


def test_the_page_opens_again_without_a_connection(browser, live_server):
    context = browser.new_context(viewport=PHONE)
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
    context = browser.new_context(viewport=PHONE)
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
    details = page.locator("#queue-list li .detail").all_text_contents()
    assert len(details) == 3 and all("not open for collection" in d for d in details)
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
    context = browser.new_context(viewport=PHONE)
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
    assert page.text_content("#skip") == "Finish"
    page.check("#choice-list input[value='4']")
    shot(page, "09-scale")
    page.click("#save-answer")
    page.wait_for_selector("#finished:not([hidden])")
    page.wait_for_function(
        "() => document.querySelectorAll('#queue-list li[data-state=done]').length === 4",
        timeout=60_000)
    kept = [r[0] for r in store.all("SELECT choices_json FROM answers ORDER BY question_id")]
    assert kept == ['["no"]', '["4"]']
    context.close()


def test_a_token_that_may_not_collect_is_told_so(browser, live_server, people):
    _, token = people["reviewer"]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.fill("#token", token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#notice:not([hidden])")
    assert "may not do this" in page.text_content("#notice")
    assert "admin or collector" in page.text_content("#notice")
    context.close()


def test_an_admin_makes_a_one_time_link_on_the_page(browser, live_server, people, survey):
    _, admin_token = people["admin"]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/collect/")
    page.fill("#token", admin_token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#links:not([hidden])")
    page.fill("#link-collector", "test-collector")
    page.click("#link-form button[type=submit]")
    page.wait_for_selector("#link-made:not([hidden])")
    assert page.text_content("#link-made-text").startswith("Send this link to the collector.")
    url = page.input_value("#link-url")
    assert url.startswith(f"{live_server.url}/collect/#link=cl_")
    shot(page, "10-admin-link")
    context.close()

    phone = browser.new_context(viewport=PHONE)
    page = phone.new_page()
    page.goto(url)
    page.wait_for_selector("#setup:not([hidden])")
    assert page.text_content("#who") == "Signed in as test-collector"
    assert page.is_hidden("#links")  # collectors do not issue links
    phone.close()
