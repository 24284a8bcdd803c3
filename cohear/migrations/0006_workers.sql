-- Workers on other machines (cohear/workers.py): the `worker` role, whose tokens may only
-- run the jobs leased to them, and the workers that have said what they have.
-- The role list is a CHECK constraint, which SQLite cannot change in place: the users
-- table is rebuilt keeping every row and id (the runner turns foreign keys off around a
-- migration and checks them before it commits).
CREATE TABLE new_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'communicator', 'collector', 'reviewer',
                                       'researcher', 'worker')),
    created_at TEXT NOT NULL,
    disabled_at TEXT
);
INSERT INTO new_users (id, name, role, created_at, disabled_at)
    SELECT id, name, role, created_at, disabled_at FROM users;
DROP TABLE users;
ALTER TABLE new_users RENAME TO users;

-- One row per worker process (its `instance`, chosen at random when it starts), under
-- the worker user whose token it holds. No one's words: device facts and counts.
CREATE TABLE workers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    host TEXT NOT NULL DEFAULT '',
    device TEXT,
    compute_type TEXT,
    fallback_reason TEXT,
    models_json TEXT NOT NULL DEFAULT '[]',
    version TEXT NOT NULL,
    protocol INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    current_job_id INTEGER,
    current_since REAL,              -- time.time() when the current job was claimed
    current_audio_seconds REAL,
    jobs_done INTEGER NOT NULL DEFAULT 0,
    jobs_failed INTEGER NOT NULL DEFAULT 0,
    audio_seconds REAL NOT NULL DEFAULT 0,   -- audio of the jobs it completed
    busy_seconds REAL NOT NULL DEFAULT 0     -- from claim to stored result, summed
);
CREATE INDEX workers_user ON workers(user_id);
