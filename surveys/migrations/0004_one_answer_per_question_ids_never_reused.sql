-- Two promises in one rebuild of the surveys tables.
--
-- 1. One session answers a question once, enforced by the database: UNIQUE (session_id,
--    question_id) on `answers`. A later answer to the same question while the session is
--    open becomes a new version of that answer (it keeps its id; `answers.version` counts
--    them, `answer_versions` keeps each version's kind, choices and recording, and the
--    words of each version stay in `answer_texts`). Databases written before this may
--    hold a question answered twice in a session (two requests at the same moment): the
--    later answers are folded into the first as its later versions, with their words,
--    codings and memos, and the audit log says so. Nothing is dropped.
-- 2. Ids that appear in URLs, exports or the audit log are never reused: every table
--    with an integer id becomes AUTOINCREMENT.
--
-- Tables are rebuilt keeping every row and id, by SQLite's documented 12-step procedure
-- (the migration runner turns foreign keys off around it and runs
-- `PRAGMA foreign_key_check` before committing); indexes are created again as they were.
-- Exports also learn the status `removed`: an export file deleted because a respondent
-- in it withdrew consent.

CREATE TABLE answer_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('voice', 'text', 'choice')),
    choices_json TEXT,
    recording_id INTEGER,
    answer_text_id INTEGER REFERENCES answer_texts(id),   -- the typed words of this version
    merged_from INTEGER,       -- the id this version had as an answer of its own (folded in)
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    UNIQUE (answer_id, version)
);

-- Answers to a question a session had already answered: each later one (by id) becomes
-- the next version of the first.
CREATE TEMP TABLE answer_fold AS
SELECT a.id AS dup, k.keep AS keep,
       1 + row_number() OVER (PARTITION BY k.keep ORDER BY a.id) AS version
FROM answers a
JOIN (SELECT session_id, question_id, min(id) AS keep FROM answers
      GROUP BY session_id, question_id HAVING count(*) > 1) k
  ON a.session_id = k.session_id AND a.question_id = k.question_id AND a.id != k.keep;

INSERT INTO answer_versions (answer_id, version, kind, choices_json, recording_id,
                             answer_text_id, merged_from, created_by, created_at)
SELECT a.id, 1, a.kind, a.choices_json, a.recording_id,
       (SELECT min(t.id) FROM answer_texts t WHERE t.answer_id = a.id
        AND t.rendering = 'original' AND t.source = 'typed'),
       NULL, a.created_by, a.created_at
FROM answers a WHERE a.id NOT IN (SELECT dup FROM answer_fold);

INSERT INTO answer_versions (answer_id, version, kind, choices_json, recording_id,
                             answer_text_id, merged_from, created_by, created_at)
SELECT f.keep, f.version, a.kind, a.choices_json, a.recording_id,
       (SELECT min(t.id) FROM answer_texts t WHERE t.answer_id = a.id
        AND t.rendering = 'original' AND t.source = 'typed'),
       a.id, a.created_by, a.created_at
FROM answer_fold f JOIN answers a ON a.id = f.dup;

-- Their words follow them, numbered after the first answer's versions of each rendering.
CREATE TEMP TABLE answer_fold_texts AS
SELECT t.id AS text_id, f.keep AS keep,
       (SELECT coalesce(max(k.version), 0) FROM answer_texts k
        WHERE k.answer_id = f.keep AND k.rendering = t.rendering)
       + row_number() OVER (PARTITION BY f.keep, t.rendering ORDER BY f.dup, t.version)
       AS version
FROM answer_texts t JOIN answer_fold f ON f.dup = t.answer_id;

UPDATE answer_texts
SET answer_id = (SELECT m.keep FROM answer_fold_texts m WHERE m.text_id = answer_texts.id),
    version = (SELECT m.version FROM answer_fold_texts m WHERE m.text_id = answer_texts.id)
WHERE id IN (SELECT text_id FROM answer_fold_texts);

UPDATE codings SET answer_id = (SELECT f.keep FROM answer_fold f WHERE f.dup = codings.answer_id)
WHERE answer_id IN (SELECT dup FROM answer_fold);
UPDATE answer_memos
SET answer_id = (SELECT f.keep FROM answer_fold f WHERE f.dup = answer_memos.answer_id)
WHERE answer_id IN (SELECT dup FROM answer_fold);

-- The first answer now says what the latest one said; a safeguarding concern raised on
-- any of them stays raised.
CREATE TEMP TABLE answer_fold_latest AS
SELECT keep, max(dup) AS latest, max(version) AS version FROM answer_fold GROUP BY keep;

