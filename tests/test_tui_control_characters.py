"""Control characters in stored words never reach a reviewer's terminal: words stored
before cohear refused them (or posted by a worker) hold ESC sequences that retitle the
window and wipe the screen, a C1 CSI and a carriage return; every screen of the review
app, driven with Pilot, draws them as U+FFFD and sends none of them."""

from __future__ import annotations

import re

import pytest
from textual.widgets import DataTable, Select, Tree

from surveys import coding
from tui.app import CohearApp
from tui.display import safe
from tui.screens.agreement import AgreementScreen
from tui.screens.answer import AnswerScreen
from tui.screens.coding import CodingScreen
from tui.screens.dialogs import WriteWords
from tui.screens.queue import QueueScreen
from tui.screens.translation import TranslationScreen
from tui.screens.translations import TranslationsScreen

SIZE = (160, 60)
pytestmark = pytest.mark.anyio

# The tester's sequences: a window title, the clipboard, a screen wipe, a C1 CSI, a
# carriage return that would send the cursor back over the row.
ESCAPES = "\x1b]2;PWNED-TITLE\x07\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\x1b[H\x9b31m\rFAKE"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Every stored text the review app shows, with the escapes planted at its end.
PLANTED = [("answer_texts", "text"), ("transcripts", "text"), ("transcript_segments", "text"),
           ("transcript_english", "text"), ("survey_questions", "text"),
           ("survey_questions", "name"), ("surveys", "title"), ("users", "name"),
           ("codebooks", "name"), ("codes", "name"), ("codes", "description"),
           ("codes", "memo"), ("answer_memos", "text"), ("answers", "safeguarding_reason"),
           ("answers", "safeguarding_raised_by"), ("messages", "title"),
           ("message_versions", "source_text"), ("translations", "text"),
           ("translations", "back_translation")]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def planted(store, people, review_workspace, copy_packs):
    """The review workspace, a machine-translated message and a memo, then the escapes
    written straight into the database, as older data or a worker's result holds them."""
    from comms import service as comms
    ws = review_workspace
    comm = people["communicator"][0]
    message = comms.create_message(store, comm, title="Clinic bus", channel="sms",
                                   source_text="The clinic bus runs on Tuesdays.")
    comms.translate_messages(store, comm, [message["id"]], ["ur"])
    coding.add_answer_memo(store, ws["users"]["reviewer"], ws["phone"], "asked about fares")
    with store.transaction() as conn:
        for table, column in PLANTED:
            changed = conn.execute(f"UPDATE {table} SET {column} = {column} || ? "  # noqa: S608
                                   f"WHERE {column} IS NOT NULL", (ESCAPES,)).rowcount
            assert changed, f"nothing planted in {table}.{column}"
    return ws


def controls_drawn(app) -> list[str]:
    """The rendered segments of the screen in front (toasts included) that hold a
    control character; Textual's own cursor moves are not text and are left out."""
    found = []
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            if not segment.control and CONTROL.search(segment.text):
                found.append(segment.text)
    return found


def drawn(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def look(pilot, where: str) -> str:
    """Let the screen settle, check that nothing drawn holds a control character, and
    return what is on it."""
    await pilot.pause()
    await pilot.pause()
    bad = controls_drawn(pilot.app)
    assert not bad, f"{where}: control characters drawn: {bad[:3]!r}"
    return drawn(pilot.app)


async def open_answer(pilot, answer_id: int) -> AnswerScreen:
    queue = pilot.app.screen
    assert isinstance(queue, QueueScreen)
    queue.query_one("#queue", DataTable).move_cursor(
        row=[r["id"] for r in queue.rows].index(answer_id))
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, AnswerScreen)
    return pilot.app.screen


async def test_every_screen_draws_stored_control_characters_as_replacement_characters(
        store, people, planted):
    ws = planted
    app = CohearApp(store, people["admin"][0])
    async with app.run_test(size=SIZE) as pilot:
        await look(pilot, "the admin's home")
        await pilot.press("f5")                         # an admin opens on Home
        await pilot.pause()
        text = await look(pilot, "the queue")
        assert "PWNED-TITLE" in text and "\ufffd" in text   # shown, made harmless
        queue = app.screen
        for name in ("survey", "collector", "code"):
            queue.query_one(f"#filter-{name}", Select).focus()
            await pilot.press("enter")
            await look(pilot, f"the {name} filter's list")
            await pilot.press("escape")
        queue.query_one("#queue", DataTable).focus()
        for answer in ("urdu", "concern", "phone"):
            screen = await open_answer(pilot, ws[answer])
            text = await look(pilot, f"the {answer} answer")
            assert "\ufffd" in text
            if answer == "urdu":   # the segments, and the editor one for one
                assert "PWNED-TITLE" in text
                assert CONTROL.search(screen.loaded_text) is None
            if answer == "urdu":
                await pilot.press("f8")                 # the English, in an editor
                await pilot.pause()
                assert isinstance(app.screen, WriteWords)
                await look(pilot, f"the {answer} answer's English editor")
                await pilot.press("escape")
                await pilot.pause()
            if answer == "phone":
                await pilot.press("ctrl+n")
                await pilot.pause()
                assert isinstance(app.screen, CodingScreen)
                tree = app.screen.query_one("#codebook", Tree)
                tree.focus()
                await pilot.press("down", "down", "down")
                text = await look(pilot, "the coding screen")
                assert "include coaches" in text and "asked about" in text
                await pilot.press("M")                   # a memo dialog quoting the code
                await look(pilot, "the code's memo dialog")
                await pilot.press("escape")
                await pilot.pause()
                await pilot.press("escape")
                await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, QueueScreen)

        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, TranslationsScreen)
        grid = app.screen
        for group in grid.groups:
            grid.folded[group.key] = False
        grid.load()
        await look(pilot, "the translations")
        row = next(i for i, r in enumerate(grid.rows) if r.message is not None
                   and "ur" in r.message["translations"])
        grid.query_one("#translations", DataTable).move_cursor(
            row=row, column=grid.languages.index("ur") + 1)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TranslationScreen)
        await look(pilot, "a translation")

        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, AgreementScreen)
        await look(pilot, "agreement")
        for name in ("survey", "coder-a"):
            app.screen.query_one(f"#{name}", Select).focus()
            await pilot.press("enter")
            await look(pilot, f"agreement's {name} list")
            await pilot.press("escape")


def test_safe_shows_every_control_character_and_keeps_offsets_for_editors():
    assert safe("a\x1b[2Jb\tc\nd\x9be\x7f") == "a\ufffd[2Jb\tc\nd\ufffde\ufffd"
    assert safe("one\r\ntwo\rthree") == "one\ntwo\nthree"
    kept = safe("one\r\ntwo\x1b]2;x\x07\rthree", keep_length=True)
    assert kept == "one\r\ntwo\ufffd]2;x\ufffd\ufffdthree"
    assert len(kept) == len("one\r\ntwo\x1b]2;x\x07\rthree")
    assert safe(None) == ""
