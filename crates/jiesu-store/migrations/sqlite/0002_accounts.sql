-- Accounts (users, sessions, API keys), scoping (case_units, owner) and the data key check.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    unit TEXT,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Only a SHA-256 of the session token is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Only a SHA-256 of the key is stored.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    unit TEXT,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
);

-- The units summoned to a case by 吹哨, kept in step with the case's state on every write.
CREATE TABLE case_units (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    unit TEXT NOT NULL,
    PRIMARY KEY (case_id, unit)
) WITHOUT ROWID;
CREATE INDEX case_units_unit ON case_units (unit, case_id);
INSERT INTO case_units (case_id, unit)
    SELECT c.id, json_extract(j.value, '$.unit') FROM cases c, json_each(c.state, '$.joint') j;

-- The citizen who filed the case (the first event's actor, when a citizen).
ALTER TABLE cases ADD COLUMN owner TEXT;
UPDATE cases SET owner = (SELECT e.actor_user FROM events e WHERE e.case_id = cases.id AND e.seq = 1)
    WHERE id IN (SELECT case_id FROM events WHERE seq = 1 AND actor_role = 'citizen');
CREATE INDEX cases_owner_id ON cases (owner, id) WHERE owner IS NOT NULL;

CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
