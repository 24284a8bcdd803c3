"""The language registry, offline sentence splitting, detection, and the translation
engine running real (copy-model) Argos packs through CTranslate2."""

from __future__ import annotations

import pytest

from cohear.errors import BadInput, TooLarge
from language_packs import registry, service
from language_packs.detect import detect
from language_packs.engine import MAX_TEXT_CHARS, Engine, get_engine
from language_packs.packs import install
from language_packs.splitter import split_rules, split_sentences

REGION = ["en", "ur", "pa-Guru", "pa-Arab", "bn", "syl", "pl", "ro", "ar", "gu", "so", "ps",
          "fa", "ckb", "kmr", "ti", "zh-Hans", "zh-Hant", "pt", "es", "fr", "it", "hi", "lt",
          "sk"]


# -- registry ------------------------------------------------------------------------
def test_registry_has_every_region_language_with_names_and_scripts():
    assert set(REGION) <= set(registry.LANGUAGES)
    for tag in REGION:
        lang = registry.get_language(tag)
        assert lang.tag == tag and lang.english_name and lang.native_name and lang.script
        assert lang.direction in ("ltr", "rtl")


def test_right_to_left_languages_are_exactly_the_arabic_script_ones():
    rtl = {tag for tag in registry.LANGUAGES if registry.is_rtl(tag)}
    assert rtl == {"ur", "ar", "fa", "ps", "ckb", "pa-Arab"}
    assert registry.get_language("pa-Guru").script == "Guru"
    assert registry.get_language("pa-Arab").script == "Arab"


def test_whisper_and_argos_codes_map_to_cohear_tags_in_one_place():
    assert registry.from_whisper("pa") == "pa-Guru"
    assert registry.from_whisper("zh") == "zh-Hans"
    assert registry.from_whisper("ur") == "ur"
    assert registry.to_whisper("pa-Arab") == "pa"
    assert registry.to_whisper("ckb") is None and registry.to_whisper("kmr") is None
    assert registry.to_whisper("ti") is None
    assert registry.from_argos("zt") == "zh-Hant" and registry.from_argos("zh") == "zh-Hans"
    assert registry.to_argos("zh-Hant") == "zt"
    for tag in ("pa-Guru", "gu", "so", "ps", "ckb", "kmr", "ti", "syl"):
        assert registry.to_argos(tag) is None
    # A language Whisper hears outside the region keeps Whisper's code, a BCP-47 tag.
    assert registry.from_whisper("haw") == "haw" and registry.from_whisper("sw") == "sw"
    with pytest.raises(BadInput):
        registry.from_whisper("xx")


def test_unknown_tags_are_refused_listing_the_known_ones():
    with pytest.raises(BadInput) as err:
        registry.get_language("xx")
    assert "ur" in err.value.fix and "pa-Arab" in err.value.fix
    with pytest.raises(BadInput) as err:
        registry.get_language("ku")
    assert "ckb" in err.value.detail and "kmr" in err.value.detail
    assert registry.get_language("PA-guru").tag == "pa-Guru"
    assert registry.get_language("zh-TW").tag == "zh-Hant"


def test_any_registered_language_is_a_language_with_human_translation_only(store, copy_packs):
    sw = registry.get_language("sw")
    assert (sw.tag, sw.english_name, sw.native_name, sw.direction) == \
        ("sw", "Swahili", "Kiswahili", "ltr")
    assert sw.argos_code is None and sw.whisper_code == "sw" and not sw.in_region
    assert registry.get_language("yue").whisper_code == "yue"
    assert registry.get_language("dv").direction == "rtl"          # Thaana
    assert registry.get_language("dv").whisper_code is None        # Whisper does not know it
    assert registry.get_language("iw").tag == "he"                 # deprecated tag, standardised
    assert registry.get_language("zh-cn").tag == "zh-Hans"         # the region's spelling wins
    for bad in ("xx", "klingon", "x-private", "und", "en-" + "a" * 40):
        with pytest.raises(BadInput) as err:
            registry.get_language(bad)
        assert "not a language cohear knows" in err.value.detail
    rows = {r["tag"]: r for r in service.coverage(store, also=["sw", "ur", "dv"])}
    assert len(rows) == 27 and list(rows)[-2:] == ["sw", "dv"]
    assert rows["sw"]["translation"] == "human translation only"
    assert rows["sw"]["speech_recognition"] and not rows["dv"]["speech_recognition"]
    assert rows["sw"]["in_region"] is False and rows["ur"]["in_region"] is True
    assert "human translator" in rows["sw"]["advice"]
    engine = get_engine(store)
    assert not engine.can_translate("en", "sw")
    with pytest.raises(BadInput) as err:
        engine.translate(["Hello."], "en", "sw")
    assert "human translator" in err.value.fix


