-- Co-production surveys: questions per version, collection (respondents, sessions,
-- consent, answers), review, codebooks and coding, redactions, exports.
-- Recordings, transcripts and messages belong to speech/ and comms/; their ids are
-- kept here as plain integers so this package does not depend on their tables.
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    purpose TEXT NOT NULL,
    base_language TEXT NOT NULL,
    target_languages_json TEXT NOT NULL DEFAULT '[]',
    version INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);

CREATE TABLE survey_questions (
    id INTEGER PRIMARY KEY,
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
CREATE INDEX survey_questions_survey ON survey_questions(survey_id, survey_version, position);

-- The text of each question in each language, and whether it is approved for use.
CREATE TABLE question_texts (
    question_id INTEGER NOT NULL REFERENCES survey_questions(id),
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'approved')),
    approved_by INTEGER REFERENCES users(id),
    approved_at TEXT,
    PRIMARY KEY (question_id, language)
);

-- A recorded audio prompt per question per language (blob store).
CREATE TABLE question_prompts (
    question_id INTEGER NOT NULL REFERENCES survey_questions(id),
    language TEXT NOT NULL,
    blob_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    media_type TEXT NOT NULL,
    added_by INTEGER REFERENCES users(id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (question_id, language)
);

-- Languages a survey is open for collection in.
CREATE TABLE survey_languages (
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    language TEXT NOT NULL,
    accepted_in_english INTEGER NOT NULL DEFAULT 0,
    opened_by INTEGER REFERENCES users(id),
    opened_at TEXT NOT NULL,
    PRIMARY KEY (survey_id, language)
);

CREATE TABLE respondents (
    id INTEGER PRIMARY KEY,
    cohear_id TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    withdrawn_at TEXT
);

-- Contact details, only when kept at all; no export reads this table.
CREATE TABLE respondent_contacts (
    respondent_id INTEGER PRIMARY KEY REFERENCES respondents(id),
    contact TEXT NOT NULL,
    added_by INTEGER REFERENCES users(id),
    added_at TEXT NOT NULL
);

CREATE TABLE survey_sessions (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    survey_version INTEGER NOT NULL,
    respondent_id INTEGER NOT NULL REFERENCES respondents(id),
    language TEXT NOT NULL,
    collector_id INTEGER NOT NULL REFERENCES users(id),
    started_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX survey_sessions_collector ON survey_sessions(collector_id);
CREATE INDEX survey_sessions_respondent ON survey_sessions(respondent_id);

CREATE TABLE consents (
    id INTEGER PRIMARY KEY,
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
CREATE INDEX consents_session ON consents(session_id);

CREATE TABLE answers (
    id INTEGER PRIMARY KEY,
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
    verified_at TEXT
);
CREATE INDEX answers_session ON answers(session_id);
CREATE INDEX answers_respondent ON answers(respondent_id);
CREATE INDEX answers_question ON answers(question_id);
CREATE INDEX answers_queue ON answers(safeguarding DESC, status, id);

-- The words of an answer: each version of the original text (typed, or a transcript
-- version) and of its English rendering. Codings and redactions point at one of these.
CREATE TABLE answer_texts (
    id INTEGER PRIMARY KEY,
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    rendering TEXT NOT NULL CHECK (rendering IN ('original', 'english')),
    version INTEGER NOT NULL,
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT NOT NULL,                      -- typed | transcript | translation | edit
    created_at TEXT NOT NULL,
    UNIQUE (answer_id, rendering, version)
);

CREATE TABLE redactions (
    id INTEGER PRIMARY KEY,
    answer_text_id INTEGER NOT NULL REFERENCES answer_texts(id),
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    kind TEXT NOT NULL,                        -- phone | nhs_number | email | postcode | name
    status TEXT NOT NULL DEFAULT 'suggested' CHECK (status IN ('suggested', 'accepted', 'rejected')),
    decided_by INTEGER REFERENCES users(id),
    decided_at TEXT,
    UNIQUE (answer_text_id, start_offset, end_offset)
);

CREATE TABLE codebooks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    survey_id INTEGER REFERENCES surveys(id),
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);

CREATE TABLE codes (
    id INTEGER PRIMARY KEY,
    codebook_id INTEGER NOT NULL REFERENCES codebooks(id),
    parent_id INTEGER REFERENCES codes(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    colour TEXT NOT NULL DEFAULT '#888888',
    memo TEXT NOT NULL DEFAULT '',
    guid TEXT NOT NULL UNIQUE,
    UNIQUE (codebook_id, name)
);

CREATE TABLE codings (
    id INTEGER PRIMARY KEY,
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
CREATE INDEX codings_answer ON codings(answer_id);
CREATE INDEX codings_code ON codings(code_id, coder_id);

CREATE TABLE survey_exports (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    format TEXT NOT NULL,
    identifiable INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('queued', 'done', 'failed')),
    path TEXT,
    rows INTEGER,
    job_id INTEGER,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    finished_at TEXT
);
