"""XLSForm import and export: multilingual forms built with openpyxl after the features of
real forms (ODK's own test forms, KoboToolbox and CHT health forms), read by pyxform; an
independent checker that walks every cell and finds each imported or reported; languages
outside the region; number, date and time questions; bounds and hostile files; and an
export that pyxform converts and that re-imports with nothing lost."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

import pytest
from openpyxl import Workbook

from cohear.errors import BadInput, TooLarge
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
    assert list(q) == ["consent", "experience", "heard_111", "news", "trust", "other", "age"]
    assert q["age"]["kind"] == "integer" and q["age"]["options"] == {"min": 16}  # ". > 15"
    assert q["experience"]["options"]["hint"] == {"en": "Speak freely"}
    assert q["consent"]["options"]["required"] is True
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
    assert "'score' of type 'calculate'" in text
    assert "integer" not in text and "Speak freely" not in text and "required" not in text
    assert report["imported"] == ["consent", "experience", "heard_111", "news", "trust", "other",
                                  "age"]


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
                              None, None, None, None]]), "not in choices sheet: colours"),
    (build_form(survey_rows=[["text", "a", "A?", "", "", None, None, None, None, None, None],
                             ["text", "a", "Again?", "", "", None, None, None, None, None, None]]),
     "[row : 3] On the 'survey' sheet, the 'name' value 'a' is invalid"),
    (build_form(survey_rows=[["calculate", "x", None, None, None, None, None, None, "1 + 1",
                              None, None]]), "no question cohear can import"),
    (build_form(survey_rows=[["text", None, "No name", "", "", None, None, None, None, None,
                              None]]), "[row : 2] Question or group with no name"),
    (build_form(survey_rows=[["select_one colours", "fav", "Favourite?", "", "", None, None,
                              None, None, None, None]],
                choices_rows=[["colours", "red", "Red", "", ""], ["colours", "red", "Rouge", "",
                                                                  ""]]), "row : 3"),
], ids=["not a zip", "no survey sheet", "missing list", "name twice", "nothing importable",
        "no name", "duplicate choice"])
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
    sheet.append(["type", "name", "label::English", "label::Urdu", "label::Mylang"])
    sheet.append(["text", "q1", "How are you?", "آپ کیسے ہیں؟", "nuqneH"])
    buf = io.BytesIO()
    wb.save(buf)
    out = xlsform.import_xlsform(store, communicator, buf.getvalue())
    assert out["survey"]["base_language"] == "en"
    assert out["survey"]["target_languages"] == ["ur"]
    assert any("label::Mylang" in line and "no code" in line
               for line in out["report"]["unsupported"])


# -- forms built after the features of real ones ----------------------------------------------

def workbook(sheets: dict[str, list[list]]) -> bytes:
    """An .xlsx with these sheets and rows (None leaves a cell empty)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def cht_like_form() -> bytes:
    """After Medic's CHT health forms: short language codes (label::sw, label::ne), hints and
    constraint messages in every language, notes with and without names, calculate and
    hidden rows, groups, a repeat, required, relevant, default, media::image, instance::tag
    and a column of the tool's own (cht::notes); settings with style and instance_name."""
    head = ["type", "name", "label::en", "label::sw", "label::ne", "hint::en", "hint::sw",
            "constraint_message::en", "constraint_message::sw", "required", "relevant",
            "constraint", "calculation", "default", "appearance", "media::image",
            "instance::tag", "cht::notes"]
    rows = [
        ["acknowledge", "consent", "Do you agree to answer?", "Je, unakubali kujibu?",
         "के तपाईं जवाफ दिन सहमत हुनुहुन्छ?", None, None, None, None, "yes"],
        ["note", None, "Thank you for your time.", "Asante kwa muda wako.",
         "तपाईंको समयको लागि धन्यवाद।"],
        ["begin group", "mother", "About you", "Kuhusu wewe", "तपाईंको बारेमा", None, None,
         None, None, None, None, None, None, None, "field-list"],
        ["integer", "age", "How old are you?", "Una umri gani?", "तपाईंको उमेर कति हो?",
         "In whole years", "Kwa miaka kamili", "Between 10 and 60", "Kati ya 10 na 60", "yes",
         None, ". >= 10 and . <= 60"],
        ["date", "lmp", "Date of your last period", "Tarehe ya hedhi ya mwisho",
         "अन्तिम महिनावारीको मिति", None, None, "Not in the future", "Si siku zijazo", None,
         None, ". <= today()"],
        ["decimal", "weight", "Your weight in kg", "Uzito wako kwa kilo", "तौल (केजी)",
         None, None, None, None, None, None, ". > 20"],
        ["end group"],
        ["calculate", "weeks", None, None, None, None, None, None, None, None, None, None,
         "int((today() - ${lmp}) div 7)"],
        ["hidden", "source", None, None, None, None, None, None, None, None, None, None,
         None, "user"],
        ["select_one yes_no", "danger", "Any danger signs?", "Dalili za hatari?",
         "खतराका संकेतहरू?", None, None, None, None, "yes", None, None, None, None, None,
         "danger.png", "danger_tag", "ask gently"],
        ["begin repeat", "visits", "Visits", "Ziara", "भेटहरू"],
        ["time", "visit_time", "What time was the visit?", "Ziara ilikuwa saa ngapi?",
         "भेट कति बजे थियो?", None, None, None, None, None, "${danger} = 'yes'",
         ". >= '08:00' and . <= '18:00'"],
        ["end repeat"],
        ["select_multiple signs", "signs", "Which signs?", "Dalili zipi?", "कुन संकेतहरू?"],
        ["note", "bye", "Goodbye", "Kwaheri", "बिदा"],
    ]
    choices = [["list_name", "name", "label::en", "label::sw", "label::ne", "media::image"],
               ["yes_no", "yes", "Yes", "Ndiyo", "हो"], ["yes_no", "no", "No", "Hapana", "होइन"],
               ["signs", "bleeding", "Bleeding", "Kutokwa damu", "रक्तस्राव", "blood.png"],
               ["signs", "fever", "Fever", "Homa", "ज्वरो"],
               ["unused", "x", "Not asked", "Haiulizwi", "सोधिएको छैन"]]
    settings = [["form_title", "form_id", "version", "default_language", "style",
                 "instance_name"],
                ["Pregnancy visit", "pregnancy_visit", "2026-03-01", "en", "pages",
                 "concat('visit-', ${age})"]]
    return workbook({"survey": [head] + rows, "choices": choices, "settings": settings})


