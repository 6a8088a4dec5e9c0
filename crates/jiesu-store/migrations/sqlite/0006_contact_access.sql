-- Who may see the citizen (issue 9).
--
-- One owner identity per API key through both doors: cases filed through Open311 recorded their
-- owner as `open311:NAME`, the JSON API as `key:NAME` — the same key. Rewrite the old ones so the
-- key's holder sees them through the JSON API too (the events keep what was written; the store
-- and `jiesu check` read their actor through the same mapping).
UPDATE cases SET owner = 'key:' || substr(owner, 9) WHERE owner LIKE 'open311:%';

-- Each reveal of a case's contact to the unit that holds it: who, when, which case. Kept apart
-- from the case's events (a reveal does not change the case, and `jiesu check` need not replay it).
CREATE TABLE contact_access (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    at BIGINT NOT NULL,
    actor_user TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_unit TEXT
);
CREATE INDEX contact_access_case ON contact_access (case_id, at);
