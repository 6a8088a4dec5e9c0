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
