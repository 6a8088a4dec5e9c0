//! Generates a demo year into a fresh SQLite file and prints how fast it went:
//! `cargo run --release -p jiesu-demo --example year -- [CASES] [SQLITE-PATH | postgres://…]`
//! (the store must be empty).

use jiesu_core::{Config, Desk};
use jiesu_demo::{DemoOptions, generate};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_store::Store;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let cases: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("jiesu-demo-{}", std::process::id()));
    let path = args.next().unwrap_or_else(|| dir.join("demo.db").display().to_string());
    let url = if path.starts_with("postgres") { path } else { format!("sqlite://{path}") };
    let store = Store::connect(&url).await.expect("store");
    let desk = Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default());
    let end = "2026-11-27T06:00:00Z".parse().expect("time");
    let opts = DemoOptions { cases, end, ..DemoOptions::default() };
    let report = generate(&desk, &opts, |_, _| {}).await.expect("demo");
    let secs = report.elapsed.as_secs_f64();
    println!("{report:#?}");
    println!("cases_per_s: {:.0}", report.cases as f64 / secs);
    println!("events_per_s: {:.0}", report.events as f64 / secs);
    let check = desk.check().await.expect("check");
    println!("check: {} cases, {} events, ok = {}", check.cases, check.events, check.ok());
    let _ = std::fs::remove_dir_all(&dir);
}
