"""The review app driven with Pilot against a real database seeded through the real
services: what each screen stores, what the audit log says, and the roles it enforces."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Select, TextArea

from cohear import audit
from cohear.auth import revoke_token
from cohear.errors import Forbidden, Unauthorized
from speech import service as speech
from surveys import coding
from surveys import service as surveys
from tui import player, review_queue
from tui.app import CohearApp
from tui.display import for_terminal
from tui.screens.answer import AnswerScreen
from tui.screens.coding import CodingScreen
from tui.screens.dialogs import AskNote, DiscardEdits
from tui.screens.help import HelpScreen
from tui.screens.queue import QueueScreen
from tui.screens.translation import TranslationScreen
from tui.screens.translations import TranslationsScreen
from tui.signin import sign_in

SIZE = (160, 48)
REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def screen_text(app) -> str:
    """The screen as plain text, one line per terminal row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def log(store, action: str) -> list[dict]:
    return [e for e in audit.entries(store.conn, limit=500) if e["action"] == action]


async def open_answer(pilot, answer_id: int) -> AnswerScreen:
    """From the queue, move to the answer's row and press Enter (a researcher, who starts
    on agreement and exports, goes to the queue first)."""
    if not isinstance(pilot.app.screen, QueueScreen):
        await pilot.press("f5")
        await pilot.pause()
    queue = pilot.app.screen
    assert isinstance(queue, QueueScreen)
    row = [r["id"] for r in queue.rows].index(answer_id)
    queue.query_one("#queue", DataTable).move_cursor(row=row)
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, AnswerScreen)
    return pilot.app.screen


# -- signing in -------------------------------------------------------------------------

def test_sign_in_takes_the_token_from_the_flag_or_the_environment(store, people, monkeypatch):
    user, token = people["reviewer"]
    assert sign_in(store, token) == user
    monkeypatch.setenv("COHEAR_TOKEN", token)
    assert sign_in(store) == user
    monkeypatch.delenv("COHEAR_TOKEN")
    with pytest.raises(Unauthorized, match="needs your cohear token"):
        sign_in(store)
    revoke_token(store, token)
    with pytest.raises(Unauthorized, match="revoked"):
        sign_in(store, token)


def test_a_worker_token_is_refused_at_sign_in(settings, store, people, capsys):
    """A transcription machine's token is for `cohear worker`; in the review app it would
    land on the queue with nothing it may do. Refused, saying so, in one line."""
    from cohear.cli import main
    _, token = people["worker"]
    with pytest.raises(Forbidden, match="worker tokens are for cohear worker; sign in with "
                                        "a person's token"):
        sign_in(store, token)
    assert main(["--data-dir", str(settings.data_dir), "tui", "--token", token]) == 1
    err = capsys.readouterr().err
    assert "worker tokens are for cohear worker" in err and "Traceback" not in err
    assert token not in err


def test_cohear_tui_refuses_a_bad_token_in_one_line(settings, store, capsys):
    from cohear.cli import main
    assert main(["--data-dir", str(settings.data_dir), "tui", "--token", "coh_x_y"]) == 1
    err = capsys.readouterr().err
    assert "the token is not valid" in err and "Traceback" not in err


