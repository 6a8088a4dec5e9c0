//! `jiesu bench reads`: do the staff keep their latency while the public reads Open311?
//!
//! One store (filled with demo data when empty), served on a real socket by the real router,
//! twice: without the limits on anonymous reads (as before they existed), then with the limits
//! given (the deployment's defaults unless told). Each time, one staff client (a dispatcher's API
//! key) lists and opens cases through the JSON API, first alone, then while `anonymous` clients —
//! each from its own loopback address, so the per-IP limit alone cannot shed them — list 1,000
//! requests at a time through `requests.json` as fast as they can. Prints the staff's p50/p99
//! and what the anonymous clients got (answered, refused with 429).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jiesu_core::Desk;
use jiesu_domain::model::Role;
use jiesu_server::{AnonymousReads, AppState};

/// What one measurement saw.
struct Run {
    staff: Vec<Duration>,
    anonymous_ok: u64,
    anonymous_refused: u64,
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Serves `desk` with `reads` on a fresh port until the returned sender is dropped.
pub(crate) async fn start(
    desk: &Desk,
    reads: AnonymousReads,
) -> anyhow::Result<(SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let mut state = AppState::new(desk.clone());
    state.anonymous_reads = reads;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(jiesu_server::serve(state, listener, async {
        let _ = stopped.await;
    }));
    Ok((addr, stop))
}

/// The staff client for `seconds` (and `anonymous` public clients meanwhile).
async fn measure(addr: SocketAddr, key: &str, ids: &[i64], anonymous: usize, seconds: u64) -> anyhow::Result<Run> {
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut public = tokio::task::JoinSet::new();
    for i in 0..anonymous {
        let (stop, ok, refused) = (stop.clone(), ok.clone(), refused.clone());
        // 127.0.0.2, 127.0.0.3, …: one address per client.
        let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i as u8));
        let client = reqwest::Client::builder().local_address(from).build()?;
        let url = format!("http://{addr}/open311/v2/requests.json?page_size=1000");
        public.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match client.get(&url).send().await {
                    Ok(r) if r.status() == 429 => {
                        refused.fetch_add(1, Ordering::Relaxed);
                        // A polite client waits as told; a greedy one (this) retries at once.
                        let _ = r.bytes().await;
                    }
                    Ok(r) => {
                        let ok_status = r.status().is_success();
                        let _ = r.bytes().await;
                        if ok_status {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => tokio::task::yield_now().await,
                }
            }
        });
    }
    let staff = reqwest::Client::new();
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut n = 0usize;
    while started.elapsed() < Duration::from_secs(seconds) {
        let path = if n.is_multiple_of(2) {
            "/api/v1/cases?status=dispatched&limit=50".to_string()
        } else {
            format!("/api/v1/cases/{}", ids[n / 2 % ids.len()])
        };
        let t = Instant::now();
        let r = staff.get(format!("http://{addr}{path}")).bearer_auth(key).send().await?;
        let status = r.status();
        r.bytes().await?;
        anyhow::ensure!(status.is_success(), "staff request {path}: {status}");
        latencies.push(t.elapsed());
        n += 1;
    }
    stop.store(true, Ordering::Relaxed);
    while public.join_next().await.is_some() {}
    latencies.sort();
    Ok(Run {
        staff: latencies,
        anonymous_ok: ok.load(Ordering::Relaxed),
        anonymous_refused: refused.load(Ordering::Relaxed),
    })
}

fn report(label: &str, r: &Run, seconds: u64) {
    println!(
        "{label:<44} staff p50 {:>7.2} ms  p99 {:>7.2} ms  ({} requests)  anonymous: {:.1}/s answered, {:.1}/s refused (429)",
        percentile(&r.staff, 0.5),
        percentile(&r.staff, 0.99),
        r.staff.len(),
        r.anonymous_ok as f64 / seconds as f64,
        r.anonymous_refused as f64 / seconds as f64,
    );
}

/// Runs the benchmark on `desk` (a store with cases in the last 90 days).
pub async fn reads(desk: &Desk, anonymous: usize, seconds: u64, limits: AnonymousReads) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let name = format!("bench-dispatcher-{}", now.timestamp_millis());
    let (_, key) = desk.store().create_api_key(&name, Role::Dispatcher, None, now).await?;
    let recent = desk
        .store()
        .list(
            &jiesu_store::Scope::All,
            &jiesu_store::CaseFilter::default(),
            jiesu_store::Page { limit: 200, before: None },
        )
        .await?;
    let ids: Vec<i64> = recent.iter().map(|r| r.id).collect();
    anyhow::ensure!(!ids.is_empty(), "the store has no cases: fill it first (jiesu demo)");
    let unlimited = AnonymousReads::new(u32::MAX, 1 << 20);
    for (label, reads) in [("without limits on anonymous reads", unlimited), ("with limits on anonymous reads", limits)]
    {
        let (addr, stop) = start(desk, reads).await?;
        let alone = measure(addr, &key, &ids, 0, seconds).await?;
        report(&format!("{label}: staff alone"), &alone, seconds);
        let busy = measure(addr, &key, &ids, anonymous, seconds).await?;
        report(&format!("{label}: + {anonymous} anonymous"), &busy, seconds);
        drop(stop);
    }
    Ok(())
}
