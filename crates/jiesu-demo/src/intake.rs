//! Intake (受理) of a demo case: the channel it came by, the kind of request, where, what the
//! citizen said, who they are, and the actor who writes it into the system.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role};
use jiesu_domain::workflow::Actor;

use crate::dice::Dice;
use crate::places::{self, Spot};
use crate::profiles::{self, Profile};
use crate::texts;
use crate::volume::Hours;

/// Citizen channels and their shares once grid and sensor cases are set apart.
const CITIZEN_CHANNELS: [(Channel, f64); 4] =
    [(Channel::Hotline, 0.80), (Channel::Web, 0.07), (Channel::App, 0.10), (Channel::Open311, 0.03)];

/// Scales the profiles' patrol shares so that about 12% of all cases are patrol findings.
const GRID_BOOST: f64 = 1.45;

/// The channel of a new case of profile `p` on a working day or not.
pub(crate) fn channel(d: &mut Dice, p: &Profile, working_day: bool) -> Channel {
    if let Some((share, _)) = profiles::sensor(p.code)
        && d.chance(share)
    {
        return Channel::Sensor;
    }
    let patrol = (p.grid * GRID_BOOST).min(0.8) * if working_day { 1.0 } else { 0.4 };
    if d.chance(patrol) {
        return Channel::Grid;
    }
    let weights: Vec<f64> = CITIZEN_CHANNELS.iter().map(|c| c.1).collect();
    CITIZEN_CHANNELS[d.weighted(&weights)].0
}

/// Whose hours a channel follows.
pub(crate) fn hours(channel: Channel) -> Hours {
    match channel {
        Channel::Grid => Hours::Patrol,
        Channel::Sensor => Hours::Sensor,
        _ => Hours::Citizen,
    }
}

/// The kind of request: patrol findings are reports, sensor alarms calls for help; citizens'
/// kinds follow the profile.
pub(crate) fn kind(d: &mut Dice, p: &Profile, channel: Channel) -> CaseKind {
    match channel {
        Channel::Grid => CaseKind::Report,
        Channel::Sensor => CaseKind::Help,
        _ => {
            const KINDS: [CaseKind; 5] =
                [CaseKind::Consult, CaseKind::Help, CaseKind::Complaint, CaseKind::Report, CaseKind::Suggestion];
            KINDS[d.weighted(&p.kinds.0)]
        }
    }
}

/// The inspector who patrols a street's grids (a few per street), working for its street office.
pub(crate) fn inspector(d: &mut Dice, spot: &Spot) -> Actor {
    let street = &spot.geo().code[6..];
    let unit = Some(format!("S{street}"));
    Actor { user: format!("grid-{street}-{:02}", d.int(1, 8)), role: Role::GridInspector, unit }
}

/// Who writes the case into the system for a channel.
pub(crate) fn receiver(d: &mut Dice, channel: Channel, code: &str, inspector: Option<&Actor>) -> Actor {
    let citizen = |user: &str| Actor { user: user.into(), role: Role::Citizen, unit: None };
    match channel {
        Channel::Hotline | Channel::Other => operator(d),
        Channel::Web => citizen("portal-web"),
        Channel::App => citizen("portal-app"),
        Channel::Open311 => Actor::system("open311"),
        Channel::Grid => inspector.cloned().unwrap_or_else(|| operator(d)),
        Channel::Sensor => Actor::system(sensor_system(code)),
    }
}

/// An operator (接线员) of the hotline.
pub(crate) fn operator(d: &mut Dice) -> Actor {
    Actor { user: format!("op-{:03}", d.int(1, 60)), role: Role::Operator, unit: None }
}

fn sensor_system(code: &str) -> &'static str {
    match code {
        "1601" => "sensor-huoyan",
        "1201" => "sensor-oil-fume",
        "0304" => "sensor-building",
        "0105" => "sensor-manhole",
        _ => "sensor-waterlogging",
    }
}

