-- A question's words and their translations live in comms (each question is a comms
-- message, reviewed and approved per language), so surveys keeps no copy of its own.
DROP TABLE question_texts;
