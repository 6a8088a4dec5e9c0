//! People and machines who use jiesu: users with argon2 password hashes, their login sessions,
//! and API keys. Secrets never reach the database: a session token or an API key is stored as its
//! SHA-256 (both are 256-bit random values, so a fast hash is enough), a password as an argon2id
//! PHC string. Roles and units are stored as codes; the caller checks them against the catalog.

use chrono::{DateTime, Duration, Utc};
use jiesu_domain::model::Role;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::cases::ms;
use crate::{Store, StoreError};

/// Prefix of every API key, so that a leaked key is recognisable (e.g. by secret scanners).
pub const API_KEY_PREFIX: &str = "jsk_";
/// How stale `last_used_at` may get before a use of the key updates it.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

/// A person who logs in to the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name (unique).
    pub name: String,
    /// The role they act in.
    pub role: Role,
    /// Their unit, for unit-bound roles.
    pub unit: Option<String>,
    /// A disabled user cannot log in, and their sessions stop working.
    pub disabled: bool,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

/// An API key's identity (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Row id.
    pub id: i64,
    /// Name given when it was made (unique).
    pub name: String,
    /// The role its holder acts in.
    pub role: Role,
    /// The unit, for unit-bound roles.
    pub unit: Option<String>,
}

/// An API key as an administrator lists it: its identity and its dates (never its secret nor
/// its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    /// Name, role and unit.
    pub key: ApiKey,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to the minute), if ever.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// SHA-256 of a secret, as lowercase hex.
pub(crate) fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes as URL-safe base64 (43 characters).
pub(crate) fn random_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A new password to be read off a screen and typed once (14 characters from an alphabet without
/// look-alikes, ≈ 80 bits): the demo's accounts and the administrator's "reset password" give one,
/// shown only then (only its hash is stored).
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 14];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    // 256 is not a multiple of the alphabet's 54 letters: redraw the few bytes that would bias it.
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    bytes
        .iter()
        .map(|&b| {
            let mut b = b;
            while b >= limit {
                let mut one = [0u8; 1];
                getrandom::fill(&mut one).expect("the operating system's random source works");
                b = one[0];
            }
            ALPHABET[usize::from(b) % ALPHABET.len()] as char
        })
        .collect()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

fn role_of(text: &str, whose: &str) -> Result<Role, StoreError> {
    text.parse().map_err(|e| StoreError::Corrupt(format!("{whose}: {e}")))
}

fn decode_user(r: &AnyRow) -> Result<User, StoreError> {
    let name: String = r.try_get("name")?;
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        role: role_of(&role, &format!("user {name}"))?,
        name,
        unit: r.try_get("unit")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: from_ms(r.try_get("created_at")?),
    })
}

/// Maps a unique-constraint violation to [`StoreError::Exists`].
fn exists_or(e: sqlx::Error, what: String) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Exists(what),
        _ => StoreError::Db(e),
    }
}

/// Hashes a password with argon2id (default parameters, random salt) off the async threads.
async fn hash_password(password: String) -> Result<String, StoreError> {
    tokio::task::spawn_blocking(move || {
        use argon2::PasswordHasher;
        argon2::Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Write(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| StoreError::Write(format!("password hashing stopped: {e}")))?
}

/// True when `password` matches the PHC string `hash`, checked off the async threads. With no
/// hash (an unknown user) a dummy hash is checked, so both answers take the same time.
async fn verify_password(password: String, hash: Option<String>) -> Result<bool, StoreError> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    tokio::task::spawn_blocking(move || {
        use argon2::{PasswordHasher, PasswordVerifier};
        let argon = argon2::Argon2::default();
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| {
                    argon.hash_password(random_secret().as_bytes()).map(|h| h.to_string()).unwrap_or_default()
                })
                .clone()
        });
        let ok = argon.verify_password(password.as_bytes(), hash.as_str()).is_ok();
        Ok(known && ok)
    })
    .await
    .map_err(|e| StoreError::Write(format!("password check stopped: {e}")))?
}

const USER_COLUMNS: &str = "id, name, role, unit, disabled, created_at";

