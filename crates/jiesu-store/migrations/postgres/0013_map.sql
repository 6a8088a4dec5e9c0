-- The console's map (`Store::count_by_place`): the cases received in a period, counted per street
-- and unit grid cell, optionally by status, category, deadline or unit. Every column the count
-- reads, after the time of receipt, so a month of a million-case store is counted from the index
-- alone (no case row is read).
CREATE INDEX cases_received_place ON cases (received_at, street, grid, status, category, due, assignee);
-- A cell's cases (the map's click into the list: `CaseFilter::grid`), newest first.
CREATE INDEX cases_grid_id ON cases (grid, id);
