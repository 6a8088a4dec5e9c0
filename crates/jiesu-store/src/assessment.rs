//! Monthly assessment tallies (考核): per unit and month of receipt, the counts behind the
//! figures ([`Tally`], defined in the domain), kept in step with the cases in the transaction of
//! every write — a new case adds its state's tally, an append takes the old state's away and
//! adds the new one's (a redispatch moves the case to its new unit). The month is cut in the
//! store's assessment time zone (`meta.assessment_tz`, Asia/Shanghai unless re-cut with
//! [`Store::retally`]). `jiesu check` rebuilds the tallies from the replay of every case and
//! compares.
//!
//! The store decides nothing here: what a case counts for is [`Tally::settled`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use jiesu_domain::assessment::{self, Period, Tally};
use jiesu_domain::workflow::CaseState;
use sqlx::{Any, AssertSqlSafe, Row};

use crate::cases::ms;
use crate::{Backend, Store, StoreError};

/// The time zone months are cut in unless the store says otherwise.
pub const DEFAULT_ASSESSMENT_TZ: Tz = assessment::DEFAULT_TZ;

/// Columns of a tally row after `period, unit`, in [`Tally::to_array`] order, then `latest`.
const COUNTS: [&str; 12] = [
    "cases",
    "callbacks",
    "responded",
    "solved",
    "satisfied",
    "closed",
    "closed_on_time",
    "replied",
    "replied_on_time",
    "reworked",
    "handled",
    "handling_ms",
];

/// Values bound per tally upsert: period, unit, the counts, latest.
pub(crate) const UPSERT_ARGS: usize = 2 + COUNTS.len() + 1;

/// One stored tally: a unit's counts for a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyRow {
    /// The month of receipt, in the store's assessment time zone.
    pub period: Period,
    /// The unit (the cases' assignee).
    pub unit: String,
    /// The counts.
    pub tally: Tally,
    /// At or after every reply and close counted (None: none counted yet).
    pub latest: Option<DateTime<Utc>>,
}

/// The key of a case's tally: (period `YYYY-MM`, unit).
pub(crate) type Key = (String, String);

/// Changes to tallies, by key: counts to add (negative to take away) and the latest instant.
#[derive(Debug, Default, Clone)]
pub(crate) struct Deltas(BTreeMap<Key, (Tally, i64)>);

impl Deltas {
    /// The key, tally and latest instant of a case in `state`, cut in `tz`; None when no unit
    /// holds it or it is excluded from its unit's assessment (核减).
    pub(crate) fn entry(state: &CaseState, tz: Tz) -> Option<(Key, Tally, i64)> {
        let unit = assessment::assessed_unit(state)?.to_string();
        let period = Period::of(state.received_at, tz).to_string();
        let latest = assessment::latest(state).map_or(0, ms);
        Some(((period, unit), Tally::settled(state), latest))
    }

    /// Counts `state` in.
    pub(crate) fn add(&mut self, state: &CaseState, tz: Tz) {
        if let Some((key, tally, latest)) = Deltas::entry(state, tz) {
            let e = self.0.entry(key).or_default();
            e.0 = e.0.plus(tally);
            e.1 = e.1.max(latest);
        }
    }

    /// Counts `state` out (a state replaced by a newer one).
    pub(crate) fn remove(&mut self, state: &CaseState, tz: Tz) {
        if let Some((key, tally, _)) = Deltas::entry(state, tz) {
            let e = self.0.entry(key).or_default();
            e.0 = e.0.minus(tally);
        }
    }

    /// The changes that change something, in key order (so that concurrent writers lock tally
    /// rows in the same order on PostgreSQL).
    pub(crate) fn changes(&self) -> impl Iterator<Item = (&Key, &(Tally, i64))> {
        self.0.iter().filter(|(_, (t, latest))| !t.is_zero() || *latest > 0)
    }
}

/// The upsert of one tally change, placeholders from `mark`.
pub(crate) fn upsert_sql(backend: Backend, mark: &mut impl FnMut() -> String) -> String {
    let marks: Vec<String> = (0..UPSERT_ARGS).map(|_| mark()).collect();
    let sets: Vec<String> = COUNTS.iter().map(|c| format!("{c} = assessment_tallies.{c} + excluded.{c}")).collect();
    let max = match backend {
        Backend::Sqlite => "max",
        Backend::Postgres => "GREATEST",
    };
    format!(
        "INSERT INTO assessment_tallies (period, unit, {}, latest) VALUES ({}) ON CONFLICT (period, unit) DO UPDATE \
         SET {}, latest = {max}(assessment_tallies.latest, excluded.latest)",
        COUNTS.join(", "),
        marks.join(", "),
        sets.join(", ")
    )
}

