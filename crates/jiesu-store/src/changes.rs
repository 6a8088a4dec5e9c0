//! The change feed: a small [`Change`] after every committed write of a case, for the console's
//! live updates.
//!
//! - **SQLite** (one process owns the file): an in-process broadcast, fed after each commit.
//! - **PostgreSQL** (several servers on one database): `pg_notify` in the same transaction as the
//!   write, so a rolled-back write notifies nobody, and one `LISTEN` task per store, started by the
//!   first [`Store::changes`], that feeds the same broadcast and reconnects when its connection
//!   drops (then announces [`Change::many`], since notifications sent meanwhile are lost).
//!
//! A change carries the case id, its status and the units and street it concerns (codes, never
//! personal data), so that a reader can tell who may see it without a query. A reader that falls
//! behind gets [`Change::many`] ("refresh everything") instead of the changes it missed.

use std::time::Duration;

use futures_util::Stream;
use jiesu_domain::access::Scope;
use jiesu_domain::workflow::CaseState;
use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, broadcast, watch};

use crate::{Backend, Store, StoreError};

/// The PostgreSQL channel of the change feed.
pub(crate) const CHANNEL: &str = "jiesu_changes";

/// Changes kept for a slow reader before it is told [`Change::many`] instead.
const BUFFER: usize = 1024;

/// What a committed write changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The case written; None when many cases changed at once (a bulk load) or the feed may have
    /// missed changes (a reader fell behind, the listener reconnected): refresh everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<i64>,
    /// The case's status code after the write.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// The units that may see the case after the write: its holder and its summoned units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<String>,
    /// The units that could see it before the write (a redispatch or an approved return takes
    /// a case away from a unit, whose inbox changes too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units_before: Vec<String>,
    /// The case's street code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
}

impl Change {
    /// "Many cases may have changed."
    pub fn many() -> Change {
        Change { case: None, status: String::new(), units: Vec::new(), units_before: Vec::new(), street: None }
    }

    /// A write that left case `id` in `state`; `units_before` could see it before.
    pub(crate) fn of(id: i64, state: &CaseState, street: Option<&str>, units_before: Vec<String>) -> Change {
        Change {
            case: Some(id),
            status: state.status.code().to_string(),
            units: units_of(state),
            units_before,
            street: street.map(str::to_string),
        }
    }

    /// True for [`Change::many`].
    pub fn is_many(&self) -> bool {
        self.case.is_none()
    }

    /// True when the case, as written, is within `scope` (the rule of the store's scoped
    /// queries: held by or summoned to the unit, or in a grid inspector's street). A reader may
    /// be told its id only then.
    pub fn visible_to(&self, scope: &Scope) -> bool {
        match scope {
            Scope::All => self.case.is_some(),
            Scope::Unit { unit, street } => {
                self.case.is_some()
                    && (self.units.contains(unit) || street.as_ref().is_some_and(|s| self.street.as_ref() == Some(s)))
            }
            // A citizen's cases are not followed live; nobody else sees anything.
            Scope::Own(_) | Scope::Nothing => false,
        }
    }

    /// True when a reader within `scope` should refresh: the case is visible to it now, or was
    /// before the write, or many cases changed.
    pub fn concerns(&self, scope: &Scope) -> bool {
        match scope {
            Scope::Nothing | Scope::Own(_) => self.is_many(),
            Scope::Unit { unit, .. } => self.is_many() || self.visible_to(scope) || self.units_before.contains(unit),
            Scope::All => true,
        }
    }
}

/// The units that see a case in `state`: its holder and its summoned units.
pub(crate) fn units_of(state: &CaseState) -> Vec<String> {
    let mut units: Vec<String> = state.assignee.iter().cloned().collect();
    for j in &state.joint {
        if !units.contains(&j.unit) {
            units.push(j.unit.clone());
        }
    }
    units
}

/// The feed of one store (shared by its clones).
#[derive(Debug)]
pub(crate) struct Feed {
    tx: broadcast::Sender<Change>,
    /// PostgreSQL: the database URL for the listener's own connection.
    url: Option<String>,
    /// Set once the listener is listening (PostgreSQL).
    listening: OnceCell<()>,
    /// Dropped (or set) when the store closes: the listener task ends.
    closing: watch::Sender<bool>,
}

impl Feed {
    pub(crate) fn new(backend: Backend, url: &str) -> Feed {
        let (tx, _) = broadcast::channel(BUFFER);
        let (closing, _) = watch::channel(false);
        Feed { tx, url: (backend == Backend::Postgres).then(|| url.to_string()), listening: OnceCell::new(), closing }
    }

    /// Tells this process's readers (SQLite: after the commit; PostgreSQL: the listener).
    pub(crate) fn publish(&self, change: Change) {
        // No reader is not an error.
        let _ = self.tx.send(change);
    }

    pub(crate) fn close(&self) {
        let _ = self.closing.send(true);
    }

