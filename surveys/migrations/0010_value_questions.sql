-- Number, date and time questions (integer, decimal, date, time), as XLSForms ask them.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with the same
-- columns and rows. Foreign keys are deferred to the end of this migration's
-- transaction, so the answers, consents and prompts that point at questions stay valid
-- once the rows are back under the same ids.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE survey_questions_0010 AS SELECT * FROM survey_questions;
DROP TABLE survey_questions;

CREATE TABLE survey_questions (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    survey_version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('consent', 'open', 'single_choice', 'multiple_choice',
                                       'scale', 'demographic', 'integer', 'decimal', 'date',
                                       'time')),
    text TEXT NOT NULL,                        -- in the survey's base language
    options_json TEXT NOT NULL DEFAULT '{}',   -- choices, ranges, labels, hints and messages
    message_id INTEGER,                        -- the comms message carrying the text, when linked
    UNIQUE (survey_id, survey_version, name)
);
INSERT INTO survey_questions (id, survey_id, survey_version, position, name, kind, text,
                              options_json, message_id)
    SELECT id, survey_id, survey_version, position, name, kind, text, options_json, message_id
    FROM survey_questions_0010;
DROP TABLE survey_questions_0010;
CREATE INDEX survey_questions_survey ON survey_questions(survey_id, survey_version, position);
-- 0007's index, which the rebuild dropped: the field page's survey list relies on it.
CREATE INDEX IF NOT EXISTS survey_questions_kind ON survey_questions(survey_id, survey_version, kind);
