//! `jiesu bench alarms`: sensor alarms through a real broker into the store (issue 13).
//!
//! Registers 300 simulated devices (ids `BA{run}-0001`…), starts the MQTT consumer (QoS 1,
//! persistent session, ack after commit) on a topic of this run, and publishes N alarms from a
//! second client: a day of device time replayed as fast as the consumer takes it, in a realistic
//! mix (mostly minor readings, some warnings, alarms and all-clears; runs of repeated alarms from
//! one device; 2 % of messages sent twice, as devices retry). Half-way the consumer is aborted
//! like a crash (no DISCONNECT, nothing more acknowledged) and a new one takes over the
//! session. The publisher keeps at most `WINDOW` messages ahead of the consumer, so a broker's
//! queue limit (mosquitto's default is 1,000 per client) is never what loses a message.
//!
//! At the end, from the store: `lost` = distinct messages published but not stored; `duplicated`
//! = messages stored or added to a case more than once (the alarms table's key forbids the first:
//! the count is of 设备告警 events repeated within a case, and of messages that both opened a case
//! and joined one).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use jiesu_core::alarms::Alarms;
use jiesu_domain::workflow::Action;
use jiesu_server::mqtt::{Consumer, ConsumerCounts, MqttSettings, spawn_consumer};
use rumqttc::{AsyncClient, MqttOptions, QoS};

use crate::StoreArgs;

/// Most messages published ahead of what the consumer has taken.
const WINDOW: u64 = 400;
/// Simulated devices.
const DEVICES: usize = 300;

/// One planned message.
struct Planned {
    device: usize,
    id: String,
    level: &'static str,
    at_ms: i64,
    resend: bool,
}

fn plan(n: usize, start_ms: i64, span_ms: i64, seed: u64) -> Vec<Planned> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out: Vec<Planned> = Vec::with_capacity(n + n / 40);
    let mut seq = vec![0u64; DEVICES];
    let mut burst: Option<(usize, u32)> = None;
    let mut i = 0usize;
    while out.iter().filter(|p| !p.resend).count() < n {
        let at_ms = start_ms + (span_ms * i as i64) / n.max(1) as i64;
        i += 1;
        // A device in trouble sends a run of alarms; otherwise anyone sends anything.
        let (device, level) = match burst {
            Some((d, left)) if left > 0 => {
                burst = Some((d, left - 1));
                (d, if left == 1 { "clear" } else { "alarm" })
            }
            _ => {
                burst = None;
                let d = (next() % DEVICES as u64) as usize;
                let r = next() % 1000;
                let level = match r {
                    0..=679 => "minor",
                    680..=849 => "warning",
                    850..=929 => "clear",
                    _ => "alarm",
                };
                if level == "alarm" && next() % 4 == 0 {
                    burst = Some((d, 2 + (next() % 4) as u32));
                }
                (d, level)
            }
        };
        seq[device] += 1;
        let p = Planned { device, id: format!("m{:07}", seq[device]), level, at_ms, resend: false };
        let again = next() % 50 == 0;
        let copy = again.then(|| Planned { device, id: p.id.clone(), level, at_ms, resend: true });
        out.push(p);
        out.extend(copy);
    }
    out
}

/// Alarms the consumers have stored.
fn taken(counts: &[Arc<ConsumerCounts>]) -> u64 {
    counts.iter().map(|c| c.accepted.load(Ordering::Relaxed)).sum()
}

