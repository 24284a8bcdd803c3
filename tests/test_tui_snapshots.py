"""The review app's look, pinned by SVG snapshots (pytest-textual-snapshot) of each screen
with Urdu and Bengali answers, at a fixed terminal size, with nothing that changes between
runs on screen. Update them on purpose with `pytest --snapshot-update`."""

from __future__ import annotations

import json

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Select

from surveys import coding
from surveys import service as surveys
from tui.app import CohearApp
from tui.screens.agreement import AgreementScreen
from tui.screens.answer import AnswerScreen
from tui.screens.coding import CodingScreen
from tui.widgets.footer import KeyFooter

SIZE = (150, 44)


async def settle(pilot) -> None:
    """Wait until the footer of every screen shown has drawn its keys: Textual lays a
    footer out one refresh after the screen, later still on a busy machine."""
    for _ in range(200):
        await pilot.pause()
        footers = [f for s in pilot.app.screen_stack for f in s.query(KeyFooter)]
        if all(f.children for f in footers):
            return
        await pilot.pause(0.05)


def snap_app(store, user, screen=None, *, reorder_rtl: bool = False):
    """An app whose `run_before` opens `screen` (a zero-argument factory) at once."""
    app = CohearApp(store, user, reorder_rtl=reorder_rtl)

    async def run_before(pilot) -> None:
        await settle(pilot)
        if screen is not None:
            await app.push_screen(screen())
            await settle(pilot)

    return app, run_before


def test_queue(snap_compare, store, review_workspace):
    app, before = snap_app(store, review_workspace["users"]["reviewer"])
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_answer_in_urdu(snap_compare, store, review_workspace):
    ws = review_workspace
    app, before = snap_app(store, ws["users"]["reviewer"], lambda: AnswerScreen(ws["urdu"]))
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_answer_in_urdu_reordered_for_terminals_without_bidi(snap_compare, store,
                                                             review_workspace):
    ws = review_workspace
    app, before = snap_app(store, ws["users"]["reviewer"], lambda: AnswerScreen(ws["urdu"]),
                           reorder_rtl=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


LONG_URDU = ("میرے شوہر مجھے مارتا ہے اور میں گھر میں محفوظ نہیں ہوں۔ مسجد کے قریب کلینک ہو "
             "تو میں ٹیکہ لگوا سکتی ہوں، لیکن بس بہت دیر سے آتی ہے اور ڈاکٹر سے ملنا مشکل ہے")


@pytest.fixture
def typed_urdu(store, review_workspace) -> int:
    """A long typed Urdu answer (no translation pack here: no English yet)."""
    ws = review_workspace
    collector = ws["users"]["collector"]
    session = surveys.start_session(store, collector, ws["survey"], "ur")
    surveys.record_consent(store, collector, session["id"], method="tick")
    return surveys.submit_answer(store, collector, session["id"], ws["question"],
                                 text=LONG_URDU)["id"]


def test_typed_urdu_answer_in_f2_mode_wrapped_then_reordered(snap_compare, store,
                                                             review_workspace, typed_urdu):
    """The answer's words in reading order, rows broken between words in stored order and
    each row then reordered, flush right; the question too; the editor in stored order."""
    app, before = snap_app(store, review_workspace["users"]["reviewer"],
                           lambda: AnswerScreen(typed_urdu), reorder_rtl=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=before)


def test_queue_in_f2_mode_with_an_urdu_preview(snap_compare, store, review_workspace,
                                               typed_urdu):
    app, before = snap_app(store, review_workspace["users"]["reviewer"], reorder_rtl=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=before)


def test_answer_in_bengali(snap_compare, store, review_workspace):
    ws = review_workspace
    app, before = snap_app(store, ws["users"]["reviewer"], lambda: AnswerScreen(ws["bengali"]))
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_answer_with_a_safeguarding_concern_and_a_redaction(snap_compare, store,
                                                           review_workspace):
    ws = review_workspace
    surveys.raise_safeguarding(store, ws["users"]["reviewer"], ws["phone"], "asked for a call")
    app, before = snap_app(store, ws["users"]["reviewer"], lambda: AnswerScreen(ws["phone"]))
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_coding_an_urdu_answer_after_coding_it(snap_compare, store, review_workspace):
    ws = review_workspace
    reviewer, researcher = ws["users"]["reviewer"], ws["users"]["researcher"]
    text_id = surveys.get_answer(store, reviewer, ws["urdu"])["texts"]["original"]["id"]
    coding.apply_code(store, reviewer, ws["urdu"], ws["codes"]["Bus"], answer_text_id=text_id,
                      start=4, end=6)
    coding.apply_code(store, researcher, ws["urdu"], ws["codes"]["Transport"])
    app, before = snap_app(store, reviewer, lambda: CodingScreen(ws["urdu"]))

    async def choose_a_code(pilot) -> None:
        await before(pilot)
        await pilot.press("down", "down", "down")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=choose_a_code)


