//! Sensor alarms and 三色预警 (issue 13): what a device sends, how a place's colour follows from
//! its alarms, and what an alarm does to the place's case. Pure: the store supplies the place's
//! state and recent history, the caller the time.
//!
//! # The payload
//!
//! One JSON object per alarm, on MQTT (topic `jiesu/alarms/{device}`) and on the webhook
//! (`POST /api/v1/alarms`) alike:
//!
//! ```json
//! {"device": "HY-0001", "id": "000123", "at": "2026-12-06T08:00:00+08:00", "level": "alarm", "reading": 73.5}
//! ```
//!
//! `device` the registered device id; `id` the device's own message id (unique per device: a
//! second message with the same id is a duplicate and has no effect); `at` when the device saw it
//! (RFC 3339 with an offset); `level` one of `clear` (解除), `minor` (提示), `warning` (预警),
//! `alarm` (报警); `reading` optional, the measured value. Unknown fields are refused.
//!
//! # The colour rules ([`Rules`], settings `[alarms]`)
//!
//! A place (the device's building when known, else its grid cell) is green (正常), yellow (关注)
//! or red (危险):
//! - `alarm` → red; `warning` → at least yellow; `minor_repeats` minor alarms within
//!   `minor_window_minutes` → at least yellow;
//! - a yellow place that stays yellow for `yellow_persist_minutes` turns red on its next alarm of
//!   any level but `clear`;
//! - `clear` → green (the device's all-clear; an open case stays open: only a person closes it);
//! - a device that flaps (alarm, clear, alarm within `flap_window_minutes`) is suppressed for
//!   `flap_window_minutes`: its alarms are recorded as suppressed (抖动抑制), change no colour and
//!   open no case.
//!
//! Red opens a case (channel `sensor`) unless the place has an open alarm case, which the alarm
//! joins as an event; the case's deadline is `case_deadline_hours` whatever the category's class.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Largest accepted payload, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// Longest device id or message id, in characters.
pub const MAX_ID_CHARS: usize = 64;

/// How serious an alarm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 解除: the device is back to normal.
    Clear,
    /// 提示: a minor anomaly.
    Minor,
    /// 预警: a warning.
    Warning,
    /// 报警: danger.
    Alarm,
}

impl Level {
    /// Every level.
    pub const ALL: [Level; 4] = [Level::Clear, Level::Minor, Level::Warning, Level::Alarm];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Level::Clear => "clear",
            Level::Minor => "minor",
            Level::Warning => "warning",
            Level::Alarm => "alarm",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Level::Clear => "解除",
            Level::Minor => "提示",
            Level::Warning => "预警",
            Level::Alarm => "报警",
        }
    }

    /// The level of `code`.
    pub fn parse(code: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// 三色预警: a place's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    /// 绿色: normal.
    Green,
    /// 黄色: watch.
    Yellow,
    /// 红色: danger.
    Red,
}

impl Colour {
    /// Every colour, mildest first.
    pub const ALL: [Colour; 3] = [Colour::Green, Colour::Yellow, Colour::Red];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Red => "red",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Colour::Green => "绿色",
            Colour::Yellow => "黄色",
            Colour::Red => "红色",
        }
    }

    /// The colour of `code`.
    pub fn parse(code: &str) -> Option<Colour> {
        Colour::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// The colour rules, as settings (`[alarms]` in the settings file). See the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Minor alarms at one place within `minor_window_minutes` that make it yellow.
    pub minor_repeats: u32,
    /// The window of `minor_repeats`.
    pub minor_window_minutes: u32,
    /// A place yellow this long turns red on its next alarm.
    pub yellow_persist_minutes: u32,
    /// Alarm, clear, alarm from one device within this window: the device flaps and is
    /// suppressed for as long again.
    pub flap_window_minutes: u32,
    /// The deadline of a case opened by a red, in hours.
    pub case_deadline_hours: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            minor_repeats: 3,
            minor_window_minutes: 30,
            yellow_persist_minutes: 60,
            flap_window_minutes: 10,
            case_deadline_hours: 2,
        }
    }
}

