//! Times what the 考核 page asks of the desk on a store, from the tallies and by the fold the
//! page used before them (every case of the month and the month before, from its JSON state):
//! `cargo run --release -p jiesu-core --example assessment_speed -- URL [YYYY-MM] [ROUNDS]`
//! (JIESU_DATA_KEY for PostgreSQL).

use std::time::Instant;

use jiesu_core::{Config, Desk};
use jiesu_domain::assessment::{Period, rank};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::UnitKind;

fn p99(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    (at(0.5), at(0.99))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).expect("a store URL");
    // PostgreSQL stores need the data key (JIESU_DATA_KEY), as `jiesu` does.
    let data_key =
        std::env::var("JIESU_DATA_KEY").ok().map(|k| jiesu_store::DataKey::parse(&k).expect("JIESU_DATA_KEY"));
    let opts = jiesu_store::StoreOptions { data_key, ..Default::default() };
    let store = jiesu_store::Store::open(url, opts).await.expect("open the store");
    let desk = Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default());
    let now = chrono::Utc::now();
    let period: Period = match args.get(2) {
        Some(p) => p.parse().expect("YYYY-MM"),
        None => Period::of(now, desk.config().tz).previous(),
    };
    let rounds: usize = args.get(3).map_or(20, |r| r.parse().expect("a number"));
    let mut tallied = Vec::new();
    let mut folded = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let (s, d, trend) = tokio::try_join!(
            desk.ranking(period, UnitKind::Street, now),
            desk.ranking(period, UnitKind::Department, now),
            desk.trend(period, 12, Some("S001")),
        )
        .unwrap();
        tallied.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        // The page before: ranking per kind, each folding this month and the month before.
        let (cur, prev, cur2, prev2) = tokio::try_join!(
            desk.assessment_by_fold(period, now),
            desk.assessment_by_fold(period.previous(), now),
            desk.assessment_by_fold(period, now),
            desk.assessment_by_fold(period.previous(), now),
        )
        .unwrap();
        let (s2, d2) = (rank(&cur, &prev, UnitKind::Street), rank(&cur2, &prev2, UnitKind::Department));
        folded.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!((&s, &d), (&s2, &d2), "the tallies and the fold agree");
        assert_eq!(trend.len(), 12);
    }
    let (a50, a99) = p99(tallied);
    let (b50, b99) = p99(folded);
    println!("period {period}, {rounds} rounds");
    println!("tallies (2 rankings + 12-month trend): p50 {a50:.1} ms, p99 {a99:.1} ms");
    println!("fold (2 rankings, as before):          p50 {b50:.1} ms, p99 {b99:.1} ms");
}
