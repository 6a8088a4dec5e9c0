//! Group commit for SQLite intake: new cases that arrive together are written in one
//! transaction, each inside its own savepoint, and each caller is answered only after the commit.
//!
//! SQLite takes one writer at a time and pays for a commit by writing every page the transaction
//! touched (the case row, each index, the events) to the WAL. When operators, Open311 clients and
//! sensors file cases at the same moment, one commit for all of them writes the hot index pages
//! once instead of once per case. The batch goes to SQLite as one script (`BEGIN; …; COMMIT;`,
//! one round trip to its worker thread). If anything in it fails, the batch is rolled back and
//! written again case by case, each in its own savepoint, so that only the bad case fails.
//!
//! The writer is the one thread every case passes through, so it does as little as it can: a
//! case's statements use anonymous placeholders and so depend only on its [`Shape`]; the script
//! of a batch is built once per sequence of shapes and kept (the driver then finds its prepared
//! statements in its cache by the same text), and callers serialise their values beforehand.
//!
//! The writer task owns nothing but the queue: it borrows the single writer connection per batch,
//! so it cannot be left half-way by a caller that gives up (callers only wait on a reply).

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::any::AnyArguments;
use sqlx::{Any, AnyPool, AssertSqlSafe, Executor, Row};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;

/// Largest number of cases in one commit.
const MAX_BATCH: usize = 64;
/// Scheduler turns the writer waits for more cases before it commits.
const LINGER_TURNS: usize = 4;
/// Batch scripts kept; past this the cache starts again (shapes seldom vary: most cases are
/// written with the same few events).
const MAX_SCRIPTS: usize = 256;

type AnyQuery = sqlx::query::Query<'static, Any, AnyArguments>;

/// What decides the text of a new case's statements: how many events and summoned units it
/// has, whether it has an external id, and what came with it through Open311.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Shape {
    pub events: usize,
    pub units: usize,
    pub external: bool,
    pub open311: Option<Open311Shape>,
    /// Photos that came with it (attachments of its first event).
    pub photos: usize,
    /// It has a unit, so it counts in an assessment tally (one upsert).
    pub tally: bool,
}

/// The Open311 side of a new case: its request row always, a media file and a token if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Open311Shape {
    pub media: bool,
    pub token: bool,
}

/// One new case to write: its shape and its bindings.
pub(crate) struct Job {
    /// Picks the statements ([`crate::cases::sqlite_create_sql`]).
    pub shape: Shape,
    /// Binds the values of the statements onto a query (again, if the batch is retried case by
    /// case).
    pub bind: Box<dyn Fn(AnyQuery) -> AnyQuery + Send + Sync>,
    /// Where the id (or the error) goes.
    pub reply: oneshot::Sender<Result<i64, StoreError>>,
}

/// Starts the writer task on the current runtime; it ends when every sender is dropped.
pub(crate) fn spawn(writer: AnyPool) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut scripts = Scripts::default();
        while let Some(first) = rx.recv().await {
            let mut jobs = vec![first];
            // Let callers that are about to file a case join this commit: a few turns of the
            // scheduler, not a timer, so a lone case is not delayed.
            for _ in 0..LINGER_TURNS {
                while jobs.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                if jobs.len() >= MAX_BATCH {
                    break;
                }
                tokio::task::yield_now().await;
            }
            write(&writer, &mut scripts, jobs).await;
        }
    });
    tx
}

/// The SQL text of batches, by the shapes of their cases in order.
#[derive(Default)]
struct Scripts {
    bodies: HashMap<Shape, String>,
    batches: HashMap<Vec<Shape>, Arc<str>>,
}

impl Scripts {
    /// The statements of one case of `shape`.
    fn body(&mut self, shape: Shape) -> &str {
        self.bodies.entry(shape).or_insert_with(|| crate::cases::sqlite_create_sql(shape))
    }

    /// `BEGIN; ` + the statements of each job + `; COMMIT;`.
    fn batch(&mut self, jobs: &[Job]) -> Arc<str> {
        let shapes: Vec<Shape> = jobs.iter().map(|j| j.shape).collect();
        if let Some(sql) = self.batches.get(&shapes) {
            return sql.clone();
        }
        if self.batches.len() >= MAX_SCRIPTS {
            self.batches.clear();
        }
        let mut sql = String::from("BEGIN; ");
        for (i, &shape) in shapes.iter().enumerate() {
            if i > 0 {
                sql.push_str("; ");
            }
            sql.push_str(self.body(shape));
        }
        sql.push_str("; COMMIT;");
        let sql: Arc<str> = sql.into();
        self.batches.insert(shapes, sql.clone());
        sql
    }
}

/// Runs `sql` and returns the ids its `RETURNING id` statements gave, in order.
async fn run(conn: &mut sqlx::AnyConnection, sql: Arc<str>, jobs: &[Job]) -> Result<Vec<i64>, StoreError> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for j in jobs {
        q = (j.bind)(q);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    if rows.len() != jobs.len() {
        return Err(StoreError::Corrupt(format!("{} cases written but {} ids returned", jobs.len(), rows.len())));
    }
    rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
}

fn fail_all(jobs: Vec<Job>, message: &str) {
    for j in jobs {
        let _ = j.reply.send(Err(StoreError::Write(message.to_string())));
    }
}

async fn write(writer: &AnyPool, scripts: &mut Scripts, jobs: Vec<Job>) {
    let mut conn = match writer.acquire().await {
        Ok(c) => c,
        Err(e) => return fail_all(jobs, &e.to_string()),
    };
    // The whole batch as one script, one round trip: the usual case.
    match run(&mut conn, scripts.batch(&jobs), &jobs).await {
        Ok(ids) => {
            for (j, id) in jobs.into_iter().zip(ids) {
                let _ = j.reply.send(Ok(id));
            }
            return;
        }
        Err(e) => {
            // The script stopped inside its transaction: end it (harmless if none is open).
            let _ = conn.execute("ROLLBACK").await;
            if jobs.len() == 1 {
                let j = jobs.into_iter().next().expect("one job");
                let _ = j.reply.send(Err(e));
                return;
            }
        }
    }
    // Something in the batch failed: again case by case, each in a savepoint, so that only the
    // bad case fails.
    if let Err(e) = conn.execute("BEGIN").await {
        return fail_all(jobs, &e.to_string());
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    for j in jobs {
        let sql = format!("SAVEPOINT one_case; {}; RELEASE one_case;", scripts.body(j.shape)).into();
        let result = run(&mut conn, sql, std::slice::from_ref(&j)).await.map(|ids| ids[0]);
        if result.is_err() {
            let _ = conn.execute("ROLLBACK TO one_case; RELEASE one_case;").await;
        }
        outcomes.push((j.reply, result));
    }
    match conn.execute("COMMIT").await {
        Ok(_) => {
            for (reply, result) in outcomes {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let _ = conn.execute("ROLLBACK").await;
            let msg = format!("commit failed: {e}");
            for (reply, _) in outcomes {
                let _ = reply.send(Err(StoreError::Write(msg.clone())));
            }
        }
    }
}
