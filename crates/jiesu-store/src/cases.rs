//! Case rows and event rows: create, append, read, list.

use chrono::{DateTime, Utc};
use jiesu_domain::access::Scope;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role, Status};
use jiesu_domain::workflow::{CaseState, Event};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
// Every dynamic SQL string here is built from constants of this module, never from input.
use sqlx::{Any, AssertSqlSafe, Row};

use crate::crypt::Sealer;
use crate::{Store, StoreError};

/// A stored case: what was written at intake, and its current (replayed) state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRecord {
    /// Case id (the public 诉求编号 is derived from it).
    pub id: i64,
    /// What was written at intake (category and place as corrected since).
    pub case: NewCase,
    /// The fold of its events.
    pub state: CaseState,
}

/// Which cases to list. Every field narrows the result; the default lists everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CaseFilter {
    /// Any of these statuses.
    pub statuses: Vec<Status>,
    /// Held by this unit.
    pub assignee: Option<String>,
    /// Category code; a 2-character code matches all its subcategories.
    pub category: Option<String>,
    /// Any of these leaf category codes (empty: no condition).
    pub categories: Vec<String>,
    /// In this street.
    pub street: Option<String>,
    /// Received at or after.
    pub received_from: Option<DateTime<Utc>>,
    /// Received before.
    pub received_to: Option<DateTime<Utc>>,
    /// Only cases past their deadline at this instant (open, not yet replied).
    pub overdue_at: Option<DateTime<Utc>>,
    /// Came from this external id (Open311 token, sensor alarm).
    pub external_id: Option<String>,
    /// Title or text contains these words (as written, `%` and `_` taken literally).
    pub text: Option<String>,
}

/// Keyset paging, newest first.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Page {
    /// At most this many rows.
    pub limit: u32,
    /// Only ids below this one (the last id of the previous page).
    pub before: Option<i64>,
}

impl Default for Page {
    fn default() -> Self {
        Page { limit: 50, before: None }
    }
}

/// Statuses in which a deadline runs (the unit holds the case and has not replied).
pub(crate) const DEADLINE_STATUSES: &str = "('dispatched', 'accepted', 'in_progress', 'return_requested')";

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Decodes rows of (case id, JSON column) into (id, value); `what` names the value in errors.
pub(crate) fn id_and_json<T: serde::de::DeserializeOwned>(
    rows: &[AnyRow],
    id_column: &str,
    json_column: &str,
    what: &str,
) -> Result<Vec<(i64, T)>, StoreError> {
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get(id_column)?;
            let text: String = r.try_get(json_column)?;
            let value =
                serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("case {id} {what}: {e}")))?;
            Ok((id, value))
        })
        .collect()
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain types serialise")
}

pub(crate) const CASE_COLUMNS: &str =
    "id, channel, kind, title, body, category, address, lat, lon, street, community, grid, contact, external_id, state";

pub(crate) fn decode_case(row: &AnyRow, sealer: &Sealer) -> Result<CaseRecord, StoreError> {
    let id: i64 = row.try_get("id")?;
    let corrupt = |what: &str, e: &dyn std::fmt::Display| StoreError::Corrupt(format!("case {id} {what}: {e}"));
    let channel: String = row.try_get("channel")?;
    let kind: String = row.try_get("kind")?;
    let contact: Option<String> = row.try_get("contact")?;
    let state: String = row.try_get("state")?;
    let contact: Contact = match contact {
        Some(c) => {
            let plain = sealer.open(&c, &format!("the contact of case {id}"))?;
            serde_json::from_slice(&plain).map_err(|e| corrupt("contact", &e))?
        }
        None => Contact::default(),
    };
    let case = NewCase {
        channel: channel.parse::<Channel>().map_err(|e| corrupt("channel", &e))?,
        kind: kind.parse::<CaseKind>().map_err(|e| corrupt("kind", &e))?,
        title: Some(row.try_get("title")?),
        text: row.try_get("body")?,
        category: row.try_get("category")?,
        place: Place {
            address: row.try_get("address")?,
            lat: row.try_get("lat")?,
            lon: row.try_get("lon")?,
            street: row.try_get("street")?,
            community: row.try_get("community")?,
            grid: row.try_get("grid")?,
        },
        contact,
        external_id: row.try_get("external_id")?,
    };
    let state: CaseState = serde_json::from_str(&state).map_err(|e| corrupt("state", &e))?;
    Ok(CaseRecord { id, case, state })
}

