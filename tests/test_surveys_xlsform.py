"""XLSForm import and export: a real multilingual form built with openpyxl, choice lists,
audio and text questions, unsupported features listed in the report, a round trip that
keeps every question, and malformed forms refused without changing anything."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from cohear.errors import BadInput
from surveys import service, xlsform

EN, UR, PL = "label::English (en)", "label::Urdu (ur)", "label::Polish (pl)"


def build_form(*, survey_rows=None, choices_rows=None, settings=True, survey_sheet="survey"):
    wb = Workbook()
    sheet = wb.active
    sheet.title = survey_sheet
    sheet.append(["type", "name", EN, UR, PL, "hint", "relevant", "constraint", "calculation",
                  "parameters", "required"])
    for row in survey_rows if survey_rows is not None else [
        ["acknowledge", "consent", "Do you agree to take part?", "کیا آپ حصہ لینے پر راضی ہیں؟",
         "Czy zgadzasz się wziąć udział?", None, None, None, None, None, "yes"],
        ["begin group", "visit", None, None, None, None, None, None, None, None, None],
        ["audio", "experience", "Tell us about your last GP visit",
         "اپنے پچھلے جی پی کے دورے کے بارے میں بتائیں", "Opowiedz o ostatniej wizycie u lekarza",
         "Speak freely", None, None, None, None, None],
        ["end group", None, None, None, None, None, None, None, None, None, None],
        ["select_one yes_no", "heard_111", "Have you heard of NHS 111?",
         "کیا آپ نے این ایچ ایس 111 کے بارے میں سنا ہے؟", "Czy słyszałeś o NHS 111?",
         None, None, None, None, None, None],
        ["select_multiple channels", "news", "Where do you get health news?",
         "آپ صحت کی خبریں کہاں سے لیتے ہیں؟", "Skąd masz informacje o zdrowiu?",
         None, "${heard_111} = 'yes'", None, None, None, None],
        ["range", "trust", "How much do you trust your GP?",
         "آپ اپنے جی پی پر کتنا بھروسہ کرتے ہیں؟", "Jak bardzo ufasz lekarzowi?",
         None, None, None, None, "start=1 end=5 step=1", None],
        ["text", "other", "Anything else?", "کچھ اور؟", "Coś jeszcze?", None, None,
         "string-length(.) < 500", None, None, None],
        ["integer", "age", "How old are you?", "آپ کی عمر کیا ہے؟", "Ile masz lat?", None, None,
         ". > 15", None, None, None],
        ["calculate", "score", None, None, None, None, None, None, "${trust} * 2", None, None],
    ]:
        sheet.append(row)
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", EN, UR, PL])
    for row in choices_rows if choices_rows is not None else [
        ["yes_no", "yes", "Yes", "جی ہاں", "Tak"], ["yes_no", "no", "No", "نہیں", "Nie"],
        ["channels", "radio", "Radio", "ریڈیو", "Radio"],
        ["channels", "whatsapp", "WhatsApp", "واٹس ایپ", "WhatsApp"],
        ["channels", "mosque", "Mosque or temple", "مسجد یا مندر", "Meczet lub świątynia"],
    ]:
        choices.append(row)
    if settings:
        s = wb.create_sheet("settings")
        s.append(["form_title", "form_id", "version", "default_language"])
        s.append(["GP access in Sparkbrook", "gp_access_2026", "3", "English (en)"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def communicator(people):
    return people["communicator"][0]


def test_a_multilingual_xlsform_is_imported_with_its_languages_and_choice_lists(store,
                                                                               communicator):
    out = xlsform.import_xlsform(store, communicator, build_form())
    survey = out["survey"]
    assert survey["title"] == "GP access in Sparkbrook"
    assert survey["base_language"] == "en" and survey["target_languages"] == ["ur", "pl"]
    q = {x["name"]: x for x in survey["questions"]}
    assert list(q) == ["consent", "experience", "heard_111", "news", "trust", "other"]
    assert q["consent"]["kind"] == "consent"
    assert q["experience"]["kind"] == "open" and q["experience"]["options"]["answer"] == "voice"
    assert q["other"]["options"]["answer"] == "text"
    assert q["trust"]["kind"] == "scale" and q["trust"]["options"]["max"] == 5
    assert q["heard_111"]["kind"] == "single_choice"
    assert q["news"]["kind"] == "multiple_choice"
    assert q["news"]["options"]["choices"][2] == {
        "value": "mosque", "label": "Mosque or temple",
        "labels": {"ur": "مسجد یا مندر", "pl": "Meczet lub świątynia"}}
    assert q["experience"]["texts"]["ur"] == {"text": "اپنے پچھلے جی پی کے دورے کے بارے میں بتائیں",
                                             "status": "needs_review"}
    assert q["experience"]["text"] == "Tell us about your last GP visit"


def test_unsupported_features_are_listed_in_the_import_report(store, communicator):
    report = xlsform.import_xlsform(store, communicator, build_form())["report"]
    text = "\n".join(report["unsupported"])
    assert "group 'visit' is not supported" in text
    assert "relevant" in text and "${heard_111}" in text
    assert "constraint" in text and "string-length" in text
    assert "'age' of type 'integer' is not supported" in text
    assert "'score' of type 'calculate'" in text
    assert "hint 'Speak freely'" in text
    assert "required 'yes'" in text
    assert report["imported"] == ["consent", "experience", "heard_111", "news", "trust", "other"]


def test_imported_translations_need_review_before_approval(store, communicator):
    survey = xlsform.import_xlsform(store, communicator, build_form())["survey"]
    assert set(service.missing_approvals(store, survey["id"], "ur")) == \
        {q["name"] for q in survey["questions"]}


def test_an_xlsform_round_trip_keeps_every_question(store, communicator):
    first = xlsform.import_xlsform(store, communicator, build_form())["survey"]
    service.add_question(store, communicator, first["id"], kind="demographic", name="ethnicity",
                         text="Your ethnic group", options={"field": "ethnicity"})
    first = service.get_survey(store, first["id"])
    data = xlsform.export_xlsform(store, first["id"])
    again = xlsform.import_xlsform(store, communicator, data)
    assert again["report"]["unsupported"] == []
    second = again["survey"]

    def shape(s):
        return [(q["name"], q["kind"], q["text"], q["options"],
                 {k: v["text"] for k, v in q["texts"].items()}) for q in s["questions"]]

    assert shape(second) == shape(first)
    assert (second["title"], second["base_language"], second["target_languages"]) == \
        (first["title"], first["base_language"], first["target_languages"])


@pytest.mark.parametrize("data,words", [
    (b"PK\x03\x04 not really a spreadsheet", "not an XLSForm"),
    (build_form(survey_sheet="questions"), "no 'survey' sheet"),
    (build_form(survey_rows=[["select_one colours", "fav", "Favourite?", "", "", None, None,
                              None, None, None, None]]), "'colours'"),
    (build_form(survey_rows=[["text", "a", "A?", "", "", None, None, None, None, None, None],
                             ["text", "a", "Again?", "", "", None, None, None, None, None, None]]),
     "used twice"),
    (build_form(survey_rows=[["integer", "age", "Age?", "", "", None, None, None, None, None,
                              None]]), "no question cohear can import"),
    (build_form(survey_rows=[["text", None, "No name", "", "", None, None, None, None, None,
                              None]]), "has no name"),
    (build_form(choices_rows=[["yes_no", None, "Yes", "", ""]]), "choices sheet"),
])
def test_a_malformed_xlsform_is_refused_and_nothing_is_created(store, communicator, data, words):
    with pytest.raises(BadInput) as err:
        xlsform.import_xlsform(store, communicator, data)
    assert words in err.value.detail
    assert store.one("SELECT count(*) FROM surveys")[0] == 0
    assert store.one("SELECT count(*) FROM survey_questions")[0] == 0


def test_language_columns_without_a_code_are_found_by_name_or_reported(store, communicator):
    wb = Workbook()
    sheet = wb.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label::English", "label::Urdu", "label::Klingon"])
    sheet.append(["text", "q1", "How are you?", "آپ کیسے ہیں؟", "nuqneH"])
    buf = io.BytesIO()
    wb.save(buf)
    out = xlsform.import_xlsform(store, communicator, buf.getvalue())
    assert out["survey"]["base_language"] == "en"
    assert out["survey"]["target_languages"] == ["ur"]
    assert any("label::Klingon" in line and "no code" in line
               for line in out["report"]["unsupported"])