impl Store {
    /// Makes a user. The password is stored as an argon2id hash. [`StoreError::Exists`] when the
    /// name is taken.
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        unit: Option<&str>,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        let hash = hash_password(password.to_string()).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO users (name, role, unit, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5) \
             RETURNING id",
        )
        .bind(name)
        .bind(role.code())
        .bind(unit)
        .bind(hash)
        .bind(ms(now))
        .fetch_one(&self.writer)
        .await
        .map_err(|e| exists_or(e, format!("user {name}")))?
        .try_get("id")?;
        Ok(User {
            id,
            name: name.into(),
            role,
            unit: unit.map(str::to_string),
            disabled: false,
            created_at: from_ms(ms(now)),
        })
    }

    /// The user called `name`.
    pub async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1")))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode_user).transpose()
    }

    /// Sets a user's password (the user's sessions end). False when there is no such user.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<bool, StoreError> {
        let hash = hash_password(password.to_string()).await?;
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
            .bind(hash)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        end_sessions(&mut tx, name).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Disables or enables a user; disabling ends their sessions. False when there is no such user.
    pub async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE name = $2")
            .bind(i64::from(disabled))
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if disabled {
            end_sessions(&mut tx, name).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The user, when `name` and `password` match an enabled account; None otherwise (unknown
    /// name, wrong password, disabled: the caller cannot tell which, nor by the time taken).
    pub async fn check_password(&self, name: &str, password: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = $1"
        )))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let (user, hash) = match &row {
            Some(r) => (Some(decode_user(r)?), Some(r.try_get::<String, _>("password_hash")?)),
            None => (None, None),
        };
        let ok = verify_password(password.to_string(), hash).await?;
        Ok(user.filter(|u| ok && !u.disabled))
    }

    /// Starts a session for user `user_id` lasting `ttl`; returns the token (only its hash is
    /// stored). Expired sessions are cleared on the way.
    pub async fn create_session(&self, user_id: i64, now: DateTime<Utc>, ttl: Duration) -> Result<String, StoreError> {
        let token = random_secret();
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(ms(now)).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(sha256_hex(&token))
            .bind(user_id)
            .bind(ms(now))
            .bind(ms(now + ttl))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The user of a live session (not expired at `now`, user not disabled), with its expiry.
    pub async fn session(&self, token: &str, now: DateTime<Utc>) -> Result<Option<(User, DateTime<Utc>)>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.unit, u.disabled, u.created_at, s.expires_at FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(sha256_hex(token))
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await?;
        match &row {
            Some(r) => Ok(Some((decode_user(r)?, from_ms(r.try_get("expires_at")?)))),
            None => Ok(None),
        }
    }

    /// Ends a session (logout). Unknown tokens are ignored.
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(sha256_hex(token)).execute(&self.writer).await?;
        Ok(())
    }

    /// Makes an API key; returns its identity and the secret, which is shown once and stored
    /// only as a hash. [`StoreError::Exists`] when the name is taken (revoked keys keep theirs).
    pub async fn create_api_key(
        &self,
        name: &str,
        role: Role,
        unit: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(ApiKey, String), StoreError> {
        let secret = format!("{API_KEY_PREFIX}{}", random_secret());
        let id: i64 = sqlx::query(
            "INSERT INTO api_keys (name, role, unit, key_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name)
        .bind(role.code())
        .bind(unit)
        .bind(sha256_hex(&secret))
        .bind(ms(now))
        .fetch_one(&self.writer)
        .await
        .map_err(|e| exists_or(e, format!("API key {name}")))?
        .try_get("id")?;
        Ok((ApiKey { id, name: name.into(), role, unit: unit.map(str::to_string) }, secret))
    }

    /// Revokes the key called `name`. False when there is no such key or it was already revoked.
    pub async fn revoke_api_key(&self, name: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
            .bind(ms(now))
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The key whose secret is `secret`; None when unknown or revoked. Notes when it was last
    /// used (to the minute, so that reads do not turn into a write each).
    pub async fn api_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        self.api_key_at(secret, Utc::now()).await
    }

    /// [`Store::api_key`] at a given time.
    pub async fn api_key_at(&self, secret: &str, now: DateTime<Utc>) -> Result<Option<ApiKey>, StoreError> {
        if !secret.starts_with(API_KEY_PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, name, role, unit, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(sha256_hex(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let name: String = r.try_get("name")?;
        let role: String = r.try_get("role")?;
        let key = ApiKey {
            id: r.try_get("id")?,
            role: role_of(&role, &format!("API key {name}"))?,
            name,
            unit: r.try_get("unit")?,
        };
        let last: Option<i64> = r.try_get("last_used_at")?;
        if last.is_none_or(|t| t + LAST_USED_GRANULARITY_MS <= ms(now)) {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(ms(now))
                .bind(key.id)
                .execute(&self.writer)
                .await?;
        }
        Ok(Some(key))
    }

    /// Every user, by name (for the administrator's page; no password hashes).
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users ORDER BY name")))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_user).collect()
    }

    /// Every API key, revoked ones too, by name (for the administrator's page; no hashes).
    pub async fn api_keys(&self) -> Result<Vec<ApiKeyInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, role, unit, created_at, last_used_at, revoked_at FROM api_keys ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get("name")?;
                let role: String = r.try_get("role")?;
                Ok(ApiKeyInfo {
                    key: ApiKey {
                        id: r.try_get("id")?,
                        role: role_of(&role, &format!("API key {name}"))?,
                        name,
                        unit: r.try_get("unit")?,
                    },
                    created_at: from_ms(r.try_get("created_at")?),
                    last_used_at: r.try_get::<Option<i64>, _>("last_used_at")?.map(from_ms),
                    revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms),
                })
            })
            .collect()
    }

    /// When the key called `name` was last used, if ever (None also when there is no such key).
    pub async fn api_key_last_used(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let t: Option<Option<i64>> = sqlx::query_scalar("SELECT last_used_at FROM api_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(t.flatten().map(from_ms))
    }
}

/// Ends every session of the user `name`, inside `tx`.
async fn end_sessions(tx: &mut sqlx::Transaction<'_, sqlx::Any>, name: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = $1)")
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
