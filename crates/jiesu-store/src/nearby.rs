//! Open cases near a point within a time window: the candidates of duplicate finding.
//!
//! The store narrows by a bounding box on latitude and longitude around the circle, by open
//! status and by time of receipt (and, optionally, category); the exact distance is left to the
//! caller's scorer. Served by the index `cases_status_place` (status, lat, lon, received_at;
//! migration 0004): each open status, then the band of latitude.

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use jiesu_domain::access::Scope;

use crate::cases::{Arg, CASE_COLUMNS, Where, decode_case, ms, scope_clause};
use crate::{CaseRecord, Store, StoreError};

/// Statuses in which a case is open (not closed, not merged): a new report may duplicate it.
pub(crate) const OPEN_STATUSES: &str =
    "('received', 'dispatched', 'accepted', 'in_progress', 'return_requested', 'replied', 'verifying', 'called_back')";

/// Metres per degree of latitude (mean Earth radius).
const M_PER_DEG_LAT: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// Which open cases to look for.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyQuery {
    /// Latitude of the centre.
    pub lat: f64,
    /// Longitude of the centre.
    pub lon: f64,
    /// Radius in metres (the box around the circle is searched).
    pub radius_m: f64,
    /// Received at or after.
    pub received_from: DateTime<Utc>,
    /// Received before.
    pub received_to: DateTime<Utc>,
    /// Only this leaf category.
    pub category: Option<String>,
    /// At most this many cases, newest first.
    pub limit: u32,
}

impl NearbyQuery {
    /// The bounding box `(lat_min, lat_max, lon_min, lon_max)` of the circle.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        let dlat = self.radius_m.max(0.0) / M_PER_DEG_LAT;
        // Longitude degrees shrink with the cosine of the latitude (never below that of 89.9°).
        let dlon = dlat / self.lat.to_radians().cos().abs().max(1e-3);
        (self.lat - dlat, self.lat + dlat, self.lon - dlon, self.lon + dlon)
    }

    /// The query within `scope` (its conditions after the box, the window and the category).
    fn query(&self, scope: &Scope) -> (String, Where) {
        let (lat0, lat1, lon0, lon1) = self.bounds();
        let mut w = Where::default();
        w.and_each(&format!("status IN {OPEN_STATUSES}"), Vec::new());
        w.and("lat >= ?", Arg::Float(lat0));
        w.and("lat <= ?", Arg::Float(lat1));
        w.and("lon >= ?", Arg::Float(lon0));
        w.and("lon <= ?", Arg::Float(lon1));
        w.and("received_at >= ?", Arg::Int(ms(self.received_from)));
        w.and("received_at < ?", Arg::Int(ms(self.received_to)));
        if let Some(c) = &self.category {
            w.and("category = ?", Arg::Text(c.clone()));
        }
        // Scoping lives in the query: a unit sees only the candidates it could read anyway.
        scope_clause(&mut w, scope);
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases{} ORDER BY received_at DESC, id DESC LIMIT {}",
            w.sql,
            w.next_placeholder()
        );
        (sql, w)
    }

    fn limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, 1000))
    }
}

impl Store {
    /// Open cases with a point in the box around `q`'s circle, received in its window, newest
    /// first, whoever asks (the desk's bookkeeping). Reads made for a person go through
    /// [`Store::open_cases_near_in`].
    pub async fn open_cases_near(&self, q: &NearbyQuery) -> Result<Vec<CaseRecord>, StoreError> {
        self.open_cases_near_in(&Scope::All, q).await
    }

    /// [`Store::open_cases_near`] within `scope`: a case out of scope is never a candidate.
    pub async fn open_cases_near_in(&self, scope: &Scope, q: &NearbyQuery) -> Result<Vec<CaseRecord>, StoreError> {
        let (sql, w) = q.query(scope);
        let rows = w.bind(sqlx::query(AssertSqlSafe(sql))).bind(q.limit()).fetch_all(&self.pool).await?;
        rows.iter().map(|r| decode_case(r, &self.sealer)).collect()
    }

    /// The query plan of [`Store::open_cases_near`] (as [`Store::explain_list`]).
    pub async fn explain_open_cases_near(&self, q: &NearbyQuery) -> Result<Vec<String>, StoreError> {
        let (select, w) = q.query(&Scope::All);
        let (sql, column) = match self.backend {
            crate::Backend::Sqlite => (format!("EXPLAIN QUERY PLAN {select}"), "detail"),
            crate::Backend::Postgres => (format!("EXPLAIN {select}"), "QUERY PLAN"),
        };
        let rows = w.bind(sqlx::query(AssertSqlSafe(sql))).bind(q.limit()).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(r.try_get::<String, _>(column)?)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiesu_domain::model::Status;

    #[test]
    fn open_statuses_are_the_domain_s() {
        let open: Vec<String> = Status::ALL.iter().filter(|s| s.is_open()).map(|s| format!("'{}'", s.code())).collect();
        assert_eq!(OPEN_STATUSES, format!("({})", open.join(", ")));
    }

    #[test]
    fn the_box_holds_the_circle() {
        let q = NearbyQuery {
            lat: 39.93,
            lon: 116.41,
            radius_m: 500.0,
            received_from: Utc::now(),
            received_to: Utc::now(),
            category: None,
            limit: 10,
        };
        let (lat0, lat1, lon0, lon1) = q.bounds();
        // 500 m is 0.0045° of latitude, and 0.0059° of longitude at 39.93° N.
        assert!(((lat1 - lat0) / 2.0 - 0.004_497).abs() < 1e-5, "{lat0} {lat1}");
        assert!(((lon1 - lon0) / 2.0 - 0.005_862).abs() < 1e-5, "{lon0} {lon1}");
    }
}
