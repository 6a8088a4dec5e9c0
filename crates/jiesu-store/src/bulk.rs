//! The bulk writer shared by every bulk load (`jiesu demo`, `jiesu import`): cases decided in
//! memory are written many per transaction ([`Store::create_cases_from`]) while the caller
//! decides the next chunk. At most one transaction is in flight, so transactions commit in the
//! order given and ids follow it.

use jiesu_domain::draft::NewCase;
use jiesu_domain::workflow::{CaseState, Event};

use crate::{Store, StoreError};

/// A case with its whole life, as [`Store::create_cases`] writes it.
pub type BulkCase = (NewCase, Vec<Event>, CaseState);

/// A bulk write's task, answering the new ids.
type Writing = tokio::task::JoinHandle<Result<Vec<i64>, StoreError>>;

/// Writes chunks of cases one transaction after another, each in the background while the caller
/// goes on. Each case comes with a tag of the caller's (a plan's index, a source row) that is
/// answered with the case's new id.
pub struct BulkWriter<T> {
    store: Store,
    /// The source the cases come from, if imported (their ids there go to `case_sources`).
    source: Option<String>,
    /// The tags being written and the task writing them.
    inflight: Option<(Vec<T>, Writing)>,
    /// Tags and ids of finished transactions not yet taken.
    done: Vec<(T, i64)>,
    /// Cases and events written so far.
    cases: usize,
    events: usize,
}

impl<T: Send + 'static> BulkWriter<T> {
    /// A writer into `store`; imported cases name their `source`.
    pub fn new(store: Store, source: Option<String>) -> BulkWriter<T> {
        BulkWriter { store, source, inflight: None, done: Vec::new(), cases: 0, events: 0 }
    }

    /// Waits for the transaction in flight, if any.
    async fn wait(&mut self) -> Result<(), StoreError> {
        if let Some((tags, task)) = self.inflight.take() {
            let ids = task.await.map_err(|e| StoreError::Write(format!("bulk write task: {e}")))??;
            self.done.extend(tags.into_iter().zip(ids));
        }
        Ok(())
    }

    /// Starts writing `batch` (tag, case, and its id in the source when imported) in one
    /// transaction, after the one in flight. Returns once that one committed.
    pub async fn write(&mut self, batch: Vec<(T, BulkCase, Option<String>)>) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.wait().await?;
        let mut tags = Vec::with_capacity(batch.len());
        let mut cases = Vec::with_capacity(batch.len());
        let mut source_ids = Vec::with_capacity(batch.len());
        for (tag, case, source_id) in batch {
            tags.push(tag);
            cases.push(case);
            source_ids.extend(source_id);
        }
        self.cases += cases.len();
        self.events += cases.iter().map(|c| c.1.len()).sum::<usize>();
        let (store, source) = (self.store.clone(), self.source.clone());
        let task = tokio::spawn(async move {
            match &source {
                Some(name) => store.create_cases_from(&cases, Some((name, &source_ids))).await,
                None => store.create_cases(&cases).await,
            }
        });
        self.inflight = Some((tags, task));
        Ok(())
    }

    /// The tags and ids of the transactions finished so far.
    pub fn take_done(&mut self) -> Vec<(T, i64)> {
        std::mem::take(&mut self.done)
    }

    /// Waits for everything written; returns the tags and ids not yet taken.
    pub async fn finish(&mut self) -> Result<Vec<(T, i64)>, StoreError> {
        self.wait().await?;
        Ok(self.take_done())
    }

    /// Cases and events handed to the writer so far.
    pub fn written(&self) -> (usize, usize) {
        (self.cases, self.events)
    }
}
