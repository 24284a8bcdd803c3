"""The translation workflow over a real store and real copy-model Argos packs:
versions and staleness, placeholder protection, approval, memory, pivoting,
translator files, exports, the audit log, and bad input that changes nothing."""

from __future__ import annotations

import json

import pytest

from cohear import audit
from cohear.errors import BadInput, Conflict, Forbidden, TooLarge, Unprocessable
from comms import exchange, exports, service

FLU = ("Hello {first_name}, you can have a free flu vaccine at your GP surgery. "
       "Call 0121 496 0000 to book.")
# A reviewer's Urdu for FLU (the test packs copy English through, and a person's edit
# must be in Arabic script).
URDU_FLU = ("ہیلو {first_name}، آپ اپنی GP سرجری میں مفت فلو ویکسین لگوا سکتے ہیں۔ "
            "بک کرنے کے لیے 0121 496 0000 پر کال کریں۔")


@pytest.fixture(scope="session")
def polish_to_english_pack(tmp_path_factory):
    """pl -> en, so that pl -> ur goes through English (with the en -> ur copy pack)."""
    from language_packs.copy_pack import build_copy_pack
    return build_copy_pack(tmp_path_factory.mktemp("pivot-pack"), "pl", "en")


@pytest.fixture
def team(people):
    return {role: user for role, (user, _) in people.items()}


@pytest.fixture
def flu(store, team):
    return service.create_message(store, team["communicator"], title="Flu invitation",
                                  source_text=FLU, channel="sms", tags=["flu"])


def entries(store, entity, entity_id):
    return list(reversed(audit.entries(store.conn, entity=entity, entity_id=entity_id)))


def counts(store) -> dict:
    return {t: store.one(f"SELECT count(*) FROM {t}")[0] for t in
            ("messages", "message_versions", "translations", "translation_revisions", "audit_log")}


def test_editing_the_source_makes_a_version_and_marks_translations_stale_keeping_the_text(
        store, team, flu, copy_packs):
    comm = team["communicator"]
    service.translate_messages(store, comm, [flu["id"]], ["ur", "pl"])
    before = service.get_translation(store, flu["id"], "ur")
    edited = service.edit_message(store, comm, flu["id"],
                                  source_text=FLU.replace("free flu vaccine", "free flu jab"))
    assert edited["version"] == 2
    assert [v["version"] for v in service.versions(store, flu["id"])] == [1, 2]
    assert service.versions(store, flu["id"])[0]["source_text"] == FLU
    for lang in ("ur", "pl"):
        t = service.get_translation(store, flu["id"], lang)
        assert t["status"] == "stale"
        assert t["source_version"] == 1 and t["current_version"] == 2
    stale = service.get_translation(store, flu["id"], "ur")
    assert stale["text"] == before["text"]
    history = service.translation_history(store, flu["id"], "ur")
    assert [h["status"] for h in history] == ["machine", "stale"]
    assert history[0]["text"] == history[1]["text"] == before["text"]
    with pytest.raises(Conflict, match="version 1"):
        service.approve_translation(store, team["reviewer"], flu["id"], "ur")


def test_placeholders_are_protected_from_the_engine_and_glossary_terms_fixed(
        store, team, flu, copy_packs):
    # The copy model returns exactly what it is given, so the fixed Urdu for "GP"
    # can only appear if "GP" went to the engine as a token and came back replaced.
    service.add_glossary_term(store, team["communicator"], "GP", language_tag="ur",
                              translation="جی پی")
    service.translate_messages(store, team["communicator"], [flu["id"]], ["ur"])
    t = service.get_translation(store, flu["id"], "ur")
    assert "جی پی" in t["text"] and "GP" not in t["text"]
    assert "{first_name}" in t["text"] and "0121 496 0000" in t["text"]
    assert t["placeholder_problems"] == []
    assert t["back_translation"] is not None and t["similarity"] is not None
    # chrF per sentence, and the message's score weighted by sentence length.
    scores = [seg["similarity"] for seg in t["segments"]]
    lengths = [len(seg["source"]) for seg in t["segments"]]
    assert t["similarity"] == round(sum(c * n for c, n in zip(scores, lengths)) / sum(lengths), 1)
    assert min(scores) < 100   # "GP" came back as "جی پی": that sentence differs


