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
from cohear.errors import Unauthorized
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
    """From the queue, move to the answer's row and press Enter."""
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
    pattern = r'(?:require|may)\(\s*"([a-z_]+\.[a-z_]+)"|(?:require|Screen), "([a-z_.]+)"'
    actions = sorted({a for pair in re.findall(pattern, source) for a in pair if a})
    assert "answers.read" in actions and "comms.approve" not in actions
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
        await pilot.press(*"GP rang", "enter")
        await pilot.pause()
    answer = surveys.get_answer(store, reviewer, ws["bengali"])
    assert answer["safeguarding_note"] == "GP rang"
    assert answer["safeguarding_handled_by"] == reviewer.id
    assert log(store, "safeguarding.raise")[0]["after"] == {"reason": "lives alone"}
    assert log(store, "safeguarding.handle")[0]["actor_name"] == reviewer.name


async def test_accept_a_suggested_redaction(store, review_workspace):
    ws = review_workspace
    reviewer = ws["users"]["reviewer"]
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_answer(pilot, ws["phone"])
        assert "> phone 07700 900123" in screen_text(app)
        await pilot.press("ctrl+f")
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
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert any("researcher" in n.message and "may not" in n.message
                   and "admin or reviewer" in n.message for n in app._notifications)
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

async def test_screens_a_role_may_not_use_are_refused_with_who_may(store, review_workspace):
    ws = review_workspace
    app = CohearApp(store, ws["users"]["collector"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert any("may not" in n.message and "comms.read" in n.message
                   for n in app._notifications)


async def test_a_communicator_starts_on_translations(store, review_workspace):
    app = CohearApp(store, review_workspace["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TranslationsScreen)


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
    screen.query_one("#translations", DataTable).move_cursor(row=0, column=column)
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
        await pilot.press("ctrl+r")                      # a communicator may not approve
        await pilot.pause()
        assert any("may not" in n.message for n in app._notifications)
        await pilot.press("ctrl+t")                      # but may ask for a human translator
        await pilot.pause()
    bengali = comms.get_translation(store, translated, "bn")
    assert bengali["status"] == "human_requested" and bengali["text"] == "ক্লিনিক বাস মঙ্গলবার চলে।"
    assert [e["after"]["status"] for e in reversed(audit.entries(store.conn, entity="translation",
                                                                 limit=50))][-2:] == [
        "needs_review", "human_requested"]
    assert log(store, "translation.approved") == []


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
        await pilot.press("ctrl+k")
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
        await pilot.press("ctrl+e")
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
