//! Sensor alarms over HTTP (issue 13): the webhook door (`POST /api/v1/alarms`, a device's own
//! token), the device registry (admins), each place's colour (三色预警) and the alarm counts.
//! The webhook goes through the same [`jiesu_core::alarms::Alarms::ingest`] as the MQTT door.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiesu_core::alarms::{DeviceInput, Door, Incoming, Outcome};
use jiesu_domain::alarm::{AlarmMessage, Colour, Reject};
use jiesu_domain::model::Role;
use jiesu_store::{Device, PlaceColour};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::actor::Actor;
use crate::error::{ApiError, Body as ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};

/// The header that carries a device's webhook token.
pub const DEVICE_TOKEN_HEADER: &str = "x-device-token";

/// Answer of the webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmAnswer {
    /// What the rules did: `recorded`, `case_opened`, `joined`, `suppressed`, `suppressed_joined`,
    /// or `duplicate` (this message id was received before: nothing done).
    outcome: &'static str,
    /// The case opened or joined.
    case: Option<i64>,
    /// The place coloured (`grid:CODE`, `building:NAME`).
    place: Option<String>,
    /// Its colour now.
    colour: Option<Colour>,
}

/// `POST /api/v1/alarms`: one alarm from a device, authenticated by the device's token.
#[utoipa::path(post, path = "/alarms", tag = "alarms", request_body = AlarmMessage,
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Accepted (or a duplicate, with no effect)", body = AlarmAnswer),
        (status = 400, description = "Malformed payload (counted)", body = ErrorBody),
        (status = 401, description = "Unknown device or wrong token (counted)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 422, description = "The alarm time is more than a day ahead or 30 days behind (counted)", body = ErrorBody),
        (status = 503, description = "The store is busy or down: nothing recorded, send it again", body = ErrorBody),
    ))]
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<AppJson<AlarmAnswer>, ApiError> {
    let body = body.map_err(|r| ApiError::new(r.status(), "bad_body", r.body_text()))?;
    let token = headers.get(DEVICE_TOKEN_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_string();
    let incoming = Incoming { door: Door::Http { token }, payload: body.to_vec() };
    // A control character in any string is refused with the API's own words (after the
    // ingest has counted the payload as malformed, below).
    let edge =
        || serde_json::from_slice::<serde_json::Value>(&body).ok().map_or(Ok(()), |v| crate::input::check_json(&v));
    let outcome = state.alarms.ingest(std::slice::from_ref(&incoming), state.now()).await?;
    match outcome.into_iter().next() {
        Some(Outcome::Accepted { outcome, case, place, colour }) => {
            Ok(AppJson(AlarmAnswer { outcome, case, place: Some(place), colour: Some(colour) }))
        }
        Some(Outcome::Duplicate) => {
            Ok(AppJson(AlarmAnswer { outcome: "duplicate", case: None, place: None, colour: None }))
        }
        Some(Outcome::Rejected(r)) => Err(match r {
            Reject::Malformed(m) => {
                edge().err().unwrap_or_else(|| ApiError::bad_request(format!("malformed alarm: {m}")))
            }
            Reject::UnknownDevice | Reject::BadToken | Reject::TopicMismatch => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                format!("unknown device or wrong token: send the device's token in {DEVICE_TOKEN_HEADER}"),
            ),
            Reject::BadTime => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", r.to_string()),
        }),
        None => Err(ApiError::internal("no outcome for the alarm")),
    }
}

/// A registered device as the API shows it (position in WGS-84).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    /// Id.
    id: String,
    /// Kind code.
    kind: String,
    /// Kind in Chinese.
    kind_label: Option<&'static str>,
    /// Leaf category of its cases.
    category: String,
    /// Latitude, WGS-84.
    lat: f64,
    /// Longitude, WGS-84.
    lon: f64,
    /// Street code.
    street: Option<String>,
    /// Community code.
    community: Option<String>,
    /// Grid cell.
    grid: Option<String>,
    /// Building, when known.
    building: Option<String>,
    /// Responsible unit.
    unit: String,
    /// It has a webhook token.
    has_token: bool,
    /// Flapping: suppressed (抖动抑制) until then (RFC 3339).
    suppressed_until: Option<String>,
}

fn view(d: Device) -> DeviceView {
    let (lon, lat) = jiesu_geo::datum::gcj02_to_wgs84(d.lon, d.lat);
    DeviceView {
        kind_label: jiesu_domain::alarm::kind_label(&d.kind),
        id: d.id,
        kind: d.kind,
        category: d.category,
        lat,
        lon,
        street: d.street,
        community: d.community,
        grid: d.grid,
        building: d.building,
        unit: d.unit,
        has_token: d.has_token,
        suppressed_until: d.suppressed_until.map(|t| t.to_rfc3339()),
    }
}

