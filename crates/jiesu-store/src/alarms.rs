//! Sensor alarms (issue 13, migration 0016): the device registry, the alarms accepted (their
//! primary key is the de-duplication on the device's message id), each place's colour (三色预警)
//! and its colour log, and the count of refused payloads per reason.
//!
//! The store decides nothing here: the rules are `jiesu_domain::alarm`, applied by the desk
//! (`jiesu-core::alarms`), which writes a batch of alarms, colour changes and counts in one
//! transaction ([`Store::commit_alarms`]).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use jiesu_domain::alarm::{Colour, ColourEntry, Level};
use sqlx::{AssertSqlSafe, Row};

use crate::accounts::sha256_hex;
use crate::{Store, StoreError};

/// A registered device.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// Its id (as in its payloads and MQTT topic).
    pub id: String,
    /// What it is (smoke, electrical_fire, huoyan, tilt, water, …).
    pub kind: String,
    /// The leaf category its alarms' cases go under.
    pub category: String,
    /// Latitude, GCJ-02.
    pub lat: f64,
    /// Longitude, GCJ-02.
    pub lon: f64,
    /// Street code.
    pub street: Option<String>,
    /// Community code.
    pub community: Option<String>,
    /// Grid cell code.
    pub grid: Option<String>,
    /// Building, when known.
    pub building: Option<String>,
    /// The responsible unit.
    pub unit: String,
    /// When registered.
    pub created_at: DateTime<Utc>,
    /// Suppressed (flapping) until then.
    pub suppressed_until: Option<DateTime<Utc>>,
    /// It has a webhook token.
    pub has_token: bool,
    token_hash: Option<String>,
}

impl Device {
    /// A new device record (no token yet; see [`Store::put_devices`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: String,
        kind: String,
        category: String,
        (lon, lat): (f64, f64),
        street: Option<String>,
        community: Option<String>,
        grid: Option<String>,
        building: Option<String>,
        unit: String,
        created_at: DateTime<Utc>,
    ) -> Device {
        Device {
            id,
            kind,
            category,
            lat,
            lon,
            street,
            community,
            grid,
            building,
            unit,
            created_at,
            suppressed_until: None,
            has_token: false,
            token_hash: None,
        }
    }

    /// True when `token` is this device's webhook token (compared by hash).
    pub fn token_matches(&self, token: &str) -> bool {
        self.token_hash.as_deref().is_some_and(|h| h == sha256_hex(token))
    }

    /// The place its alarms colour: the building when known, else the grid cell, else the device.
    pub fn place(&self) -> String {
        match (&self.building, &self.grid) {
            (Some(b), _) => format!("building:{b}"),
            (None, Some(g)) => format!("grid:{g}"),
            (None, None) => format!("device:{}", self.id),
        }
    }
}

/// An alarm as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRow {
    /// Device id.
    pub device: String,
    /// The device's message id.
    pub msg_id: String,
    /// Device time.
    pub at: DateTime<Utc>,
    /// When received.
    pub received_at: DateTime<Utc>,
    /// Level.
    pub level: Level,
    /// Reading.
    pub reading: Option<f64>,
    /// The place it coloured.
    pub place: String,
    /// What the rules did (`Decision::outcome`).
    pub outcome: String,
    /// The case it opened or joined.
    pub case_id: Option<i64>,
    /// `mqtt` or `http`.
    pub door: String,
}

/// A place's colour.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceColour {
    /// The place (`grid:CODE`, `building:NAME`).
    pub place: String,
    /// Its grid cell.
    pub grid: Option<String>,
    /// Its street.
    pub street: Option<String>,
    /// The unit responsible for the device that last coloured it.
    pub unit: Option<String>,
    /// The colour.
    pub colour: Colour,
    /// Since when.
    pub since: DateTime<Utc>,
    /// Why (the latest change's reason).
    pub reason: String,
    /// The place's alarm case while it is open (None once closed or merged).
    pub open_case: Option<i64>,
    /// The length of its colour log.
    pub seq: i64,
}