def test_every_action_the_app_checks_is_known_once_the_app_is_imported():
    """`cohear tui` imports nothing else first: the domains' actions must be registered by
    importing the app alone, or the first role check fails."""
    source = " ".join(p.read_text() for p in (REPO / "tui").rglob("*.py"))
    # Every role check names its action right after `require`, `may(` or a screen class.
    # ... or is the permission an ACTION_PERMISSIONS table gives a key's action.
    pattern = (r'(?:require|may)\(\s*"([a-z_]+\.[a-z_]+)"|(?:require|Screen), "([a-z_.]+)"'
               r'|"[a-z_]+": "([a-z_]+\.[a-z_]+)"')
    actions = sorted({a for found in re.findall(pattern, source) for a in found if a})
    assert "redactions.decide" in actions and "exports.pseudonymised" in actions
    assert "answers.read" in actions
    check = ("import sys; import tui.app; from cohear.permissions import PERMISSIONS; "
             "missing = [a for a in sys.argv[1:] if a not in PERMISSIONS]; print(missing); "
             "sys.exit(bool(missing))")
    done = subprocess.run([sys.executable, "-c", check, *actions], check=False,
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


# -- the queue --------------------------------------------------------------------------

async def test_the_queue_shows_safeguarding_first_then_low_confidence_then_the_rest(
        store, review_workspace):
    ws = review_workspace
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        assert [r["id"] for r in queue.rows] == [ws["concern"], ws["urdu"], ws["bengali"],
                                                 ws["phone"]]
        text = screen_text(app)
        assert "safeguarding 1" in text and "new 3" in text and "transcribed 1" in text
        assert "low confidence" in text


async def test_queue_filters_narrow_the_list_and_the_counts(store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    coding.apply_code(store, reviewer, ws["phone"], ws["codes"]["Bus"])
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        queue = app.screen
        queue.query_one("#filter-language", Select).value = "bn"
        await pilot.pause()
        assert [r["id"] for r in queue.rows] == [ws["bengali"]]
        assert "all 1" in screen_text(app)
        queue.query_one("#filter-language", Select).clear()
        queue.query_one("#filter-code", Select).value = ws["codes"]["Bus"]
        await pilot.pause()
        assert [r["id"] for r in queue.rows] == [ws["phone"]]
        queue.query_one("#filter-code", Select).clear()
        queue.query_one("#filter-status", Select).value = "transcribed"
        await pilot.pause()
        assert [r["id"] for r in queue.rows] == [ws["urdu"]]
        await pilot.press("x")
        await pilot.pause()
        assert len(queue.rows) == 4


async def test_the_queue_reads_one_page_at_a_time(store, review_workspace, monkeypatch):
    monkeypatch.setattr(QueueScreen, "page_size", 3)
    ws = review_workspace
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        queue = app.screen
        assert len(queue.rows) == 3 and "answers 1-3 of 4" in screen_text(app)
        await pilot.press("n")
        assert [r["id"] for r in queue.rows] == [ws["phone"]]
        assert "answers 4-4 of 4" in screen_text(app)
        await pilot.press("b")
        assert len(queue.rows) == 3


async def test_back_from_an_answer_the_cursor_is_on_the_answer_you_came_from(
        store, review_workspace):
    """Esc back to the queue used to put the cursor on the first row, so the next Enter
    opened the wrong answer."""
    ws = review_workspace
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        queue = app.screen
        table = queue.query_one("#queue", DataTable)
        await open_answer(pilot, ws["bengali"])
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is queue and queue.selected_answer() == ws["bengali"]
        # Verified, it moves to the end of the queue: the cursor follows it.
        await open_answer(pilot, ws["urdu"])
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert [r["id"] for r in queue.rows][-1] == ws["urdu"]
        assert queue.selected_answer() == ws["urdu"] and table.cursor_row == 3
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.answer_id == ws["urdu"]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("r")                            # reloading keeps it too
        await pilot.pause()
        assert queue.selected_answer() == ws["urdu"]


@pytest.fixture
def scale_answers(store, review_workspace):
    """A second survey with a scale question, answered twice; one answer has a concern."""
    ws = review_workspace
    comm, collector = ws["users"]["communicator"], ws["users"]["collector"]
    survey = surveys.create_survey(store, comm, title="Clinic rating", purpose="Rate it",
                                   base_language="en", questions=[
                                       {"kind": "consent", "name": "consent", "text": "Agree?"},
                                       {"kind": "scale", "name": "rating", "text": "How good?",
                                        "options": {"min": 1, "max": 5}}])
    surveys.open_language(store, comm, survey["id"], "en")
    rating = survey["questions"][1]["id"]
    out = []
    for point in ("2", "5"):
        session = surveys.start_session(store, collector, survey["id"], "en")
        surveys.record_consent(store, collector, session["id"], method="tick")
        out.append(surveys.submit_answer(store, collector, session["id"], rating,
                                         choices=[point])["id"])
    surveys.raise_safeguarding(store, ws["users"]["reviewer"], out[1], "said 5 then cried")
    return out


async def test_scale_and_choice_answers_are_listed_only_when_asked_for(
        store, review_workspace, scale_answers):
    """A scale answer has nothing to review, so it is not "new" work; one with an open
    safeguarding concern is listed all the same."""
    ws = review_workspace
    quiet, worrying = scale_answers
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        queue = app.screen
        ids = [r["id"] for r in queue.rows]
        assert quiet not in ids and worrying in ids
        text = screen_text(app)
        assert "new 4" in text and "+1 scale/choice: kind filter" in text
        queue.query_one("#filter-kind", Select).value = "choice"
        await pilot.pause()
        assert sorted(r["id"] for r in queue.rows) == sorted(scale_answers)
        queue.query_one("#filter-kind", Select).value = "all"
        await pilot.pause()
        assert len(queue.rows) == 6
        await pilot.press("x")
        await pilot.pause()
        assert quiet not in [r["id"] for r in queue.rows]


def test_handled_concerns_lose_their_place_and_verified_answers_go_last(store,
                                                                        review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    surveys.handle_safeguarding(store, reviewer, ws["concern"], "spoke to them")
    surveys.verify_answer(store, reviewer, ws["bengali"])
    order = [r["id"] for r in review_queue.queue_page(store, reviewer)]
    assert order == [ws["urdu"], ws["phone"], ws["concern"], ws["bengali"]]
    counts = review_queue.status_counts(store, reviewer)
    assert counts["safeguarding"] == 0 and counts["verified"] == 1 and counts["all"] == 4


def test_a_collector_sees_only_their_own_sessions_answers(store, review_workspace, people):
    own = review_queue.queue_page(store, people["collector"][0])
    other = review_queue.queue_page(store, people["collector2"][0])
    assert len(own) == 4 and other == []


# -- reviewing an answer ------------------------------------------------------------------

async def test_review_correct_and_verify_an_urdu_transcript(store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_answer(pilot, ws["urdu"])
        text = screen_text(app)
        assert "آپ کلینک تک کیسے پہنچے؟" in text          # the question in Urdu
        assert "How did you get to the clinic?" in text    # and in English
        assert "0:02.4-0:04.1" in text and "0.23 low" in text
        assert "I came to the clinic by bus." in text
        assert "detected language ur (91%)" in text
        editor = screen.query_one("#transcript", TextArea)
        editor.move_cursor((1, 0))
        await pilot.press("shift+end")
        await pilot.press(*"بس دیر سے آئی")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.unsaved_edits() == []
        await pilot.press("ctrl+r")
        await pilot.pause()

    latest = speech.transcript(store, ws["recording"], reviewer)
    assert latest["version"] == 2 and latest["author"] == reviewer.name
    assert [s["text"] for s in latest["segments"]] == ["میں بس سے کلینک آئی", "بس دیر سے آئی"]
    assert latest["segments"][1]["start"] == 2.4       # the segment kept its timing
    answer = surveys.get_answer(store, reviewer, ws["urdu"])
    assert answer["texts"]["original"]["text"] == "میں بس سے کلینک آئی بس دیر سے آئی"
    assert answer["status"] == "verified" and answer["verified_by"] == reviewer.id
    corrected = log(store, "transcript.correct")[0]
    assert corrected["actor_name"] == reviewer.name
    assert corrected["before"]["text"] == "میں بس سے کلینک آئی بس بہت دیر سے آئی"
    assert corrected["after"]["text"] == "میں بس سے کلینک آئی بس دیر سے آئی"
    assert log(store, "answer.text")[0]["actor_name"] == reviewer.name
    assert log(store, "answer.verify")[0]["actor_name"] == reviewer.name


async def test_raise_and_clear_a_safeguarding_concern_with_a_note(store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_answer(pilot, ws["bengali"])
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, AskNote)
        await pilot.press(*"lives alone", "enter")
        await pilot.pause()
        assert "lives alone" in screen_text(app)
        answer = surveys.get_answer(store, reviewer, ws["bengali"])
        assert answer["safeguarding"] == 1 and answer["safeguarding_handled_at"] is None
        await pilot.press("ctrl+l")
        await pilot.pause()
        await pilot.press(*"GP rang them, all well", "enter")
        await pilot.pause()
    answer = surveys.get_answer(store, reviewer, ws["bengali"])
    assert answer["safeguarding_note"] == "GP rang them, all well"
    assert answer["safeguarding_handled_by"] == reviewer.id
    assert log(store, "safeguarding.raise")[0]["after"] == {"reason": "lives alone"}
    assert log(store, "safeguarding.handle")[0]["actor_name"] == reviewer.name


async def test_a_concern_cannot_be_closed_without_a_note_of_what_was_done(
        store, review_workspace):
    """Ctrl+L then Enter with nothing typed used to close a concern ("handled: no note")."""
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_answer(pilot, ws["concern"])
        await pilot.press("ctrl+l")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, AskNote) and "who was told" in screen_text(app)
        await pilot.press("enter")                        # nothing typed
        await pilot.pause()
        assert app.screen is dialog and "A note is needed here" in screen_text(app)
        await pilot.press(*"ok", "enter")                 # not a record of anything
        await pilot.pause()
        assert app.screen is dialog and "at least 10 letters or digits" in screen_text(app)
        answer = surveys.get_answer(store, reviewer, ws["concern"])
        assert answer["safeguarding_handled_at"] is None
        await pilot.press(*" - rang the safeguarding lead, who will call them", "enter")
        await pilot.pause()
        assert isinstance(app.screen, AnswerScreen)
        text = screen_text(app)
        assert "handled:" in text and "ok - rang the safeguarding lead" in text
    answer = surveys.get_answer(store, reviewer, ws["concern"])
    assert answer["safeguarding_note"] == "ok - rang the safeguarding lead, who will call them"
    assert log(store, "safeguarding.handle")[0]["after"] == {
        "note": "ok - rang the safeguarding lead, who will call them"}


async def test_accept_a_suggested_redaction(store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_answer(pilot, ws["phone"])
        assert "> phone 07700 900123" in screen_text(app)
        await pilot.press("f3")
        await pilot.pause()
        assert "accepted" in screen_text(app)
    row = store.one("SELECT r.status, r.decided_by FROM redactions r JOIN answer_texts t ON "
                    "t.id = r.answer_text_id WHERE t.answer_id = ?", (ws["phone"],))
    assert (row["status"], row["decided_by"]) == ("accepted", reviewer.id)
    assert log(store, "redaction.accept")[0]["entity_id"] == str(ws["phone"])


async def test_a_researcher_cannot_correct_or_verify(store, review_workspace):
    ws = review_workspace
    researcher = review_workspace["users"]["researcher"]
    app = CohearApp(store, researcher)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_answer(pilot, ws["bengali"])
        assert "read only for your role" in screen_text(app)
        await pilot.press("x", "ctrl+s")
        await pilot.pause()
        assert screen.unsaved_edits() == []            # the editor took no keys
        await pilot.press("ctrl+r")                    # not offered to a researcher
        await pilot.pause()
    answer = surveys.get_answer(store, researcher, ws["bengali"])
    assert answer["texts"]["original"]["version"] == 1 and answer["status"] == "new"
    assert log(store, "answer.text") == [] and log(store, "answer.verify") == []


# -- quitting never loses edits --------------------------------------------------------------

async def test_quitting_with_unsaved_edits_asks_first_and_keeps_them(store, review_workspace):
    ws = review_workspace
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_answer(pilot, ws["phone"])
        screen.query_one("#transcript", TextArea).insert("Also: ")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, DiscardEdits)
        assert f"answer {ws['phone']}: the transcript" in screen_text(app)
        await pilot.press("escape")                     # keep editing
        await pilot.pause()
        assert app.screen is screen and app.is_running
        assert screen.query_one("#transcript", TextArea).text.startswith("Also: ")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("ctrl+q")                     # nothing unsaved now: quits at once
        await pilot.pause()
        assert not app.is_running
    assert surveys.get_answer(store, ws["users"]["reviewer"], ws["phone"])["texts"][
        "original"]["text"].startswith("Also: ")


async def test_going_back_with_unsaved_edits_asks_first(store, review_workspace):
    ws = review_workspace
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_answer(pilot, ws["bengali"])
        screen.query_one("#transcript", TextArea).insert("x")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DiscardEdits)
        await pilot.press("escape")                      # keep editing
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")                           # discard and go back
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
    assert log(store, "answer.text") == []


async def test_discarding_on_quit_saves_nothing(store, review_workspace):
    ws = review_workspace
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_answer(pilot, ws["bengali"])
        screen.query_one("#transcript", TextArea).insert("x")
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert not app.is_running
    assert log(store, "answer.text") == []


# -- right-to-left display --------------------------------------------------------------------

async def test_rtl_display_mode_reorders_what_is_shown_and_never_what_is_stored(
        store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    stored = "میں بس سے کلینک آئی"
    shown = for_terminal(stored, reorder=True)
    assert shown != stored and for_terminal(stored, reorder=False) == stored
    assert for_terminal("no change for English", reorder=True) == "no change for English"
    writes_before = len(audit.entries(store.conn, limit=500))
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_answer(pilot, ws["urdu"])
        await pilot.press("f2")
        await pilot.pause()
        assert app.reorder_rtl and shown in screen_text(app)
        # The editor keeps the stored order, so an edit never stores visual order.
        assert screen.query_one("#transcript", TextArea).text.split("\n")[0] == stored
        await pilot.press("f2")
        await pilot.pause()
        assert stored in screen_text(app)
    assert len(audit.entries(store.conn, limit=500)) == writes_before
    assert speech.transcript(store, ws["recording"], reviewer)["segments"][0]["text"] == stored


LONG_URDU = ("میرے شوہر مجھے مارتا ہے اور میں گھر میں محفوظ نہیں ہوں۔ مسجد کے قریب کلینک ہو "
             "تو میں ٹیکہ لگوا سکتی ہوں، لیکن بس بہت دیر سے آتی ہے اور ڈاکٹر سے ملنا مشکل ہے")


def typed_answer(store, ws, language: str, text: str) -> int:
    collector = ws["users"]["collector"]
    session = surveys.start_session(store, collector, ws["survey"], language)
    surveys.record_consent(store, collector, session["id"], method="tick")
    return surveys.submit_answer(store, collector, session["id"], ws["question"],
                                 text=text)["id"]


def rows_of(app, selector: str) -> list[str]:
    """The terminal rows a widget occupies, as plain text."""
    widget = app.screen.query_one(selector)
    region = widget.content_region
    lines = screen_text(app).split("\n")
    return [lines[y][region.x:region.x + region.width] for y in
            range(region.y, region.y + region.height)]


def words_in(row: str) -> list[str]:
    return [w for w in row.split() if w.strip()]


async def test_f2_reorders_every_right_to_left_text_and_wraps_at_word_boundaries(
        store, review_workspace):
    """F2 used to reorder only the question line: the answer's words, the transcript's
    segments and the rest stayed in stored order, and segment rows cut words in two. Rows
    must be wrapped in logical order first and then reordered: the first row on screen
    holds the answer's first words (flush right), never its last ones."""
    from tui.display import visual, wrap_logical
    ws = review_workspace
    answer_id = typed_answer(store, ws, "ur", LONG_URDU)
    app = CohearApp(store, ws["users"]["reviewer"], reorder_rtl=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        queue = app.screen
        preview = [r for r in queue.query_one("#queue", DataTable).get_row(str(answer_id))]
        first_words = " ".join(LONG_URDU.split()[:3])
        assert visual(first_words) in str(preview[7])       # the queue's preview too
        await open_answer(pilot, answer_id)
        rows = [r.strip() for r in rows_of(app, "#reading") if r.strip()]
        logical = wrap_logical(LONG_URDU, app.screen.query_one("#reading").content_region.width)
        assert len(rows) == len(logical) > 1
        for shown, line in zip(rows, logical, strict=True):
            assert shown == visual(line)                    # each row reordered on its own
        assert set(words_in(rows[0])) == set(visual(logical[0]).split())
        last = rows_of(app, "#reading")[len(rows) - 1]
        assert last.startswith("    ") and last.rstrip().endswith(rows[-1])  # flush right
        # The editor keeps the stored order, for correcting.
        assert app.screen.query_one("#transcript", TextArea).text == LONG_URDU
        # The voice answer: every segment's words whole and reordered, row by row.
        await pilot.press("escape")
        await pilot.pause()
        await open_answer(pilot, ws["urdu"])
        table = app.screen.query_one("#segments", DataTable)
        for index, segment in enumerate(("میں بس سے کلینک آئی", "بس بہت دیر سے آئی")):
            cell = str(table.get_row_at(index)[3]).strip()
            assert cell == visual(segment)
        text = screen_text(app)
        assert visual("آپ کلینک تک کیسے پہنچے؟") in text      # the question
        await pilot.press("f2")
        await pilot.pause()
        assert "آپ کلینک تک کیسے پہنچے؟" in screen_text(app)
        assert str(table.get_row_at(1)[3]).strip() == "بس بہت دیر سے آئی"


async def test_segment_rows_wrap_between_words_never_inside_one(store, review_workspace):
    """A long segment used to be cut off mid-word at the table's edge."""
    from tui.display import wrap_logical
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    speech.correct(store, ws["recording"], reviewer, segments=[
        {"index": 0, "text": LONG_URDU}], base_version=1)
    app = CohearApp(store, reviewer)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_answer(pilot, ws["urdu"])
        table = app.screen.query_one("#segments", DataTable)
        cell = str(table.get_row_at(0)[3])
        lines = cell.split("\n")
        assert len(lines) > 1
        assert [line.strip() for line in lines] == wrap_logical(
            LONG_URDU, app.screen.query_one("#segments").words_width())
        assert " ".join(line.strip() for line in lines).split() == LONG_URDU.split()


async def test_a_researcher_sees_only_the_redacted_pseudonymised_view(store, review_workspace):
    """The TUI showed a researcher a phone number whose redaction had been accepted."""
    from surveys import exports, redaction
    ws = review_workspace
    reviewer, researcher = ws["users"]["reviewer"], ws["users"]["researcher"]
    [phone] = redaction.list_for_answer(store, ws["phone"])
    redaction.decide(store, reviewer, phone["id"], True)                  # accepted
    undecided = typed_answer(store, ws, "en", "Ring Ayesha on 07700 900456 please")
    cohear_ids = [r[0] for r in store.all("SELECT cohear_id FROM respondents")]
    session_ids = [str(r[0]) for r in store.all("SELECT id FROM survey_sessions")]
    respondent = store.one("SELECT r.cohear_id FROM respondents r JOIN answers a ON "
                           "a.respondent_id = r.id WHERE a.id = ?", (ws["phone"],))[0]
    app = CohearApp(store, researcher)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        seen = [screen_text(app)]
        for answer_id in (ws["phone"], undecided):
            await open_answer(pilot, answer_id)
            seen.append(screen_text(app))
            await pilot.press("ctrl+n")
            await pilot.pause()
            seen.append(screen_text(app))
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
        await pilot.press("f7")
        await pilot.pause()
        seen.append(screen_text(app))
    everything = "\n".join(seen)
    for secret in ("07700 900123", "900123", "07700 900456", "Ayesha"):
        assert secret not in everything, secret
    assert "[phone]" in everything and "[name]" in everything
    assert not any(cid in everything for cid in cohear_ids)            # no R-... ids
    assert exports.pseudonym(exports.salt(store), respondent) in everything
    assert "redacted view" in everything
    # The same answer, for the reviewer who decides redactions: as stored.
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_answer(pilot, undecided)
        assert "07700 900456" in screen_text(app)
    assert session_ids                                                 # (sessions exist)


async def test_a_researchers_queue_names_no_collector_and_no_handled_concern(
        store, review_workspace):
    """The researcher's queue had a collector column (amina, bilal...) and an "any
    collector" filter, and said "handled" where a concern had been raised and closed."""
    ws = review_workspace
    reviewer, researcher = ws["users"]["reviewer"], ws["users"]["researcher"]
    collector = ws["users"]["collector"]
    surveys.handle_safeguarding(store, reviewer, ws["concern"], "rang them, all is well")
    # An open concern is still told: it is all a researcher learns of safeguarding.
    surveys.raise_safeguarding(store, reviewer, ws["phone"], "asked for a call back")
    app = CohearApp(store, researcher)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f5")             # a researcher starts on Agreement and exports
        await pilot.pause()
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        text = screen_text(app)
        labels = [str(c.label) for c in queue.query_one("#queue", DataTable).columns.values()]
        assert "collector" not in labels and "words" in labels
        assert not queue.query("#filter-collector")
        assert collector.name not in text and "any collector" not in text
        assert "handled" not in text
        rows = {r["id"]: r for r in queue.rows}
        assert "collector" not in rows[ws["urdu"]]
        assert rows[ws["concern"]]["safeguarding"] == 0
        assert rows[ws["phone"]]["safeguarding"] == 1 and "safeguarding" in text
        await pilot.press("x")                          # clearing filters still works
        await pilot.pause()
        await open_answer(pilot, ws["concern"])
        text = screen_text(app)
        assert "handled" not in text and "no open concern" in text
        assert "rang them" not in text
    with pytest.raises(Forbidden):
        review_queue.queue_page(store, researcher, review_queue.QueueFilters(
            collector_id=collector.id))
    assert "collector" not in review_queue.filter_choices(store, researcher)
    # Staff still see who gathered each answer, and filter by it.
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert collector.name in screen_text(app) and "handled" in screen_text(app)
        assert app.screen.query("#filter-collector")


async def test_a_researchers_selection_in_redacted_words_codes_the_stored_words(
        store, review_workspace):
    ws = review_workspace
    researcher = ws["users"]["researcher"]
    answer_id = typed_answer(store, ws, "en", "Call 07700 900456 about the bus")
    app = CohearApp(store, researcher)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.push_screen(CodingScreen(answer_id))
        await pilot.pause()
        screen = app.screen
        area = screen.query_one("#coding-text", TextArea)
        assert area.text == "Call [phone] about the bus"
        await pilot.press("down", "down", "down")                       # the code Bus
        await pilot.press("e", "end", *["shift+left"] * 3)              # "bus"
        await pilot.press("a")
        await pilot.pause()
        assert '"bus"' in screen_text(app)
    [row] = store.all("SELECT * FROM codings WHERE coder_id = ?", (researcher.id,))
    stored = surveys.get_answer(store, ws["users"]["reviewer"], answer_id)["texts"]["original"]
    assert stored["text"][row["start_offset"]:row["end_offset"]] == "bus"


async def test_an_answer_in_urdu_says_how_to_get_its_english(store, review_workspace):
    """A typed Urdu answer showed "no English rendering yet" and no way forward."""
    from surveys import english
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    answer_id = typed_answer(store, ws, "ur", LONG_URDU)
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_answer(pilot, answer_id)
        text = screen_text(app)
        assert "no English yet" in text and "no translation engine for ur" in text
        assert "F9 asks for a human translation" in text
        await pilot.press("f9")
        await pilot.pause()
        await pilot.press(*"Mirpuri", "enter")
        await pilot.pause()
        assert "A human translation was asked for by test-reviewer" in screen_text(app)
        assert "request_translation" not in footer_actions(app) or \
            app.screen.check_action("request_translation", ()) is None
        await pilot.press("f8")
        await pilot.pause()
        await pilot.press(*"My husband hits me and I am not safe at home", "ctrl+s")
        await pilot.pause()
        text = screen_text(app)
        assert "My husband hits me" in text and "(a reviewer)" in text
    assert english.list_requests(store, reviewer) == []
    assert log(store, "answer.text")[0]["after"] == {
        "rendering": "english", "text": "My husband hits me and I am not safe at home"}


async def test_after_a_correction_the_english_is_marked_out_of_date(store, review_workspace):
    """The English panel kept the old machine English after a transcript correction."""
    ws = review_workspace
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_answer(pilot, ws["urdu"])
        assert "OUT OF DATE" not in screen_text(app)
        editor = screen.query_one("#transcript", TextArea)
        editor.move_cursor((1, 0))
        await pilot.press("shift+end", *"بس دیر سے آئی", "ctrl+s")
        await pilot.pause()
        text = screen_text(app)
        assert "OUT OF DATE" in text and "I came to the clinic by bus" in text
        assert "no translation engine for ur" in text and "F8 types the English" in text


# -- coding -----------------------------------------------------------------------------------

async def test_code_a_span_and_only_then_see_other_coders(store, review_workspace):
    ws = review_workspace
    reviewer, researcher = ws["users"]["reviewer"], ws["users"]["researcher"]
    coding.apply_code(store, researcher, ws["phone"], ws["codes"]["Cost"])
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        queue = app.screen
        queue.query_one("#queue", DataTable).move_cursor(
            row=[r["id"] for r in queue.rows].index(ws["phone"]))
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CodingScreen)
        text = screen_text(app)
        assert "hidden until you have coded this answer" in text and "Cost" not in text.split(
            "Other coders' codes")[1]
        # Tree: root, codebook, Transport, Bus.
        await pilot.press("down", "down", "down")
        assert screen.code["name"] == "Bus"
        assert "include coaches" in screen_text(app)    # the code's memo
        await pilot.press("e")                           # to the text
        await pilot.press(*["right"] * 4, *["shift+right"] * 8)   # "bus was "
        await pilot.press("shift+left")
        await pilot.press("a")
        await pilot.pause()
        text = screen_text(app)
        assert '"bus was"' in text
        assert "Cost  by test-researcher" in text       # visible now that I have coded
    row = store.one("SELECT * FROM codings WHERE coder_id = ?", (reviewer.id,))
    version = surveys.get_answer(store, reviewer, ws["phone"])["texts"]["original"]
    assert (row["code_id"], row["answer_text_id"], row["start_offset"], row["end_offset"]) == (
        ws["codes"]["Bus"], version["id"], 4, 11)
    assert version["text"][4:11] == "bus was"
    assert log(store, "coding.apply")[0]["after"]["start"] == 4


async def test_code_a_whole_answer_and_remove_it(store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.push_screen(CodingScreen(ws["urdu"]))
        await pilot.pause()
        await pilot.press("down", "down", "down", "down")   # Cost (after Bus)
        await pilot.press("w")
        await pilot.pause()
        assert coding.codings_for_answer(store, ws["urdu"])[0]["code"] == "Cost"
        await pilot.press("u")
        await pilot.pause()
    assert coding.codings_for_answer(store, ws["urdu"]) == []
    assert log(store, "coding.remove")[0]["actor_name"] == reviewer.name


async def test_memos_on_an_answer_and_on_a_code(store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.push_screen(CodingScreen(ws["phone"]))
        await pilot.pause()
        assert "none (m adds one)" in screen_text(app)
        await pilot.press("m")
        await pilot.pause()
        await pilot.press(*"the bus comes up again and again")
        await pilot.press("enter")
        await pilot.pause()
        assert "the bus comes up again and again" in screen_text(app)
        await pilot.press("down", "down", "down")            # the code Bus
        await pilot.press("M")
        await pilot.pause()
        await pilot.press(*"any bus or coach")
        await pilot.press("enter")
        await pilot.pause()
    [memo] = coding.answer_memos(store, reviewer, ws["phone"])
    assert memo["text"] == "the bus comes up again and again"
    assert store.one("SELECT memo FROM codes WHERE id = ?", (ws["codes"]["Bus"],))[0] == \
        "any bus or coach"
    change = log(store, "code.memo")[0]
    assert change["after"] == {"memo": "any bus or coach"} and change["before"]["memo"]
    assert log(store, "answer.memo")[0]["actor_name"] == reviewer.name


async def test_a_researcher_reads_memos_redacted_on_the_coding_screen(store, review_workspace):
    """A reviewer's memo quoting the respondent showed raw to a researcher under "Memos on
    this answer", beside the answer's words that read [phone]."""
    ws = review_workspace
    reviewer, researcher = ws["users"]["reviewer"], ws["users"]["researcher"]
    coding.add_answer_memo(store, reviewer, ws["phone"],
                           "Respondent Sarah said call 07700 900456")
    coding.set_code_memo(store, reviewer, ws["codes"]["Bus"], "like Bilal on 07700 900789")
    app = CohearApp(store, researcher)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_answer(pilot, ws["phone"])
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("down", "down", "down")            # the code Bus
        await pilot.pause()
        text = screen_text(app)
    assert "Respondent [name] said call [phone]" in text
    assert "redacted view: hidden name, phone" in text
    assert "memo (redacted): like [name] on [phone]" in text
    for secret in ("Sarah", "900456", "Bilal", "900789", "900123"):
        assert secret not in text, secret
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.push_screen(CodingScreen(ws["phone"]))
        await pilot.pause()
        assert "Respondent Sarah said call 07700 900456" in screen_text(app)


# -- the command palette and help --------------------------------------------------------------

async def test_f1_lists_every_key_and_the_command_palette_runs_every_action(
        store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_answer(pilot, ws["urdu"])
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {d: k for k, d in app.screen.keys}
        for binding in AnswerScreen.BINDINGS:
            assert binding.description in listed
        for description in ("Help", "RTL display", "Queue", "Translations", "Quit", "Back"):
            assert description in listed
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AnswerScreen)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Verify")
        # The palette searches its providers in the background: wait for the hit.
        for _ in range(100):
            if app.screen.query_one(CommandList).option_count:
                break
            await pilot.pause(0.05)
        assert "Verify" in str(app.screen.query_one(CommandList).get_option_at_index(0).prompt)
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if isinstance(app.screen, AnswerScreen) and app.screen.answer["status"] == "verified":
                break
    assert surveys.get_answer(store, reviewer, ws["urdu"])["status"] == "verified"


# -- roles ------------------------------------------------------------------------------------

def footer_actions(app) -> dict[str, str]:
    """action -> label of every key in the footer of the screen in front."""
    from textual.widgets._footer import FooterKey
    return {k.action: k.description for k in app.screen.query(FooterKey)}


async def palette_titles(pilot) -> list[str]:
    """Every command the palette offers on the screen in front (then closes it)."""
    from textual.command import CommandPalette
    await pilot.press("ctrl+p")
    await pilot.pause()
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    options = palette.query_one(CommandList)
    for _ in range(100):                       # discovery runs in the background
        await pilot.pause(0.05)
        if options.option_count:
            break
    titles = [str(options.get_option_at_index(i).prompt).split("\n")[0]
              for i in range(options.option_count)]
    await pilot.press("escape")
    await pilot.pause()
    return titles


async def test_each_role_is_offered_only_what_it_may_do(store, review_workspace):
    """Export used to be offered to reviewers and then refused; now every key, palette
    entry and F1 line is filtered by the permissions table."""
    from cohear.permissions import allowed
    ws = review_workspace
    # A reviewer on agreement and export: kappa, but no export.
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f7")
        await pilot.pause()
        assert "agreement" in footer_actions(app) and "export" not in footer_actions(app)
        titles = await palette_titles(pilot)
        assert "Kappa" in titles and "Export" not in titles
        await pilot.press("f1")
        await pilot.pause()
        assert "Export" not in [d for _, d in app.screen.keys]
        await pilot.press("escape")
        await pilot.pause()
        app.screen.query_one("#survey", Select).value = ws["survey"]
        await pilot.press("ctrl+s")                   # the key does nothing either
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert log(store, "survey.export") == []
        assert not (store.settings.data_dir / "exports").exists()
    # A researcher reading an answer: nothing that writes, plays or decides redactions.
    app = CohearApp(store, ws["users"]["researcher"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_answer(pilot, ws["phone"])
        offered = footer_actions(app)
        for action in ("save", "verify", "clear_concern", "raise_concern", "play",
                       "play_segment", "accept_redaction", "reject_redaction"):
            assert action not in offered, action
        assert "code" in offered and "back" in offered
        titles = await palette_titles(pilot)
        assert "Verify" not in titles and "Accept redaction" not in titles and "Code" in titles
        await pilot.press("f7")
        await pilot.pause()
        assert "export" in footer_actions(app)
    # A collector: their own answers, but no translations or agreement screens.
    app = CohearApp(store, ws["users"]["collector"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        offered = footer_actions(app)
        assert "open_queue" in offered
        assert "open_translations" not in offered and "open_agreement" not in offered
        assert not allowed("collector", "comms.read")
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert "code" not in offered                  # collectors do not code
    # A communicator starts on translations and has no queue.
    app = CohearApp(store, ws["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        offered = footer_actions(app)
        assert "open_translations" in offered and "open_queue" not in offered


SCREENS = {
    "queue": lambda ws: QueueScreen(),
    "answer": lambda ws: AnswerScreen(ws["urdu"]),
    "typed answer": lambda ws: AnswerScreen(ws["bengali"]),
    "coding": lambda ws: CodingScreen(ws["urdu"]),
    "translations": lambda ws: TranslationsScreen(),
    "agreement": lambda ws: __import__("tui.screens.agreement",
                                       fromlist=["AgreementScreen"]).AgreementScreen(),
    "home": lambda ws: _screen("home", "HomeScreen"),
    "messages": lambda ws: _screen("messages", "MessagesScreen"),
    "coverage": lambda ws: _screen("coverage", "CoverageScreen"),
    "compose": lambda ws: _screen("compose", "ComposeScreen", 1),
    "translate": lambda ws: _screen("translate", "TranslateScreen", 1),
    "compare": lambda ws: _screen("compare", "CompareScreen", 1, "ur"),
    "glossary": lambda ws: _screen("glossary", "GlossaryScreen"),
    "surveys": lambda ws: _screen("surveys", "SurveysScreen"),
    "builder": lambda ws: _screen("builder", "SurveyBuilderScreen", ws["survey"]),
    "field links": lambda ws: _screen("links", "FieldLinksScreen"),
}


def _screen(module: str, name: str, *args):
    return getattr(__import__(f"tui.screens.{module}", fromlist=[name]), name)(*args)
# tmux's prefix (Ctrl+B) and screen's (Ctrl+A) never reach an app inside them; Ctrl+H,
# Ctrl+I, Ctrl+J, Ctrl+M and Ctrl+[ arrive as Backspace, Tab, Enter and Escape; Ctrl+Z
# and Ctrl+\\ are job control in a shell; F10 and F11 are the terminal's own in many
# emulators (menu, full screen).
TAKEN = {"ctrl+b", "ctrl+a", "ctrl+h", "ctrl+i", "ctrl+j", "ctrl+m", "ctrl+left_square_bracket",
         "ctrl+z", "ctrl+backslash", "f10", "f11"}


async def test_no_key_is_one_that_tmux_screen_or_the_terminal_keeps_or_a_widget_takes(
        store, review_workspace):
    """Ctrl+B (reject a redaction) never reached the app inside tmux. Every key of every
    screen is checked: none is taken by tmux, screen or the terminal, and none is
    shadowed by an editing key of a widget on the same screen (a non-priority screen key
    that the focused editor also binds would never fire while typing)."""
    ws = review_workspace
    from textual.binding import Binding
    app = CohearApp(store, ws["users"]["admin"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for name, make in SCREENS.items():
            await app.push_screen(make(ws))
            await pilot.pause()
            screen = app.screen
            own = [b for b in Binding.make_bindings(type(screen).BINDINGS + [
                   *CohearApp.BINDINGS])]
            for binding in own:
                for key in binding.key.split(","):
                    assert key not in TAKEN, (name, key, binding.description)
            widget_keys = {}
            for widget in screen.query("*"):
                if widget.focusable:
                    for key, bindings in widget._bindings.key_to_bindings.items():
                        widget_keys[key] = (type(widget).__name__, bindings[0].description)
            for binding in Binding.make_bindings(type(screen).BINDINGS):
                for key in binding.key.split(","):
                    if not binding.priority and key in widget_keys:
                        raise AssertionError(f"{name}: {key} ({binding.description}) is also "
                                             f"{widget_keys[key]}")
            await app.pop_screen()
            await pilot.pause()


async def test_footer_labels_are_whole_and_f1_lists_each_action_once(store, review_workspace):
    """At 120x40 the footer cut labels ("^s Save transcrip") and F1 listed "Show menu"
    four times and a "super+c" key."""
    from rich.cells import cell_len
    from textual.widgets._footer import FooterKey
    ws = review_workspace
    app = CohearApp(store, ws["users"]["admin"])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for name, make in SCREENS.items():
            await app.push_screen(make(ws))
            for _ in range(50):                         # the footer lays out after a refresh
                await pilot.pause()
                keys = list(app.screen.query(FooterKey))
                if keys and all(k.region.width for k in keys):
                    break
            text = screen_text(app)
            for key in keys:
                # " ^s Save correction ": the key and its description, each padded by one.
                needed = cell_len(key.key_display) + cell_len(key.description) + 3
                assert key.region.width >= needed, (name, key.description)
                assert f"{key.key_display} {key.description}" in text, (name, key.description)
            await pilot.press("f1")
            await pilot.pause()
            listed = app.screen.keys
            descriptions = [d for _, d in listed]
            assert len(descriptions) == len(set(descriptions)), (name, descriptions)
            assert "Show menu" not in descriptions
            assert not any("super" in k for k, _ in listed), (name, listed)
            await pilot.press("escape")
            await pilot.pause()
            await app.pop_screen()
            await pilot.pause()


async def test_the_palettes_screenshot_is_saved_in_the_data_directory(store, review_workspace):
    """The palette's "Screenshot" failed ("Failed to save screenshot")."""
    import stat
    ws = review_workspace
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Screenshot")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.screen.query_one(CommandList).option_count:
                break
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if any("saved to" in n.message for n in app._notifications):
                break
        [note] = [n for n in app._notifications if "saved to" in n.message]
    [shot] = (store.settings.data_dir / "screenshots").glob("cohear-queue-*.svg")
    assert str(shot) in note.message
    assert shot.read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert stat.S_IMODE(shot.stat().st_mode) == 0o600
    assert stat.S_IMODE(shot.parent.stat().st_mode) == 0o700


async def test_a_communicator_starts_on_messages(store, review_workspace):
    from tui.screens.messages import MessagesScreen
    app = CohearApp(store, review_workspace["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, MessagesScreen)


# -- listening ---------------------------------------------------------------------------------

async def test_without_an_audio_player_it_says_so(store, review_workspace, monkeypatch,
                                                  tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    ws = review_workspace
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_answer(pilot, ws["urdu"])
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert any("no audio player" in n.message for n in app._notifications)


def test_a_segment_is_cut_from_the_recording_for_playing(store, review_workspace, tmp_path):
    ws = review_workspace
    path, _, _ = speech.audio_file(store, ws["recording"], ws["users"]["reviewer"],
                                   "normalised")
    cut = player.cut_segment(path, 1.0, 2.5, tmp_path)
    with wave.open(str(cut)) as w:
        assert w.getframerate() == 16000 and w.getnframes() == 24000


def test_review_workspace_is_what_the_screens_expect(store, review_workspace):
    ws = review_workspace
    row = store.one("SELECT needs_review FROM transcripts WHERE recording_id = ?",
                    (ws["recording"],))
    assert row["needs_review"] == 1
    assert json.loads(json.dumps(ws["codes"])) == ws["codes"]


# -- translations -------------------------------------------------------------------------------

@pytest.fixture
def translated(store, people, copy_packs):
    """A message machine-translated into Urdu and Bengali by real (copy) Argos packs."""
    from comms import service as comms
    comm = people["communicator"][0]
    message = comms.create_message(store, comm, title="Clinic bus",
                                   source_text="The clinic bus runs on Tuesdays.", channel="sms")
    comms.translate_messages(store, comm, [message["id"]], ["ur", "bn"])
    return message["id"]


async def open_translation(pilot, language: str) -> TranslationScreen:
    if not isinstance(pilot.app.screen, TranslationsScreen):
        await pilot.press("f6")
        await pilot.pause()
    screen = pilot.app.screen
    column = screen.languages.index(language) + 1
    row = next(i for i, r in enumerate(screen.rows) if r.message is not None)
    screen.query_one("#translations", DataTable).move_cursor(row=row, column=column)
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, TranslationScreen)
    return pilot.app.screen


async def test_a_reviewer_approves_a_translation(store, people, translated):
    from comms import service as comms
    reviewer = people["reviewer"][0]
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        assert "machine" in screen_text(app)
        await open_translation(pilot, "ur")
        text = screen_text(app)
        assert "The clinic bus runs on Tuesdays." in text and "Similarity" in text
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "approved" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TranslationsScreen)
    assert comms.get_translation(store, translated, "ur")["status"] == "approved"
    assert comms.get_translation(store, translated, "bn")["status"] == "machine"
    approved = log(store, "translation.approved")[0]
    assert approved["actor_name"] == reviewer.name
    assert approved["after"]["language"] == "ur"


async def test_edit_a_translation_then_only_a_reviewer_may_approve(store, people, translated):
    from comms import service as comms
    comm = people["communicator"][0]
    app = CohearApp(store, comm)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_translation(pilot, "bn")
        area = screen.query_one("#translation-text", TextArea)
        area.load_text("ক্লিনিক বাস মঙ্গলবার চলে।")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "approve" not in footer_actions(app)       # a communicator may not approve
        await pilot.press("ctrl+r")                      # and the key does nothing
        await pilot.pause()
        await pilot.press("ctrl+t")                      # but may ask for a human translator
        await pilot.pause()
    bengali = comms.get_translation(store, translated, "bn")
    assert bengali["status"] == "human_requested" and bengali["text"] == "ক্লিনিক বাস মঙ্গলবার চলে।"
    assert [e["after"]["status"] for e in reversed(audit.entries(store.conn, entity="translation",
                                                                 limit=50))][-2:] == [
        "needs_review", "human_requested"]
    assert log(store, "translation.approved") == []


async def test_translations_are_grouped_by_message_survey_and_the_field_page(
        store, review_workspace, people, translated):
    """The Translations screen had 60+ "Field page:" rows among the messages and three
    survey questions with one truncated title."""
    from webcollect import strings
    strings.seed(store)
    field_strings = store.one("SELECT count(*) FROM messages WHERE tags_json LIKE "
                              "'%collect-page%'")[0]
    assert field_strings > 20
    app = CohearApp(store, people["reviewer"][0])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        screen = app.screen
        titles = [g.title for g in screen.groups]
        assert titles == ["Health messages", "Survey 1: Clinic bus", "Field page's own words"]
        text = screen_text(app)
        assert "Field page:" not in text                  # folded, and the prefix is gone
        assert f"Field page's own words ({field_strings})" in text
        assert "question consent" in text and "question journey" in text
        assert f"{translated} Clinic bus" in text         # the health message, whole
        # Enter on the field page's row unfolds it; its strings carry their own names.
        row = next(i for i, r in enumerate(screen.rows) if r.group.key == "field-page")
        screen.query_one("#translations", DataTable).move_cursor(row=row, column=0)
        await pilot.press("enter")
        await pilot.pause()
        assert len(screen.rows) == row + 1 + field_strings
        assert all(r.group.key == "field-page" for r in screen.rows[row + 1:])


async def test_every_message_a_survey_owns_is_grouped_under_it(store, people, translated):
    """A choice question's labels (each a message of its own) were listed among the
    health messages, and their survey's count left them out."""
    from surveys import service as surveys
    survey = surveys.create_survey(
        store, people["communicator"][0], title="Travel", purpose="How people travel",
        base_language="en", target_languages=["ur"], questions=[
            {"kind": "consent", "name": "consent", "text": "Do you agree to take part?"},
            {"kind": "single_choice", "name": "transport", "text": "How did you travel?",
             "options": {"choices": [{"value": "bus", "label": "By bus"},
                                     {"value": "car", "label": "By car"}]}},
            {"kind": "open", "name": "story", "text": "Tell us more."}])
    app = CohearApp(store, people["reviewer"][0])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        groups = {g.title: [m["label"] for m in g.messages] for g in app.screen.groups}
        assert groups == {
            "Health messages": [f"{translated} Clinic bus"],
            f"Survey {survey['id']}: Travel": [
                "question consent", "question transport", "question transport, choice:bus",
                "question transport, choice:car", "question story"]}
        text = screen_text(app)
        assert f"Survey {survey['id']}: Travel (5)" in text and "Health messages (1)" in text
        assert "question transport, choice:bus" in text


async def test_at_120_columns_every_language_of_the_translations_is_in_view(
        store, people, translated):
    """The Translations screen's Urdu column was cut off at 120 columns: the message
    column took 62 cells whatever the screen's width."""
    from comms import service as comms
    comms.request_human(store, people["communicator"][0], translated,
                        ["pa-Guru", "pa-Arab", "pl"])
    app = CohearApp(store, people["communicator"][0])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f6")             # a communicator starts on Messages
        await pilot.pause()
        table = app.screen.query_one("#translations", DataTable)
        assert [str(c.label) for c in table.columns.values()][1:] == [
            "bn", "pa-Arab", "pa-Guru", "pl", "ur"]
        needed = sum(c.get_render_width(table) for c in table.columns.values())
        assert needed <= table.scrollable_content_region.width
        header = next(row for row in screen_text(app).split("\n") if "message" in row)
        assert header.split()[-1] == "ur"


async def test_in_the_f2_mode_an_urdu_question_is_flush_right(store, review_workspace):
    """README: in the F2 mode right-to-left rows are flush right; the question's Urdu line
    sat on the left of its column."""
    ws = review_workspace
    app = CohearApp(store, ws["users"]["reviewer"], reorder_rtl=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.push_screen(AnswerScreen(ws["urdu"]))
        await pilot.pause()
        question = app.screen.query_one("#question")
        rows = [strip.text for strip in question.render_lines(question.region.reset_offset)]
        urdu = next(row for row in rows if row.lstrip().startswith("ur:"))
        right = question.content_region.width
        # The words end at the column's right edge (its padding aside), not at its left.
        assert len(urdu.rstrip()) >= right, (urdu, right)


# -- agreement and export ------------------------------------------------------------------------

async def test_kappa_per_code_for_two_chosen_coders(store, review_workspace):
    from surveys import agreement
    ws = review_workspace
    reviewer, researcher = ws["users"]["reviewer"], ws["users"]["researcher"]
    for answer in (ws["urdu"], ws["bengali"], ws["phone"]):
        coding.apply_code(store, reviewer, answer, ws["codes"]["Bus"])
    for answer in (ws["urdu"], ws["bengali"], ws["concern"]):
        coding.apply_code(store, researcher, answer, ws["codes"]["Bus"])
    coding.apply_code(store, researcher, ws["phone"], ws["codes"]["Cost"])
    expected = agreement.survey_agreement(store, researcher, ws["survey"],
                                          [reviewer.id, researcher.id])
    app = CohearApp(store, researcher)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f7")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#survey", Select).value = ws["survey"]
        screen.query_one("#coder-a", Select).value = reviewer.id
        screen.query_one("#coder-b", Select).value = researcher.id
        await pilot.press("ctrl+r")
        await pilot.pause()
        table = screen.query_one("#kappa", DataTable)
        shown = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1])
                 for i in range(table.row_count)}
    assert shown == {c["code"]: "-" if c["kappa"] is None else f"{c['kappa']:.2f}"
                     for c in expected["codes"]}
    assert set(shown) == {"Bus", "Cost"}


async def test_run_an_export_with_a_progress_bar(store, review_workspace, tmp_path):
    ws = review_workspace
    researcher = ws["users"]["researcher"]
    target = tmp_path / "clinic-bus.csv"
    app = CohearApp(store, researcher)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f7")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#survey", Select).value = ws["survey"]
        screen.query_one("#export-path").value = str(target)
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        bar = screen.query_one("#export-progress")
        assert bar.total == 4 and bar.progress == 4
        assert f"to {target}" in screen_text(app).replace("\n", "")
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    # Pseudonymised: answers are salted pseudonyms, never cohear's ids.
    from surveys import exports
    key = exports.salt(store)
    assert "answer_id" not in rows[0]
    assert sorted({r["answer"] for r in rows}) == sorted(
        exports.reference(key, "answer", ws[k]) for k in ("urdu", "bengali", "phone", "concern"))
    cohear_ids = {r[0] for r in store.all("SELECT cohear_id FROM respondents")}
    assert not cohear_ids & {r["respondent"] for r in rows}     # pseudonymised
    exported = log(store, "survey.export")[0]
    assert exported["actor_name"] == researcher.name and "pseudonymised" in exported["detail"]
