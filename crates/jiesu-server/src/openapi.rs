//! The OpenAPI 3.1 document of the JSON API. It is generated from the code — the handlers'
//! `#[utoipa::path]` annotations and the `ToSchema` types they take and return — never written
//! by hand; served at `GET /api/v1/openapi.json` and printed by `jiesu openapi`.
//!
//! **Invariant:** every route of the API is registered through `utoipa_axum::routes!` (see
//! `crate::routes`), so a route cannot exist without its documentation; the test
//! `tests/openapi.rs` also checks the source for routes added the plain axum way.
//!
//! How callers say who they are is described in one place, [`Security`]: change it there when the
//! scheme changes, and every operation that needs an actor follows.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use crate::actor::SESSION_COOKIE;

/// The parts of the document that are not tied to one route.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "jiesu API",
        description = "接诉即办 jiesu: every action of the console and of integrations on the 12345 closed loop \
                       (受理 → 派单 → 签收 → 办理 → 答复 → 回访 → 结案) and the monthly assessment. Every rejection \
                       has the one shape `{\"error\": {\"code\", \"message\", \"fields\"}}`. Coordinates are WGS-84 degrees \
                       both ways (what GPS and phones give); the server keeps the map's GCJ-02 inside and converts. \
                       Text fields refuse control characters other than tab and newlines, and invalid UTF-8.",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "reference", description = "Health, catalog, calendar and this document; no actor needed"),
        (name = "accounts", description = "Login, logout and who am I"),
        (name = "cases", description = "受理, listing, reading and every action of the loop"),
        (name = "intake", description = "智能受理: place, duplicates and route suggested for a draft, with confidences"),
        (name = "assessment", description = "考核: figures, rankings and live counts"),
        (name = "alarms", description = "Sensor alarms (webhook), the device registry and 三色预警 colours"),
    ),
    modifiers(&Security),
)]
pub(crate) struct ApiDoc;

/// The security schemes of the document and the requirement that applies to every operation
/// unless it says `security(())` (the public routes): an API key as `Authorization: Bearer KEY`
/// or `X-Api-Key: KEY` (`jiesu key add`), or the session cookie of `POST /api/v1/login`. See
/// `crate::actor`.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key made with `jiesu key add`: `Authorization: Bearer KEY`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "The same API key in its own header.",
            ))),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie set by `POST /api/v1/login` (the console).",
            ))),
        );
        components.add_security_scheme(
            "device_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Device-Token",
                "A sensor's own webhook token (shown once when the device is registered); only for `POST /alarms`.",
            ))),
        );
        let none = Vec::<String>::new;
        doc.security = Some(vec![
            SecurityRequirement::new("bearer", none()),
            SecurityRequirement::new("api_key", none()),
            SecurityRequirement::new("session", none()),
        ]);
    }
}

/// The document, rendered once.
fn rendered() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(crate::openapi_json)
}

/// `GET /api/v1/openapi.json`: this API's OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "reference",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json", body = Object)),
)]
pub(crate) async fn json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], rendered()).into_response()
}