def test_coverage_says_what_is_automatic_here(store, copy_packs):
    rows = {r["tag"]: r for r in service.coverage(store)}
    assert rows["ur"]["translation"] == "machine translation"
    assert rows["ur"]["pack_from_english"] and rows["ur"]["pack_to_english"]
    assert rows["pl"]["pack_from_english"] and not rows["pl"]["pack_to_english"]
    # Argos publishes an Arabic pack, but none is installed here: not automatic.
    assert rows["ar"]["translation"] == "human translation only"
    assert "translate-en_ar" in rows["ar"]["advice"]
    assert rows["ps"]["translation"] == "human translation only"
    assert rows["ps"]["speech_recognition"] is True
    assert rows["ti"]["speech_recognition"] is False
    assert rows["zh-Hant"]["translation"] == "machine translation"


# -- splitting -----------------------------------------------------------------------
@pytest.mark.parametrize("text, tag, sentences", [
    ("Wash your hands. Dr. Patel will see you!\nCall 111.", "en",
     ["Wash your hands.", "Dr. Patel will see you!", "Call 111."]),
    ("আপনার হাত ধুয়ে নিন। টিকা নিন। ধন্যবাদ", "bn",
     ["আপনার হাত ধুয়ে নিন।", "টিকা নিন।", "ধন্যবাদ"]),
    ("ਹੱਥ ਧੋਵੋ। ਧੰਨਵਾਦ।", "pa-Guru", ["ਹੱਥ ਧੋਵੋ।", "ਧੰਨਵਾਦ।"]),
    ("آپ کا شکریہ۔ کیا آپ ٹھیک ہیں؟ جی", "ur", ["آپ کا شکریہ۔", "کیا آپ ٹھیک ہیں؟", "جی"]),
    ("هل أنت بخير؟ نعم.", "ar", ["هل أنت بخير؟", "نعم."]),
    ("请洗手。你好吗？好", "zh-Hans", ["请洗手。", "你好吗？", "好"]),
    ("請洗手。你好嗎？好", "zh-Hant", ["請洗手。", "你好嗎？", "好"]),
])
def test_sentences_split_offline_and_join_back_exactly(text, tag, sentences):
    pairs = split_sentences(text, tag)
    assert [s for s, _ in pairs if s] == sentences
    assert "".join(s + sep for s, sep in pairs) == text


def test_rule_splitter_handles_danda_urdu_full_stop_and_chinese():
    text = "ধন্যবাদ। آپ کا شکریہ۔ کیا؟ 你好。再见"
    assert [s for s, _ in split_rules(text)] == ["ধন্যবাদ।", "آپ کا شکریہ۔", "کیا؟", "你好。",
                                                  "再见"]


def test_very_long_sentences_are_cut_at_a_space():
    text = " ".join(["word"] * 300)
    pairs = split_sentences(text, "en")
    assert len(pairs) > 1 and all(len(s) <= 400 for s, _ in pairs)
    assert "".join(s + sep for s, sep in pairs) == text


# -- detection -----------------------------------------------------------------------
@pytest.mark.parametrize("text, tag", [
    ("Please wash your hands with soap and water.", "en"),
    ("آپ کا بہت شکریہ، ہاتھ دھوئیں۔", "ur"),
    ("لطفا دست های خود را بشویید.", "fa"),
    ("هل أنت بخير؟ شكرا جزيلا", "ar"),
    ("ਤੁਹਾਡਾ ਧੰਨਵਾਦ", "pa-Guru"),
    ("আপনার হাত ধুয়ে নিন", "bn"),
    ("我们这个医生", "zh-Hans"),
    ("我們這個醫生", "zh-Hant"),
    ("Proszę umyć ręce wodą z mydłem, to jest ważne.", "pl"),
    ("Vă rugăm să vă spălați mâinile cu apă și săpun.", "ro"),
    ("Fadlan gacmahaaga ku dhaq saabuun iyo biyo.", "so"),
])
def test_detection_by_script_and_letters(text, tag):
    assert detect(text)[0]["language"] == tag


# -- the engine ----------------------------------------------------------------------
def test_copy_pack_translation_is_exact_through_ctranslate2(store, copy_packs):
    engine = get_engine(store)
    [result] = engine.translate(["Hello world."], "en", "ur")
    assert result.text == "Hello world."
    assert (result.source, result.target, result.pivoted) == ("en", "ur", False)
    assert result.engine == "argos:translate-en_ur-1.0"


def test_layout_and_any_script_survive_translation(store, copy_packs):
    texts = ["Wash your hands.  Dry them well!\n\nCall 111 if you are worried.",
             "آپ کا شکریہ۔ کیا آپ ٹھیک ہیں؟"]
    results = get_engine(store).translate(texts, "en", "bn")
    assert [r.text for r in results] == texts


class CountingTranslator:
    """Wraps the real CTranslate2 translator to count calls (the work is still real)."""

    def __init__(self, real):
        self.real = real
        self.calls: list[int] = []

    def translate_batch(self, tokens, **kwargs):
        self.calls.append(len(tokens))
        return self.real.translate_batch(tokens, **kwargs)


def test_all_sentences_of_all_texts_go_in_one_batch(store, copy_packs):
    engine = Engine(store)
    pack = engine.load("en", "pl")
    pack.translator = counter = CountingTranslator(pack.translator)
    texts = [f"Message {i}. Wash your hands, number {i}. Call 111." for i in range(40)]
    results = engine.translate(texts, "en", "pl")
    assert [r.text for r in results] == texts
    # 40 + 40 different sentences, and "Call 111." once: one call for all of them.
    assert counter.calls == [81]


