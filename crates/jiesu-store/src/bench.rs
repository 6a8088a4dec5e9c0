//! The baseline of `jiesu bench intake`: raw single-row inserts (autocommit, one transaction
//! each) into a scratch table through the store's own writer connection, driver and durability
//! settings, so that the full intake is compared with the cheapest write the same store can do.

use sqlx::{AnyPool, Executor};

use crate::{Store, StoreError};

/// A scratch table `bench_raw` for the baseline; [`RawInserts::drop_table`] removes it.
#[derive(Clone)]
pub struct RawInserts {
    writer: AnyPool,
}

impl RawInserts {
    /// Creates (again) the scratch table on `store`.
    pub async fn create(store: &Store) -> Result<RawInserts, StoreError> {
        let writer = store.write_pool().clone();
        writer.execute("DROP TABLE IF EXISTS bench_raw").await?;
        writer
            .execute("CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, body TEXT NOT NULL, created BIGINT NOT NULL)")
            .await?;
        Ok(RawInserts { writer })
    }

    /// One row in its own transaction.
    pub async fn insert(&self, id: i64, body: &str, created_ms: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO bench_raw (id, body, created) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(body)
            .bind(created_ms)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Drops the scratch table.
    pub async fn drop_table(self) -> Result<(), StoreError> {
        self.writer.execute("DROP TABLE bench_raw").await?;
        Ok(())
    }
}

/// The baseline of `jiesu bench import`: the same cases and events as plain rows (their JSON)
/// in two scratch tables, many rows per INSERT and many per transaction, through the store's own
/// writer: the cheapest bulk write of those rows the store can do.
pub struct RawBatch {
    writer: AnyPool,
    backend: crate::Backend,
}

impl RawBatch {
    /// Creates (again) the scratch tables `bench_raw_cases` and `bench_raw_events` on `store`.
    pub async fn create(store: &Store) -> Result<RawBatch, StoreError> {
        let writer = store.write_pool().clone();
        writer.execute("DROP TABLE IF EXISTS bench_raw_cases").await?;
        writer.execute("DROP TABLE IF EXISTS bench_raw_events").await?;
        writer.execute("CREATE TABLE bench_raw_cases (id BIGINT PRIMARY KEY, body TEXT NOT NULL)").await?;
        writer
            .execute(
                "CREATE TABLE bench_raw_events (case_id BIGINT NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL, \
                 PRIMARY KEY (case_id, seq))",
            )
            .await?;
        Ok(RawBatch { writer, backend: store.backend() })
    }

    /// Inserts `cases` (id, body) and `events` (case id, seq, body) in one transaction.
    pub async fn insert(&self, cases: &[(i64, String)], events: &[(i64, i64, String)]) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        for chunk in cases.chunks(4_000) {
            let mut mark = crate::cases::bulk_marks(self.backend);
            let rows: Vec<String> = chunk.iter().map(|_| format!("({}, {})", mark(), mark())).collect();
            let sql = format!("INSERT INTO bench_raw_cases (id, body) VALUES {}", rows.join(", "));
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, body) in chunk {
                q = q.bind(*id).bind(body.clone());
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in events.chunks(4_000) {
            let mut mark = crate::cases::bulk_marks(self.backend);
            let rows: Vec<String> = chunk.iter().map(|_| format!("({}, {}, {})", mark(), mark(), mark())).collect();
            let sql = format!("INSERT INTO bench_raw_events (case_id, seq, body) VALUES {}", rows.join(", "));
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, seq, body) in chunk {
                q = q.bind(*id).bind(*seq).bind(body.clone());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Drops the scratch tables.
    pub async fn drop_tables(self) -> Result<(), StoreError> {
        self.writer.execute("DROP TABLE bench_raw_cases").await?;
        self.writer.execute("DROP TABLE bench_raw_events").await?;
        Ok(())
    }
}
