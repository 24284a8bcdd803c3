-- A question's labels (scale ends, choice labels) are part of its words: each is a
-- comms message, translated, reviewed and approved per language like the question's
-- own text. A new survey version's copy of a question keeps the same messages.
CREATE TABLE question_label_messages (
    question_id INTEGER NOT NULL REFERENCES survey_questions(id),
    label TEXT NOT NULL,                       -- 'scale:1', 'choice:<value>'
    message_id INTEGER NOT NULL,               -- the comms message carrying the label
    PRIMARY KEY (question_id, label)
);

-- (Answers given again before their session is finished are versions: answers.version
-- and answer_versions come from 0004.)

-- Empty sessions left unfinished are removed after a while (surveys.sessions).
CREATE INDEX survey_sessions_open ON survey_sessions(started_at) WHERE ended_at IS NULL;