impl Store {
    /// Stores a new case with its first events, in one transaction. Returns the new id.
    ///
    /// On SQLite, cases filed at the same moment share one commit (see the `batch` module); each
    /// is still all-or-nothing, and the call returns only after its commit.
    ///
    /// The citizen's contact is sealed with the data key; a case filed by a citizen records them
    /// as its owner (for [`Scope::Own`]); summoned units, if any, go to `case_units`.
    pub async fn create_case(&self, case: &NewCase, events: &[Event], state: &CaseState) -> Result<i64, StoreError> {
        let row = self.case_row(case, events);
        match self.backend {
            crate::Backend::Sqlite => {
                let units = joint_units(state);
                let shape = crate::batch::Shape { events: events.len(), units: units.len() };
                // Serialised here, by the caller, so that the single writer only binds.
                let (state_json, event_json) = (json(state), events.iter().map(json).collect::<Vec<_>>());
                let (case, events, state) = (case.clone(), events.to_vec(), state.clone());
                let bind = Box::new(move |q| {
                    let q = bind_case(q, &case, &state, &state_json, &row);
                    let mut q = bind_events(q, &events, &event_json);
                    for u in &units {
                        q = q.bind(u.clone());
                    }
                    q
                });
                let (reply, answer) = tokio::sync::oneshot::channel();
                let queue = self.intake.as_ref().expect("SQLite stores have an intake queue");
                queue
                    .send(crate::batch::Job { shape, bind, reply })
                    .await
                    .map_err(|_| StoreError::Write("the store is closed".into()))?;
                answer.await.map_err(|_| StoreError::Write("the writer stopped".into()))?
            }
            crate::Backend::Postgres => {
                let mut tx = self.writer.begin().await?;
                let id = self.insert_case(&mut tx, case, events, state, &row).await?;
                tx.commit().await?;
                Ok(id)
            }
        }
    }

