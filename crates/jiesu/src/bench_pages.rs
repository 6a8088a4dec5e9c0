//! `jiesu bench pages`: how long the console's pages take inside the server on a given store.
//!
//! Serves the store with the real router on a loopback port (the desk as `jiesu serve` builds
//! it: gazetteer, grid and classifier), logs in through the API as the people who use each page
//! (an operator; a handler of the unit holding the most open cases; a leader, i.e. an admin; a
//! dispatcher),
//! warms each page up, then requests each page `requests` times with realistic inputs:
//!
//! - intake: the live suggestions (`POST /intake/suggest`) for real citizen messages
//!   (`../shared/data/teddy2020c/sample_raw_labeled.csv`, else the store's own case texts);
//! - inbox: the busiest unit's inbox;
//! - case: random case pages;
//! - search: full-text searches of 2- and 4-character words, alternately;
//! - map: the map page's counts (`/map/data`) and the page itself, for the last full month;
//! - assessment: the assessment page of the last full month;
//! - and the other daily pages: the dispatch queue, notices (the badge's count and the page),
//!   the callback list and the supervisor's list.
//!
//! The time of a request is the server's own (`Server-Timing: app;dur=…`, from the request
//! reaching the router to the response's head), so the client and the loopback do not count.
//! Ends with one `NAME_p99_ms: X` line per page; every non-2xx answer is an error.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::{Datelike, Utc};
use jiesu_core::Desk;
use jiesu_domain::model::Role;
use jiesu_server::AppState;
use jiesu_store::{CaseFilter, Page, Scope};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::bench_reads::{percentile, start};

/// Two-character words (most Chinese words) and four-character phrases citizens write.
const WORDS_2: &[&str] = &["噪音", "停车", "占道", "漏水", "供暖", "垃圾", "施工", "物业", "电梯", "路灯"];
const WORDS_4: &[&str] =
    &["违章停车", "施工噪音", "占道经营", "垃圾清运", "私搭乱建", "暖气不热", "楼道堆物", "污水外溢"];

/// Where the real messages are when run from the repository.
pub const DEFAULT_MESSAGES: &str = "../shared/data/teddy2020c/sample_raw_labeled.csv";

/// A logged-in client: its session cookie and the CSRF token of its forms.
struct Session {
    cookie: String,
    csrf: String,
}

/// What one page's requests took.
#[derive(Default)]
struct Timings {
    server: Vec<Duration>,
    client: Vec<Duration>,
    errors: Vec<String>,
}

/// The server's own time of a response, from its `Server-Timing` header.
fn server_time(r: &reqwest::Response) -> Option<Duration> {
    let v = r.headers().get("server-timing")?.to_str().ok()?;
    let dur = v.split(';').find_map(|p| p.trim().strip_prefix("dur="))?;
    Some(Duration::from_secs_f64(dur.parse::<f64>().ok()? / 1000.0))
}

/// Makes (or resets) the user `name` with a fresh random password and logs in.
async fn login(
    desk: &Desk,
    http: &reqwest::Client,
    base: &str,
    name: &str,
    role: Role,
    unit: Option<&str>,
) -> anyhow::Result<Session> {
    let password: String = rand::rng().sample_iter(rand::distr::Alphanumeric).take(24).map(char::from).collect();
    let store = desk.store();
    match store.user(name).await? {
        Some(u) => {
            anyhow::ensure!(
                u.role == role && u.unit.as_deref() == unit,
                "user {name} exists with another role or unit: remove it or use another store"
            );
            store.set_password(name, &password).await?;
            store.set_user_disabled(name, false).await?;
        }
        None => {
            store.create_user(name, role, unit, &password, Utc::now()).await?;
        }
    }
    let r = http
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"name": name, "password": password}))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "login as {name}: {}", r.status());
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("jiesu_session="))
        .and_then(|c| c.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("login as {name}: no session cookie"))?
        .to_string();
    // The CSRF token of the session's forms, as the intake page carries it.
    let page = http.get(format!("{base}/cases")).header("cookie", &cookie).send().await?.text().await?;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no CSRF token on the console's pages for {name}"))?
        .to_string();
    Ok(Session { cookie, csrf })
}

