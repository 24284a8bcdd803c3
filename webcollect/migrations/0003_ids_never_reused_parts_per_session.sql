-- Ids that appear in URLs, exports or the audit log are never reused: `collect_links`
-- becomes AUTOINCREMENT, rebuilt keeping every row and id by SQLite's documented 12-step
-- procedure (the migration runner turns foreign keys off around it and checks them).
-- Recordings sent in parts learn which session they are for, so a respondent's
-- withdrawal can drop their unfinished uploads; and an idempotency key that named an
-- answer folded into an earlier one (surveys 0004) now names that answer.
CREATE TABLE new_collect_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_collect_links (id, code_hash, collector_id, created_by, created_at, expires_at, token_minutes, used_at, token_prefix, revoked_at, revoked_by)
    SELECT id, code_hash, collector_id, created_by, created_at, expires_at, token_minutes, used_at, token_prefix, revoked_at, revoked_by FROM collect_links;
DROP TABLE collect_links;
ALTER TABLE new_collect_links RENAME TO collect_links;
CREATE INDEX collect_links_collector ON collect_links(collector_id);


ALTER TABLE collect_parts ADD COLUMN session_id INTEGER;   -- NULL: sent without saying

UPDATE collect_uploads SET entity_id = (SELECT v.answer_id FROM answer_versions v
                                        WHERE v.merged_from = collect_uploads.entity_id)
WHERE kind = 'answer' AND entity_id IN (SELECT merged_from FROM answer_versions
                                        WHERE merged_from IS NOT NULL);
