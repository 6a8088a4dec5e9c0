//! The one error type of the API and its JSON shape.
//!
//! Every rejection leaves as `{"error": {"code": "...", "message": "...", "fields": [...]}}` with
//! a fitting status: the desk's errors ([`CoreError`]), the extractors' rejections (malformed
//! JSON, wrong content type, bad path ids, unknown fields, oversized bodies), unknown routes and
//! panics. Internal failures send a generic message; their detail goes to the log only.
//!
//! | code | status | when |
//! |---|---|---|
//! | `bad_request` | 400 | malformed JSON, unknown or missing fields, bad path or query values |
//! | `unauthenticated` | 401 | no session or API key, or one that is unknown, revoked or expired |
//! | `bad_credentials` | 401 | login with a wrong name or password |
//! | `forbidden`, `wrong_unit` | 403 | the role or unit may not do this |
//! | `not_found` | 404 | no such case (or one outside the actor's scope), route or calendar year |
//! | `method_not_allowed` | 405 | the route exists for other methods |
//! | `illegal_transition` | 409 | the case's status does not allow the action |
//! | `payload_too_large` | 413 | the body exceeds the limit |
//! | `unsupported_media_type` | 415 | a JSON body without `Content-Type: application/json` |
//! | `invalid`, `calendar` | 422 | input that parses but is wrong (unknown codes, bad coordinates) |
//! | `too_many_requests` | 429 | rate limit (login attempts); `Retry-After` says when to retry |
//! | `internal` | 500 | a store failure or a bug |
//! | `busy`, `unavailable` | 503 | the case keeps changing under us; the store cannot be reached |
//! | `insufficient_storage` | 507 | the store's disk is full (nothing was written) |

use std::any::Any;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiesu_core::CoreError;
use jiesu_domain::draft::FieldError;
use jiesu_domain::workflow::WorkflowError;
use serde::Serialize;
use utoipa::ToSchema;

/// One field that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldIssue {
    /// The field (`category`, `place.lat`, a query parameter, a header ...).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A refused request, as the client sees it.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<FieldIssue>,
    /// Logged, never sent (internal errors only).
    detail: Option<String>,
    /// Seconds for the Retry-After header.
    retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub(crate) struct Body<'a> {
    error: Inner<'a>,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
#[schema(as = ErrorDetail)]
pub(crate) struct Inner<'a> {
    /// Stable code: `bad_request`, `unauthenticated`, `bad_credentials`, `forbidden`,
    /// `wrong_unit`, `not_found`, `method_not_allowed`, `illegal_transition`, `payload_too_large`,
    /// `unsupported_media_type`, `invalid`, `calendar`, `too_many_requests`, `internal`, `busy`,
    /// `unavailable`, `insufficient_storage`.
    #[schema(example = "invalid")]
    code: &'a str,
    /// What is wrong, for people.
    message: &'a str,
    /// The fields at fault (may be empty).
    fields: &'a [FieldIssue],
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), fields: Vec::new(), detail: None, retry_after: None }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 400 `bad_request` about one query parameter, path segment or field.
    pub fn bad_param(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::bad_request(format!("{field}: {message}")).with_field(field, message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500 `internal`: the client gets a generic message; `detail` is logged.
    pub fn internal(detail: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; it has been logged");
        e.detail = Some(detail.into());
        e
    }

    /// The same error, also naming a field.
    pub fn with_field(mut self, field: &str, message: impl Into<String>) -> ApiError {
        self.fields.push(FieldIssue { field: field.into(), message: message.into() });
        self
    }

    /// The same error, telling the client to retry after `secs` seconds.
    pub fn with_retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable error code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message sent to the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The fields named.
    pub fn fields(&self) -> &[FieldIssue] {
        &self.fields
    }

    /// 422 `invalid` listing every field problem.
    pub fn invalid_fields(errors: Vec<FieldError>) -> ApiError {
        let list = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
        let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("invalid input: {list}"));
        e.fields = errors.into_iter().map(|f| FieldIssue { field: f.field, message: f.message }).collect();
        e
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> ApiError {
        match e {
            CoreError::Invalid(errors) => ApiError::invalid_fields(errors),
            CoreError::Workflow(w) => match w {
                WorkflowError::IllegalTransition { .. } => {
                    ApiError::new(StatusCode::CONFLICT, "illegal_transition", w.to_string())
                }
                WorkflowError::Forbidden { .. } => ApiError::forbidden(w.to_string()),
                WorkflowError::WrongUnit { .. } => ApiError::new(StatusCode::FORBIDDEN, "wrong_unit", w.to_string()),
                WorkflowError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
                WorkflowError::Corrupt { .. } => ApiError::internal(w.to_string()),
            },
            CoreError::NotFound(id) => ApiError::not_found(format!("case {id} not found")),
            CoreError::Changed { .. } => ApiError::new(StatusCode::CONFLICT, "changed", e.to_string()),
            CoreError::Busy(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string()).with_retry_after(1)
            }
            CoreError::Calendar(c) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "calendar", c.to_string()),
            CoreError::Store(s) if s.is_disk_full() => ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient_storage",
                "the store's disk is full: nothing was written; try again when space has been freed",
            )
            .with_retry_after(60),
            CoreError::Store(s) if s.is_unavailable() => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the store cannot be reached just now: nothing was written; try again shortly",
            )
            .with_retry_after(1),
            CoreError::Store(s) => ApiError::internal(format!("store: {s}")),
        }
    }
}

