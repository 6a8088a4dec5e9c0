//! `jiesu bench intake`: the full create (validate + route + insert case + events, one transaction
//! per case) against a raw loop of single-row inserts on the same store, same driver, same
//! durability settings, in the same run.

use std::time::Instant;

use anyhow::Context;
use chrono::{Duration, Utc};
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role};
use jiesu_domain::workflow::Actor;
use jiesu_store::Store;
use sqlx::Executor;

/// Runs the intake benchmark with `n` cases and prints its figures, ending with the three
/// contract lines.
pub async fn intake(db: &str, n: usize) -> anyhow::Result<()> {
    let store = Store::connect(db).await.with_context(|| format!("opening store {db}"))?;
    let catalog = Catalog::dongcheng();
    let leaves: Vec<String> = catalog.leaf_categories().iter().map(|c| c.code.clone()).collect();
    let streets: Vec<String> = catalog.streets().iter().map(|s| s.code.clone()).collect();
    let desk = Desk::new(store.clone(), catalog, Calendar::china(), Config::default());
    println!("backend: {:?}, cases: {n}", store.backend());

    // Raw baseline: one row, one transaction, no validation, no events.
    let pool = store.write_pool();
    pool.execute("DROP TABLE IF EXISTS bench_raw").await?;
    pool.execute("CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, body TEXT NOT NULL, created BIGINT NOT NULL)").await?;
    let started = Instant::now();
    for i in 0..n {
        // Autocommit: each statement is its own transaction, committed before it returns.
        sqlx::query("INSERT INTO bench_raw (id, body, created) VALUES ($1, $2, $3)")
            .bind(i as i64)
            .bind(format!("小区楼道堆物 {i}"))
            .bind(Utc::now().timestamp_millis())
            .execute(pool)
            .await?;
    }
    let raw = n as f64 / started.elapsed().as_secs_f64();
    pool.execute("DROP TABLE bench_raw").await?;

    let operator = Actor { user: "bench".into(), role: Role::Operator, unit: None };
    let start_at = Utc::now();
    let started = Instant::now();
    for i in 0..n {
        let case = NewCase {
            channel: Channel::Hotline,
            kind: CaseKind::Complaint,
            title: None,
            text: format!("小区楼道堆物影响通行，希望尽快清理。{i}"),
            category: leaves[i % leaves.len()].clone(),
            place: Place {
                address: Some("东城区东四北大街".into()),
                lat: Some(39.93),
                lon: Some(116.417),
                street: Some(streets[i % streets.len()].clone()),
                community: None,
                grid: None,
            },
            contact: Contact { name: Some("测试".into()), phone: Some("13800000000".into()), email: None },
            external_id: None,
        };
        desk.receive(operator.clone(), case, start_at + Duration::milliseconds(i as i64), true).await?;
    }
    let intake = n as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    println!("intake_cases_per_s: {intake:.0}");
    println!("raw_insert_per_s: {raw:.0}");
    println!("ratio: {:.3}", intake / raw);
    Ok(())
}
