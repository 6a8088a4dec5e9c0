//! Extractors that reject with [`ApiError`], so malformed JSON, a wrong content type, a bad path
//! id or an unknown query parameter get the same JSON error shape as everything else.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body (request) or JSON response; rejections become [`ApiError`]s. Every string in a
/// request body (keys too) is checked first ([`crate::input::check_json`]: no control characters
/// but tab and newlines), so no handler sees a NUL.
#[derive(Debug)]
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // The content type, the body limit and the syntax, as axum checks them.
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        crate::input::check_json(&value)?;
        serde_path_to_error::deserialize(value).map(AppJson).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            let detail = if path == "." { inner } else { format!("{path}: {inner}") };
            match crate::error::serde_field(&detail) {
                Some(field) => {
                    ApiError::bad_request(format!("Failed to deserialize the JSON body into the target type: {detail}"))
                        .with_field(&field, detail)
                }
                None => {
                    ApiError::bad_request(format!("Failed to deserialize the JSON body into the target type: {detail}"))
                }
            }
        })
    }
}

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters; rejections become [`ApiError`]s.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);

/// Query parameters; rejections become [`ApiError`]s.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

/// The `{id}` of a case route: a positive integer, or a 400 naming the parameter.
#[derive(Debug, Clone, Copy)]
pub struct CaseId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for CaseId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        let AppPath(raw) = AppPath::<String>::from_request_parts(parts, state).await?;
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(CaseId(id)),
            _ => Err(ApiError::bad_param("id", format!("case id must be a positive integer, got '{raw}'"))),
        }
    }
}