/// Binds one tally change for [`upsert_sql`].
pub(crate) fn bind_upsert<'q>(
    mut q: crate::cases::AnyQuery<'q>,
    key: &Key,
    tally: &Tally,
    latest: i64,
) -> crate::cases::AnyQuery<'q> {
    q = q.bind(key.0.clone()).bind(key.1.clone());
    for v in tally.to_array() {
        q = q.bind(v);
    }
    q.bind(latest)
}

/// Writes `deltas` inside `tx`.
pub(crate) async fn apply(
    tx: &mut sqlx::Transaction<'_, Any>,
    backend: Backend,
    deltas: &Deltas,
) -> Result<(), StoreError> {
    let mut sql = None;
    for (key, (tally, latest)) in deltas.changes() {
        let text = sql.get_or_insert_with(|| upsert_sql(backend, &mut crate::cases::numbered(1)));
        bind_upsert(sqlx::query(AssertSqlSafe(text.clone())), key, tally, *latest).execute(&mut **tx).await?;
    }
    Ok(())
}

fn decode(row: &sqlx::any::AnyRow) -> Result<TallyRow, StoreError> {
    let period: String = row.try_get("period")?;
    let unit: String = row.try_get("unit")?;
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("tally {period} {unit}: {e}"));
    let mut counts = [0i64; 12];
    for (i, c) in COUNTS.iter().enumerate() {
        counts[i] = row.try_get(*c)?;
    }
    let latest: i64 = row.try_get("latest")?;
    Ok(TallyRow {
        period: period.parse().map_err(|e| corrupt(&e))?,
        unit,
        tally: Tally::from_array(counts),
        latest: (latest > 0).then(|| DateTime::from_timestamp_millis(latest)).flatten(),
    })
}

impl Store {
    /// The time zone the tallies' months are cut in.
    pub fn assessment_tz(&self) -> Tz {
        self.assessment_tz
    }

    /// The tallies of the months `from` to `to` (inclusive), by period then unit; units whose
    /// cases all moved away (zero cases) are left out.
    pub async fn tallies(&self, from: Period, to: Period) -> Result<Vec<TallyRow>, StoreError> {
        let sql = format!(
            "SELECT period, unit, {}, latest FROM assessment_tallies WHERE period >= $1 AND period <= $2 \
             AND cases <> 0 ORDER BY period, unit",
            COUNTS.join(", ")
        );
        let rows =
            sqlx::query(AssertSqlSafe(sql)).bind(from.to_string()).bind(to.to_string()).fetch_all(&self.pool).await?;
        rows.iter().map(decode).collect()
    }

    /// Every stored tally row, zero rows included (for `jiesu check`).
    pub async fn all_tallies(&self) -> Result<Vec<TallyRow>, StoreError> {
        let sql =
            format!("SELECT period, unit, {}, latest FROM assessment_tallies ORDER BY period, unit", COUNTS.join(", "));
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(decode).collect()
    }

    /// Per unit, the cases received in `[from, to)` not closed and past their deadline at `now`
    /// (超期未结): `closed_at IS NULL AND due < now`. Right for a `now` at or after every close
    /// of those cases (see [`TallyRow::latest`]).
    pub async fn unclosed_overdue_by_unit(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, u32)>, StoreError> {
        let sql = format!(
            "SELECT assignee, COUNT(*) AS n FROM cases WHERE closed_at IS NULL AND received_at >= $1 \
             AND received_at < $2 AND due < $3 AND assignee IS NOT NULL AND NOT ({}) GROUP BY assignee",
            excluded_sql(self.backend)
        );
        let rows =
            sqlx::query(AssertSqlSafe(sql)).bind(ms(from)).bind(ms(to)).bind(ms(now)).fetch_all(&self.pool).await?;
        unit_counts(&rows)
    }