async fn start(alarms: &Alarms, settings: &MqttSettings) -> anyhow::Result<Consumer> {
    let c = spawn_consumer(alarms.clone(), settings.clone(), Arc::new(Utc::now));
    let t = Instant::now();
    while c.counts.subscribed.load(Ordering::Relaxed) == 0 {
        if t.elapsed() > Duration::from_secs(10) {
            bail!(
                "the consumer did not subscribe within 10 s: is the broker at {}:{} up?",
                settings.host,
                settings.port
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(c)
}

pub(crate) async fn alarms(db: &str, broker: &str, n: usize) -> anyhow::Result<bool> {
    let mut settings = MqttSettings::from_url(broker).map_err(anyhow::Error::msg)?;
    let desk = crate::open_desk(&StoreArgs { db: db.to_string(), config: None }).await?;
    let desk = desk.with_geo(Arc::new(crate::cmd_geo::load_geo(None)?));
    let run = format!("{:x}", Utc::now().timestamp_millis() % 0xff_ffff);
    let prefix = format!("BA{run}");
    let devices = crate::cmd_alarms::demo_devices(&desk, &prefix, DEVICES, 7)?;
    let ids: Vec<String> = devices.iter().map(|d| d.id.clone()).collect();
    crate::cmd_alarms::register(&desk, devices, None).await?;
    let alarms = Alarms::new(desk.clone(), Default::default())?;
    settings.client_id = format!("jiesu-bench-{run}");
    settings.topic = format!("jiesu-bench/{run}/+");

    let now_ms = Utc::now().timestamp_millis();
    let day = 24 * 3600 * 1000;
    let planned = plan(n, now_ms - day, day - 60_000, 0x9e37_79b9_7f4a_7c15);
    let distinct = planned.iter().filter(|p| !p.resend).count() as u64;
    let total = planned.len() as u64;
    println!(
        "bench alarms: {distinct} alarms from {DEVICES} devices ({} sent twice) through {}:{}, store {:?}",
        total - distinct,
        settings.host,
        settings.port,
        desk.store().backend()
    );

    let mut consumer = start(&alarms, &settings).await?;
    let mut counts = vec![consumer.counts.clone()];
    let mut opts = MqttOptions::new(format!("jiesu-bench-pub-{run}"), settings.host.clone(), settings.port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_inflight(200);
    if let Some((u, p)) = &settings.credentials {
        opts.set_credentials(u.clone(), p.clone());
    }
    let (publisher, mut eventloop) = AsyncClient::new(opts, 1000);
    let driver = tokio::spawn(async move {
        loop {
            if let Err(e) = eventloop.poll().await {
                tracing::warn!(error = %e, "bench publisher lost the broker");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });

    let started = Instant::now();
    let mut restarted = false;
    // Distinct messages published so far, against those the consumers have stored (resends and
    // redeliveries count for nothing).
    let mut published = 0u64;
    for (k, p) in planned.iter().enumerate() {
        published += u64::from(!p.resend);
        while published.saturating_sub(taken(&counts)) >= WINDOW {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if !restarted && k as u64 >= total / 2 {
            // A crash: no DISCONNECT, the batch in hand neither committed nor acknowledged.
            consumer.abort();
            tokio::time::sleep(Duration::from_millis(200)).await;
            consumer = start(&alarms, &settings).await?;
            counts.push(consumer.counts.clone());
            restarted = true;
        }
        let at = chrono::DateTime::from_timestamp_millis(p.at_ms).unwrap_or_default().to_rfc3339();
        let body = format!(
            r#"{{"device":"{}","id":"{}","at":"{at}","level":"{}","reading":{}}}"#,
            ids[p.device],
            p.id,
            p.level,
            (k % 97) as f64 / 4.0
        );
        publisher
            .publish(format!("jiesu-bench/{run}/{}", ids[p.device]), QoS::AtLeastOnce, false, body)
            .await
            .context("publishing")?;
    }
    // Wait until every distinct message is stored (or nothing moves for 30 s).
    let (mut stored, mut last_change, mut last) = (0i64, Instant::now(), -1i64);
    while (stored as u64) < distinct && last_change.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        stored = desk.store().alarm_tally(&prefix).await?.0;
        if stored != last {
            last = stored;
            last_change = Instant::now();
        }
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    consumer.stop().await;
    let _ = publisher.disconnect().await;
    driver.abort();

    let (stored, opened, cases) = desk.store().alarm_tally(&prefix).await?;
    let lost = (distinct as i64 - stored).max(0);
    let mut duplicated = 0i64;
    for id in &cases {
        let mut seen: HashMap<(String, String), u32> = HashMap::new();
        let events = desk.store().events(*id).await?;
        let case = desk.store().case(*id).await?;
        if let Some((d, m)) =
            case.case.external_id.as_deref().and_then(|x| x.strip_prefix("alarm:")).and_then(|x| x.split_once(':'))
        {
            seen.insert((d.to_string(), m.to_string()), 1);
        }
        for e in events {
            if let Action::Alarm { device, message, .. } = e.action {
                *seen.entry((device, message)).or_insert(0) += 1;
            }
        }
        duplicated += seen.values().map(|n| i64::from(n.saturating_sub(1))).sum::<i64>();
    }
    let redelivered: u64 = counts.iter().map(|c| c.duplicates.load(Ordering::Relaxed)).sum();
    let rate = stored as f64 / elapsed.as_secs_f64();
    println!(
        "consumer: {} connections, {} batches, {redelivered} duplicates skipped (resends and redeliveries), restart at {} of {total}",
        counts.iter().map(|c| c.connections.load(Ordering::Relaxed)).sum::<u64>(),
        counts.iter().map(|c| c.batches.load(Ordering::Relaxed)).sum::<u64>(),
        total / 2
    );
    println!("seconds: {:.2}", elapsed.as_secs_f64());
    println!("alarms_per_s: {rate:.0}");
    println!("cases_opened: {opened}");
    println!("lost: {lost}");
    println!("duplicated: {duplicated}");
    desk.store().close().await;
    Ok(lost == 0 && duplicated == 0)
}