/// One change of a place's colour.
#[derive(Debug, Clone, PartialEq)]
pub struct ColourChange {
    /// The place.
    pub place: String,
    /// Position in the place's log, from 1.
    pub seq: i64,
    /// Device time of the alarm that changed it.
    pub at: DateTime<Utc>,
    /// Before.
    pub from: Colour,
    /// After.
    pub to: Colour,
    /// Why.
    pub reason: String,
    /// The device and message that changed it.
    pub device: Option<String>,
    /// Its message id.
    pub msg_id: Option<String>,
}

/// A recent alarm, as the rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentAlarm {
    /// Device.
    pub device: String,
    /// Place.
    pub place: String,
    /// Device time.
    pub at: DateTime<Utc>,
    /// Level.
    pub level: Level,
    /// It was suppressed.
    pub suppressed: bool,
}

/// A batch of accepted alarms and what they changed, written in one transaction.
#[derive(Debug, Default)]
pub struct AlarmBatch {
    /// The alarms.
    pub alarms: Vec<AlarmRow>,
    /// The places' new colours (whole rows, upserted).
    pub places: Vec<PlaceColour>,
    /// The colour log entries.
    pub changes: Vec<ColourChange>,
    /// Refused payloads per reason.
    pub rejects: HashMap<&'static str, i64>,
    /// Devices that flap, suppressed until then.
    pub suppressed: Vec<(String, DateTime<Utc>)>,
}

/// How many alarms and refusals the store holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmCounts {
    /// Alarms accepted.
    pub accepted: i64,
    /// Cases opened by alarms.
    pub cases_opened: i64,
    /// Alarms suppressed (flapping devices).
    pub suppressed: i64,
    /// Refused payloads per reason.
    pub rejected: Vec<(String, i64)>,
}