/// Body of `POST /api/v1/devices`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceBody {
    /// Id: ASCII letters, digits and `- _ . :`, at most 64.
    id: String,
    /// Kind: smoke, electrical_fire, huoyan, gas, tilt, water, oil_fume, manhole.
    kind: String,
    /// Leaf category code of its alarms' cases.
    category: String,
    /// Latitude, WGS-84.
    lat: f64,
    /// Longitude, WGS-84.
    lon: f64,
    /// Building, when known.
    #[serde(default)]
    building: Option<String>,
    /// Responsible unit code.
    unit: String,
}

/// Answer of `POST /api/v1/devices`: the device and its new webhook token, shown only now.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceCreated {
    /// The device.
    device: DeviceView,
    /// Its webhook token (send it in `X-Device-Token`); stored only as a hash.
    token: String,
}

fn admin(actor: &Actor) -> Result<(), ApiError> {
    if actor.role() == Role::Admin { Ok(()) } else { Err(ApiError::forbidden("only admins manage devices")) }
}

/// `POST /api/v1/devices`: registers a device or replaces one (admins); a new token each time.
#[utoipa::path(post, path = "/devices", tag = "alarms", operation_id = "create_device", request_body = DeviceBody,
    responses(
        (status = 201, description = "Registered; the token is shown only now", body = DeviceCreated),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No actor", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Unknown kind, category or unit, or a point outside the district: every problem listed", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    AppJson(b): AppJson<DeviceBody>,
) -> Result<Response, ApiError> {
    admin(&actor)?;
    let (lon, lat) = if b.lat.is_finite() && b.lon.is_finite() {
        jiesu_geo::datum::wgs84_to_gcj02(b.lon, b.lat)
    } else {
        (b.lon, b.lat)
    };
    let input =
        DeviceInput { id: b.id, kind: b.kind, category: b.category, lat, lon, building: b.building, unit: b.unit };
    let device = state.desk.device(input, state.now())?;
    let token = jiesu_store::new_device_token();
    state.desk.store().put_devices(&[(device.clone(), Some(token.clone()))]).await?;
    let stored = state.desk.store().device(&device.id).await?.unwrap_or(device);
    Ok((StatusCode::CREATED, AppJson(DeviceCreated { device: view(stored), token })).into_response())
}

/// Query of `GET /api/v1/devices`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeviceQuery {
    /// Devices after this id (paging).
    after: Option<String>,
    /// At most this many (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// `GET /api/v1/devices`: the registry, by id (staff).
#[utoipa::path(get, path = "/devices", tag = "alarms", operation_id = "list_devices", params(DeviceQuery),
    responses(
        (status = 200, description = "One page of devices", body = Vec<DeviceView>),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No actor", body = ErrorBody),
        (status = 403, description = "Citizens cannot read this", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    AppQuery(q): AppQuery<DeviceQuery>,
) -> Result<AppJson<Vec<DeviceView>>, ApiError> {
    actor.check_staff()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_param("limit", "must be 1 to 1000"));
    }
    let devices = state.desk.store().devices(q.after.as_deref(), limit).await?;
    Ok(AppJson(devices.into_iter().map(view).collect()))
}

/// One device with its latest alarms.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceDetail {
    /// The device.
    device: DeviceView,
    /// Its latest 50 alarms, newest first.
    alarms: Vec<AlarmView>,
}

/// An alarm as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmView {
    /// The device's message id.
    id: String,
    /// Device time.
    at: String,
    /// Level.
    level: jiesu_domain::alarm::Level,
    /// Reading.
    reading: Option<f64>,
    /// What the rules did.
    outcome: String,
    /// The case opened or joined.
    case: Option<i64>,
    /// `mqtt` or `http`.
    door: String,
}

/// `GET /api/v1/devices/{device}`: one device and its latest alarms (staff).
#[utoipa::path(get, path = "/devices/{device}", tag = "alarms", operation_id = "show_device", params(("device" = String, Path, description = "Device id")),
    responses(
        (status = 200, description = "The device", body = DeviceDetail),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No actor", body = ErrorBody),
        (status = 403, description = "Citizens cannot read this", body = ErrorBody),
        (status = 404, description = "No such device", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    actor: Actor,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<DeviceDetail>, ApiError> {
    actor.check_staff()?;
    let store = state.desk.store();
    let Some(device) = store.device(&id).await? else {
        return Err(ApiError::not_found(format!("device {id} not found")));
    };
    let alarms = store
        .alarms_of(&id, 50)
        .await?
        .into_iter()
        .map(|a| AlarmView {
            id: a.msg_id,
            at: a.at.to_rfc3339(),
            level: a.level,
            reading: a.reading,
            outcome: a.outcome,
            case: a.case_id,
            door: a.door,
        })
        .collect();
    Ok(AppJson(DeviceDetail { device: view(device), alarms }))
}

/// `DELETE /api/v1/devices/{device}`: removes a device (admins); its alarms stay.
#[utoipa::path(delete, path = "/devices/{device}", tag = "alarms", operation_id = "delete_device", params(("device" = String, Path, description = "Device id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No actor", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such device", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    actor: Actor,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    admin(&actor)?;
    if state.desk.store().delete_device(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("device {id} not found")))
    }
}

