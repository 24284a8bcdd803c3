-- English renderings of answers: which version of the answer's words each one renders
-- (a correction leaves the English out of date until it is rendered again), which engine
-- made a machine rendering, the job rendering a typed answer's English, and requests for
-- a human translation where this machine has no translation engine for the language.
ALTER TABLE answer_texts ADD COLUMN of_version INTEGER;   -- english: the original version it renders
ALTER TABLE answer_texts ADD COLUMN engine TEXT;          -- english made by a machine: which one
ALTER TABLE answers ADD COLUMN english_job_id INTEGER;    -- the latest surveys.english job

-- Until now an English rendering was made from the words of its time: the newest
-- original version that existed when it was written.
UPDATE answer_texts SET of_version = (
    SELECT max(o.version) FROM answer_texts o WHERE o.answer_id = answer_texts.answer_id
    AND o.rendering = 'original' AND o.created_at <= answer_texts.created_at)
WHERE rendering = 'english';

CREATE TABLE translation_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,    -- ids in the audit log are never reused
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    language TEXT NOT NULL,                  -- the answer's language, to be put into English
    of_version INTEGER NOT NULL,             -- the original version to translate
    note TEXT NOT NULL DEFAULT '',           -- staff's note to the translator
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    requested_by INTEGER REFERENCES users(id),
    requested_at TEXT NOT NULL,
    done_by INTEGER REFERENCES users(id),
    done_at TEXT,
    answer_text_id INTEGER REFERENCES answer_texts(id)   -- the English that fulfilled it
);
-- One open request per answer.
CREATE UNIQUE INDEX translation_requests_open ON translation_requests(answer_id)
    WHERE status = 'open';
CREATE INDEX translation_requests_status ON translation_requests(status, language);
