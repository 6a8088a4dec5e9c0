//! Time limits, so that slow or idle clients cannot hold the server's connections and tasks:
//!
//! - **headers:** a connection must send a request's headers within [`Timeouts::header_read`]
//!   (hyper's header read timeout, in [`crate::serve`]'s accept loop), or it is closed;
//! - **body:** a request's whole body must arrive within [`Timeouts::body`] of the request, or
//!   the request is answered 408 `request_timeout` (a body trickled a byte at a time is cut off);
//! - **reads:** a GET or HEAD must be answered within [`Timeouts::request`], or 503 `timeout`.
//!   Writes are not cut once their body is in: a write abandoned half-way could be committed
//!   after the client was told it failed, and a retry would file it twice.
//!
//! Rejections keep each door's error shape (the JSON API's, or Open311's under its base path).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use tokio::time::{Instant, Sleep};

use crate::error::ApiError;
use crate::open311::{Format, Open311Error};

/// Time limits of connections and requests (`[limits]` in the settings file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Reading a request's headers (default 10 s).
    pub header_read: Duration,
    /// Receiving a request's whole body (default 30 s).
    pub body: Duration,
    /// Answering a read (GET, HEAD), handler included (default 30 s).
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: Duration::from_secs(10),
            body: Duration::from_secs(30),
            request: Duration::from_secs(30),
        }
    }
}

/// A request body that fails once its deadline has passed, noting it in `fired`.
struct DeadlineBody {
    inner: Body,
    sleep: Pin<Box<Sleep>>,
    fired: Arc<AtomicBool>,
}

/// The error a body gives after its deadline.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.fired.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// What the middleware needs: the limits and where Open311 is mounted (for its error shape).
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub timeouts: Timeouts,
    pub open311_mount: String,
}

impl Limits {
    fn reject(
        &self,
        req_path: &str,
        headers: &axum::http::HeaderMap,
        status: StatusCode,
        code: &'static str,
        message: String,
    ) -> Response {
        if req_path.starts_with(&self.open311_mount) {
            let format = Format::of_request(req_path, headers).unwrap_or_else(|_| Format::from_accept(headers));
            let mut e = Open311Error::bad(message);
            e.status = status;
            e.render(format)
        } else {
            ApiError::new(status, code, message).into_response()
        }
    }
}

/// The body deadline for every request, the answer deadline for reads.
pub(crate) async fn limit_time(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    let t = limits.timeouts;
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    let fired = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = DeadlineBody {
        inner: body,
        sleep: Box::pin(tokio::time::sleep_until(Instant::now() + t.body)),
        fired: fired.clone(),
    };
    let req = Request::from_parts(parts, Body::new(body));
    let response = if read {
        match tokio::time::timeout(t.request, next.run(req)).await {
            Ok(r) => r,
            Err(_) => {
                tracing::warn!(path = %path, "a read took too long and was abandoned");
                return limits.reject(
                    &path,
                    &headers,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    format!("the answer took longer than {} s; try again, or ask for less", t.request.as_secs()),
                );
            }
        }
    } else {
        next.run(req).await
    };
    if fired.load(Ordering::Relaxed) {
        // Whatever the handler made of the broken body, the client was too slow.
        return limits.reject(
            &path,
            &headers,
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the request body did not arrive within {} s", t.body.as_secs()),
        );
    }
    response
}
