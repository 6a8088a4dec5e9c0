//! The architecture invariants of ARCHITECTURE.md, checked on the source tree (as rust-analyzer's
//! tidy tests do): a change that breaks one fails here with the file and line, not in review.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The lines of a source file that are compiled into the library: comments dropped, and
/// everything from a `#[cfg(test)]` on (unit tests close a file in this code base).
fn runtime_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push((i + 1, line));
    }
    out
}

/// The files of `src` whose module is declared under `#[cfg(feature = "tools")]` (offline tools,
/// not compiled into what the server runs), with everything below them.
fn gated_files(src: &Path) -> Vec<PathBuf> {
    let mut gated = Vec::new();
    for file in rust_files(src) {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            let Some(rest) = t.strip_prefix("pub mod ").or_else(|| t.strip_prefix("mod ")) else { continue };
            let Some(name) = rest.strip_suffix(';') else { continue };
            if i == 0 || !lines[i - 1].trim().starts_with("#[cfg(feature = \"tools\")]") {
                continue;
            }
            let dir = match file.file_name().and_then(|n| n.to_str()) {
                Some("lib.rs" | "mod.rs" | "main.rs") => file.parent().unwrap().to_path_buf(),
                _ => file.with_extension(""),
            };
            gated.push(dir.join(format!("{name}.rs")));
            gated.push(dir.join(name));
        }
    }
    gated
}

#[test]
fn pure_crates_do_no_io_and_read_no_clock() {
    const FORBIDDEN: &[&str] = &[
        "std::fs",
        "std::env",
        "std::net",
        "std::process",
        "File::open",
        "Instant",
        "SystemTime",
        "Utc::now",
        "Local::now",
        "tokio",
        "sqlx",
        "axum",
    ];
    let root = workspace();
    let mut found = Vec::new();
    for krate in ["jiesu-domain", "jiesu-geo", "jiesu-intake", "jiesu-core"] {
        let src = root.join("crates").join(krate).join("src");
        let gated = gated_files(&src);
        for file in rust_files(&src) {
            if gated.iter().any(|g| file.starts_with(g)) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in runtime_lines(&text) {
                // jiesu-core is async over the store, so it may name tokio's sync types; it still
                // does no I/O of its own and reads no clock.
                for word in FORBIDDEN.iter().filter(|w| !(krate == "jiesu-core" && **w == "tokio")) {
                    if line.contains(word) {
                        found.push(format!("{}:{n}: `{word}` in {krate}: {}", file.display(), line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "file, environment, network or clock access in a pure crate (take the value as an argument, or put \
         offline tools behind the `tools` feature):\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_store_speaks_sql() {
    let root = workspace();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.ends_with("jiesu-store") {
            continue;
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        if manifest.lines().any(|l| l.trim_start().starts_with("sqlx")) {
            found.push(format!("{}: depends on sqlx", dir.join("Cargo.toml").display()));
        }
        for sub in ["src", "tests", "examples", "benches"] {
            for file in rust_files(&dir.join(sub)) {
                if file.ends_with("tests/tidy.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&file).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let t = line.trim_start();
                    if (t.contains("sqlx::") || t.starts_with("use sqlx")) && !t.starts_with("//") {
                        found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "sqlx outside jiesu-store (add a Store method instead):\n{}", found.join("\n"));
}

#[test]
fn no_pool_escapes_the_store() {
    let src = workspace().join("crates/jiesu-store/src");
    let mut found = Vec::new();
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in runtime_lines(&text) {
            let t = line.trim_start();
            let public = t.starts_with("pub fn") || t.starts_with("pub async fn") || t.starts_with("pub ");
            let pool = ["AnyPool", "PgPool", "SqlitePool", "AnyConnection", "Pool<"].iter().any(|p| t.contains(p));
            // `pub(crate)` and private items are fine; so are the test helpers taking a pool-free `&Store`.
            if public && pool && !t.starts_with("pub(crate)") {
                found.push(format!("{}:{n}: {}", file.display(), t));
            }
        }
    }
    assert!(found.is_empty(), "a public item hands out a connection pool:\n{}", found.join("\n"));
}

#[test]
fn sqlite_and_postgres_migrations_stay_in_step() {
    let dir = workspace().join("crates/jiesu-store/migrations");
    let names = |backend: &str| {
        let mut v: Vec<String> = std::fs::read_dir(dir.join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"), "every migration exists for both backends, with the same name");
}
