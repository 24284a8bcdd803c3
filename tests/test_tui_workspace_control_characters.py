"""Control characters in stored words never reach a communicator's terminal either: an old
row or a restored backup can hold ESC sequences that retitle the window, write the
clipboard and wipe the screen, a C1 CSI and a carriage return in a message's title,
audience, tags and words, its translations and their sentences, glossary terms, survey
titles, question words and names, choice and scale labels, help texts and people's names.
Every workspace screen (and each dialog it opens), driven with Pilot, draws them as
U+FFFD and sends none of them; an editor shows them one for one, so saving without
touching them writes nothing."""

from __future__ import annotations

import json

import pytest
from textual.widgets import DataTable, Input, Select, TextArea

from cohear.auth import get_user
from comms import service as comms
from surveys import service as surveys
from tests.test_tui_control_characters import CONTROL, ESCAPES, controls_drawn, drawn
from tui.app import CohearApp
from tui.screens.builder import SurveyBuilderScreen
from tui.screens.compare import CompareScreen
from tui.screens.compose import ComposeScreen
from tui.screens.coverage import CoverageScreen
from tui.screens.dialogs import Choose, Confirm
from tui.screens.glossary import GlossaryEntry, GlossaryScreen
from tui.screens.home import HomeScreen
from tui.screens.links import FieldLinksScreen, MakeLink
from tui.screens.messages import MessagesScreen
from tui.screens.question_form import AttachPrompt, OpenLanguage, QuestionForm
from tui.screens.surveys import SurveysScreen
from tui.screens.translate import TranslateScreen

SIZE = (160, 60)
pytestmark = pytest.mark.anyio

# Plain columns, the escapes written at their end.
PLANTED = [("messages", "title"), ("messages", "audience"), ("message_versions", "source_text"),
           ("translations", "text"), ("translations", "back_translation"),
           ("translations", "engine"), ("glossary", "term"), ("glossary", "translation"),
           ("glossary", "note"), ("surveys", "title"), ("surveys", "purpose"),
           ("survey_questions", "text"), ("survey_questions", "name"), ("users", "name")]


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _plant_json(conn, table: str, column: str, change) -> None:
    for row in conn.execute(f"SELECT id, {column} FROM {table}").fetchall():  # noqa: S608
        value = json.loads(row[1])
        change(value)
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?",  # noqa: S608
                     (json.dumps(value), row[0]))


@pytest.fixture
def planted(store, people, copy_packs):
    """A message (audience, tag) translated into Urdu, a glossary term with its Urdu, a
    survey with a single choice and a scale question, a field link; then the escapes
    written straight into the database, beside every text the workspace shows."""
    users = {role: user for role, (user, _) in people.items()}
    comm, admin = users["communicator"], users["admin"]
    message = comms.create_message(store, comm, title="Clinic bus", channel="sms",
                                   audience="parents", tags=["travel"],
                                   source_text="The clinic bus runs on Tuesdays.")
    comms.translate_messages(store, comm, [message["id"]], ["ur"])
    comms.add_glossary_term(store, comm, "Pharmacy First", language_tag="ur",
                            translation="فارمیسی فرسٹ", note="agreed with the trust")
    survey = surveys.create_survey(store, comm, title="Clinic access", purpose="Reach",
                                   base_language="en", target_languages=["ur"])
    surveys.add_question(store, comm, survey["id"], kind="single_choice", name="travel",
                         text="How did you come?", options={
                             "choices": [{"value": "bus", "label": "By bus"}],
                             "hint": {"en": "the last visit"}})
    surveys.add_question(store, comm, survey["id"], kind="scale", name="ease",
                         text="How easy was it?",
                         options={"min": 1, "max": 5, "labels": {"1": "Hard", "5": "Easy"}})
    from webcollect import links
    links.issue_link(store, admin, "test-collector")

    def segments(value: list) -> None:
        for s in value:
            for key in ("source", "target", "back"):
                if s.get(key):
                    s[key] += ESCAPES

    def options(value: dict) -> None:
        for c in value.get("choices", []):
            c["label"] += ESCAPES
        for key in value.get("labels", {}):
            value["labels"][key] += ESCAPES
        for lang in value.get("hint", {}):
            value["hint"][lang] += ESCAPES

    with store.transaction() as conn:
        for table, column in PLANTED:
            changed = conn.execute(f"UPDATE {table} SET {column} = {column} || ? "  # noqa: S608
                                   f"WHERE {column} IS NOT NULL", (ESCAPES,)).rowcount
            assert changed, f"nothing planted in {table}.{column}"
        _plant_json(conn, "messages", "tags_json", lambda v: v.append("flu" + ESCAPES))
        _plant_json(conn, "translations", "segments_json", segments)
        _plant_json(conn, "survey_questions", "options_json", options)
    # As signed in now: the names as stored.
    users = {role: get_user(store, user.id) for role, user in users.items()}
    return {"users": users, "message": message["id"], "survey": survey["id"]}


async def look(pilot, where: str) -> str:
    await pilot.pause()
    await pilot.pause()
    bad = controls_drawn(pilot.app)
    assert not bad, f"{where}: control characters drawn: {bad[:3]!r}"
    return drawn(pilot.app)


