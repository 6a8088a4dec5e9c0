-- Duplicate finding asks for the open cases in a small box around a point, received in a window
-- (`Store::open_cases_near`). Without this index the planner walks every open case through the
-- status or category index; with it, only the open cases in the box's band of latitude
-- (status = each open status, then a range on lat).
CREATE INDEX cases_status_place ON cases (status, lat, lon, received_at);
