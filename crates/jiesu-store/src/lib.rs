//! The store: cases and their append-only events, on SQLite (the embedded default) or PostgreSQL.
//!
//! **Architecture invariant:** this is the only crate that speaks SQL. It persists what the domain
//! decided; it makes no decisions of its own beyond optimistic concurrency: an append names the
//! sequence number it expects, and loses with [`StoreError::Conflict`] when someone else wrote first.
//! That is also how background jobs on several servers coordinate (see `jiesu-core`).
//!
//! Both backends run the same SQL through sqlx's `Any` driver; only the migrations (DDL) and the
//! connection settings differ. Times are stored as Unix epoch milliseconds.
//!
//! **Scoping lives here:** every read of cases made for a person takes a
//! [`jiesu_domain::access::Scope`] and applies it in the SQL (`list`, `count`, `count_by_status`,
//! `case_in`, `events_in`), so a unit handler's query cannot return another unit's case. The
//! unscoped [`Store::case`] and bulk reads serve the desk's own bookkeeping and integrity checks.
//!
//! **Personal data is sealed here:** the citizen's contact is encrypted before it is written and
//! opened after it is read (see [`crypt`]); the rest of the code sees plain [`Contact`]s.
//!
//! [`Contact`]: jiesu_domain::draft::Contact

mod access_log;
mod accounts;
mod alarms;
mod assessment;
mod attachments;
pub mod backup;
mod batch;
pub mod bench;
mod bulk;
mod callers;
mod cases;
mod catalog;
mod chain;
mod changes;
pub mod crypt;
mod error;
mod map;
mod nearby;
mod notices;
mod open311;
mod search;
pub mod testing;

pub use access_log::ContactAccess;
pub use accounts::{API_KEY_PREFIX, ApiKey, ApiKeyInfo, User, one_time_password};
pub use alarms::{AlarmBatch, AlarmCounts, AlarmRow, ColourChange, Device, PlaceColour, RecentAlarm, new_device_token};
pub use assessment::{DEFAULT_ASSESSMENT_TZ, TallyRow};
pub use attachments::Attachment;
pub use bulk::{BulkCase, BulkWriter};
pub use callers::{CallerCases, CallerLookup};
pub use cases::{AppendAlso, CachedColumns, CaseFilter, CaseRecord, Page};
pub use changes::Change;
pub use crypt::DataKey;
pub use error::StoreError;
pub use jiesu_domain::access::Scope;
pub use map::PlaceCount;
pub use nearby::NearbyQuery;
pub use notices::NoticeMark;
pub use open311::{ClientUpdate, Media, NewMedia, Open311Intake, Open311Request, UpdateOutcome};

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

/// `meta` marks of the one-time upgrades run when a store opens (see [`Store::open`]):
/// contacts stored in plain text before migration 0002 sealed, …
pub const UPGRADE_CONTACTS: &str = "upgraded_contacts_sealed";
/// … the search terms of PostgreSQL cases from before search indexed, …
pub const UPGRADE_TERMS: &str = "upgraded_search_terms";
/// … and the caller keys (来电弹屏) of cases from before migration 0014 filled.
pub const UPGRADE_PHONE_KEYS: &str = "upgraded_phone_keys";

