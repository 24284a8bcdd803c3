-- A blob whose file was deleted on purpose (the audio retention policy) keeps its row,
-- so the records that point at it stay whole and say when and why the audio went.
ALTER TABLE blobs ADD COLUMN purged_at TEXT;
ALTER TABLE blobs ADD COLUMN purge_reason TEXT;
