//! Sensor alarms through the desk (issue 13): the device registry's checks, and the one rule
//! both doors (MQTT and the webhook) go through, [`Alarms::ingest`].
//!
//! A batch of payloads is read, checked against the registry (unknown devices, a topic naming
//! another device, bad webhook tokens, malformed JSON are refused and counted), de-duplicated on
//! the device's message id (against the store and within the batch), and decided in order by
//! `jiesu_domain::alarm::decide` from each place's stored colour and recent alarms. Red opens a
//! case through [`Desk::prepare`] and `workflow::step` (派单 by the responsibility list with the
//! rule's deadline, 吹哨 of the device's unit when it is not the lead); an alarm on a place with an
//! open case is added to it as a 设备告警 event. Then the alarms, colour changes, colour log and
//! refusal counts are written in one transaction. The caller acknowledges the batch (to the
//! broker, to the HTTP client) only after that commit.
//!
//! **Exactly once in effect.** A case is opened under the external id `alarm:{device}:{message}`
//! (filed once per filer), and an event is added only if the case does not have it yet, so a batch
//! that failed after its case writes and is delivered again decides the same and writes nothing
//! twice. Batches are serialised by a lock (one decision at a time per process).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::lock::Mutex;
use jiesu_domain::alarm::{self, AlarmMessage, CaseEffect, Colour, PlaceState, Reject, Rules, Seen};
use jiesu_domain::deadline;
use jiesu_domain::draft::{Contact, FieldError, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel};
use jiesu_domain::workflow::{self, Action, Actor, WorkflowError};
use jiesu_store::{AlarmBatch, AlarmRow, ColourChange, Device, PlaceColour, StoreError};

use crate::{CoreError, Desk};

/// One step of the desk: who, what, the note.
type Step = (Actor, Action, Option<String>);

/// The filer of alarm cases (their external ids are unique for it).
pub const SENSOR_ACTOR: &str = "sensor";

/// How an alarm arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Door {
    /// MQTT, on the topic of this device (the last topic level), if the topic names one.
    Mqtt {
        /// The device the topic names.
        topic_device: Option<String>,
    },
    /// The webhook, with the bearer token given.
    Http {
        /// The token.
        token: String,
    },
}

impl Door {
    fn code(&self) -> &'static str {
        match self {
            Door::Mqtt { .. } => "mqtt",
            Door::Http { .. } => "http",
        }
    }
}

/// One payload to ingest.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// How it arrived.
    pub door: Door,
    /// The bytes as received.
    pub payload: Vec<u8>,
}

/// What became of one payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Accepted: what the rules did (`recorded`, `case_opened`, `joined`, `suppressed`,
    /// `suppressed_joined`), the case opened or joined, the place and its colour after.
    Accepted {
        /// What the rules did.
        outcome: &'static str,
        /// The case opened or joined.
        case: Option<i64>,
        /// The place coloured.
        place: String,
        /// Its colour after.
        colour: Colour,
    },
    /// The device sent this message id before: nothing done.
    Duplicate,
    /// Refused (and counted).
    Rejected(Reject),
}

/// A device as given to the registry (CSV import, admin API): position in GCJ-02.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInput {
    /// Id: ASCII letters, digits and `- _ . :`, at most 64.
    pub id: String,
    /// Kind (`jiesu_domain::alarm::DEVICE_KINDS`).
    pub kind: String,
    /// Leaf category of its alarms' cases.
    pub category: String,
    /// Latitude (GCJ-02).
    pub lat: f64,
    /// Longitude (GCJ-02).
    pub lon: f64,
    /// Building, when known.
    pub building: Option<String>,
    /// The responsible unit.
    pub unit: String,
}

/// The alarm desk: the desk, the colour rules and the lock that serialises decisions.
#[derive(Debug, Clone)]
pub struct Alarms {
    desk: Desk,
    rules: Arc<Rules>,
    lock: Arc<Mutex<()>>,
}