    /// Stores many new cases, each with all its events, in one transaction and in order (bulk
    /// loads such as `jiesu demo`: ids follow the order given). All or nothing.
    pub async fn create_cases(&self, cases: &[(NewCase, Vec<Event>, CaseState)]) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let mut ids = Vec::with_capacity(cases.len());
        for (case, events, state) in cases {
            let row = self.case_row(case, events);
            ids.push(self.insert_case(&mut tx, case, events, state, &row).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// The row values a case gets besides its own: the sealed contact and the owner.
    fn case_row(&self, case: &NewCase, events: &[Event]) -> CaseRow {
        CaseRow {
            contact: (!case.contact.is_empty()).then(|| self.sealer.seal(json(&case.contact).as_bytes())),
            owner: owner_of(events),
        }
    }

    /// Inserts one case with its events and summoned units inside `tx` (and its search terms on
    /// PostgreSQL; SQLite's indexer follows the ids). Returns the new id.
    async fn insert_case(
        &self,
        tx: &mut sqlx::Transaction<'_, Any>,
        case: &NewCase,
        events: &[Event],
        state: &CaseState,
        row: &CaseRow,
    ) -> Result<i64, StoreError> {
        let sql = format!("{} RETURNING id", case_insert(&mut numbered(1)));
        let q = bind_case(sqlx::query(AssertSqlSafe(sql)), case, state, &json(state), row);
        let id: i64 = q.fetch_one(&mut **tx).await?.try_get("id")?;
        insert_events(tx, id, events).await?;
        insert_units(tx, id, state).await?;
        if self.backend == crate::Backend::Postgres {
            crate::search::insert_terms(tx, id, &case.display_title(), &case.text).await?;
        }
        Ok(id)
    }

    /// Appends events to case `id` and stores its new state, in one transaction, provided the
    /// case's latest event is still number `expected_seq`. The cached columns follow the state,
    /// the `category` column too (改分类 changes it; lists, counts and the manual queue filter
    /// on it).
    pub async fn append(
        &self,
        id: i64,
        expected_seq: u32,
        events: &[Event],
        state: &CaseState,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE cases SET status = $1, assignee = $2, due = $3, overdue_noticed = $4, updated_at = $5, \
             closed_at = $6, seq = $7, state = $8, category = $9 WHERE id = $10 AND seq = $11",
        )
        .bind(state.status.code())
        .bind(&state.assignee)
        .bind(state.due.map(ms))
        .bind(i64::from(state.overdue_noticed))
        .bind(ms(state.updated_at))
        .bind(state.closed_at.map(ms))
        .bind(i64::from(state.seq))
        .bind(json(state))
        .bind(&state.category)
        .bind(id)
        .bind(i64::from(expected_seq))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM cases WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
            return Err(match exists {
                Some(_) => StoreError::Conflict { id, expected: expected_seq },
                None => StoreError::NotFound(id),
            });
        }
        insert_events(&mut tx, id, events).await?;
        // Summoned units follow the state (吹哨 adds, 重办 clears).
        sqlx::query("DELETE FROM case_units WHERE case_id = $1").bind(id).execute(&mut *tx).await?;
        insert_units(&mut tx, id, state).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes what intake wrote (category and place, e.g. an operator's correction) without an
    /// event. The state's category is carried by events (受理, 改分类) and is not touched here;
    /// the next [`Store::append`] sets the `category` column from the state again, and
    /// `jiesu check` reports a column that differs from the replay. To change a case's category,
    /// take the 改分类 action (`reclassify`).
    pub async fn update_intake(&self, id: i64, case: &NewCase) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE cases SET category = $1, address = $2, lat = $3, lon = $4, street = $5, community = $6, grid = $7 \
             WHERE id = $8",
        )
        .bind(&case.category)
        .bind(&case.place.address)
        .bind(F64(case.place.lat))
        .bind(F64(case.place.lon))
        .bind(&case.place.street)
        .bind(&case.place.community)
        .bind(&case.place.grid)
        .bind(id)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound(id)) } else { Ok(()) }
    }

    /// One case, whoever asks (the desk's bookkeeping, integrity checks, tools). Reads made for
    /// a person go through [`Store::case_in`].
    pub async fn case(&self, id: i64) -> Result<CaseRecord, StoreError> {
        self.case_in(&Scope::All, id).await
    }

    /// One case, if it is within `scope`; [`StoreError::NotFound`] otherwise, so that a case
    /// out of scope cannot be told from a missing one.
    pub async fn case_in(&self, scope: &Scope, id: i64) -> Result<CaseRecord, StoreError> {
        let mut w = Where::default();
        w.and("id = ?", Arg::Int(id));
        scope_clause(&mut w, scope);
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases{}", w.sql);
        let row = w
            .bind(sqlx::query(AssertSqlSafe(sql)))
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound(id))?;
        decode_case(&row, &self.sealer)
    }

    /// A case's events, oldest first, if the case is within `scope` ([`StoreError::NotFound`]
    /// otherwise).
    pub async fn events_in(&self, scope: &Scope, id: i64) -> Result<Vec<Event>, StoreError> {
        if !scope.is_all() {
            let mut w = Where::default();
            w.and("id = ?", Arg::Int(id));
            scope_clause(&mut w, scope);
            let sql = format!("SELECT id FROM cases{}", w.sql);
            w.bind(sqlx::query(AssertSqlSafe(sql)))
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound(id))?;
        }
        self.events(id).await
    }

    /// Seals contacts written in plain JSON before migration 0002 (once, at start-up).
    pub(crate) async fn seal_plain_contacts(&self) -> Result<(), StoreError> {
        let mut sealed = 0usize;
        loop {
            let rows = sqlx::query("SELECT id, contact FROM cases WHERE contact LIKE '{%' ORDER BY id LIMIT 1000")
                .fetch_all(&self.writer)
                .await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = self.writer.begin().await?;
            for r in &rows {
                let id: i64 = r.try_get("id")?;
                let plain: String = r.try_get("contact")?;
                sqlx::query("UPDATE cases SET contact = $1 WHERE id = $2")
                    .bind(self.sealer.seal(plain.as_bytes()))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            sealed += rows.len();
        }
        if sealed > 0 {
            tracing::info!(cases = sealed, "sealed citizens' contacts stored in plain text before encryption at rest");
        }
        Ok(())
    }

    /// A case's events, oldest first.
    pub async fn events(&self, id: i64) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT body FROM events WHERE case_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        if rows.is_empty() {
            // Distinguish a missing case from a case with no events (which would be corrupt).
            self.case(id).await?;
        }
        rows.iter()
            .map(|b| serde_json::from_str(b).map_err(|e| StoreError::Corrupt(format!("case {id} event: {e}"))))
            .collect()
    }

    /// Events of the cases with ids in `ids`, grouped by case (for integrity checks in bulk).
    pub async fn events_of(&self, first_id: i64, last_id: i64) -> Result<Vec<(i64, Event)>, StoreError> {
        let rows =
            sqlx::query("SELECT case_id, body FROM events WHERE case_id BETWEEN $1 AND $2 ORDER BY case_id, seq")
                .bind(first_id)
                .bind(last_id)
                .fetch_all(&self.pool)
                .await?;
        id_and_json(&rows, "case_id", "body", "event")
    }

    /// Cases within `scope` matching `filter`, newest first, one page.
    pub async fn list(&self, scope: &Scope, filter: &CaseFilter, page: Page) -> Result<Vec<CaseRecord>, StoreError> {
        let w = filter_clause(self.backend, scope, filter, page.before);
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases{} ORDER BY id DESC LIMIT {}", w.sql, w.next_placeholder());
        let limit = i64::from(page.limit.clamp(1, 1000));
        let rows = w.bind(sqlx::query(AssertSqlSafe(sql))).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(|r| decode_case(r, &self.sealer)).collect()
    }

    /// Cases matching `filter`, newest first, `limit` rows after skipping `offset` (for clients
    /// that page by number, such as Open311's `page`/`page_size`).
    /// Every case is in scope: the callers show public fields only.
    pub async fn list_offset(
        &self,
        filter: &CaseFilter,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        let w = filter_clause(self.backend, &Scope::All, filter, None);
        let n = w.args.len();
        let sql =
            format!("SELECT {CASE_COLUMNS} FROM cases{} ORDER BY id DESC LIMIT ${} OFFSET ${}", w.sql, n + 1, n + 2);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows =
            w.bind(sqlx::query(AssertSqlSafe(sql))).bind(i64::from(limit)).bind(offset).fetch_all(&self.pool).await?;
        rows.iter().map(|r| decode_case(r, &self.sealer)).collect()
    }

    /// The database's query plan for [`Store::list`] with `filter` (EXPLAIN QUERY PLAN on SQLite,
    /// EXPLAIN on PostgreSQL), one line per plan step: to see that listing uses an index.
    pub async fn explain_list(
        &self,
        scope: &Scope,
        filter: &CaseFilter,
        page: Page,
    ) -> Result<Vec<String>, StoreError> {
        let w = filter_clause(self.backend, scope, filter, page.before);
        let select =
            format!("SELECT {CASE_COLUMNS} FROM cases{} ORDER BY id DESC LIMIT {}", w.sql, w.next_placeholder());
        let (sql, column) = match self.backend {
            crate::Backend::Sqlite => (format!("EXPLAIN QUERY PLAN {select}"), "detail"),
            crate::Backend::Postgres => (format!("EXPLAIN {select}"), "QUERY PLAN"),
        };
        let rows = w.bind(sqlx::query(AssertSqlSafe(sql))).bind(i64::from(page.limit)).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(r.try_get::<String, _>(column)?)).collect()
    }

    /// How many cases within `scope` match `filter`.
    pub async fn count(&self, scope: &Scope, filter: &CaseFilter) -> Result<u64, StoreError> {
        let w = filter_clause(self.backend, scope, filter, None);
        let sql = format!("SELECT COUNT(*) AS n FROM cases{}", w.sql);
        let n: i64 = w.bind(sqlx::query(AssertSqlSafe(sql))).fetch_one(&self.pool).await?.try_get("n")?;
        Ok(n as u64)
    }

    /// Counts of the cases within `scope`, by status code.
    pub async fn count_by_status(&self, scope: &Scope) -> Result<Vec<(String, u64)>, StoreError> {
        let mut w = Where::default();
        scope_clause(&mut w, scope);
        let sql = format!("SELECT status, COUNT(*) AS n FROM cases{} GROUP BY status ORDER BY status", w.sql);
        let rows = w.bind(sqlx::query(AssertSqlSafe(sql))).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("status")?, r.try_get::<i64, _>("n")? as u64))).collect()
    }

    /// Ids of cases whose deadline passed before `now` and that have no overdue notice yet,
    /// oldest deadline first.
    pub async fn overdue_unnoticed(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT id FROM cases WHERE status IN {DEADLINE_STATUSES} AND due <= $1 AND overdue_noticed = 0 \
             ORDER BY due LIMIT $2"
        )))
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// States of the cases received in `[from, to)`, with their ids (for the assessment).
    pub async fn states_received(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(i64, CaseState)>, StoreError> {
        let rows = sqlx::query("SELECT id, state FROM cases WHERE received_at >= $1 AND received_at < $2")
            .bind(ms(from))
            .bind(ms(to))
            .fetch_all(&self.pool)
            .await?;
        id_and_json(&rows, "id", "state", "state")
    }

    /// Cases with ids in `[first_id, last_id]`, ascending (for integrity checks in bulk).
    pub async fn cases_between(&self, first_id: i64, last_id: i64) -> Result<Vec<CaseRecord>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE id BETWEEN $1 AND $2 ORDER BY id"
        )))
        .bind(first_id)
        .bind(last_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| decode_case(r, &self.sealer)).collect()
    }

    /// The highest case id, if any.
    pub async fn max_case_id(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT MAX(id) FROM cases").fetch_one(&self.pool).await?)
    }

    /// The cached columns (status, assignee, due, seq, owner, category, summoned units) of cases
    /// with ids in `[first_id, last_id]`, for checking them against the replay of the events.
    pub async fn cached_columns_between(&self, first_id: i64, last_id: i64) -> Result<Vec<CachedColumns>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, status, assignee, due, seq, owner, category FROM cases WHERE id BETWEEN $1 AND $2 ORDER BY id",
        )
        .bind(first_id)
        .bind(last_id)
        .fetch_all(&self.pool)
        .await?;
        let units =
            sqlx::query("SELECT case_id, unit FROM case_units WHERE case_id BETWEEN $1 AND $2 ORDER BY case_id, unit")
                .bind(first_id)
                .bind(last_id)
                .fetch_all(&self.pool)
                .await?;
        let mut units = units.iter().peekable();
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let mut joint = Vec::new();
                while let Some(u) = units.peek() {
                    let case_id: i64 = u.try_get("case_id")?;
                    if case_id > id {
                        break;
                    }
                    if case_id == id {
                        joint.push(u.try_get("unit")?);
                    }
                    units.next();
                }
                Ok(CachedColumns {
                    id,
                    status: r.try_get("status")?,
                    assignee: r.try_get("assignee")?,
                    due: r.try_get("due")?,
                    seq: r.try_get("seq")?,
                    owner: r.try_get("owner")?,
                    category: r.try_get("category")?,
                    joint,
                })
            })
            .collect()
    }
}

