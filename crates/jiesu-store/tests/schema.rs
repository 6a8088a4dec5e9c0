//! The SQLite and PostgreSQL migrations stay in step: after migrating, both backends have the same
//! tables, the same columns in each, and the same named indexes (types differ by dialect). The
//! search index is the one planned difference (FTS5 `case_fts` on SQLite, GIN `case_terms` on
//! PostgreSQL; see `src/search.rs`).

use std::collections::BTreeSet;

use jiesu_store::testing::{self, connect, scratch_postgres};

const SQLITE_COLUMNS: &str = "SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
     AND m.name NOT LIKE 'case_fts%'";
const SQLITE_INDEXES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'";
const POSTGRES_COLUMNS: &str = "SELECT table_name || '.' || column_name FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' AND table_name <> 'case_terms'";
// Primary keys and UNIQUE column constraints get indexes of their own names on PostgreSQL and
// automatic ones on SQLite: only the indexes the migrations name are compared.
const POSTGRES_INDEXES: &str = "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' \
     AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key' AND tablename NOT LIKE '_sqlx%' AND tablename <> 'case_terms'";

async fn set(store: &jiesu_store::Store, sql: &str) -> BTreeSet<String> {
    testing::strings(store, sql).await.unwrap().into_iter().collect()
}

#[tokio::test]
async fn both_backends_have_the_same_schema() {
    let Some(db) = scratch_postgres("schema").await else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = connect(&format!("sqlite://{}/schema.db", dir.path().display())).await.unwrap();
    let pg = connect(&db.url).await.unwrap();
    let (lite_cols, pg_cols) = (set(&sqlite, SQLITE_COLUMNS).await, set(&pg, POSTGRES_COLUMNS).await);
    let (lite_idx, pg_idx) = (set(&sqlite, SQLITE_INDEXES).await, set(&pg, POSTGRES_INDEXES).await);
    sqlite.close().await;
    pg.close().await;
    db.drop().await;
    assert!(lite_cols.contains("cases.id") && lite_cols.len() > 20, "{lite_cols:?}");
    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect::<Vec<_>>();
    assert!(
        lite_cols == pg_cols,
        "columns only on SQLite: {:?}; only on PostgreSQL: {:?}",
        only(&lite_cols, &pg_cols),
        only(&pg_cols, &lite_cols)
    );
    assert!(
        lite_idx == pg_idx,
        "indexes only on SQLite: {:?}; only on PostgreSQL: {:?}",
        only(&lite_idx, &pg_idx),
        only(&pg_idx, &lite_idx)
    );
}
