-- Full-text search (see src/search.rs): each case's characters and character pairs, written with
-- the case; the store indexes the cases it had before this migration when it opens.
CREATE TABLE case_terms (
    case_id BIGINT PRIMARY KEY REFERENCES cases (id),
    terms TEXT[] NOT NULL
);
CREATE INDEX case_terms_terms ON case_terms USING gin (terms);