/// The columns of a case row that cache its state for queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedColumns {
    /// Case id.
    pub id: i64,
    /// Status code.
    pub status: String,
    /// Assigned unit.
    pub assignee: Option<String>,
    /// Deadline, epoch ms.
    pub due: Option<i64>,
    /// Latest event number.
    pub seq: i64,
    /// The citizen who filed it.
    pub owner: Option<String>,
    /// Leaf category code (the state's: at receipt or after the latest 改分类).
    pub category: String,
    /// Summoned units (`case_units`), sorted.
    pub joint: Vec<String>,
}

impl CachedColumns {
    /// True when the columns say what `state` (the replay of `events`) says.
    pub fn agree_with(&self, state: &CaseState, events: &[&Event]) -> bool {
        let mut joint = joint_units(state);
        joint.sort();
        self.status == state.status.code()
            && self.assignee == state.assignee
            && self.due == state.due.map(ms)
            && self.seq == i64::from(state.seq)
            && self.category == state.category
            && self.joint == joint
            && self.owner == events.first().and_then(|e| owner_of(std::slice::from_ref(*e)))
    }
}

/// What is stored on the case row besides the case and its state.
struct CaseRow {
    /// The sealed contact.
    contact: Option<String>,
    /// The citizen who filed the case.
    owner: Option<String>,
}

