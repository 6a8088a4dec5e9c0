//! What Open311 clients send beside the case itself: media files, the attributes of a request,
//! batch tokens, and the updates clients post (FixMyStreet's `servicerequestupdates`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jiesu_domain::workflow::Event;
use sqlx::{AssertSqlSafe, Row};

use crate::cases::{id_and_json, ms};
use crate::{Store, StoreError};

/// The Open311 side of a case received through Open311.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Request {
    /// The case.
    pub case_id: i64,
    /// The service code the client chose.
    pub service_code: String,
    /// Attribute code → value (a string, or a list of strings for multivaluelist), as JSON.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// A stored media file.
    pub media_id: Option<String>,
    /// A media URL the client gave instead of a file.
    pub media_url: Option<String>,
    /// The API client (key name) that sent it.
    pub client: String,
    /// The batch token, when the service handed one out.
    pub token: Option<String>,
}

/// A stored media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// MIME type, e.g. `image/jpeg`.
    pub content_type: String,
    /// The file.
    pub bytes: Vec<u8>,
}

/// A media file to store, under a random, unguessable name chosen by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMedia {
    /// The name (the public media URL ends with it).
    pub id: String,
    /// MIME type.
    pub content_type: String,
    /// The file.
    pub bytes: Vec<u8>,
}

/// What an Open311 client sent with a new request, written in the new case's transaction (see
/// [`Store::create_case_with`]): the case, its events, the media, this row and the token
/// commit together or not at all. The case is marked as filed through the Open311 endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Intake {
    /// The service code the client chose.
    pub service_code: String,
    /// Attribute code → value, as JSON.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// A media file posted with the request.
    pub media: Option<NewMedia>,
    /// A media URL the client gave instead of a file.
    pub media_url: Option<String>,
    /// The API client (key name).
    pub client: String,
    /// The batch token, when the service hands one out.
    pub token: Option<String>,
}

/// An update a client posted on a case.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientUpdate {
    /// Our id of the update.
    pub id: i64,
    /// The client's id of the update (unique).
    pub client_update_id: String,
    /// The case.
    pub case_id: i64,
    /// The status the client reported (FixMyStreet's upper-case extended status).
    pub status: String,
    /// The text.
    pub description: String,
    /// A stored media file.
    pub media_id: Option<String>,
    /// A media URL the client gave.
    pub media_url: Option<String>,
    /// The API client (key name).
    pub client: String,
    /// The client's time of the update.
    pub updated_at: DateTime<Utc>,
    /// When we received it.
    pub received_at: DateTime<Utc>,
}

/// What happened to a posted update.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    /// Stored as new.
    Stored(ClientUpdate),
    /// The client's update id was already stored (the earlier update is returned unchanged).
    Duplicate(ClientUpdate),
}

fn from_ms(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Corrupt(format!("time {v} out of range")))
}

const UPDATE_COLUMNS: &str =
    "id, client_update_id, case_id, status, description, media_id, media_url, client, updated_at, received_at";

fn decode_update(r: &sqlx::any::AnyRow) -> Result<ClientUpdate, StoreError> {
    Ok(ClientUpdate {
        id: r.try_get("id")?,
        client_update_id: r.try_get("client_update_id")?,
        case_id: r.try_get("case_id")?,
        status: r.try_get("status")?,
        description: r.try_get("description")?,
        media_id: r.try_get("media_id")?,
        media_url: r.try_get("media_url")?,
        client: r.try_get("client")?,
        updated_at: from_ms(r.try_get("updated_at")?)?,
        received_at: from_ms(r.try_get("received_at")?)?,
    })
}

/// True when `e` is a unique-key violation.
pub(crate) fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(sqlx::Error::Database(d)) if d.is_unique_violation())
}

