-- Assessment (考核) tallies: per unit (the case's assignee) and month of receipt (in the time
-- zone named by meta.assessment_tz), the counts behind the monthly figures
-- (jiesu_domain::assessment::Tally), kept in step with every case write in its transaction:
-- the new state's tally added, the old one's taken away. `latest` (epoch ms) is an upper bound
-- of the replies and closes counted: asked about an earlier instant, the desk folds the cases.
-- The rows are built on the first open after this migration (meta.assessment_pending).
CREATE TABLE assessment_tallies (
    period TEXT NOT NULL,
    unit TEXT NOT NULL,
    cases BIGINT NOT NULL,
    callbacks BIGINT NOT NULL,
    responded BIGINT NOT NULL,
    solved BIGINT NOT NULL,
    satisfied BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    closed_on_time BIGINT NOT NULL,
    replied BIGINT NOT NULL,
    replied_on_time BIGINT NOT NULL,
    reworked BIGINT NOT NULL,
    handled BIGINT NOT NULL,
    handling_ms BIGINT NOT NULL,
    latest BIGINT NOT NULL,
    PRIMARY KEY (period, unit)
);
-- Cases not closed, by month of receipt: overdue_open (超期未结) of a month without a scan.
CREATE INDEX cases_unclosed_received ON cases (received_at, assignee, due) WHERE closed_at IS NULL;
INSERT INTO meta (name, value) VALUES ('assessment_pending', '1') ON CONFLICT (name) DO NOTHING;
