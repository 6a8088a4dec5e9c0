//! The `jiesu` binary: parses the command line and hands over to the library crates.
//! Exit status: 0 success, 1 failure (message on stderr), 2 usage error (from clap),
//! 3 `check` found cases that differ from their replay, assessment tallies that differ from the
//! replay's, merge cycles or half-written Open311 requests.

mod bench;
mod bench_alarms;
mod bench_pages;
mod bench_reads;
mod cmd_accounts;
mod cmd_alarms;
mod cmd_backup;
mod cmd_dups;
mod cmd_enterprise;
mod cmd_geo;
mod cmd_hot;
mod cmd_import;
mod cmd_model;
mod cmd_openapi;
mod config;
mod suggester;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Datelike;
use clap::{Parser, Subcommand};
use jiesu_core::Desk;
use jiesu_domain::catalog::Catalog;

/// 接诉 jiesu: the 12345 hotline and the grid as one closed loop.
#[derive(Debug, Parser)]
#[command(name = "jiesu", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

const DEFAULT_DB: &str = "sqlite://jiesu-data/jiesu.db";

#[derive(Debug, clap::Args)]
pub(crate) struct StoreArgs {
    /// Store URL: sqlite://PATH or postgres://…
    #[arg(long, env = "JIESU_DB", default_value = DEFAULT_DB)]
    pub(crate) db: String,
    /// Settings file (TOML): deadlines, time zone, weights, extra holiday years, data key file.
    #[arg(long, env = "JIESU_CONFIG")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the HTTP server (JSON API under /api/v1, Open311 under /open311/v2/). An empty
    /// SQLite store is first filled with
    /// a year of demo data unless --no-demo is given.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Address to listen on.
        #[arg(long, env = "JIESU_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Do not load demo data into an empty SQLite store.
        #[arg(long)]
        no_demo: bool,
        /// Cases of demo data to load into an empty SQLite store.
        #[arg(long, default_value_t = 20_000)]
        demo_cases: usize,
        /// Seconds between deadline sweeps (督办 on overdue cases).
        #[arg(long, default_value_t = 60)]
        sweep_every: u64,
        /// District outline (GeoJSON, GCJ-02) for the unit grids; default the Dongcheng outline
        /// embedded in the binary (data/110101_full.json).
        #[arg(long, env = "JIESU_OUTLINE")]
        outline: Option<std::path::PathBuf>,
        /// Mark the session cookie Secure (when served behind HTTPS).
        #[arg(long)]
        secure_cookie: bool,
        /// Consume sensor alarms from this MQTT broker (mqtt://[USER:PASS@]HOST[:PORT], topic
        /// jiesu/alarms/{device}, persistent session `jiesu-alarms`).
        #[arg(long, env = "JIESU_BROKER")]
        broker: Option<String>,
    },
    /// Fill a store with a realistic year of Dongcheng demo cases (ending now).
    Demo {
        #[command(flatten)]
        store: StoreArgs,
        /// Number of cases.
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
        /// Random seed (the same seed and day give the same cases).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Check a store's integrity: every case's state equals the replay of its events; no merge
    /// cycles; no half-written Open311 requests (exit status 3 otherwise).
    Check {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Copy a SQLite store online (VACUUM INTO) with its data key as FILE.key, both mode 0600;
    /// for PostgreSQL, print the pg_dump command and where the key is.
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// The new backup file (refused if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a SQLite backup (FILE and FILE.key) in place as the store at --db.
    Restore {
        /// The backup file made by `jiesu backup`.
        #[arg(long)]
        from: PathBuf,
        /// Store URL to restore into: sqlite://PATH.
        #[arg(long, env = "JIESU_DB", default_value = DEFAULT_DB)]
        db: String,
        /// Replace a store that holds data (stop its servers first).
        #[arg(long)]
        force: bool,
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
    /// Train and evaluate the Chinese category classifier.
    #[command(subcommand)]
    Model(cmd_model::ModelCmd),
    /// Print the OpenAPI 3.1 document of the JSON API (as served at /api/v1/openapi.json).
    Openapi(cmd_openapi::OpenapiArgs),
    /// Unit grids and place finding (street, community, grid cell).
    #[command(subcommand)]
    Geo(cmd_geo::GeoCmd),
    /// 热点 hot issues in a message file: clusters of messages about one problem at one place,
    /// hottest first.
    Hot(cmd_hot::HotArgs),
    /// Console users (password login).
    #[command(subcommand)]
    User(cmd_accounts::UserCmd),
    /// Key enterprises (紫金服务): check a unified social credit code.
    #[command(subcommand)]
    Enterprise(cmd_enterprise::EnterpriseCmd),
    /// API keys (Open311 and machine clients).
    #[command(subcommand)]
    Key(cmd_accounts::KeyCmd),
    /// Import case history (CSV, plain or gzip) through a mapping; into an empty store, the
    /// city's catalog is built from the mapping and the data. Ends with imported:, skipped:,
    /// rejected:, cases_per_s: lines.
    Import(cmd_import::ImportArgs),
    /// Sensors (issue 13): import the registry from CSV, register the demo's devices.
    #[command(subcommand)]
    Devices(cmd_alarms::DevicesCmd),
}

#[derive(Debug, Subcommand)]
enum BenchCmd {
    /// Create and dispatch cases through the store, beside a raw single-row insert loop.
    Intake {
        /// Store URL (use a scratch store: the benchmark adds cases).
        #[arg(long, default_value = "sqlite://jiesu-data/bench.db")]
        db: String,
        /// Number of cases per measurement.
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
        /// Concurrent clients (operators, integrations) in the concurrent runs.
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
    /// Staff latency (p50/p99) alone and while anonymous clients list 1,000 Open311 requests
    /// at a time, without and with the limits on anonymous reads (`[limits]` in the settings).
    Reads {
        #[command(flatten)]
        store: StoreArgs,
        /// Demo cases to load first when the store is empty.
        #[arg(long, default_value_t = 10_000)]
        demo_cases: usize,
        /// Anonymous clients, each from its own loopback address (127.0.0.2, …).
        #[arg(long, default_value_t = 8)]
        anonymous: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Server-side time (p50/p99) of each console page on a filled store: intake suggestions,
    /// the busiest inbox, case pages, searches, the map and the assessment. Adds four users
    /// (bench-operator, bench-leader, bench-dispatcher, bench-handler-UNIT) with fresh random
    /// passwords.
    Pages {
        #[command(flatten)]
        store: StoreArgs,
        /// Requests per page (after a warm-up).
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Real citizen messages (CSV with subject and detail) for the intake suggestions.
        #[arg(long, default_value = bench_pages::DEFAULT_MESSAGES)]
        messages: PathBuf,
    },
    /// `jiesu import` beside a raw batched insert of the same cases and events (their JSON) into
    /// scratch tables of the same store, in the same run: ends with raw_cases_per_s: and ratio:.
    Import(cmd_import::ImportArgs),
    /// Sensor alarms through a real MQTT broker into the store, with a consumer restart half-way:
    /// alarms_per_s, cases_opened, lost, duplicated (exit 1 unless lost and duplicated are 0).
    Alarms {
        /// Store URL (a scratch store: the benchmark adds devices, alarms and cases).
        #[arg(long, default_value = "sqlite://jiesu-data/bench-alarms.db")]
        db: String,
        /// The broker: mqtt://HOST:PORT.
        #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
        broker: String,
        /// Alarms to publish (distinct messages; 2 % more are sent twice).
        #[arg(long, default_value_t = 100_000)]
        alarms: usize,
    },
    /// Duplicate finding on Boston 311 (2015): precision and recall, throughput.
    Duplicates {
        /// Boston 311 CSV (gzip).
        #[arg(long, default_value = cmd_dups::DEFAULT_DATA)]
        data: PathBuf,
    },
}

/// `desk` with smart intake as `jiesu serve` runs it: the district's gazetteer and unit grid over
/// the outline at `outline` (default: see [`cmd_geo::load_geo`]), and category suggestions from
/// the shipped model and label map, or the district's own files named by JIESU_CLASSIFIER_MODEL /
/// JIESU_LABEL_MAP (a bad file is an error).
fn with_smart_intake(desk: Desk, outline: Option<&std::path::Path>) -> anyhow::Result<Desk> {
    if desk.catalog().district_code() != jiesu_domain::catalog::DISTRICT_CODE {
        tracing::info!("the store's own catalog: no Dongcheng gazetteer, grid or classifier for new cases");
        return Ok(desk);
    }
    let desk = desk.with_geo(std::sync::Arc::new(cmd_geo::load_geo(outline)?));
    let suggester = suggester::from_env(desk.catalog()).map_err(anyhow::Error::msg)?;
    Ok(desk.with_classifier(std::sync::Arc::new(suggester))?)
}

async fn open_desk(args: &StoreArgs) -> anyhow::Result<Desk> {
    let (config, calendar) = config::load(args.config.as_deref())?;
    let store = config::open_store(&args.db, args.config.as_deref()).await?;
    // A store carrying its own city's catalog (`jiesu import`) is read with it: its units, areas,
    // categories, holidays and time zone (unless the settings name one).
    if let Some(own) = cmd_import::stored_catalog(&store).await? {
        let tz = if config::timezone_set(args.config.as_deref())? { config.tz } else { own.tz };
        let config = jiesu_core::Config { tz, ..config };
        let store = store.retally(config.tz).await?;
        return Ok(Desk::new(store, own.catalog, own.calendar.provisional_after_data(), config));
    }
    // Deadlines that run into a year without holiday data count plain Monday–Friday weeks
    // rather than stopping intake; say so, so that someone adds the year's notice.
    let next_year = chrono::Utc::now().with_timezone(&config.tz).year() + 1;
    if !calendar.covers(next_year) {
        tracing::warn!(
            "no holiday data for {next_year}: deadlines in {next_year} count Monday–Friday only until the State \
             Council's notice is added to data/holidays.csv (or a holidays file in the settings)"
        );
    }
    let calendar = calendar.provisional_after_data();
    // The assessment tallies are cut in the desk's time zone (rebuilt once when it changes).
    let store = store.retally(config.tz).await?;
    Ok(Desk::new(store, Catalog::dongcheng(), calendar, config))
}

/// Loads demo cases through `desk` with the district's unit grid (over `outline`, else the
/// embedded one), so that every located case gets its grid cell as a real filing would.
async fn load_demo(desk: &Desk, cases: usize, seed: u64, outline: Option<&std::path::Path>) -> anyhow::Result<()> {
    let desk = &desk.clone().with_geo(std::sync::Arc::new(cmd_geo::load_geo(outline)?));
    let opts = jiesu_demo::DemoOptions { cases, seed, end: chrono::Utc::now() };
    let mut last = 0;
    let report = jiesu_demo::generate(desk, &opts, |done, total| {
        if done == total || done >= last + total / 10 {
            last = done;
            tracing::info!("demo data: {done}/{total} cases");
        }
    })
    .await?;
    desk.store().refresh_statistics().await?;
    println!("demo data: {} cases, {} events in {:.1} s", report.cases, report.events, report.elapsed.as_secs_f64());
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Cmd::Serve { store, addr, no_demo, demo_cases, sweep_every, outline, secure_cookie, broker } => {
            let open311 = config::load_open311(store.config.as_deref())?;
            let limits = config::load_limits(store.config.as_deref())?;
            let desk = open_desk(&store).await?;
            desk.store().start_search_indexer();
            let empty = desk.store().max_case_id().await?.is_none();
            if empty && !no_demo {
                if desk.store().backend() == jiesu_store::Backend::Sqlite {
                    tracing::info!(
                        "the store is empty: loading a year of demo data ({demo_cases} cases; --no-demo to skip)"
                    );
                    load_demo(&desk, demo_cases, 2026, outline.as_deref()).await?;
                    cmd_accounts::demo_accounts(&desk).await?;
                    cmd_alarms::demo(&desk, outline.as_deref()).await?;
                } else {
                    tracing::info!("the store is empty; `jiesu demo --db URL` loads demo data");
                }
            }
            if desk.store().user("admin").await?.is_none() {
                // (The store URL is not repeated: it may hold a password.)
                println!(
                    "console: no user 'admin' yet; create the first with `jiesu user add --db URL --name admin --role admin`"
                );
            }
            let desk = with_smart_intake(desk, outline.as_deref())?;
            let listener =
                tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("listening on {addr}"))?;
            let addr = listener.local_addr()?;
            println!("jiesu console on http://{addr}/");
            println!("jiesu serving on http://{addr}/api/v1/health");
            let sweeper =
                jiesu_server::spawn_deadline_sweeper(desk.clone(), std::time::Duration::from_secs(sweep_every.max(1)));
            let margin = config::load_coordinate_margin(store.config.as_deref())?;
            let mut state =
                jiesu_server::AppState::new(desk.clone()).with_open311(open311).with_coordinate_margin(margin);
            state.auth.secure_cookie = secure_cookie;
            state = state.with_alarm_rules(config::load_alarm_rules(store.config.as_deref())?)?;
            let consumer = match broker {
                Some(url) => {
                    let settings = jiesu_server::mqtt::MqttSettings::from_url(&url).map_err(anyhow::Error::msg)?;
                    Some(jiesu_server::mqtt::spawn_consumer(state.alarms.clone(), settings, state.clock.clone()))
                }
                None => None,
            };
            state.timeouts = limits.timeouts;
            state.anonymous_reads = limits.anonymous_reads;
            jiesu_server::serve(state, listener, shutdown_signal()).await?;
            sweeper.abort();
            if let Some(c) = consumer {
                c.stop().await;
            }
            desk.store().close().await;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Demo { store, cases, seed } => {
            let desk = open_desk(&store).await?;
            load_demo(&desk, cases, seed, None).await?;
            desk.store().close().await;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Check { store } => {
            let desk = open_desk(&store).await?;
            let report = desk.check().await?;
            for (id, why) in &report.mismatches {
                println!("case {id}: {why}");
            }
            for cycle in &report.merge_cycles {
                let path: Vec<String> = cycle.iter().chain(cycle.first()).map(|id| format!("case {id}")).collect();
                println!("merge cycle: {} (merged into each other; no action recovers them)", path.join(" → "));
            }
            for why in &report.open311_orphans {
                println!("open311: {why}");
            }
            for why in report.tallies.iter().chain(&report.colours) {
                println!("{why}");
            }
            println!("checked {} cases, {} events: {} differ", report.cases, report.events, report.mismatches.len());
            if !report.ok() {
                println!(
                    "{} merge cycles, {} half-written Open311 requests, {} assessment tallies differ, {} colour logs differ",
                    report.merge_cycles.len(),
                    report.open311_orphans.len(),
                    report.tallies.len(),
                    report.colours.len()
                );
            }
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(3) })
        }
        Cmd::Backup { store, out } => cmd_backup::backup(&store, &out).await,
        Cmd::Restore { from, db, force } => cmd_backup::restore(&from, &db, force).await,
        Cmd::Calendar { year, config } => {
            let (_, calendar) = config::load(config.as_deref())?;
            for day in calendar.exceptions(year)? {
                println!("{}", day.line());
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::User(cmd) => cmd_accounts::user(cmd).await,
        Cmd::Enterprise(cmd) => Ok(cmd_enterprise::run(cmd)),
        Cmd::Key(cmd) => cmd_accounts::key(cmd).await,
        Cmd::Import(args) => cmd_import::import(args).await,
        Cmd::Bench(BenchCmd::Import(args)) => cmd_import::bench(args).await,
        Cmd::Devices(cmd) => {
            cmd_alarms::run(cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Model(cmd) => {
            cmd_model::run(cmd)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Openapi(args) => {
            cmd_openapi::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Hot(args) => {
            cmd_hot::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Geo(cmd) => {
            cmd_geo::run(cmd)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Bench(BenchCmd::Intake { db, cases, clients }) => {
            bench::intake(&db, cases, clients).await?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Bench(BenchCmd::Reads { store, demo_cases, anonymous, seconds }) => {
            let limits = config::load_limits(store.config.as_deref())?;
            let desk = open_desk(&store).await?;
            if desk.store().max_case_id().await?.is_none() {
                load_demo(&desk, demo_cases, 2026, None).await?;
            }
            bench_reads::reads(&desk, anonymous, seconds, limits.anonymous_reads).await?;
            desk.store().close().await;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Bench(BenchCmd::Pages { store, requests, messages }) => {
            let desk = open_desk(&store).await?;
            anyhow::ensure!(
                desk.store().max_case_id().await?.is_some(),
                "the store is empty: fill it first with `jiesu demo --db URL --cases N`"
            );
            desk.store().start_search_indexer();
            let desk = with_smart_intake(desk, None)?;
            let ok = bench_pages::pages(&desk, requests.max(1), &messages).await?;
            desk.store().close().await;
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Cmd::Bench(BenchCmd::Alarms { db, broker, alarms }) => {
            let ok = bench_alarms::alarms(&db, &broker, alarms.max(1)).await?;
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Cmd::Bench(BenchCmd::Duplicates { data }) => {
            cmd_dups::run(&data)?;
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