UPDATE answers SET
    kind = (SELECT d.kind FROM answers d JOIN answer_fold_latest l ON d.id = l.latest
            WHERE l.keep = answers.id),
    choices_json = (SELECT d.choices_json FROM answers d JOIN answer_fold_latest l
                    ON d.id = l.latest WHERE l.keep = answers.id),
    recording_id = (SELECT d.recording_id FROM answers d JOIN answer_fold_latest l
                    ON d.id = l.latest WHERE l.keep = answers.id),
    transcription_job_id = (SELECT d.transcription_job_id FROM answers d
                            JOIN answer_fold_latest l ON d.id = l.latest
                            WHERE l.keep = answers.id),
    status = (SELECT d.status FROM answers d JOIN answer_fold_latest l ON d.id = l.latest
              WHERE l.keep = answers.id),
    verified_by = (SELECT d.verified_by FROM answers d JOIN answer_fold_latest l
                   ON d.id = l.latest WHERE l.keep = answers.id),
    verified_at = (SELECT d.verified_at FROM answers d JOIN answer_fold_latest l
                   ON d.id = l.latest WHERE l.keep = answers.id)
WHERE id IN (SELECT keep FROM answer_fold_latest);

CREATE TEMP TABLE answer_fold_flag AS
SELECT f.keep AS keep, max(d.id) AS flagged FROM answer_fold f
JOIN answers d ON d.id = f.dup AND d.safeguarding = 1 GROUP BY f.keep;

UPDATE answers SET
    safeguarding = 1,
    safeguarding_reason = (SELECT d.safeguarding_reason FROM answers d
                           JOIN answer_fold_flag g ON d.id = g.flagged WHERE g.keep = answers.id),
    safeguarding_raised_by = (SELECT d.safeguarding_raised_by FROM answers d
                              JOIN answer_fold_flag g ON d.id = g.flagged
                              WHERE g.keep = answers.id),
    safeguarding_handled_by = (SELECT d.safeguarding_handled_by FROM answers d
                               JOIN answer_fold_flag g ON d.id = g.flagged
                               WHERE g.keep = answers.id),
    safeguarding_handled_at = (SELECT d.safeguarding_handled_at FROM answers d
                               JOIN answer_fold_flag g ON d.id = g.flagged
                               WHERE g.keep = answers.id),
    safeguarding_note = (SELECT d.safeguarding_note FROM answers d
                         JOIN answer_fold_flag g ON d.id = g.flagged WHERE g.keep = answers.id)
WHERE safeguarding = 0 AND id IN (SELECT keep FROM answer_fold_flag);

INSERT INTO audit_log (at, actor_id, actor_name, action, entity, entity_id, detail)
SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), NULL, 'system', 'answer.merge', 'answer',
       CAST(keep AS TEXT),
       'answer ' || dup || ' answered the same question in the same session; it became '
       || 'version ' || version || ' of this answer'
FROM answer_fold ORDER BY keep, version;

CREATE TABLE new_surveys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    purpose TEXT NOT NULL,
    base_language TEXT NOT NULL,
    target_languages_json TEXT NOT NULL DEFAULT '[]',
    version INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
INSERT INTO new_surveys (id, title, purpose, base_language, target_languages_json, version, created_by, created_at)
    SELECT id, title, purpose, base_language, target_languages_json, version, created_by, created_at FROM surveys;
DROP TABLE surveys;
ALTER TABLE new_surveys RENAME TO surveys;

CREATE TABLE new_survey_questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    survey_version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('consent', 'open', 'single_choice', 'multiple_choice',
                                       'scale', 'demographic')),
    text TEXT NOT NULL,                        -- in the survey's base language
    options_json TEXT NOT NULL DEFAULT '{}',   -- choices, scale range and labels, demographic field
    message_id INTEGER,                        -- the comms message carrying the text, when linked
    UNIQUE (survey_id, survey_version, name)
);
INSERT INTO new_survey_questions (id, survey_id, survey_version, position, name, kind, text, options_json, message_id)
    SELECT id, survey_id, survey_version, position, name, kind, text, options_json, message_id FROM survey_questions;
DROP TABLE survey_questions;
ALTER TABLE new_survey_questions RENAME TO survey_questions;
CREATE INDEX survey_questions_survey ON survey_questions(survey_id, survey_version, position);

CREATE TABLE new_respondents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cohear_id TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    withdrawn_at TEXT
);
INSERT INTO new_respondents (id, cohear_id, created_by, created_at, withdrawn_at)
    SELECT id, cohear_id, created_by, created_at, withdrawn_at FROM respondents;
DROP TABLE respondents;
ALTER TABLE new_respondents RENAME TO respondents;

