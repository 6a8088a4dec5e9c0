//! `jiesu import` (another system's case history into a store, through a mapping) and
//! `jiesu bench import` (the same beside a raw batched insert of the same rows), and the
//! loading of a store's own catalog by every command that opens a desk.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use jiesu_domain::catalog::StoredCatalog;
use jiesu_import::{Mapping, Options, Report};
use jiesu_store::Store;

use crate::StoreArgs;

/// Arguments of `jiesu import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// A shipped mapping (boston311, teddy2020c) or a mapping file (TOML).
    #[arg(long)]
    pub mapping: String,
    /// Write the rejected rows here (CSV: line, reason, then the file's columns).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// The export: CSV, plain or gzip.
    pub file: PathBuf,
}

/// The store's own catalog, if it carries one (else the embedded Dongcheng one applies).
pub async fn stored_catalog(store: &Store) -> anyhow::Result<Option<StoredCatalog>> {
    let files = store.catalog_files().await?;
    if files.is_empty() {
        return Ok(None);
    }
    Ok(Some(StoredCatalog::from_files(&files).context("the store's catalog")?))
}

async fn run_import(args: &ImportArgs, opts: &Options) -> anyhow::Result<(Report, Store)> {
    let mapping = Mapping::load(&args.mapping)?;
    let (config, _) = crate::config::load(args.store.config.as_deref())?;
    let store = crate::config::open_store(&args.store.db, args.store.config.as_deref()).await?;
    let report = jiesu_import::import(store.clone(), config, &mapping, &args.file, opts).await?;
    store.refresh_statistics().await?;
    if let Some(path) = &args.rejects {
        jiesu_import::write_rejects(path, &report.header, &report.rejected)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok((report, store))
}

fn print_report(report: &Report, file: &Path) {
    if report.catalog_built {
        println!("catalog: built from the mapping and {} and stored", file.display());
    }
    for r in report.rejected.iter().take(20) {
        println!("rejected line {}: {}", r.line, r.reason);
    }
    if report.rejected.len() > 20 {
        println!("… and {} more rejected rows (--rejects FILE writes them all)", report.rejected.len() - 20);
    }
    for (reason, n) in report.reasons() {
        println!("rejected {n}: {reason}");
    }
    println!("events: {}", report.events);
    println!("seconds: {:.2}", report.elapsed.as_secs_f64());
    println!("imported: {}", report.imported);
    println!("skipped: {}", report.skipped);
    println!("rejected: {}", report.rejected.len());
    println!("cases_per_s: {:.0}", report.cases_per_s());
}

/// `jiesu import`.
pub async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (report, store) = run_import(&args, &Options { progress: true, keep: false }).await?;
    store.close().await;
    print_report(&report, &args.file);
    Ok(ExitCode::SUCCESS)
}

/// `jiesu bench import`: the import into the store, then the same cases and events written raw
/// (their JSON, many rows per INSERT, 5,000 cases per transaction) into scratch tables of the same
/// store, in the same run.
pub async fn bench(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (report, store) = run_import(&args, &Options { progress: true, keep: true }).await?;
    print_report(&report, &args.file);
    let raw = jiesu_store::bench::RawBatch::create(&store).await?;
    let started = Instant::now();
    let mut id = 0i64;
    for chunk in report.kept.chunks(5_000) {
        let mut cases = Vec::with_capacity(chunk.len());
        let mut events = Vec::new();
        for (case, evs, state) in chunk {
            id += 1;
            cases.push((id, serde_json::to_string(&(case, state))?));
            for e in evs {
                events.push((id, i64::from(e.seq), serde_json::to_string(e)?));
            }
        }
        raw.insert(&cases, &events).await?;
    }
    let raw_rate = report.kept.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
    raw.drop_tables().await?;
    store.close().await;
    println!("raw_cases_per_s: {raw_rate:.0}");
    println!("ratio: {:.2}", report.cases_per_s() / raw_rate.max(1e-9));
    Ok(ExitCode::SUCCESS)
}
