-- A city's catalog as data, and imported case history (issue 11).
--
-- The store's own catalog: the catalog files by name (streets.csv, communities.csv, units.csv,
-- categories.csv, responsibility.csv, holidays.csv, district.toml) as text. No rows: the embedded
-- Dongcheng catalog. Every command on the store loads these when present.
CREATE TABLE catalog_files (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

-- Imported cases by their id in the source they came from (`jiesu import`): unique per source, so
-- importing the same file again adds nothing. Not `case_external_ids`, which other doors use.
CREATE TABLE case_sources (
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    PRIMARY KEY (source, source_id)
);