    /// Per unit, the cases received in `[from, to)` that a supervisor excluded (核减) from its
    /// assessment on its appeal.
    pub async fn excluded_by_unit(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, u32)>, StoreError> {
        // The partial index `cases_excluded` (migration 0017) serves the first condition.
        let (excluded, unit) = excluded_parts(self.backend);
        let sql = format!(
            "SELECT assignee, COUNT(*) AS n FROM cases WHERE {excluded} AND received_at >= $1 AND received_at < $2 \
             AND {unit} = assignee GROUP BY assignee"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(ms(from)).bind(ms(to)).fetch_all(&self.pool).await?;
        unit_counts(&rows)
    }

    /// Cuts the tallies in `tz` from now on: when it is not the store's assessment time zone
    /// already, rebuilds every tally from the cases' states and records `tz`.
    pub async fn retally(mut self, tz: Tz) -> Result<Store, StoreError> {
        if tz != self.assessment_tz {
            self.assessment_tz = tz;
            self.rebuild_tallies().await?;
        }
        Ok(self)
    }

    /// On open: reads the assessment time zone, and builds the tallies once after migration 0011.
    pub(crate) async fn load_tallies(&mut self) -> Result<(), StoreError> {
        let tz: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE name = 'assessment_tz'")
            .fetch_optional(&self.writer)
            .await?;
        if let Some(tz) = tz {
            self.assessment_tz =
                tz.parse().map_err(|e| StoreError::Corrupt(format!("meta.assessment_tz '{tz}': {e}")))?;
        }
        let pending: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE name = 'assessment_pending'")
            .fetch_optional(&self.writer)
            .await?;
        if pending.is_some() {
            self.rebuild_tallies().await?;
        }
        Ok(())
    }

    /// Rebuilds every tally from the cases' states in the store's assessment time zone, in one
    /// transaction that writers wait for, and records the time zone.
    async fn rebuild_tallies(&self) -> Result<(), StoreError> {
        let tz = self.assessment_tz;
        let mut tx = self.write_tx().await?;
        if self.backend == Backend::Postgres {
            // No case changes while the states are read (SQLite: the write lock of the first
            // statement below; it is the only writer).
            sqlx::query("LOCK TABLE cases IN SHARE MODE").execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM assessment_tallies").execute(&mut *tx).await?;
        let mut deltas = Deltas::default();
        let mut after = 0i64;
        loop {
            let rows = sqlx::query("SELECT id, state FROM cases WHERE id > $1 ORDER BY id LIMIT 5000")
                .bind(after)
                .fetch_all(&mut *tx)
                .await?;
            let states: Vec<(i64, CaseState)> = crate::cases::id_and_json(&rows, "id", "state", "state")?;
            let Some(&(last, _)) = states.last() else { break };
            for (_, s) in &states {
                deltas.add(s, tz);
            }
            after = last;
        }
        apply(&mut tx, self.backend, &deltas).await?;
        sqlx::query(
            "INSERT INTO meta (name, value) VALUES ('assessment_tz', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(tz.name())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM meta WHERE name = 'assessment_pending'").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a case in `state` counts for in the tallies: its month (cut in the store's
    /// assessment time zone), unit and tally; None when no unit holds it. For `jiesu check`,
    /// which sums these over the replay of every case and compares with [`Store::all_tallies`].
    pub fn tally_entry(&self, state: &CaseState) -> Option<(Period, String, Tally)> {
        let ((period, unit), tally, _) = Deltas::entry(state, self.assessment_tz)?;
        Some((period.parse().ok()?, unit, tally))
    }
}

/// The two parts of [`jiesu_domain::workflow::CaseState::excluded`] read from the state column
/// (rare, so not a column of its own; the queries using them are narrowed by month first): the
/// appeal's 核减 flag — word for word the condition of the partial index `cases_excluded`
/// (migration 0017) — and the expression of the unit it was excluded for.
fn excluded_parts(backend: Backend) -> (&'static str, &'static str) {
    match backend {
        Backend::Sqlite => ("json_extract(state, '$.appeal.excluded') = 1", "json_extract(state, '$.appeal.unit')"),
        Backend::Postgres => ("(state::jsonb #>> '{appeal,excluded}') = 'true'", "(state::jsonb #>> '{appeal,unit}')"),
    }
}

/// The SQL condition on a case row that is true when the case is excluded (核减) from its
/// assignee's assessment, false otherwise (never NULL: it is negated).
fn excluded_sql(backend: Backend) -> String {
    let (excluded, unit) = excluded_parts(backend);
    let no = if backend == Backend::Sqlite { "0" } else { "false" };
    format!("COALESCE({excluded} AND {unit} = assignee, {no})")
}

/// (unit, count) rows of `SELECT assignee, COUNT(*) AS n … GROUP BY assignee`.
fn unit_counts(rows: &[sqlx::any::AnyRow]) -> Result<Vec<(String, u32)>, StoreError> {
    rows.iter()
        .map(|r| Ok((r.try_get("assignee")?, u32::try_from(r.try_get::<i64, _>("n")?).unwrap_or(u32::MAX))))
        .collect()
}
