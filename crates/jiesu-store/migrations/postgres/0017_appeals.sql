-- 考核申诉 / 核减: the few cases a supervisor excluded from their unit's assessment, by month of
-- receipt, without reading every case's state (`Store::excluded_by_unit`; the condition must stay
-- word for word the query's for the planner to use this index).
CREATE INDEX cases_excluded ON cases (received_at) WHERE (state::jsonb #>> '{appeal,excluded}') = 'true';