/// A place that is not green.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceView {
    /// The place (`grid:CODE`, `building:NAME`).
    place: String,
    /// Its grid cell.
    grid: Option<String>,
    /// Its street.
    street: Option<String>,
    /// The responsible unit of the device that coloured it last.
    unit: Option<String>,
    /// Its colour.
    colour: Colour,
    /// In Chinese.
    colour_label: &'static str,
    /// Since when (device time, RFC 3339).
    since: String,
    /// Why.
    reason: String,
    /// Its open alarm case.
    case: Option<i64>,
}

/// A grid cell's colour: the worst of its places.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridColour {
    /// Grid cell code.
    grid: String,
    /// Street code.
    street: Option<String>,
    /// Colour.
    colour: Colour,
}

/// Body of `GET /api/v1/colours`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Colours {
    /// Places that are yellow or red (a unit handler: its unit's places), reds first.
    places: Vec<PlaceView>,
    /// Every grid cell that is not green, with its worst colour.
    grids: Vec<GridColour>,
}

fn place_view(p: PlaceColour) -> PlaceView {
    PlaceView {
        place: p.place,
        grid: p.grid,
        street: p.street,
        unit: p.unit,
        colour: p.colour,
        colour_label: p.colour.label(),
        since: p.since.to_rfc3339(),
        reason: p.reason,
        case: p.open_case,
    }
}

/// `GET /api/v1/colours`: 三色预警, the places that are yellow or red and each grid's colour
/// (staff; a unit handler or grid inspector sees its own unit's places).
#[utoipa::path(get, path = "/colours", tag = "alarms",
    responses(
        (status = 200, description = "Yellow and red places, and each grid's colour", body = Colours),
        (status = 401, description = "No actor", body = ErrorBody),
        (status = 403, description = "Citizens cannot read this", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn colours(State(state): State<AppState>, actor: Actor) -> Result<AppJson<Colours>, ApiError> {
    actor.check_staff()?;
    let unit = match actor.role() {
        Role::UnitHandler | Role::GridInspector => Some(actor.0.unit.clone().unwrap_or_default()),
        _ => None,
    };
    let store = state.desk.store();
    let places = store.coloured_places(unit.as_deref()).await?.into_iter().map(place_view).collect();
    let grids = store
        .grid_colours()
        .await?
        .into_iter()
        .map(|(grid, street, colour)| GridColour { grid, street, colour })
        .collect();
    Ok(AppJson(Colours { places, grids }))
}

/// Query of `GET /api/v1/alarms/counts`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountsQuery {
    /// The month of the report, `YYYY-MM`; default the current month (local time).
    #[param(example = "2026-12", pattern = r"^[0-9]{4}-[0-9]{2}$")]
    period: Option<String>,
}

/// A month of alarms (the monthly report).
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthView {
    /// The month, `YYYY-MM`.
    period: String,
    /// Alarms received.
    alarms: i64,
    /// Cases they opened.
    cases_opened: i64,
    /// Of those, signed for (签收) by now.
    accepted: i64,
    /// Mean minutes from the alarm to 签收.
    mean_minutes_to_accept: Option<f64>,
}

/// Body of `GET /api/v1/alarms/counts`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Counts {
    /// The month asked for.
    month: MonthView,
    /// Alarms accepted.
    accepted: i64,
    /// Cases they opened.
    cases_opened: i64,
    /// Alarms suppressed (flapping devices).
    suppressed: i64,
    /// Payloads refused, per reason (malformed, unknown_device, bad_token, topic_mismatch, bad_time).
    rejected: std::collections::BTreeMap<String, i64>,
}

/// `GET /api/v1/alarms/counts?period=YYYY-MM`: alarms accepted, cases opened, suppressed, refusals
/// (all time), and the month's alarms, cases and time from alarm to 签收 (staff).
#[utoipa::path(get, path = "/alarms/counts", tag = "alarms", params(CountsQuery),
    responses(
        (status = 200, description = "The counts", body = Counts),
        (status = 400, description = "Malformed request (a bad period)", body = ErrorBody),
        (status = 401, description = "No actor", body = ErrorBody),
        (status = 403, description = "Citizens cannot read this", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn counts(
    State(state): State<AppState>,
    actor: Actor,
    AppQuery(q): AppQuery<CountsQuery>,
) -> Result<AppJson<Counts>, ApiError> {
    actor.check_staff()?;
    let period = match q.period.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => crate::params::period("period", v)?,
        None => jiesu_domain::assessment::Period::of(state.now(), state.desk.config().tz),
    };
    let m = state.alarms.month(period).await?;
    let c = state.desk.store().alarm_counts().await?;
    Ok(AppJson(Counts {
        month: MonthView {
            period: period.to_string(),
            alarms: m.alarms,
            cases_opened: m.cases_opened,
            accepted: m.accepted,
            mean_minutes_to_accept: m.mean_minutes_to_accept,
        },
        accepted: c.accepted,
        cases_opened: c.cases_opened,
        suppressed: c.suppressed,
        rejected: c.rejected.into_iter().collect(),
    }))
}