def test_glossary_terms_are_updated_not_duplicated(store, team):
    comm = team["communicator"]
    service.add_glossary_term(store, comm, "GP", language_tag="ur", translation="ڈاکٹر")
    service.add_glossary_term(store, comm, "GP", language_tag="ur", translation="جی پی")
    service.add_glossary_term(store, comm, "Pharmacy First")
    service.add_glossary_term(store, comm, "Pharmacy First")
    mine = [g for g in service.list_glossary(store) if g["note"] != "built in"]
    assert [(g["term"], g["language"], g["translation"]) for g in mine] == [
        ("GP", "ur", "جی پی"), ("Pharmacy First", None, None)]
    with pytest.raises(BadInput, match="needs a language"):
        service.add_glossary_term(store, comm, "A&E", translation="x")


def test_a_translation_that_lost_a_placeholder_is_flagged_and_cannot_be_approved(
        store, team, flu, copy_packs):
    service.translate_messages(store, team["communicator"], [flu["id"]], ["ur"])
    text = URDU_FLU   # the test packs copy English through; a reviewer writes Urdu
    edited = service.edit_translation(store, team["reviewer"], flu["id"], "ur",
                                      text.replace("{first_name}", "فلاں"))
    assert edited["status"] == "needs_review"
    assert edited["placeholder_problems"][0]["placeholder"] == "{first_name}"
    with pytest.raises(Unprocessable, match=r"\{first_name\}"):
        service.approve_translation(store, team["reviewer"], flu["id"], "ur")
    assert service.get_translation(store, flu["id"], "ur")["status"] == "needs_review"
    fixed = service.edit_translation(store, team["reviewer"], flu["id"], "ur", text)
    assert fixed["placeholder_problems"] == []
    assert service.approve_translation(store, team["reviewer"], flu["id"], "ur")["status"] == "approved"


def test_only_reviewers_and_admins_approve_and_approval_records_who_and_when(
        store, team, flu, copy_packs):
    service.translate_messages(store, team["communicator"], [flu["id"]], ["ur", "pl"])
    with pytest.raises(Forbidden) as refused:
        service.approve_translation(store, team["communicator"], flu["id"], "ur")
    assert "admin or reviewer" in refused.value.message()
    t = service.approve_translation(store, team["reviewer"], flu["id"], "ur")
    assert t["status"] == "approved" and t["approved_by"] == "test-reviewer" and t["approved_at"]
    assert service.approve_translation(store, team["admin"], flu["id"], "pl")["approved_by"] == "test-admin"


def test_translation_memory_reuses_approved_sentences_and_marks_them(store, team, flu, copy_packs):
    comm = team["communicator"]
    service.translate_messages(store, comm, [flu["id"]], ["ur"])
    # A reviewer's corrected sentence is what memory must give back, not the engine's.
    _, second = service.get_translation(store, flu["id"], "ur")["segments"]
    corrected = "ہیلو {first_name}، آپ اپنے جی پی سرجری میں مفت فلو ویکسین لے سکتے ہیں۔"
    service.edit_translation(store, comm, flu["id"], "ur", corrected + " " + second["target"])
    service.approve_translation(store, team["reviewer"], flu["id"], "ur")
    other = service.create_message(
        store, comm, title="Reminder", channel="sms",
        source_text="Hello {first_name}, you can have a free flu vaccine at your GP surgery. "
                    "We will text you again next week.")
    result = service.translate_messages(store, comm, [other["id"]], ["ur"])
    assert result["translated"][0]["reused_segments"] == 1
    t = service.get_translation(store, other["id"], "ur")
    assert [s["reused"] for s in t["segments"]] == [True, False]
    assert t["segments"][0]["target"] == corrected
    assert t["reused_segments"] == 1 and t["origin"] == "machine"


def test_a_fully_remembered_message_needs_no_engine(store, team, flu, copy_packs):
    comm = team["communicator"]
    service.translate_messages(store, comm, [flu["id"]], ["ur"])
    service.approve_translation(store, team["reviewer"], flu["id"], "ur")
    again = service.create_message(store, comm, title="Same words", source_text=FLU, channel="sms")
    service.translate_messages(store, comm, [again["id"]], ["ur"])
    t = service.get_translation(store, again["id"], "ur")
    assert t["origin"] == "memory" and t["engine"] == "translation memory"
    assert t["reused_segments"] == len(t["segments"]) == 2
    # The back-translation and its score come from memory with the sentences.
    first = service.get_translation(store, flu["id"], "ur")
    assert t["back_translation"] == first["back_translation"]
    assert [s["similarity"] for s in t["segments"]] == [100.0, 100.0]
    assert t["similarity"] == first["similarity"] == 100.0