fn sensor_prefix(code: &str) -> &'static str {
    match code {
        "1601" => "HY",
        "1201" => "YY",
        "0304" => "FW",
        "0105" => "JG",
        _ => "JS",
    }
}

/// The case as written at intake.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draft(
    d: &mut Dice,
    catalog: &Catalog,
    tz: Tz,
    index: usize,
    at: DateTime<Utc>,
    p: &Profile,
    channel: Channel,
    kind: CaseKind,
    spot: &Spot,
) -> NewCase {
    let alarm = (channel == Channel::Sensor).then(|| profiles::sensor(p.code).map(|s| s.1)).flatten();
    let (text, address) = texts::case_text(d, p, kind, channel, spot, alarm);
    let located = address.is_some();
    let contact = match channel {
        Channel::Grid | Channel::Sensor => Contact::default(),
        Channel::Hotline | Channel::Other => match regular_caller(d) {
            Some((name, phone)) => Contact { name: Some(name), phone: Some(phone), email: None, confidential: false },
            None => Contact {
                name: d.chance(0.85).then(|| places::person(d)),
                phone: Some(places::phone(d)),
                email: None,
                confidential: false,
            },
        },
        Channel::Web | Channel::App => {
            let (name, phone) = match regular_caller(d) {
                Some((name, phone)) => (Some(name), phone),
                None => (d.chance(0.6).then(|| places::person(d)), places::phone(d)),
            };
            Contact {
                name,
                phone: Some(phone),
                email: (channel == Channel::Web && d.chance(0.3)).then(|| email(d)),
                confidential: false,
            }
        }
        Channel::Open311 => Contact {
            name: None,
            phone: d.chance(0.4).then(|| places::phone(d)),
            email: Some(email(d)),
            confidential: false,
        },
    };
    let day = at.with_timezone(&tz).format("%Y%m%d");
    let external_id = match channel {
        Channel::Open311 => Some(format!("311-{day}-{index:06}")),
        Channel::Sensor => Some(format!("{}-{day}-{index:06}", sensor_prefix(p.code))),
        _ => None,
    };
    let street = catalog.street(spot.geo().code).map(|s| s.code.clone());
    NewCase {
        channel,
        kind,
        title: None,
        text,
        category: p.code.to_string(),
        place: Place {
            address,
            lat: located.then_some(spot.lat),
            lon: located.then_some(spot.lon),
            street,
            community: Some(spot.community.clone()),
            grid: None,
        },
        contact,
        external_id,
    }
}

/// A fake e-mail address on the reserved example.com domain.
/// Share of calls (hotline, web, app) made by a regular caller.
const REGULAR_SHARE: f64 = 0.15;
/// How many regular callers the district has.
const REGULARS: f64 = 2_000.0;

/// About one call in seven (hotline, web, app) comes from a regular caller (高频来电人): one of
/// [`REGULARS`] people, each with their own name and mobile (the same in every run), a few of
/// them calling very often (the k-th regular is drawn as ⌊n·u³⌋), the number spelled as the
/// operator happened to type it. This is what 来电弹屏 finds in the demo.
fn regular_caller(d: &mut Dice) -> Option<(String, String)> {
    if !d.chance(REGULAR_SHARE) {
        return None;
    }
    let k = (REGULARS * d.unit().powi(3)) as u64;
    let mut who = Dice::derive(0x1234_5CA1, 0, k);
    let (name, phone) = (places::person(&mut who), places::phone(&mut who));
    let spelled = match d.index(3) {
        0 => phone,
        1 => format!("{}-{}-{}", &phone[..3], &phone[3..7], &phone[7..]),
        _ => format!("+86 {} {} {}", &phone[..3], &phone[3..7], &phone[7..]),
    };
    Some((name, spelled))
}

fn email(d: &mut Dice) -> String {
    format!("citizen{:05}@example.com", d.int(0, 99_999))
}