impl Rules {
    /// Checks the rules make sense (every number > 0, the deadline at most a week).
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("minor_repeats", self.minor_repeats),
            ("minor_window_minutes", self.minor_window_minutes),
            ("yellow_persist_minutes", self.yellow_persist_minutes),
            ("flap_window_minutes", self.flap_window_minutes),
            ("case_deadline_hours", self.case_deadline_hours),
        ] {
            if v == 0 {
                return Err(format!("alarms.{name} must be > 0"));
            }
        }
        if self.case_deadline_hours > 168 {
            return Err("alarms.case_deadline_hours must be at most 168 (a week)".into());
        }
        Ok(())
    }

    /// How far back the history a decision needs reaches.
    pub fn lookback(&self) -> Duration {
        Duration::minutes(i64::from(self.minor_window_minutes.max(self.flap_window_minutes)))
    }

    /// The deadline of a case opened at `at`.
    pub fn case_due(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at + Duration::hours(i64::from(self.case_deadline_hours))
    }
}

/// An alarm as a device sent it (see the module docs for the JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlarmMessage {
    /// The registered device id.
    pub device: String,
    /// The device's message id (unique per device).
    pub id: String,
    /// When the device saw it (RFC 3339 with an offset).
    pub at: DateTime<Utc>,
    /// How serious.
    pub level: Level,
    /// The measured value, if any.
    #[serde(default)]
    pub reading: Option<f64>,
}

/// Why a payload was refused (each is counted under its [`Reject::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    /// Not a valid payload (JSON, fields, lengths).
    #[error("malformed payload: {0}")]
    Malformed(String),
    /// No such device.
    #[error("unknown device")]
    UnknownDevice,
    /// The MQTT topic names another device than the payload.
    #[error("the topic names another device than the payload")]
    TopicMismatch,
    /// The webhook's token is not the device's.
    #[error("bad device token")]
    BadToken,
    /// The device time is more than a day ahead of the time received, or a month behind.
    #[error("the alarm time is more than a day ahead or 30 days behind the time received")]
    BadTime,
}

impl Reject {
    /// Stable code, as counted.
    pub fn code(&self) -> &'static str {
        match self {
            Reject::Malformed(_) => "malformed",
            Reject::UnknownDevice => "unknown_device",
            Reject::TopicMismatch => "topic_mismatch",
            Reject::BadToken => "bad_token",
            Reject::BadTime => "bad_time",
        }
    }
}

/// Reads a payload: JSON of [`AlarmMessage`], ids non-empty, at most [`MAX_ID_CHARS`], printable,
/// a finite reading.
pub fn parse(payload: &[u8]) -> Result<AlarmMessage, Reject> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(Reject::Malformed(format!("larger than {MAX_PAYLOAD_BYTES} bytes")));
    }
    let m: AlarmMessage = serde_json::from_slice(payload).map_err(|e| Reject::Malformed(e.to_string()))?;
    check(&m)?;
    Ok(m)
}

/// Checks a message's fields (what [`parse`] checks after the JSON).
pub fn check(m: &AlarmMessage) -> Result<(), Reject> {
    for (field, v) in [("device", &m.device), ("id", &m.id)] {
        if v.is_empty() || v.chars().count() > MAX_ID_CHARS {
            return Err(Reject::Malformed(format!("{field} must have 1 to {MAX_ID_CHARS} characters")));
        }
        if !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')) {
            return Err(Reject::Malformed(format!("{field} may hold only ASCII letters, digits and - _ . :")));
        }
    }
    if m.reading.is_some_and(|r| !r.is_finite()) {
        return Err(Reject::Malformed("reading must be a finite number".into()));
    }
    Ok(())
}

/// Checks the device time is not more than a day after `now` (the time received: a device
/// whose clock runs ahead) nor more than 30 days before it.
pub fn check_time(m: &AlarmMessage, now: DateTime<Utc>) -> Result<(), Reject> {
    if m.at - now > Duration::days(1) || now - m.at > Duration::days(30) { Err(Reject::BadTime) } else { Ok(()) }
}

/// The kinds of device, with their Chinese names.
pub const DEVICE_KINDS: &[(&str, &str)] = &[
    ("smoke", "烟感探测器"),
    ("electrical_fire", "电气火灾监控"),
    ("huoyan", "火眼"),
    ("gas", "燃气探测器"),
    ("tilt", "建筑倾斜监测"),
    ("water", "水位监测"),
    ("oil_fume", "油烟监测"),
    ("manhole", "井盖监测"),
];

/// The Chinese name of a device kind, if known.
pub fn kind_label(kind: &str) -> Option<&'static str> {
    DEVICE_KINDS.iter().find(|(k, _)| *k == kind).map(|(_, l)| *l)
}

