-- A recording belongs to whoever uploaded it. The same bytes uploaded by two collectors
-- are two recordings (each their own, with its own id, transcription and withdrawal)
-- sharing one audio blob, so that an upload never tells a collector that a recording
-- exists elsewhere; within one uploader the same bytes are still one recording.
-- The table is rebuilt (SQLite cannot drop a UNIQUE constraint in place) keeping every
-- row and id, and ids handed out before stay used (AUTOINCREMENT). It lives with the
-- surveys migrations because collection is what needs it; speech's tables come first.
CREATE TABLE new_recordings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uploaded_by INTEGER NOT NULL REFERENCES users(id),
    filename TEXT NOT NULL DEFAULT '',        -- as uploaded; shown to people, never used as a path
    original_sha256 TEXT NOT NULL REFERENCES blobs(sha256),  -- one uploader's duplicates are recognised by it
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
    created_at TEXT NOT NULL,
    UNIQUE (original_sha256, uploaded_by)
);
INSERT INTO new_recordings (id, uploaded_by, filename, original_sha256, normalised_sha256,
        media_type, format, codec, size_bytes, duration_seconds, sample_rate, channels,
        peak_dbfs, speech_seconds, speech_ratio, language_hint, created_at)
    SELECT id, uploaded_by, filename, original_sha256, normalised_sha256, media_type, format,
        codec, size_bytes, duration_seconds, sample_rate, channels, peak_dbfs, speech_seconds,
        speech_ratio, language_hint, created_at FROM recordings;
-- The sequence starts above every id handed out before: rows still here, the old table's
-- own sequence (where it had one), and ids the audit log names (deleted since).
INSERT INTO sqlite_sequence (name, seq) SELECT 'new_recordings', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'new_recordings');
UPDATE sqlite_sequence SET seq = max(seq,
        coalesce((SELECT max(seq) FROM sqlite_sequence WHERE name = 'recordings'), 0),
        coalesce((SELECT max(CAST(entity_id AS INTEGER)) FROM audit_log
                  WHERE entity = 'recording'), 0))
    WHERE name = 'new_recordings';
DROP TABLE recordings;
ALTER TABLE new_recordings RENAME TO recordings;
CREATE INDEX recordings_uploaded_by ON recordings(uploaded_by);
