-- Recordings (the original upload and its 16 kHz mono copy are blobs), transcript
-- versions (the machine's first, then reviewers' corrections), their segments, and
-- English renderings of each version.
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
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
CREATE INDEX recordings_uploaded_by ON recordings(uploaded_by);

CREATE TABLE recording_jobs (
    recording_id INTEGER NOT NULL REFERENCES recordings(id),
    job_id INTEGER NOT NULL UNIQUE REFERENCES jobs(id),
    PRIMARY KEY (recording_id, job_id)
);

CREATE TABLE transcripts (
    id INTEGER PRIMARY KEY,
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

CREATE TABLE transcript_segments (
    transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
    position INTEGER NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    text TEXT NOT NULL,
    confidence REAL,
    avg_logprob REAL,
    no_speech_prob REAL,
    compression_ratio REAL,
    rejected_reason TEXT,                     -- set: a guard judged it a hallucination; kept visible
    words_json TEXT,
    PRIMARY KEY (transcript_id, position)
);

CREATE TABLE transcript_english (
    transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
    engine TEXT NOT NULL,                     -- source (already English), whisper-translate, argos, reviewer
    text TEXT NOT NULL,
    PRIMARY KEY (transcript_id, engine)
);
