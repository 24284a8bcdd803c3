-- A question's labels (scale ends, choice labels) are part of its words: each is a
-- comms message, translated, reviewed and approved per language like the question's
-- own text. A new survey version's copy of a question keeps the same messages.
CREATE TABLE question_label_messages (
    question_id INTEGER NOT NULL REFERENCES survey_questions(id),
    label TEXT NOT NULL,                       -- 'scale:1', 'choice:<value>'
    message_id INTEGER NOT NULL,               -- the comms message carrying the label
    PRIMARY KEY (question_id, label)
);

-- An answer may be given again until its session is finished: the answers row holds
-- the newest version, and each one it replaced is kept here (its words, choices or
-- recording), so nothing a leader saved is lost and a withdrawal finds them all.
ALTER TABLE answers ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TABLE answer_versions (
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    choices_json TEXT,
    recording_id INTEGER,
    answer_text_id INTEGER REFERENCES answer_texts(id),
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    replaced_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, version)
);

-- Empty sessions left unfinished are removed after a while (surveys.sessions).
CREATE INDEX survey_sessions_open ON survey_sessions(started_at) WHERE ended_at IS NULL;
