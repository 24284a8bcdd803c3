-- Memos on answers: a coder's notes about one answer (analytic memos, as in QualCoder).
CREATE TABLE answer_memos (
    id INTEGER PRIMARY KEY,
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX answer_memos_answer ON answer_memos(answer_id);
