//! Scratch PostgreSQL databases for tests: each test run gets its own database, created from
//! `DATABASE_URL` and dropped afterwards, so that no test depends on (or leaves) shared state.

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

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
