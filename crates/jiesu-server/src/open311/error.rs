//! Open311 errors, in the spec's shape: `[{"code": 400, "description": "..."}]` in JSON and
//! `<errors><error><code>400</code><description>...</description></error></errors>` in XML, with
//! the HTTP status in `code`. 400 for bad input, 403 for a missing or refused API key, 404 for an
//! unknown service, request, token or jurisdiction, 413 for a body over the limit. Internal failures
//! send a generic description; their detail goes to the log only.

use axum::http::StatusCode;
use axum::response::Response;
use jiesu_core::CoreError;
use jiesu_store::StoreError;
use serde_json::json;

use super::format::{Doc, Format};

/// A refused Open311 request.
#[derive(Debug, Clone)]
pub struct Open311Error {
    /// HTTP status (also the `code` sent).
    pub status: StatusCode,
    /// What is wrong (one entry per problem).
    pub descriptions: Vec<String>,
    /// Logged, never sent.
    detail: Option<String>,
}

impl Open311Error {
    fn new(status: StatusCode, description: impl Into<String>) -> Open311Error {
        Open311Error { status, descriptions: vec![description.into()], detail: None }
    }

    /// 400.
    pub fn bad(description: impl Into<String>) -> Open311Error {
        Open311Error::new(StatusCode::BAD_REQUEST, description)
    }

    /// 400 about parameter `name`.
    pub fn param(name: &str, message: impl std::fmt::Display) -> Open311Error {
        Open311Error::bad(format!("{name}: {message}"))
    }

    /// 400 listing several problems.
    pub fn many(descriptions: Vec<String>) -> Open311Error {
        Open311Error { status: StatusCode::BAD_REQUEST, descriptions, detail: None }
    }

    /// 403.
    pub fn forbidden(description: impl Into<String>) -> Open311Error {
        Open311Error::new(StatusCode::FORBIDDEN, description)
    }

    /// 404.
    pub fn not_found(description: impl Into<String>) -> Open311Error {
        Open311Error::new(StatusCode::NOT_FOUND, description)
    }

    /// 413.
    pub fn too_large(limit: usize) -> Open311Error {
        Open311Error::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than the {limit} bytes this server accepts (media files included)"),
        )
    }

    /// 429: this API key posted too often.
    pub fn throttled(retry_after_secs: u64) -> Open311Error {
        Open311Error::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many posts with this api_key; try again in {retry_after_secs} s"),
        )
    }

    /// 429: too many anonymous reads (from this address, or from everyone at once).
    pub fn too_many_reads(retry_after_secs: u64) -> Open311Error {
        Open311Error::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many requests; try again in {retry_after_secs} s"),
        )
    }

    /// 500: a generic description; `detail` is logged.
    pub fn internal(detail: impl Into<String>) -> Open311Error {
        let mut e = Open311Error::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error; it has been logged");
        e.detail = Some(detail.into());
        e
    }

    /// The error as a response in `format`.
    pub fn render(self, format: Format) -> Response {
        if let Some(detail) = &self.detail {
            tracing::error!(detail = %detail, "open311 request failed");
        }
        let code = self.status.as_u16();
        let errors: Vec<_> = self.descriptions.iter().map(|d| json!({"code": code, "description": d})).collect();
        Doc { status: self.status, root: "errors", value: json!(errors) }.render(format)
    }
}

impl From<StoreError> for Open311Error {
    fn from(e: StoreError) -> Open311Error {
        match e {
            StoreError::NotFound(id) => Open311Error::not_found(format!("service request {id} not found")),
            e if e.is_disk_full() => Open311Error::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "the store's disk is full: nothing was written; try again later",
            ),
            e if e.is_unavailable() => Open311Error::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store cannot be reached just now: nothing was written; try again shortly",
            ),
            other => Open311Error::internal(format!("store: {other}")),
        }
    }
}

impl From<CoreError> for Open311Error {
    fn from(e: CoreError) -> Open311Error {
        match e {
            CoreError::Invalid(fields) => Open311Error::many(
                fields.into_iter().map(|f| format!("{}: {}", open311_field(&f.field), f.message)).collect(),
            ),
            CoreError::NotFound(id) => Open311Error::not_found(format!("service request {id} not found")),
            CoreError::Workflow(w) => Open311Error::bad(w.to_string()),
            CoreError::Busy(_) => Open311Error::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            CoreError::Changed { .. } => Open311Error::new(StatusCode::CONFLICT, e.to_string()),
            CoreError::Calendar(c) => Open311Error::internal(format!("calendar: {c}")),
            CoreError::Store(s) => s.into(),
        }
    }
}

/// The Open311 parameter a field of our draft came from.
fn open311_field(field: &str) -> &str {
    match field {
        "text" => "description",
        "category" => "service_code",
        "place.lat" => "lat",
        "place.lon" => "long",
        "place" => "lat/long",
        "place.address" => "address_string",
        "place.street" | "place.community" => "address_id",
        "contact.name" => "first_name/last_name",
        "contact.phone" => "phone",
        "contact.email" => "email",
        other => other,
    }
}
