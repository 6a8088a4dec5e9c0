//! Scratch PostgreSQL databases for tests: each test run gets its own database, created from
//! `DATABASE_URL` and dropped afterwards, so that no test depends on (or leaves) shared state.
//! [`connect`] opens a test store on either backend (PostgreSQL with the fixed [`data_key`]).

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

use crate::{DataKey, Store, StoreError, StoreOptions};

/// The data key of test stores on PostgreSQL (which has no key file). Tests only.
pub fn data_key() -> DataKey {
    DataKey::parse("dGVzdHMgb25seTogbmV2ZXIgYSByZWFsIGtleSEhISE=").expect("a 32-byte key")
}

/// Opens a test store: SQLite with its key file, PostgreSQL with [`data_key`].
pub async fn connect(url: &str) -> Result<Store, StoreError> {
    let data_key = url.starts_with("postgres").then(data_key);
    Store::open(url, StoreOptions { data_key, ..Default::default() }).await
}

/// A database made for one test.
#[derive(Debug)]
pub struct ScratchDb {
    /// URL of the scratch database.
    pub url: String,
    admin_url: String,
    name: String,
}

/// Creates a fresh database named after `prefix` on the server `DATABASE_URL` points to.
/// Returns None (and says so on stderr) when `DATABASE_URL` is not set.
pub async fn scratch_postgres(prefix: &str) -> Option<ScratchDb> {
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL not set: PostgreSQL test skipped");
        return None;
    };
    sqlx::any::install_default_drivers();
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("jiesu_{prefix}_{}_{n}", std::process::id());
    let mut admin = AnyConnection::connect(&admin_url).await.expect("connect to DATABASE_URL");
    admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).await.expect("drop scratch database");
    admin.execute(AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("create scratch database");
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).expect("DATABASE_URL has a database name");
    Some(ScratchDb { url: format!("{base}/{name}"), admin_url, name })
}

impl ScratchDb {
    /// Drops the database (close every store on it first).
    pub async fn drop(self) {
        let mut admin = AnyConnection::connect(&self.admin_url).await.expect("connect to DATABASE_URL");
        admin
            .execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .await
            .expect("drop scratch database");
    }
}

/// Makes every later INSERT into `table` of `store` fail (a trigger raising an error), to test
/// that what a failed write began is rolled back. Tests only; undone by [`allow_inserts`].
/// `table` must be a plain table name.
pub async fn fail_inserts(store: &Store, table: &str) -> Result<(), StoreError> {
    assert!(table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "a table name");
    let sql = match store.backend() {
        crate::Backend::Sqlite => format!(
            "CREATE TRIGGER injected_failure_{table} BEFORE INSERT ON {table} \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        ),
        crate::Backend::Postgres => format!(
            "CREATE OR REPLACE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
             CREATE TRIGGER injected_failure_{table} BEFORE INSERT ON {table} \
             FOR EACH ROW EXECUTE FUNCTION injected_failure()"
        ),
    };
    store.write_pool().execute(AssertSqlSafe(sql)).await?;
    Ok(())
}

/// Undoes [`fail_inserts`].
pub async fn allow_inserts(store: &Store, table: &str) -> Result<(), StoreError> {
    assert!(table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "a table name");
    let sql = match store.backend() {
        crate::Backend::Sqlite => format!("DROP TRIGGER injected_failure_{table}"),
        crate::Backend::Postgres => format!("DROP TRIGGER injected_failure_{table} ON {table}"),
    };
    store.write_pool().execute(AssertSqlSafe(sql)).await?;
    Ok(())
}

/// Runs raw SQL on the writer connection (tests that tamper with a store on purpose); returns the
/// rows affected. Tests only: everything else goes through the store's methods.
pub async fn execute(store: &Store, sql: &str) -> Result<u64, StoreError> {
    let done = store.write_pool().execute(AssertSqlSafe(sql.to_string())).await?;
    Ok(done.rows_affected())
}

/// The first column of every row of a raw query, as text (tests that look at what is stored).
pub async fn strings(store: &Store, sql: &str) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(AssertSqlSafe(sql.to_string())).fetch_all(store.pool()).await?)
}
