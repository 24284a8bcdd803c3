"""Safeguarding keywords: disclosures in each covered language raise their concern in the
ways people say them (inflections, word order, spellings, keyboards), everyday answers
that share their words do not, and the keyword file is checked as its header says."""

from __future__ import annotations

import pytest

from surveys import safeguarding
from surveys import service as surveys
from surveys.safeguarding import keyword_hits
from tests.safeguarding_sentences import (
    DISCLOSURES,
    EVERYDAY,
    FLAGGING_IS_FINE,
    OUTSIDE_TESTING_DISCLOSURES,
    OUTSIDE_TESTING_EVERYDAY,
)
from tests.test_collect_api import answer, consent, start, survey  # noqa: F401 - fixture

BRIEF_LANGUAGES = ("en", "ur", "pa-Guru", "pa-Arab", "bn", "pl", "ar", "so")


@pytest.mark.parametrize("tag", sorted(DISCLOSURES))
def test_every_labelled_disclosure_raises_its_concern(tag):
    missed = [(text, concern, keyword_hits(text, tag)) for text, concern in DISCLOSURES[tag]
              if concern not in keyword_hits(text, tag)]
    assert missed == []


@pytest.mark.parametrize("tag", sorted(EVERYDAY))
def test_everyday_answers_that_share_the_words_raise_no_flag(tag):
    flagged = [(text, keyword_hits(text, tag)) for text in EVERYDAY[tag]
               if keyword_hits(text, tag) and text not in FLAGGING_IS_FINE]
    assert flagged == []


@pytest.mark.parametrize("tag", sorted(OUTSIDE_TESTING_DISCLOSURES))
def test_the_disclosures_outside_testing_found_missed_now_raise_their_concern(tag):
    missed = [(text, concern, keyword_hits(text, tag))
              for text, concern in OUTSIDE_TESTING_DISCLOSURES[tag]
              if concern not in keyword_hits(text, tag)]
    assert missed == []


def test_the_everyday_answers_outside_testing_tried_raise_no_flag():
    flagged = [(text, keyword_hits(text, tag)) for tag, answers in OUTSIDE_TESTING_EVERYDAY.items()
               for text in answers if keyword_hits(text, tag)]
    assert flagged == []


def test_the_labelled_set_has_eight_of_each_per_language():
    for tag in BRIEF_LANGUAGES:
        assert len(DISCLOSURES[tag]) >= 8 and len(EVERYDAY[tag]) >= 8, tag
        assert {"self-harm", "abuse", "danger"} <= {c for _, c in DISCLOSURES[tag]}, tag


@pytest.mark.parametrize("text,tag,concern", [
    # Urdu typed on an Arabic keyboard: ه for ھ and ہ, ي for ی.
    ("ميرے شوهر مجهے مارتے هيں", "ur", "abuse"),
    # Harakat and a zero-width non-joiner inside a word.
    ("وہ مجھے مَارتا تھا", "ur", "abuse"),
    ("میں خود\u200cکشی کے بارے میں سوچتی ہوں", "ur", "self-harm"),
    # Gurmukhi without the addak, and with a zero-width joiner.
    ("ਉਹ ਮੈਨੂੰ ਕੁਟਦਾ ਹੈ", "pa-Guru", "abuse"),
    ("ਉਹ ਮੈਨੂੰ ਮਾ\u200dਰਦਾ ਹੈ", "pa-Guru", "abuse"),
    # Polish typed without its letters; English in capitals and with a curly apostrophe.
    ("Chce sie zabic", "pl", "self-harm"),
    ("MY HUSBAND BEATS ME", "en", "abuse"),
    ("I don\u2019t feel safe", "en", "danger"),
    # Bengali in decomposed form (NFD), as some keyboards send it.
    ("আমার স্বামী আমাকে মারে", "bn", "abuse"),
])
def test_spellings_and_keyboards_do_not_matter(text, tag, concern):
    import unicodedata
    assert concern in keyword_hits(text, tag)
    assert concern in keyword_hits(unicodedata.normalize("NFD", text), tag)


@pytest.mark.parametrize("text,tag", [
    ("میری بیماری کی وجہ سے", "ur"),        # مار inside بیماری (illness)
    ("مارچ میں", "ur"),                     # March
    ("আমার বাবা মারা গেছেন", "bn"),          # my father passed away
    ("the white house", "en"),              # hit inside white
])
def test_words_match_whole_words_only(text, tag):
    assert keyword_hits(text, tag) == []