def ucl_like_form() -> bytes:
    """After the UCL biomass plot form (pyxform's tests): Swahili first and English second,
    `label::Name (code)`, select_one_from_file, geopoint, image, start and deviceid, a range
    wider than a scale, a range with step 5, and parameters cohear does not use."""
    head = ["type", "name", "label::Swahili (sw)", "label::English (en)", "hint::Swahili (sw)",
            "hint::English (en)", "required", "parameters", "constraint"]
    rows = [
        ["start", "start"], ["deviceid", "deviceid"],
        ["text", "village", "Kijiji", "Village", "Andika jina", "Write the name", "yes"],
        ["select_one_from_file villages.csv", "village_list", "Chagua kijiji",
         "Choose the village"],
        ["geopoint", "where", "Mahali", "Location"],
        ["image", "photo", "Picha", "Photo"],
        ["range", "trees", "Miti mingapi?", "How many trees?", None, None, None,
         "start=0 end=50 step=1"],
        ["range", "cover", "Kifuniko", "Canopy cover", None, None, None,
         "start=0 end=100 step=5"],
        ["select_one yn", "seen", "Umeona?", "Have you seen it?", None, None, None,
         "randomize=true"],
        ["integer", "count", "Idadi", "Count", None, None, None, None,
         ". != 13"],
    ]
    choices = [["list_name", "name ", "label::Swahili (sw)", "label::English (en)"],
               ["yn", "yes", "Ndiyo", "Yes"]]  # one choice, and a header with a space
    settings = [["default_language", "version"], ["Swahili (sw)", "2"]]
    return workbook({"survey": [head] + rows, "choices": choices, "settings": settings})