/// Real citizen messages for the intake suggestions: the Teddy Cup sample if at hand, else the
/// texts of the store's newest cases.
async fn messages(desk: &Desk, path: &Path) -> anyhow::Result<Vec<String>> {
    if path.exists() {
        let (rows, _) = jiesu_intake::classify::data::read_labeled_csv(path)?;
        let texts: Vec<String> = rows.into_iter().map(|(t, _)| t.chars().take(2000).collect()).collect();
        if !texts.is_empty() {
            return Ok(texts);
        }
    }
    let recent = desk.store().list(&Scope::All, &CaseFilter::default(), Page { limit: 500, before: None }).await?;
    Ok(recent.into_iter().map(|c| c.case.text).collect())
}

/// The month before the newest case's, as `YYYY-MM` (a full month of a demo that ends now).
async fn last_month(desk: &Desk) -> anyhow::Result<String> {
    let newest = desk.store().list(&Scope::All, &CaseFilter::default(), Page { limit: 1, before: None }).await?;
    let at = newest.first().map(|c| c.state.received_at).unwrap_or_else(Utc::now);
    let local = at.with_timezone(&desk.config().tz);
    let (y, m) = if local.month() == 1 { (local.year() - 1, 12) } else { (local.year(), local.month() - 1) };
    Ok(format!("{y:04}-{m:02}"))
}

/// One request of a page: a GET, or a form POST when `form` is given; the answer must be a
/// success and, when `expect` is given, contain it (a page that renders an error is an error).
async fn request(
    http: &reqwest::Client,
    base: &str,
    s: &Session,
    path: &str,
    form: Option<Vec<(&str, String)>>,
    expect: Option<&str>,
    t: &mut Timings,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let req = match form {
        Some(mut f) => {
            f.push(("csrf", s.csrf.clone()));
            http.post(format!("{base}{path}")).form(&f)
        }
        None => http.get(format!("{base}{path}")),
    };
    let r = req.header("cookie", &s.cookie).send().await?;
    let status = r.status();
    let server = server_time(&r);
    let body = r.bytes().await?;
    let client = started.elapsed();
    if !status.is_success() {
        t.errors.push(format!("{path}: {status}"));
        return Ok(());
    }
    if let Some(want) = expect
        && !String::from_utf8_lossy(&body).contains(want)
    {
        t.errors.push(format!("{path}: the answer lacks {want:?}"));
        return Ok(());
    }
    t.server.push(server.ok_or_else(|| anyhow::anyhow!("{path}: no Server-Timing header"))?);
    t.client.push(client);
    Ok(())
}

