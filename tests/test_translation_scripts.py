"""A translation is stored only when its letters are the target language's script: PO
and XLIFF files from translators (a `Language: pa_PK` file holding Gurmukhi, an Urdu file
with a sentence in romanised Urdu), and a translation edited through the API. The
refusal names each sentence and what its letters are, never the words, and nothing is
stored."""

from __future__ import annotations

import pytest
from translate.storage import po, xliff2

from cohear.errors import BadInput
from comms import exchange, service

FLU = "Hello {first_name}, you can have a free flu vaccine this winter. Book at your GP."
GURMUKHI = ["ਸਤ ਸ੍ਰੀ ਅਕਾਲ {first_name}, ਤੁਸੀਂ ਇਸ ਸਰਦੀ ਵਿੱਚ ਮੁਫ਼ਤ ਫਲੂ ਟੀਕਾ ਲਗਵਾ ਸਕਦੇ ਹੋ।",
            "ਆਪਣੀ GP ਸਰਜਰੀ ਵਿੱਚ ਬੁੱਕ ਕਰੋ।"]
SHAHMUKHI = ["سلام {first_name}، تسیں ایس سردی وچ مفت فلو ٹیکا لوا سکدے او۔",
             "اپنی GP سرجری وچ بک کرو۔"]


@pytest.fixture
def team(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def flu(store, team):
    message = service.create_message(store, team["communicator"], title="Flu",
                                     source_text=FLU, channel="sms")
    service.request_human(store, team["communicator"], message["id"],
                          ["pa-Arab", "pa-Guru", "zh-Hans", "ur"])
    return message


def filled_po(store, message_id: int, tag: str, targets: list[str], *,
              language_header: str | None = None, cohear_header: bool = True) -> bytes:
    """cohear's PO export for `tag`, filled in as a translator's tool saves it; without
    cohear's own header when the tool dropped it."""
    data, _ = exchange.export_file(store, [message_id], tag, "po")
    doc = po.pofile.parsestring(data)
    units = [u for u in doc.units if not u.isheader()]
    for unit, target in zip(units, targets, strict=True):
        unit.target = target
    text = bytes(doc).decode()
    if not cohear_header:
        text = "\n".join(line for line in text.splitlines()
                         if not line.startswith('"X-Cohear-Language'))
    if language_header:
        text = text.replace(f'"Language: {exchange.gettext_language(tag)}\\n"',
                            f'"Language: {language_header}\\n"')
    return text.encode()


def translation(store, message_id: int, tag: str) -> dict:
    return service.get_translation(store, message_id, tag)


def test_a_pa_pk_po_file_holding_gurmukhi_is_refused_naming_each_sentence(store, team, flu):
    data = filled_po(store, flu["id"], "pa-Arab", GURMUKHI, cohear_header=False)
    assert b"Language: pa_PK" in data and b"X-Cohear-Language" not in data
    with pytest.raises(BadInput) as err:
        exchange.import_file(store, team["communicator"], data)
    problem = err.value.problem()
    assert problem["code"] == "translation-script" and problem["status"] == 400
    assert "Punjabi (Shahmukhi) (pa-Arab)" in problem["detail"]
    assert "nothing was imported" in problem["detail"]
    assert problem["refused"] == [
        {"message_id": flu["id"], "sentence": 1, "found": "Gurmukhi letters"},
        {"message_id": flu["id"], "sentence": 2, "found": "Gurmukhi letters"}]
    assert "import it as pa-Guru" in problem["fix"] and "pa_IN" in problem["fix"]
    # The translator's words are not in the problem.
    assert not any(word in str(problem) for word in GURMUKHI[1].split() if word != "GP")
    assert translation(store, flu["id"], "pa-Arab")["status"] == "human_requested"
    assert translation(store, flu["id"], "pa-Arab")["text"] in (None, "")


def test_the_same_file_imported_as_gurmukhi_is_taken_and_the_report_says_why(store, team, flu):
    data = filled_po(store, flu["id"], "pa-Arab", GURMUKHI, cohear_header=False)
    report = exchange.import_file(store, team["communicator"], data, lang="pa-Guru")
    assert report["language"] == "pa-Guru"
    assert any("pa-Arab" in w and "Gurmukhi" in w for w in report["warnings"])
    assert translation(store, flu["id"], "pa-Guru")["text"].startswith("ਸਤ ਸ੍ਰੀ ਅਕਾਲ")
    assert translation(store, flu["id"], "pa-Arab")["status"] == "human_requested"


def test_a_file_in_another_language_altogether_is_still_refused_as_before(store, team, flu):
    data = filled_po(store, flu["id"], "pa-Arab", SHAHMUKHI)
    with pytest.raises(BadInput, match="is a pa-Arab translation, not pa-Guru"):
        exchange.import_file(store, team["communicator"], data, lang="pa-Guru")


def test_a_shahmukhi_file_with_latin_words_imports(store, team, flu):
    data = filled_po(store, flu["id"], "pa-Arab", SHAHMUKHI, cohear_header=False)
    report = exchange.import_file(store, team["communicator"], data)
    assert report["language"] == "pa-Arab" and "warnings" not in report


def test_one_sentence_in_another_script_refuses_the_whole_file(store, team, flu):
    data = filled_po(store, flu["id"], "pa-Arab", [SHAHMUKHI[0], GURMUKHI[1]])
    with pytest.raises(BadInput) as err:
        exchange.import_file(store, team["communicator"], data)
    assert err.value.extra["refused"] == [{"message_id": flu["id"], "sentence": 2,
                                           "found": "Gurmukhi letters"}]
    assert translation(store, flu["id"], "pa-Arab")["status"] == "human_requested"


def test_xliff_is_checked_too_traditional_characters_are_not_simplified(store, team, flu):
    data, _ = exchange.export_file(store, [flu["id"]], "zh-Hans", "xliff")
    doc = xliff2.Xliff2File.parsestring(data)
    for unit, target in zip(doc.units, ["您好 {first_name}，您今年冬天可以免費接種流感疫苗。",
                                        "請到您的 GP 診所預約。"], strict=True):
        unit.target = target
    with pytest.raises(BadInput) as err:
        exchange.import_file(store, team["communicator"], bytes(doc))
    assert err.value.code == "translation-script"
    assert {r["found"] for r in err.value.extra["refused"]} == {"Traditional Chinese characters"}
    assert "import it as zh-Hant" in err.value.fix


def test_xliff_for_shahmukhi_holding_gurmukhi_is_refused(store, team, flu):
    data, _ = exchange.export_file(store, [flu["id"]], "pa-Arab", "xliff")
    doc = xliff2.Xliff2File.parsestring(data)
    for unit, target in zip(doc.units, GURMUKHI, strict=True):
        unit.target = target
    with pytest.raises(BadInput, match="Gurmukhi letters"):
        exchange.import_file(store, team["communicator"], bytes(doc))


def test_a_translation_edited_through_the_api_is_checked(api):
    comm = api["communicator"]
    message = comm.post("/api/messages", json={"title": "Flu", "source_text": FLU,
                                               "channel": "sms"}).json()
    url = f"/api/messages/{message['id']}/translations/pa-Arab"
    r = comm.put(url, json={"text": " ".join(GURMUKHI), "revision": 0})
    assert r.status_code == 400
    problem = r.json()
    assert problem["code"] == "translation-script" and problem["fix"]
    assert "Gurmukhi letters" in problem["detail"] and "save it as pa-Guru" in problem["fix"]
    assert comm.get(url).status_code == 404                  # nothing was stored
    r = comm.put(url, json={"text": " ".join(SHAHMUKHI), "revision": 0})
    assert r.status_code == 200, r.text
    r = comm.put(f"/api/messages/{message['id']}/translations/pl",
                 json={"text": "Dzień dobry {first_name}, ਪੰਜਾਬੀ", "revision": 0})
    assert r.status_code == 400 and "Gurmukhi letters" in r.json()["detail"]


# -- romanised sentences: Latin letters where the language has its own script --------

URDU = ["ہیلو {first_name}، آپ اس سردی مفت فلو ویکسین لگوا سکتے ہیں۔",
        "اپنی GP سرجری میں بک کریں۔"]
ROMAN_URDU = "Yeh aap aur aap ke khandan ki hifazat karta hai."


def test_a_po_file_with_a_sentence_in_romanised_urdu_is_refused_whole(store, team, flu):
    data = filled_po(store, flu["id"], "ur", [URDU[0], ROMAN_URDU])
    with pytest.raises(BadInput) as err:
        exchange.import_file(store, team["communicator"], data)
    problem = err.value.problem()
    assert problem["code"] == "translation-script" and problem["status"] == 400
    assert problem["refused"] == [{"message_id": flu["id"], "sentence": 2,
                                   "found": "mostly Latin letters (romanised)"}]
    assert "Urdu in Arabic script" in problem["fix"]
    assert not any(word in str(problem) for word in ROMAN_URDU.split())
    assert translation(store, flu["id"], "ur")["status"] == "human_requested"


def test_an_xliff_file_in_romanised_punjabi_is_refused(store, team, flu):
    data, _ = exchange.export_file(store, [flu["id"]], "pa-Arab", "xliff")
    doc = xliff2.Xliff2File.parsestring(data)
    for unit, target in zip(doc.units, ["Sat sri akal {first_name}, tusi is sardi vich muft "
                                        "flu tika lawa sakde o.", "Apni GP surgery vich book "
                                        "karo."], strict=True):
        unit.target = target
    with pytest.raises(BadInput) as err:
        exchange.import_file(store, team["communicator"], bytes(doc))
    assert [r["sentence"] for r in err.value.extra["refused"]] == [1, 2]
    assert translation(store, flu["id"], "pa-Arab")["status"] == "human_requested"


@pytest.mark.parametrize("text", [
    # Kept names, acronyms, placeholders, numbers and addresses inside Urdu are fine.
    "اپنے GP سے COVID-19 اور MMR ویکسین کے بارے میں پوچھیں: https://www.nhs.uk/covid",
    "{first_name}، NHS App میں اپنی appointment دیکھیں۔",
    "مزید معلومات کے لیے help@nhs.net پر ای میل کریں یا NHS 111 کو کال کریں۔",
    # Half and half is not "mostly" Latin: a brand and a kind of medicine among Urdu words.
    "Ventolin inhaler دن میں دو بار لیں",
    # Too short to tell romanised Urdu from a name kept as it is.
    "Calpol Plus",
])
def test_latin_words_inside_a_sentence_in_the_right_script_are_allowed(text):
    assert service.script_problem(text, service.language("ur")) is None


@pytest.mark.parametrize("text,tag", [
    (ROMAN_URDU, "ur"),
    ("Aap apne GP se appointment book kar sakte hain.", "ur"),
    ("Ami apnar GP-r kache jabo.", "bn"),
    ("Qing zai nin de GP zhensuo yuyue.", "zh-Hans"),
])
def test_a_sentence_mostly_in_latin_letters_is_refused_for_a_language_with_its_own_script(
        text, tag):
    assert service.script_problem(text, service.language(tag)) == \
        "mostly Latin letters (romanised)"


def test_chinese_is_counted_by_characters_so_a_few_latin_words_stay_a_minority():
    text = "请在 NHS App 上预约 flu vaccine。"
    assert service.script_problem(text, service.language("zh-Hans")) is None


def test_latin_languages_are_not_checked_for_romanisation():
    assert service.script_problem("Dzień dobry, proszę umówić wizytę u GP.",
                                  service.language("pl")) is None


def test_a_glossary_term_kept_in_english_does_not_count_as_latin(store, team, flu):
    text = "NHS Healthy Start Vitamins مفت"
    data = filled_po(store, flu["id"], "ur", [URDU[0], text])
    with pytest.raises(BadInput, match="romanised"):
        exchange.import_file(store, team["communicator"], data)
    service.add_glossary_term(store, team["communicator"], "Healthy Start Vitamins")
    report = exchange.import_file(store, team["communicator"], data)
    assert report["language"] == "ur"
    assert translation(store, flu["id"], "ur")["text"].endswith(text)


def test_a_romanised_translation_edited_through_the_api_is_refused(api):
    comm = api["communicator"]
    message = comm.post("/api/messages", json={"title": "Flu", "source_text": FLU,
                                               "channel": "sms"}).json()
    url = f"/api/messages/{message['id']}/translations/ur"
    # `revision` 0: there is no translation yet (edits name the revision they were made to).
    r = comm.put(url, json={"text": ROMAN_URDU, "revision": 0})
    assert r.status_code == 400
    problem = r.json()
    assert problem["code"] == "translation-script"
    assert "romanised" in problem["detail"] and "Arabic script" in problem["fix"]
    assert comm.get(url).status_code == 404
    r = comm.put(url, json={"text": " ".join(URDU), "revision": 0})
    assert r.status_code == 200, r.text
