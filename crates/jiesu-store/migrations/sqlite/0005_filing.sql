-- Cases filed through the Open311 endpoint (POST requests) are marked, so that a case left
-- without its Open311 row is found (`jiesu check`); cases of channel open311 made elsewhere (the
-- demo) are not. Before this migration such cases were filed by the citizen actor `open311:KEY`.
ALTER TABLE cases ADD COLUMN filed_via TEXT;
UPDATE cases SET filed_via = 'open311'
    WHERE id IN (SELECT case_id FROM open311_requests)
       OR id IN (SELECT case_id FROM events WHERE seq = 1 AND actor_role = 'citizen' AND actor_user LIKE 'open311:%');
CREATE INDEX cases_filed_via ON cases (filed_via, id) WHERE filed_via IS NOT NULL;

-- An external id is unique per filer (the actor of the case's 受理 event: a key, a citizen, a
-- system): posting the same case twice gives the first one back. Cases filed twice before this
-- migration keep the first.
CREATE TABLE case_external_ids (
    filer TEXT NOT NULL,
    external_id TEXT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    PRIMARY KEY (filer, external_id)
) WITHOUT ROWID;
INSERT INTO case_external_ids (filer, external_id, case_id)
    SELECT e.actor_user, c.external_id, MIN(c.id)
    FROM cases c JOIN events e ON e.case_id = c.id AND e.seq = 1
    WHERE c.external_id IS NOT NULL
    GROUP BY e.actor_user, c.external_id;
