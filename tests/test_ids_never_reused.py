"""Ids that appear in URLs, exports or the audit log are never reused (AUTOINCREMENT on
every table with an integer id), and the migrations that rebuild the tables for it keep
every row and id, fold answers a session gave twice into versions, and leave no
dangling reference."""

from __future__ import annotations

import io
import json

import pytest

from cohear import store as store_module
from cohear.store import Store, utcnow
from tests.conftest import make_settings
from tests.test_crash_safety import variants

# The migrations that made ids never-reused and answers one per question (and everything
# after them, which may build on them): an "old" database is one migrated without these.
FIRST_NEW = {"cohear": 3, "language_packs": 2, "comms": 3, "speech": 2, "surveys": 4,
             "webcollect": 3}


def old_store(tmp_path, monkeypatch) -> Store:
    """A database as the release before these migrations left it."""
    every = store_module.discover_migrations()
    older = [m for m in every if m.number < FIRST_NEW.get(m.package, 10**6)]
    monkeypatch.setattr(store_module, "discover_migrations", lambda: older)
    s = Store(make_settings(tmp_path / "old"))
    s.migrate()
    monkeypatch.setattr(store_module, "discover_migrations", lambda: every)
    return s


def integer_id_tables(conn) -> dict[str, str]:
    out = {}
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                                  "AND name NOT LIKE 'sqlite_%'"):
        pk = [r for r in conn.execute(f"PRAGMA table_info({name})") if r[5]]
        if len(pk) == 1 and pk[0][2].upper() == "INTEGER" and pk[0][1] == "id":
            out[name] = sql
    return out


def test_every_table_with_an_integer_id_never_reuses_one(store):
    tables = integer_id_tables(store.conn)
    assert {"answers", "recordings", "jobs", "audit_log", "survey_exports",
            "answer_texts", "codings", "language_packs", "messages"} <= set(tables)
    plain = sorted(name for name, sql in tables.items() if "AUTOINCREMENT" not in sql.upper())
    assert not plain, f"tables that could hand out a deleted row's id again: {plain}"