@pytest.fixture
def translated(store, people, copy_packs):
    from comms import service as comms
    comm = people["communicator"][0]
    for title, text in (("Clinic bus", "The clinic bus runs on Tuesdays."),
                        ("Flu jab", "Book your flu jab at {practice}.")):
        message = comms.create_message(store, comm, title=title, source_text=text,
                                       channel="sms")
        comms.translate_messages(store, comm, [message["id"]], ["ur", "bn", "pl"])
    comms.approve_translation(store, people["reviewer"][0], 1, "pl")
    comms.request_human(store, comm, 2, ["ur"])
    comms.edit_translation(store, comm, 2, "bn", "আপনার ফ্লু টিকা {practice} এ বুক করুন।")


def test_translations(snap_compare, store, people, translated):
    app, before = snap_app(store, people["communicator"][0])
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_one_translation_in_urdu(snap_compare, store, people, translated):
    from tui.screens.translation import TranslationScreen
    app, before = snap_app(store, people["reviewer"][0], lambda: TranslationScreen(1, "ur"))
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_agreement_and_export(snap_compare, store, review_workspace):
    ws = review_workspace
    reviewer, researcher = ws["users"]["reviewer"], ws["users"]["researcher"]
    for answer in (ws["urdu"], ws["bengali"]):
        coding.apply_code(store, reviewer, answer, ws["codes"]["Bus"])
        coding.apply_code(store, researcher, answer, ws["codes"]["Bus"])
    coding.apply_code(store, researcher, ws["phone"], ws["codes"]["Cost"])
    coding.apply_code(store, reviewer, ws["phone"], ws["codes"]["Transport"])
    app, before = snap_app(store, researcher, AgreementScreen)

    async def compute(pilot) -> None:
        await before(pilot)
        screen = app.screen
        screen.query_one("#survey", Select).value = ws["survey"]
        screen.query_one("#coder-a", Select).value = reviewer.id
        screen.query_one("#coder-b", Select).value = researcher.id
        await pilot.press("ctrl+r")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=compute)


def test_help(snap_compare, store, review_workspace):
    ws = review_workspace
    app, before = snap_app(store, ws["users"]["reviewer"], lambda: AnswerScreen(ws["urdu"]))

    async def help_(pilot) -> None:
        await before(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=help_)


# -- at 120×40, as staff run it in tmux over SSH ----------------------------------------------

TMUX_SIZE = (120, 40)


def test_researchers_queue_at_120x40(snap_compare, store, review_workspace):
    """No collector column or filter; attention shows only an open concern."""
    ws = review_workspace
    surveys.handle_safeguarding(store, ws["users"]["reviewer"], ws["concern"], "rang them back")
    app, before = snap_app(store, ws["users"]["researcher"])
    assert snap_compare(app, terminal_size=TMUX_SIZE, run_before=before)


def test_answer_in_bengali_at_120x40(snap_compare, store, review_workspace):
    """Bengali vowel signs take a cell each, as in tmux: the question line stays in its
    column and the English panel beside it whole."""
    ws = review_workspace
    app, before = snap_app(store, ws["users"]["reviewer"], lambda: AnswerScreen(ws["bengali"]))
    assert snap_compare(app, terminal_size=TMUX_SIZE, run_before=before)


def test_answer_in_urdu_f2_at_120x40(snap_compare, store, review_workspace):
    """In the F2 mode the Urdu question line is flush right, as README says."""
    ws = review_workspace
    app, before = snap_app(store, ws["users"]["reviewer"], lambda: AnswerScreen(ws["urdu"]),
                           reorder_rtl=True)
    assert snap_compare(app, terminal_size=TMUX_SIZE, run_before=before)


