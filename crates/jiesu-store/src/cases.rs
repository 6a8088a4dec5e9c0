//! Case rows and event rows: create, append, read, list.

use chrono::{DateTime, Utc};
use jiesu_domain::access::{Scope, owner_identity};
use jiesu_domain::attachment::Photo;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role, Status};
use jiesu_domain::workflow::{CaseState, Event};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
// Every dynamic SQL string here is built from constants of this module, never from input.
use sqlx::{Any, AssertSqlSafe, Row};

use crate::chain::EventColumns;
use crate::changes::Change;
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
    /// In this unit grid cell (14-character code).
    pub grid: Option<String>,
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
    /// Cases this unit is summoned to by 吹哨 (`case_units`), whoever leads them.
    pub summoned: Option<String>,
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
    /// as its owner (for [`Scope::Own`]); summoned units, if any, go to `case_units`. An external
    /// id is unique per filer (the first event's actor): [`StoreError::AlreadyFiled`] names the
    /// case filed first.
    pub async fn create_case(&self, case: &NewCase, events: &[Event], state: &CaseState) -> Result<i64, StoreError> {
        self.create_case_with(case, events, state, None).await
    }

    /// [`Store::create_case`] with what an Open311 client sent (media, attributes, token), all
    /// in the case's transaction: the case is marked as filed through the Open311 endpoint.
    pub async fn create_case_with(
        &self,
        case: &NewCase,
        events: &[Event],
        state: &CaseState,
        open311: Option<&crate::Open311Intake>,
    ) -> Result<i64, StoreError> {
        self.create_case_full(case, events, state, open311, &[]).await
    }

    /// [`Store::create_case_with`] with photos that came with the case (a grid inspector's
    /// report), stored as attachments of its first event (受理) in the case's transaction.
    pub async fn create_case_full(
        &self,
        case: &NewCase,
        events: &[Event],
        state: &CaseState,
        open311: Option<&crate::Open311Intake>,
        photos: &[Photo],
    ) -> Result<i64, StoreError> {
        // Serialised, sealed and chained here, by the caller, so that the single writer only binds.
        let NewRow { filer, event_json, chained, row } = self.new_row(case, events, open311.is_some());
        let created = match self.backend {
            crate::Backend::Sqlite => {
                let units = joint_units(state);
                let shape = crate::batch::Shape {
                    events: events.len(),
                    units: units.len(),
                    external: case.external_id.is_some(),
                    open311: open311
                        .map(|o| crate::batch::Open311Shape { media: o.media.is_some(), token: o.token.is_some() }),
                    photos: photos.len(),
                    tally: state.assignee.is_some(),
                };
                let photos = photos.to_vec();
                let tally = crate::assessment::Deltas::entry(state, self.assessment_tz);
                let state_json = json(state);
                let extra = open311.map(|o| (o.clone(), attributes_json(o)));
                // Told to this process's readers after the commit.
                let mut change = Change::of(0, state, case.place.street.as_deref(), Vec::new());
                let (case, events, state, filer) = (case.clone(), events.to_vec(), state.clone(), filer.clone());
                let bind = Box::new(move |q| {
                    let q = bind_case(q, &case, &state, &state_json, &row);
                    let mut q = bind_events(q, &events, &event_json, &chained.hashes);
                    for u in &units {
                        q = q.bind(u.clone());
                    }
                    if let Some(x) = &case.external_id {
                        q = q.bind(filer.clone()).bind(x.clone());
                    }
                    if let Some((o, attributes)) = &extra {
                        q = bind_open311(q, o, attributes, ms(state.received_at));
                    }
                    let first = events.first().map_or(1, |e| e.seq);
                    for (i, p) in photos.iter().enumerate() {
                        q = crate::attachments::bind_attachment(q, i as i64 + 1, first, p, ms(state.received_at));
                    }
                    if let Some((key, t, latest)) = &tally {
                        q = crate::assessment::bind_upsert(q, key, t, *latest);
                    }
                    q
                });
                let (reply, answer) = tokio::sync::oneshot::channel();
                let queue = self.intake.as_ref().expect("SQLite stores have an intake queue");
                queue
                    .send(crate::batch::Job { shape, bind, reply })
                    .await
                    .map_err(|_| StoreError::Write("the store is closed".into()))?;
                let id = answer.await.map_err(|_| StoreError::Write("the writer stopped".into()))?;
                if let Ok(id) = id {
                    change.case = Some(id);
                    self.published(change);
                }
                id
            }
            crate::Backend::Postgres => {
                async {
                    let mut tx = self.write_tx().await?;
                    let new = NewRow { filer: filer.clone(), event_json, chained, row };
                    let id = self.insert_case(&mut tx, case, events, state, &new, open311).await?;
                    let mut tallies = crate::assessment::Deltas::default();
                    tallies.add(state, self.assessment_tz);
                    crate::assessment::apply(&mut tx, self.backend, &tallies).await?;
                    let first = events.first().map_or(1, |e| e.seq);
                    crate::attachments::insert_photos(&mut tx, id, first, photos, state.received_at).await?;
                    let change = Change::of(id, state, case.place.street.as_deref(), Vec::new());
                    self.notify_in(&mut tx, &change).await?;
                    tx.commit().await?;
                    Ok(id)
                }
                .await
            }
        };
        match (created, &case.external_id) {
            // Filed twice at the same moment: the key let one in; name it.
            (Err(e), Some(x)) if crate::open311::is_unique_violation(&e) => {
                self.case_filed(&filer, x).await?.map_or(Err(e), |id| Err(StoreError::AlreadyFiled(id)))
            }
            (created, _) => created,
        }
    }

    /// The case that `filer` (the actor of its 受理 event) filed with `external_id`, if any.
    pub async fn case_filed(&self, filer: &str, external_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT case_id FROM case_external_ids WHERE filer = $1 AND external_id = $2")
            .bind(filer)
            .bind(external_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stores many new cases, each with all its events, in one transaction and in order (bulk
    /// loads such as `jiesu demo`: ids follow the order given). All or nothing.
    ///
    /// Written with few statements: the rows of many cases (and of their events, summoned units
    /// and external ids) per INSERT, the ids given by the store (the next after the largest, the
    /// table locked against other writers on PostgreSQL), since each statement is a round trip to
    /// the database and a million cases are written this way.
    pub async fn create_cases(&self, cases: &[(NewCase, Vec<Event>, CaseState)]) -> Result<Vec<i64>, StoreError> {
        self.create_cases_from(cases, None).await
    }

    /// [`Store::create_cases`] of cases imported from `source`, each with its id there
    /// (`case_sources`, unique per source), in the same transaction: a source id already stored
    /// fails the whole write (callers skip the ids [`Store::source_ids`] lists).
    pub async fn create_cases_from(
        &self,
        cases: &[(NewCase, Vec<Event>, CaseState)],
        source: Option<(&str, &[String])>,
    ) -> Result<Vec<i64>, StoreError> {
        if let Some((_, ids)) = source
            && ids.len() != cases.len()
        {
            return Err(StoreError::Write(format!("{} source ids for {} cases", ids.len(), cases.len())));
        }
        if cases.is_empty() {
            return Ok(Vec::new());
        }
        // Serialising, chaining and sealing before the write lock is taken.
        let news: Vec<NewRow> = cases.iter().map(|(case, events, _)| self.new_row(case, events, false)).collect();
        let states: Vec<String> = cases.iter().map(|(_, _, state)| json(state)).collect();
        let terms: Vec<String> = cases
            .iter()
            .map(|(case, _, _)| crate::search::joined(&crate::search::terms(&case.display_title(), &case.text)))
            .collect();
        let postgres = self.backend == crate::Backend::Postgres;
        let mut tx = self.write_tx().await?;
        let mut tallies = crate::assessment::Deltas::default();
        for (_, _, state) in cases {
            tallies.add(state, self.assessment_tz);
        }
        if postgres {
            sqlx::query("LOCK TABLE cases IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
        }
        let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM cases").fetch_one(&mut *tx).await?;
        let ids: Vec<i64> = (first..).take(cases.len()).collect();

        for chunk in (0..cases.len()).collect::<Vec<_>>().chunks(BULK_CASE_ROWS) {
            let mut mark = bulk_marks(self.backend);
            let rows: Vec<String> = chunk
                .iter()
                .map(|_| {
                    let id = mark();
                    let marks: Vec<String> = (0..CASE_INSERT_ARGS).map(|_| mark()).collect();
                    format!("({id}, {})", marks.join(", "))
                })
                .collect();
            let sql = format!("INSERT INTO cases (id, {CASE_WRITE_COLUMNS}) VALUES {}", rows.join(", "));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for &i in chunk {
                let (case, _, state) = &cases[i];
                q = bind_case(q.bind(ids[i]), case, state, &states[i], &news[i].row);
            }
            q.execute(&mut *tx).await?;
        }

        // Events: (case index, event index) in order, many rows per statement.
        let events: Vec<(usize, usize)> =
            cases.iter().enumerate().flat_map(|(i, (_, evs, _))| (0..evs.len()).map(move |j| (i, j))).collect();
        for chunk in events.chunks(BULK_EVENT_ROWS) {
            let mut mark = bulk_marks(self.backend);
            let rows: Vec<String> = chunk
                .iter()
                .map(|_| {
                    let id = mark();
                    let marks: Vec<String> = (0..EVENT_ARGS).map(|_| mark()).collect();
                    format!("({id}, {})", marks.join(", "))
                })
                .collect();
            let sql = format!("INSERT INTO events ({EVENT_COLUMNS}) VALUES {}", rows.join(", "));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for &(i, j) in chunk {
                let new = &news[i];
                let e = std::slice::from_ref(&cases[i].1[j]);
                q = bind_events(
                    q.bind(ids[i]),
                    e,
                    std::slice::from_ref(&new.event_json[j]),
                    std::slice::from_ref(&new.chained.hashes[j]),
                );
            }
            q.execute(&mut *tx).await?;
        }

        // Summoned units and external ids: two columns and three, many rows per statement.
        let units: Vec<(i64, String)> = cases
            .iter()
            .enumerate()
            .flat_map(|(i, (_, _, state))| joint_units(state).into_iter().map(move |u| (first + i as i64, u)))
            .collect();
        for chunk in units.chunks(BULK_PAIR_ROWS) {
            let mut mark = bulk_marks(self.backend);
            let rows: Vec<String> = chunk.iter().map(|_| format!("({}, {})", mark(), mark())).collect();
            let sql = format!("INSERT INTO case_units (case_id, unit) VALUES {}", rows.join(", "));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, unit) in chunk {
                q = q.bind(*id).bind(unit.clone());
            }
            q.execute(&mut *tx).await?;
        }
        let externals: Vec<(i64, &str, &str)> = cases
            .iter()
            .enumerate()
            .filter_map(|(i, (case, _, _))| Some((ids[i], news[i].filer.as_str(), case.external_id.as_deref()?)))
            .collect();
        for chunk in externals.chunks(BULK_PAIR_ROWS) {
            let mut mark = bulk_marks(self.backend);
            let rows: Vec<String> = chunk.iter().map(|_| format!("({}, {}, {})", mark(), mark(), mark())).collect();
            let sql = format!("INSERT INTO case_external_ids (case_id, filer, external_id) VALUES {}", rows.join(", "));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, filer, x) in chunk {
                q = q.bind(*id).bind(filer.to_string()).bind(x.to_string());
            }
            q.execute(&mut *tx).await?;
        }
        if let Some((name, source_ids)) = source {
            for (ids, source_ids) in ids.chunks(BULK_PAIR_ROWS).zip(source_ids.chunks(BULK_PAIR_ROWS)) {
                let mut mark = bulk_marks(self.backend);
                let rows: Vec<String> = ids.iter().map(|_| format!("({}, {}, {})", mark(), mark(), mark())).collect();
                let sql = format!("INSERT INTO case_sources (source, source_id, case_id) VALUES {}", rows.join(", "));
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (id, x) in ids.iter().zip(source_ids) {
                    q = q.bind(name.to_string()).bind(x.clone()).bind(*id);
                }
                q.execute(&mut *tx).await?;
            }
        }
        crate::search::insert_terms_bulk(&mut tx, self.backend, &ids, &terms).await?;
        if postgres {
            // The identity continues after the ids given here.
            sqlx::query("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))")
                .execute(&mut *tx)
                .await?;
        }
        // One change for the lot: readers refresh rather than hear of each case.
        if !ids.is_empty() {
            self.notify_in(&mut tx, &Change::many()).await?;
        }
        crate::assessment::apply(&mut tx, self.backend, &tallies).await?;
        tx.commit().await?;
        if !ids.is_empty() {
            self.published(Change::many());
        }
        Ok(ids)
    }

    /// What a new case is written with besides itself: its filer, its events serialised and
    /// chained, and its row's sealed contact, owner, Open311 mark and chain head.
    fn new_row(&self, case: &NewCase, events: &[Event], via_open311: bool) -> NewRow {
        let event_json: Vec<String> = events.iter().map(json).collect();
        let chained = self.chain(None, events, &event_json);
        let row = CaseRow {
            contact: (!case.contact.is_empty()).then(|| self.sealer.seal(json(&case.contact).as_bytes())),
            owner: owner_of(events),
            filed_via: via_open311.then(|| FILED_VIA_OPEN311.to_string()),
            chain: chained.head.clone(),
            phone_key: self.phones.column(&case.contact),
        };
        NewRow { filer: events.first().map(|e| e.actor.user.clone()).unwrap_or_default(), event_json, chained, row }
    }

    /// Inserts one case inside `tx`: its row and events (`new`), summoned units, external id,
    /// what an Open311 client sent, and its search terms on PostgreSQL (SQLite's indexer follows
    /// the ids). Returns the new id.
    async fn insert_case(
        &self,
        tx: &mut sqlx::Transaction<'_, Any>,
        case: &NewCase,
        events: &[Event],
        state: &CaseState,
        new: &NewRow,
        open311: Option<&crate::Open311Intake>,
    ) -> Result<i64, StoreError> {
        let sql = format!("{} RETURNING id", case_insert(&mut numbered(1)));
        let q = bind_case(sqlx::query(AssertSqlSafe(sql)), case, state, &json(state), &new.row);
        let id: i64 = q.fetch_one(&mut **tx).await?.try_get("id")?;
        insert_events(tx, id, events, &new.event_json, &new.chained.hashes).await?;
        insert_units(tx, id, state).await?;
        if let Some(x) = &case.external_id {
            let sql = external_insert("$1", &mut numbered(2));
            sqlx::query(AssertSqlSafe(sql)).bind(id).bind(&new.filer).bind(x).execute(&mut **tx).await?;
        }
        if let Some(o) = open311 {
            crate::open311::insert_intake(tx, id, o, state.received_at).await?;
        }
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
        self.append_with(id, expected_seq, events, state, &AppendAlso::default()).await.map(|_| ())
    }

    /// [`Store::append`], checking and writing `also` in the same transaction: another case
    /// that must be unchanged (a merge's master), a client's update stored with the events.
    /// Returns the id of the stored client update, if one was given.
    pub async fn append_with(
        &self,
        id: i64,
        expected_seq: u32,
        events: &[Event],
        state: &CaseState,
        also: &AppendAlso<'_>,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.write_tx().await?;
        if let (crate::Backend::Postgres, Some((other, _))) = (self.backend, also.unchanged) {
            // Both rows locked in id order, so that two merges crossing each other (A into B,
            // B into C or A) wait for one another instead of deadlocking. (SQLite has one
            // writer: the first UPDATE below takes the database's write lock.)
            sqlx::query("SELECT id FROM cases WHERE id IN ($1, $2) ORDER BY id FOR UPDATE")
                .bind(id)
                .bind(other)
                .fetch_all(&mut *tx)
                .await?;
        }
        // Who could see the case before (its holder and summoned units) and its street, for the
        // change feed.
        let before = sqlx::query(
            "SELECT c.assignee, c.street, u.unit FROM cases c LEFT JOIN case_units u ON u.case_id = c.id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let mut units_before: Vec<String> = Vec::new();
        let mut street: Option<String> = None;
        for r in &before {
            street = r.try_get("street")?;
            for unit in [r.try_get::<Option<String>, _>("assignee")?, r.try_get::<Option<String>, _>("unit")?] {
                if let Some(u) = unit.filter(|u| !units_before.contains(u)) {
                    units_before.push(u);
                }
            }
        }
        // The chain goes on from the latest event; if that is no longer `expected_seq`, the
        // UPDATE below finds no row and the append is a conflict.
        let prev: Option<Option<String>> =
            sqlx::query_scalar("SELECT hash FROM events WHERE case_id = $1 AND seq = $2")
                .bind(id)
                .bind(i64::from(expected_seq))
                .fetch_optional(&mut *tx)
                .await?;
        // The state being replaced, for the assessment tallies (read before the UPDATE: if the
        // case moved on meanwhile, the UPDATE finds no row and nothing is written).
        let old: Option<String> = sqlx::query_scalar("SELECT state FROM cases WHERE id = $1 AND seq = $2")
            .bind(id)
            .bind(i64::from(expected_seq))
            .fetch_optional(&mut *tx)
            .await?;
        let event_json: Vec<String> = events.iter().map(json).collect();
        let chained = self.chain(prev.flatten().as_deref(), events, &event_json);
        let done = sqlx::query(
            "UPDATE cases SET status = $1, assignee = $2, due = $3, overdue_noticed = $4, updated_at = $5, \
             closed_at = $6, seq = $7, state = $8, category = $9, chain = COALESCE($12, chain) WHERE id = $10 AND seq = $11",
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
        .bind(chained.head)
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
        if let Some((other, other_seq)) = also.unchanged {
            // Read under the write lock (SQLite) or the row lock (PostgreSQL): nobody can change
            // it before the commit.
            let seq: Option<i64> =
                sqlx::query_scalar("SELECT seq FROM cases WHERE id = $1").bind(other).fetch_optional(&mut *tx).await?;
            if seq != Some(i64::from(other_seq)) {
                return Err(StoreError::Conflict { id: other, expected: other_seq });
            }
        }
        // PostgreSQL sends it at the commit, and not at all if anything below fails.
        let change = Change::of(id, state, street.as_deref(), units_before);
        self.notify_in(&mut tx, &change).await?;
        insert_events(&mut tx, id, events, &event_json, &chained.hashes).await?;
        let mut tallies = crate::assessment::Deltas::default();
        if let Some(old) = old {
            let old: CaseState =
                serde_json::from_str(&old).map_err(|e| StoreError::Corrupt(format!("case {id} state: {e}")))?;
            tallies.remove(&old, self.assessment_tz);
        }
        tallies.add(state, self.assessment_tz);
        crate::assessment::apply(&mut tx, self.backend, &tallies).await?;
        // Summoned units follow the state (吹哨 adds, 重办 clears).
        sqlx::query("DELETE FROM case_units WHERE case_id = $1").bind(id).execute(&mut *tx).await?;
        insert_units(&mut tx, id, state).await?;
        let mut update_id = None;
        if let Some(update) = also.client_update {
            if let Some(media) = also.media {
                crate::open311::insert_media(&mut tx, media, update.received_at).await?;
            }
            update_id = Some(crate::open311::insert_client_update(&mut tx, update).await?);
        }
        if let Some(last) = events.last() {
            crate::attachments::insert_photos(&mut tx, id, last.seq, also.photos, last.at).await?;
        }
        tx.commit().await?;
        self.published(change);
        Ok(update_id)
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
            let mut tx = self.write_tx().await?;
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

    /// How many cases within `scope` match `filter`, counting no further than `cap + 1`: a
    /// result above `cap` means "more than `cap`". A full-text search for a common word has tens of
    /// thousands of candidates that only `LIKE` can decide; counting them all is what made a search
    /// page slow, and nobody pages through more than `cap` of them.
    pub async fn count_up_to(&self, scope: &Scope, filter: &CaseFilter, cap: u64) -> Result<u64, StoreError> {
        let w = filter_clause(self.backend, scope, filter, None);
        let limit = i64::try_from(cap.saturating_add(1)).unwrap_or(i64::MAX);
        let sql =
            format!("SELECT COUNT(*) AS n FROM (SELECT 1 FROM cases{} LIMIT {}) capped", w.sql, w.next_placeholder());
        let n: i64 = w.bind(sqlx::query(AssertSqlSafe(sql))).bind(limit).fetch_one(&self.pool).await?.try_get("n")?;
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

/// What [`Store::append_with`] checks and writes besides the events, in their transaction.
#[derive(Debug, Default, Clone, Copy)]
pub struct AppendAlso<'a> {
    /// Another case whose latest event must still be this number: a merge's master, so that
    /// the merge is decided and written over both cases at once ([`StoreError::Conflict`]
    /// naming that case otherwise).
    pub unchanged: Option<(i64, u32)>,
    /// A client's update to store with the events (its `id` is ignored).
    pub client_update: Option<&'a crate::ClientUpdate>,
    /// The update's media file.
    pub media: Option<&'a crate::NewMedia>,
    /// Photos that come with the last of the events (stored as its attachments).
    pub photos: &'a [Photo],
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
    /// The endpoint the case was filed through, when it keeps a row of its own beside the case
    /// ([`FILED_VIA_OPEN311`]).
    filed_via: Option<String>,
    /// The head of its event chain.
    chain: Option<String>,
    /// The keyed hash of the caller's normalised number ('' when none; see `callers`).
    phone_key: String,
}

/// What [`Store::new_row`] prepares for a new case.
struct NewRow {
    /// The actor of its first event (external ids are unique per filer).
    filer: String,
    /// Its events, serialised.
    event_json: Vec<String>,
    /// Their chain hashes and the chain's head.
    chained: Chained,
    /// The row values besides the case's own.
    row: CaseRow,
}

/// `filed_via` of a case filed through the Open311 endpoint: it has an `open311_requests` row.
pub(crate) const FILED_VIA_OPEN311: &str = "open311";

/// The owner of a new case: its first event's actor, when a citizen, as one identity per API
/// key whichever door it came through ([`jiesu_domain::access::owner_identity`]).
fn owner_of(events: &[Event]) -> Option<String> {
    events.first().filter(|e| e.actor.role == Role::Citizen).map(|e| owner_identity(&e.actor.user))
}

/// Units summoned by 吹哨, once each.
fn joint_units(state: &CaseState) -> Vec<String> {
    let mut units: Vec<String> = state.joint.iter().map(|j| j.unit.clone()).collect();
    units.dedup();
    units
}

/// Placeholders `$first`, `$first+1`, … (the syntax both backends accept).
pub(crate) fn numbered(first: usize) -> impl FnMut() -> String {
    let mut next = first;
    move || {
        next += 1;
        format!("${}", next - 1)
    }
}

/// Placeholders of a bulk statement with many values: anonymous on SQLite, whose lookup of a
/// numbered one by its name takes time in the number of placeholders (so binding a statement's
/// values would take the square), numbered on PostgreSQL.
pub(crate) fn bulk_marks(backend: crate::Backend) -> Box<dyn FnMut() -> String + Send> {
    match backend {
        crate::Backend::Sqlite => Box::new(anonymous),
        crate::Backend::Postgres => Box::new(numbered(1)),
    }
}

/// Anonymous placeholders (`?`, SQLite only): they take the values in order, across all the
/// statements of a script, so a statement's text does not depend on where it stands.
fn anonymous() -> String {
    "?".to_string()
}

/// The statements that write one new case on SQLite (the case row, returning its id, then its
/// events, summoned units, external id and Open311 side), with anonymous placeholders: the same
/// text for every case of the same shape, so the batch writer builds it once. The case id is the
/// new row's: with one writer inside the transaction, `max(id)`.
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
    if shape.external {
        sql.push_str("; ");
        sql.push_str(&external_insert(NEW_ID, &mut anonymous));
    }
    if let Some(o) = shape.open311 {
        sql.push_str("; ");
        sql.push_str(&open311_inserts(o, NEW_ID, &mut anonymous));
    }
    for _ in 0..shape.photos {
        sql.push_str("; ");
        sql.push_str(&crate::attachments::attachment_insert(NEW_ID, &mut anonymous));
    }
    if shape.tally {
        sql.push_str("; ");
        sql.push_str(&crate::assessment::upsert_sql(crate::Backend::Sqlite, &mut anonymous));
    }
    sql
}

/// The INSERT of a case's external id (filer, external id) for the case `case_id`.
fn external_insert(case_id: &str, mark: &mut impl FnMut() -> String) -> String {
    let (filer, x) = (mark(), mark());
    format!("INSERT INTO case_external_ids (case_id, filer, external_id) VALUES ({case_id}, {filer}, {x})")
}

/// The INSERTs of a new case's Open311 side (media, request row, token), values bound by
/// [`bind_open311`].
fn open311_inserts(shape: crate::batch::Open311Shape, case_id: &str, mark: &mut impl FnMut() -> String) -> String {
    let mut sql = Vec::new();
    if shape.media {
        let marks: Vec<String> = (0..5).map(|_| mark()).collect();
        sql.push(format!(
            "INSERT INTO open311_media (id, content_type, size, bytes, created_at) VALUES ({})",
            marks.join(", ")
        ));
    }
    let marks: Vec<String> = (0..6).map(|_| mark()).collect();
    sql.push(format!(
        "INSERT INTO open311_requests (case_id, service_code, attributes, media_id, media_url, client, created_at) \
         VALUES ({case_id}, {})",
        marks.join(", ")
    ));
    if shape.token {
        let (token, at) = (mark(), mark());
        sql.push(format!("INSERT INTO open311_tokens (token, case_id, created_at) VALUES ({token}, {case_id}, {at})"));
    }
    sql.join("; ")
}

/// The attributes of an Open311 request as stored (a JSON object).
fn attributes_json(o: &crate::Open311Intake) -> String {
    serde_json::Value::Object(o.attributes.clone()).to_string()
}

/// Binds the values of [`open311_inserts`]; `at` is the time written (epoch ms).
fn bind_open311<'q>(mut q: AnyQuery<'q>, o: &crate::Open311Intake, attributes: &str, at: i64) -> AnyQuery<'q> {
    if let Some(m) = &o.media {
        q = q.bind(m.id.clone()).bind(m.content_type.clone()).bind(m.bytes.len() as i64).bind(m.bytes.clone()).bind(at);
    }
    q = q
        .bind(o.service_code.clone())
        .bind(attributes.to_owned())
        .bind(o.media.as_ref().map(|m| m.id.clone()))
        .bind(o.media_url.clone())
        .bind(o.client.clone())
        .bind(at);
    if let Some(t) = &o.token {
        q = q.bind(t.clone()).bind(at);
    }
    q
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
    format!("INSERT INTO cases ({CASE_WRITE_COLUMNS}) VALUES ({})", marks.join(", "))
}

/// The columns of a case row written at its creation (all but the id), in [`bind_case`]'s order.
const CASE_WRITE_COLUMNS: &str = "channel, kind, title, body, category, address, lat, lon, street, community, grid, \
    contact, external_id, status, assignee, due, overdue_noticed, received_at, updated_at, closed_at, seq, state, \
    owner, filed_via, chain, phone_key";

/// Rows per statement of [`Store::create_cases`], within SQLite's 32,766 and PostgreSQL's 65,535
/// values per statement.
const BULK_CASE_ROWS: usize = 1_000;
const BULK_EVENT_ROWS: usize = 2_500;
const BULK_PAIR_ROWS: usize = 8_000;

/// Number of placeholders in [`case_insert`].
const CASE_INSERT_ARGS: usize = 26;

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
        .bind(row.filed_via.clone())
        .bind(row.chain.clone())
        .bind(row.phone_key.clone())
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
const EVENT_ARGS: usize = 10;

/// A multi-row INSERT of `n` events of the case `case_id` (an SQL expression), whose values are
/// marked by `mark`.
fn events_insert(n: usize, case_id: &str, mark: &mut impl FnMut() -> String) -> String {
    let rows: Vec<String> = (0..n)
        .map(|_| {
            let marks: Vec<String> = (0..EVENT_ARGS).map(|_| mark()).collect();
            format!("({case_id}, {})", marks.join(", "))
        })
        .collect();
    format!("INSERT INTO events ({EVENT_COLUMNS}) VALUES {}", rows.join(", "))
}

/// The columns of an event row, the case id first, then [`bind_events`]'s order.
const EVENT_COLUMNS: &str =
    "case_id, seq, at, actor_user, actor_role, actor_unit, action, from_status, to_status, body, hash";

/// The stored columns of event `e` whose JSON is `body`: what is written, and what the chain
/// covers.
fn event_columns<'a>(e: &'a Event, body: &'a str) -> EventColumns<'a> {
    EventColumns {
        seq: i64::from(e.seq),
        at: ms(e.at),
        actor_user: &e.actor.user,
        actor_role: e.actor.role.code(),
        actor_unit: e.actor.unit.as_deref(),
        action: e.action.code(),
        from_status: e.from.map(|s| s.code()),
        to_status: e.to.code(),
        body,
    }
}

/// Binds the values of `events`; `jsons` are the events serialised and `hashes` their chain
/// hashes ([`Store::chain`]), in the same order.
fn bind_events<'q>(mut q: AnyQuery<'q>, events: &[Event], jsons: &[String], hashes: &[String]) -> AnyQuery<'q> {
    for ((e, body), hash) in events.iter().zip(jsons).zip(hashes) {
        let c = event_columns(e, body);
        q = q
            .bind(c.seq)
            .bind(c.at)
            .bind(c.actor_user.to_owned())
            .bind(c.actor_role)
            .bind(c.actor_unit.map(str::to_owned))
            .bind(c.action)
            .bind(c.from_status)
            .bind(c.to_status)
            .bind(body.clone())
            .bind(hash.clone());
    }
    q
}