/// A place's colour as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceState {
    /// Its colour.
    pub colour: Colour,
    /// Since when (device time of the alarm that set it).
    pub since: DateTime<Utc>,
    /// The open alarm case of the place, if any (the caller checks it is still open).
    pub open_case: Option<i64>,
}

impl PlaceState {
    /// A place nothing has been heard from.
    pub fn green(at: DateTime<Utc>) -> PlaceState {
        PlaceState { colour: Colour::Green, since: at, open_case: None }
    }
}

/// One earlier alarm, as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen {
    /// Device time.
    pub at: DateTime<Utc>,
    /// Level.
    pub level: Level,
    /// It was suppressed.
    pub suppressed: bool,
}

/// What the rules say about one alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The colour change of the place, with its reason, if the colour changes.
    pub colour: Option<(Colour, Colour, String)>,
    /// What happens to the place's case.
    pub case: CaseEffect,
    /// The device flaps: the alarm is recorded as suppressed.
    pub suppressed: bool,
}

/// What an alarm does to the place's case.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseEffect {
    /// Nothing (colour only, or no change).
    None,
    /// Red with no open case: open one.
    Open,
    /// The place has an open case: the alarm is added to it as an event.
    Join(i64),
}

impl Decision {
    /// Stable code of the outcome, as recorded with the alarm.
    pub fn outcome(&self) -> &'static str {
        match (&self.case, self.suppressed) {
            (CaseEffect::Open, _) => "case_opened",
            (CaseEffect::Join(_), true) => "suppressed_joined",
            (CaseEffect::Join(_), false) => "joined",
            (CaseEffect::None, true) => "suppressed",
            (CaseEffect::None, false) => "recorded",
        }
    }
}

/// Decides what alarm `m` does to a place in state `place`, given the device's recent alarms
/// (`device_recent`, oldest first, within [`Rules::lookback`]) and the place's recent minor
/// alarms (`place_recent`, the same window). Pure.
pub fn decide(
    rules: &Rules,
    place: &PlaceState,
    device_recent: &[Seen],
    place_recent: &[Seen],
    m: &AlarmMessage,
) -> Decision {
    let flap = Duration::minutes(i64::from(rules.flap_window_minutes));
    let suppressed = flapping(device_recent, m, flap);
    let join = |d: Decision| -> Decision {
        match (place.open_case, &d.case) {
            (Some(id), CaseEffect::None | CaseEffect::Open) if m.level != Level::Minor || d.colour.is_some() => {
                Decision { case: CaseEffect::Join(id), ..d }
            }
            _ => d,
        }
    };
    if suppressed {
        // Recorded, visible as suppressed; the colour stays; an open case hears of it.
        return join(Decision { colour: None, case: CaseEffect::None, suppressed: true });
    }
    let target = match m.level {
        Level::Clear => Some((Colour::Green, format!("设备解除 ({})", m.device))),
        Level::Alarm => Some((Colour::Red, format!("报警 ({})", m.device))),
        _ if place.colour == Colour::Yellow
            && m.at - place.since >= Duration::minutes(i64::from(rules.yellow_persist_minutes)) =>
        {
            Some((Colour::Red, format!("黄色持续{}分钟后再次{}", rules.yellow_persist_minutes, m.level.label())))
        }
        Level::Warning => Some((Colour::Yellow, format!("预警 ({})", m.device))),
        Level::Minor => {
            let window = Duration::minutes(i64::from(rules.minor_window_minutes));
            let minors = place_recent
                .iter()
                .filter(|s| s.level == Level::Minor && !s.suppressed && m.at - s.at <= window && s.at <= m.at)
                .count()
                + 1;
            (minors >= rules.minor_repeats as usize)
                .then(|| (Colour::Yellow, format!("{}分钟内{}次提示", rules.minor_window_minutes, minors)))
        }
    };
    let colour = match target {
        // A clear always brings the place back to green; the others only raise it.
        Some((to, why)) if to != place.colour && (m.level == Level::Clear || to > place.colour) => {
            Some((place.colour, to, why))
        }
        _ => None,
    };
    let red_now = colour.as_ref().is_some_and(|(_, to, _)| *to == Colour::Red)
        || (place.colour == Colour::Red && m.level == Level::Alarm);
    let case = if red_now && place.open_case.is_none() { CaseEffect::Open } else { CaseEffect::None };
    join(Decision { colour, case, suppressed: false })
}