impl From<jiesu_store::StoreError> for ApiError {
    fn from(e: jiesu_store::StoreError) -> ApiError {
        CoreError::from(e).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        let status = r.status();
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(status, "payload_too_large", "the request body is larger than the server accepts")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                status,
                "unsupported_media_type",
                "expected a JSON body with the header Content-Type: application/json",
            ),
            // Syntax errors (400) and well-formed JSON of the wrong shape (axum says 422; to the
            // client both are a malformed request).
            _ => {
                let text = r.body_text();
                let detail = text.split_once("target type: ").map_or(text.as_str(), |(_, d)| d);
                match serde_field(detail) {
                    Some(field) => ApiError::bad_request(text.clone()).with_field(&field, detail),
                    None => ApiError::bad_request(text),
                }
            }
        }
    }
}

/// The field a serde error is about: the path axum puts first (`place.lat: invalid type ...`), or
/// the name in ``missing field `text` `` / ``unknown field `colour` ``.
pub(crate) fn serde_field(message: &str) -> Option<String> {
    if let Some((path, _)) = message.split_once(": ")
        && !path.is_empty()
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c))
    {
        return Some(path.to_string());
    }
    let (_, rest) = message.split_once("field `")?;
    let (name, _) = rest.split_once('`')?;
    Some(name.to_string())
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        match r.status() {
            s if s.is_server_error() => ApiError::internal(r.body_text()),
            _ => ApiError::bad_request(r.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::bad_request(r.body_text())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(detail) = &self.detail {
            tracing::error!(code = self.code, detail = %detail, "request failed");
        }
        let body = Body { error: Inner { code: self.code, message: &self.message, fields: &self.fields } };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The fallback for paths no route matches.
pub(crate) async fn no_route() -> ApiError {
    ApiError::not_found("no such route; the API lives under /api/v1")
}

/// The fallback for a known path asked with a method it does not take.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
}

/// The response to a panicking handler: a generic 500 (the panic message goes to the log).
pub(crate) fn panicked(panic: Box<dyn Any + Send>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(format!("handler panicked: {what}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::serde_field;

    #[test]
    fn finds_the_field_of_a_serde_error() {
        assert_eq!(serde_field("place.lat: invalid type: string \"x\", expected f64").as_deref(), Some("place.lat"));
        assert_eq!(serde_field("missing field `text` at line 1 column 9").as_deref(), Some("text"));
        assert_eq!(serde_field("unknown field `colour`, expected one of `a`").as_deref(), Some("colour"));
        assert_eq!(serde_field("EOF while parsing a value at line 1 column 12"), None);
    }
}
