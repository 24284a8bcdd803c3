-- A reviewer's transcript-correction note was written to the audit log's `detail`,
-- which a withdrawal does not erase, and a note may quote the respondent. Each note
-- moves into its entry's `after` (erased with the words when the respondent withdraws)
-- and `detail` keeps the fact; the note of an entry whose words were already erased goes.
-- The append-only trigger is set aside for this one change and put back stricter: an
-- erasure may blank the words and nothing else, `detail` included.
DROP TRIGGER audit_log_no_update;

UPDATE audit_log
SET after_json = json_set(coalesce(after_json, '{}'), '$.note', detail),
    detail = 'version ' || coalesce(json_extract(after_json, '$.version'), '?')
WHERE action = 'transcript.correct' AND erased = 0 AND detail != '';

UPDATE audit_log SET detail = 'correction (its note erased with the words)'
WHERE action = 'transcript.correct' AND erased = 1 AND detail != '';

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (OLD.erased = 0 AND NEW.erased = 1
          AND NEW.before_json IS NULL AND NEW.after_json IS NULL
          AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action
          AND NEW.entity = OLD.entity AND NEW.entity_id IS OLD.entity_id
          AND NEW.actor_name = OLD.actor_name AND NEW.actor_id IS OLD.actor_id
          AND NEW.detail IS OLD.detail)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