/// Alarm, clear, alarm from one device within `window` (the new alarm `m` being the last).
fn flapping(recent: &[Seen], m: &AlarmMessage, window: Duration) -> bool {
    if m.level == Level::Clear {
        // A clear while the device is suppressed is recorded as suppressed too.
        return recent.iter().rev().take_while(|s| m.at - s.at <= window).any(|s| s.suppressed);
    }
    if m.level < Level::Warning {
        return false;
    }
    let within: Vec<&Seen> = recent.iter().filter(|s| m.at - s.at <= window && s.at <= m.at).collect();
    if within.iter().any(|s| s.suppressed) {
        return true;
    }
    // Looking back from the newest: a clear, and before it an alarm.
    let mut saw_clear = false;
    for s in within.iter().rev() {
        match s.level {
            Level::Clear => saw_clear = true,
            Level::Warning | Level::Alarm if saw_clear => return true,
            _ => {}
        }
    }
    false
}

/// One entry of a place's colour log, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ColourEntry {
    /// Position in the place's log, from 1.
    pub seq: i64,
    /// The colour before.
    pub from: Colour,
    /// The colour after.
    pub to: Colour,
}

/// Checks a place's colour log (in order) against its stored colour: numbered from 1 without
/// gaps, each change starting where the last ended (from green), ending at `stored`. Returns
/// what is wrong.
pub fn check_log(log: &[ColourEntry], stored: Colour) -> Result<(), String> {
    let mut now = Colour::Green;
    for (i, e) in log.iter().enumerate() {
        let want = i64::try_from(i).unwrap_or(i64::MAX) + 1;
        if e.seq != want {
            return Err(format!("colour log entry {} where {want} was expected", e.seq));
        }
        if e.from != now {
            return Err(format!(
                "colour log entry {} changes from {} but the colour was {}",
                e.seq,
                e.from.code(),
                now.code()
            ));
        }
        if e.from == e.to {
            return Err(format!("colour log entry {} changes nothing", e.seq));
        }
        now = e.to;
    }
    if now != stored {
        return Err(format!("the colour log ends at {} but the place is {}", now.code(), stored.code()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("time") + Duration::minutes(min)
    }

    fn msg(level: Level, min: i64) -> AlarmMessage {
        AlarmMessage { device: "D1".into(), id: format!("{min}"), at: t(min), level, reading: None }
    }

    fn seen(level: Level, min: i64) -> Seen {
        Seen { at: t(min), level, suppressed: false }
    }

    #[test]
    fn alarm_turns_red_and_opens_a_case() {
        let d = decide(&Rules::default(), &PlaceState::green(t(0)), &[], &[], &msg(Level::Alarm, 1));
        assert_eq!(d.colour.as_ref().map(|c| (c.0, c.1)), Some((Colour::Green, Colour::Red)));
        assert_eq!(d.case, CaseEffect::Open);
        assert_eq!(d.outcome(), "case_opened");
    }

    #[test]
    fn a_repeat_joins_the_open_case() {
        let place = PlaceState { colour: Colour::Red, since: t(0), open_case: Some(7) };
        let d = decide(&Rules::default(), &place, &[seen(Level::Alarm, 0)], &[], &msg(Level::Alarm, 1));
        assert_eq!(d.colour, None);
        assert_eq!(d.case, CaseEffect::Join(7));
    }

    #[test]
    fn red_without_case_opens_one_again() {
        // The earlier case was closed by a person; the place is still red.
        let place = PlaceState { colour: Colour::Red, since: t(0), open_case: None };
        let d = decide(&Rules::default(), &place, &[], &[], &msg(Level::Alarm, 30));
        assert_eq!(d.case, CaseEffect::Open);
    }

    #[test]
    fn warning_is_yellow_without_a_case() {
        let d = decide(&Rules::default(), &PlaceState::green(t(0)), &[], &[], &msg(Level::Warning, 1));
        assert_eq!(d.colour.as_ref().map(|c| c.1), Some(Colour::Yellow));
        assert_eq!(d.case, CaseEffect::None);
    }

    #[test]
    fn repeated_minors_make_yellow() {
        let r = Rules::default();
        let green = PlaceState::green(t(0));
        let one = decide(&r, &green, &[], &[seen(Level::Minor, 0)], &msg(Level::Minor, 5));
        assert_eq!(one.colour, None);
        let two = decide(&r, &green, &[], &[seen(Level::Minor, 0), seen(Level::Minor, 3)], &msg(Level::Minor, 5));
        assert_eq!(two.colour.map(|c| c.1), Some(Colour::Yellow));
        // Outside the window they do not count.
        let old = decide(&r, &green, &[], &[seen(Level::Minor, 0), seen(Level::Minor, 3)], &msg(Level::Minor, 40));
        assert_eq!(old.colour, None);
    }

    #[test]
    fn yellow_that_persists_turns_red() {
        let r = Rules::default();
        let yellow = PlaceState { colour: Colour::Yellow, since: t(0), open_case: None };
        assert_eq!(decide(&r, &yellow, &[], &[], &msg(Level::Warning, 30)).colour, None);
        let late = decide(&r, &yellow, &[], &[], &msg(Level::Minor, 61));
        assert_eq!(late.colour.map(|c| c.1), Some(Colour::Red));
        assert_eq!(late.case, CaseEffect::Open);
    }

    #[test]
    fn clear_goes_green_and_is_told_to_the_case() {
        let place = PlaceState { colour: Colour::Red, since: t(0), open_case: Some(3) };
        let d = decide(&Rules::default(), &place, &[seen(Level::Alarm, 0)], &[], &msg(Level::Clear, 20));
        assert_eq!(d.colour.map(|c| c.1), Some(Colour::Green));
        assert_eq!(d.case, CaseEffect::Join(3));
    }

    #[test]
    fn flapping_is_suppressed() {
        let r = Rules::default();
        let place = PlaceState { colour: Colour::Green, since: t(2), open_case: Some(3) };
        let hist = [seen(Level::Alarm, 0), seen(Level::Clear, 2)];
        let d = decide(&r, &place, &hist, &[], &msg(Level::Alarm, 4));
        assert!(d.suppressed);
        assert_eq!(d.colour, None);
        assert_eq!(d.case, CaseEffect::Join(3));
        assert_eq!(d.outcome(), "suppressed_joined");
        // Without an open case, nothing is opened.
        let d = decide(&r, &PlaceState::green(t(2)), &hist, &[], &msg(Level::Alarm, 4));
        assert_eq!((d.case, d.suppressed), (CaseEffect::None, true));
        // Outside the window, it is a new alarm.
        let d = decide(&r, &PlaceState::green(t(2)), &hist, &[], &msg(Level::Alarm, 30));
        assert!(!d.suppressed);
        assert_eq!(d.case, CaseEffect::Open);
    }

    #[test]
    fn payloads_are_checked() {
        let ok = br#"{"device":"HY-1","id":"9","at":"2026-12-06T08:00:00+08:00","level":"alarm","reading":1.5}"#;
        assert_eq!(parse(ok).map(|m| m.level), Ok(Level::Alarm));
        for bad in [
            &b"not json"[..],
            br#"{"device":"HY-1","id":"9","at":"2026-12-06T08:00:00+08:00","level":"fire"}"#,
            br#"{"device":"","id":"9","at":"2026-12-06T08:00:00+08:00","level":"alarm"}"#,
            br#"{"device":"a/b","id":"9","at":"2026-12-06T08:00:00+08:00","level":"alarm"}"#,
            br#"{"device":"HY-1","id":"9","at":"yesterday","level":"alarm"}"#,
            br#"{"device":"HY-1","id":"9","at":"2026-12-06T08:00:00+08:00","level":"alarm","x":1}"#,
        ] {
            assert!(matches!(parse(bad), Err(Reject::Malformed(_))), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn colour_logs_are_checked() {
        let e = |seq, from, to| ColourEntry { seq, from, to };
        assert!(check_log(&[], Colour::Green).is_ok());
        assert!(
            check_log(&[e(1, Colour::Green, Colour::Red), e(2, Colour::Red, Colour::Green)], Colour::Green).is_ok()
        );
        assert!(check_log(&[e(1, Colour::Green, Colour::Red)], Colour::Yellow).is_err());
        assert!(
            check_log(&[e(1, Colour::Green, Colour::Red), e(3, Colour::Red, Colour::Green)], Colour::Green).is_err()
        );
        assert!(check_log(&[e(1, Colour::Yellow, Colour::Red)], Colour::Red).is_err());
    }
}