def test_translations_in_five_languages_at_120x40(snap_compare, store, people, translated):
    """Every language column, Urdu last, in view at 120 columns."""
    from comms import service as comms
    comms.request_human(store, people["communicator"][0], 1, ["pa-Guru", "pa-Arab"])
    app, before = snap_app(store, people["communicator"][0])
    assert snap_compare(app, terminal_size=TMUX_SIZE, run_before=before)


# -- complex scripts keep the layout ----------------------------------------------------------

@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_bengali_gurmukhi_and_gujarati_keep_every_border_in_its_column(
        store, review_workspace, anyio_backend):
    """Combining vowel signs take no cell of their own: the panel borders on every row must
    sit in the same terminal column whatever script the row holds."""
    ws = review_workspace
    comm, collector = ws["users"]["communicator"], ws["users"]["collector"]
    answers = {"bn": ws["bengali"]}
    for lang, words in (("pa-Guru", "ਮੈਂ ਬੱਸ ਰਾਹੀਂ ਕਲੀਨਿਕ ਆਈ ਸੀ"),
                        ("gu", "હું બસમાં ક્લિનિક આવી હતી")):
        surveys.open_language(store, comm, ws["survey"], lang, accept_english=True)
        session = surveys.start_session(store, collector, ws["survey"], lang)
        surveys.record_consent(store, collector, session["id"], method="tick")
        answers[lang] = surveys.submit_answer(store, collector, session["id"], ws["question"],
                                              text=words)["id"]
    app = CohearApp(store, ws["users"]["reviewer"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#queue", DataTable)
        assert table.row_count == 6
        for lang, answer_id in answers.items():
            await app.push_screen(AnswerScreen(answer_id))
            await pilot.pause()
            rows = [strip for strip in app.screen._compositor.render_strips()]
            assert all(strip.cell_length == SIZE[0] for strip in rows), lang
            border_columns = set()
            for strip in rows[2:-3]:
                text = strip.text
                if "│" in text:
                    border_columns.add(cell_len(text[:text.index("│")]))
            assert len(border_columns) == 1, (lang, border_columns)
            await pilot.press("escape")
            await pilot.pause()


# -- the workspace: messages, compose, side by side, the coverage map, the survey builder ----

URDU_SENTENCES = [
    ("Book your flu jab at the GP.", "جی پی پر اپنا فلو کا ٹیکہ بک کریں۔",
     "Book your flu vaccine at the GP.", 71.4, True),
    ("It is free for children and people over 65.",
     "یہ بچوں اور 65 سال سے زیادہ عمر کے لوگوں کے لیے مفت ہے۔",
     "It is free for children and people older than 65 years.", 68.2, False),
    ("Bring your red book.", "اپنی سرخ کتاب ساتھ لائیں۔", "Bring your red book with you.",
     83.0, False),
]


@pytest.fixture
def workspace_desk(store, people, copy_packs):
    """Messages as a communicator's desk holds them: an SMS machine-translated into Urdu
    (its words and back-translations as the engine writes them for a real pack), Bengali
    and Polish, one reviewed, one stale, one with a human translator asked; a survey."""
    from comms import service as comms
    comm, reviewer = people["communicator"][0], people["reviewer"][0]
    source = " ".join(s for s, *_ in URDU_SENTENCES)
    flu = comms.create_message(store, comm, title="Flu jab for families", channel="sms",
                               audience="parents", tags=["flu", "winter"],
                               source_text=source)["id"]
    comms.translate_messages(store, comm, [flu], ["bn", "pl"])
    comms.approve_translation(store, reviewer, flu, "pl")
    message = comms._message_row(store, flu)
    segs = [{"source": s, "target": t, "back": b, "similarity": c, "sep": " ", "reused": r}
            for s, t, b, c, r in URDU_SENTENCES]
    segs[-1]["sep"] = ""
    with store.transaction() as conn:
        comms._write_translation(conn, comm, None, {
            "message_id": flu, "language": "ur", "status": "machine",
            "source_version": message["current_version"], "origin": "machine",
            "engine": "argos:translate-en_ur-1.9", "text": " ".join(t for _, t, *_ in
                                                                     URDU_SENTENCES),
            "back_translation": " ".join(b for *_, b, _c, _r in URDU_SENTENCES),
            "similarity": 73.1, "segments_json": json.dumps(segs, ensure_ascii=False)},
            reason="machine translation (argos)")
    bus = comms.create_message(store, comm, title="Clinic bus times", channel="letter",
                               audience="older people", source_text="The clinic bus runs "
                               "on Tuesdays and Thursdays. Call 0121 496 0123 to book a seat.")
    comms.translate_messages(store, comm, [bus["id"]], ["ur", "bn"])
    comms.edit_message(store, comm, bus["id"], source_text="The clinic bus runs on Tuesdays. "
                       "Call 0121 496 0123 to book a seat.")
    comms.request_human(store, comm, bus["id"], ["pa-Guru", "so"])
    comms.create_message(store, comm, title="Pharmacy First", channel="poster",
                         source_text="Ask your pharmacist first for a sore throat.")
    return {"flu": flu, "bus": bus["id"]}


def test_messages(snap_compare, store, people, workspace_desk):
    app, before = snap_app(store, people["communicator"][0])
    assert snap_compare(app, terminal_size=(120, 40), run_before=before)


def test_compose_with_findings(snap_compare, store, people, workspace_desk):
    from comms import service as comms
    from tui.screens.compose import ComposeScreen
    message = comms.create_message(
        store, people["communicator"][0], title="Blood pressure checks", channel="sms",
        source_text="Prior to your appointment, hypertension checks will be administered "
                    "by the GP. Call NHS 111 or 0121 496 0123 if you are unwell.")
    app, before = snap_app(store, people["communicator"][0],
                           lambda: ComposeScreen(message["id"]))
    assert snap_compare(app, terminal_size=(120, 40), run_before=before)


@pytest.mark.parametrize("reorder", [False, True], ids=["as-stored", "f2-reordered"])
def test_side_by_side_in_urdu(snap_compare, store, people, workspace_desk, reorder):
    from tui.screens.compare import CompareScreen
    app, before = snap_app(store, people["reviewer"][0],
                           lambda: CompareScreen(workspace_desk["flu"], "ur"),
                           reorder_rtl=reorder)
    assert snap_compare(app, terminal_size=(120, 40), run_before=before)


def test_coverage_map(snap_compare, store, people, workspace_desk):
    from tui.screens.coverage import CoverageScreen
    app = CohearApp(store, people["communicator"][0])

    async def open_map(pilot) -> None:
        await settle(pilot)
        screen = CoverageScreen()
        await app.push_screen(screen)
        for _ in range(400):                        # the counts come from a worker thread
            await pilot.pause(0.05)
            if screen.totals is not None:
                break
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_map)


def test_survey_builder(snap_compare, store, review_workspace):
    from tui.screens.builder import SurveyBuilderScreen
    ws = review_workspace
    comm = ws["users"]["communicator"]
    survey = surveys.create_survey(
        store, comm, title="Winter vaccines", purpose="What stops families getting vaccines",
        base_language="en", target_languages=["ur", "bn", "pl"], questions=[
            {"kind": "consent", "name": "consent", "text": "Do you agree to take part?",
             "texts": {"ur": "کیا آپ حصہ لینے پر راضی ہیں؟"}},
            {"kind": "single_choice", "name": "heard", "text": "Where did you hear about it?",
             "options": {"choices": [{"value": "gp", "label": "My GP"},
                                     {"value": "mosque", "label": "Mosque or temple"}]}},
            {"kind": "scale", "name": "trust", "text": "How much do you trust the vaccine?",
             "options": {"min": 1, "max": 5, "labels": {"1": "Not at all", "5": "Completely"}}},
            {"kind": "integer", "name": "age", "text": "How old are you?",
             "options": {"min": 16, "max": 120}},
        ])
    surveys.approve_question_text(store, ws["users"]["reviewer"],
                                  survey["questions"][0]["id"], "ur")
    surveys.open_language(store, comm, survey["id"], "ur", accept_english=True)
    app, before = snap_app(store, comm, lambda: SurveyBuilderScreen(survey["id"]))
    assert snap_compare(app, terminal_size=(120, 40), run_before=before)
