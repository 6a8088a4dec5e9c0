//! The store: cases and their append-only events, on SQLite (the embedded default) or PostgreSQL.
//!
//! **Architecture invariant:** this is the only crate that speaks SQL. It persists what the domain
//! decided; it makes no decisions of its own beyond optimistic concurrency: an append names the
//! sequence number it expects, and loses with [`StoreError::Conflict`] when someone else wrote first.
//! That is also how background jobs on several servers coordinate (see `jiesu-core`).
//!
//! Both backends run the same SQL through sqlx's `Any` driver; only the migrations (DDL) and the
//! connection settings differ. Times are stored as Unix epoch milliseconds.

mod batch;
mod cases;
mod error;
mod open311;
pub mod testing;

pub use cases::{CachedColumns, CaseFilter, CaseRecord, Page};
pub use error::StoreError;
pub use open311::{ClientUpdate, Media, Open311Request, UpdateOutcome};

use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, AssertSqlSafe, Executor};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, one file, WAL journal.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Durability of SQLite commits. `Normal` (WAL + synchronous=NORMAL) survives a crash or kill -9
/// of the process; `Full` also survives a power cut, at the cost of an fsync per commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// synchronous=NORMAL.
    #[default]
    Normal,
    /// synchronous=FULL.
    Full,
}

/// A connected store. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct Store {
    /// Connections for reads.
    pool: AnyPool,
    /// Connections for writes. On SQLite a single connection: SQLite takes one writer at a time
    /// anyway, and one connection keeps its page cache warm instead of invalidating eight.
    writer: AnyPool,
    /// SQLite only: the queue of new cases for group commit.
    intake: Option<tokio::sync::mpsc::Sender<batch::Job>>,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`), creating the SQLite file and its
    /// folder when missing, and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(url, Durability::default()).await
    }

    /// [`Store::connect`] with an explicit SQLite durability.
    pub async fn connect_with(url: &str, durability: Durability) -> Result<Store, StoreError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let (backend, url) = normalise_url(url)?;
        let options = AnyConnectOptions::from_str(&url).map_err(|e| StoreError::Url(format!("{url}: {e}")))?;
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let sync = match durability {
                    Durability::Normal => "NORMAL",
                    Durability::Full => "FULL",
                };
                let pragmas = format!(
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=4000;"
                );
                let sqlite_pool = |max: u32| {
                    let pragmas = pragmas.clone();
                    AnyPoolOptions::new()
                        .max_connections(max)
                        // A local file does not drop connections: no ping before each use.
                        .test_before_acquire(false)
                        .acquire_timeout(Duration::from_secs(60))
                        .after_connect(move |conn, _meta| {
                            let pragmas = pragmas.clone();
                            Box::pin(async move {
                                conn.execute(AssertSqlSafe(pragmas)).await?;
                                Ok(())
                            })
                        })
                };
                // The writer first: it creates the file and switches it to WAL.
                let writer = sqlite_pool(1).connect_with(options.clone()).await?;
                let readers = sqlite_pool(8).connect_with(options).await?;
                (readers, writer)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?;
                (pool.clone(), pool)
            }
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&writer).await?;
        let intake = (backend == Backend::Sqlite).then(|| batch::spawn(writer.clone()));
        Ok(Store { pool, writer, intake, backend })
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool for reads, for the few callers (tests, diagnostics) that need raw SQL.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The connection pool for writes (benchmarks compare against raw inserts through it).
    pub fn write_pool(&self) -> &AnyPool {
        &self.writer
    }

    /// Closes every connection (waits for running queries).
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Splits a store URL into its backend and the URL sqlx should see.
fn normalise_url(url: &str) -> Result<(Backend, String), StoreError> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        if path.is_empty() {
            return Err(StoreError::Url("sqlite URL has no file path (use sqlite://PATH)".into()));
        }
        if path != ":memory:"
            && let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Url(format!("cannot create folder {}: {e}", dir.display())))?;
            }
        let query = if query.is_empty() { "mode=rwc".to_string() } else { query.to_string() };
        Ok((Backend::Sqlite, format!("sqlite://{path}?{query}")))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Backend::Postgres, url.to_string()))
    } else {
        Err(StoreError::Url(format!("unsupported store URL '{url}': use sqlite://PATH or postgres://…")))
    }
}
