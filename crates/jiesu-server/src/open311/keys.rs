//! API keys: POST requests and POST updates need one (`api_key`, from the query or the body),
//! made with `jiesu key add` and checked against the key store (hashed, revocable); each key may
//! post at most `AppState::open311_posts` times a minute (429 beyond).

use jiesu_domain::access::Scope;
use jiesu_domain::model::Role;
use jiesu_domain::workflow::Actor;
use jiesu_store::{CaseRecord, StoreError};

use super::Ctx;
use super::error::Open311Error;

/// The client an API key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    /// The key's name (recorded with what the client posts; never a citizen's data).
    pub name: String,
    /// The key's role.
    pub role: Role,
    /// The key's unit, for unit-bound roles.
    pub unit: Option<String>,
}

impl Client {
    /// The actor that files this client's requests, and so owns them: the citizen
    /// `open311:NAME`, whatever the key's role.
    pub fn filer(&self) -> Actor {
        Actor { user: format!("open311:{}", self.name), role: Role::Citizen, unit: None }
    }

    /// The key as a member of staff, as on the JSON API (`key:NAME` in its role and unit); None
    /// for a citizen key.
    fn staff(&self) -> Option<Actor> {
        (self.role != Role::Citizen).then(|| Actor {
            user: format!("key:{}", self.name),
            role: self.role,
            unit: self.unit.clone(),
        })
    }

    /// Case `id` if this client may touch it, with the actor it acts as there: a request it
    /// filed (as its [`Client::filer`]), else, for a staff key, a case in the key's scope (as
    /// the key). Anything else is [`StoreError::NotFound`], exactly like a missing request.
    pub async fn case(&self, ctx: &Ctx, id: i64) -> Result<(CaseRecord, Actor), StoreError> {
        let (desk, filer) = (&ctx.app.desk, self.filer());
        match desk.store().case_in(&Scope::of(&filer, desk.catalog()), id).await {
            Ok(rec) => return Ok((rec, filer)),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let staff = self.staff().ok_or(StoreError::NotFound(id))?;
        let rec = desk.store().case_in(&Scope::of(&staff, desk.catalog()), id).await?;
        Ok((rec, staff))
    }
}

/// Checks the `api_key` of a POST: 403 with a spec error when it is missing, unknown or revoked.
pub(crate) async fn check_api_key(ctx: &Ctx, key: Option<&str>) -> Result<Client, Open311Error> {
    let Some(key) = key else {
        return Err(Open311Error::forbidden("api_key is required to post (ask the district for a key)"));
    };
    match ctx.app.desk.store().api_key_at(key, ctx.app.now()).await? {
        Some(k) => {
            if let Err(t) = ctx.app.open311_posts.check(&format!("key {}", k.id)) {
                return Err(Open311Error::throttled(t.retry_after.as_secs()));
            }
            Ok(Client { name: k.name, role: k.role, unit: k.unit })
        }
        None => Err(Open311Error::forbidden("api_key is not valid (unknown or revoked)")),
    }
}
