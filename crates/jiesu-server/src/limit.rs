//! Rate limits, for login attempts and any other route that needs one (the Open311 POST).
//!
//! A [`RateLimiter`] counts requests per key (a user name, a client IP, an API key) with the
//! generic cell rate algorithm of the `governor` crate: `n` per minute, in bursts of up to `n`.
//! It lives in memory, per server process; a cluster of servers allows `n` per server.
//!
//! ```
//! use jiesu_server::{ApiError, ClientIp, RateLimiter};
//! let posts = RateLimiter::per_minute(2);
//! let ip = ClientIp(Some("192.0.2.7".parse().unwrap()));
//! assert!(posts.check(&ip.key()).is_ok());
//! assert!(posts.check(&ip.key()).is_ok());
//! let refused = posts.check(&ip.key()).unwrap_err();
//! assert!(refused.retry_after.as_secs() >= 1);
//! let e: ApiError = refused.into(); // 429 too_many_requests with Retry-After
//! assert_eq!(e.status().as_u16(), 429);
//! ```
//!
//! The client IP is the peer address of the connection ([`ClientIp`]); forwarded-for headers are
//! not trusted, so behind a reverse proxy every client shares the proxy's address.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;

/// How many checks between sweeps of keys that have not been seen for a while.
const SWEEP_EVERY: u64 = 4096;

/// Requests per key per minute. Cheap to clone (shared counters).
#[derive(Clone)]
pub struct RateLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
    checks: Arc<AtomicU64>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("keys", &self.limiter.len()).finish()
    }
}

/// A request refused by a [`RateLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// When the key may try again.
    pub retry_after: Duration,
}

impl RateLimiter {
    /// `n` requests per minute per key (at least 1), in bursts of up to `n`.
    pub fn per_minute(n: u32) -> RateLimiter {
        let n = NonZeroU32::new(n.max(1)).expect("at least 1");
        let limiter = Arc::new(governor::RateLimiter::keyed(Quota::per_minute(n)));
        RateLimiter { limiter, clock: DefaultClock::default(), checks: Arc::new(AtomicU64::new(0)) }
    }

    /// Counts one request for `key`; refused when the key is over its rate.
    pub fn check(&self, key: &str) -> Result<(), Throttled> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&key.to_string()).map_err(|not_until| Throttled {
            // Whole seconds, rounded up, for the Retry-After header.
            retry_after: Duration::from_secs(
                not_until.wait_time_from(self.clock.now()).as_secs_f64().ceil().max(1.0) as u64
            ),
        })
    }
}

impl From<Throttled> for ApiError {
    fn from(t: Throttled) -> ApiError {
        let secs = t.retry_after.as_secs();
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("too many attempts: try again in {secs} s"),
        )
        .with_retry_after(secs)
    }
}

/// The limits on anonymous reads (Open311's GETs, which need no key): so many per client IP a
/// minute, and so many at a time from everyone together (others wait a little for their turn),
/// so that the public cannot crowd out the staff's work. Over either: 429 with Retry-After.
#[derive(Debug, Clone)]
pub struct AnonymousReads {
    /// Reads per client IP (default 60 a minute).
    pub per_ip: RateLimiter,
    /// Reads answered at once, all clients together (default 1: on a small server the public's
    /// 1,000-request listings would otherwise take every core from the staff).
    pub slots: Arc<tokio::sync::Semaphore>,
    /// How long a read waits for a slot before it is refused (default 2 s).
    pub queue: std::time::Duration,
}

impl AnonymousReads {
    /// `per_minute` reads per client IP, `at_once` at a time in all (each at least 1).
    pub fn new(per_minute: u32, at_once: usize) -> AnonymousReads {
        AnonymousReads {
            per_ip: RateLimiter::per_minute(per_minute),
            slots: Arc::new(tokio::sync::Semaphore::new(at_once.max(1))),
            queue: Duration::from_secs(2),
        }
    }
}

impl Default for AnonymousReads {
    fn default() -> Self {
        AnonymousReads::new(60, 1)
    }
}

/// The address of the client that opened the connection (None in in-process tests, where there
/// is no connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The IP as a rate-limit key (`unknown` when there is none).
    pub fn key(&self) -> String {
        self.0.map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}
