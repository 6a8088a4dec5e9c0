//! 来电弹屏: a caller's earlier cases, found by a keyed hash of their normalised number (migration
//! 0014), never by the number itself.
//!
//! Each case row keeps `phone_key`: HMAC-SHA-256 of the caller's number in its canonical form
//! ([`jiesu_domain::phone::normalise`]) under a key derived from the data key (as the event chain
//! derives its own), written with the sealed contact on every insert (single, batched, bulk,
//! Open311). Someone with the database alone cannot test a guessed number against it. Rows
//! written before 0014 are filled when the store opens ([`Store::fill_phone_keys`]). Each lookup
//! is recorded (`caller_lookups`: who, when, which hash, how many found — not the number).

use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use jiesu_domain::access::Scope;
use jiesu_domain::draft::Contact;
use jiesu_domain::workflow::Actor;
use sqlx::{AssertSqlSafe, Row};

use crate::cases::{Arg, CASE_COLUMNS, CaseRecord, Where, decode_case, ms, scope_clause};
use crate::{DataKey, Store, StoreError};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Domain separation of the derived key.
const KEY_LABEL: &[u8] = b"jiesu caller lookup v1";

/// Makes the keyed hashes of normalised phone numbers.
pub(crate) struct PhoneKeyer {
    mac: HmacSha256,
}

impl std::fmt::Debug for PhoneKeyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneKeyer(…)")
    }
}

impl PhoneKeyer {
    pub(crate) fn new(key: &DataKey) -> PhoneKeyer {
        // A key of its own: a phone key says nothing about the sealing or the chain key.
        let mut derive = HmacSha256::new_from_slice(key.bytes()).expect("HMAC takes any key length");
        derive.update(KEY_LABEL);
        let derived = derive.finalize().into_bytes();
        PhoneKeyer { mac: HmacSha256::new_from_slice(&derived).expect("HMAC takes any key length") }
    }

    /// The key of a number already in canonical form.
    pub(crate) fn key(&self, normalised: &str) -> String {
        let mut m = self.mac.clone();
        m.update(normalised.as_bytes());
        crate::chain::hex(&m.finalize().into_bytes())
    }

    /// The `phone_key` column of a case with `contact`: the key of its number, or '' when it has
    /// no number that normalises.
    pub(crate) fn column(&self, contact: &Contact) -> String {
        contact.phone.as_deref().and_then(jiesu_domain::phone::normalise).map_or_else(String::new, |n| self.key(&n))
    }
}

/// One recorded lookup of a caller's cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerLookup {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (user name, role and unit as they looked up).
    pub actor: Actor,
    /// Which number, as its keyed hash (the number itself is never stored).
    pub phone_key: String,
    /// How many cases were found.
    pub found: u64,
}

/// A caller's cases as found: the newest `cases` and how many there are in all.
#[derive(Debug, Clone)]
pub struct CallerCases {
    /// The newest first.
    pub cases: Vec<CaseRecord>,
    /// How many cases within the scope have this number.
    pub total: u64,
}

impl Store {
    /// The cases within `scope` whose caller had the number `normalised` (canonical form, see
    /// [`jiesu_domain::phone::normalise`]), newest first, at most `limit`; the lookup is recorded
    /// as made by `actor` at `at` (by its hash and the number found, never the number). Whether
    /// `actor` may look up is the desk's question.
    pub async fn caller_cases(
        &self,
        scope: &Scope,
        normalised: &str,
        limit: u32,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CallerCases, StoreError> {
        let key = self.phones.key(normalised);
        let mut w = Where::default();
        w.and("phone_key = ?", Arg::Text(key.clone()));
        scope_clause(&mut w, scope);
        let count_sql = format!("SELECT COUNT(*) AS n FROM cases{}", w.sql);
        let list_sql =
            format!("SELECT {CASE_COLUMNS} FROM cases{} ORDER BY id DESC LIMIT {}", w.sql, w.next_placeholder());
        let mut w2 = Where::default();
        w2.and("phone_key = ?", Arg::Text(key.clone()));
        scope_clause(&mut w2, scope);
        let total: i64 = w.bind(sqlx::query(AssertSqlSafe(count_sql))).fetch_one(&self.pool).await?.try_get("n")?;
        let rows = w2
            .bind(sqlx::query(AssertSqlSafe(list_sql)))
            .bind(i64::from(limit.clamp(1, 200)))
            .fetch_all(&self.pool)
            .await?;
        let cases = rows.iter().map(|r| decode_case(r, &self.sealer)).collect::<Result<Vec<_>, _>>()?;
        sqlx::query(
            "INSERT INTO caller_lookups (at, actor_user, actor_role, actor_unit, phone_key, found) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(ms(at))
        .bind(&actor.user)
        .bind(actor.role.code())
        .bind(&actor.unit)
        .bind(&key)
        .bind(total)
        .execute(&self.writer)
        .await?;
        Ok(CallerCases { cases, total: total as u64 })
    }

    /// The latest `limit` recorded lookups, newest first (for audit).
    pub async fn caller_lookups(&self, limit: u32) -> Result<Vec<CallerLookup>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, actor_user, actor_role, actor_unit, phone_key, found FROM caller_lookups \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let at: i64 = r.try_get("at")?;
                let role: String = r.try_get("actor_role")?;
                Ok(CallerLookup {
                    at: DateTime::from_timestamp_millis(at)
                        .ok_or_else(|| StoreError::Corrupt(format!("caller lookup time {at}")))?,
                    actor: Actor {
                        user: r.try_get("actor_user")?,
                        role: role.parse().map_err(|e| StoreError::Corrupt(format!("caller lookup role: {e}")))?,
                        unit: r.try_get("actor_unit")?,
                    },
                    phone_key: r.try_get("phone_key")?,
                    found: r.try_get::<i64, _>("found")? as u64,
                })
            })
            .collect()
    }

    /// Fills `phone_key` of the cases written before migration 0014 (SQL cannot compute the
    /// HMAC): opens each contact, normalises its number and writes its key (or '' when it has
    /// none). Runs when the store opens, 1,000 cases a transaction; a no-op once done. Returns
    /// how many cases were filled.
    pub async fn fill_phone_keys(&self) -> Result<usize, StoreError> {
        let mut filled = 0usize;
        loop {
            let rows = sqlx::query("SELECT id, contact FROM cases WHERE phone_key IS NULL ORDER BY id LIMIT 1000")
                .fetch_all(&self.writer)
                .await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = self.write_tx().await?;
            for r in &rows {
                let id: i64 = r.try_get("id")?;
                let sealed: Option<String> = r.try_get("contact")?;
                let key = match sealed {
                    Some(s) => {
                        let plain = self.sealer.open(&s, &format!("the contact of case {id}"))?;
                        let contact: Contact = serde_json::from_slice(&plain)
                            .map_err(|e| StoreError::Corrupt(format!("case {id} contact: {e}")))?;
                        self.phones.column(&contact)
                    }
                    None => String::new(),
                };
                sqlx::query("UPDATE cases SET phone_key = $1 WHERE id = $2 AND phone_key IS NULL")
                    .bind(key)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            filled += rows.len();
        }
        if filled > 0 {
            tracing::info!(cases = filled, "filled the caller keys (来电弹屏) of cases written before migration 0014");
        }
        Ok(filled)
    }
}