/// The owner of a new case: its first event's actor, when a citizen.
fn owner_of(events: &[Event]) -> Option<String> {
    events.first().filter(|e| e.actor.role == Role::Citizen).map(|e| e.actor.user.clone())
}

/// Units summoned by 吹哨, once each.
fn joint_units(state: &CaseState) -> Vec<String> {
    let mut units: Vec<String> = state.joint.iter().map(|j| j.unit.clone()).collect();
    units.dedup();
    units
}

/// Placeholders `$first`, `$first+1`, … (the syntax both backends accept).
fn numbered(first: usize) -> impl FnMut() -> String {
    let mut next = first;
    move || {
        next += 1;
        format!("${}", next - 1)
    }
}

/// Anonymous placeholders (`?`, SQLite only): they take the values in order, across all the
/// statements of a script, so a statement's text does not depend on where it stands.
fn anonymous() -> String {
    "?".to_string()
}

/// The statements that write one new case on SQLite (the case row, returning its id, then its
/// events and summoned units), with anonymous placeholders: the same text for every case of the
/// same shape, so the batch writer builds it once. The case id is the new row's: with one writer
/// inside the transaction, `max(id)`.
pub(crate) fn sqlite_create_sql(shape: crate::batch::Shape) -> String {
    const NEW_ID: &str = "(SELECT max(id) FROM cases)";
    let mut sql = format!(
        "{} RETURNING id; {}",
        case_insert(&mut anonymous),
        events_insert(shape.events, NEW_ID, &mut anonymous)
    );
    if shape.units > 0 {
        sql.push_str("; ");
        sql.push_str(&units_insert(shape.units, NEW_ID, &mut anonymous));
    }
    sql
}