    /// Starts the PostgreSQL listener once; returns when it listens.
    async fn ensure_listening(&self) -> Result<(), StoreError> {
        let Some(url) = &self.url else { return Ok(()) };
        self.listening
            .get_or_try_init(|| async {
                let listener = listen(url).await?;
                tokio::spawn(run_listener(listener, url.clone(), self.tx.clone(), self.closing.subscribe()));
                Ok::<(), StoreError>(())
            })
            .await?;
        Ok(())
    }
}

async fn listen(url: &str) -> Result<sqlx::postgres::PgListener, StoreError> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// The listener task: forwards notifications to the broadcast; on a lost connection announces
/// [`Change::many`] and listens again (with a growing pause while the database is away). Ends
/// when the store closes or is dropped.
async fn run_listener(
    mut listener: sqlx::postgres::PgListener,
    url: String,
    tx: broadcast::Sender<Change>,
    mut closing: watch::Receiver<bool>,
) {
    loop {
        let received = tokio::select! {
            r = listener.try_recv() => r,
            _ = closing.changed() => return,
        };
        match received {
            Ok(Some(n)) => match serde_json::from_str::<Change>(n.payload()) {
                Ok(change) => {
                    let _ = tx.send(change);
                }
                Err(e) => tracing::warn!(error = %e, "change feed: an unreadable notification"),
            },
            // Connection lost (sqlx reconnected already): whatever was sent meanwhile is gone.
            Ok(None) => {
                tracing::warn!("change feed: the LISTEN connection was lost and made again");
                let _ = tx.send(Change::many());
            }
            Err(e) => {
                tracing::warn!(error = %e, "change feed: the LISTEN connection failed; connecting again");
                let mut pause = Duration::from_millis(100);
                listener = loop {
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {},
                        _ = closing.changed() => return,
                    }
                    match listen(&url).await {
                        Ok(l) => break l,
                        Err(e) => {
                            tracing::warn!(error = %e, "change feed: cannot listen yet");
                            pause = (pause * 2).min(Duration::from_secs(5));
                        }
                    }
                };
                let _ = tx.send(Change::many());
            }
        }
    }
}

impl Store {
    /// The changes committed from now on, by this process (SQLite) or by any process on the
    /// database (PostgreSQL: the first call starts this store's `LISTEN` task and returns once
    /// it listens). The stream ends when the store closes.
    pub async fn changes(&self) -> Result<impl Stream<Item = Change> + Send + 'static, StoreError> {
        let rx = self.feed.tx.subscribe();
        let closing = self.feed.closing.subscribe();
        self.feed.ensure_listening().await?;
        Ok(futures_util::stream::unfold((rx, closing), |(mut rx, mut closing)| async move {
            let received = tokio::select! {
                r = rx.recv() => r,
                // Closed (or the store dropped): the stream ends.
                _ = closing.wait_for(|c| *c) => return None,
            };
            match received {
                Ok(c) => Some((c, (rx, closing))),
                Err(broadcast::error::RecvError::Lagged(_)) => Some((Change::many(), (rx, closing))),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        }))
    }

    /// PostgreSQL: sends `change` when `tx` commits (nobody hears of it if it rolls back).
    /// SQLite: nothing here; the caller publishes after the commit.
    pub(crate) async fn notify_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        change: &Change,
    ) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            let payload = serde_json::to_string(change).expect("a change serialises");
            sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// SQLite: tells this process's readers of a committed change (PostgreSQL's listener does
    /// that for every process).
    pub(crate) fn published(&self, change: Change) {
        if self.backend == Backend::Sqlite {
            self.feed.publish(change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(units: &[&str], before: &[&str], street: Option<&str>) -> Change {
        Change {
            case: Some(7),
            status: "dispatched".into(),
            units: units.iter().map(|s| s.to_string()).collect(),
            units_before: before.iter().map(|s| s.to_string()).collect(),
            street: street.map(str::to_string),
        }
    }

    #[test]
    fn a_unit_sees_its_cases_and_hears_of_those_taken_from_it() {
        let unit = |u: &str| Scope::Unit { unit: u.into(), street: None };
        let c = change(&["A"], &["B"], Some("S1"));
        assert!(c.visible_to(&unit("A")) && c.concerns(&unit("A")));
        assert!(!c.visible_to(&unit("B")) && c.concerns(&unit("B")));
        assert!(!c.visible_to(&unit("C")) && !c.concerns(&unit("C")));
        let inspector = Scope::Unit { unit: "G".into(), street: Some("S1".into()) };
        assert!(c.visible_to(&inspector));
        assert!(c.visible_to(&Scope::All));
        assert!(!c.concerns(&Scope::Nothing) && !c.concerns(&Scope::Own("x".into())));
        let many = Change::many();
        assert!(many.concerns(&unit("C")) && !many.visible_to(&unit("C")) && !many.visible_to(&Scope::All));
    }

    #[test]
    fn a_change_round_trips_through_its_notification_payload() {
        let c = change(&["A", "B"], &[], None);
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), c);
        assert_eq!(serde_json::from_str::<Change>("{}").unwrap(), Change::many());
    }
}