/// How to open a store.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// SQLite durability.
    pub durability: Durability,
    /// The key that seals personal data. None: for a SQLite file, the key file beside it
    /// (created on first start); for PostgreSQL, an error.
    pub data_key: Option<DataKey>,
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
    /// Seals and opens personal data.
    sealer: std::sync::Arc<crypt::Sealer>,
    /// Hashes events into each case's chain (the tamper-evident record).
    chainer: std::sync::Arc<chain::Chainer>,
    /// Keys callers' numbers (来电弹屏).
    phones: std::sync::Arc<callers::PhoneKeyer>,
    /// The data key, for backups (written beside the copy).
    key: std::sync::Arc<DataKey>,
    /// The change feed (see [`Store::changes`]).
    feed: std::sync::Arc<changes::Feed>,
    /// The time zone the assessment tallies' months are cut in (`meta.assessment_tz`).
    assessment_tz: chrono_tz::Tz,
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
        Store::open(url, StoreOptions { durability, data_key: None }).await
    }

    /// Opens the store at `url` with `options`: connects, brings the schema up to date, and
    /// checks the data key against the store (a wrong key is refused here, before any read).
    pub async fn open(url: &str, opts: StoreOptions) -> Result<Store, StoreError> {
        install_drivers();
        let durability = opts.durability;
        let (backend, url, file) = normalise_url(url)?;
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
                    // The single writer keeps a larger page cache (64 MiB at most): bulk loads
                    // (demo, import) write large transactions that would otherwise spill pages.
                    let pragmas = match max {
                        1 => format!("{pragmas} PRAGMA cache_size=-65536;"),
                        _ => pragmas.clone(),
                    };
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
        let key = resolve_key(&writer, backend, file, opts.data_key).await?;
        let sealer = std::sync::Arc::new(crypt::Sealer::new(&key));
        let chainer = std::sync::Arc::new(chain::Chainer::new(&key));
        let phones = std::sync::Arc::new(callers::PhoneKeyer::new(&key));
        let intake = (backend == Backend::Sqlite).then(|| batch::spawn(writer.clone()));
        let key = std::sync::Arc::new(key);
        let feed = std::sync::Arc::new(changes::Feed::new(backend, &url));
        let assessment_tz = DEFAULT_ASSESSMENT_TZ;
        let mut store = Store { pool, writer, intake, backend, sealer, chainer, phones, key, feed, assessment_tz };
        // Upgrades of stores written by earlier versions. Each scans every case, so each leaves a
        // mark in `meta` when done and later opens skip it (at a million cases the scans took
        // seconds); every write since fills what they fill.
        if !store.upgraded(UPGRADE_CONTACTS).await? {
            store.seal_plain_contacts().await?;
            store.mark_upgraded(UPGRADE_CONTACTS).await?;
        }
        if backend == Backend::Postgres && !store.upgraded(UPGRADE_TERMS).await? {
            search::index_missing_postgres(&store.writer).await?;
            store.mark_upgraded(UPGRADE_TERMS).await?;
        }
        store.chain_unchained().await?;
        if !store.upgraded(UPGRADE_PHONE_KEYS).await? {
            store.fill_phone_keys().await?;
            store.mark_upgraded(UPGRADE_PHONE_KEYS).await?;
        }
        store.load_tallies().await?;
        Ok(store)
    }

    /// After a bulk load (the demo, an import): on PostgreSQL, `ANALYZE`, so that the planner
    /// knows the tables' new sizes at once rather than when autovacuum gets round to it (a
    /// million-case store searched before it did took over a second per common word). SQLite's
    /// plans do not depend on statistics it has not been asked to gather: nothing.
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE").execute(&self.writer).await?;
        }
        Ok(())
    }

    /// Whether the one-time upgrade `name` has run on this store (its mark is in `meta`).
    async fn upgraded(&self, name: &str) -> Result<bool, StoreError> {
        let mark: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.writer)
            .await?;
        Ok(mark.is_some())
    }

    /// Records that the one-time upgrade `name` has run.
    async fn mark_upgraded(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO meta (name, value) VALUES ($1, 'done') ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool for reads. Never public: SQL stays in this crate (raw SQL for tests
    /// goes through [`testing`], the benchmark baseline through [`bench`]).
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The connection pool for writes (the single writer on SQLite).
    pub(crate) fn write_pool(&self) -> &AnyPool {
        &self.writer
    }

    /// A write transaction on the writer. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), waiting out another process's write (busy timeout) instead of failing half-way
    /// when a transaction that read first then finds the database written by someone else.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Starts the background search indexer (SQLite; on PostgreSQL terms are written with each
    /// case). Only the server runs it: a second process writing to the same SQLite file (a CLI
    /// command, a backup) would contend with the server's single writer. Ends when the store closes.
    pub fn start_search_indexer(&self) {
        if self.backend == Backend::Sqlite {
            search::spawn_indexer(self.writer.clone());
        }
    }

    /// Brings the search index up to date now (SQLite; on PostgreSQL it always is): the
    /// background indexer does this within a second, so only tests and bulk loads call it.
    /// Returns how many cases were indexed.
    pub async fn index_pending(&self) -> Result<usize, StoreError> {
        let mut done = 0;
        if self.backend == Backend::Sqlite {
            loop {
                match search::index_next(&self.writer).await? {
                    0 => break,
                    n => done += n,
                }
            }
        }
        Ok(done)
    }

    /// Closes every connection (waits for running queries).
    pub async fn close(&self) {
        self.feed.close();
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Makes sqlx's `Any` driver know SQLite and PostgreSQL (once per process).
pub(crate) fn install_drivers() {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
}

/// The data key to use: the given one, else (SQLite file) the key file beside the database,
/// created on first start; checked against (or recorded as) the store's check value.
async fn resolve_key(
    writer: &AnyPool,
    backend: Backend,
    file: Option<std::path::PathBuf>,
    given: Option<DataKey>,
) -> Result<DataKey, StoreError> {
    let check: Option<String> =
        sqlx::query_scalar("SELECT value FROM meta WHERE name = 'data_key_check'").fetch_optional(writer).await?;
    let (key, origin) = match (given, backend, &file) {
        (Some(k), _, _) => (k, "the configured data key (JIESU_DATA_KEY or data_key_file)".to_string()),
        (None, Backend::Postgres, _) => {
            return Err(StoreError::DataKey(
                "a PostgreSQL store needs a data key to seal citizens' contacts: set JIESU_DATA_KEY to 32 random \
                 bytes in base64 (e.g. `openssl rand -base64 32`) or data_key_file in the settings file"
                    .into(),
            ));
        }
        (None, Backend::Sqlite, None) => (DataKey::generate(), "a key made for this in-memory store".into()),
        (None, Backend::Sqlite, Some(db)) => {
            let path = crypt::key_file_of(db);
            if path.exists() {
                warn_if_readable_by_others(&path);
                (DataKey::read_file(&path)?, format!("the key file {}", path.display()))
            } else if check.is_some() {
                return Err(StoreError::DataKey(format!(
                    "this store's contacts are sealed, but its key file {} is missing: restore it, or set \
                     JIESU_DATA_KEY to the key",
                    path.display()
                )));
            } else {
                let key = DataKey::generate();
                key.write_new_file(&path)?;
                tracing::info!(
                    path = %path.display(),
                    "made a new data key for citizens' contacts (mode 0600); keep it with the database's backups: \
                     without it the contacts cannot be read"
                );
                (key, format!("the key file {}", path.display()))
            }
        }
    };
    let sealer = crypt::Sealer::new(&key);
    match check {
        Some(stored) if sealer.opens_check(&stored) => {}
        Some(_) => {
            return Err(StoreError::DataKey(format!(
                "{origin} is not the key this store's contacts were sealed with; refusing to start"
            )));
        }
        None => {
            // Several servers may start at once on PostgreSQL: the first check value wins, and
            // everyone verifies against it.
            sqlx::query("INSERT INTO meta (name, value) VALUES ('data_key_check', $1) ON CONFLICT (name) DO NOTHING")
                .bind(sealer.check_value())
                .execute(writer)
                .await?;
            let stored: String =
                sqlx::query_scalar("SELECT value FROM meta WHERE name = 'data_key_check'").fetch_one(writer).await?;
            if !sealer.opens_check(&stored) {
                return Err(StoreError::DataKey(format!("{origin} differs from the key another server recorded")));
            }
        }
    }
    Ok(key)
}

fn warn_if_readable_by_others(path: &std::path::Path) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the data key file is readable by other users: chmod 600 it");
        }
    }
}

