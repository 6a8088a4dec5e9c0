//! `jiesu backup` and `jiesu restore`: an online copy of a SQLite store with its data key, and
//! putting one back; for PostgreSQL, what to run.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use jiesu_store::Backend;
use jiesu_store::backup::{backend_of, postgres_instructions, restore_sqlite};

use crate::StoreArgs;
use crate::config;

/// `jiesu backup --db URL --out FILE`.
pub async fn backup(store: &StoreArgs, out: &Path) -> anyhow::Result<ExitCode> {
    let (backend, _) = backend_of(&store.db)?;
    if backend == Backend::Postgres {
        let origin = config::data_key_origin(store.config.as_deref())?;
        println!("{}", postgres_instructions(&store.db, out, &origin));
        return Ok(ExitCode::SUCCESS);
    }
    let db = config::open_store(&store.db, store.config.as_deref()).await?;
    let done = db.backup_to(out).await.with_context(|| format!("backing up {} to {}", store.db, out.display()));
    db.close().await;
    let done = done?;
    println!(
        "backed up {} cases to {} (data key in {}; both mode 0600)",
        done.cases,
        done.file.display(),
        done.key_file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `jiesu restore --from FILE --db URL [--force]`.
pub async fn restore(from: &Path, db: &str, force: bool) -> anyhow::Result<ExitCode> {
    let (backend, file) = backend_of(db)?;
    let Some(to) = file.filter(|_| backend == Backend::Sqlite) else {
        bail!(
            "jiesu restore puts back SQLite backups; restore a PostgreSQL dump with pg_restore (jiesu backup --db \
             postgres://… says how)"
        );
    };
    if !from.is_file() {
        bail!("no backup at {}", from.display());
    }
    let cases = restore_sqlite(from, &to, force).await.with_context(|| format!("restoring {}", from.display()))?;
    println!("restored {cases} cases from {} into {} (with its data key)", from.display(), to.display());
    Ok(ExitCode::SUCCESS)
}
