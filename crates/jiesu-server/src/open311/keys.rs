//! API keys: POST requests and POST updates need one (`api_key`, from the query or the body).
//!
//! **Interim, to be wired at merge:** the key store (`jiesu_store::Store::api_key`, from the
//! accounts work) had not landed when this was written, so [`check_api_key`] refuses a missing
//! key (403) but cannot yet tell a valid key from an invalid one. Wiring it is this one function:
//!
//! ```text
//! match ctx.app.desk.store().api_key(key).await? {
//!     Some(k) => Ok(Client { name: k.name }),
//!     None => Err(Open311Error::forbidden("api_key is not valid (unknown or revoked)")),
//! }
//! ```

use super::Ctx;
use super::error::Open311Error;

/// The client an API key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    /// The key's name (recorded with what the client posts; never a citizen's data).
    pub name: String,
}

/// Checks the `api_key` of a POST: 403 with a spec error when it is missing (and, once wired to
/// the key store, when it is unknown or revoked).
pub(crate) async fn check_api_key(_ctx: &Ctx, key: Option<&str>) -> Result<Client, Open311Error> {
    let Some(_key) = key else {
        return Err(Open311Error::forbidden("api_key is required to post (ask the district for a key)"));
    };
    Ok(Client { name: "open311".into() })
}
