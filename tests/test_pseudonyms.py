"""Pseudonyms are tied to the install's secret salt: each is HMAC-SHA256 keyed with the
salt over the respondent's cohear id (first 8 bytes, base32, `P-` in front), so without
the salt they cannot be computed from the id, and another salt gives others. The
expected values are computed here with the standard library, not by cohear's code."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac

import pytest

from cohear.store import Store
from surveys import exports, service
from tests.conftest import make_settings


def expected(salt: bytes, cohear_id: str) -> str:
    digest = hmac.new(salt, cohear_id.encode("utf-8"), hashlib.sha256).digest()
    return "P-" + base64.b32encode(digest[:8]).decode("ascii").rstrip("=")


def exported(tmp_path, people, salt: str | None, name: str) -> tuple[Store, dict[str, str]]:
    """A fresh install (its own data directory, the given salt or a made one) with two
    respondents; cohear id -> the pseudonym its CSV export shows."""
    from cohear.auth import create_user
    store = Store(make_settings(tmp_path / name, pseudonym_salt=salt or ""))
    store.migrate()
    comm, _ = create_user(store, "c", "communicator")
    collector, _ = create_user(store, "k", "collector")
    researcher, _ = create_user(store, "r", "researcher")
    s = service.create_survey(store, comm, title="P", purpose="p", base_language="en",
                              questions=[{"kind": "consent", "name": "c", "text": "Agree?"},
                                         {"kind": "open", "name": "o", "text": "Say"}])
    service.open_language(store, comm, s["id"], "en")
    ids = {}
    for words in ("first answer", "second answer"):
        session = service.start_session(store, collector, s["id"], "en")
        service.record_consent(store, collector, session["id"], method="tick")
        service.submit_answer(store, collector, session["id"], s["questions"][1]["id"],
                              text=words)
        ids[words] = session["respondent"]
    out = tmp_path / f"{name}.csv"
    exports.export_survey(store, researcher, s["id"], "csv", out)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        shown = {row["answer_text"]: row["respondent"] for row in csv.DictReader(fh)}
    return store, {ids[words]: shown[words] for words in ids}


def test_a_pseudonym_is_the_salted_keyed_hash_of_the_respondent(tmp_path, people):
    salt = "a shared secret for two installs"
    store, pseudonyms = exported(tmp_path, people, salt, "one")
    for cohear_id, shown in pseudonyms.items():
        assert shown == expected(salt.encode(), cohear_id)
        assert shown != "P-" + base64.b32encode(
            hashlib.sha256(cohear_id.encode()).digest()[:8]).decode().rstrip("=")
    assert len(set(pseudonyms.values())) == 2


def test_two_salts_give_different_pseudonyms_for_the_same_respondents(tmp_path, people):
    store, first = exported(tmp_path, people, "salt one", "a")
    # The same data directory (the same respondents) exported under another salt.
    resalted = Store(store.settings.replace(pseudonym_salt="salt two"))
    researcher = resalted.one("SELECT id, name, role FROM users WHERE role = 'researcher'")
    from cohear.auth import User
    out = tmp_path / "resalted.csv"
    exports.export_survey(resalted, User(*researcher), 1, "csv", out)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        second = {row["respondent"] for row in csv.DictReader(fh)}
    assert len(second) == 2 and second.isdisjoint(first.values())
    assert second == {expected(b"salt two", cohear_id) for cohear_id in first}


def test_the_made_salt_is_secret_random_and_used(tmp_path, people):
    store, pseudonyms = exported(tmp_path, people, None, "made")
    path = store.settings.data_dir / "pseudonym-salt"
    salt = path.read_bytes().strip()
    assert len(salt) >= 32 and oct(path.stat().st_mode & 0o777) == "0o600"
    for cohear_id, shown in pseudonyms.items():
        assert shown == expected(salt, cohear_id)
    _, other = exported(tmp_path, people, None, "other")
    other_salt = (tmp_path / "other" / "pseudonym-salt").read_bytes().strip()
    assert other_salt != salt


@pytest.mark.parametrize("cohear_id", ["R-0123456789", "R-ABCDEF0123"])
def test_the_salt_changes_every_pseudonym(cohear_id):
    """The property the promise rests on, for any id: change the key, change the output."""
    assert exports.pseudonym(b"k1", cohear_id) == expected(b"k1", cohear_id)
    assert exports.pseudonym(b"k1", cohear_id) != exports.pseudonym(b"k2", cohear_id)


def reference(salt: bytes, kind: str, row_id: int) -> str:
    digest = hmac.new(salt, f"{kind}:{row_id}".encode(), hashlib.sha256).digest()
    return kind[0].upper() + "-" + base64.b32encode(digest[:8]).decode("ascii").rstrip("=")


def test_session_and_answer_pseudonyms_are_the_salted_keyed_hash_of_their_ids(tmp_path, people):
    """README: sessions and answers are salted pseudonyms too (`S-…`, `A-…`), made as the
    respondent's are, over `session:ID` and `answer:ID`; another salt gives others."""
    salt = "a shared secret for two installs"
    store, _ = exported(tmp_path, people, salt, "refs")
    researcher = store.one("SELECT id, name, role FROM users WHERE role = 'researcher'")
    from cohear.auth import User
    stored = {r["text"]: (r["session_id"], r["answer_id"]) for r in store.all(
        "SELECT t.text, a.session_id, a.id AS answer_id FROM answer_texts t "
        "JOIN answers a ON a.id = t.answer_id")}
    for key in (salt, "another salt"):
        out = tmp_path / f"refs-{len(key)}.csv"
        exports.export_survey(Store(store.settings.replace(pseudonym_salt=key)), User(*researcher),
                              1, "csv", out)
        with open(out, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == 2
        for row in rows:
            session_id, answer_id = stored[row["answer_text"]]
            assert row["session"] == reference(key.encode(), "session", session_id)
            assert row["answer"] == reference(key.encode(), "answer", answer_id)