def test_an_answer_is_checked_with_every_list_its_letters_are_written_in():
    # A Punjabi answer recorded as Shahmukhi whose transcript Whisper wrote in Gurmukhi,
    # and Urdu typed in an English session.
    assert "abuse" in keyword_hits("ਮੇਰਾ ਪਤੀ ਮੈਨੂੰ ਮਾਰਦਾ ਹੈ", "pa-Arab")
    assert "abuse" in keyword_hits("میرے شوہر مجھے مارتے ہیں", "en")
    # Tags as other tools write them.
    assert "abuse" in keyword_hits("ਮੇਰਾ ਪਤੀ ਮੈਨੂੰ ਮਾਰਦਾ ਹੈ", "pa")
    assert "abuse" in keyword_hits("زوجي يضربني", "ar-EG")
    assert "abuse" in keyword_hits("আমার স্বামী আমাকে মারে", "syl")


def test_the_tester_s_urdu_answer_typed_on_the_field_page_heads_the_queue(api, survey,  # noqa: F811
                                                                          store, people):
    r = start(api["collector"], survey, "ur")
    assert r.status_code == 201, r.text
    session_id = r.json()["session_id"]
    assert consent(api["collector"], session_id).status_code == 201
    qid = next(q["id"] for q in survey["questions"] if q["name"] == "barriers")
    r = answer(api["collector"], session_id, qid, text="میرے شوہر مجھے مارتے ہیں")
    assert r.status_code in (200, 201), r.text
    row = store.one("SELECT id, safeguarding, safeguarding_reason, safeguarding_raised_by "
                    "FROM answers WHERE session_id = ?", (session_id,))
    assert row["safeguarding"] == 1 and row["safeguarding_raised_by"] == "keywords"
    assert row["safeguarding_reason"] == "keywords: abuse"
    queue = surveys.review_queue(store, people["reviewer"][0])
    assert queue[0]["id"] == row["id"]


def test_an_answer_s_english_rendering_is_checked_too(store, people, survey):  # noqa: F811
    """A language without a list of its own (Gujarati) is flagged by its English."""
    reviewer = people["reviewer"][0]
    surveys.open_language(store, people["communicator"][0], survey["id"], "gu",
                          accept_english=True)
    session = surveys.start_session(store, people["collector"][0], survey["id"], "gu")
    surveys.record_consent(store, people["collector"][0], session["id"], method="tick")
    qid = next(q["id"] for q in survey["questions"] if q["name"] == "barriers")
    a = surveys.submit_answer(store, people["collector"][0], session["id"], qid,
                              text="મારા પતિ મને મારે છે")
    assert a["safeguarding"] == 0
    surveys.add_text_version(store, reviewer, a["id"], "My husband beats me",
                             rendering="english")
    assert surveys.get_answer(store, reviewer, a["id"])["safeguarding"] == 1


# -- the file ---------------------------------------------------------------------------

def test_the_shipped_file_loads_and_names_only_known_concerns():
    lists = safeguarding.load()
    assert set(BRIEF_LANGUAGES) <= set(lists)
    for kl in lists.values():
        assert kl.terms and {t.concern for t in kl.terms} <= set(safeguarding.CONCERNS)


@pytest.mark.parametrize("body,complaint", [
    ('[xx]\nname = "X"\nscript = "Latn"\nabuse = ["{hit} me"]\n', "group {hit}"),
    ('[xx]\nname = "X"\nscript = "Latn"\nabuse = ["… me"]\n', "begin and end with a word"),
    ('[xx]\nname = "X"\nscript = "Latn"\nabuse = ["hit … … me"]\n', "two gaps"),
    ('[xx]\nname = "X"\nscript = "Latn"\nabuse = ["hit+ me"]\n', "no endings"),
    ('[xx]\nname = "X"\nscript = "Latn"\nabuse = ["*hit"]\n', "no prefixes"),
    ('[xx]\nname = "X"\nscript = "Latn"\nabsue = ["hit me"]\n', "unknown key(s) absue"),
    ('[xx]\nname = "X"\nscript = "Latin"\n', "script must be"),
    ('[xx]\nname = "X"\nscript = "Latn"\nstemmer = "klingon"\n', "no Snowball stemmer"),
    ('[xx\n', "safeguarding_keywords.toml"),
])
def test_a_keyword_file_that_breaks_its_rules_is_refused_naming_the_place(tmp_path, body,
                                                                          complaint):
    path = tmp_path / "safeguarding_keywords.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(safeguarding.KeywordFileError) as err:
        safeguarding.load(path)
    assert complaint in str(err.value)