def spec_like_form() -> bytes:
    """After pyxform's xlsform_spec_test: `label::english` and `label::chinese` named
    without codes, plain `label` on the choices sheet beside `label::chinese`, requiredMsg,
    image, audio, image::english, media::audio::chinese, rows, autoplay, read_only, a
    disabled row, an extra sheet, and cells ODK does not read."""
    head = ["type", "name", "label::english", "label::chinese", "hint", "hint::chinese",
            "required_message", "image", "audio", "image::english", "media::audio::chinese",
            "rows", "autoplay", "read_only", "disabled", "required"]
    rows = [
        ["text", "name", "Your name?", "你叫什么名字？", "Given name", "名字", "Please answer",
         "face.png", "name.mp3", "face_en.png", "name_zh.mp3", "2", "audio", None, None,
         "yes"],
        ["select_one colours", "colour", "Favourite colour?", "最喜欢的颜色？"],
        ["text", "hidden_q", "Never asked", "从未问过", None, None, None, None, None, None,
         None, None, None, None, "yes"],
        ["integer", "fixed", "Fixed", "固定", None, None, None, None, None, None, None, None,
         None, "yes"],
    ]
    choices = [["list_name", "name", "label", "label::chinese", "image"],
               ["colours", "red", "Red", "红色", "red.png"], ["colours", "blue", "Blue", "蓝色"]]
    settings = [["form_title", "form_id", "default_language", "public_key"],
                ["Spec form", "spec", "english", "MIIB"]]
    sheets = {"survey": [head] + rows, "choices": choices, "settings": settings,
              "instructions": [["Read me first"], ["Ask every question"]]}
    data = workbook(sheets)
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(data))
    wb["survey"]["Q3"] = "a note with no header"          # under no header: ODK ignores it
    wb["survey"]["C200"] = "far below the form"            # after 60 empty rows: ODK stops
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def every_cell(data: bytes) -> Iterator[tuple[str, int, str, str]]:
    """(sheet, row, column header, text) of every non-empty cell, read with openpyxl alone."""
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(data), read_only=True)
    for ws in wb:
        header: list = []
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if number == 1:
                header = [str(h).strip() if h is not None else "" for h in row]
            for i, value in enumerate(row):
                if value is not None and str(value).strip():
                    yield (ws.title, number, header[i] if i < len(header) else "",
                           str(value).strip())


def strings_of(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(strings_of(v) for v in value.values()), set()) | \
            {str(k) for k in value}
    if isinstance(value, list):
        return set().union(*(strings_of(v) for v in value), set())
    return {str(value)}


