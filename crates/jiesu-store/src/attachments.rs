//! Photos that came with an event (migration 0014): a reply's photos of the fix, a grid
//! inspector's report, a 核查. Written in the transaction of the event they came with (see
//! [`crate::AppendAlso::photos`] and [`Store::create_case_full`]), numbered from 1 within the case,
//! read only within a [`Scope`] (a case out of scope: [`StoreError::NotFound`], as if missing).

use chrono::{DateTime, Utc};
use jiesu_domain::access::Scope;
use jiesu_domain::attachment::Photo;
use sha2::{Digest, Sha256};
use sqlx::{Any, AssertSqlSafe, Row};

use crate::cases::{Arg, Where, ms, scope_clause};
use crate::{Store, StoreError};

/// What is stored of an attachment besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The case.
    pub case_id: i64,
    /// Its number within the case, from 1.
    pub n: i64,
    /// The event it came with.
    pub seq: u32,
    /// Its MIME type (from its bytes, see [`jiesu_domain::attachment::ImageKind`]).
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// When it was stored (the event's time).
    pub at: DateTime<Utc>,
}

const META_COLUMNS: &str = "case_id, n, seq, content_type, size, sha256, created_at";

fn decode(r: &sqlx::any::AnyRow) -> Result<Attachment, StoreError> {
    let at: i64 = r.try_get("created_at")?;
    let case_id: i64 = r.try_get("case_id")?;
    Ok(Attachment {
        case_id,
        n: r.try_get("n")?,
        seq: u32::try_from(r.try_get::<i64, _>("seq")?)
            .map_err(|e| StoreError::Corrupt(format!("case {case_id} attachment seq: {e}")))?,
        content_type: r.try_get("content_type")?,
        size: r.try_get::<i64, _>("size")? as u64,
        sha256: r.try_get("sha256")?,
        at: DateTime::from_timestamp_millis(at)
            .ok_or_else(|| StoreError::Corrupt(format!("case {case_id} attachment time {at}")))?,
    })
}

/// SHA-256 of `bytes`, hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    crate::chain::hex(&Sha256::digest(bytes))
}

/// The INSERT of one attachment of the case `case_id` (an SQL expression), values marked by
/// `mark` (number, seq, type, size, hash, bytes, time).
pub(crate) fn attachment_insert(case_id: &str, mark: &mut impl FnMut() -> String) -> String {
    let marks: Vec<String> = (0..7).map(|_| mark()).collect();
    format!(
        "INSERT INTO attachments (case_id, n, seq, content_type, size, sha256, bytes, created_at) VALUES ({case_id}, {})",
        marks.join(", ")
    )
}

/// Binds the values of [`attachment_insert`].
pub(crate) fn bind_attachment<'q>(
    q: crate::cases::AnyQuery<'q>,
    n: i64,
    seq: u32,
    photo: &Photo,
    at: i64,
) -> crate::cases::AnyQuery<'q> {
    q.bind(n)
        .bind(i64::from(seq))
        .bind(photo.kind().content_type())
        .bind(photo.bytes().len() as i64)
        .bind(sha256_hex(photo.bytes()))
        .bind(photo.bytes().to_vec())
        .bind(at)
}

/// Inserts `photos` of case `case_id` as coming with its event `seq` at `at`, numbered after the
/// case's last attachment, inside `tx`.
pub(crate) async fn insert_photos(
    tx: &mut sqlx::Transaction<'_, Any>,
    case_id: i64,
    seq: u32,
    photos: &[Photo],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if photos.is_empty() {
        return Ok(());
    }
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(n) FROM attachments WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(&mut **tx)
        .await?;
    let mut n = last.unwrap_or(0);
    for p in photos {
        n += 1;
        let mut next = 1usize;
        let sql = attachment_insert("$1", &mut || {
            next += 1;
            format!("${next}")
        });
        bind_attachment(sqlx::query(AssertSqlSafe(sql)).bind(case_id), n, seq, p, ms(at)).execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Fails with [`StoreError::NotFound`] unless case `id` exists within `scope`.
    async fn check_in_scope(&self, scope: &Scope, id: i64) -> Result<(), StoreError> {
        let mut w = Where::default();
        w.and("id = ?", Arg::Int(id));
        scope_clause(&mut w, scope);
        let sql = format!("SELECT id FROM cases{}", w.sql);
        w.bind(sqlx::query(AssertSqlSafe(sql))).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound(id))?;
        Ok(())
    }

    /// The attachments of case `id` (without their bytes), in order, if the case is within
    /// `scope` ([`StoreError::NotFound`] otherwise).
    pub async fn attachments_in(&self, scope: &Scope, id: i64) -> Result<Vec<Attachment>, StoreError> {
        self.check_in_scope(scope, id).await?;
        let rows =
            sqlx::query(AssertSqlSafe(format!("SELECT {META_COLUMNS} FROM attachments WHERE case_id = $1 ORDER BY n")))
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(decode).collect()
    }

    /// Attachment `n` of case `id` with its bytes, if the case is within `scope`: a case out of
    /// scope and a missing attachment are both [`StoreError::NotFound`].
    pub async fn attachment_in(&self, scope: &Scope, id: i64, n: i64) -> Result<(Attachment, Vec<u8>), StoreError> {
        self.check_in_scope(scope, id).await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {META_COLUMNS}, bytes FROM attachments WHERE case_id = $1 AND n = $2"
        )))
        .bind(id)
        .bind(n)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound(id))?;
        Ok((decode(&row)?, row.try_get("bytes")?))
    }
}