def test_polish_source_to_urdu_pivots_through_english_and_says_so(
        store, team, copy_packs, polish_to_english_pack):
    from language_packs.packs import install
    install(store, polish_to_english_pack)
    m = service.create_message(store, team["communicator"], title="Szczepienie",
                               source_text="Zaszczep się przeciw grypie. Zadzwoń do GP.",
                               channel="letter", source_language="pl")
    result = service.translate_messages(store, team["communicator"], [m["id"]], ["ur"])
    assert result["translated"][0]["pivoted"] is True
    t = service.get_translation(store, m["id"], "ur")
    assert t["pivoted"] is True and "+" in t["engine"]
    assert "pivoted through English" in service.translation_history(store, m["id"], "ur")[0]["reason"]
    direct = service.translate_messages(store, team["communicator"], [
        service.create_message(store, team["communicator"], title="Flu", channel="sms",
                               source_text="Get your flu vaccine.")["id"]], ["ur"])
    assert direct["translated"][0]["pivoted"] is False


def test_languages_without_a_pack_go_to_human_translators(store, team, flu, copy_packs):
    with pytest.raises(Unprocessable) as refused:
        service.translate_messages(store, team["communicator"], [flu["id"]], ["pa-Guru"])
    assert "Request a human translation" in refused.value.message()
    assert store.one("SELECT count(*) FROM translations")[0] == 0
    [t] = service.request_human(store, team["communicator"], flu["id"], ["pa-Guru"])
    assert t["status"] == "human_requested" and t["text"] == ""
    with pytest.raises(Conflict, match="no text to approve"):
        service.approve_translation(store, team["reviewer"], flu["id"], "pa-Guru")


def test_xliff_round_trip_for_a_human_translation(store, team, flu):
    comm = team["communicator"]
    service.request_human(store, comm, flu["id"], ["pa-Guru"])
    data, name = exchange.export_file(store, [flu["id"]], "pa-Guru", "xliff")
    assert name.endswith(".xlf")
    assert b'version="2.0"' in data and b'trgLang="pa-Guru"' in data
    assert b"{first_name}" in data and b"keep exactly" in data
    from lxml import etree
    ns = {"x": "urn:oasis:names:tc:xliff:document:2.0"}
    for unit in etree.fromstring(data).iterfind(".//x:unit", ns):
        # XLIFF 2.0 core: <notes> come first in <unit>; <segment> holds source and target.
        assert [etree.QName(c).localname for c in unit] == ["notes", "segment"]
        assert unit.find("x:segment", ns).get("state") == "initial"
    from translate.storage.xliff2 import Xliff2File
    doc = Xliff2File.parsestring(data)
    punjabi = ["ਸਤ ਸ੍ਰੀ ਅਕਾਲ {first_name}, ਤੁਸੀਂ ਆਪਣੀ GP ਸਰਜਰੀ ਵਿੱਚ ਮੁਫ਼ਤ ਫਲੂ ਵੈਕਸੀਨ ਲਗਵਾ ਸਕਦੇ ਹੋ।",
               "ਬੁੱਕ ਕਰਨ ਲਈ 0121 496 0000 'ਤੇ ਕਾਲ ਕਰੋ।"]
    assert [u.source for u in doc.units] == [
        "Hello {first_name}, you can have a free flu vaccine at your GP surgery.",
        "Call 0121 496 0000 to book."]
    for unit, text in zip(doc.units, punjabi):
        unit.target = text
    result = exchange.import_file(store, comm, bytes(doc), message_id=flu["id"])
    assert result == {"format": "XLIFF 2.0", "language": "pa-Guru",
                      "imported": [{"message_id": flu["id"], "language": "pa-Guru", "sentences": 2,
                                    "status": "received"}]}
    t = service.get_translation(store, flu["id"], "pa-Guru")
    assert t["status"] == "received" and t["text"] == " ".join(punjabi)
    assert service.approve_translation(store, team["reviewer"], flu["id"], "pa-Guru")["status"] == "approved"


