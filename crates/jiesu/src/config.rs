//! The deployment's settings file (TOML), read once at start-up. Every key is optional.
//!
//! ```toml
//! timezone = "Asia/Shanghai"
//! holidays = ["holidays-2027.csv"]          # more years for the working-day calendar
//!
//! [deadlines]                                # per class: "2h", "24h", "7wd" (working days), "3d"
//! emergency = "2h"
//! utility = "24h"
//! general = "7wd"
//! complex = "15wd"
//!
//! [weights]                                  # composite score of the monthly assessment
//! response = 0.1
//! resolution = 0.45
//! satisfaction = 0.45
//!
//! checkin = "2h"                             # time for 报到 after 吹哨
//! data_key_file = "/etc/jiesu/data.key"      # key sealing citizens' contacts (JIESU_DATA_KEY wins)
//!
//! [open311]                                  # the Open311 GeoReport v2 endpoint
//! base_path = "/open311/v2/"
//! jurisdiction_id = "bjdch.gov.cn"
//! public_url = "https://12345.example.gov.cn"  # for discovery and media URLs (default: the Host header)
//! contact = "东城区12345热线"
//! max_upload_bytes = 8388608                 # largest POST (media included)
//!
//! [limits]                                   # slow and greedy clients
//! header_read_secs = 10                      # a request's headers must arrive within this
//! body_secs = 30                             # … and its whole body within this (else 408)
//! request_secs = 30                          # a read (GET) is answered within this (else 503)
//! anonymous_reads_per_minute = 60            # Open311 GETs per client IP (else 429)
//! anonymous_reads_at_once = 1                # Open311 GETs answered at a time, all clients together
//! ```

use std::path::Path;

use anyhow::{Context, bail};
use jiesu_core::Config;
use jiesu_domain::assessment::Weights;
use jiesu_domain::calendar::Calendar;
use jiesu_domain::deadline::Span;
use jiesu_server::open311::Open311Config;
use jiesu_server::{AnonymousReads, Timeouts};
use jiesu_store::{DataKey, Store, StoreOptions};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    timezone: Option<String>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    deadlines: Deadlines,
    weights: Option<Weights>,
    checkin: Option<String>,
    data_key_file: Option<String>,
    /// Degrees around the district's box where points of new cases may lie.
    coordinate_margin: Option<f64>,
    #[serde(default)]
    open311: Open311Section,
    #[serde(default)]
    limits: LimitsSection,
    /// 三色预警 colour rules of sensor alarms (issue 13).
    #[serde(default)]
    alarms: jiesu_domain::alarm::Rules,
}

/// Reads the `[alarms]` colour rules (the defaults when `path` is None or the section is absent).
pub fn load_alarm_rules(path: Option<&Path>) -> anyhow::Result<jiesu_domain::alarm::Rules> {
    let Some(path) = path else { return Ok(Default::default()) };
    let rules = read(path)?.alarms;
    rules.validate().map_err(anyhow::Error::msg)?;
    Ok(rules)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    header_read_secs: Option<u64>,
    body_secs: Option<u64>,
    request_secs: Option<u64>,
    anonymous_reads_per_minute: Option<u32>,
    anonymous_reads_at_once: Option<usize>,
}

/// The `[limits]` settings: time limits and the limits on anonymous reads.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Header, body and read time limits.
    pub timeouts: Timeouts,
    /// Anonymous (Open311) reads.
    pub anonymous_reads: AnonymousReads,
}

