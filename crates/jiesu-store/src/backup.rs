//! Backups of a SQLite store, and restoring one.
//!
//! A backup is `VACUUM INTO` a new file: one read transaction, so a consistent copy of everything
//! committed when it began, taken while the server goes on writing (WAL readers do not block the
//! writer). The data key goes beside it as `FILE.key`; without it the citizens' contacts in the
//! copy cannot be read, and its event chains cannot be verified. Both files are made 0600.
//! PostgreSQL is backed up with its own tools: [`postgres_instructions`] says how.

use std::path::{Path, PathBuf};

use sqlx::{AnyConnection, Connection};

use crate::crypt::key_file_of;
use crate::{Backend, DataKey, Store, StoreError};

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Write(format!("{what} {}: {e}", path.display()))
}

/// Creates `path` empty with mode 0600 (whatever the umask); refuses an existing file.
fn create_private(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(|e| io("cannot create", path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(|e| io("cannot chmod", path, e))?;
    }
    Ok(file)
}

/// Writes `key` to a new key file at `path` (0600).
fn write_key(key: &DataKey, path: &Path) -> Result<(), StoreError> {
    use std::io::Write;
    let mut file = create_private(path)?;
    writeln!(file, "{}", key.to_base64()).and_then(|_| file.sync_all()).map_err(|e| io("cannot write", path, e))
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The copy of the database.
    pub file: PathBuf,
    /// The data key beside it.
    pub key_file: PathBuf,
    /// Cases in the copy.
    pub cases: i64,
}

impl Store {
    /// Copies this SQLite store, online, to the new file `out` and its data key to `out.key`
    /// (both 0600). Everything committed before the call is in the copy.
    pub async fn backup_to(&self, out: &Path) -> Result<Backup, StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Url(
                "jiesu backup copies SQLite stores; for PostgreSQL use pg_dump (jiesu backup prints how)".into(),
            ));
        }
        let key_file = key_file_of(out);
        if out.exists() || key_file.exists() {
            return Err(StoreError::Exists(format!("{} (or its .key)", out.display())));
        }
        // VACUUM INTO accepts an existing empty file: made first, so that it is private from the
        // start.
        drop(create_private(out)?);
        let target = out.to_str().ok_or_else(|| StoreError::Url(format!("{} is not UTF-8", out.display())))?;
        let mut conn = self.pool.acquire().await?;
        let copied = async {
            let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(&mut *conn).await?;
            sqlx::query("VACUUM INTO $1").bind(target).execute(&mut *conn).await?;
            Ok::<_, StoreError>(cases)
        }
        .await;
        let cases = match copied {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_file(out);
                return Err(e);
            }
        };
        write_key(&self.key, &key_file)?;
        Ok(Backup { file: out.to_path_buf(), key_file, cases })
    }
}

/// Restores the SQLite backup `from` (with `from.key`) as the store at `to` (with `to.key`).
/// Refuses a store at `to` that holds anything unless `force`; the backup is opened (and brought
/// up to the current schema) in a temporary file beside `to` first, and only then put in place.
/// Stop servers on `to` before restoring over it.
pub async fn restore_sqlite(from: &Path, to: &Path, force: bool) -> Result<i64, StoreError> {
    let from_key = key_file_of(from);
    let key = DataKey::read_file(&from_key)?;
    if to.exists() && !force && holds_data(to).await? {
        return Err(StoreError::Exists(format!(
            "a store with data at {} (restore over it with --force, after stopping its servers)",
            to.display()
        )));
    }
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io("cannot create folder", dir, e))?;
    }
    let mut staged = to.as_os_str().to_owned();
    staged.push(".restoring");
    let staged = PathBuf::from(staged);
    remove_database(&staged)?;
    {
        use std::io::Write;
        let mut file = create_private(&staged)?;
        let bytes = std::fs::read(from).map_err(|e| io("cannot read", from, e))?;
        file.write_all(&bytes).and_then(|_| file.sync_all()).map_err(|e| io("cannot write", &staged, e))?;
    }
    // Open it as a store: the key must fit, older schemas are migrated (and chained).
    let url = format!("sqlite://{}", staged.display());
    let store = Store::open(&url, crate::StoreOptions { data_key: Some(key.clone()), ..Default::default() }).await?;
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(&store.pool).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&store.writer).await?;
    store.close().await;
    remove_database(to)?;
    std::fs::rename(&staged, to).map_err(|e| io("cannot move the restored store to", to, e))?;
    remove_database(&staged)?;
    write_key(&key, &key_file_of(to))?;
    Ok(cases)
}

/// Removes a SQLite database with its `-wal`, `-shm` and key files, if there.
fn remove_database(db: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm", ".key"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("cannot remove", &p, e)),
        }
    }
    Ok(())
}

/// True when the SQLite file at `path` has cases, users or API keys (read without the data key).
async fn holds_data(path: &Path) -> Result<bool, StoreError> {
    if std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true) {
        return Ok(false);
    }
    crate::install_drivers();
    let mut conn = AnyConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await?;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(&mut conn).await?;
    let mut rows = 0i64;
    for table in ["cases", "users", "api_keys"] {
        if tables.iter().any(|t| t == table) {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            rows += sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut conn).await?;
        }
    }
    conn.close().await?;
    Ok(rows > 0)
}

/// How to back up and restore the PostgreSQL store at `url`, and where its data key comes from
/// (`key_origin`, said by the caller: the store does not know the settings).
pub fn postgres_instructions(url: &str, out: &Path, key_origin: &str) -> String {
    let shown = without_password(url);
    format!(
        "A PostgreSQL store is backed up with PostgreSQL's tools (online and consistent: one snapshot):\n\
         \n    pg_dump --format=custom --no-owner --no-privileges --file '{out}' '{shown}'\n\
         \nand restored into an empty database with\n\
         \n    pg_restore --no-owner --no-privileges --exit-on-error --dbname 'postgres://…/NEW' '{out}'\n\
         \nThe data key is not in the database; it comes from {key_origin}.\n\
         Keep a copy of it with the dump (mode 0600): without it the citizens' contacts cannot be read\n\
         and `jiesu check` cannot verify the event chains.",
        out = out.display()
    )
}

/// `url` with any password replaced by `***`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Which backend a store URL names, without connecting.
pub fn backend_of(url: &str) -> Result<(Backend, Option<PathBuf>), StoreError> {
    let (backend, _, file) = crate::normalise_url_only(url)?;
    Ok((backend, file))
}
