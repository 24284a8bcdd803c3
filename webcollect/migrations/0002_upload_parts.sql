-- Recordings sent in parts: how much of each has arrived, so a phone that lost its
-- connection half-way carries on from there instead of starting again.
CREATE TABLE collect_parts (
    collector_id INTEGER NOT NULL REFERENCES users(id),
    idempotency_key TEXT NOT NULL,             -- the same key as the answer or consent it is for
    received INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (collector_id, idempotency_key)
);
