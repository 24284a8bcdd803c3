-- Ids that appear in URLs, exports or the audit log are never reused: a recording
-- deleted when its respondent withdrew must not lend its id to the next upload (the
-- audit log would then mix the two). Recordings and transcripts become AUTOINCREMENT,
-- rebuilt keeping every row and id by SQLite's documented 12-step procedure (the
-- migration runner turns foreign keys off around it and checks them before committing).
CREATE TABLE new_recordings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uploaded_by INTEGER NOT NULL REFERENCES users(id),
    filename TEXT NOT NULL DEFAULT '',        -- as uploaded; shown to people, never used as a path
    original_sha256 TEXT NOT NULL UNIQUE REFERENCES blobs(sha256),  -- duplicates are recognised by it
    normalised_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    media_type TEXT NOT NULL,                 -- what the bytes are, not what the client said
    format TEXT NOT NULL,                     -- wav, mp3, mp4, aac, ogg, webm, amr, flac
    codec TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    duration_seconds REAL NOT NULL,
    sample_rate INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    peak_dbfs REAL NOT NULL,
    speech_seconds REAL NOT NULL,
    speech_ratio REAL NOT NULL,
    language_hint TEXT,
    created_at TEXT NOT NULL
);
INSERT INTO new_recordings (id, uploaded_by, filename, original_sha256, normalised_sha256, media_type, format, codec, size_bytes, duration_seconds, sample_rate, channels, peak_dbfs, speech_seconds, speech_ratio, language_hint, created_at)
    SELECT id, uploaded_by, filename, original_sha256, normalised_sha256, media_type, format, codec, size_bytes, duration_seconds, sample_rate, channels, peak_dbfs, speech_seconds, speech_ratio, language_hint, created_at FROM recordings;
DROP TABLE recordings;
ALTER TABLE new_recordings RENAME TO recordings;
CREATE INDEX recordings_uploaded_by ON recordings(uploaded_by);

CREATE TABLE new_transcripts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recording_id INTEGER NOT NULL REFERENCES recordings(id),
    version INTEGER NOT NULL,                 -- 1 is the machine's; each correction adds one
    source TEXT NOT NULL CHECK (source IN ('machine', 'reviewer')),
    author_id INTEGER REFERENCES users(id),   -- NULL for the machine
    author_name TEXT NOT NULL,
    text TEXT NOT NULL,
    language TEXT,                            -- the language the words are in
    language_hint TEXT,
    detected_language TEXT,
    language_probability REAL,
    language_mismatch INTEGER NOT NULL DEFAULT 0,
    confidence REAL,
    needs_review INTEGER NOT NULL DEFAULT 0,
    engine_json TEXT,                         -- model, device, compute type, options
    note TEXT NOT NULL DEFAULT '',
    job_id INTEGER UNIQUE REFERENCES jobs(id), -- a job writes at most one version
    created_at TEXT NOT NULL,
    UNIQUE (recording_id, version)
);
INSERT INTO new_transcripts (id, recording_id, version, source, author_id, author_name, text, language, language_hint, detected_language, language_probability, language_mismatch, confidence, needs_review, engine_json, note, job_id, created_at)
    SELECT id, recording_id, version, source, author_id, author_name, text, language, language_hint, detected_language, language_probability, language_mismatch, confidence, needs_review, engine_json, note, job_id, created_at FROM transcripts;
DROP TABLE transcripts;
ALTER TABLE new_transcripts RENAME TO transcripts;

-- Ids handed out before and since deleted (their rows are gone, the audit log still
-- names them): the sequences start above the highest of them.
INSERT INTO sqlite_sequence (name, seq) SELECT 'recordings', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'recordings');
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(CAST(entity_id AS INTEGER))
    FROM audit_log WHERE entity = 'recording'), 0)) WHERE name = 'recordings';
