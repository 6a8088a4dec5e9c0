-- Sensor alarms and 三色预警 (issue 13).
--
-- The device registry: what each device is, where (GCJ-02, the district's datum) and hence its
-- grid cell and street, the unit responsible, and its webhook token as a SHA-256 hash (like API
-- keys; the token itself is shown once). suppressed_until: the device flaps (抖动抑制) until then.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    street TEXT,
    community TEXT,
    grid TEXT,
    building TEXT,
    unit TEXT NOT NULL,
    token_hash TEXT,
    created_at BIGINT NOT NULL,
    suppressed_until BIGINT
);

-- Every alarm accepted, once: the primary key is the de-duplication on the device's message id.
-- place: the device's building when known, else its grid cell. outcome: what the rules did
-- (recorded, case_opened, joined, suppressed, suppressed_joined); case_id: the case it opened or joined.
CREATE TABLE alarms (
    device TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    level TEXT NOT NULL,
    reading DOUBLE PRECISION,
    place TEXT NOT NULL,
    outcome TEXT NOT NULL,
    case_id BIGINT,
    door TEXT NOT NULL,
    PRIMARY KEY (device, msg_id)
);
CREATE INDEX alarms_place_at ON alarms (place, at);
CREATE INDEX alarms_device_at ON alarms (device, at);
CREATE INDEX alarms_received ON alarms (received_at);

-- Each place's colour now (seq: the length of its colour log) and its open alarm case.
CREATE TABLE place_colours (
    place TEXT PRIMARY KEY,
    grid TEXT,
    street TEXT,
    unit TEXT,
    colour TEXT NOT NULL,
    since BIGINT NOT NULL,
    reason TEXT NOT NULL,
    case_id BIGINT,
    seq BIGINT NOT NULL
);
CREATE INDEX place_colours_grid ON place_colours (grid);

-- The colour log: every change of a place's colour with its reason, numbered per place.
CREATE TABLE colour_log (
    place TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    from_colour TEXT NOT NULL,
    to_colour TEXT NOT NULL,
    reason TEXT NOT NULL,
    device TEXT,
    msg_id TEXT,
    PRIMARY KEY (place, seq)
);

-- Payloads refused, counted per reason (malformed, unknown_device, bad_token, ...).
CREATE TABLE alarm_rejects (
    reason TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);