/// An INSERT of `k` summoned units of the case `case_id` (an SQL expression), values marked by
/// `mark`.
fn units_insert(k: usize, case_id: &str, mark: &mut impl FnMut() -> String) -> String {
    let rows: Vec<String> = (0..k).map(|_| format!("({case_id}, {})", mark())).collect();
    format!("INSERT INTO case_units (case_id, unit) VALUES {}", rows.join(", "))
}

async fn insert_units(tx: &mut sqlx::Transaction<'_, Any>, id: i64, state: &CaseState) -> Result<(), StoreError> {
    let units = joint_units(state);
    if units.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::query(AssertSqlSafe(units_insert(units.len(), "$1", &mut numbered(2)))).bind(id);
    for u in units {
        q = q.bind(u);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// The INSERT of a case row, its values marked by `mark`.
fn case_insert(mark: &mut impl FnMut() -> String) -> String {
    let marks: Vec<String> = (0..CASE_INSERT_ARGS).map(|_| mark()).collect();
    format!(
        "INSERT INTO cases (channel, kind, title, body, category, address, lat, lon, street, community, grid, contact, \
         external_id, status, assignee, due, overdue_noticed, received_at, updated_at, closed_at, seq, state, owner) \
         VALUES ({})",
        marks.join(", ")
    )
}

/// Number of placeholders in [`case_insert`].
const CASE_INSERT_ARGS: usize = 23;

pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

/// Binds a case row's values; `state_json` is `state` serialised.
fn bind_case<'q>(q: AnyQuery<'q>, case: &NewCase, state: &CaseState, state_json: &str, row: &CaseRow) -> AnyQuery<'q> {
    q.bind(case.channel.code())
        .bind(case.kind.code())
        .bind(case.display_title())
        .bind(case.text.clone())
        .bind(case.category.clone())
        .bind(case.place.address.clone())
        .bind(F64(case.place.lat))
        .bind(F64(case.place.lon))
        .bind(case.place.street.clone())
        .bind(case.place.community.clone())
        .bind(case.place.grid.clone())
        .bind(row.contact.clone())
        .bind(case.external_id.clone())
        .bind(state.status.code())
        .bind(state.assignee.clone())
        .bind(state.due.map(ms))
        .bind(i64::from(state.overdue_noticed))
        .bind(ms(state.received_at))
        .bind(ms(state.updated_at))
        .bind(state.closed_at.map(ms))
        .bind(i64::from(state.seq))
        .bind(state_json.to_owned())
        .bind(row.owner.clone())
}