def unaccounted(data: bytes, out: dict) -> list[tuple]:
    """Cells neither found in what cohear stored for their row nor named in the report.
    Independent of the importer: it reads the file itself and looks for each cell's words
    in the stored survey (question by its row, choice by its value, settings in the
    survey) or for the cell, row, column or sheet among the report's items."""
    survey, report = out["survey"], out["report"]
    by_row = {report["rows"][q["name"]]: q for q in survey["questions"]}
    choice_words: dict[str, set[str]] = {}
    for q in survey["questions"]:
        for c in q["options"].get("choices", []):
            choice_words.setdefault(c["value"], set()).update(strings_of(c))
    settings_words = strings_of({k: survey[k] for k in ("title", "purpose", "base_language")})
    missing = []
    for sheet, number, header, text in every_cell(data):
        named = any(i["sheet"].lower() == sheet.lower() and i["row"] in (None, number) and (
            i["column"] is None or i["column"] == header or
            (not header and i["column"].startswith("#nohead"))) for i in report["items"])
        if named or number == 1:
            continue  # a header row names columns; their cells are checked one by one
        kind = sheet.lower()
        if kind == "survey" and number in by_row:
            q = by_row[number]
            words = strings_of(q) | strings_of(q["texts"])
            if text in words or header == "type" or (
                    header == "constraint" and ("min" in q["options"] or "max" in q["options"])
                    ) or (header == "parameters" and all(
                        n in words for n in re.findall(r"[0-9][0-9:.-]*|today", text))) or (
                    header == "required" and q["options"].get("required") is True) or (
                    header == "required" and text.lower() in ("no", "false")):
                continue
        elif kind == "survey" and header == "type" and text.split()[0] == "end":
            continue  # the end of a group or repeat, reported at its beginning
        elif kind == "choices":
            value = None
            for s2, n2, h2, t2 in every_cell(data):
                if s2 == sheet and n2 == number and h2.strip() == "name":
                    value = t2
            if value in choice_words and text in choice_words[value] | {value} or (
                    header == "list_name" and value in choice_words):
                continue
        elif kind == "settings" and (text in settings_words or text in survey["purpose"]
                                     or header == "default_language"):
            continue
        missing.append((sheet, number, header, text))
    return missing


@pytest.mark.parametrize("build", [build_form, cht_like_form, ucl_like_form, spec_like_form],
                         ids=["gp-access", "cht-like", "ucl-like", "spec-like"])
def test_every_cell_of_a_real_form_is_imported_or_named_in_the_report(store, communicator,
                                                                      build):
    data = build()
    out = xlsform.import_xlsform(store, communicator, data)
    assert unaccounted(data, out) == []
    for item in out["report"]["items"]:
        assert item["message"] and item["fix"]


def test_the_checker_itself_catches_a_cell_that_was_dropped(store, communicator):
    data = cht_like_form()
    out = xlsform.import_xlsform(store, communicator, data)
    dropped = [i for i in out["report"]["items"] if i["column"] == "relevant"]
    out["report"]["items"] = [i for i in out["report"]["items"] if i not in dropped]
    assert unaccounted(data, out) == [("survey", 13, "relevant", "${danger} = 'yes'")]


def test_a_health_form_in_languages_outside_the_region_opens(store, communicator):
    out = xlsform.import_xlsform(store, communicator, cht_like_form())
    survey = out["survey"]
    assert (survey["base_language"], survey["target_languages"]) == ("en", ["sw", "ne"])
    langs = {lang["tag"]: lang for lang in out["report"]["languages"]}
    assert langs["sw"]["translation"] == "human translation only"
    assert langs["sw"]["speech_recognition"] and not langs["sw"]["in_region"]
    q = {x["name"]: x for x in survey["questions"]}
    assert list(q) == ["consent", "age", "lmp", "weight", "danger", "visit_time", "signs"]
    assert q["age"]["texts"]["sw"]["text"] == "Una umri gani?"
    assert q["age"]["options"] == {
        "min": 10, "max": 60, "required": True,
        "hint": {"en": "In whole years", "sw": "Kwa miaka kamili"},
        "constraint_message": {"en": "Between 10 and 60", "sw": "Kati ya 10 na 60"}}
    assert q["lmp"]["options"]["max"] == "today"
    assert (q["visit_time"]["options"]["min"], q["visit_time"]["options"]["max"]) == \
        ("08:00", "18:00")
    assert "min" not in q["weight"]["options"]            # ". > 20" on a decimal: reported
    assert q["danger"]["options"]["choices"][0]["labels"] == {"sw": "Ndiyo", "ne": "हो"}
    text = "\n".join(out["report"]["unsupported"])
    assert "note 'generated_note_name_3'" in text     # named as pyxform names it
    assert "constraint '. > 20' of 'weight' is not supported" in text
    assert "repeat 'visits' is not supported" in text and "asked once" in text
    assert "relevant \"${danger} = 'yes'\" of 'visit_time' is not supported" in text
    assert "media file 'danger.png' of 'danger'" in text
    assert "choice's media file 'blood.png'" in text
    assert "column 'cht::notes' ('ask gently') is not imported" in text
    assert "list 'unused' is used by no question" in text
    assert "the setting style = 'pages' is not used" in text
    assert "(version 2026-03-01)" in survey["purpose"]
    # The survey opens in Swahili like any language; the field page gets its name.
    from webcollect import service as collect
    service.open_language(store, communicator, survey["id"], "sw", accept_english=True)
    page = collect.survey_in(store, ROLE_USERS(store)["admin"], survey["id"], "sw")
    assert page["language"] == {"tag": "sw", "name": "Swahili", "native_name": "Kiswahili",
                                "direction": "ltr"}


