//! The record of reveals of citizens' contacts (`contact_access`, migration 0006): each time the
//! unit holding a case asks for the citizen's phone and name, who asked, when and for which case.
//! Apart from the case's events: a reveal changes nothing about the case.

use chrono::{DateTime, Utc};
use jiesu_domain::workflow::Actor;
use sqlx::Row;

use crate::cases::ms;
use crate::{Store, StoreError};

/// One reveal of a case's contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactAccess {
    /// The case.
    pub case_id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (user name, role and unit as they acted).
    pub actor: Actor,
}

impl Store {
    /// Records that `actor` was shown the contact of case `case_id` at `at`.
    pub async fn record_contact_access(
        &self,
        case_id: i64,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO contact_access (case_id, at, actor_user, actor_role, actor_unit) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(case_id)
        .bind(ms(at))
        .bind(&actor.user)
        .bind(actor.role.code())
        .bind(&actor.unit)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The reveals of case `case_id`'s contact, oldest first.
    pub async fn contact_accesses(&self, case_id: i64) -> Result<Vec<ContactAccess>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, actor_user, actor_role, actor_unit FROM contact_access WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("actor_role")?;
                let at: i64 = r.try_get("at")?;
                Ok(ContactAccess {
                    case_id,
                    at: DateTime::from_timestamp_millis(at)
                        .ok_or_else(|| StoreError::Corrupt(format!("case {case_id} contact access time {at}")))?,
                    actor: Actor {
                        user: r.try_get("actor_user")?,
                        role: role
                            .parse()
                            .map_err(|e| StoreError::Corrupt(format!("case {case_id} access role: {e}")))?,
                        unit: r.try_get("actor_unit")?,
                    },
                })
            })
            .collect()
    }
}
