//! `jiesu devices …`: the sensor registry from CSV (issue 13), and the demo's devices in
//! Dongcheng's hutongs.
//!
//! The CSV has a header row and the columns `id,kind,category,lat,lon,unit[,building]`: position
//! in GCJ-02 (the district's datum, as its map and grid), `kind` one of
//! `jiesu_domain::alarm::DEVICE_KINDS`, `category` a leaf category code, `unit` the responsible
//! unit's code. Every row is checked first and every problem reported with its line; nothing is
//! written unless all rows are good. New devices get a webhook token, written once to
//! `--tokens FILE` (mode 0600, `id,token`); re-imported ones keep theirs.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;
use jiesu_core::Desk;
use jiesu_core::alarms::DeviceInput;
use jiesu_domain::model::UnitKind;
use jiesu_store::Device;

use crate::StoreArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum DevicesCmd {
    /// Register or update devices from a CSV file (id,kind,category,lat,lon,unit[,building]; GCJ-02).
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// The CSV file.
        file: PathBuf,
        /// Where to write the new devices' webhook tokens (id,token; mode 0600). Without it the
        /// new devices get no token (MQTT only) until one is made through the API.
        #[arg(long)]
        tokens: Option<PathBuf>,
    },
    /// Register the demo's devices: N smoke, electrical-fire, 火眼, tilt, water and manhole
    /// sensors spread over the district's grid cells (deterministic for a seed).
    Demo {
        #[command(flatten)]
        store: StoreArgs,
        /// How many devices.
        #[arg(long, default_value_t = 300)]
        count: usize,
        /// Random seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

pub(crate) async fn run(cmd: DevicesCmd) -> anyhow::Result<()> {
    match cmd {
        DevicesCmd::Import { store, file, tokens } => {
            let desk = crate::open_desk(&store).await?;
            let desk = desk.with_geo(std::sync::Arc::new(crate::cmd_geo::load_geo(None)?));
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let devices = parse_csv(&desk, &text)
                .map_err(|errors| anyhow::anyhow!("{}: nothing imported:\n{}", file.display(), errors.join("\n")))?;
            let (new, updated) = register(&desk, devices, tokens.as_deref()).await?;
            println!("devices: {new} new, {updated} updated");
            desk.store().close().await;
            Ok(())
        }
        DevicesCmd::Demo { store, count, seed } => {
            let desk = crate::open_desk(&store).await?;
            let desk = desk.with_geo(std::sync::Arc::new(crate::cmd_geo::load_geo(None)?));
            let devices = demo_devices(&desk, "DC", count, seed)?;
            let (new, updated) = register(&desk, devices, None).await?;
            println!("demo devices: {new} new, {updated} updated");
            desk.store().close().await;
            Ok(())
        }
    }
}

/// The demo's 300 devices (ids `DC-0001`…), registered when `jiesu serve` fills an empty store.
pub(crate) async fn demo(desk: &Desk, outline: Option<&Path>) -> anyhow::Result<()> {
    let desk = desk.clone().with_geo(std::sync::Arc::new(crate::cmd_geo::load_geo(outline)?));
    let devices = demo_devices(&desk, "DC", 300, 2026)?;
    let (new, _) = register(&desk, devices, None).await?;
    println!("demo devices: {new} sensors registered (jiesu devices import adds real ones)");
    Ok(())
}

/// Reads and checks every row; all problems with their line numbers, or the devices.
pub(crate) fn parse_csv(desk: &Desk, text: &str) -> Result<Vec<Device>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(vec![format!("header: {e}")]),
    };
    let want = ["id", "kind", "category", "lat", "lon", "unit"];
    let col = |name: &str| headers.iter().position(|h| h == name);
    let missing: Vec<&str> = want.iter().copied().filter(|w| col(w).is_none()).collect();
    if !missing.is_empty() {
        return Err(vec![format!(
            "header: missing column(s) {} (want id,kind,category,lat,lon,unit[,building])",
            missing.join(", ")
        )]);
    }
    let building = col("building");
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    let now = Utc::now();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let get = |name: &str| col(name).and_then(|c| row.get(c)).unwrap_or("").to_string();
        let num = |name: &str| get(name).parse::<f64>().ok();
        let (Some(lat), Some(lon)) = (num("lat"), num("lon")) else {
            errors.push(format!("line {line}: lat and lon must be numbers (degrees, GCJ-02)"));
            continue;
        };
        let input = DeviceInput {
            id: get("id"),
            kind: get("kind"),
            category: get("category"),
            lat,
            lon,
            building: building.and_then(|c| row.get(c)).filter(|b| !b.is_empty()).map(str::to_string),
            unit: get("unit"),
        };
        if !seen.insert(input.id.clone()) {
            errors.push(format!("line {line}: device id {} appears twice", input.id));
            continue;
        }
        match desk.device(input, now) {
            Ok(d) => out.push(d),
            Err(jiesu_core::CoreError::Invalid(list)) => {
                errors.extend(list.into_iter().map(|e| format!("line {line}: {}: {}", e.field, e.message)));
            }
            Err(e) => errors.push(format!("line {line}: {e}")),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Writes the devices; new ones get a token when `tokens` names a file. Returns (new, updated).
pub(crate) async fn register(
    desk: &Desk,
    devices: Vec<Device>,
    tokens: Option<&Path>,
) -> anyhow::Result<(usize, usize)> {
    let ids: Vec<&str> = devices.iter().map(|d| d.id.as_str()).collect();
    let known = desk.store().devices_by_id(&ids).await?;
    let mut rows = Vec::with_capacity(devices.len());
    let mut lines = String::from("id,token\n");
    let mut new = 0;
    for d in devices {
        let token = (!known.contains_key(&d.id) && tokens.is_some()).then(jiesu_store::new_device_token);
        if let Some(t) = &token {
            lines.push_str(&format!("{},{t}\n", d.id));
        }
        new += usize::from(!known.contains_key(&d.id));
        rows.push((d, token));
    }
    if let Some(path) = tokens {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options
            .open(path)
            .with_context(|| format!("creating the tokens file {} (refused if it exists)", path.display()))?;
        f.write_all(lines.as_bytes())?;
    }
    let updated = rows.len() - new;
    desk.store().put_devices(&rows).await?;
    Ok((new, updated))
}

/// `count` demo devices with ids `{prefix}-0001`…, spread over the grid's cells: kinds in a
/// district's proportions, each under its category and responsible unit (the street office for
/// smoke, 火眼 and tilt sensors; the power company for electrical fire; drainage for water; the
/// city management committee for manholes).
pub(crate) fn demo_devices(desk: &Desk, prefix: &str, count: usize, seed: u64) -> anyhow::Result<Vec<Device>> {
    let Some(grid) = desk.geo().and_then(|g| g.grid()) else { bail!("the desk has no grid") };
    let cells = grid.cells();
    if cells.is_empty() {
        bail!("the grid has no cells");
    }
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let kinds: &[(&str, &str, Option<&str>, u32)] = &[
        ("smoke", "1601", None, 35),
        ("huoyan", "1601", None, 20),
        ("electrical_fire", "1601", Some("U01"), 15),
        ("tilt", "0304", None, 15),
        ("water", "0803", Some("U05"), 8),
        ("manhole", "0105", Some("B01"), 7),
    ];
    let total: u32 = kinds.iter().map(|k| k.3).sum();
    let now = Utc::now();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let cell = &cells[next() % cells.len()];
        let street = grid.street_of(cell);
        let mut pick = (next() as u32) % total;
        let kind = kinds
            .iter()
            .find(|k| {
                if pick < k.3 {
                    true
                } else {
                    pick -= k.3;
                    false
                }
            })
            .unwrap_or(&kinds[0]);
        let office = desk
            .catalog()
            .units()
            .iter()
            .find(|u| u.kind == UnitKind::Street && u.street_code.as_deref() == Some(street.code.as_str()))
            .map(|u| u.code.clone());
        let unit = kind.2.map(str::to_string).or(office).unwrap_or_else(|| "D000".into());
        let c = cell.centre;
        let building = (next() % 3 == 0).then(|| format!("{}-{}号院", street.name, 1 + next() % 99));
        let input = DeviceInput {
            id: format!("{prefix}-{:04}", i + 1),
            kind: kind.0.into(),
            category: kind.1.into(),
            lat: c.lat,
            lon: c.lon,
            building,
            unit,
        };
        out.push(desk.device(input, now)?);
    }
    Ok(out)
}
