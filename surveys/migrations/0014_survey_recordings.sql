-- Which recordings surveys stored, and for what: a voice answer or a spoken consent.
-- Such a recording that no answer, answer version or consent refers to was left behind
-- (a request refused after its audio arrived, or cut short by a crash), belongs to no
-- respondent a withdrawal could reach, and is removed by `cohear db check --repair`
-- after a grace period. A recording uploaded on its own (POST /api/recordings) is not
-- listed here and is never taken for one left behind.
CREATE TABLE survey_recordings (
    recording_id INTEGER PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('answer', 'consent')),
    stored_at TEXT NOT NULL
);

-- Recordings surveys already use. One nothing refers to cannot be told from an upload of
-- its own, so it is kept (`cohear db check` lists it as unattached).
INSERT OR IGNORE INTO survey_recordings (recording_id, purpose, stored_at)
    SELECT r.id, 'answer', r.created_at FROM recordings r
    WHERE r.id IN (SELECT recording_id FROM answers UNION SELECT recording_id FROM answer_versions);
INSERT OR IGNORE INTO survey_recordings (recording_id, purpose, stored_at)
    SELECT r.id, 'consent', r.created_at FROM recordings r
    WHERE r.id IN (SELECT recording_id FROM consents);