/// Runs the benchmark on `desk` (a filled store), `requests` requests per page.
pub async fn pages(desk: &Desk, requests: usize, messages_path: &Path) -> anyhow::Result<bool> {
    let max_id = desk.store().max_case_id().await?.ok_or_else(|| anyhow::anyhow!("the store has no cases"))?;
    let (unit, open) = crate::cmd_accounts::busiest_unit(desk, |_| true)
        .await?
        .context("no unit holds an open case: fill the store first (jiesu demo)")?;
    let month = last_month(desk).await?;
    let texts = messages(desk, messages_path).await?;
    println!(
        "store: {max_id} cases; busiest unit {unit} ({open} open cases); last month {month}; {} messages",
        texts.len()
    );

    let (addr, stop) = start(desk, AppState::new(desk.clone()).anonymous_reads).await?;
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let operator = login(desk, &http, &base, "bench-operator", Role::Operator, None).await?;
    let leader = login(desk, &http, &base, "bench-leader", Role::Admin, None).await?;
    let dispatcher = login(desk, &http, &base, "bench-dispatcher", Role::Dispatcher, None).await?;
    let handler =
        login(desk, &http, &base, &format!("bench-handler-{unit}"), Role::UnitHandler, Some(unit.as_str())).await?;

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
    // The contract's six pages, then the other daily pages.
    let names =
        ["intake", "inbox", "case", "search", "map", "assessment", "dispatch", "notices", "callback", "supervise"];
    let mut results: HashMap<&str, Timings> = HashMap::new();
    let mut search_by_len: HashMap<usize, Vec<Duration>> = HashMap::new();
    let warmup = (requests / 10).clamp(3, 20);
    for name in names {
        let mut t = Timings::default();
        for i in 0..warmup + requests {
            let mut one = Timings::default();
            match name {
                "intake" => {
                    let text = texts[rng.random_range(0..texts.len())].clone();
                    let form = Some(vec![("text", text)]);
                    // Suggestions, not an error.
                    let want = Some("id=\"suggestions\"");
                    request(&http, &base, &operator, "/intake/suggest", form, want, &mut one).await?
                }
                "inbox" => request(&http, &base, &handler, "/inbox", None, None, &mut one).await?,
                "case" => {
                    let id = rng.random_range(1..=max_id);
                    request(&http, &base, &leader, &format!("/cases/{id}"), None, None, &mut one).await?
                }
                "search" => {
                    let word = if i % 2 == 0 {
                        WORDS_2[rng.random_range(0..WORDS_2.len())]
                    } else {
                        WORDS_4[rng.random_range(0..WORDS_4.len())]
                    };
                    request(&http, &base, &operator, &format!("/cases?q={word}"), None, None, &mut one).await?;
                    if i >= warmup {
                        search_by_len.entry(word.chars().count()).or_default().extend(one.server.iter().copied());
                    }
                }
                "map" => {
                    let path =
                        if i % 4 == 3 { "/map".to_string() } else { format!("/map/data?period={month}&measure=all") };
                    request(&http, &base, &leader, &path, None, None, &mut one).await?
                }
                "assessment" => {
                    let path = format!("/assessment?period={month}");
                    request(&http, &base, &leader, &path, None, None, &mut one).await?
                }
                "dispatch" => request(&http, &base, &dispatcher, "/dispatch", None, None, &mut one).await?,
                "notices" => {
                    // The badge's count (every page asks it) and the page, alternately.
                    let path = if i % 2 == 0 { "/notices/count" } else { "/notices" };
                    request(&http, &base, &handler, path, None, None, &mut one).await?
                }
                "callback" => request(&http, &base, &operator, "/callback", None, None, &mut one).await?,
                "supervise" => request(&http, &base, &leader, "/supervise", None, None, &mut one).await?,
                _ => unreachable!(),
            }
            if i >= warmup {
                t.server.extend(one.server);
                t.client.extend(one.client);
            }
            t.errors.extend(one.errors);
        }
        t.server.sort();
        t.client.sort();
        println!(
            "{name:<11} server p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  (client p99 {:>8.2} ms; {} requests, {} errors)",
            percentile(&t.server, 0.5),
            percentile(&t.server, 0.99),
            t.server.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
            percentile(&t.client, 0.99),
            t.server.len(),
            t.errors.len()
        );
        for e in t.errors.iter().take(3) {
            println!("  error: {e}");
        }
        results.insert(name, t);
    }
    for (len, mut v) in search_by_len {
        v.sort();
        println!(
            "search of {len}-character words: server p50 {:.2} ms, p99 {:.2} ms",
            percentile(&v, 0.5),
            percentile(&v, 0.99)
        );
    }
    drop(stop);
    let mut ok = true;
    for name in names {
        let t = &results[name];
        ok &= t.errors.is_empty();
        println!("{name}_p99_ms: {:.2}", percentile(&t.server, 0.99));
    }
    Ok(ok)
}
