-- Installed Argos Translate packs: one row per direction, the files under
-- <data_dir>/packs/<from>_<to>/ (path is relative to the data directory).
CREATE TABLE language_packs (
    id INTEGER PRIMARY KEY,
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