def ROLE_USERS(store):
    from cohear.auth import create_user
    return {"admin": create_user(store, "page-admin", "admin")[0]}


def test_swahili_first_forms_and_odk_types_cohear_cannot_ask(store, communicator):
    out = xlsform.import_xlsform(store, communicator, ucl_like_form())
    survey = out["survey"]
    assert (survey["base_language"], survey["target_languages"]) == ("sw", ["en"])
    q = {x["name"]: x for x in survey["questions"]}
    assert list(q) == ["village", "trees", "seen", "count"]
    assert q["village"]["text"] == "Kijiji" and q["village"]["options"]["hint"] == {
        "sw": "Andika jina", "en": "Write the name"}
    assert (q["trees"]["kind"], q["trees"]["options"]) == ("integer", {"min": 0, "max": 50})
    assert q["seen"]["options"]["choices"] == [{"value": "yes", "label": "Ndiyo",
                                                "labels": {"en": "Yes"}}]  # one choice
    text = "\n".join(out["report"]["unsupported"])
    for words in ("'start' of type 'start'", "'where' of type 'geopoint'",
                  "'photo' of type 'image'", "'village_list' of type 'select_one_from_file",
                  "copy the file's choices", "range 'cover' (start=0 end=100 step=5)",
                  "parameters randomize=true of 'seen'", "constraint '. != 13' of 'count'"):
        assert words in text, words


def test_named_languages_and_plain_labels_agree_across_sheets(store, communicator):
    out = xlsform.import_xlsform(store, communicator, spec_like_form())
    survey = out["survey"]
    assert (survey["base_language"], survey["target_languages"]) == ("en", ["zh-Hans"])
    colour = next(q for q in survey["questions"] if q["name"] == "colour")
    assert colour["texts"]["zh-Hans"]["text"] == "最喜欢的颜色？"
    assert colour["options"]["choices"][0] == {"value": "red", "label": "Red",
                                               "labels": {"zh-Hans": "红色"}}
    name = next(q for q in survey["questions"] if q["name"] == "name")
    assert name["options"]["hint"] == {"en": "Given name", "zh-Hans": "名字"}
    assert name["options"]["required_message"] == {"en": "Please answer"}
    text = "\n".join(out["report"]["unsupported"])
    for words in ("media file 'face.png'", "media file 'name.mp3'", "media file 'face_en.png'",
                  "media file 'name_zh.mp3'", "rows '2' of 'name'", "autoplay 'audio'",
                  "readonly 'yes' of 'fixed'", "the row is disabled", "sheet 'instructions'",
                  "column without a header", "after more than 60 empty rows",
                  "the setting public_key"):
        assert words in text, words
    assert [q["name"] for q in survey["questions"]] == ["name", "colour", "fixed"]


