//! The store's one error type.

/// What can go wrong in the store. Database failures are never turned into "not found".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No case with this id.
    #[error("case {0} not found")]
    NotFound(i64),
    /// Someone else appended to the case first; reload and try again.
    #[error("case {id} was changed by someone else (expected event {expected})")]
    Conflict {
        /// Case id.
        id: i64,
        /// The sequence number the writer expected to be the latest.
        expected: u32,
    },
    /// The same filer already filed a case with this external id: that case.
    #[error("this external id was already filed as case {0}")]
    AlreadyFiled(i64),
    /// The store URL is malformed or unsupported.
    #[error("store URL: {0}")]
    Url(String),
    /// Stored data does not decode (a bug or tampering).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A write failed in a way shared by several callers (a group commit, a closed store).
    #[error("write failed: {0}")]
    Write(String),
    /// A user or API key with this name already exists.
    #[error("{0} already exists")]
    Exists(String),
    /// The data key is missing, malformed, or not the key this store's personal data was sealed
    /// with.
    #[error("data key: {0}")]
    DataKey(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// The database's disk is full (SQLite `SQLITE_FULL`, PostgreSQL 53100): nothing was written,
    /// and writing again may work once space is freed.
    pub fn is_disk_full(&self) -> bool {
        const SIGNS: [&str; 3] = ["database or disk is full", "No space left on device", "could not extend file"];
        match self {
            StoreError::Db(sqlx::Error::Database(d)) => {
                matches!(d.code().as_deref(), Some("13" | "53100")) || SIGNS.iter().any(|s| d.message().contains(s))
            }
            StoreError::Db(e) => SIGNS.iter().any(|s| e.to_string().contains(s)),
            StoreError::Write(m) => SIGNS.iter().any(|s| m.contains(s)),
            _ => false,
        }
    }

    /// The database cannot be reached or is not accepting work for now (connection lost or
    /// refused, server shutting down or starting, no connection free in time): retrying later may
    /// work, nothing is known to be wrong with the request.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_),
            ) => true,
            // Class 08 connection exceptions; 57P01–57P03 shutdown, crash, cannot connect now;
            // 53300 too many connections.
            StoreError::Db(sqlx::Error::Database(d)) => d
                .code()
                .is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300")),
            StoreError::Db(sqlx::Error::Protocol(m)) => m.contains("connection") || m.contains("closed"),
            StoreError::Write(m) => ["pool timed out", "connection", "the writer stopped", "the store is closed"]
                .iter()
                .any(|s| m.contains(s)),
            _ => false,
        }
    }
}
