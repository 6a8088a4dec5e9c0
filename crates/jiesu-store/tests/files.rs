//! The files of a SQLite store hold citizens' contacts (sealed) and everything else in the clear:
//! the database, its WAL and shared-memory files and the key file are readable by their owner only.

#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("private.db");
    let store = jiesu_store::Store::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    store
        .create_user("wang", jiesu_domain::model::Role::Operator, None, "correct horse", chrono::Utc::now())
        .await
        .unwrap();
    for suffix in ["", "-wal", "-shm", ".key"] {
        let path = format!("{}{suffix}", db.display());
        let mode = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{path}: {e}")).permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{path} has mode {:o}", mode & 0o777);
    }
    store.close().await;
}
