//! `GET /events`: live updates for the console as server-sent events.
//!
//! The stream follows the store's change feed (`Store::changes`: in-process on SQLite, LISTEN/
//! NOTIFY across servers on PostgreSQL) and sends a viewer only what concerns them: `change` with
//! `{"case": ID}` when the case, as written, is within the viewer's scope, `{}` when it is not
//! (a case taken from the viewer's unit, or many cases at once) — never another unit's case id,
//! never personal data. `hello` opens each stream, so a page that reconnects knows to refresh.
//! Comments keep proxies from closing an idle stream.
//!
//! No task per client: the stream is the response body, dropped with the connection. It ends
//! when the server shuts down ([`Live::close`], so graceful shutdown is not held up by open
//! streams) and after [`MAX_AGE`] (the browser reconnects, and the session is checked again).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use jiesu_domain::access::Scope;
use jiesu_store::Change;
use tokio::sync::watch;

use super::Viewer;
use crate::AppState;
use crate::error::ApiError;

/// A stream is closed after this long; the browser opens another (and the session is checked).
pub(crate) const MAX_AGE: Duration = Duration::from_secs(10 * 60);
/// A comment this often keeps proxies and the browser from giving up on a quiet stream.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The browser waits this long before reconnecting.
const RETRY: Duration = Duration::from_secs(2);

/// Ends every open stream when the server shuts down.
#[derive(Debug, Clone)]
pub struct Live {
    closing: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for Live {
    fn default() -> Self {
        Live { closing: std::sync::Arc::new(watch::channel(false).0) }
    }
}

impl Live {
    /// Ends the open streams (and any opened later).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// What the viewer is sent about `change`, if anything.
fn event_for(change: &Change, scope: &Scope) -> Option<Event> {
    if !change.concerns(scope) {
        return None;
    }
    let data = match change.case.filter(|_| change.visible_to(scope)) {
        Some(id) => format!("{{\"case\":{id}}}"),
        None => "{}".to_string(),
    };
    Some(Event::default().event("change").data(data))
}

/// The events of one viewer: `hello`, then the changes that concern them.
fn events_of(
    feed: impl Stream<Item = Change> + Send + 'static,
    scope: Scope,
    mut closing: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let hello = futures_util::stream::once(async move { Event::default().event("hello").data("{}").retry(RETRY) });
    let changes = feed.filter_map(move |c| std::future::ready(event_for(&c, &scope)));
    let end = async move {
        tokio::select! {
            _ = closing.wait_for(|c| *c) => {}
            () = tokio::time::sleep(MAX_AGE) => {}
        }
    };
    hello.chain(changes).take_until(end).map(Ok)
}

/// `GET /events`: the viewer's live updates (session only, like every console route).
pub(crate) async fn events(State(state): State<AppState>, v: Viewer) -> Response {
    let scope = v.actor.scope(state.desk.catalog());
    let feed = match state.desk.store().changes().await {
        Ok(feed) => feed,
        Err(e) => {
            tracing::warn!(error = %e, "the change feed is not available");
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "live updates are not available")
                .into_response();
        }
    };
    let stream = events_of(feed, scope, state.live.closing.subscribe());
    let mut resp = Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("")).into_response();
    // Tell nginx and the like not to buffer the stream.
    resp.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_is_sent_ids_of_its_cases_only() {
        let mine = Scope::Unit { unit: "A".into(), street: None };
        let other = Scope::Unit { unit: "B".into(), street: None };
        let change = Change {
            case: Some(42),
            status: "dispatched".into(),
            units: vec!["A".into()],
            units_before: vec!["C".into()],
            street: None,
        };
        assert!(event_for(&change, &mine).is_some());
        assert!(event_for(&change, &other).is_none());
        let taken = Scope::Unit { unit: "C".into(), street: None };
        assert!(event_for(&change, &taken).is_some());
        assert!(event_for(&change, &Scope::All).is_some());
        assert!(event_for(&change, &Scope::Nothing).is_none());
    }
}
