//! `jiesu bench intake`: the full create (validate + route + deadline + insert case and events,
//! all-or-nothing per case) against raw single-row inserts (autocommit: one transaction each) on
//! the same store, through the same driver and writer connection, with the same durability
//! settings, in the same run — each both by one client and by `clients` concurrent clients.
//!
//! The desk is the server's: with the district's gazetteer and unit grid (the default outline
//! when present) and the category classifier, so each case's place is found, its grid looked up
//! and its text classified (the given category confirmed or overridden) as on `jiesu serve`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role};
use jiesu_domain::workflow::Actor;
use jiesu_store::bench::RawInserts;

/// Runs `n` jobs numbered from `first` with `clients` concurrent workers; returns jobs per second.
async fn rate<F, Fut>(n: usize, first: usize, clients: usize, job: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (job, next) = (job.clone(), next.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<(), anyhow::Error>(());
                }
                job(first + i).await?;
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

async fn raw_insert(raw: RawInserts, i: usize) -> anyhow::Result<()> {
    raw.insert(i as i64, &format!("小区楼道堆物影响通行，希望尽快清理。{i}"), Utc::now().timestamp_millis()).await?;
    Ok(())
}

struct Intake {
    desk: Desk,
    leaves: Vec<String>,
    streets: Vec<String>,
    start: DateTime<Utc>,
}

impl Intake {
    async fn create(&self, i: usize) -> anyhow::Result<()> {
        let case = NewCase {
            channel: Channel::Hotline,
            kind: CaseKind::Complaint,
            title: None,
            text: format!("小区楼道堆物影响通行，希望尽快清理。{i}"),
            category: self.leaves[i % self.leaves.len()].clone(),
            place: Place {
                address: Some("东城区东四北大街".into()),
                lat: Some(39.93),
                lon: Some(116.417),
                street: Some(self.streets[i % self.streets.len()].clone()),
                community: None,
                grid: None,
            },
            contact: Contact { name: Some("测试".into()), phone: Some("13800000000".into()), email: None },
            external_id: None,
        };
        let operator = Actor { user: "bench".into(), role: Role::Operator, unit: None };
        self.desk.receive(operator, case, self.start + Duration::milliseconds(i as i64), true).await?;
        Ok(())
    }
}

/// Runs the intake benchmark with `n` cases per measurement and prints its figures, ending with
/// the three contract lines (the concurrent figures against the better raw figure).
pub async fn intake(db: &str, n: usize, clients: usize) -> anyhow::Result<()> {
    let store = crate::config::open_store(db, None).await?;
    let catalog = Catalog::dongcheng();
    let leaves = catalog.leaf_categories().iter().map(|c| c.code.clone()).collect();
    let streets = catalog.streets().iter().map(|s| s.code.clone()).collect();
    let desk = crate::with_smart_intake(Desk::new(store.clone(), catalog, Calendar::china(), Config::default()), None)?;
    let clients = clients.max(1);
    println!("backend: {:?}, cases per run: {n}, concurrent clients: {clients}", store.backend());

    let raw = RawInserts::create(&store).await?;
    let r = raw.clone();
    let raw_seq = rate(n, 0, 1, move |i| raw_insert(r.clone(), i)).await?;
    let r = raw.clone();
    let raw_par = rate(n, n, clients, move |i| raw_insert(r.clone(), i)).await?;
    raw.drop_table().await?;

    let intake = Arc::new(Intake { desk, leaves, streets, start: Utc::now() });
    let it = intake.clone();
    let seq = rate(n, 0, 1, move |i| {
        let it = it.clone();
        async move { it.create(i).await }
    })
    .await?;
    let it = intake.clone();
    let par = rate(n, n, clients, move |i| {
        let it = it.clone();
        async move { it.create(i).await }
    })
    .await?;
    store.close().await;

    println!("{:<28}{:>12}{:>14}", "", "1 client", format!("{clients} clients"));
    println!("{:<28}{raw_seq:>12.0}{raw_par:>14.0}", "raw single-row inserts/s");
    println!("{:<28}{seq:>12.0}{par:>14.0}", "full intake cases/s");
    println!("{:<28}{:>12.3}{:>14.3}", "ratio", seq / raw_seq, par / raw_par);
    let raw = raw_seq.max(raw_par);
    println!("intake_cases_per_s: {par:.0}");
    println!("raw_insert_per_s: {raw:.0}");
    println!("ratio: {:.3}", par / raw);
    Ok(())
}
