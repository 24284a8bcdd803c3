-- The workspace's coverage map lists every language some message is translated into,
-- read as a skip over this index (one seek per language, not a scan of every translation).
CREATE INDEX translations_language_status ON translations(language, status);
