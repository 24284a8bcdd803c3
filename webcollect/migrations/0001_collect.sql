-- The field-capture page: one-time sign-in links and the idempotency keys that let
-- a phone send the same session, consent or answer again without it being stored twice.
CREATE TABLE collect_links (
    id INTEGER PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,            -- sha256 of the single-use code; the code itself is never stored
    collector_id INTEGER NOT NULL REFERENCES users(id),
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,                  -- the link must be used before this
    token_minutes INTEGER NOT NULL,            -- how long the token it gives lasts
    used_at TEXT,
    token_prefix TEXT,                         -- the token it was exchanged for (revoked with the link)
    revoked_at TEXT,
    revoked_by INTEGER REFERENCES users(id)
);
CREATE INDEX collect_links_collector ON collect_links(collector_id);

CREATE TABLE collect_uploads (
    collector_id INTEGER NOT NULL REFERENCES users(id),
    idempotency_key TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('session', 'consent', 'answer')),
    state TEXT NOT NULL CHECK (state IN ('working', 'done')),
    entity_id INTEGER,                         -- the session, consent or answer it made
    started_at TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (collector_id, idempotency_key)
);