def test_after_a_withdrawal_new_answers_and_recordings_get_new_ids(store, people, api):
    from surveys import service
    comm, collector = people["communicator"][0], people["collector"][0]
    s = service.create_survey(store, comm, title="Ids", purpose="ids", base_language="en",
                              questions=[{"kind": "consent", "name": "c", "text": "Agree?"},
                                         {"kind": "open", "name": "o", "text": "Say"}])
    service.open_language(store, comm, s["id"], "en")
    q = s["questions"][1]["id"]

    def voice_answer(data: bytes) -> dict:
        session = service.start_session(store, collector, s["id"], "en")
        service.record_consent(store, collector, session["id"], method="tick")
        return service.submit_answer(store, collector, session["id"], q,
                                     audio=io.BytesIO(data), filename="a.wav",
                                     content_type="audio/wav")

    first, second = variants(2)
    gone = voice_answer(first)
    service.raise_safeguarding(store, people["reviewer"][0], gone["id"], "said something")
    withdrawn = api["collector"].post(f"/api/sessions/{gone['session_id']}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    new = voice_answer(second)
    assert new["id"] > gone["id"] and new["recording_id"] > gone["recording_id"]
    # The withdrawn answer's history is its own: erased words, never a new answer's.
    history = api["admin"].get("/api/audit", params={"entity": "answer",
                                                     "entity_id": gone["id"]}).json()
    assert history and all(e["erased"] for e in history)
    assert {e["action"] for e in history} >= {"answer.create", "safeguarding.raise"}
    new_history = api["admin"].get("/api/audit", params={"entity": "answer",
                                                         "entity_id": new["id"]}).json()
    assert [e["action"] for e in new_history] == ["answer.create"]
    assert api["reviewer"].get(f"/api/recordings/{gone['recording_id']}").status_code == 404


def _seed_old(s: Store) -> dict:
    """Rows an older cohear wrote: a question answered twice in one session (the race
    this release closes), with words, codings, a memo and a safeguarding flag on the
    later answer; a recording; an export; ids with gaps; an idempotency key."""
    c = s.conn
    now = utcnow()
    c.execute("INSERT INTO users (id, name, role, created_at) VALUES (4, 'ann', 'collector', ?),"
              " (9, 'rev', 'reviewer', ?)", (now, now))
    c.execute("INSERT INTO surveys (id, title, purpose, base_language, created_at) "
              "VALUES (3, 'S', 'p', 'en', ?)", (now,))
    c.execute("INSERT INTO survey_questions (id, survey_id, survey_version, position, name, kind,"
              " text) VALUES (11, 3, 1, 1, 'c', 'consent', 'Agree?'), "
              "(12, 3, 1, 2, 'o', 'open', 'Say')")
    c.execute("INSERT INTO respondents (id, cohear_id, created_at) VALUES (5, 'R-OLD', ?)", (now,))
    c.execute("INSERT INTO survey_sessions (id, survey_id, survey_version, respondent_id, "
              "language, collector_id, started_at) VALUES (7, 3, 1, 5, 'en', 4, ?)", (now,))
    for aid in (20, 23):
        c.execute("INSERT INTO answers (id, session_id, question_id, respondent_id, language, "
                  "survey_version, kind, created_by, created_at) "
                  "VALUES (?, 7, 12, 5, 'en', 1, 'text', 4, ?)", (aid, now))
    c.execute("UPDATE answers SET safeguarding = 1, safeguarding_reason = 'later said it', "
              "safeguarding_raised_by = 'rev' WHERE id = 23")
    c.execute("INSERT INTO answer_texts (id, answer_id, rendering, version, language, text, "
              "source, created_at) VALUES (30, 20, 'original', 1, 'en', 'first words', 'typed', "
              "?), (31, 23, 'original', 1, 'en', 'second words', 'typed', ?), "
              "(32, 23, 'english', 1, 'en', 'second words', 'typed', ?)", (now, now, now))
    c.execute("INSERT INTO codebooks (id, name, created_at) VALUES (1, 'B', ?)", (now,))
    c.execute("INSERT INTO codes (id, codebook_id, name, guid) VALUES (1, 1, 'Bus', 'g1')")
    c.execute("INSERT INTO codings (id, answer_id, code_id, coder_id, answer_text_id, "
              "start_offset, end_offset, created_at) VALUES (40, 23, 1, 9, 31, 0, 6, ?)", (now,))
    c.execute("INSERT INTO answer_memos (id, answer_id, author_id, text, created_at) "
              "VALUES (50, 23, 9, 'a memo', ?)", (now,))
    c.execute("INSERT INTO blobs (sha256, size, media_type, created_at) VALUES (?, 1, 'x', ?)",
              ("a" * 64, now))
    c.execute("INSERT INTO recordings (id, uploaded_by, original_sha256, normalised_sha256, "
              "media_type, format, codec, size_bytes, duration_seconds, sample_rate, channels, "
              "peak_dbfs, speech_seconds, speech_ratio, created_at) VALUES "
              "(8, 4, ?, ?, 'audio/wav', 'wav', 'pcm', 1, 1, 16000, 1, -1, 1, 1, ?)",
              ("a" * 64, "a" * 64, now))
    c.execute("INSERT INTO survey_exports (id, survey_id, format, status, created_at) "
              "VALUES (6, 3, 'csv', 'done', ?)", (now,))
    c.execute("INSERT INTO collect_uploads (collector_id, idempotency_key, kind, state, "
              "entity_id, started_at) VALUES (4, 'key-of-the-second', 'answer', 'done', 23, ?)",
              (now,))
    # The audit log names ids whose rows are gone (deleted by an earlier withdrawal).
    for entity, eid in (("answer", 20), ("answer", 23), ("answer", 41), ("recording", 15)):
        c.execute("INSERT INTO audit_log (at, actor_name, action, entity, entity_id, after_json) "
                  "VALUES (?, 'ann', 'x.create', ?, ?, '{}')", (now, entity, str(eid)))
    return {"now": now}


def test_the_migrations_keep_rows_and_ids_and_fold_a_question_answered_twice(tmp_path,
                                                                           monkeypatch):
    s = old_store(tmp_path, monkeypatch)
    _seed_old(s)
    before = {t: s.one(f"SELECT count(*) FROM {t}")[0]
              for t in ("users", "surveys", "survey_questions", "respondents", "survey_sessions",
                        "answer_texts", "codings", "answer_memos", "recordings",
                        "survey_exports", "audit_log", "codes", "codebooks")}
    indexes = {r[0] for r in s.all("SELECT name FROM sqlite_master WHERE type IN "
                                   "('index', 'trigger') AND sql IS NOT NULL")}
    applied = s.migrate()
    assert "surveys/0004_one_answer_per_question_ids_never_reused" in applied
    assert s.one("PRAGMA foreign_keys")[0] == 1
    assert s.all("PRAGMA foreign_key_check") == []
    assert s.one("PRAGMA integrity_check")[0] == "ok"
    after_indexes = {r[0] for r in s.all("SELECT name FROM sqlite_master WHERE type IN "
                                         "('index', 'trigger') AND sql IS NOT NULL")}
    assert indexes <= after_indexes, indexes - after_indexes
    for table, n in before.items():
        expected = n + (1 if table == "audit_log" else 0)  # the merge is audited
        assert s.one(f"SELECT count(*) FROM {table}")[0] == expected, table
    # Ids kept, rows as they were.
    assert s.one("SELECT name FROM users WHERE id = 9")[0] == "rev"
    assert s.one("SELECT cohear_id FROM respondents WHERE id = 5")[0] == "R-OLD"
    assert s.one("SELECT format FROM survey_exports WHERE id = 6")[0] == "csv"
    # The second answer became version 2 of the first, with its words, coding, memo and flag.
    answers = s.all("SELECT * FROM answers")
    assert [(a["id"], a["version"]) for a in answers] == [(20, 2)]
    assert answers[0]["safeguarding"] == 1 and answers[0]["safeguarding_reason"] == "later said it"
    texts = {(r["id"], r["rendering"], r["version"]) for r in s.all(
        "SELECT id, rendering, version FROM answer_texts WHERE answer_id = 20")}
    assert texts == {(30, "original", 1), (31, "original", 2), (32, "english", 1)}
    assert s.one("SELECT answer_id, answer_text_id FROM codings WHERE id = 40")[:] == (20, 31)
    assert s.one("SELECT answer_id FROM answer_memos WHERE id = 50")[0] == 20
    versions = s.all("SELECT version, answer_text_id, merged_from FROM answer_versions "
                     "WHERE answer_id = 20 ORDER BY version")
    assert [tuple(v) for v in versions] == [(1, 30, None), (2, 31, 23)]
    merge = s.one("SELECT * FROM audit_log WHERE action = 'answer.merge'")
    assert merge["entity_id"] == "20" and "answer 23" in merge["detail"]
    # The field page's key for the second answer now names the answer it became.
    assert s.one("SELECT entity_id FROM collect_uploads WHERE idempotency_key = "
                 "'key-of-the-second'")[0] == 20
    # New ids start above every id ever handed out, even ones whose rows are gone.
    with s.transaction() as conn:
        conn.execute("INSERT INTO survey_sessions (survey_id, survey_version, respondent_id, "
                     "language, collector_id, started_at) VALUES (3, 1, 5, 'en', 4, 'now')")
        aid = conn.execute("INSERT INTO answers (session_id, question_id, respondent_id, "
                           "language, survey_version, kind, created_by, created_at) VALUES "
                           "(last_insert_rowid(), 12, 5, 'en', 1, 'text', 4, 'now')").lastrowid
        conn.execute("INSERT INTO blobs (sha256, size, media_type, created_at) "
                     "VALUES (?, 1, 'x', 'now')", ("b" * 64,))
        rid = conn.execute("INSERT INTO recordings (uploaded_by, original_sha256, "
                           "normalised_sha256, media_type, format, codec, size_bytes, "
                           "duration_seconds, sample_rate, channels, peak_dbfs, speech_seconds, "
                           "speech_ratio, created_at) VALUES (4, ?, ?, 'a', 'wav', 'pcm', 1, 1, "
                           "1, 1, 1, 1, 1, 'now')", ("b" * 64, "a" * 64)).lastrowid
    assert aid == 42 and rid == 16


def test_a_migration_that_leaves_a_dangling_reference_changes_nothing(tmp_path, monkeypatch):
    """The runner checks foreign keys before committing a migration (they are off while
    it runs, for table rebuilds)."""
    from cohear.errors import StoreError
    s = old_store(tmp_path, monkeypatch)
    _seed_old(s)
    s.conn.execute("PRAGMA foreign_keys = OFF")
    s.conn.execute("INSERT INTO answer_memos (answer_id, author_id, text, created_at) "
                   "VALUES (999, 9, 'points at nothing', 'now')")
    s.conn.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(StoreError, match="point at rows that do not exist"):
        s.migrate()
    assert s.one("PRAGMA foreign_keys")[0] == 1
    assert s.one("SELECT count(*) FROM answers")[0] == 2  # the fold was rolled back
    assert "AUTOINCREMENT" not in s.one("SELECT sql FROM sqlite_master WHERE name = "
                                        "'answers'")[0]
    applied = {r[0] for r in s.all("SELECT package || '/' || number FROM schema_migrations")}
    assert "surveys/4" not in applied


def test_a_fresh_database_answers_every_table_it_had(store):
    names = {r[0] for r in store.all("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"answer_versions", "answers", "audit_log", "collect_parts"} <= names
    cols = {r[1] for r in store.all("PRAGMA table_info(collect_parts)")}
    assert "session_id" in cols
    assert json.loads(json.dumps([dict(r) for r in store.all("PRAGMA foreign_key_check")])) == []
