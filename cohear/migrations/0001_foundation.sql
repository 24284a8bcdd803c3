-- The shell's tables: people and tokens, the audit log, blobs, jobs, Whisper models.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'communicator', 'collector', 'reviewer', 'researcher')),
    created_at TEXT NOT NULL,
    disabled_at TEXT
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    prefix TEXT NOT NULL UNIQUE,          -- the public part, shown in listings
    token_hash TEXT NOT NULL UNIQUE,      -- sha256 of the whole token; the token itself is never stored
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE INDEX tokens_user ON tokens(user_id);

-- Append-only: rows can never be deleted, and the only update allowed is the
-- erasure of people's words (before/after) when a respondent withdraws consent.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    before_json TEXT,
    after_json TEXT,
    detail TEXT NOT NULL DEFAULT '',
    erased INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_entity ON audit_log(entity, entity_id);
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (OLD.erased = 0 AND NEW.erased = 1
          AND NEW.before_json IS NULL AND NEW.after_json IS NULL
          AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action
          AND NEW.entity = OLD.entity AND NEW.entity_id IS OLD.entity_id
          AND NEW.actor_name = OLD.actor_name AND NEW.actor_id IS OLD.actor_id)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    progress REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    result_json TEXT,
    error TEXT,
    owner TEXT,                      -- worker holding the lease while running
    lease_expires_at REAL,           -- unix time; a running job past it is taken back
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    completions INTEGER NOT NULL DEFAULT 0 CHECK (completions <= 1)
);
CREATE INDEX jobs_status ON jobs(status);

CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    attempt INTEGER NOT NULL,
    owner TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT                     -- done | failed | cancelled | lost (worker died)
);

CREATE TABLE whisper_models (
    name TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    source TEXT NOT NULL,
    files_json TEXT NOT NULL,         -- {file: sha256}
    verified INTEGER NOT NULL,        -- 1 when every file matched a published hash
    added_at TEXT NOT NULL
);