CREATE TABLE new_survey_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    survey_version INTEGER NOT NULL,
    respondent_id INTEGER NOT NULL REFERENCES respondents(id),
    language TEXT NOT NULL,
    collector_id INTEGER NOT NULL REFERENCES users(id),
    started_at TEXT NOT NULL,
    ended_at TEXT
);
INSERT INTO new_survey_sessions (id, survey_id, survey_version, respondent_id, language, collector_id, started_at, ended_at)
    SELECT id, survey_id, survey_version, respondent_id, language, collector_id, started_at, ended_at FROM survey_sessions;
DROP TABLE survey_sessions;
ALTER TABLE new_survey_sessions RENAME TO survey_sessions;
CREATE INDEX survey_sessions_collector ON survey_sessions(collector_id);
CREATE INDEX survey_sessions_respondent ON survey_sessions(respondent_id);

CREATE TABLE new_consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES survey_sessions(id),
    respondent_id INTEGER NOT NULL REFERENCES respondents(id),
    question_id INTEGER REFERENCES survey_questions(id),
    consent_version INTEGER NOT NULL,
    language TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('verbal_recording', 'tick')),
    recording_id INTEGER,
    given_at TEXT NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES users(id),
    withdrawn_at TEXT
);
INSERT INTO new_consents (id, session_id, respondent_id, question_id, consent_version, language, method, recording_id, given_at, recorded_by, withdrawn_at)
    SELECT id, session_id, respondent_id, question_id, consent_version, language, method, recording_id, given_at, recorded_by, withdrawn_at FROM consents;
DROP TABLE consents;
ALTER TABLE new_consents RENAME TO consents;
CREATE INDEX consents_session ON consents(session_id);

CREATE TABLE new_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES survey_sessions(id),
    question_id INTEGER NOT NULL REFERENCES survey_questions(id),
    respondent_id INTEGER NOT NULL REFERENCES respondents(id),
    language TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('voice', 'text', 'choice')),
    choices_json TEXT,
    recording_id INTEGER,
    transcription_job_id INTEGER,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'transcribed', 'verified')),
    safeguarding INTEGER NOT NULL DEFAULT 0,
    safeguarding_reason TEXT,
    safeguarding_raised_by TEXT,               -- a user's name, or 'keywords'
    safeguarding_handled_by INTEGER REFERENCES users(id),
    safeguarding_handled_at TEXT,
    safeguarding_note TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    verified_by INTEGER REFERENCES users(id),
    verified_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,        -- answer_versions holds each one
    UNIQUE (session_id, question_id)           -- one answer per question and session
);
INSERT INTO new_answers (id, session_id, question_id, respondent_id, language, survey_version, kind, choices_json, recording_id, transcription_job_id, status, safeguarding, safeguarding_reason, safeguarding_raised_by, safeguarding_handled_by, safeguarding_handled_at, safeguarding_note, created_by, created_at, verified_by, verified_at, version)
    SELECT id, session_id, question_id, respondent_id, language, survey_version, kind, choices_json, recording_id, transcription_job_id, status, safeguarding, safeguarding_reason, safeguarding_raised_by, safeguarding_handled_by, safeguarding_handled_at, safeguarding_note, created_by, created_at, verified_by, verified_at,
           coalesce((SELECT l.version FROM answer_fold_latest l WHERE l.keep = answers.id), 1)
    FROM answers WHERE id NOT IN (SELECT dup FROM answer_fold);
DROP TABLE answers;
ALTER TABLE new_answers RENAME TO answers;
CREATE INDEX answers_question ON answers(question_id);
CREATE INDEX answers_queue ON answers(safeguarding DESC, status, id);
CREATE INDEX answers_respondent ON answers(respondent_id);
CREATE INDEX answers_session ON answers(session_id);

CREATE TABLE new_survey_exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    format TEXT NOT NULL,
    identifiable INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('queued', 'done', 'failed', 'removed')),
    path TEXT,
    rows INTEGER,
    job_id INTEGER,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    finished_at TEXT,
    removed_at TEXT,                           -- status removed: when, and why
    removed_reason TEXT
);
INSERT INTO new_survey_exports (id, survey_id, format, identifiable, status, path, rows, job_id, created_by, created_at, finished_at)
    SELECT id, survey_id, format, identifiable, status, path, rows, job_id, created_by, created_at, finished_at FROM survey_exports;
DROP TABLE survey_exports;
ALTER TABLE new_survey_exports RENAME TO survey_exports;