/// Inserts a case's new events with one multi-row statement.
async fn insert_events(
    tx: &mut sqlx::Transaction<'_, Any>,
    id: i64,
    events: &[Event],
    jsons: &[String],
    hashes: &[String],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let q = sqlx::query(AssertSqlSafe(events_insert(events.len(), "$1", &mut numbered(2)))).bind(id);
    bind_events(q, events, jsons, hashes).execute(&mut **tx).await?;
    Ok(())
}

/// New events' chain hashes and the case row's new chain head.
pub(crate) struct Chained {
    pub hashes: Vec<String>,
    /// None when there are no new events (the head stays).
    pub head: Option<String>,
}

impl Store {
    /// Chains new `events` (serialised as `jsons`) after `prev`, the hash of the case's latest
    /// event (None for a new case). Every insert of events goes through here.
    pub(crate) fn chain(&self, prev: Option<&str>, events: &[Event], jsons: &[String]) -> Chained {
        let columns: Vec<EventColumns<'_>> = events.iter().zip(jsons).map(|(e, j)| event_columns(e, j)).collect();
        let hashes = self.chainer.links(prev, &columns);
        let head = hashes.last().map(|h| self.chainer.head(h));
        Chained { hashes, head }
    }
}

/// A bound value of a dynamic query.
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    Float(f64),
}

