"""The workspace screens driven with the keyboard alone (Pilot), against a real database
seeded through the real services and real (copy-model) Argos packs run by CTranslate2:
where each role starts, messages and their filters, composing with the live check,
translating as a job and comparing side by side, translator files, the glossary, the
coverage map, the survey builder, XLSForm import, prompts and field links."""

from __future__ import annotations

import json
from pathlib import Path

import polib
import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Input, Select

from cohear import audit
from cohear.auth import create_user
from comms import service as comms
from surveys import service as surveys
from tui.app import CohearApp
from tui.screens.agreement import AgreementScreen
from tui.screens.builder import SurveyBuilderScreen
from tui.screens.compare import CompareScreen
from tui.screens.compose import ComposeScreen
from tui.screens.coverage import CoverageScreen
from tui.screens.dialogs import AskPath, Confirm, ShowText
from tui.screens.glossary import GlossaryEntry, GlossaryScreen
from tui.screens.home import HomeScreen
from tui.screens.links import FieldLinksScreen, MakeLink
from tui.screens.messages import MessagesScreen
from tui.screens.question_form import AttachPrompt, NewSurvey, OpenLanguage, QuestionForm
from tui.screens.queue import QueueScreen
from tui.screens.signin import SignInScreen
from tui.screens.surveys import SurveysScreen
from tui.screens.translate import TranslateScreen
from tui.widgets.footer import KeyFooter

SIZE = (150, 44)
REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "cohear" / "demo_data"
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def log(store, action: str) -> list[dict]:
    return [e for e in audit.entries(store.conn, limit=1000) if e["action"] == action]


def footer_actions(app) -> dict[str, str]:
    from textual.widgets._footer import FooterKey
    return {k.action: k.description for k in app.screen.query(FooterKey)}


async def until(pilot, condition, what: str = "", tries: int = 400) -> None:
    """Wait, on a loaded machine too, until `condition()` holds."""
    for _ in range(tries):
        await pilot.pause(0.05)
        if condition():
            await pilot.pause()          # and what it changed is laid out
            return
    raise AssertionError(f"timed out waiting for {what or condition}")


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])


async def pick(pilot, select: Select, value) -> None:
    """Choose `value` in the focused Select with the keyboard: open it, go to the top,
    down to the option, Enter."""
    assert pilot.app.focused is select, pilot.app.focused
    values = [v for _, v in select._options]
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press("home", *["down"] * values.index(value), "enter")
    await pilot.pause()
    assert select.value == value


async def tab_to(pilot, widget_id: str, tries: int = 30) -> None:
    for _ in range(tries):
        if pilot.app.focused is not None and pilot.app.focused.id == widget_id:
            return
        await pilot.press("tab")
    raise AssertionError(f"Tab never reached #{widget_id}")


async def palette_titles(pilot) -> list[str]:
    await pilot.press("ctrl+p")
    await pilot.pause()
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    options = palette.query_one(CommandList)
    await until(pilot, lambda: options.option_count, "the palette's commands")
    titles = [str(options.get_option_at_index(i).prompt).split("\n")[0]
              for i in range(options.option_count)]
    await pilot.press("escape")
    await pilot.pause()
    return titles


@pytest.fixture
def desk(store, people, copy_packs):
    """Two health messages, one machine-translated into Urdu and Bengali (real copy
    packs), the other with nothing yet; the users by role."""
    users = {role: user for role, (user, _) in people.items()}
    comm = users["communicator"]
    flu = comms.create_message(store, comm, title="Flu jab", channel="sms", audience="parents",
                               tags=["flu"], source_text="Book your flu jab at the GP. "
                               "It is free for children.")["id"]
    comms.translate_messages(store, comm, [flu], ["ur", "bn"])
    bus = comms.create_message(store, comm, title="Clinic bus", channel="letter",
                               source_text="The clinic bus runs on Tuesdays.")["id"]
    return {"users": users, "tokens": {r: t for r, (_, t) in people.items()}, "flu": flu,
            "bus": bus}


# -- where each role starts, and getting anywhere ---------------------------------------

async def test_each_role_starts_on_what_it_does(store, desk):
    expected = {"admin": HomeScreen, "communicator": MessagesScreen, "reviewer": QueueScreen,
                "researcher": AgreementScreen, "collector": QueueScreen}
    for role, screen in expected.items():
        app = CohearApp(store, desk["users"][role])
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert type(app.screen) is screen, role


