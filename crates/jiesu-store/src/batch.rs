//! Group commit for SQLite intake: new cases that arrive together are written in one
//! transaction, each inside its own savepoint, and each caller is answered only after the commit.
//!
//! SQLite takes one writer at a time and pays for a commit by writing every page the transaction
//! touched (the case row, each index, the events) to the WAL. When operators, Open311 clients and
//! sensors file cases at the same moment, one commit for all of them writes the hot index pages
//! once instead of once per case. A case that fails (say, a constraint) is rolled back to its
//! savepoint alone; the others commit. A lone case is sent as one script: `BEGIN; …; COMMIT;`.
//!
//! The writer task owns nothing but the queue: it borrows the single writer connection per batch,
//! so it cannot be left half-way by a caller that gives up (callers only wait on a reply).

use sqlx::any::AnyArguments;
use sqlx::{Any, AnyPool, AssertSqlSafe, Executor, Row};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;

/// Largest number of cases in one commit.
const MAX_BATCH: usize = 64;

type AnyQuery = sqlx::query::Query<'static, Any, AnyArguments>;

/// One new case to write: the SQL that inserts it (returning its id first) and its bindings.
pub(crate) struct Job {
    /// Statements that insert the case (`… RETURNING id`) and its events.
    pub body: String,
    /// Binds the values of `body` onto a query.
    pub bind: Box<dyn FnOnce(AnyQuery) -> AnyQuery + Send>,
    /// Where the id (or the error) goes.
    pub reply: oneshot::Sender<Result<i64, StoreError>>,
}

/// Starts the writer task on the current runtime; it ends when every sender is dropped.
pub(crate) fn spawn(writer: AnyPool) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            write(&writer, jobs).await;
        }
    });
    tx
}

async fn run(conn: &mut sqlx::AnyConnection, sql: String, bind: Box<dyn FnOnce(AnyQuery) -> AnyQuery + Send>) -> Result<i64, StoreError> {
    let rows = bind(sqlx::query(AssertSqlSafe(sql))).fetch_all(&mut *conn).await?;
    let row = rows.first().ok_or_else(|| StoreError::Corrupt("insert returned no id".into()))?;
    Ok(row.try_get::<i64, _>(0)?)
}

async fn write(writer: &AnyPool, mut jobs: Vec<Job>) {
    let mut conn = match writer.acquire().await {
        Ok(c) => c,
        Err(e) => {
            let msg = e.to_string();
            for j in jobs {
                let _ = j.reply.send(Err(StoreError::Write(msg.clone())));
            }
            return;
        }
    };
    if jobs.len() == 1 {
        let j = jobs.pop().expect("one job");
        let result = run(&mut conn, format!("BEGIN; {}; COMMIT;", j.body), j.bind).await;
        if result.is_err() {
            // The script stopped inside its transaction: end it (harmless if none is open).
            let _ = conn.execute("ROLLBACK").await;
        }
        let _ = j.reply.send(result);
        return;
    }
    if let Err(e) = conn.execute("BEGIN").await {
        let msg = e.to_string();
        for j in jobs {
            let _ = j.reply.send(Err(StoreError::Write(msg.clone())));
        }
        return;
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    for j in jobs {
        let result = run(&mut conn, format!("SAVEPOINT one_case; {}; RELEASE one_case;", j.body), j.bind).await;
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
