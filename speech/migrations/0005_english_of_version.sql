-- An English rendering carried into a corrected transcript version still renders the
-- words of the version it was made from: of_version says which (NULL: its own version).
ALTER TABLE transcript_english ADD COLUMN of_version INTEGER;