/// Makes the SQLite database file readable by its owner only (0600) before SQLite opens it: a new
/// one is created so, whatever the umask, and SQLite gives its `-wal` and `-shm` files the mode
/// of the database file. An existing file that others can read is left as it is, with a warning.
fn private_file(path: &std::path::Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(file) => {
            // The umask may have taken bits away, never added any; set it exactly.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| StoreError::Url(format!("cannot make {} private: {e}", path.display())))?;
            }
            drop(file);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            if let Ok(meta) = std::fs::metadata(path) {
                use std::os::unix::fs::PermissionsExt;
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(path = %path.display(), "the database file is readable by other users: chmod 600 it (and its -wal and -shm)");
                }
            }
            Ok(())
        }
        Err(e) => Err(StoreError::Url(format!("cannot create the database file {}: {e}", path.display()))),
    }
}

/// Splits a store URL into its backend, the URL sqlx should see and (SQLite) the database file,
/// creating the file's folder and the file itself (private, see [`private_file`]) when missing.
fn normalise_url(url: &str) -> Result<(Backend, String, Option<std::path::PathBuf>), StoreError> {
    let (backend, url, file) = normalise_url_only(url)?;
    if let Some(file) = &file {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Url(format!("cannot create folder {}: {e}", dir.display())))?;
        }
        private_file(file)?;
    }
    Ok((backend, url, file))
}

/// [`normalise_url`] without touching the file system.
fn normalise_url_only(url: &str) -> Result<(Backend, String, Option<std::path::PathBuf>), StoreError> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        if path.is_empty() {
            return Err(StoreError::Url("sqlite URL has no file path (use sqlite://PATH)".into()));
        }
        let query = if query.is_empty() { "mode=rwc".to_string() } else { query.to_string() };
        let file = (path != ":memory:" && !query.contains("mode=memory")).then(|| std::path::PathBuf::from(path));
        Ok((Backend::Sqlite, format!("sqlite://{path}?{query}"), file))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Backend::Postgres, url.to_string(), None))
    } else {
        Err(StoreError::Url(format!("unsupported store URL '{url}': use sqlite://PATH or postgres://…")))
    }
}
