//! The tamper-evident record: each case's events form a keyed hash chain.
//!
//! An event's `hash` is HMAC-SHA-256 over its stored columns (canonically encoded: each value
//! tagged and length-prefixed, NULL distinct from empty) and the hash of the case's previous
//! event. The case row's `chain` is a MAC of its last event's hash, so that dropping events at
//! the end shows too. The key is derived from the deployment's data key ([`crate::DataKey`]):
//! someone with only database access can read every hash but cannot make a valid one, so an
//! edited, removed, reordered or inserted event breaks the chain (`jiesu check` verifies it).
//!
//! What the chain cannot show: a whole store (or a case's row and all its events) put back to an
//! earlier copy of itself. That is what backups are for.

use hmac::{KeyInit, Mac};
use sqlx::Row;

use crate::{DataKey, StoreError};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Domain separation of the derived key and of the two kinds of MAC.
const KEY_LABEL: &[u8] = b"jiesu event chain v1";
const LINK: u8 = b'e';
const HEAD: u8 = b'h';

/// The stored columns of one event, as the chain covers them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventColumns<'a> {
    pub seq: i64,
    pub at: i64,
    pub actor_user: &'a str,
    pub actor_role: &'a str,
    pub actor_unit: Option<&'a str>,
    pub action: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: &'a str,
    /// The event as stored (JSON text, byte for byte).
    pub body: &'a str,
}

/// Makes and verifies chain hashes under the key derived from the data key.
#[derive(Clone)]
pub(crate) struct Chainer {
    mac: HmacSha256,
}

impl std::fmt::Debug for Chainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Chainer(…)")
    }
}

impl Chainer {
    pub(crate) fn new(key: &DataKey) -> Chainer {
        // A key of its own, so that a chain hash says nothing about the sealing key.
        let mut derive = HmacSha256::new_from_slice(key.bytes()).expect("HMAC takes any key length");
        derive.update(KEY_LABEL);
        let derived = derive.finalize().into_bytes();
        Chainer { mac: HmacSha256::new_from_slice(&derived).expect("HMAC takes any key length") }
    }

    /// The hash of `event` following `prev` (None: the case's first event).
    pub(crate) fn link(&self, prev: Option<&str>, event: &EventColumns<'_>) -> String {
        let mut m = self.mac.clone();
        m.update(&[LINK]);
        opt(&mut m, prev);
        m.update(&event.seq.to_be_bytes());
        m.update(&event.at.to_be_bytes());
        field(&mut m, event.actor_user);
        field(&mut m, event.actor_role);
        opt(&mut m, event.actor_unit);
        field(&mut m, event.action);
        opt(&mut m, event.from_status);
        field(&mut m, event.to_status);
        field(&mut m, event.body);
        hex(&m.finalize().into_bytes())
    }