impl Desk {
    /// Checks a device for the registry and places it (street, community and grid cell from
    /// its point, when the desk has a grid). Every problem is listed.
    pub fn device(&self, d: DeviceInput, now: DateTime<Utc>) -> Result<Device, CoreError> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
        let probe =
            AlarmMessage { device: d.id.clone(), id: "0".into(), at: now, level: alarm::Level::Clear, reading: None };
        if let Err(Reject::Malformed(m)) = alarm::check(&probe) {
            err("id", m.replace("device ", "id "));
        }
        if alarm::kind_label(&d.kind).is_none() {
            let kinds: Vec<&str> = alarm::DEVICE_KINDS.iter().map(|k| k.0).collect();
            err("kind", format!("unknown device kind '{}' (one of {})", d.kind, kinds.join(", ")));
        }
        if !self.catalog.category(&d.category).is_some_and(|c| c.is_leaf()) {
            err("category", format!("'{}' is not a leaf category code", d.category));
        }
        if self.catalog.unit(&d.unit).is_none() {
            err("unit", format!("unknown unit code '{}'", d.unit));
        }
        if let Some(b) = &d.building
            && (b.trim().is_empty() || b.chars().count() > 100 || b.chars().any(char::is_control))
        {
            err("building", "must have 1 to 100 characters, no control characters".into());
        }
        let (mut street, mut community, mut grid) = (None, None, None);
        let in_range = d.lat.is_finite()
            && d.lon.is_finite()
            && (-90.0..=90.0).contains(&d.lat)
            && (-180.0..=180.0).contains(&d.lon);
        if !in_range {
            err("lat", "lat and lon must be finite degrees".into());
        } else if let Some(g) = self.geo.as_deref().and_then(|g| g.grid()) {
            match g.lookup(d.lon, d.lat) {
                Ok(jiesu_geo::grid::Lookup::Inside(cell)) => {
                    street = Some(g.street_of(cell).code.clone());
                    community = g.community_of(cell).map(|c| c.code.clone());
                    grid = Some(cell.code.clone());
                }
                _ => err("lat", format!("({}, {}) is not in the district's grid", d.lat, d.lon)),
            }
        }
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let building = d.building.map(|b| b.trim().to_string());
        Ok(Device::new(d.id, d.kind, d.category, (d.lon, d.lat), street, community, grid, building, d.unit, now))
    }
}

/// A place's state during a batch.
struct Working {
    row: PlaceColour,
    dirty: bool,
}

/// A month of alarms for the monthly report.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmMonth {
    /// Alarms received (accepted).
    pub alarms: i64,
    /// Cases they opened.
    pub cases_opened: i64,
    /// Of those, signed for (签收) by now.
    pub accepted: i64,
    /// Mean minutes from the alarm to 签收, over those signed for.
    pub mean_minutes_to_accept: Option<f64>,
}

impl Alarms {
    /// The alarms received in `period` (the desk's time zone), the cases they opened, and the
    /// time from the alarm to the lead unit's 签收.
    pub async fn month(&self, period: jiesu_domain::assessment::Period) -> Result<AlarmMonth, CoreError> {
        let (from, to) = period.bounds(self.desk.config.tz);
        let store = self.desk.store();
        let (alarms, cases) = store.alarms_received(from, to).await?;
        let mut minutes = Vec::new();
        for (id, alarm_at) in &cases {
            if let Some(signed) = store.case(*id).await?.state.accepted_at {
                minutes.push((signed - *alarm_at).num_seconds() as f64 / 60.0);
            }
        }
        let mean = (!minutes.is_empty()).then(|| minutes.iter().sum::<f64>() / minutes.len() as f64);
        Ok(AlarmMonth {
            alarms,
            cases_opened: cases.len() as i64,
            accepted: minutes.len() as i64,
            mean_minutes_to_accept: mean,
        })
    }

    /// The alarm desk over `desk` with `rules` (checked).
    pub fn new(desk: Desk, rules: Rules) -> Result<Alarms, CoreError> {
        rules.validate().map_err(|m| crate::error::invalid("alarms", m))?;
        Ok(Alarms { desk, rules: Arc::new(rules), lock: Arc::new(Mutex::new(())) })
    }

    /// The rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The desk.
    pub fn desk(&self) -> &Desk {
        &self.desk
    }

