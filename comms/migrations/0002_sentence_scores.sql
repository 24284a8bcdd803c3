-- Each source version keeps its sentences (split once, when it is saved), and each
-- remembered sentence keeps its back-translation score, so reuse needs no recomputing.
ALTER TABLE message_versions ADD COLUMN segments_json TEXT;
ALTER TABLE translation_memory ADD COLUMN similarity REAL;
