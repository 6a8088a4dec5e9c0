-- Full-text search (see src/search.rs): a contentless FTS5 index of each case's characters and
-- character pairs, filled in id order by a background indexer up to meta.search_indexed_to;
-- cases above the mark are searched with LIKE.
CREATE VIRTUAL TABLE case_fts USING fts5(terms, content = '', detail = none, tokenize = 'unicode61 remove_diacritics 0');
INSERT INTO meta (name, value) VALUES ('search_indexed_to', '0');
