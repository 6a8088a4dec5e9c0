//! What each person has seen of their notices (通知): per person, case and kind of notice, the
//! version seen (migration 0012). The notices themselves are derived from the cases by the desk.

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use crate::cases::ms;
use crate::{Store, StoreError};

/// Marks read per query (placeholders stay far below both backends' limits).
const CHUNK: usize = 500;

/// A person saw version `version` of the notice `kind` about case `case_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeMark {
    /// The case.
    pub case_id: i64,
    /// The kind of notice (the desk's code).
    pub kind: String,
    /// The version seen.
    pub version: i64,
}

impl Store {
    /// The marks `user` left on `cases` (any kind, any version).
    pub async fn notice_marks(&self, user: &str, cases: &[i64]) -> Result<Vec<NoticeMark>, StoreError> {
        let mut marks = Vec::new();
        for chunk in cases.chunks(CHUNK) {
            let places: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT case_id, kind, version FROM notice_marks WHERE user_name = $1 AND case_id IN ({})",
                places.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(user);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                marks.push(NoticeMark {
                    case_id: r.try_get("case_id")?,
                    kind: r.try_get("kind")?,
                    version: r.try_get("version")?,
                });
            }
        }
        Ok(marks)
    }

    /// Records that `user` saw `marks` at `at` (a later version replaces an earlier one), in one
    /// transaction.
    pub async fn mark_notices(&self, user: &str, marks: &[NoticeMark], at: DateTime<Utc>) -> Result<(), StoreError> {
        if marks.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        for m in marks {
            sqlx::query(
                "INSERT INTO notice_marks (user_name, case_id, kind, version, seen_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_name, case_id, kind) DO UPDATE SET version = excluded.version, seen_at = excluded.seen_at",
            )
            .bind(user)
            .bind(m.case_id)
            .bind(&m.kind)
            .bind(m.version)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
