//! The store's own catalog (migration 0015): the catalog files of the city whose cases it holds,
//! by name, as text; and the ids of imported cases in their sources (`case_sources`).
//!
//! A store without catalog files holds cases of the embedded default (Dongcheng). The files are
//! parsed and checked by the domain (`jiesu_domain::catalog`); the store only keeps them.

use std::collections::HashSet;

use crate::{Store, StoreError};

impl Store {
    /// The store's catalog files, `(name, text)` in name order; empty when the store uses the
    /// embedded default catalog.
    pub async fn catalog_files(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT name, body FROM catalog_files ORDER BY name").fetch_all(&self.pool).await?)
    }

    /// Stores `files` as the store's catalog, in one transaction. Refused when the store holds
    /// cases or has a catalog already: the cases were filed under the catalog they have.
    pub async fn put_catalog_files(&self, files: &[(String, String)]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(&mut *tx).await?;
        let known: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_files").fetch_one(&mut *tx).await?;
        if cases > 0 || known > 0 {
            return Err(StoreError::Write(format!(
                "a catalog is stored only into an empty store (this one holds {cases} cases and {known} catalog files)"
            )));
        }
        for (name, body) in files {
            sqlx::query("INSERT INTO catalog_files (name, body) VALUES ($1, $2)")
                .bind(name)
                .bind(body)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The ids of the cases already imported from `source` (see [`Store::create_cases_from`]).
    pub async fn source_ids(&self, source: &str) -> Result<HashSet<String>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT source_id FROM case_sources WHERE source = $1")
            .bind(source)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().collect())
    }

    /// The case imported from `source` as `source_id`, if any.
    pub async fn case_from_source(&self, source: &str, source_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT case_id FROM case_sources WHERE source = $1 AND source_id = $2")
            .bind(source)
            .bind(source_id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