def test_one_colon_label_columns_are_read_as_pyxform_reads_them(store, communicator):
    data = workbook({"survey": [["type", "name", "label:English (en)", "label:Urdu (ur)"],
                                ["text", "q1", "How are you?", "آپ کیسے ہیں؟"]]})
    survey = xlsform.import_xlsform(store, communicator, data)["survey"]
    assert survey["target_languages"] == ["ur"]
    assert survey["questions"][0]["texts"]["ur"]["text"] == "آپ کیسے ہیں؟"
    # Beside '::' columns pyxform does not read one colon: cohear says so, with the fix.
    data = workbook({"survey": [["type", "name", "label::English (en)", "label:Urdu (ur)"],
                                ["text", "q1", "How are you?", "آپ کیسے ہیں؟"]]})
    out = xlsform.import_xlsform(store, communicator, data)
    assert out["survey"]["target_languages"] == []
    assert any("'label:Urdu (ur)' is not read by ODK" in line and "rename it with '::'" in line
               for line in out["report"]["unsupported"])


def test_kurdish_without_a_script_is_read_from_its_letters(store, communicator):
    data = workbook({"survey": [["type", "name", "label::English (en)", "label::Kurdish (ku)"],
                                ["text", "q1", "How are you?", "چۆنی؟"]]})
    out = xlsform.import_xlsform(store, communicator, data)
    assert out["survey"]["target_languages"] == ["ckb"]
    assert "Sorani" in out["report"]["languages"][1]["note"]


def test_one_name_in_two_groups_becomes_two_questions(store, communicator):
    data = workbook({"survey": [["type", "name", "label"],
                                ["begin group", "mother", "Mother"], ["integer", "age", "Age?"],
                                ["end group"], ["begin group", "child", "Child"],
                                ["integer", "age", "Age?"], ["end group"]]})
    out = xlsform.import_xlsform(store, communicator, data)
    assert [q["name"] for q in out["survey"]["questions"]] == ["age", "child_age"]
    assert any("imported as 'child_age'" in line for line in out["report"]["unsupported"])


# -- bounds and hostile files ---------------------------------------------------------------------

def _rewrite(data: bytes, member: str, change) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            body = src.read(item.filename)
            out.writestr(item, change(body) if item.filename == member else body)
    return buf.getvalue()


