//! API keys: POST requests and POST updates need one (`api_key`, from the query or the body),
//! made with `jiesu key add` and checked against the key store (hashed, revocable); each key may
//! post at most `AppState::open311_posts` times a minute (429 beyond).

use super::Ctx;
use super::error::Open311Error;

/// The client an API key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    /// The key's name (recorded with what the client posts; never a citizen's data).
    pub name: String,
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
            Ok(Client { name: k.name })
        }
        None => Err(Open311Error::forbidden("api_key is not valid (unknown or revoked)")),
    }
}