def test_models_load_once_and_again_only_when_the_pack_changes(store, copy_packs, tmp_path):
    from language_packs.copy_pack import build_copy_pack
    engine = Engine(store)
    engine.translate(["Hello."], "en", "ur")
    engine.translate(["Hello again."], "en", "ur")
    assert engine.loads == 1
    install(store, build_copy_pack(tmp_path, "en", "ur", package_version="1.1"))
    [result] = engine.translate(["Hello."], "en", "ur")
    assert engine.loads == 2 and result.engine == "argos:translate-en_ur-1.1"


def test_pivot_through_english_is_marked(store, copy_packs):
    engine = get_engine(store)
    assert engine.can_translate("ur", "pl")
    [result] = engine.translate(["آپ کا شکریہ۔"], "ur", "pl")
    assert result.text == "آپ کا شکریہ۔"
    assert result.pivoted is True
    assert result.engine == "argos:translate-ur_en-1.0+argos:translate-en_pl-1.0"


def test_machine_translations_carry_no_control_characters(store, copy_packs):
    """Whatever a pack's model outputs (a copy model gives back its input), and a text
    that reaches the engine unchanged, leave it without control characters: they would
    be stored as machine words and reach a reviewer's terminal (cohear/text.py)."""
    text = "Please check the leaflet.\x1b]2;PWNED\x07 Now\x1b[2J\x9b31m today."
    for target in ("ur", "en"):          # through the model, and unchanged ("identity")
        [result] = get_engine(store).translate([text], "en", target)
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in result.text), result
        assert "PWNED" in result.text and "\ufffd" in result.text


def test_same_language_is_returned_unchanged(store):
    [result] = get_engine(store).translate(["Hello."], "en", "en")
    assert (result.text, result.engine, result.pivoted) == ("Hello.", "identity", False)


def test_one_engine_per_data_directory(store):
    assert get_engine(store) is get_engine(store)


def test_refusals_say_what_to_do(store, copy_packs):
    engine = get_engine(store)
    assert not engine.can_translate("en", "ps")
    with pytest.raises(BadInput) as err:
        engine.translate(["Hello."], "en", "ps")
    assert "human translator" in err.value.fix
    with pytest.raises(BadInput) as err:
        engine.translate(["Hello."], "pl", "ur")
    assert "translate-pl_en" in err.value.fix
    with pytest.raises(BadInput) as err:
        engine.translate(["Hello."], "en", "xx")
    assert "not a language cohear knows" in err.value.detail
    with pytest.raises(BadInput) as err:
        engine.translate(["Hello.", "   "], "en", "ur")
    assert "text 2 is empty" in err.value.detail
    with pytest.raises(TooLarge) as err:
        engine.translate(["a" * (MAX_TEXT_CHARS + 1)], "en", "ur")
    assert "5,000 characters" in err.value.detail
    assert engine.translate([], "en", "ur") == []


def test_html_is_sanitised_and_its_text_translated(store, copy_packs, people):
    admin = people["admin"][0]
    markup = ('<p onclick="steal()">Wash <b>your</b> hands &amp; dry them.</p>'
              '<script>alert(1)</script><style>p{}</style><a href="javascript:x()">Call</a>')
    [result] = service.translate(store, admin, [markup], "en", "ur", fmt="html")
    assert result.text == ('<p>Wash <b>your</b> hands &amp; dry them.</p>'
                           '<a rel="noopener noreferrer">Call</a>')
    assert result.engine == "argos:translate-en_ur-1.0"


def test_demo_packs_are_named_as_copies_and_seeded_once(store, people):
    from language_packs import demo
    admin = people["admin"][0]
    lines = demo.seed(store, {"admin": admin})
    assert len(lines) == 4 and "copies its input" in lines[0]
    [result] = get_engine(store).translate(["Hello."], "en", "ur")
    assert result.engine == "argos:translate-en_ur-0.0-demo-copy"
    assert demo.seed(store, {"admin": admin}) == []


def test_a_pack_whose_folder_went_missing_says_how_to_fix_it(store, copy_packs):
    import shutil

    from cohear.errors import ModelError
    shutil.rmtree(store.settings.data_dir / "packs" / "en_pl")
    with pytest.raises(ModelError) as err:
        Engine(store).translate(["Hello."], "en", "pl")
    assert "missing" in err.value.detail and "cohear packs remove" in err.value.fix


def test_threads_share_one_warm_engine(store, copy_packs):
    from concurrent.futures import ThreadPoolExecutor
    engine = Engine(store)
    texts = [f"Thread message {i}. Wash your hands." for i in range(12)]

    def work(target):
        return [r.text for r in engine.translate(texts, "en", target)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, ["ur", "pl", "ur", "bn", "pl", "bn"]))
    assert all(r == texts for r in results)
    assert engine.loads == 3  # en->ur, en->pl, en->bn, each read once
