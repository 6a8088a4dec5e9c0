//! The MQTT door of sensor alarms (issue 13): a consumer subscribed with QoS 1 on a persistent
//! session (clean session off, a fixed client id), acknowledging each message to the broker only
//! after its batch is committed ([`Alarms::ingest`]).
//!
//! Two tasks: one drives the connection (rumqttc's event loop: reconnects after a drop, and the
//! broker then delivers again what was not acknowledged) and hands each publish on; the other
//! takes what has arrived (up to `batch` at a time), ingests it, and acknowledges. A failed
//! ingest (store down) is retried until it commits; nothing is acknowledged before. Acks of
//! messages received on an earlier connection are not sent: the broker delivers those again on
//! the new one (with the same packet ids), and they are acknowledged there, de-duplicated.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiesu_core::alarms::{Alarms, Door, Incoming, Outcome};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::Clock;

/// The default topic filter: `jiesu/alarms/{device}`.
pub const DEFAULT_TOPIC: &str = "jiesu/alarms/+";

/// Where and how to subscribe.
#[derive(Debug, Clone)]
pub struct MqttSettings {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Client id of the persistent session (one consumer per id).
    pub client_id: String,
    /// Topic filter; the last level names the device.
    pub topic: String,
    /// The broker's credentials, if it wants them.
    pub credentials: Option<(String, String)>,
    /// Most messages ingested in one transaction.
    pub batch: usize,
}

impl MqttSettings {
    /// Settings from a URL `mqtt://[USER:PASS@]HOST[:PORT]` (port 1883 by default).
    pub fn from_url(url: &str) -> Result<MqttSettings, String> {
        let rest = url.strip_prefix("mqtt://").ok_or_else(|| format!("broker URL '{url}' must start with mqtt://"))?;
        let (credentials, host_port) = match rest.rsplit_once('@') {
            Some((cred, hp)) => {
                let (u, p) = cred.split_once(':').unwrap_or((cred, ""));
                (Some((u.to_string(), p.to_string())), hp)
            }
            None => (None, rest),
        };
        let host_port = host_port.trim_end_matches('/');
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("bad port in broker URL '{url}'"))?),
            None => (host_port, 1883),
        };
        if host.is_empty() {
            return Err(format!("broker URL '{url}' has no host"));
        }
        Ok(MqttSettings {
            host: host.to_string(),
            port,
            client_id: "jiesu-alarms".into(),
            topic: DEFAULT_TOPIC.into(),
            credentials,
            batch: 1000,
        })
    }
}

/// What the consumer has done so far.
#[derive(Debug, Default)]
pub struct ConsumerCounts {
    /// Alarms accepted.
    pub accepted: AtomicU64,
    /// Duplicates skipped.
    pub duplicates: AtomicU64,
    /// Payloads refused (counted in the store per reason too).
    pub rejected: AtomicU64,
    /// Batches committed.
    pub batches: AtomicU64,
    /// Connections made (1 + reconnects).
    pub connections: AtomicU64,
    /// Subscriptions acknowledged by the broker.
    pub subscribed: AtomicU64,
}

/// A running consumer. Dropping it does not stop it: call [`Consumer::stop`] (or abort the
/// process; what was not acknowledged is delivered again).
#[derive(Debug)]
pub struct Consumer {
    /// Counts so far.
    pub counts: Arc<ConsumerCounts>,
    driver: JoinHandle<()>,
    worker: JoinHandle<()>,
    client: AsyncClient,
}

impl Consumer {
    /// Stops at once, like a crash: nothing more is ingested or acknowledged, the connection
    /// drops without a DISCONNECT (the broker keeps the session and what was not acknowledged).
    pub fn abort(self) {
        self.worker.abort();
        self.driver.abort();
    }

    /// Stops after the batch in hand, disconnecting cleanly (the session stays on the broker).
    pub async fn stop(self) {
        self.worker.abort();
        let _ = self.worker.await;
        let _ = self.client.disconnect().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.driver.abort();
    }
}

/// Starts consuming alarms from the broker in `settings` into `alarms`, timing them by `clock`.
pub fn spawn_consumer(alarms: Alarms, settings: MqttSettings, clock: Clock) -> Consumer {
    let mut opts = MqttOptions::new(settings.client_id.clone(), settings.host.clone(), settings.port);
    opts.set_clean_session(false);
    opts.set_manual_acks(true);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_max_packet_size(64 * 1024, 64 * 1024);
    opts.set_request_channel_capacity(settings.batch * 4);
    if let Some((u, p)) = &settings.credentials {
        opts.set_credentials(u.clone(), p.clone());
    }
    let (client, mut eventloop) = AsyncClient::new(opts, settings.batch * 4);
    let counts = Arc::new(ConsumerCounts::default());
    let generation = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = mpsc::channel::<(u64, Publish)>(settings.batch * 4);

    let driver = {
        let (client, counts, generation, topic) =
            (client.clone(), counts.clone(), generation.clone(), settings.topic.clone());
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if tx.send((generation.load(Ordering::SeqCst), p)).await.is_err() {
                            return;
                        }
                    }
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        generation.fetch_add(1, Ordering::SeqCst);
                        counts.connections.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(topic = %topic, "alarm consumer connected to the broker");
                        // The session keeps the subscription; subscribing again is harmless and
                        // covers a broker that lost it.
                        if let Err(e) = client.try_subscribe(topic.clone(), QoS::AtLeastOnce) {
                            tracing::warn!(error = %e, "alarm consumer could not subscribe");
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        counts.subscribed.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "alarm consumer lost the broker; reconnecting");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        })
    };

    let worker = {
        let (client, counts, generation) = (client.clone(), counts.clone(), generation.clone());
        let max = settings.batch.max(1);
        tokio::spawn(async move {
            let mut held: Vec<(u64, Publish)> = Vec::with_capacity(max);
            while let Some(first) = rx.recv().await {
                held.clear();
                held.push(first);
                while held.len() < max {
                    match rx.try_recv() {
                        Ok(x) => held.push(x),
                        Err(_) => break,
                    }
                }
                let batch: Vec<Incoming> = held
                    .iter()
                    .map(|(_, p)| Incoming {
                        door: Door::Mqtt { topic_device: p.topic.rsplit('/').next().map(str::to_string) },
                        payload: p.payload.to_vec(),
                    })
                    .collect();
                let outcomes = loop {
                    match alarms.ingest(&batch, clock()).await {
                        Ok(o) => break o,
                        Err(e) => {
                            tracing::error!(error = %e, messages = batch.len(), "alarm batch not committed; retrying");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                };
                for o in &outcomes {
                    let c = match o {
                        Outcome::Accepted { .. } => &counts.accepted,
                        Outcome::Duplicate => &counts.duplicates,
                        Outcome::Rejected(_) => &counts.rejected,
                    };
                    c.fetch_add(1, Ordering::Relaxed);
                }
                counts.batches.fetch_add(1, Ordering::Relaxed);
                let now = generation.load(Ordering::SeqCst);
                for (g, p) in &held {
                    if *g == now && client.ack(p).await.is_err() {
                        return;
                    }
                }
            }
        })
    };
    Consumer { counts, driver, worker, client }
}