async def test_signing_in_on_the_token_screen(store, desk):
    """The browser workspace opens here: a wrong token is refused in words, the right one
    leads to the role's first screen."""
    app = CohearApp(store, None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        assert "open_messages" not in footer_actions(app)
        await type_text(pilot, "coh_nothing_here")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        assert "not valid" in screen_text(app)
        assert "coh_nothing_here" not in screen_text(app)
        await type_text(pilot, desk["tokens"]["communicator"])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MessagesScreen), "Messages")
        assert app.user.role == "communicator"


async def test_the_token_screen_refuses_a_worker_token(store, desk):
    """A transcription machine's token signs nobody in to the workspace (in the browser
    too, which opens on this screen): it says what the token is for and stays put."""
    _, token = create_user(store, "gpu-1", "worker")
    app = CohearApp(store, None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_text(pilot, token)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen) and app.user is None
        text = screen_text(app)
        assert "worker tokens are for cohear worker; sign in with a person's token" in text
        assert app.screen.query_one("#token", Input).value == ""
        await type_text(pilot, desk["tokens"]["reviewer"])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen), "the queue")
        assert app.user.role == "reviewer"


async def test_every_screen_is_reached_by_its_key_and_the_palette(store, desk):
    keys = {"f3": MessagesScreen, "f8": CoverageScreen, "f9": GlossaryScreen,
            "f4": SurveysScreen, "ctrl+f": FieldLinksScreen, "f5": QueueScreen,
            "f12": HomeScreen}
    app = CohearApp(store, desk["users"]["admin"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key, screen in keys.items():
            await pilot.press(key)
            await pilot.pause()
            assert type(app.screen) is screen, key
        titles = await palette_titles(pilot)
        for title in ("Messages", "Coverage map", "Glossary", "Surveys", "Field links",
                      "Queue", "Translations", "Agreement"):
            assert title in titles
        # Home's list opens each too: Enter on the fourth (Surveys).
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SurveysScreen)
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen) and len(app.screen_stack) == 2