/// A new webhook token for a device (`jsd_` and 32 random bytes): shown once, stored as a hash.
pub fn new_device_token() -> String {
    format!("jsd_{}", crate::accounts::random_secret())
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

fn colour(s: &str) -> Result<Colour, StoreError> {
    Colour::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown colour '{s}'")))
}

fn level(s: &str) -> Result<Level, StoreError> {
    Level::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown alarm level '{s}'")))
}

const DEVICE_COLUMNS: &str = "id, kind, category, lat, lon, street, community, grid, building, unit, token_hash, \
                              created_at, suppressed_until";

fn device_of(r: &sqlx::any::AnyRow) -> Result<Device, StoreError> {
    let token_hash: Option<String> = r.try_get("token_hash")?;
    Ok(Device {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        category: r.try_get("category")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        street: r.try_get("street")?,
        community: r.try_get("community")?,
        grid: r.try_get("grid")?,
        building: r.try_get("building")?,
        unit: r.try_get("unit")?,
        created_at: time(r.try_get("created_at")?),
        suppressed_until: r.try_get::<Option<i64>, _>("suppressed_until")?.map(time),
        has_token: token_hash.is_some(),
        token_hash,
    })
}

/// `$first, $first+1, …` for `n` values.
fn marks(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// Registers or updates devices in one transaction. A given token replaces the device's
    /// (stored as its SHA-256 hash); None keeps the one it has.
    pub async fn put_devices(&self, devices: &[(Device, Option<String>)]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for (d, token) in devices {
            sqlx::query(
                "INSERT INTO devices (id, kind, category, lat, lon, street, community, grid, building, unit, token_hash, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, category = excluded.category, lat = excluded.lat, \
                 lon = excluded.lon, street = excluded.street, community = excluded.community, grid = excluded.grid, \
                 building = excluded.building, unit = excluded.unit, \
                 token_hash = COALESCE(excluded.token_hash, devices.token_hash)",
            )
            .bind(&d.id)
            .bind(&d.kind)
            .bind(&d.category)
            .bind(d.lat)
            .bind(d.lon)
            .bind(&d.street)
            .bind(&d.community)
            .bind(&d.grid)
            .bind(&d.building)
            .bind(&d.unit)
            .bind(token.as_deref().map(sha256_hex))
            .bind(ms(d.created_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One device.
    pub async fn device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(device_of).transpose()
    }

    /// Devices by id, after `after`, at most `limit`.
    pub async fn devices(&self, after: Option<&str>, limit: u32) -> Result<Vec<Device>, StoreError> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(device_of).collect()
    }

    /// The devices among `ids` that are registered.
    pub async fn devices_by_id(&self, ids: &[&str]) -> Result<HashMap<String, Device>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id IN ({})", marks(1, chunk.len()));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.write_pool()).await? {
                let d = device_of(&r)?;
                out.insert(d.id.clone(), d);
            }
        }
        Ok(out)
    }

    /// Removes a device (its alarms stay). True when it existed.
    pub async fn delete_device(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM devices WHERE id = $1").bind(id).execute(&self.writer).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Of the (device, message id) pairs, those already accepted.
    pub async fn known_alarms(&self, keys: &[(&str, &str)]) -> Result<HashSet<(String, String)>, StoreError> {
        let mut out = HashSet::new();
        for chunk in keys.chunks(400) {
            let devices: Vec<&str> = chunk.iter().map(|k| k.0).collect::<HashSet<_>>().into_iter().collect();
            let ids: Vec<&str> = chunk.iter().map(|k| k.1).collect::<HashSet<_>>().into_iter().collect();
            let sql = format!(
                "SELECT device, msg_id FROM alarms WHERE device IN ({}) AND msg_id IN ({})",
                marks(1, devices.len()),
                marks(devices.len() + 1, ids.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in devices.iter().chain(ids.iter()) {
                q = q.bind(*v);
            }
            let wanted: HashSet<(&str, &str)> = chunk.iter().copied().collect();
            for r in q.fetch_all(self.write_pool()).await? {
                let (d, m): (String, String) = (r.try_get("device")?, r.try_get("msg_id")?);
                if wanted.contains(&(d.as_str(), m.as_str())) {
                    out.insert((d, m));
                }
            }
        }
        Ok(out)
    }

    /// The colours of `places` (those that have one), with their open alarm case.
    pub async fn place_colours(&self, places: &[&str]) -> Result<HashMap<String, PlaceColour>, StoreError> {
        let mut out = HashMap::new();
        for chunk in places.chunks(500) {
            let sql = format!("{PLACE_SELECT} WHERE p.place IN ({})", marks(1, chunk.len()));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for p in chunk {
                q = q.bind(*p);
            }
            for r in q.fetch_all(self.write_pool()).await? {
                let p = place_of(&r)?;
                out.insert(p.place.clone(), p);
            }
        }
        Ok(out)
    }

    /// Every place that is not green, or of `unit` only; reds first, then by place.
    pub async fn coloured_places(&self, unit: Option<&str>) -> Result<Vec<PlaceColour>, StoreError> {
        let sql = format!(
            "{PLACE_SELECT} WHERE p.colour <> 'green' AND ($1 = '' OR p.unit = $1) \
             ORDER BY CASE p.colour WHEN 'red' THEN 0 ELSE 1 END, p.place"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(unit.unwrap_or("")).fetch_all(&self.pool).await?;
        rows.iter().map(place_of).collect()
    }

    /// Recent alarms (device time at or after `since`) at `places` or from `devices`, oldest first.
    pub async fn recent_alarms(
        &self,
        places: &[&str],
        devices: &[&str],
        since: DateTime<Utc>,
    ) -> Result<Vec<RecentAlarm>, StoreError> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (column, values) in [("place", places), ("device", devices)] {
            for chunk in values.chunks(500) {
                let sql = format!(
                    "SELECT device, msg_id, place, at, level, outcome FROM alarms WHERE at >= $1 AND {column} IN ({}) \
                     ORDER BY at",
                    marks(2, chunk.len())
                );
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(ms(since));
                for v in chunk {
                    q = q.bind(*v);
                }
                for r in q.fetch_all(self.write_pool()).await? {
                    let (device, msg): (String, String) = (r.try_get("device")?, r.try_get("msg_id")?);
                    if !seen.insert((device.clone(), msg)) {
                        continue;
                    }
                    let outcome: String = r.try_get("outcome")?;
                    out.push(RecentAlarm {
                        device,
                        place: r.try_get("place")?,
                        at: time(r.try_get("at")?),
                        level: level(&r.try_get::<String, _>("level")?)?,
                        suppressed: outcome.starts_with("suppressed"),
                    });
                }
            }
        }
        out.sort_by_key(|a| a.at);
        Ok(out)
    }

    /// Writes a batch of accepted alarms, the places' new colours, their colour log entries, the
    /// refusal counts and the devices' suppression, in one transaction. An alarm already stored
    /// (same device and message id) makes the whole batch fail: the caller de-duplicates first.
    pub async fn commit_alarms(&self, batch: &AlarmBatch) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for chunk in batch.alarms.chunks(100) {
            let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({})", marks(i * 10 + 1, 10))).collect();
            let sql = format!(
                "INSERT INTO alarms (device, msg_id, at, received_at, level, reading, place, outcome, case_id, door) \
                 VALUES {}",
                rows.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for a in chunk {
                q = q
                    .bind(&a.device)
                    .bind(&a.msg_id)
                    .bind(ms(a.at))
                    .bind(ms(a.received_at))
                    .bind(a.level.code())
                    .bind(a.reading)
                    .bind(&a.place)
                    .bind(&a.outcome)
                    .bind(a.case_id)
                    .bind(&a.door);
            }
            q.execute(&mut *tx).await?;
        }
        for p in &batch.places {
            sqlx::query(
                "INSERT INTO place_colours (place, grid, street, unit, colour, since, reason, case_id, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (place) DO UPDATE SET grid = excluded.grid, \
                 street = excluded.street, unit = excluded.unit, colour = excluded.colour, since = excluded.since, \
                 reason = excluded.reason, case_id = excluded.case_id, seq = excluded.seq",
            )
            .bind(&p.place)
            .bind(&p.grid)
            .bind(&p.street)
            .bind(&p.unit)
            .bind(p.colour.code())
            .bind(ms(p.since))
            .bind(&p.reason)
            .bind(p.open_case)
            .bind(p.seq)
            .execute(&mut *tx)
            .await?;
        }
        for c in &batch.changes {
            sqlx::query(
                "INSERT INTO colour_log (place, seq, at, from_colour, to_colour, reason, device, msg_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&c.place)
            .bind(c.seq)
            .bind(ms(c.at))
            .bind(c.from.code())
            .bind(c.to.code())
            .bind(&c.reason)
            .bind(&c.device)
            .bind(&c.msg_id)
            .execute(&mut *tx)
            .await?;
        }
        for (reason, n) in &batch.rejects {
            sqlx::query(
                "INSERT INTO alarm_rejects (reason, n) VALUES ($1, $2) ON CONFLICT (reason) DO UPDATE SET n = alarm_rejects.n + excluded.n",
            )
            .bind(*reason)
            .bind(*n)
            .execute(&mut *tx)
            .await?;
        }
        for (device, until) in &batch.suppressed {
            sqlx::query("UPDATE devices SET suppressed_until = $2 WHERE id = $1")
                .bind(device)
                .bind(ms(*until))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// True when case `id` already has the 设备告警 event of `device`'s message `msg_id` (an alarm
    /// joined to a case before its batch was committed, delivered again).
    pub async fn has_alarm_event(&self, id: i64, device: &str, msg_id: &str) -> Result<bool, StoreError> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT body FROM events WHERE case_id = $1 AND action = 'alarm' AND body LIKE $2")
                .bind(id)
                .bind(format!("%{msg_id}%"))
                .fetch_all(self.write_pool())
                .await?;
        for b in rows {
            let e: jiesu_domain::workflow::Event =
                serde_json::from_str(&b).map_err(|e| StoreError::Corrupt(format!("case {id} event: {e}")))?;
            if let jiesu_domain::workflow::Action::Alarm { device: d, message, .. } = &e.action
                && d == device
                && message == msg_id
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// How many alarms were accepted, opened cases, were suppressed; refusals per reason.
    pub async fn alarm_counts(&self) -> Result<AlarmCounts, StoreError> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN outcome = 'case_opened' THEN 1 ELSE 0 END), 0) AS opened, \
             COALESCE(SUM(CASE WHEN outcome LIKE 'suppressed%' THEN 1 ELSE 0 END), 0) AS suppressed FROM alarms",
        )
        .fetch_one(&self.pool)
        .await?;
        let rejected = sqlx::query("SELECT reason, n FROM alarm_rejects ORDER BY reason")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("reason")?, r.try_get("n")?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(AlarmCounts {
            accepted: r.try_get("n")?,
            cases_opened: r.try_get("opened")?,
            suppressed: r.try_get("suppressed")?,
            rejected,
        })
    }

    /// For devices whose id starts with `prefix`: alarms stored, cases they opened, and the
    /// cases they opened or joined (benchmarks and tests).
    pub async fn alarm_tally(&self, prefix: &str) -> Result<(i64, i64, Vec<i64>), StoreError> {
        let like = format!("{}%", prefix.replace(['%', '_'], ""));
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN outcome = 'case_opened' THEN 1 ELSE 0 END), 0) AS opened              FROM alarms WHERE device LIKE $1",
        )
        .bind(&like)
        .fetch_one(&self.pool)
        .await?;
        let cases: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT case_id FROM alarms WHERE device LIKE $1 AND case_id IS NOT NULL ORDER BY case_id",
        )
        .bind(&like)
        .fetch_all(&self.pool)
        .await?;
        Ok((r.try_get("n")?, r.try_get("opened")?, cases))
    }

    /// Alarms received in [`from`, `to`), and the cases they opened with the time each opening
    /// alarm was received (the monthly report).
    pub async fn alarms_received(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(i64, Vec<(i64, DateTime<Utc>)>), StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alarms WHERE received_at >= $1 AND received_at < $2")
            .bind(ms(from))
            .bind(ms(to))
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query(
            "SELECT case_id, received_at FROM alarms WHERE received_at >= $1 AND received_at < $2 \
             AND outcome = 'case_opened' AND case_id IS NOT NULL ORDER BY case_id",
        )
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&self.pool)
        .await?;
        let cases = rows
            .iter()
            .map(|r| Ok((r.try_get("case_id")?, time(r.try_get("received_at")?))))
            .collect::<Result<_, StoreError>>()?;
        Ok((n, cases))
    }

    /// The alarms of one device, newest first, at most `limit`.
    pub async fn alarms_of(&self, device: &str, limit: u32) -> Result<Vec<AlarmRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT device, msg_id, at, received_at, level, reading, place, outcome, case_id, door FROM alarms \
             WHERE device = $1 ORDER BY at DESC, msg_id DESC LIMIT $2",
        )
        .bind(device)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AlarmRow {
                    device: r.try_get("device")?,
                    msg_id: r.try_get("msg_id")?,
                    at: time(r.try_get("at")?),
                    received_at: time(r.try_get("received_at")?),
                    level: level(&r.try_get::<String, _>("level")?)?,
                    reading: r.try_get("reading")?,
                    place: r.try_get("place")?,
                    outcome: r.try_get("outcome")?,
                    case_id: r.try_get("case_id")?,
                    door: r.try_get("door")?,
                })
            })
            .collect()
    }

    /// The colour log of `place`, in order.
    pub async fn colour_log(&self, place: &str) -> Result<Vec<ColourChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT place, seq, at, from_colour, to_colour, reason, device, msg_id FROM colour_log WHERE place = $1 \
             ORDER BY seq",
        )
        .bind(place)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change_of).collect()
    }

    /// Every place's stored colour with its colour log (for `jiesu check`), and log entries of
    /// places that have no colour row.
    pub async fn colour_logs(&self) -> Result<(Vec<(PlaceColour, Vec<ColourEntry>)>, Vec<String>), StoreError> {
        let places = sqlx::query(AssertSqlSafe(format!("{PLACE_SELECT} ORDER BY p.place")))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(place_of)
            .collect::<Result<Vec<_>, _>>()?;
        let mut logs: HashMap<String, Vec<ColourEntry>> = HashMap::new();
        let rows = sqlx::query("SELECT place, seq, from_colour, to_colour FROM colour_log ORDER BY place, seq")
            .fetch_all(&self.pool)
            .await?;
        for r in rows {
            logs.entry(r.try_get("place")?).or_default().push(ColourEntry {
                seq: r.try_get("seq")?,
                from: colour(&r.try_get::<String, _>("from_colour")?)?,
                to: colour(&r.try_get::<String, _>("to_colour")?)?,
            });
        }
        let out = places
            .into_iter()
            .map(|p| {
                let log = logs.remove(&p.place).unwrap_or_default();
                (p, log)
            })
            .collect();
        let mut orphans: Vec<String> = logs.into_keys().collect();
        orphans.sort();
        Ok((out, orphans))
    }

    /// The worst colour of each grid cell that is not green: (grid, street, colour).
    pub async fn grid_colours(&self) -> Result<Vec<(String, Option<String>, Colour)>, StoreError> {
        let rows = sqlx::query(
            "SELECT grid, MAX(street) AS street, MAX(CASE colour WHEN 'red' THEN 2 WHEN 'yellow' THEN 1 ELSE 0 END) AS c \
             FROM place_colours WHERE grid IS NOT NULL AND colour <> 'green' GROUP BY grid ORDER BY grid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let c: i64 = r.try_get::<Option<i64>, _>("c")?.unwrap_or(0);
                let colour = match c {
                    2 => Colour::Red,
                    1 => Colour::Yellow,
                    _ => Colour::Green,
                };
                Ok((r.try_get("grid")?, r.try_get("street")?, colour))
            })
            .collect()
    }
}

