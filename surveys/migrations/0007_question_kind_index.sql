-- Whether a survey's current version has a consent question is one index lookup, so the
-- field page's survey list costs the same however many questions a survey holds.
CREATE INDEX survey_questions_kind ON survey_questions(survey_id, survey_version, kind);
