-- 来电弹屏 and photos (issue 10).
--
-- The caller's number as a keyed hash (HMAC-SHA-256 of the normalised number under a key derived
-- from the data key), beside the sealed contact: a caller's earlier cases are found by it, never
-- by the number. NULL: not computed yet (cases with a contact filed before this migration; the
-- store fills them when it opens, since SQL cannot compute the HMAC); '': no usable number.
ALTER TABLE cases ADD COLUMN phone_key TEXT;
UPDATE cases SET phone_key = '' WHERE contact IS NULL;
CREATE INDEX cases_caller ON cases (phone_key, id);

-- Each lookup of a caller's cases: who, when, which hash and how many cases were found (never
-- the number). Kept apart from the cases, like contact_access.
CREATE TABLE caller_lookups (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_user TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_unit TEXT,
    phone_key TEXT NOT NULL,
    found BIGINT NOT NULL
);
CREATE INDEX caller_lookups_at ON caller_lookups (at);

-- Photos that came with an event (a reply, a grid report, a 核查), written in the event's
-- transaction; numbered from 1 within the case.
CREATE TABLE attachments (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    n INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, n)
);