/// A WHERE clause with `$n` placeholders (the one syntax both backends accept) and its values.
#[derive(Default)]
pub(crate) struct Where {
    pub(crate) sql: String,
    args: Vec<Arg>,
}

impl Where {
    /// Adds `condition`, in which `?` stands for the next placeholder, bound to `arg`.
    pub(crate) fn and(&mut self, condition: &str, arg: Arg) {
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        self.args.push(arg);
        self.sql.push_str(&condition.replace('?', &format!("${}", self.args.len())));
    }

    /// Adds `condition`, in which each `?` in turn stands for the next of `args`.
    pub(crate) fn and_each(&mut self, condition: &str, args: Vec<Arg>) {
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

    pub(crate) fn next_placeholder(&self) -> String {
        format!("${}", self.args.len() + 1)
    }

    pub(crate) fn bind<'q>(
        self,
        mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
        for a in self.args {
            q = match a {
                Arg::Text(s) => q.bind(s),
                Arg::Int(i) => q.bind(i),
                Arg::Float(x) => q.bind(x),
            };
        }
        q
    }
}

/// Narrows `w` to the cases within `scope`.
pub(crate) fn scope_clause(w: &mut Where, scope: &Scope) {
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

pub(crate) fn filter_clause(backend: crate::Backend, scope: &Scope, f: &CaseFilter, before: Option<i64>) -> Where {
    let mut w = Where::default();
    scope_clause(&mut w, scope);
    if !f.statuses.is_empty() {
        w.and_in("status", f.statuses.iter().map(|s| s.code().to_string()));
    }
    if let Some(u) = &f.assignee {
        w.and("assignee = ?", Arg::Text(u.clone()));
    }
    if let Some(u) = &f.summoned {
        w.and("id IN (SELECT case_id FROM case_units WHERE unit = ?)", Arg::Text(u.clone()));
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
    if let Some(g) = &f.grid {
        w.and("grid = ?", Arg::Text(g.clone()));
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