async def test_each_role_sees_only_its_actions_on_the_new_screens(store, desk):
    # A researcher reads messages and translations, and changes nothing.
    app = CohearApp(store, desk["users"]["researcher"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        offered = footer_actions(app)
        assert "compose" not in offered and "translate" in offered
        assert "open_links" not in offered
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TranslateScreen)
        offered = footer_actions(app)
        for action in ("machine_translate", "ask_humans", "export_file", "choose"):
            assert action not in offered, action
        # Its header names only keys this role has.
        assert "space chooses" not in screen_text(app)
        assert "Enter opens a language side by side" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        offered = footer_actions(app)
        for action in ("save", "approve", "ask_human", "export_file", "import_file"):
            assert action not in offered, action
        assert "read only" in screen_text(app)
        await pilot.press("f9")
        await pilot.pause()
        assert "add" not in footer_actions(app) and "remove" not in footer_actions(app)
        assert "select_cursor" not in footer_actions(app)        # no Edit either
        assert "entries of yours" not in screen_text(app)
        await pilot.press("f4")
        await pilot.pause()
        assert "create" not in footer_actions(app)
    # A reviewer approves and corrects, but does not ask translators or draft.
    app = CohearApp(store, desk["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.push_screen(CompareScreen(desk["flu"], "ur"))
        await pilot.pause()
        offered = footer_actions(app)
        assert "approve" in offered and "save" in offered and "ask_human" not in offered
    # Nobody but an admin gets field links.
    app = CohearApp(store, desk["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "open_links" not in footer_actions(app)
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(app.screen, MessagesScreen)


# -- messages --------------------------------------------------------------------------

async def test_messages_are_filtered_and_paged_from_the_keyboard(store, desk, monkeypatch):
    comm = desk["users"]["communicator"]
    for i in range(5):
        comms.create_message(store, comm, title=f"Poster {i}", channel="poster",
                             source_text=f"Poster number {i}.")
    monkeypatch.setattr(MessagesScreen, "page_size", 3)
    app = CohearApp(store, comm)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.total == 7 and len(screen.rows) == 3
        assert "messages 1-3 of 7" in screen_text(app)
        await pilot.press("n", "n")
        assert "messages 7-7 of 7" in screen_text(app)
        assert [r["title"] for r in screen.rows] == ["Flu jab"]
        await pilot.press("b", "b")
        # The channel filter: f goes to the filters, Tab to the channel.
        await pilot.press("f")
        await tab_to(pilot, "filter-channel")
        await pick(pilot, app.focused, "letter")
        await until(pilot, lambda: screen.total == 1, "the filtered list")
        assert [r["title"] for r in screen.rows] == ["Clinic bus"]
        await tab_to(pilot, "filter-language")
        await pick(pilot, app.focused, "ur")
        await until(pilot, lambda: screen.total == 0, "no letter in Urdu")
        await pilot.press("x")
        await until(pilot, lambda: screen.total == 7, "the filters cleared")
        # Machine-translated into Urdu, as a status filter: only the flu message.
        await pilot.press("f")
        await tab_to(pilot, "filter-language")
        await pick(pilot, app.focused, "ur")
        await tab_to(pilot, "filter-status")
        await pick(pilot, app.focused, "machine")
        await until(pilot, lambda: screen.total == 1, "machine in Urdu")
        assert screen.rows[0]["id"] == desk["flu"]
        assert "2 machine" in screen_text(app)


# -- compose and edit --------------------------------------------------------------------

async def test_compose_checks_as_one_types_and_uses_the_plain_words(store, desk):
    app = CohearApp(store, desk["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ComposeScreen) and app.focused.id == "title"
        await type_text(pilot, "Hypertension check")
        await tab_to(pilot, "source")
        await type_text(pilot, "Prior to your visit, call NHS 111. Your letter was sent "
                               "by the GP.")
        editor = screen.query_one("#source")
        await until(pilot, lambda: screen.checked_text == editor.text, "the live check")
        await pilot.pause()                  # the panels are laid out on the next refresh
        kinds = {f["kind"] for f in screen.findings()}
        assert {"jargon", "passive_voice"} <= kinds
        text = screen_text(app)
        assert "'Prior to' is jargon" in text and "say 'before'" in text
        assert "passive voice" in text and "NHS 111" in text
        # The marks sit where the findings are: row 0 holds jargon, term and passive marks.
        names = {name for _, _, name in editor._highlights[0]}
        assert {"jargon", "term", "passive_voice"} <= names
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert editor.text.startswith("Before your visit, call NHS 111.")
        await until(pilot, lambda: "jargon" not in {f["kind"] for f in screen.findings()},
                    "the check after the replacement")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.message_id is not None, "saving")
    message = comms.get_message(store, screen.message_id)
    assert message["title"] == "Hypertension check" and message["version"] == 1
    assert message["source_text"].startswith("Before your visit")
    assert message["channel"] == "sms"


async def test_editing_says_which_translations_go_stale_before_saving(store, desk):
    flu = desk["flu"]
    comms.edit_translation(store, desk["users"]["reviewer"], flu, "ur",
                           "جی پی پر اپنا فلو کا ٹیکہ بک کریں۔ یہ بچوں کے لیے مفت ہے۔")
    comms.approve_translation(store, desk["users"]["reviewer"], flu, "ur")
    app = CohearApp(store, desk["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        messages = app.screen
        messages.query_one("#messages", DataTable)
        await pilot.press("down")            # the list is newest first: bus, then flu
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ComposeScreen) and screen.message_id == flu
        # SMS lengths per language: the Urdu translation needs UCS-2.
        text = screen_text(app)
        assert "SMS length" in text and "UCS-2" in text
        await pilot.press("end")
        await type_text(pilot, " Ask at reception.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        body = screen_text(app)
        assert "version 2" in body and "ur (approved)" in body and "bn (machine)" in body
        await pilot.press("escape")              # keep editing: nothing saved
        await pilot.pause()
        assert comms.get_message(store, flu)["version"] == 1
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: comms.get_message(store, flu)["version"] == 2, "saving")
        await pilot.pause()
    assert {t["language"]: t["status"] for t in comms.list_translations(store, flu)} == {
        "ur": "stale", "bn": "stale"}
    assert log(store, "message.edit_source")[0]["after"]["source_text"].endswith("reception.")


async def test_a_source_saved_by_someone_else_meanwhile_is_not_overwritten(store, desk):
    flu = desk["flu"]
    app = CohearApp(store, desk["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ComposeScreen(flu))
        await pilot.pause()
        screen = app.screen
        assert screen.message["version"] == 1
        # Another communicator saves version 2 while this screen still shows version 1.
        comms.edit_message(store, desk["users"]["admin"], flu, expected_version=1,
                           source_text="Book your flu jab before Friday. It is free.")
        screen.query_one("#source").focus()
        await pilot.press("end")
        await type_text(pilot, " Ask at reception.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        # No dialog naming a version that no longer holds: a refusal saying why.
        assert not isinstance(app.screen, Confirm)
        shown = " ".join(str(n.message) for n in app._notifications)
        assert "Changed by someone else: reload" in shown and "version 2" in shown
        # Saving around the early check (the race in between) is refused by the service.
        screen.save_edit(screen.current_values(), 0)
        await pilot.pause()
    message = comms.get_message(store, flu)
    assert message["version"] == 2 and message["source_text"].endswith("It is free.")
    assert len(log(store, "message.edit_source")) == 1


async def test_a_translation_changed_after_the_reviewer_opened_it_is_not_approved(store, desk):
    flu, reviewer = desk["flu"], desk["users"]["reviewer"]
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(CompareScreen(flu, "ur"))
        await pilot.pause()
        seen = app.screen.translation["revision"]
        changed = "جی پی پر اپنا فلو کا ٹیکہ بک نہ کریں۔"
        comms.edit_translation(store, desk["users"]["communicator"], flu, "ur", changed)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert comms.get_translation(store, flu, "ur")["status"] == "needs_review"
        shown = " ".join(str(n.message) for n in app._notifications)
        assert "changed by someone else" in shown and "Reload and review again" in shown
        # The screen now shows the words that are there; approving them is a new review.
        assert app.screen.translation["revision"] == seen + 1
        assert app.screen.translation["text"] == changed
        await pilot.press("ctrl+r")
        await pilot.pause()
    assert comms.get_translation(store, flu, "ur")["status"] == "approved"


async def test_a_translation_edit_over_someone_elses_is_refused(store, desk):
    flu = desk["flu"]
    # The reviewer opens words in Bengali script (the desk's packs copy the English).
    comms.edit_translation(store, desk["users"]["communicator"], flu, "bn",
                           "জিপিতে ফ্লু টিকা বুক করুন।")
    app = CohearApp(store, desk["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(CompareScreen(flu, "bn"))
        await pilot.pause()
        comms.edit_translation(store, desk["users"]["communicator"], flu, "bn",
                               "জিপিতে আপনার ফ্লু টিকা বুক করুন।")
        editor = app.screen.query_one("#compare-text")
        editor.focus()
        await pilot.press("end")
        await type_text(pilot, " ঠিক")
        await pilot.press("ctrl+s")
        await pilot.pause()
        shown = " ".join(str(n.message) for n in app._notifications)
        assert "changed by someone else" in shown
    assert comms.get_translation(store, flu, "bn")["text"] == "জিপিতে আপনার ফ্লু টিকা বুক করুন।"


# -- translate, as a job, and compare --------------------------------------------------------

async def test_translate_as_a_job_then_compare_side_by_side_and_approve(store, desk):
    bus = desk["bus"]
    comm, reviewer = desk["users"]["communicator"], desk["users"]["reviewer"]
    app = CohearApp(store, comm)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")                       # the newest message: the bus
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TranslateScreen) and screen.message_id == bus
        text = screen_text(app)
        assert "ur  Urdu" in text and "so  Somali" in text and "human only" in text
        # Choose Urdu and Polish with the space bar, then t.
        for tag in ("ur", "pl"):
            await pilot.press("home", *["down"] * screen.languages.index(tag), "space")
        assert screen.chosen == {"ur", "pl"}
        await pilot.press("t")
        await until(pilot, lambda: screen.job_id is None and "done" in screen_text(app),
                    "the translation job")
        assert "2 translated" in screen_text(app)
        await pilot.press("home", *["down"] * screen.languages.index("ur"), "enter")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        text = screen_text(app)
        assert "source" in text and "back-translation" in text and "chrF" in text
        assert "The clinic bus runs on Tuesdays." in text
    [job] = store.all("SELECT * FROM jobs WHERE kind = 'comms.translate'")
    assert job["status"] == "done" and job["created_by"] == comm.id
    assert json.loads(job["result_json"])["translated"] == 2
    assert {t["language"]: t["status"] for t in comms.list_translations(store, bus)} == {
        "ur": "machine", "pl": "machine"}
    # A reviewer approves it side by side.
    app = CohearApp(store, reviewer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.push_screen(CompareScreen(bus, "ur"))
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
    assert comms.get_translation(store, bus, "ur")["status"] == "approved"


async def test_sentences_from_memory_are_marked(store, desk):
    comm, reviewer = desk["users"]["communicator"], desk["users"]["reviewer"]
    comms.approve_translation(store, reviewer, desk["flu"], "ur")
    again = comms.create_message(store, comm, title="Flu again", channel="sms",
                                 source_text="It is free for children. Come soon.")["id"]
    comms.translate_messages(store, comm, [again], ["ur"])
    app = CohearApp(store, comm)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.push_screen(CompareScreen(again, "ur"))
        await pilot.pause()
        screen = app.screen
        reused = [s["reused"] for s in screen.sentences()]
        assert reused == [True, False]
        text = screen_text(app)
        assert "1 of 2 sentences from memory" in text and "reused" in text


async def test_a_language_with_no_pack_goes_to_a_human_translator(store, desk):
    app = CohearApp(store, desk["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.push_screen(TranslateScreen(desk["bus"]))
        await pilot.pause()
        screen = app.screen
        await pilot.press(*["down"] * screen.languages.index("so"))
        await pilot.press("t")
        await pilot.pause()
        assert any("no machine path" in n.message for n in app._notifications)
        assert store.all("SELECT * FROM jobs") == []
        await pilot.press("h")
        await pilot.pause()
    assert comms.get_translation(store, desk["bus"], "so")["status"] == "human_requested"


async def test_write_a_translator_file_and_read_it_back(store, desk, tmp_path):
    bus = desk["bus"]
    comms.request_human(store, desk["users"]["communicator"], bus, ["pa-Guru"])
    path = tmp_path / "bus-pa.po"
    app = CohearApp(store, desk["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.push_screen(CompareScreen(bus, "pa-Guru"))
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, AskPath)
        field = app.screen.query_one("#path", Input)
        assert field.value.endswith("message-2-pa-Guru.xlf")
        field.value = ""
        await type_text(pilot, str(path))
        await pilot.press("enter")
        await until(pilot, path.exists, "the PO file")
        po = polib.pofile(str(path))
        assert [e.msgid for e in po] == ["The clinic bus runs on Tuesdays."]
        po[0].msgstr = "ਕਲੀਨਿਕ ਬੱਸ ਮੰਗਲਵਾਰ ਨੂੰ ਚਲਦੀ ਹੈ।"
        po.save(str(path))
        await pilot.press("ctrl+l")
        await pilot.pause()
        app.screen.query_one("#path", Input).value = ""
        await type_text(pilot, str(path))
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.translation is not None and
                    app.screen.translation["status"] == "received", "the import")
        # A wrong path is refused in the dialog, which stays open.
        await pilot.press("ctrl+l")
        await pilot.pause()
        app.screen.query_one("#path", Input).value = ""
        await type_text(pilot, str(tmp_path / "nothing.po"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AskPath) and "there is no file" in screen_text(app)
    assert comms.get_translation(store, bus, "pa-Guru")["text"] == "ਕਲੀਨਿਕ ਬੱਸ ਮੰਗਲਵਾਰ ਨੂੰ ਚਲਦੀ ਹੈ।"


# -- the glossary ---------------------------------------------------------------------------

async def test_add_edit_and_remove_glossary_terms(store, desk):
    app = CohearApp(store, desk["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f9")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GlossaryScreen) and "paracetamol" in screen_text(app)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, GlossaryEntry)
        await type_text(pilot, "Pharmacy First")
        await pilot.press("tab")
        await pick(pilot, app.focused, "ur")
        await pilot.press("tab")
        await type_text(pilot, "فارمیسی فرسٹ")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, GlossaryScreen), "the list")
        assert ("Pharmacy First", "ur", "فارمیسی فرسٹ") in {
            (g["term"], g["language"], g["translation"]) for g in comms.list_glossary(store)}
        # Enter edits the highlighted (new) entry: now kept in every language.
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("tab")
        await pick(pilot, app.focused, "every")
        await pilot.press("tab")
        app.screen.query_one("#translation", Input).value = ""
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, GlossaryScreen), "the list")
        mine = [g for g in comms.list_glossary(store) if g["term"] == "Pharmacy First"]
        assert [(g["language"], g["translation"]) for g in mine] == [(None, None)]
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await pilot.pause()
    assert not [g for g in comms.list_glossary(store) if g["term"] == "Pharmacy First"]
    assert len(log(store, "glossary.remove")) == 2


# -- the coverage map ----------------------------------------------------------------------

async def test_the_coverage_map_opens_the_cell_under_the_cursor(store, desk):
    app = CohearApp(store, desk["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f8")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CoverageScreen)
        assert [r["id"] for r in screen.rows] == [desk["bus"], desk["flu"]]
        await until(pilot, lambda: screen.totals is not None, "the counts")
        assert screen.totals["ur"]["machine"] == 1 and screen.totals["ur"]["none"] == 1
        assert screen.totals["so"]["no_path"] == 2
        text = screen_text(app)
        assert "MT" in text and "--" in text and "ur Urdu: 1 machine" in text
        # Down to the flu message, Enter on its Urdu cell: side by side.
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        assert (app.screen.message_id, app.screen.language) == (desk["flu"], "ur")
        await pilot.press("escape", "up", "enter")
        await pilot.pause()
        # The bus has no Urdu yet: its languages, the cursor on Urdu.
        assert isinstance(app.screen, TranslateScreen)
        assert app.screen.cursor_language() == "ur"


# -- surveys ----------------------------------------------------------------------------

async def test_build_a_survey_from_the_keyboard(store, desk, tmp_path):
    comm = desk["users"]["communicator"]
    app = CohearApp(store, comm)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, NewSurvey)
        await type_text(pilot, "Clinic access")
        await pilot.press("tab")
        await type_text(pilot, "Hear how people reach the clinic")
        await tab_to(pilot, "targets")
        assert "[ ] ur  Urdu" in screen_text(app)
        await pilot.press("space")                       # the first: Urdu
        await pilot.pause()
        # Chosen rows say so in characters, not by colour alone.
        text = screen_text(app)
        assert "[x] ur  Urdu" in text and "[ ] pa-Guru" in text and "[x] pa" not in text
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SurveyBuilderScreen), "the builder")
        builder = app.screen
        survey_id = builder.survey_id
        # A consent question, then a single choice with two choices.
        for kind, name, words, extra in (
                ("consent", "consent", "Do you agree to take part?", None),
                ("single_choice", "travel", "How did you come?", "bus | By bus\nOn foot")):
            await pilot.press("a")
            await pilot.pause()
            assert isinstance(app.screen, QuestionForm)
            await pick(pilot, app.focused, kind)
            await pilot.press("tab")
            await type_text(pilot, name)
            await pilot.press("tab")
            await type_text(pilot, words)
            if extra:
                await tab_to(pilot, "choices")
                for i, line in enumerate(extra.split("\n")):
                    if i:
                        await pilot.press("enter")
                    await type_text(pilot, line)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, SurveyBuilderScreen), "back")
        survey = surveys.get_survey(store, survey_id)
        assert [q["name"] for q in survey["questions"]] == ["consent", "travel"]
        travel = survey["questions"][1]
        assert travel["options"]["choices"] == [{"value": "bus", "label": "By bus"},
                                                {"value": "on_foot", "label": "On foot"}]
        # Edit it (Enter), and move it up (Shift+Up).
        await pilot.press("down", "enter")
        await pilot.pause()
        await tab_to(pilot, "text")
        await pilot.press("end")
        await type_text(pilot, " Today?")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SurveyBuilderScreen), "back")
        assert surveys.get_question(store, travel["id"])["text"] == "How did you come? Today?"
        await pilot.press("shift+up")
        await pilot.pause()
        assert [q["name"] for q in surveys.get_survey(store, survey_id)["questions"]] == [
            "travel", "consent"]
        # Its words per language: the same translate and compare screens as a message.
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TranslateScreen)
        assert app.screen.message_id == travel["message_id"]
        await pilot.press("escape")
        await pilot.pause()
        # Attach a recorded prompt in English from a file.
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, AttachPrompt)
        await type_text(pilot, str(DEMO / "flu-vaccine-en.wav"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SurveyBuilderScreen), "back")
        assert surveys.get_prompt(store, travel["id"], "en")["media_type"] == "audio/wav"
        # Open Urdu: nothing is approved there, so it says what accepting English means.
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OpenLanguage)
        await pick(pilot, app.focused, "ur")
        assert "no approved ur text" in screen_text(app) and "translate them aloud" in \
            screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, OpenLanguage)          # refused without the tick
        await tab_to(pilot, "accept-english")
        await pilot.press("space", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SurveyBuilderScreen), "back")
        assert "ur (English accepted)" in screen_text(app)
    opened = surveys.get_survey(store, survey_id)["open_languages"]
    assert [(o["language"], o["accepted_in_english"]) for o in opened] == [("ur", 1)]
    assert log(store, "question.move") and log(store, "question.edit")