def test_po_round_trip_and_xliff_12_is_read_too(store, team, flu):
    comm = team["communicator"]
    service.request_human(store, comm, flu["id"], ["so", "ti"])
    data, name = exchange.export_file(store, [flu["id"]], "so", "po")
    assert name.endswith(".po") and b'msgctxt "m' in data
    from translate.storage import po, xliff
    doc = po.pofile.parsestring(data)
    for unit in doc.units:
        if not unit.isheader():
            unit.target = "SO: " + unit.source
    exchange.import_file(store, comm, bytes(doc), message_id=flu["id"])
    assert service.get_translation(store, flu["id"], "so")["text"].startswith("SO: Hello {first_name}")

    old = xliff.xlifffile(sourcelanguage="en")
    old.settargetlanguage("ti")
    for i, (seg, target) in enumerate([
            ("Hello {first_name}, you can have a free flu vaccine at your GP surgery.",
             "ሰላም {first_name}፡ ኣብ GP ናይ ጉንፋዕ ክታበት ብናጻ ክትረኽቡ ትኽእሉ ኢኹም።"),
            ("Call 0121 496 0000 to book.", "ንምዝገባ ናብ 0121 496 0000 ደውሉ።")]):
        unit = old.addsourceunit(seg)
        unit.setid(f"m{flu['id']}-v1-s{i}")
        unit.target = target
    result = exchange.import_file(store, comm, bytes(old))
    assert result["format"] == "XLIFF 1.2" and result["language"] == "ti"


def test_an_xliff_file_for_an_older_version_or_another_message_is_refused_and_changes_nothing(
        store, team, flu):
    comm = team["communicator"]
    service.request_human(store, comm, flu["id"], ["gu"])
    data, _ = exchange.export_file(store, [flu["id"]], "gu", "xliff")
    filled = data.replace(b"</source>", b"</source><target>GU</target>")
    other = service.create_message(store, comm, title="Other", source_text="Wash your hands.",
                                   channel="poster")
    before = counts(store)
    with pytest.raises(BadInput, match=f"for message {flu['id']}, not message {other['id']}"):
        exchange.import_file(store, comm, filled, message_id=other["id"])
    service.edit_message(store, comm, flu["id"], source_text=FLU + " Thank you.")
    before = counts(store)
    with pytest.raises(Conflict, match="version 1 of message .* now at version 2"):
        exchange.import_file(store, comm, filled, message_id=flu["id"])
    assert counts(store) == before
    assert service.get_translation(store, flu["id"], "gu")["status"] == "stale"


def test_coverage_matrix_as_json_and_csv(store, team, flu, copy_packs):
    comm = team["communicator"]
    service.translate_messages(store, comm, [flu["id"]], ["ur"])
    service.approve_translation(store, team["reviewer"], flu["id"], "ur")
    service.request_human(store, comm, flu["id"], ["pa-Guru"])
    poster = service.create_message(store, comm, title="=HYPERLINK(1)", source_text="Wash your hands.",
                                    channel="poster")
    data = exports.coverage(store)
    assert data["languages"] == ["pa-Guru", "ur"]
    assert data["messages"][0]["statuses"] == {"pa-Guru": "human_requested", "ur": "approved"}
    assert data["messages"][1]["statuses"] == {"pa-Guru": "missing", "ur": "missing"}
    assert data["totals"]["ur"] == {"approved": 1, "missing": 1}
    lines = exports.coverage_csv(store).splitlines()
    assert lines[0] == '"message_id","title","channel","version","pa-Guru","ur"'
    assert lines[1] == f'{flu["id"]},"Flu invitation","sms",1,"human_requested","approved"'
    assert lines[2] == f'{poster["id"]},"\'=HYPERLINK(1)","poster",1,"missing","missing"'


def test_html_export_marks_every_block_with_lang_and_dir_and_escapes_text(
        store, team, copy_packs):
    comm = team["communicator"]
    m = service.create_message(store, comm, title="Flu <b>jab</b> & you", channel="letter",
                               source_text="Get your flu vaccine at your GP.")
    service.translate_messages(store, comm, [m["id"]], ["ur", "pl"])
    service.edit_translation(store, comm, m["id"], "ur", "اپنی فلو ویکسین <script>alert(1)</script> لگوائیں۔")
    service.approve_translation(store, team["reviewer"], m["id"], "ur")
    page = exports.export_html(store, m["id"])
    assert page.startswith('<!DOCTYPE html>\n<html lang="en" dir="ltr">')
    assert '<section lang="ur" dir="rtl">' in page and '<div lang="ur" dir="rtl">' in page
    assert '<section lang="en" dir="ltr">' in page
    assert "<script" not in page and "<b>" not in page and "&amp;" in page
    assert 'lang="pl"' not in page      # machine, not approved: left out
    assert exports.export_text(store, m["id"], "ur") == "اپنی فلو ویکسین لگوائیں۔\n"
    with pytest.raises(Conflict, match="not approved"):
        exports.export_text(store, m["id"], "pl")


