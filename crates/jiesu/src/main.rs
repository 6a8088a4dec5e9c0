//! The `jiesu` binary: parses the command line and hands over to the library crates.
//! Exit status: 0 success, 1 failure (message on stderr), 2 usage error (from clap),
//! 3 `check` found cases that differ from their replay.

mod bench;
mod config;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiesu_core::Desk;
use jiesu_domain::catalog::Catalog;
use jiesu_store::Store;

/// 接诉 jiesu: the 12345 hotline and the grid as one closed loop.
#[derive(Debug, Parser)]
#[command(name = "jiesu", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

const DEFAULT_DB: &str = "sqlite://jiesu-data/jiesu.db";

#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// Store URL: sqlite://PATH or postgres://…
    #[arg(long, env = "JIESU_DB", default_value = DEFAULT_DB)]
    db: String,
    /// Settings file (TOML): deadlines, time zone, weights, extra holiday years.
    #[arg(long, env = "JIESU_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Check a store's integrity: every case's state equals the replay of its events.
    Check {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print a year's exceptions to the Monday–Friday week (holidays and make-up working days).
    Calendar {
        /// The year.
        #[arg(long)]
        year: i32,
        /// Settings file with extra holiday years.
        #[arg(long, env = "JIESU_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(Debug, Subcommand)]
enum BenchCmd {
    /// Create and dispatch cases through the store, beside a raw single-row insert loop.
    Intake {
        /// Store URL (use a scratch store: the benchmark adds cases).
        #[arg(long, default_value = "sqlite://jiesu-data/bench.db")]
        db: String,
        /// Number of cases.
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
    },
}

async fn open_desk(args: &StoreArgs) -> anyhow::Result<Desk> {
    let (config, calendar) = config::load(args.config.as_deref())?;
    let store = Store::connect(&args.db).await.with_context(|| format!("opening store {}", args.db))?;
    Ok(Desk::new(store, Catalog::dongcheng(), calendar, config))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Cmd::Check { store } => {
            let desk = open_desk(&store).await?;
            let report = desk.check().await?;
            for (id, why) in &report.mismatches {
                println!("case {id}: {why}");
            }
            println!("checked {} cases, {} events: {} differ", report.cases, report.events, report.mismatches.len());
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(3) })
        }
        Cmd::Calendar { year, config } => {
            let (_, calendar) = config::load(config.as_deref())?;
            for day in calendar.exceptions(year)? {
                println!("{}", day.line());
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Bench(BenchCmd::Intake { db, cases }) => {
            bench::intake(&db, cases).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