    /// The hashes of `events` in order, the first following `prev`.
    pub(crate) fn links(&self, prev: Option<&str>, events: &[EventColumns<'_>]) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(events.len());
        for e in events {
            let h = self.link(out.last().map(String::as_str).or(prev), e);
            out.push(h);
        }
        out
    }

    /// What the case row keeps: a MAC of the last event's hash.
    pub(crate) fn head(&self, last: &str) -> String {
        let mut m = self.mac.clone();
        m.update(&[HEAD]);
        field(&mut m, last);
        hex(&m.finalize().into_bytes())
    }
}

fn field(m: &mut HmacSha256, s: &str) {
    m.update(&[1]);
    m.update(&(s.len() as u64).to_be_bytes());
    m.update(s.as_bytes());
}

fn opt(m: &mut HmacSha256, s: Option<&str>) {
    match s {
        Some(s) => field(m, s),
        None => m.update(&[0]),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// What is wrong with one case's chain, if anything: `events` are (columns, stored hash) in
/// `seq` order, `head` the case row's `chain`.
pub(crate) fn verify(
    chainer: &Chainer,
    events: &[(EventColumns<'_>, Option<String>)],
    head: Option<&str>,
) -> Option<String> {
    let mut prev: Option<String> = None;
    for (i, (e, stored)) in events.iter().enumerate() {
        if e.seq != i as i64 + 1 {
            return Some(format!(
                "event chain: event {} stands where event {} should (removed or reordered)",
                e.seq,
                i + 1
            ));
        }
        let Some(stored) = stored else {
            return Some(format!("event chain: event {} has no hash", e.seq));
        };
        let expected = chainer.link(prev.as_deref(), e);
        if *stored != expected {
            return Some(format!(
                "event chain: event {} does not match its hash (edited, removed or reordered at or before it)",
                e.seq
            ));
        }
        prev = Some(expected);
    }
    match (prev, head) {
        (None, _) => None,
        (Some(last), Some(head)) if chainer.head(&last) == head => None,
        (Some(_), Some(_)) => Some(
            "event chain: the case's last event is not the one its row recorded (events removed or added at the end)"
                .into(),
        ),
        (Some(_), None) => Some("event chain: the case row has no chain head".into()),
    }
}

/// An event row as stored, with its hash.
struct StoredEvent {
    case_id: i64,
    seq: i64,
    at: i64,
    actor_user: String,
    actor_role: String,
    actor_unit: Option<String>,
    action: String,
    from_status: Option<String>,
    to_status: String,
    body: String,
    hash: Option<String>,
}

impl StoredEvent {
    fn columns(&self) -> EventColumns<'_> {
        EventColumns {
            seq: self.seq,
            at: self.at,
            actor_user: &self.actor_user,
            actor_role: &self.actor_role,
            actor_unit: self.actor_unit.as_deref(),
            action: &self.action,
            from_status: self.from_status.as_deref(),
            to_status: &self.to_status,
            body: &self.body,
        }
    }
}

/// Cases chained per transaction when an older store is chained at start-up.
const CHAIN_BATCH: i64 = 500;

impl crate::Store {
    /// Events of the cases with ids in `[first_id, last_id]`, by case and `seq`, read through
    /// `pool`.
    async fn stored_events(
        &self,
        pool: &sqlx::AnyPool,
        first_id: i64,
        last_id: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT case_id, seq, at, actor_user, actor_role, actor_unit, action, from_status, to_status, body, hash \
             FROM events WHERE case_id BETWEEN $1 AND $2 ORDER BY case_id, seq",
        )
        .bind(first_id)
        .bind(last_id)
        .fetch_all(pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredEvent {
                    case_id: r.try_get("case_id")?,
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    actor_user: r.try_get("actor_user")?,
                    actor_role: r.try_get("actor_role")?,
                    actor_unit: r.try_get("actor_unit")?,
                    action: r.try_get("action")?,
                    from_status: r.try_get("from_status")?,
                    to_status: r.try_get("to_status")?,
                    body: r.try_get("body")?,
                    hash: r.try_get("hash")?,
                })
            })
            .collect()
    }

    /// Cases with ids in `[first_id, last_id]` whose event chain does not verify, with what is
    /// wrong (for `jiesu check`).
    pub async fn chain_faults_between(&self, first_id: i64, last_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let cases = sqlx::query("SELECT id, chain FROM cases WHERE id BETWEEN $1 AND $2 ORDER BY id")
            .bind(first_id)
            .bind(last_id)
            .fetch_all(&self.pool)
            .await?;
        let events = self.stored_events(&self.pool, first_id, last_id).await?;
        let mut events = events.iter().peekable();
        let mut faults = Vec::new();
        for c in &cases {
            let id: i64 = c.try_get("id")?;
            let head: Option<String> = c.try_get("chain")?;
            let mut mine = Vec::new();
            while let Some(e) = events.next_if(|e| e.case_id <= id) {
                if e.case_id == id {
                    mine.push((e.columns(), e.hash.clone()));
                }
            }
            if let Some(why) = verify(&self.chainer, &mine, head.as_deref()) {
                faults.push((id, why));
            }
        }
        Ok(faults)
    }

    /// Chains the events written before the chain existed (once, at the first start after
    /// migration 0007, which leaves a `chain_pending` mark in `meta`). Only then: a hash found
    /// missing later is reported by `jiesu check`, never filled in.
    pub(crate) async fn chain_unchained(&self) -> Result<(), StoreError> {
        let pending: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE name = 'chain_pending'")
            .fetch_optional(&self.writer)
            .await?;
        if pending.is_none() {
            return Ok(());
        }
        let (mut after, mut chained) = (0i64, 0usize);
        loop {
            let ids: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM cases WHERE chain IS NULL AND id > $1 ORDER BY id LIMIT $2")
                    .bind(after)
                    .bind(CHAIN_BATCH)
                    .fetch_all(&self.writer)
                    .await?;
            let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else { break };
            let events = self.stored_events(&self.writer, first, last).await?;
            let mut tx = self.write_tx().await?;
            for id in &ids {
                let mine: Vec<&StoredEvent> = events.iter().filter(|e| e.case_id == *id).collect();
                let columns: Vec<EventColumns<'_>> = mine.iter().map(|e| e.columns()).collect();
                let hashes = self.chainer.links(None, &columns);
                for (e, h) in mine.iter().zip(&hashes) {
                    sqlx::query("UPDATE events SET hash = $1 WHERE case_id = $2 AND seq = $3 AND hash IS NULL")
                        .bind(h)
                        .bind(id)
                        .bind(e.seq)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(last) = hashes.last() {
                    sqlx::query("UPDATE cases SET chain = $1 WHERE id = $2 AND chain IS NULL")
                        .bind(self.chainer.head(last))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    chained += 1;
                }
            }
            tx.commit().await?;
            after = last;
        }
        sqlx::query("DELETE FROM meta WHERE name = 'chain_pending'").execute(&self.writer).await?;
        if chained > 0 {
            tracing::info!(cases = chained, "chained the events of cases written before the tamper-evident record");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: i64, body: &str) -> EventColumns<'_> {
        EventColumns {
            seq,
            at: 1_700_000_000_000 + seq,
            actor_user: "op",
            actor_role: "operator",
            actor_unit: None,
            action: "receive",
            from_status: None,
            to_status: "received",
            body,
        }
    }

    #[test]
    fn a_chain_verifies_and_breaks_on_any_change() {
        let c = Chainer::new(&DataKey::generate());
        let events = [ev(1, "{\"a\":1}"), ev(2, "{\"b\":2}"), ev(3, "{\"c\":3}")];
        let hashes = c.links(None, &events);
        let head = c.head(&hashes[2]);
        let stored = |evs: &[EventColumns<'static>], hs: &[String]| -> Vec<_> {
            evs.iter().copied().zip(hs.iter().cloned().map(Some)).collect()
        };
        assert_eq!(verify(&c, &stored(&events, &hashes), Some(&head)), None);
        // Edited body, edited column, NULL vs empty.
        let mut edited = events;
        edited[1].body = "{\"b\":3}";
        assert!(verify(&c, &stored(&edited, &hashes), Some(&head)).unwrap().contains("event 2"));
        let mut unit = events;
        unit[0].actor_unit = Some("");
        assert!(verify(&c, &stored(&unit, &hashes), Some(&head)).is_some());
        // Removed in the middle (renumbered), and at the end.
        let mut removed = [events[0], events[2]];
        removed[1].seq = 2;
        assert!(verify(&c, &stored(&removed, &[hashes[0].clone(), hashes[2].clone()]), Some(&head)).is_some());
        assert!(verify(&c, &stored(&events[..2], &hashes[..2]), Some(&head)).unwrap().contains("at the end"));
        // Swapped.
        let mut swapped = [events[1], events[0], events[2]];
        (swapped[0].seq, swapped[1].seq) = (1, 2);
        assert!(
            verify(&c, &stored(&swapped, &[hashes[1].clone(), hashes[0].clone(), hashes[2].clone()]), Some(&head))
                .is_some()
        );
        // Another key cannot make a valid chain.
        let other = Chainer::new(&DataKey::generate());
        assert_ne!(other.links(None, &events), hashes);
        // Continuing a chain equals making it at once.
        assert_eq!(c.links(Some(&hashes[0]), &events[1..]), hashes[1..]);
    }
}
