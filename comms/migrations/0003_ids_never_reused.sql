-- Ids that appear in URLs, exports or the audit log are never reused: every table with
-- an integer id becomes AUTOINCREMENT. Rebuilt keeping every row and id, by SQLite's
-- documented 12-step procedure (the migration runner turns foreign keys off around it
-- and checks them before committing); indexes are created again as they were.
CREATE TABLE new_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    audience TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'letter', 'phone_script', 'poster', 'whatsapp')),
    tags_json TEXT NOT NULL DEFAULT '[]',
    source_language TEXT NOT NULL DEFAULT 'en',
    owner_id INTEGER REFERENCES users(id),
    current_version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO new_messages (id, title, audience, channel, tags_json, source_language, owner_id, current_version, created_at, updated_at)
    SELECT id, title, audience, channel, tags_json, source_language, owner_id, current_version, created_at, updated_at FROM messages;
DROP TABLE messages;
ALTER TABLE new_messages RENAME TO messages;

CREATE TABLE new_message_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    version INTEGER NOT NULL,
    source_text TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL, segments_json TEXT,
    UNIQUE (message_id, version)
);
INSERT INTO new_message_versions (id, message_id, version, source_text, created_by, created_at, segments_json)
    SELECT id, message_id, version, source_text, created_by, created_at, segments_json FROM message_versions;
DROP TABLE message_versions;
ALTER TABLE new_message_versions RENAME TO message_versions;

CREATE TABLE new_translations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    language TEXT NOT NULL,
    source_version INTEGER NOT NULL,       -- the message version this text translates
    text TEXT NOT NULL DEFAULT '',
    segments_json TEXT NOT NULL DEFAULT '[]',  -- [{source, target, sep, reused}]
    status TEXT NOT NULL CHECK (status IN ('machine', 'needs_review', 'approved',
                                           'human_requested', 'received', 'stale')),
    origin TEXT NOT NULL DEFAULT 'machine' CHECK (origin IN ('machine', 'memory', 'human', 'none')),
    engine TEXT,
    pivoted INTEGER NOT NULL DEFAULT 0,
    back_translation TEXT,
    similarity REAL,                        -- chrF (0-100) of source vs back-translation
    placeholder_problems_json TEXT NOT NULL DEFAULT '[]',
    revision INTEGER NOT NULL DEFAULT 1,
    approved_by INTEGER REFERENCES users(id),
    approved_at TEXT,
    updated_by INTEGER REFERENCES users(id),
    updated_at TEXT NOT NULL,
    UNIQUE (message_id, language)
);
INSERT INTO new_translations (id, message_id, language, source_version, text, segments_json, status, origin, engine, pivoted, back_translation, similarity, placeholder_problems_json, revision, approved_by, approved_at, updated_by, updated_at)
    SELECT id, message_id, language, source_version, text, segments_json, status, origin, engine, pivoted, back_translation, similarity, placeholder_problems_json, revision, approved_by, approved_at, updated_by, updated_at FROM translations;
DROP TABLE translations;
ALTER TABLE new_translations RENAME TO translations;
CREATE INDEX translations_status ON translations(status);

CREATE TABLE new_translation_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    translation_id INTEGER NOT NULL REFERENCES translations(id),
    revision INTEGER NOT NULL,
    source_version INTEGER NOT NULL,
    status TEXT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    UNIQUE (translation_id, revision)
);
INSERT INTO new_translation_revisions (id, translation_id, revision, source_version, status, text, reason, created_by, created_at)
    SELECT id, translation_id, revision, source_version, status, text, reason, created_by, created_at FROM translation_revisions;
DROP TABLE translation_revisions;
ALTER TABLE new_translation_revisions RENAME TO translation_revisions;

CREATE TABLE new_translation_memory (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_language TEXT NOT NULL,
    language TEXT NOT NULL,
    source_text TEXT NOT NULL,
    target_text TEXT NOT NULL,
    back_translation TEXT,
    translation_id INTEGER REFERENCES translations(id),
    approved_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL, similarity REAL,
    UNIQUE (source_language, language, source_text)
);
INSERT INTO new_translation_memory (id, source_language, language, source_text, target_text, back_translation, translation_id, approved_by, created_at, similarity)
    SELECT id, source_language, language, source_text, target_text, back_translation, translation_id, approved_by, created_at, similarity FROM translation_memory;
DROP TABLE translation_memory;
ALTER TABLE new_translation_memory RENAME TO translation_memory;

CREATE TABLE new_glossary (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    term TEXT NOT NULL,
    language TEXT,
    translation TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
INSERT INTO new_glossary (id, term, language, translation, note, created_by, created_at)
    SELECT id, term, language, translation, note, created_by, created_at FROM glossary;
DROP TABLE glossary;
ALTER TABLE new_glossary RENAME TO glossary;
CREATE UNIQUE INDEX glossary_term ON glossary(term, coalesce(language, ''));