/// An optional `f64` that binds correctly on PostgreSQL through the `Any` driver.
///
/// sqlx 0.9's `Any` encodes a NULL of type DOUBLE as a PostgreSQL `float4` NULL (and a NULL of
/// type REAL as `float8`): a cached statement first run with a NULL latitude then expects
/// `float4` and refuses the next real latitude (22P03). Binding the NULL as REAL gives `float8`.
struct F64(Option<f64>);

impl sqlx::Encode<'_, Any> for F64 {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self.0 {
            Some(v) => <f64 as sqlx::Encode<Any>>::encode_by_ref(&v, buf),
            None => <Option<f32> as sqlx::Encode<Any>>::encode_by_ref(&None, buf),
        }
    }
}

impl sqlx::Type<Any> for F64 {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <f64 as sqlx::Type<Any>>::type_info()
    }
}

/// Placeholders bound per event by [`bind_events`].
const EVENT_ARGS: usize = 9;

/// A multi-row INSERT of `n` events of the case `case_id` (an SQL expression), whose values are
/// marked by `mark`.
fn events_insert(n: usize, case_id: &str, mark: &mut impl FnMut() -> String) -> String {
    let rows: Vec<String> = (0..n)
        .map(|_| {
            let marks: Vec<String> = (0..EVENT_ARGS).map(|_| mark()).collect();
            format!("({case_id}, {})", marks.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO events (case_id, seq, at, actor_user, actor_role, actor_unit, action, from_status, to_status, body) \
         VALUES {}",
        rows.join(", ")
    )
}

/// Binds the values of `events`; `jsons` are the events serialised, in the same order.
fn bind_events<'q>(mut q: AnyQuery<'q>, events: &[Event], jsons: &[String]) -> AnyQuery<'q> {
    for (e, body) in events.iter().zip(jsons) {
        q = q
            .bind(i64::from(e.seq))
            .bind(ms(e.at))
            .bind(e.actor.user.clone())
            .bind(e.actor.role.code())
            .bind(e.actor.unit.clone())
            .bind(e.action.code())
            .bind(e.from.map(|s| s.code()))
            .bind(e.to.code())
            .bind(body.clone());
    }
    q
}

/// Inserts a case's new events with one multi-row statement.
async fn insert_events(tx: &mut sqlx::Transaction<'_, Any>, id: i64, events: &[Event]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let q = sqlx::query(AssertSqlSafe(events_insert(events.len(), "$1", &mut numbered(2)))).bind(id);
    let jsons: Vec<String> = events.iter().map(json).collect();
    bind_events(q, events, &jsons).execute(&mut **tx).await?;
    Ok(())
}

/// A bound value of a dynamic query.
enum Arg {
    Text(String),
    Int(i64),
}

/// A WHERE clause with `$n` placeholders (the one syntax both backends accept) and its values.
#[derive(Default)]
struct Where {
    sql: String,
    args: Vec<Arg>,
}

impl Where {
    /// Adds `condition`, in which `?` stands for the next placeholder, bound to `arg`.
    fn and(&mut self, condition: &str, arg: Arg) {
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        self.args.push(arg);
        self.sql.push_str(&condition.replace('?', &format!("${}", self.args.len())));
    }

    /// Adds `condition`, in which each `?` in turn stands for the next of `args`.
    fn and_each(&mut self, condition: &str, args: Vec<Arg>) {
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        let mut parts = condition.split('?');
        self.sql.push_str(parts.next().unwrap_or(""));
        for (part, arg) in parts.zip(args) {
            self.args.push(arg);
            self.sql.push_str(&format!("${}{part}", self.args.len()));
        }
    }