/// Inserts a media file.
pub(crate) async fn insert_media(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    m: &NewMedia,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO open311_media (id, content_type, size, bytes, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&m.id)
        .bind(&m.content_type)
        .bind(m.bytes.len() as i64)
        .bind(m.bytes.clone())
        .bind(ms(at))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts the Open311 side of the new case `case_id` (PostgreSQL: one statement each; SQLite
/// writes the same rows in its batch script, see `cases::sqlite_create_sql`).
pub(crate) async fn insert_intake(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    case_id: i64,
    o: &Open311Intake,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if let Some(m) = &o.media {
        insert_media(tx, m, at).await?;
    }
    sqlx::query(
        "INSERT INTO open311_requests (case_id, service_code, attributes, media_id, media_url, client, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(case_id)
    .bind(&o.service_code)
    .bind(serde_json::Value::Object(o.attributes.clone()).to_string())
    .bind(o.media.as_ref().map(|m| &m.id))
    .bind(&o.media_url)
    .bind(&o.client)
    .bind(ms(at))
    .execute(&mut **tx)
    .await?;
    if let Some(token) = &o.token {
        sqlx::query("INSERT INTO open311_tokens (token, case_id, created_at) VALUES ($1, $2, $3)")
            .bind(token)
            .bind(case_id)
            .bind(ms(at))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Inserts a client's update; returns its new id.
pub(crate) async fn insert_client_update(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    update: &ClientUpdate,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO open311_updates (client_update_id, case_id, status, description, media_id, media_url, client, \
         updated_at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&update.client_update_id)
    .bind(update.case_id)
    .bind(&update.status)
    .bind(&update.description)
    .bind(&update.media_id)
    .bind(&update.media_url)
    .bind(&update.client)
    .bind(ms(update.updated_at))
    .bind(ms(update.received_at))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}

/// `$1, $2, …, $n`.
fn marks(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// Stores a media file under `id` (a random, unguessable name chosen by the caller).
    pub async fn put_media(
        &self,
        id: &str,
        content_type: &str,
        bytes: &[u8],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let media = NewMedia { id: id.to_string(), content_type: content_type.to_string(), bytes: bytes.to_vec() };
        let mut tx = self.write_tx().await?;
        insert_media(&mut tx, &media, at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The media file `id`, if stored.
    pub async fn media(&self, id: &str) -> Result<Option<Media>, StoreError> {
        let row = sqlx::query("SELECT content_type, bytes FROM open311_media WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(Media { content_type: r.try_get("content_type")?, bytes: r.try_get("bytes")? })).transpose()
    }

    /// Half-written Open311 requests, each described in a line: an Open311 row or token whose
    /// case is missing, a case filed through the Open311 endpoint without its Open311 row, a
    /// media file attached to no request and no update. (For `jiesu check`.)
    pub async fn open311_orphans(&self) -> Result<Vec<String>, StoreError> {
        let ids = |sql: &'static str| async move {
            Ok::<Vec<i64>, StoreError>(sqlx::query_scalar(sql).fetch_all(&self.pool).await?)
        };
        let mut found = Vec::new();
        for id in ids(
            "SELECT case_id FROM open311_requests r WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = r.case_id) \
             ORDER BY case_id",
        )
        .await?
        {
            found.push(format!("the Open311 request of case {id} has no case {id}"));
        }
        for id in
            ids("SELECT case_id FROM open311_tokens t WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = t.case_id) \
             ORDER BY case_id")
            .await?
        {
            found.push(format!("an Open311 token stands for case {id}, which does not exist"));
        }
        for id in ids("SELECT id FROM cases c WHERE filed_via = 'open311' \
             AND NOT EXISTS (SELECT 1 FROM open311_requests r WHERE r.case_id = c.id) ORDER BY id")
        .await?
        {
            found.push(format!("case {id} was filed through the Open311 endpoint but has no Open311 request row"));
        }
        let media: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM open311_media EXCEPT SELECT media_id FROM open311_requests WHERE media_id IS NOT NULL \
             EXCEPT SELECT media_id FROM open311_updates WHERE media_id IS NOT NULL ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        for m in media {
            found.push(format!("Open311 media {m} belongs to no request and no update"));
        }
        Ok(found)
    }

    /// The Open311 side of the cases in `ids` that came through Open311, by case id.
    pub async fn open311_requests(&self, ids: &[i64]) -> Result<HashMap<i64, Open311Request>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT r.case_id, r.service_code, r.attributes, r.media_id, r.media_url, r.client, t.token \
             FROM open311_requests r LEFT JOIN open311_tokens t ON t.case_id = r.case_id WHERE r.case_id IN ({})",
            marks(ids.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let attributes: Vec<(i64, serde_json::Map<String, serde_json::Value>)> =
            id_and_json(&rows, "case_id", "attributes", "Open311 attributes")?;
        rows.iter()
            .zip(attributes)
            .map(|(r, (case_id, attributes))| {
                Ok((
                    case_id,
                    Open311Request {
                        case_id,
                        service_code: r.try_get("service_code")?,
                        attributes,
                        media_id: r.try_get("media_id")?,
                        media_url: r.try_get("media_url")?,
                        client: r.try_get("client")?,
                        token: r.try_get("token")?,
                    },
                ))
            })
            .collect()
    }

    /// The case a batch token stands for, if the token is known.
    pub async fn token_case(&self, token: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT case_id FROM open311_tokens WHERE token = $1")
            .bind(token)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stores a client's update (and its media file, if any) unless its `client_update_id` is
    /// already stored, in which case the stored one is returned as [`UpdateOutcome::Duplicate`]
    /// and nothing is written. (`update.id` of the argument is ignored.)
    pub async fn put_client_update(
        &self,
        update: &ClientUpdate,
        media: Option<&NewMedia>,
    ) -> Result<UpdateOutcome, StoreError> {
        if let Some(old) = self.client_update(&update.client_update_id).await? {
            return Ok(UpdateOutcome::Duplicate(old));
        }
        let inserted = async {
            let mut tx = self.write_tx().await?;
            if let Some(m) = media {
                insert_media(&mut tx, m, update.received_at).await?;
            }
            let id = insert_client_update(&mut tx, update).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(id)
        }
        .await;
        match inserted {
            Ok(id) => Ok(UpdateOutcome::Stored(ClientUpdate { id, ..update.clone() })),
            // Two posts of the same update raced: the unique key let one in; answer with it.
            Err(e) if is_unique_violation(&e) => {
                let old = self.client_update(&update.client_update_id).await?;
                old.map(UpdateOutcome::Duplicate).ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// The stored update with the client's id `client_update_id`.
    pub async fn client_update(&self, client_update_id: &str) -> Result<Option<ClientUpdate>, StoreError> {
        let sql = format!("SELECT {UPDATE_COLUMNS} FROM open311_updates WHERE client_update_id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(client_update_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(decode_update).transpose()
    }

    /// Updates posted on the cases in `ids`, oldest first.
    pub async fn client_updates_of(&self, ids: &[i64]) -> Result<Vec<ClientUpdate>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql =
            format!("SELECT {UPDATE_COLUMNS} FROM open311_updates WHERE case_id IN ({}) ORDER BY id", marks(ids.len()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(&self.pool).await?.iter().map(decode_update).collect()
    }

    /// Events that happened in `[from, to)`, oldest first, `limit` after skipping `offset`, with
    /// their case ids.
    pub async fn events_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        let rows = sqlx::query(
            "SELECT case_id, body FROM events WHERE at >= $1 AND at < $2 ORDER BY at, case_id, seq LIMIT $3 OFFSET $4",
        )
        .bind(ms(from))
        .bind(ms(to))
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        id_and_json(&rows, "case_id", "body", "event")
    }

    /// The kind code (`complaint`, `report`, ...) of each case in `ids` that exists.
    pub async fn case_kinds(&self, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!("SELECT id, kind FROM cases WHERE id IN ({})", marks(ids.len()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(&self.pool).await?.iter().map(|r| Ok((r.try_get("id")?, r.try_get("kind")?))).collect()
    }

    /// Events of the cases in `ids`, by case, oldest first.
    pub async fn events_of_cases(&self, ids: &[i64]) -> Result<Vec<(i64, Event)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql =
            format!("SELECT case_id, body FROM events WHERE case_id IN ({}) ORDER BY case_id, seq", marks(ids.len()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        id_and_json(&rows, "case_id", "body", "event")
    }
}