CREATE TABLE new_answer_texts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    rendering TEXT NOT NULL CHECK (rendering IN ('original', 'english')),
    version INTEGER NOT NULL,
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT NOT NULL,                      -- typed | transcript | translation | edit
    created_at TEXT NOT NULL,
    UNIQUE (answer_id, rendering, version)
);
INSERT INTO new_answer_texts (id, answer_id, rendering, version, language, text, source, created_at)
    SELECT id, answer_id, rendering, version, language, text, source, created_at FROM answer_texts;
DROP TABLE answer_texts;
ALTER TABLE new_answer_texts RENAME TO answer_texts;

CREATE TABLE new_redactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_text_id INTEGER NOT NULL REFERENCES answer_texts(id),
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    kind TEXT NOT NULL,                        -- phone | nhs_number | email | postcode | name
    status TEXT NOT NULL DEFAULT 'suggested' CHECK (status IN ('suggested', 'accepted', 'rejected')),
    decided_by INTEGER REFERENCES users(id),
    decided_at TEXT,
    UNIQUE (answer_text_id, start_offset, end_offset)
);
INSERT INTO new_redactions (id, answer_text_id, start_offset, end_offset, kind, status, decided_by, decided_at)
    SELECT id, answer_text_id, start_offset, end_offset, kind, status, decided_by, decided_at FROM redactions;
DROP TABLE redactions;
ALTER TABLE new_redactions RENAME TO redactions;

CREATE TABLE new_codebooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    survey_id INTEGER REFERENCES surveys(id),
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
INSERT INTO new_codebooks (id, name, survey_id, created_by, created_at)
    SELECT id, name, survey_id, created_by, created_at FROM codebooks;
DROP TABLE codebooks;
ALTER TABLE new_codebooks RENAME TO codebooks;

CREATE TABLE new_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    codebook_id INTEGER NOT NULL REFERENCES codebooks(id),
    parent_id INTEGER REFERENCES codes(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    colour TEXT NOT NULL DEFAULT '#888888',
    memo TEXT NOT NULL DEFAULT '',
    guid TEXT NOT NULL UNIQUE,
    UNIQUE (codebook_id, name)
);
INSERT INTO new_codes (id, codebook_id, parent_id, name, description, colour, memo, guid)
    SELECT id, codebook_id, parent_id, name, description, colour, memo, guid FROM codes;
DROP TABLE codes;
ALTER TABLE new_codes RENAME TO codes;

CREATE TABLE new_codings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    code_id INTEGER NOT NULL REFERENCES codes(id),
    coder_id INTEGER NOT NULL REFERENCES users(id),
    answer_text_id INTEGER REFERENCES answer_texts(id),   -- NULL: the whole answer
    start_offset INTEGER,
    end_offset INTEGER,
    created_at TEXT NOT NULL,
    CHECK ((answer_text_id IS NULL AND start_offset IS NULL AND end_offset IS NULL)
           OR (answer_text_id IS NOT NULL AND start_offset >= 0 AND end_offset > start_offset))
);
INSERT INTO new_codings (id, answer_id, code_id, coder_id, answer_text_id, start_offset, end_offset, created_at)
    SELECT id, answer_id, code_id, coder_id, answer_text_id, start_offset, end_offset, created_at FROM codings;
DROP TABLE codings;
ALTER TABLE new_codings RENAME TO codings;
CREATE INDEX codings_answer ON codings(answer_id);
CREATE INDEX codings_code ON codings(code_id, coder_id);

CREATE TABLE new_answer_memos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO new_answer_memos (id, answer_id, author_id, text, created_at)
    SELECT id, answer_id, author_id, text, created_at FROM answer_memos;
DROP TABLE answer_memos;
ALTER TABLE new_answer_memos RENAME TO answer_memos;
CREATE INDEX answer_memos_answer ON answer_memos(answer_id);


CREATE INDEX answer_versions_recording ON answer_versions(recording_id);

DROP TABLE answer_fold;
DROP TABLE answer_fold_texts;
DROP TABLE answer_fold_latest;
DROP TABLE answer_fold_flag;

-- Ids handed out before and since deleted (a withdrawn respondent's answers and their
-- words: the rows are gone, the audit log still names them): the sequences start above
-- the highest of them.
INSERT INTO sqlite_sequence (name, seq) SELECT 'answers', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'answers');
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(CAST(entity_id AS INTEGER))
    FROM audit_log WHERE entity = 'answer'), 0)) WHERE name = 'answers';
INSERT INTO sqlite_sequence (name, seq) SELECT 'answer_texts', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'answer_texts');
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(CAST(entity_id AS INTEGER))
    FROM audit_log WHERE entity = 'answer_text'), 0)) WHERE name = 'answer_texts';