def test_every_change_to_words_is_in_the_audit_log_with_before_and_after(
        store, team, flu, copy_packs):
    comm, reviewer = team["communicator"], team["reviewer"]
    service.translate_messages(store, comm, [flu["id"]], ["ur"])
    machine = service.get_translation(store, flu["id"], "ur")
    service.edit_translation(store, reviewer, flu["id"], "ur", URDU_FLU + " شکریہ")
    service.approve_translation(store, reviewer, flu["id"], "ur")
    service.edit_message(store, comm, flu["id"], source_text=FLU + " Thank you.")

    msg_log = entries(store, "message", flu["id"])
    assert [e["action"] for e in msg_log] == ["message.create", "message.edit_source"]
    assert msg_log[1]["before"]["source_text"] == FLU
    assert msg_log[1]["after"] == {"source_text": FLU + " Thank you.", "version": 2}
    tid = store.one("SELECT id FROM translations")[0]
    log = entries(store, "translation", tid)
    assert [(e["action"], e["actor_name"]) for e in log] == [
        ("translation.machine", "test-communicator"), ("translation.needs_review", "test-reviewer"),
        ("translation.approved", "test-reviewer"), ("translation.stale", "test-communicator")]
    assert log[1]["before"]["text"] == machine["text"]
    assert log[1]["after"]["text"] == URDU_FLU + " شکریہ"
    assert log[2]["before"]["status"] == "needs_review" and log[2]["after"]["status"] == "approved"


@pytest.mark.parametrize("kwargs, error, words", [
    ({"source_text": ""}, BadInput, "empty"),
    ({"source_text": "   "}, BadInput, "empty"),
    ({"source_text": "x" * 5001}, TooLarge, "limit is 5,000"),
    ({"source_text": "Get your flu jab. آج ہی"}, BadInput, "mixes scripts"),
    ({"source_text": "Get your flu jab.", "source_language": "xx-Nope"}, BadInput, "xx-Nope"),
    ({"source_text": "Get your flu jab.", "channel": "fax"}, BadInput, "not a channel"),
    ({"source_text": "<script>alert(1)</script>"}, BadInput, "empty"),
])
def test_bad_messages_get_a_clear_error_and_change_nothing(store, team, kwargs, error, words):
    before = counts(store)
    args = {"title": "Flu", "channel": "sms"} | kwargs
    with pytest.raises(error, match=words):
        service.create_message(store, team["communicator"], **args)
    assert counts(store) == before


def test_an_urdu_source_may_hold_placeholders_and_latin_names_but_not_another_script(
        store, team):
    m = service.create_message(store, team["communicator"], title="Urdu first", channel="sms",
                               source_language="ur",
                               source_text="سلام {first_name}، اپنے GP سے NHS 111 پر بات کریں۔")
    assert m["source_language"] == "ur"
    with pytest.raises(BadInput, match="mixes scripts"):
        service.create_message(store, team["communicator"], title="Mixed", channel="sms",
                               source_language="ur", source_text="سلام، ਸਤ ਸ੍ਰੀ ਅਕਾਲ")


def test_html_in_a_message_is_reduced_to_its_words(store, team):
    m = service.create_message(store, team["communicator"], title="<i>Flu</i>", channel="sms",
                               source_text="<p>Get your <b>flu jab</b> at A&amp;E? No, "
                                           "at your GP.</p><script>steal()</script>")
    assert m["source_text"] == "Get your flu jab at A&E? No, at your GP."
    assert m["title"] == "Flu"


def test_bad_translation_requests_change_nothing(store, team, flu, copy_packs):
    comm = team["communicator"]
    before = counts(store)
    with pytest.raises(BadInput, match="klingon"):
        service.translate_messages(store, comm, [flu["id"]], ["ur", "klingon"])
    with pytest.raises(BadInput, match="own language"):
        service.translate_messages(store, comm, [flu["id"]], ["en"])
    with pytest.raises(Unprocessable, match="no translation pack"):
        service.translate_messages(store, comm, [flu["id"]], ["ur", "so"])
    assert counts(store) == before