async def open_each_select(pilot, where: str) -> None:
    """Every drop-down of the screen in front, opened and looked at."""
    screen = pilot.app.screen
    for select in screen.query(Select):
        if select.disabled or not select.display:
            continue
        select.focus()
        await pilot.press("enter")
        await look(pilot, f"{where}: the {select.id} list")
        await pilot.press("escape")
        await pilot.pause()


async def back(pilot, to) -> None:
    await pilot.press("escape")
    await pilot.pause()
    assert isinstance(pilot.app.screen, to), pilot.app.screen


async def test_every_workspace_screen_draws_stored_control_characters_harmlessly(
        store, planted):
    app = CohearApp(store, planted["users"]["admin"])
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, HomeScreen)
        text = await look(pilot, "home")
        assert "PWNED-TITLE" in text and "\ufffd" in text      # shown, made harmless

        # Messages, its filters (audiences, tags, owners), and Compose.
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, MessagesScreen)
        text = await look(pilot, "messages")
        assert "\ufffd" in text
        await open_each_select(pilot, "messages")
        app.screen.query_one("#messages", DataTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        text = await look(pilot, "compose")
        assert "PWNED-TITLE" in text
        for field in ("title", "audience", "tags"):
            assert CONTROL.search(compose.query_one(f"#{field}", Input).value) is None
        assert CONTROL.search(compose.query_one("#source", TextArea).text) is None
        assert compose.unsaved_edits() == []                 # nothing typed, nothing to save
        await pilot.press("end")
        await pilot.press("x", "ctrl+s")                     # new words: it asks first
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await look(pilot, "compose's confirm")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("backspace")
        await pilot.press("ctrl+g")                          # on to translate
        await pilot.pause()
        assert isinstance(app.screen, TranslateScreen)
        text = await look(pilot, "translate")
        assert "PWNED-TITLE" in text
        translate = app.screen
        await pilot.press("home", *["down"] * translate.languages.index("ur"), "enter")
        await pilot.pause()
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        text = await look(pilot, "side by side")
        assert "PWNED-TITLE" in text
        assert CONTROL.search(compare.query_one("#compare-text", TextArea).text) is None
        assert compare.unsaved_edits() == []
        await pilot.press("f2")                              # reordered for the terminal
        await look(pilot, "side by side, reordered")
        await pilot.press("f2")
        await pilot.pause()
        await back(pilot, TranslateScreen)
        await back(pilot, ComposeScreen)
        await back(pilot, MessagesScreen)

        # The coverage map and its filters.
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, CoverageScreen)
        await look(pilot, "coverage")
        await open_each_select(pilot, "coverage")

        # The glossary, and its entry dialog.
        await pilot.press("f9")
        await pilot.pause()
        glossary = app.screen
        assert isinstance(glossary, GlossaryScreen)
        text = await look(pilot, "glossary")
        assert "PWNED-TITLE" in text
        table = glossary.query_one("#glossary", DataTable)
        table.focus()
        table.move_cursor(row=next(i for i, e in enumerate(glossary.entries)
                                   if e["term"].startswith("Pharmacy First")))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, GlossaryEntry)
        await look(pilot, "a glossary entry")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await look(pilot, "removing a glossary entry")
        await back(pilot, GlossaryScreen)

        # Surveys, the builder, and each of its dialogs.
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, SurveysScreen)
        text = await look(pilot, "surveys")
        assert "PWNED-TITLE" in text
        await pilot.press("enter")
        await pilot.pause()
        builder = app.screen
        assert isinstance(builder, SurveyBuilderScreen)
        for row in range(len(builder.questions)):
            builder.query_one("#questions", DataTable).move_cursor(row=row)
            text = await look(pilot, f"the builder, question {row + 1}")
            assert "PWNED-TITLE" in text
        builder.query_one("#questions", DataTable).move_cursor(row=0)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, QuestionForm)
        await look(pilot, "a question's form")
        for editor in form.query(TextArea):
            assert CONTROL.search(editor.text) is None, editor.id
        for field in form.query(Input):
            assert CONTROL.search(field.value) is None, field.id
        await back(pilot, SurveyBuilderScreen)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, Choose)
        await look(pilot, "choosing a label")
        await back(pilot, SurveyBuilderScreen)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OpenLanguage)
        await pick_last(pilot)
        await look(pilot, "opening a language")
        await back(pilot, SurveyBuilderScreen)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, AttachPrompt)
        await look(pilot, "attaching a prompt")
        await back(pilot, SurveyBuilderScreen)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TranslateScreen)
        await look(pilot, "a question's words to translate")
        await back(pilot, SurveyBuilderScreen)
        await back(pilot, SurveysScreen)

        # Field links: the list, making one, withdrawing one.
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(app.screen, FieldLinksScreen)
        text = await look(pilot, "field links")
        assert "PWNED-TITLE" in text
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, MakeLink)
        await look(pilot, "making a link")
        await open_each_select(pilot, "making a link")
        await back(pilot, FieldLinksScreen)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await look(pilot, "withdrawing a link")
        await back(pilot, FieldLinksScreen)


async def pick_last(pilot) -> None:
    """The last language of the open-a-language dialog (Urdu), where nothing is approved:
    the dialog names the questions without approved words."""
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press("end", "enter")
    await pilot.pause()