/// A place's row, with its case only while that case is open.
const PLACE_SELECT: &str = "SELECT p.place, p.grid, p.street, p.unit, p.colour, p.since, p.reason, p.seq, \
     CASE WHEN c.status IS NULL OR c.status IN ('closed', 'merged') THEN NULL ELSE p.case_id END AS open_case \
     FROM place_colours p LEFT JOIN cases c ON c.id = p.case_id";

fn place_of(r: &sqlx::any::AnyRow) -> Result<PlaceColour, StoreError> {
    Ok(PlaceColour {
        place: r.try_get("place")?,
        grid: r.try_get("grid")?,
        street: r.try_get("street")?,
        unit: r.try_get("unit")?,
        colour: colour(&r.try_get::<String, _>("colour")?)?,
        since: time(r.try_get("since")?),
        reason: r.try_get("reason")?,
        open_case: r.try_get("open_case")?,
        seq: r.try_get("seq")?,
    })
}

fn change_of(r: &sqlx::any::AnyRow) -> Result<ColourChange, StoreError> {
    Ok(ColourChange {
        place: r.try_get("place")?,
        seq: r.try_get("seq")?,
        at: time(r.try_get("at")?),
        from: colour(&r.try_get::<String, _>("from_colour")?)?,
        to: colour(&r.try_get::<String, _>("to_colour")?)?,
        reason: r.try_get("reason")?,
        device: r.try_get("device")?,
        msg_id: r.try_get("msg_id")?,
    })
}