def test_translate_job_translates_many_messages(store, team, flu, copy_packs):
    from cohear.jobs import JobQueue
    other = service.create_message(store, team["communicator"], title="Measles",
                                   source_text="Check your child has had two MMR doses.",
                                   channel="whatsapp")
    queue = JobQueue(store)
    job_id = queue.enqueue("comms.translate", {"message_ids": [flu["id"], other["id"]],
                                               "languages": ["ur", "pl", "bn"]},
                           actor=team["communicator"])
    assert queue.run_job(job_id, owner="test") == "done"
    job = queue.get(job_id)
    assert job["result"]["translated"] == 6
    assert {(t["message_id"], t["language"]) for t in job["result"]["pairs"]} == {
        (m, lang) for m in (flu["id"], other["id"]) for lang in ("ur", "pl", "bn")}
    assert service.get_translation(store, other["id"], "bn")["status"] == "machine"
    assert json.loads(store.one("SELECT payload_json FROM jobs")[0])["languages"] == ["ur", "pl", "bn"]


def test_demo_seed_is_idempotent(store, team):
    from comms import demo
    first = demo.seed(store, team)
    second = demo.seed(store, team)
    assert "added message" in first[0] and "already there" in second[0]
    assert store.one("SELECT count(*) FROM messages")[0] == 1
    [message] = service.list_messages(store)
    assert message["translations"] == {"pa-Guru": "human_requested"}
    assert service.check_message(store, message["id"])["reading_age"] <= 11


def test_an_engine_that_drops_a_placeholder_token_gets_its_translation_flagged(
        store, team, flu, copy_packs, monkeypatch):
    from language_packs.engine import get_engine
    engine = get_engine(store)
    real = engine.translate

    def dropping(texts, source, target):
        # A fake only to make the failure happen: this engine loses each sentence's
        # first token ({first_name} in one, the phone number in the other).
        return [r.__class__(r.text.replace("XX0XX", ""), r.source, r.target, r.pivoted, r.engine)
                for r in real(texts, source, target)]

    monkeypatch.setattr(engine, "translate", dropping)
    service.translate_messages(store, team["communicator"], [flu["id"]], ["pl"])
    t = service.get_translation(store, flu["id"], "pl")
    assert "{first_name}" not in t["text"]
    assert {p["placeholder"] for p in t["placeholder_problems"]} == {"{first_name}",
                                                                     "0121 496 0000"}
    with pytest.raises(Unprocessable):
        service.approve_translation(store, team["reviewer"], flu["id"], "pl")


def test_export_after_a_source_edit_prefills_unchanged_sentences(store, team, flu, copy_packs):
    comm = team["communicator"]
    service.translate_messages(store, comm, [flu["id"]], ["ur"])
    service.edit_message(store, comm, flu["id"],
                         source_text=FLU.replace("Call 0121 496 0000 to book.",
                                                 "Call 0121 496 0000 or ask at reception."))
    data, _ = exchange.export_file(store, [flu["id"]], "ur", "xliff")
    from translate.storage.xliff2 import Xliff2File
    units = Xliff2File.parsestring(data).units
    assert [u.getid() for u in units] == [f"m{flu['id']}-v2-s0", f"m{flu['id']}-v2-s1"]
    assert units[0].target == units[0].source          # unchanged: the old (copied) text
    assert not units[1].target                          # changed: for the translator
    done = service.create_message(store, comm, title="Short", source_text="Stay well.",
                                  channel="sms")
    service.translate_messages(store, comm, [done["id"]], ["ur"])
    with pytest.raises(BadInput, match="no sentence"):
        exchange.export_file(store, [done["id"]], "ur", "po")
    assert b"Stay well." in exchange.export_file(store, [done["id"]], "ur", "po",
                                                 include_all=True)[0]


def test_a_version_saved_before_sentences_were_stored_is_split_when_needed(
        store, team, flu, copy_packs):
    with store.transaction() as conn:   # as a database migrated from 0001 has it
        conn.execute("UPDATE message_versions SET segments_json = NULL")
    result = service.translate_messages(store, team["communicator"], [flu["id"]], ["ur"])
    assert result["translated"][0]["segments"] == 2
    assert service.get_translation(store, flu["id"], "ur")["text"].endswith("to book.")
