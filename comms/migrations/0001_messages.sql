-- Health messages, their source versions, per-language translations with their
-- full history, translation memory and the glossary.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
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

-- Every source text a message has had; a new edit adds a row, none is changed.
CREATE TABLE message_versions (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    version INTEGER NOT NULL,
    source_text TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    UNIQUE (message_id, version)
);

-- The current translation of a message into one language. Each change also adds a
-- row to translation_revisions, so no text is ever overwritten without a trace.
CREATE TABLE translations (
    id INTEGER PRIMARY KEY,
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
CREATE INDEX translations_status ON translations(status);

CREATE TABLE translation_revisions (
    id INTEGER PRIMARY KEY,
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

-- Approved sentence translations, reused for an identical sentence and language.
CREATE TABLE translation_memory (
    id INTEGER PRIMARY KEY,
    source_language TEXT NOT NULL,
    language TEXT NOT NULL,
    source_text TEXT NOT NULL,
    target_text TEXT NOT NULL,
    back_translation TEXT,
    translation_id INTEGER REFERENCES translations(id),
    approved_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    UNIQUE (source_language, language, source_text)
);

-- Terms kept as they are (language NULL and translation NULL: do not translate),
-- or given a fixed translation in one language.
CREATE TABLE glossary (
    id INTEGER PRIMARY KEY,
    term TEXT NOT NULL,
    language TEXT,
    translation TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX glossary_term ON glossary(term, coalesce(language, ''));