    fn and_in(&mut self, column: &str, values: impl IntoIterator<Item = String>) {
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        let mut marks = Vec::new();
        for v in values {
            self.args.push(Arg::Text(v));
            marks.push(format!("${}", self.args.len()));
        }
        self.sql.push_str(&format!("{column} IN ({})", marks.join(", ")));
    }

    fn next_placeholder(&self) -> String {
        format!("${}", self.args.len() + 1)
    }

    fn bind<'q>(
        self,
        mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
        for a in self.args {
            q = match a {
                Arg::Text(s) => q.bind(s),
                Arg::Int(i) => q.bind(i),
            };
        }
        q
    }
}

/// Narrows `w` to the cases within `scope`.
fn scope_clause(w: &mut Where, scope: &Scope) {
    const SUMMONED: &str = "id IN (SELECT case_id FROM case_units WHERE unit = ?)";
    match scope {
        Scope::All => {}
        Scope::Unit { unit, street: None } => {
            w.and_each(
                &format!("(assignee = ? OR {SUMMONED})"),
                vec![Arg::Text(unit.clone()), Arg::Text(unit.clone())],
            );
        }
        Scope::Unit { unit, street: Some(street) } => w.and_each(
            &format!("(assignee = ? OR {SUMMONED} OR street = ?)"),
            vec![Arg::Text(unit.clone()), Arg::Text(unit.clone()), Arg::Text(street.clone())],
        ),
        Scope::Own(owner) => w.and("owner = ?", Arg::Text(owner.clone())),
        Scope::Nothing => w.and_each("1 = 0", Vec::new()),
    }
}

/// `%` and `_` taken literally in a LIKE pattern (escape character `\`).
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn filter_clause(backend: crate::Backend, scope: &Scope, f: &CaseFilter, before: Option<i64>) -> Where {
    let mut w = Where::default();
    scope_clause(&mut w, scope);
    if !f.statuses.is_empty() {
        w.and_in("status", f.statuses.iter().map(|s| s.code().to_string()));
    }
    if let Some(u) = &f.assignee {
        w.and("assignee = ?", Arg::Text(u.clone()));
    }
    if let Some(c) = &f.category {
        if c.len() == 2 {
            // A range rather than LIKE, so that the category index serves it on both backends.
            w.and("category >= ?", Arg::Text(c.clone()));
            w.and("category < ?", Arg::Text(format!("{c}~")));
        } else {
            w.and("category = ?", Arg::Text(c.clone()));
        }
    }
    if !f.categories.is_empty() {
        w.and_in("category", f.categories.iter().cloned());
    }
    if let Some(s) = &f.street {
        w.and("street = ?", Arg::Text(s.clone()));
    }
    if let Some(t) = f.received_from {
        w.and("received_at >= ?", Arg::Int(ms(t)));
    }
    if let Some(t) = f.received_to {
        w.and("received_at < ?", Arg::Int(ms(t)));
    }
    if let Some(t) = f.overdue_at {
        w.and(&format!("status IN {DEADLINE_STATUSES} AND due <= ?"), Arg::Int(ms(t)));
    }
    if let Some(x) = &f.external_id {
        w.and("external_id = ?", Arg::Text(x.clone()));
    }
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        // The index narrows to candidates; LIKE decides (see `search`).
        let terms = crate::search::query_terms(t);
        if !terms.is_empty() {
            w.and(
                crate::search::candidates_condition(backend),
                Arg::Text(crate::search::candidates_arg(backend, &terms)),
            );
        }
        // Case-insensitive on both (SQLite's LIKE folds ASCII; PostgreSQL's ILIKE all letters).
        let like = match backend {
            crate::Backend::Sqlite => "(title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\')",
            crate::Backend::Postgres => "(title ILIKE ? ESCAPE '\\' OR body ILIKE ? ESCAPE '\\')",
        };
        w.and(like, Arg::Text(like_literal(t)));
    }
    if let Some(b) = before {
        w.and("id < ?", Arg::Int(b));
    }
    w
}
