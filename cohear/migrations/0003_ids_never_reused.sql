-- Ids that appear in URLs, exports or the audit log are never reused: every table with
-- an integer id becomes AUTOINCREMENT (SQLite then never hands out an id it gave before,
-- even after the row with the highest id is deleted). SQLite cannot change a table's
-- primary key in place, so each table is rebuilt keeping every row and id, following
-- SQLite's documented 12-step procedure (the migration runner turns foreign keys off
-- around it and runs `PRAGMA foreign_key_check` before committing); indexes and
-- triggers are created again as they were.
CREATE TABLE new_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'communicator', 'collector', 'reviewer', 'researcher')),
    created_at TEXT NOT NULL,
    disabled_at TEXT
);
INSERT INTO new_users (id, name, role, created_at, disabled_at)
    SELECT id, name, role, created_at, disabled_at FROM users;
DROP TABLE users;
ALTER TABLE new_users RENAME TO users;

CREATE TABLE new_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    prefix TEXT NOT NULL UNIQUE,          -- the public part, shown in listings
    token_hash TEXT NOT NULL UNIQUE,      -- sha256 of the whole token; the token itself is never stored
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
INSERT INTO new_tokens (id, user_id, prefix, token_hash, label, created_at, expires_at, revoked_at, last_used_at)
    SELECT id, user_id, prefix, token_hash, label, created_at, expires_at, revoked_at, last_used_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE new_tokens RENAME TO tokens;
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE new_audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_audit_log (id, at, actor_id, actor_name, action, entity, entity_id, before_json, after_json, detail, erased)
    SELECT id, at, actor_id, actor_name, action, entity, entity_id, before_json, after_json, detail, erased FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE new_audit_log RENAME TO audit_log;
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

CREATE TABLE new_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_jobs (id, kind, payload_json, status, progress, attempts, max_attempts, result_json, error, owner, lease_expires_at, cancel_requested, created_by, created_at, started_at, finished_at, completions)
    SELECT id, kind, payload_json, status, progress, attempts, max_attempts, result_json, error, owner, lease_expires_at, cancel_requested, created_by, created_at, started_at, finished_at, completions FROM jobs;
DROP TABLE jobs;
ALTER TABLE new_jobs RENAME TO jobs;
CREATE INDEX jobs_status ON jobs(status);

CREATE TABLE new_job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    attempt INTEGER NOT NULL,
    owner TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT                     -- done | failed | cancelled | lost (worker died)
);
INSERT INTO new_job_runs (id, job_id, attempt, owner, started_at, ended_at, outcome)
    SELECT id, job_id, attempt, owner, started_at, ended_at, outcome FROM job_runs;
DROP TABLE job_runs;
ALTER TABLE new_job_runs RENAME TO job_runs;
