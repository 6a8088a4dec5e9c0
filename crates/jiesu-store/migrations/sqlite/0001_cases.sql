-- Cases and their append-only events. Times are Unix epoch milliseconds (UTC).
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category TEXT NOT NULL,
    address TEXT,
    lat REAL,
    lon REAL,
    street TEXT,
    community TEXT,
    grid TEXT,
    contact TEXT,
    external_id TEXT,
    status TEXT NOT NULL,
    assignee TEXT,
    due BIGINT,
    overdue_noticed INTEGER NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at BIGINT,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX cases_status_id ON cases (status, id);
CREATE INDEX cases_assignee_id ON cases (assignee, id);
CREATE INDEX cases_category_id ON cases (category, id);
CREATE INDEX cases_street_id ON cases (street, id);
CREATE INDEX cases_received_at ON cases (received_at);
CREATE INDEX cases_open_due ON cases (due)
    WHERE status IN ('dispatched', 'accepted', 'in_progress', 'return_requested');
CREATE INDEX cases_external_id ON cases (external_id) WHERE external_id IS NOT NULL;

CREATE TABLE events (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    seq INTEGER NOT NULL,
    at BIGINT NOT NULL,
    actor_user TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_unit TEXT,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;
