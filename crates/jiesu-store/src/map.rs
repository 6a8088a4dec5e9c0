//! Cases counted by place for the console's map: one aggregate query, grouped by street and unit
//! grid cell, within the viewer's [`Scope`] and the same [`CaseFilter`] as the case list (so a
//! cell's count and the list behind it agree by construction).
//!
//! Served by the index `cases_received_place` (migration 0013): the filter columns the map uses
//! (time of receipt first, then street, grid, status, category, deadline and unit), so a month of a
//! million-case store is counted from the index alone, without reading a case row.

use sqlx::{AssertSqlSafe, Row};

use jiesu_domain::access::Scope;

use crate::cases::filter_clause;
use crate::{Backend, CaseFilter, Store, StoreError};

/// How many cases matching a filter lie in one street and grid cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceCount {
    /// Street code (None: the case has no street).
    pub street: Option<String>,
    /// Unit grid cell code (None: the case has no point in the grid).
    pub grid: Option<String>,
    /// Number of cases.
    pub cases: u64,
}

/// The table as the count reads it. SQLite is told to use the covering index: without statistics
/// its planner takes an index on `status` for the open statuses (an empty table looks the same),
/// then reads every open case's row of all time; the index reads only the period's entries.
fn source(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "cases INDEXED BY cases_received_place",
        Backend::Postgres => "cases",
    }
}

impl Store {
    /// Cases within `scope` matching `filter`, counted per (street, grid cell): one `GROUP BY`.
    /// Street totals are the sums over a street's rows (a cell lies in one street, so there are
    /// about as many rows as cells with cases).
    pub async fn count_by_place(&self, scope: &Scope, filter: &CaseFilter) -> Result<Vec<PlaceCount>, StoreError> {
        let w = filter_clause(self.backend, scope, filter, None);
        let sql =
            format!("SELECT street, grid, COUNT(*) AS n FROM {}{} GROUP BY street, grid", source(self.backend), w.sql);
        let rows = w.bind(sqlx::query(AssertSqlSafe(sql))).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(PlaceCount {
                    street: r.try_get("street")?,
                    grid: r.try_get("grid")?,
                    cases: u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0),
                })
            })
            .collect()
    }

    /// The database's plan for [`Store::count_by_place`] (EXPLAIN QUERY PLAN on SQLite, EXPLAIN
    /// on PostgreSQL), one line per step: to see that the count reads an index.
    pub async fn explain_count_by_place(&self, scope: &Scope, filter: &CaseFilter) -> Result<Vec<String>, StoreError> {
        let w = filter_clause(self.backend, scope, filter, None);
        let select =
            format!("SELECT street, grid, COUNT(*) AS n FROM {}{} GROUP BY street, grid", source(self.backend), w.sql);
        let (sql, column) = match self.backend {
            Backend::Sqlite => (format!("EXPLAIN QUERY PLAN {select}"), "detail"),
            Backend::Postgres => (format!("EXPLAIN {select}"), "QUERY PLAN"),
        };
        let rows = w.bind(sqlx::query(AssertSqlSafe(sql))).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(r.try_get::<String, _>(column)?)).collect()
    }
}
