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
//! The writer task owns nothing but the queue: it borrows the single writer connection per batch,
//! so it cannot be left half-way by a caller that gives up (callers only wait on a reply).

use sqlx::any::AnyArguments;
use sqlx::{Any, AnyPool, AssertSqlSafe, Executor, Row};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;

/// Largest number of cases in one commit.
const MAX_BATCH: usize = 64;
/// Scheduler turns the writer waits for more cases before it commits.
const LINGER_TURNS: usize = 4;

type AnyQuery = sqlx::query::Query<'static, Any, AnyArguments>;

/// One new case to write: the SQL that inserts it (returning its id first) and its bindings.
pub(crate) struct Job {
    /// Statements that insert the case (`… RETURNING id`) and its events, with placeholders
    /// numbered after the given offset.
    pub body: Box<dyn Fn(usize) -> String + Send + Sync>,
    /// Number of placeholders in `body`.
    pub args: usize,
    /// Binds the values of `body` onto a query (again, if the batch is retried case by case).
    pub bind: Box<dyn Fn(AnyQuery) -> AnyQuery + Send + Sync>,
    /// Where the id (or the error) goes.
    pub reply: oneshot::Sender<Result<i64, StoreError>>,
}

/// Starts the writer task on the current runtime; it ends when every sender is dropped.
pub(crate) fn spawn(writer: AnyPool) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
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
            write(&writer, jobs).await;
        }
    });
    tx
}

/// Runs `sql` and returns the ids its `RETURNING id` statements gave, in order.
async fn run(conn: &mut sqlx::AnyConnection, sql: String, jobs: &[Job]) -> Result<Vec<i64>, StoreError> {
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

async fn write(writer: &AnyPool, jobs: Vec<Job>) {
    let mut conn = match writer.acquire().await {
        Ok(c) => c,
        Err(e) => return fail_all(jobs, &e.to_string()),
    };
    // The whole batch as one script, one round trip: the usual case.
    let mut offset = 0;
    let mut bodies = Vec::with_capacity(jobs.len());
    for j in &jobs {
        bodies.push((j.body)(offset));
        offset += j.args;
    }
    let script = format!("BEGIN; {}; COMMIT;", bodies.join("; "));
    match run(&mut conn, script, &jobs).await {
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
        let sql = format!("SAVEPOINT one_case; {}; RELEASE one_case;", (j.body)(0));
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