/// Reads the `[limits]` settings (the defaults when `path` is None or the section is absent).
pub fn load_limits(path: Option<&Path>) -> anyhow::Result<Limits> {
    let s = match path {
        Some(p) => read(p)?.limits,
        None => LimitsSection::default(),
    };
    let secs = |key: &str, v: Option<u64>, default: std::time::Duration| -> anyhow::Result<std::time::Duration> {
        match v {
            None => Ok(default),
            Some(0) => bail!("limits.{key} = 0: must be at least 1"),
            Some(n) => Ok(std::time::Duration::from_secs(n)),
        }
    };
    let d = Timeouts::default();
    let timeouts = Timeouts {
        header_read: secs("header_read_secs", s.header_read_secs, d.header_read)?,
        body: secs("body_secs", s.body_secs, d.body)?,
        request: secs("request_secs", s.request_secs, d.request)?,
    };
    if s.anonymous_reads_per_minute == Some(0) || s.anonymous_reads_at_once == Some(0) {
        bail!("limits.anonymous_reads_per_minute and anonymous_reads_at_once must be at least 1");
    }
    let anonymous_reads =
        AnonymousReads::new(s.anonymous_reads_per_minute.unwrap_or(60), s.anonymous_reads_at_once.unwrap_or(1));
    Ok(Limits { timeouts, anonymous_reads })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Open311Section {
    base_path: Option<String>,
    jurisdiction_id: Option<String>,
    public_url: Option<String>,
    contact: Option<String>,
    max_upload_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Deadlines {
    emergency: Option<String>,
    utility: Option<String>,
    general: Option<String>,
    complex: Option<String>,
}

fn span(key: &str, value: &Option<String>, default: Span) -> anyhow::Result<Span> {
    match value {
        None => Ok(default),
        Some(v) => v.parse::<Span>().map_err(|e| anyhow::anyhow!("{key} = {v:?}: {e}")),
    }
}

fn read(path: &Path) -> anyhow::Result<File> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config {}", path.display()))
}

/// Reads `coordinate_margin` (degrees around the district's box where points of new cases may
/// lie; default [`jiesu_server::DEFAULT_MARGIN_DEG`]).
pub fn load_coordinate_margin(path: Option<&Path>) -> anyhow::Result<f64> {
    let Some(path) = path else { return Ok(jiesu_server::DEFAULT_MARGIN_DEG) };
    match read(path)?.coordinate_margin {
        None => Ok(jiesu_server::DEFAULT_MARGIN_DEG),
        Some(m) if m.is_finite() && (0.0..=10.0).contains(&m) => Ok(m),
        Some(m) => bail!("coordinate_margin = {m}: give degrees from 0 to 10"),
    }
}

/// Reads the `[open311]` settings (the defaults when `path` is None or the section is absent).
pub fn load_open311(path: Option<&Path>) -> anyhow::Result<Open311Config> {
    let mut c = Open311Config::default();
    let Some(path) = path else { return Ok(c) };
    let s = read(path)?.open311;
    if let Some(v) = s.base_path {
        c.base_path = v;
    }
    if let Some(v) = s.jurisdiction_id {
        c.jurisdiction_id = v;
    }
    if let Some(v) = s.public_url {
        if !(v.starts_with("http://") || v.starts_with("https://")) {
            bail!("open311.public_url = {v:?}: must start with http:// or https://");
        }
        c.public_url = Some(v);
    }
    if let Some(v) = s.contact {
        c.contact = v;
    }
    if let Some(v) = s.max_upload_bytes {
        if v < 1024 {
            bail!("open311.max_upload_bytes = {v}: must be at least 1024");
        }
        c.max_upload_bytes = v;
    }
    c.mount_path().map_err(|e| anyhow::anyhow!("open311.base_path: {e}"))?;
    Ok(c)
}

/// Whether the settings file names a time zone (else a store's own catalog gives it).
pub fn timezone_set(path: Option<&Path>) -> anyhow::Result<bool> {
    Ok(match path {
        Some(p) => read(p)?.timezone.is_some(),
        None => false,
    })
}

/// Reads the settings file (or the defaults when `path` is None) into the desk's config and the
/// working-day calendar.
pub fn load(path: Option<&Path>) -> anyhow::Result<(Config, Calendar)> {
    let mut config = Config::default();
    let mut calendar = Calendar::china();
    let Some(path) = path else { return Ok((config, calendar)) };
    let file = read(path)?;
    if let Some(tz) = &file.timezone {
        config.tz = tz.parse().map_err(|e| anyhow::anyhow!("timezone = {tz:?}: {e}"))?;
    }
    let d = &file.deadlines;
    let p = config.policy;
    config.policy.emergency = span("deadlines.emergency", &d.emergency, p.emergency)?;
    config.policy.utility = span("deadlines.utility", &d.utility, p.utility)?;
    config.policy.general = span("deadlines.general", &d.general, p.general)?;
    config.policy.complex = span("deadlines.complex", &d.complex, p.complex)?;
    config.checkin = span("checkin", &file.checkin, config.checkin)?;
    if let Some(w) = file.weights {
        if let Err(e) = w.validate() {
            bail!("weights: {e}");
        }
        config.weights = w;
    }
    let base = path.parent().unwrap_or(Path::new("."));
    for h in &file.holidays {
        let p = base.join(h);
        let text = std::fs::read_to_string(&p).with_context(|| format!("reading holidays {}", p.display()))?;
        calendar.extend_from_csv(&text).with_context(|| format!("holidays {}", p.display()))?;
    }
    Ok((config, calendar))
}

/// The key that seals citizens' contacts: `JIESU_DATA_KEY` (32 bytes, base64 or hex), else the
/// settings file's `data_key_file` (relative to the settings file), else None (a SQLite store
/// then uses the key file beside the database; a PostgreSQL store refuses to open).
pub fn data_key(settings: Option<&Path>) -> anyhow::Result<Option<DataKey>> {
    if let Ok(text) = std::env::var("JIESU_DATA_KEY") {
        return Ok(Some(DataKey::parse(&text).context("JIESU_DATA_KEY")?));
    }
    let Some(path) = settings else { return Ok(None) };
    let file = read(path)?;
    let Some(key_file) = file.data_key_file else { return Ok(None) };
    let key_path = path.parent().unwrap_or(Path::new(".")).join(key_file);
    Ok(Some(DataKey::read_file(&key_path)?))
}

/// Where [`data_key`] takes the key from, in words (never the key itself).
pub fn data_key_origin(settings: Option<&Path>) -> anyhow::Result<String> {
    if std::env::var_os("JIESU_DATA_KEY").is_some() {
        return Ok("the environment variable JIESU_DATA_KEY of the servers".into());
    }
    if let Some(path) = settings
        && let Some(key_file) = read(path)?.data_key_file
    {
        let key_path = path.parent().unwrap_or(Path::new(".")).join(key_file);
        return Ok(format!("the file {} (data_key_file in {})", key_path.display(), path.display()));
    }
    Ok("JIESU_DATA_KEY or the settings file's data_key_file, as the servers are configured (neither is set here)"
        .into())
}

/// Opens the store at `db` with the data key of [`data_key`].
pub async fn open_store(db: &str, settings: Option<&Path>) -> anyhow::Result<Store> {
    let data_key = data_key(settings)?;
    Store::open(db, StoreOptions { data_key, ..Default::default() })
        .await
        .with_context(|| format!("opening store {db}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_and_refuses_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("h.csv"), "date,kind,name\n2027-01-01,off,元旦\n").unwrap();
        let cfg = dir.path().join("jiesu.toml");
        std::fs::write(
            &cfg,
            "timezone = \"Asia/Urumqi\"\nholidays = [\"h.csv\"]\ncheckin = \"1h\"\n[deadlines]\ngeneral = \"5wd\"\n[weights]\nresponse = 1\nresolution = 1\nsatisfaction = 2\n",
        )
        .unwrap();
        let (c, cal) = load(Some(&cfg)).unwrap();
        assert_eq!(c.tz, chrono_tz::Asia::Urumqi);
        assert_eq!(c.policy.general, Span::WorkingDays(5));
        assert_eq!(c.policy.emergency, Span::Hours(2));
        assert_eq!(c.checkin, Span::Hours(1));
        assert_eq!(c.weights.satisfaction, 2.0);
        assert!(cal.covers(2027));
        std::fs::write(&cfg, "[deadlines]\ngenral = \"5wd\"\n").unwrap();
        let err = format!("{:#}", load(Some(&cfg)).unwrap_err());
        assert!(err.contains("genral"), "{err}");
        std::fs::write(&cfg, "[deadlines]\ngeneral = \"five days\"\n").unwrap();
        assert!(format!("{:#}", load(Some(&cfg)).unwrap_err()).contains("deadlines.general"));
    }

    #[test]
    fn reads_the_open311_section() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("jiesu.toml");
        assert_eq!(load_open311(None).unwrap().base_path, "/open311/v2/");
        std::fs::write(&cfg, "[open311]\nbase_path = \"/georeport/v2/\"\njurisdiction_id = \"dc.example\"\npublic_url = \"https://x.example\"\n").unwrap();
        let c = load_open311(Some(&cfg)).unwrap();
        assert_eq!((c.base_path.as_str(), c.jurisdiction_id.as_str()), ("/georeport/v2/", "dc.example"));
        assert_eq!(c.public_url.as_deref(), Some("https://x.example"));
        assert!(load(Some(&cfg)).is_ok(), "the desk settings accept the section");
        std::fs::write(&cfg, "[open311]\nbase_path = \"/\"\n").unwrap();
        assert!(format!("{:#}", load_open311(Some(&cfg)).unwrap_err()).contains("base_path"));
        std::fs::write(&cfg, "[open311]\nbase_pth = \"/x\"\n").unwrap();
        assert!(format!("{:#}", load_open311(Some(&cfg)).unwrap_err()).contains("base_pth"));
    }
}
