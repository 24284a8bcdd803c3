-- Ids that appear in URLs, exports or the audit log are never reused: `language_packs`
-- becomes AUTOINCREMENT (a pack removed and installed again gets a new id). Rebuilt
-- keeping every row and id, by SQLite's documented 12-step procedure (the migration
-- runner turns foreign keys off around it and checks them before committing).
CREATE TABLE new_language_packs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,                 -- "translate-en_ur"
    from_code TEXT NOT NULL,            -- Argos codes, as in metadata.json
    to_code TEXT NOT NULL,
    source_tag TEXT NOT NULL,           -- cohear's BCP-47 tags
    target_tag TEXT NOT NULL,
    package_version TEXT NOT NULL,
    argos_version TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    metadata_json TEXT NOT NULL,
    installed_at TEXT NOT NULL,
    installed_by TEXT NOT NULL,
    UNIQUE (source_tag, target_tag)
);
INSERT INTO new_language_packs (id, name, from_code, to_code, source_tag, target_tag, package_version, argos_version, path, archive_sha256, size_bytes, metadata_json, installed_at, installed_by)
    SELECT id, name, from_code, to_code, source_tag, target_tag, package_version, argos_version, path, archive_sha256, size_bytes, metadata_json, installed_at, installed_by FROM language_packs;
DROP TABLE language_packs;
ALTER TABLE new_language_packs RENAME TO language_packs;