def test_sheets_that_claim_a_million_rows_cost_only_what_they_hold(store, communicator):
    """Excel's largest sheet declared (A1:XFD1048576) with one real cell at its last row:
    cohear reads the rows present, imports the form and names the far cell, as pyxform
    (which stops after 60 empty rows) would not read it. `bench/xlsform_import.py`
    measures the time against pyxform's own reader."""
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(build_form()))
    wb["survey"].cell(row=1048576, column=3).value = "the last row Excel has"
    buf = io.BytesIO()
    wb.save(buf)
    data = _rewrite(buf.getvalue(), "xl/worksheets/sheet1.xml", lambda body: re.sub(
        rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', body))
    out = xlsform.import_xlsform(store, communicator, data)
    assert len(out["survey"]["questions"]) == 7
    far = [i for i in out["report"]["items"] if i["row"] == 1048576]
    assert far and "60 empty rows" in far[0]["message"] and far[0]["cell"] == "C1048576"


@pytest.mark.parametrize("sheets, words", [
    ({"survey": [["type", "name", "label"]] + [["text", f"q{i}", "Q?"] for i in range(501)]},
     "questions in one survey: 501"),
    ({"survey": [["type", "name", "label"], ["text", "q", "Q?"]],
      "choices": [["list_name", "name", "label"]] + [["l", f"c{i}", "C"] for i in range(20_001)]},
     "20,000 filled rows"),
    ({"survey": [["type", "name"] + [f"col{i}" for i in range(501)], ["text", "q"]]},
     "503 columns"),
], ids=["questions", "rows", "columns"])
def test_forms_beyond_the_bounds_are_refused_with_413(store, communicator, sheets, words):
    with pytest.raises(TooLarge) as err:
        xlsform.import_xlsform(store, communicator, workbook(sheets))
    assert words in err.value.detail and err.value.status == 413
    assert store.one("SELECT count(*) FROM surveys")[0] == 0


XXE = b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
LAUGHS = (b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
          + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&%s;" % bytes([97 + i])) * 10)
                     for i in range(8)) + b']>')


def _entities(dtd: bytes, ref: bytes):
    """Put a DTD in the survey sheet's XML and an entity where the label was."""
    def change(body: bytes) -> bytes:
        start = body.index(b"<worksheet")
        return body[:start] + dtd + body[start:].replace(b"How are you?", ref)
    return lambda data: _rewrite(data, "xl/worksheets/sheet1.xml", change)


@pytest.mark.parametrize("change", [
    _entities(XXE, b"&x;"),
    _entities(LAUGHS, b"&i;"),
    lambda data: data[: len(data) // 2],
    lambda data: b"",
], ids=["external entity", "billion laughs", "truncated zip", "empty"])
def test_hostile_files_are_refused_with_400_and_create_nothing(store, communicator, change):
    from openpyxl import Workbook as Book
    wb = Book()
    wb.active.title = "survey"
    wb.active.append(["type", "name", "label"])
    wb.active.append(["text", "q", "How are you?"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(BadInput) as err:
        xlsform.import_xlsform(store, communicator, change(buf.getvalue()))
    assert err.value.status == 400 and "root:" not in err.value.detail
    assert store.one("SELECT count(*) FROM surveys")[0] == 0


# -- export ---------------------------------------------------------------------------------------

def test_export_writes_back_everything_cohear_holds_and_pyxform_converts_it(store,
                                                                          communicator):
    from pyxform.xls2xform import convert

    survey = service.create_survey(
        store, communicator, title="Clinic access", purpose="Learn about access",
        base_language="en", target_languages=["ur", "sw"], questions=[
            {"kind": "consent", "name": "consent", "text": "Do you agree?",
             "options": {"consent_version": 2}, "texts": {"ur": "کیا آپ راضی ہیں؟"}},
            {"kind": "open", "name": "story", "text": "Tell us", "options": {
                "answer": "either", "hint": {"en": "Speak or type", "sw": "Sema au andika"},
                "required": True, "required_message": {"en": "Please answer",
                                                       "ur": "براہ کرم جواب دیں"}}},
            {"kind": "scale", "name": "ease", "text": "How easy?", "options": {
                "min": 1, "max": 5, "labels": {"1": "Very hard", "5": "Very easy"}}},
            {"kind": "scale", "name": "plain", "text": "Plain scale?",
             "options": {"min": 0, "max": 10}},
            {"kind": "single_choice", "name": "way", "text": "How did you come?", "options": {
                "choices": [{"value": "bus", "label": "Bus", "labels": {"ur": "بس",
                                                                     "sw": "Basi"}},
                            {"value": "walk", "label": "Walking"}]}},
            {"kind": "integer", "name": "age", "text": "Age?", "options": {
                "min": 0, "max": 120, "constraint_message": {"en": "0 to 120",
                                                             "sw": "0 hadi 120"}}},
            {"kind": "decimal", "name": "temp", "text": "Temperature?",
             "options": {"min": 34.5, "max": 42}},
            {"kind": "date", "name": "last_visit", "text": "Last visit?",
             "options": {"min": "2020-01-01", "max": "today"}},
            {"kind": "time", "name": "arrived", "text": "Arrival time?",
             "options": {"min": "08:00", "max": "18:30"}},
            {"kind": "demographic", "name": "ethnicity", "text": "Ethnic group",
             "options": {"field": "ethnicity"}},
            {"kind": "demographic", "name": "district", "text": "Postcode district",
             "options": {"field": "postcode_district"}},
        ])
    data = xlsform.export_xlsform(store, survey["id"])
    result = convert(xlsform=io.BytesIO(data), file_type=".xlsx")   # ODK's converter
    assert "<h:title>Clinic access</h:title>" in result.xform
    assert 'lang="Swahili (sw)"' in result.xform
    again = xlsform.import_xlsform(store, communicator, data)
    assert again["report"]["items"] == []

    def shape(s):
        return [(q["name"], q["kind"], q["text"], q["options"],
                 {k: v["text"] for k, v in q["texts"].items()}) for q in s["questions"]]

    assert shape(again["survey"]) == shape(service.get_survey(store, survey["id"]))
    assert again["survey"]["target_languages"] == ["ur", "sw"]
    assert again["survey"]["title"] == "Clinic access"


# -- language headers ODK reads -----------------------------------------------------------

EXPORT_TAGS = [*__import__("language_packs.registry", fromlist=["LANGUAGES"]).LANGUAGES,
               "sw", "ne", "yue", "sr-Latn", "en-AU"]


def test_every_language_header_converts_without_a_language_warning_and_round_trips(
        store, communicator):
    """pyxform warns about a language whose `(code)` is not an IANA language subtag
    ("zh-Hans", "pa-Guru") or whose name holds parentheses; every tag cohear has is
    written as pyxform reads it, and each comes back as the same tag. (Each language's
    words are its tag and a digit: English words would be refused as romanised.)"""
    from pyxform.xls2xform import convert

    targets = [t for t in EXPORT_TAGS if t != "en"]
    assert len(targets) == 24 + 5
    survey = service.create_survey(
        store, communicator, title="Languages", purpose="Every header", base_language="en",
        target_languages=targets, questions=[
            {"kind": "open", "name": "story", "text": "Tell us",
             "texts": {t: f"[{t}] 1" for t in targets},
             "options": {"hint": {t: f"[{t}] 2" for t in EXPORT_TAGS}}},
            {"kind": "single_choice", "name": "way", "text": "How?", "options": {
                "choices": [{"value": "bus", "label": "Bus",
                             "labels": {t: f"[{t}] 3" for t in targets}}]}}])
    data = xlsform.export_xlsform(store, survey["id"])
    result = convert(xlsform=io.BytesIO(data), file_type=".xlsx")
    assert [w for w in result.warnings if "language" in w.lower()] == []
    for tag in EXPORT_TAGS:
        assert f'lang="{xlsform.column_language(tag)}"' in result.xform, tag
    assert 'lang="Punjabi Shahmukhi (pa)"' in result.xform
    assert 'lang="Chinese Traditional (zh)"' in result.xform
    again = xlsform.import_xlsform(store, communicator, data)
    assert again["report"]["items"] == []
    assert again["survey"]["target_languages"] == targets
    story = again["survey"]["questions"][0]
    assert {t: v["text"] for t, v in story["texts"].items()} == {
        t: f"[{t}] 1" for t in targets}


def test_a_language_named_by_its_bare_code_takes_its_script_from_its_words(store,
                                                                           communicator):
    """Other tools write "Punjabi (pa)" or "Chinese (zh)" for either script: the words
    decide, and the report says so where it is not the code's usual script."""
    data = build_form(
        survey_rows=[["text", "visit", "Why did you visit?", "آپ کیوں آئے؟",
                      "Dlaczego?", None, None, None, None, None, None]],
        choices_rows=[])
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(data))
    wb["survey"]["D1"] = "label::Punjabi (pa)"
    wb["survey"]["D2"] = "تسیں کیوں آئے؟"
    wb["survey"]["E1"] = "label::Chinese (zh)"
    wb["survey"]["E2"] = "您為什麼來診所？"
    wb["choices"]["D1"] = "label::Punjabi (pa)"
    wb["choices"]["E1"] = "label::Chinese (zh)"
    buf = io.BytesIO()
    wb.save(buf)
    form, _ = xlsform.parse_xlsform(buf.getvalue())
    assert form.target_languages == ["pa-Arab", "zh-Hant"]
    notes = {entry["column"]: entry.get("note", "") for entry in form.report["languages"]}
    assert "Punjabi (Shahmukhi)" in notes["Punjabi (pa)"]
    assert "Chinese (Traditional)" in notes["Chinese (zh)"]