async def test_import_an_xlsform_from_a_file_and_read_its_report(store, desk, tmp_path):
    from tests.test_surveys_xlsform import build_form
    form = tmp_path / "gp-access.xlsx"
    form.write_bytes(build_form())
    app = CohearApp(store, desk["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await type_text(pilot, str(form))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ShowText), "the report")
        text = screen_text(app)
        assert "GP access in Sparkbrook" in text and "Not imported" in text
        assert "calculate" in text.lower()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("end", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SurveyBuilderScreen)
        assert "How old are you?" in screen_text(app)


# -- field links -----------------------------------------------------------------------------

async def test_make_list_and_withdraw_field_links(store, desk):
    from webcollect import links
    app = CohearApp(store, desk["users"]["admin"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+f")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, MakeLink)
        await pick(pilot, app.focused, "test-collector")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ShowText), "the link")
        text = screen_text(app)
        assert "http://127.0.0.1:8000/collect/#link=cl_" in text and "Shown only now" in text
        assert "only works on this computer" in text and "public_url" in text
        code = text.split("#link=")[1].split()[0]
        await pilot.press("enter")
        await pilot.pause()
        assert "waiting" in screen_text(app)
        assert links.exchange(store, code)["collector"] == "test-collector"
        await pilot.press("r")
        await pilot.pause()
        assert "used" in screen_text(app)
        await pilot.press("w")
        await pilot.pause()
        assert "The phone signed in with it" in screen_text(app)
        await pilot.press("y")
        await pilot.pause()
        assert "withdrawn" in screen_text(app)
    assert [link["state"] for link in links.list_links(store, desk["users"]["admin"])] == [
        "withdrawn"]


# -- leaving -----------------------------------------------------------------------------------

async def test_home_asks_before_unsaved_words_are_lost(store, desk):
    app = CohearApp(store, desk["users"]["communicator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        await type_text(pilot, "Draft")
        await pilot.press("f12")
        await pilot.pause()
        assert "Unsaved edits" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press("f12")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, MessagesScreen)


async def test_footers_show_every_key_whole_on_every_new_screen(store, desk):
    from rich.cells import cell_len
    from textual.widgets._footer import FooterKey
    app = CohearApp(store, desk["users"]["admin"])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for make in (MessagesScreen, CoverageScreen, GlossaryScreen, SurveysScreen,
                     FieldLinksScreen, lambda: ComposeScreen(desk["flu"]),
                     lambda: TranslateScreen(desk["flu"]),
                     lambda: CompareScreen(desk["flu"], "ur")):
            await app.push_screen(make())
            await until(pilot, lambda: all(f.children for f in app.screen.query(KeyFooter)),
                        "the footer")
            await pilot.pause()
            text = screen_text(app)
            for key in app.screen.query(FooterKey):
                assert cell_len(key.key_display) + cell_len(key.description) + 3 <= \
                    key.region.width, key.description
                assert f"{key.key_display} {key.description}" in text, key.description
            await app.pop_screen()
            await pilot.pause()


WARM_UP = """
import asyncio, sys
from cohear.auth import get_user
from cohear.settings import load_settings
from cohear.store import Store
from textstat.backend.utils._get_cmudict import get_cmudict
from tui.app import CohearApp

async def main():
    store = Store(load_settings(env={}, data_dir=sys.argv[1]))
    app = CohearApp(store, get_user(store, sys.argv[2]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        print(get_cmudict.cache_info().currsize)

asyncio.run(main())
"""


@pytest.mark.parametrize("role, loaded", [("communicator", "1"), ("researcher", "0")])
def test_signing_in_to_draft_loads_the_syllable_dictionary_in_the_background(
        settings, store, people, role, loaded):
    """The first check as one typed waited 1-2 s (more on a busy machine) for the CMU
    dictionary, so in the browser the findings did not appear at all while one typed on.
    A fresh process, as each browser tab is: signed in to draft, it is loaded before any
    screen asks; a role that does not draft does not pay for it."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", WARM_UP, str(settings.data_dir),
                           people[role][0].name], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == loaded
