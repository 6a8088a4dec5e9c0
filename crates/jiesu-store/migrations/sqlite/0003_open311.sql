-- Open311 GeoReport v2: what a client sent beside the case itself. Times are epoch milliseconds.

-- Files posted as `media` with a request or an update (served back as media_url).
CREATE TABLE open311_media (
    id TEXT PRIMARY KEY,              -- random, unguessable: the media URL is public
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    bytes BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per case received through Open311.
CREATE TABLE open311_requests (
    case_id BIGINT PRIMARY KEY REFERENCES cases (id),
    service_code TEXT NOT NULL,
    attributes TEXT NOT NULL,         -- JSON object: attribute code -> value or list of values
    media_id TEXT REFERENCES open311_media (id),
    media_url TEXT,                   -- a URL the client gave instead of a file
    client TEXT NOT NULL,             -- the API key's name (never the citizen)
    created_at BIGINT NOT NULL
);

-- Tokens handed out by services of type batch.
CREATE TABLE open311_tokens (
    token TEXT PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    created_at BIGINT NOT NULL
);

-- Updates posted by clients (FixMyStreet's servicerequestupdates); client_update_id is unique.
CREATE TABLE open311_updates (
    id INTEGER PRIMARY KEY,
    client_update_id TEXT NOT NULL UNIQUE,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    media_id TEXT REFERENCES open311_media (id),
    media_url TEXT,
    client TEXT NOT NULL,
    updated_at BIGINT NOT NULL,       -- the client's time of the update
    received_at BIGINT NOT NULL
);
CREATE INDEX open311_updates_case ON open311_updates (case_id, id);

-- servicerequestupdates lists events by time.
CREATE INDEX events_at ON events (at);