    /// Ingests a batch received at `now` (see the module docs). On an error nothing of the batch
    /// is committed (cases it opened or joined are found again on the retry): the caller must
    /// not acknowledge it, and tries again.
    pub async fn ingest(&self, batch: &[Incoming], now: DateTime<Utc>) -> Result<Vec<Outcome>, CoreError> {
        let _one_at_a_time = self.lock.lock().await;
        let store = self.desk.store();
        let parsed: Vec<Result<AlarmMessage, Reject>> = batch.iter().map(|i| alarm::parse(&i.payload)).collect();
        let ids: Vec<&str> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .map(|m| m.device.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let devices = store.devices_by_id(&ids).await?;
        // Refusals by the registry.
        let checked: Vec<Result<(&AlarmMessage, &Device), Reject>> = parsed
            .iter()
            .zip(batch)
            .map(|(p, inc)| {
                let m = p.as_ref().map_err(Clone::clone)?;
                let d = devices.get(&m.device).ok_or(Reject::UnknownDevice)?;
                match &inc.door {
                    Door::Mqtt { topic_device: Some(t) } if *t != m.device => return Err(Reject::TopicMismatch),
                    Door::Http { token } if !d.token_matches(token) => return Err(Reject::BadToken),
                    _ => {}
                }
                // Only a device that proved itself learns that its clock is off.
                alarm::check_time(m, now)?;
                Ok((m, d))
            })
            .collect();
        let keys: Vec<(&str, &str)> =
            checked.iter().filter_map(|c| c.as_ref().ok()).map(|(m, _)| (m.device.as_str(), m.id.as_str())).collect();
        let known = store.known_alarms(&keys).await?;
        let places: Vec<String> = checked
            .iter()
            .filter_map(|c| c.as_ref().ok())
            .map(|(_, d)| d.place())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let place_refs: Vec<&str> = places.iter().map(String::as_str).collect();
        let mut working: HashMap<String, Working> = store
            .place_colours(&place_refs)
            .await?
            .into_iter()
            .map(|(k, row)| (k, Working { row, dirty: false }))
            .collect();
        let earliest = checked.iter().filter_map(|c| c.as_ref().ok()).map(|(m, _)| m.at).min().unwrap_or(now);
        let mut by_device: HashMap<String, Vec<Seen>> = HashMap::new();
        let mut by_place: HashMap<String, Vec<Seen>> = HashMap::new();
        for r in store.recent_alarms(&place_refs, &ids, earliest - self.rules.lookback()).await? {
            let seen = Seen { at: r.at, level: r.level, suppressed: r.suppressed };
            by_device.entry(r.device).or_default().push(seen);
            by_place.entry(r.place).or_default().push(seen);
        }

        let mut out = Vec::with_capacity(batch.len());
        let mut write = AlarmBatch::default();
        let mut in_batch: HashSet<(&str, &str)> = HashSet::new();
        let mut joins: Vec<(i64, usize, usize, Step)> = Vec::new();
        for (c, inc) in checked.iter().zip(batch) {
            let (m, d) = match c {
                Err(r) => {
                    *write.rejects.entry(r.code()).or_insert(0) += 1;
                    out.push(Outcome::Rejected(r.clone()));
                    continue;
                }
                Ok(x) => *x,
            };
            if known.contains(&(m.device.clone(), m.id.clone())) || !in_batch.insert((&m.device, &m.id)) {
                out.push(Outcome::Duplicate);
                continue;
            }
            let place = d.place();
            let w = working.entry(place.clone()).or_insert_with(|| Working {
                row: PlaceColour {
                    place: place.clone(),
                    grid: d.grid.clone(),
                    street: d.street.clone(),
                    unit: Some(d.unit.clone()),
                    colour: Colour::Green,
                    since: m.at,
                    reason: String::new(),
                    open_case: None,
                    seq: 0,
                },
                dirty: false,
            });
            let state = PlaceState { colour: w.row.colour, since: w.row.since, open_case: w.row.open_case };
            let empty = Vec::new();
            let decision = alarm::decide(
                &self.rules,
                &state,
                by_device.get(&m.device).unwrap_or(&empty),
                by_place.get(&place).unwrap_or(&empty),
                m,
            );
            let mut case = None;
            match decision.case {
                CaseEffect::None => {}
                CaseEffect::Open => {
                    let id = self.open_case(d, m, now).await?;
                    w.row.open_case = Some(id);
                    case = Some(id);
                }
                CaseEffect::Join(id) => {
                    // Added after the loop, all of a case's alarms in one append.
                    joins.push((id, write.alarms.len(), out.len(), self.alarm_step(d, m, decision.suppressed)));
                    case = Some(id);
                }
            }
            if let Some((from, to, reason)) = &decision.colour {
                w.row.seq += 1;
                write.changes.push(ColourChange {
                    place: place.clone(),
                    seq: w.row.seq,
                    at: m.at,
                    from: *from,
                    to: *to,
                    reason: reason.clone(),
                    device: Some(m.device.clone()),
                    msg_id: Some(m.id.clone()),
                });
                w.row.colour = *to;
                w.row.since = m.at;
                w.row.reason.clone_from(reason);
            }
            w.row.unit = Some(d.unit.clone());
            w.dirty = true;
            if decision.suppressed && d.suppressed_until.is_none_or(|u| u < m.at) {
                let until = m.at + chrono::Duration::minutes(i64::from(self.rules.flap_window_minutes));
                write.suppressed.push((m.device.clone(), until));
            }
            let seen = Seen { at: m.at, level: m.level, suppressed: decision.suppressed };
            by_device.entry(m.device.clone()).or_default().push(seen);
            by_place.entry(place.clone()).or_default().push(seen);
            write.alarms.push(AlarmRow {
                device: m.device.clone(),
                msg_id: m.id.clone(),
                at: m.at,
                received_at: now,
                level: m.level,
                reading: m.reading,
                place: place.clone(),
                outcome: decision.outcome().to_string(),
                case_id: case,
                door: inc.door.code().to_string(),
            });
            out.push(Outcome::Accepted { outcome: decision.outcome(), case, place, colour: w.row.colour });
        }
        // The joins, one append per case; a case closed by a person meanwhile takes none.
        let mut cases: Vec<i64> = joins.iter().map(|j| j.0).collect();
        cases.sort_unstable();
        cases.dedup();
        for id in cases {
            let mine: Vec<&(i64, usize, usize, Step)> = joins.iter().filter(|j| j.0 == id).collect();
            let steps: Vec<Step> = mine.iter().map(|j| j.3.clone()).collect();
            if self.join_case(id, steps, now).await? {
                continue;
            }
            for (_, row, o, _) in mine {
                let a = &mut write.alarms[*row];
                a.case_id = None;
                a.outcome = if a.outcome.starts_with("suppressed") { "suppressed" } else { "recorded" }.to_string();
                if let Some(w) = working.get_mut(&a.place) {
                    w.row.open_case = None;
                }
                if let Some(Outcome::Accepted { outcome, case, .. }) = out.get_mut(*o) {
                    *outcome = if outcome.starts_with("suppressed") { "suppressed" } else { "recorded" };
                    *case = None;
                }
            }
        }
        write.places = working.into_values().filter(|w| w.dirty).map(|w| w.row).collect();
        store.commit_alarms(&write).await?;
        Ok(out)
    }

    /// Opens the case of red alarm `m` from device `d` (or finds the one a first try opened).
    async fn open_case(&self, d: &Device, m: &AlarmMessage, now: DateTime<Utc>) -> Result<i64, CoreError> {
        let external = format!("alarm:{}:{}", m.device, m.id);
        let store = self.desk.store();
        if let Some(id) = store.case_filed(SENSOR_ACTOR, &external).await? {
            return Ok(id);
        }
        let (case, events, state) = self.decide_case(d, m, external, now)?;
        match store.create_case(&case, &events, &state).await {
            Ok(id) => Ok(id),
            Err(StoreError::AlreadyFiled(id)) => Ok(id),
            Err(e) => Err(e.into()),
        }
    }

    /// What a red alarm's case is: 受理 by the sensor, 派单 by the responsibility list with the
    /// rule's deadline, and 吹哨 of the device's unit when it is not the lead. Pure.
    pub fn decide_case(
        &self,
        d: &Device,
        m: &AlarmMessage,
        external: String,
        now: DateTime<Utc>,
    ) -> Result<(NewCase, Vec<workflow::Event>, workflow::CaseState), CoreError> {
        let desk = &self.desk;
        let kind = alarm::kind_label(&d.kind).unwrap_or("感知设备");
        let local = now.with_timezone(&desk.config.tz).format("%Y-%m-%d %H:%M");
        let reading = m.reading.map(|r| format!("，读数 {r}")).unwrap_or_default();
        let where_ =
            d.building.clone().unwrap_or_else(|| d.grid.clone().map(|g| format!("网格 {g}")).unwrap_or_default());
        let case = NewCase {
            channel: Channel::Sensor,
            kind: CaseKind::Help,
            title: Some(format!("{kind}{}：{where_}", m.level.label())),
            text: format!(
                "{kind} {} 于 {local} 发出{}{reading}（设备时间 {}，消息 {}）。",
                d.id,
                m.level.label(),
                m.at.with_timezone(&desk.config.tz).format("%H:%M:%S"),
                m.id
            ),
            category: d.category.clone(),
            place: Place {
                address: d.building.clone(),
                lat: Some(d.lat),
                lon: Some(d.lon),
                street: d.street.clone(),
                community: d.community.clone(),
                grid: d.grid.clone(),
            },
            contact: Contact::default(),
            external_id: Some(external),
        };
        let prepared = desk.prepare(Actor::system(SENSOR_ACTOR), case, now, false)?;
        let (case, mut events, mut state) = (prepared.case, prepared.events, prepared.state);
        let route = desk.catalog.route(&case.category, case.place.street.as_deref(), case.place.community.as_deref());
        let lead = route.unit.clone();
        let note = format!("告警规则：{}小时内处置", self.rules.case_deadline_hours);
        let dispatch = Action::Dispatch { unit: route.unit, due: self.rules.case_due(now), rule: Some(route.rule) };
        let (e, s) = workflow::step(Some(&state), now, Actor::system("router"), dispatch, Some(note))?;
        events.push(e);
        state = s;
        if d.unit != lead && desk.catalog.unit(&d.unit).is_some() {
            let checkin_due = deadline::due_at(desk.config.checkin, now, desk.config.tz, &desk.calendar)?;
            let whistle = Action::Whistle { units: vec![d.unit.clone()], checkin_due };
            let note = Some(format!("设备 {} 的责任单位", d.id));
            let (e, s) = workflow::step(Some(&state), now, Actor::system(SENSOR_ACTOR), whistle, note)?;
            events.push(e);
            state = s;
        }
        Ok((case, events, state))
    }

    /// The 设备告警 step of alarm `m` from device `d`.
    fn alarm_step(&self, d: &Device, m: &AlarmMessage, suppressed: bool) -> Step {
        let reading = m.reading.map(|r| format!("，读数 {r}")).unwrap_or_default();
        let note = format!(
            "{}{}{reading}{}",
            alarm::kind_label(&d.kind).unwrap_or("设备"),
            m.level.label(),
            if suppressed { "（抖动抑制）" } else { "" }
        );
        let action = Action::Alarm { device: d.id.clone(), message: m.id.clone(), level: m.level, suppressed };
        (Actor::system(SENSOR_ACTOR), action, Some(note))
    }

    /// Adds the 设备告警 `steps` to open case `id` in one append, those it does not have yet
    /// (a batch delivered again). False when the case is no longer open.
    async fn join_case(&self, id: i64, steps: Vec<Step>, now: DateTime<Utc>) -> Result<bool, CoreError> {
        let mut missing = Vec::with_capacity(steps.len());
        for step in steps {
            if let Action::Alarm { device, message, .. } = &step.1
                && self.desk.store().has_alarm_event(id, device, message).await?
            {
                continue;
            }
            missing.push(step);
        }
        if missing.is_empty() {
            return Ok(true);
        }
        let done = self
            .desk
            .act_with(id, &jiesu_domain::access::Scope::All, now, |_, rec, _| {
                Ok(rec.state.status.is_open().then(|| missing.clone()))
            })
            .await;
        match done {
            Ok(Some(_)) => Ok(true),
            Ok(None) | Err(CoreError::NotFound(_)) => Ok(false),
            Err(CoreError::Workflow(WorkflowError::IllegalTransition { .. })) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
