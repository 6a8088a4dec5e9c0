-- The tamper-evident record: each event's keyed hash, chained to the case's previous event, and
-- on the case row a MAC of its last event's hash. The key derives from the data key, which the
-- database does not hold, so the store fills in the hashes of older events at its next start
-- (the `chain_pending` mark; see jiesu-store's chain module).
ALTER TABLE events ADD COLUMN hash TEXT;
ALTER TABLE cases ADD COLUMN chain TEXT;
INSERT INTO meta (name, value) VALUES ('chain_pending', '1') ON CONFLICT (name) DO NOTHING;
