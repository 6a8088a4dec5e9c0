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
//! ```

use std::path::Path;

use anyhow::{Context, bail};
use jiesu_core::Config;
use jiesu_domain::assessment::Weights;
use jiesu_domain::calendar::Calendar;
use jiesu_domain::deadline::Span;
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

/// Reads the settings file (or the defaults when `path` is None) into the desk's config and the
/// working-day calendar.
pub fn load(path: Option<&Path>) -> anyhow::Result<(Config, Calendar)> {
    let mut config = Config::default();
    let mut calendar = Calendar::china();
    let Some(path) = path else { return Ok((config, calendar)) };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
    let file: File = toml::from_str(&text).with_context(|| format!("config {}", path.display()))?;
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
    let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
    let file: File = toml::from_str(&text).with_context(|| format!("config {}", path.display()))?;
    let Some(key_file) = file.data_key_file else { return Ok(None) };
    let key_path = path.parent().unwrap_or(Path::new(".")).join(key_file);
    Ok(Some(DataKey::read_file(&key_path)?))
}

/// Opens the store at `db` with the data key of [`data_key`].
pub async fn open_store(db: &str, settings: Option<&Path>) -> anyhow::Result<Store> {
    let data_key = data_key(settings)?;
    Store::open(db, StoreOptions { data_key, ..Default::default() }).await.with_context(|| format!("opening store {db}"))
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
}
