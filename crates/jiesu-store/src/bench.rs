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
