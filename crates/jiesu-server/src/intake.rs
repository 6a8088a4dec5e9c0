//! `POST /api/v1/intake/suggest`: what smart intake suggests for a draft before it is filed —
//! its leaf category (classifier and label map), its place (street, community, unit grid), likely
//! duplicates among open cases nearby and the unit the responsibility list names — each with its
//! confidence. Nothing is stored; filing the case (`POST /api/v1/cases`) records the suggestions
//! and what the filer did with them.

use axum::extract::State;
use jiesu_domain::draft::{Contact, NewCase};
use jiesu_domain::model::{CaseKind, Channel, UnitKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::actor::Actor;
use crate::cases::{PlaceBody, clean};
use crate::error::{ApiError, Body as ErrorBody};
use crate::extract::AppJson;
use jiesu_domain::scrub::scrub;

/// A draft as far as it is written; only the text is needed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestBody {
    #[serde(default)]
    title: Option<String>,
    text: String,
    /// Leaf category code, if chosen: the category suggestion is then shown as confirmed or
    /// overridden; if not, the suggestion fills it (or the draft is bound for the manual queue).
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    place: PlaceBody,
}

/// The category the classifier suggests for the draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    /// Suggested leaf category code (the level cases are filed under).
    #[schema(example = "0203")]
    category: Option<String>,
    /// Its name.
    #[schema(example = "楼道堆物")]
    category_name: Option<String>,
    /// Its top-level category (the classifier's label mapped onto the catalog).
    #[schema(example = "02")]
    top_category: Option<String>,
    /// Its name.
    top_category_name: Option<String>,
    /// Other top-level categories where cases of this label also belong.
    also: Vec<String>,
    /// The classifier's label (empty when the text has nothing to classify).
    #[schema(example = "城乡建设")]
    label: String,
    /// The kind of unit that normally handles the label's cases.
    #[schema(value_type = Option<UnitKind>)]
    unit_kind: Option<String>,
    /// A default unit code, if the label map names one.
    unit: Option<String>,
    /// Confidence in the leaf, 0–1: the label's when the leaf rests on keywords found in the
    /// text, half of it for a default leaf (a guess within the top-level category).
    confidence: f64,
    /// The classifier's calibrated probability that the label (so the top-level category) is right.
    label_confidence: f64,
    /// The leaf's catalog keywords found in the text (empty: the top-level category's default leaf).
    keywords: Vec<String>,
    /// True: the dispatcher should classify by hand (see `reason`).
    manual: bool,
    /// Why it needs a person (Chinese, for the dispatcher).
    reason: Option<String>,
}

/// Where the gazetteer and grid put the draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceFound {
    /// Longitude, WGS-84.
    lon: Option<f64>,
    /// Latitude, WGS-84.
    lat: Option<f64>,
    street: Option<String>,
    street_name: Option<String>,
    community: Option<String>,
    community_name: Option<String>,
    grid: Option<String>,
    /// Confidence that the street is right, 0–1.
    confidence: f64,
    /// `point`, `address`, `text` or `none`.
    source: String,
    /// The place name that matched.
    matched: Option<String>,
    /// `approximate` (areas derived from points) or `surveyed` (real polygons).
    area_precision: String,
    outside_district: bool,
}

/// One suggested field and what filing the draft as it stands would do with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldSuggestion {
    /// `category`, `street`, `community`, `grid` or `point`.
    field: String,
    /// The suggested value (empty when nothing could be suggested).
    value: String,
    confidence: f64,
    source: String,
    /// `filled`, `confirmed`, `overridden` or `shown`.
    outcome: String,
    chosen: Option<String>,
    /// Why it was only shown (e.g. the manual queue's reason).
    reason: Option<String>,
}

/// An open case that the draft may repeat (only cases the caller may read; the title masked
/// like the contact for roles that do not see it).
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateView {
    case_id: i64,
    title: String,
    status: String,
    /// Confidence in [0, 1] that it is the same incident.
    confidence: f64,
    /// The confidence reaches the threshold: suggest merging.
    likely: bool,
    distance_m: Option<f64>,
    hours_apart: f64,
    text_similarity: f64,
}

/// The unit the responsibility list names and the row that fired.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteView {
    unit: String,
    unit_name: Option<String>,
    rule: String,
}

/// Everything intake suggests for a draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    /// The category suggestion (null when the server runs without a classifier).
    category: Option<CategoryView>,
    /// Filed as it stands, the draft would go to the dispatcher's manual queue: no category
    /// given and no confident suggestion (received under 2299 其他事项, not dispatched).
    manual_queue: bool,
    place: Option<PlaceFound>,
    suggestions: Vec<FieldSuggestion>,
    duplicates: Vec<DuplicateView>,
    route: Option<RouteView>,
}

fn code_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// `POST /api/v1/intake/suggest`: staff only; nothing is stored.
#[utoipa::path(post, path = "/intake/suggest", tag = "intake", request_body = SuggestBody,
    responses(
        (status = 200, description = "Suggestions, each with its confidence", body = Suggestions),
        (status = 400, description = "Malformed request: bad JSON, path or query value", body = ErrorBody),
        (status = 401, description = "Not logged in and no API key", body = ErrorBody),
        (status = 403, description = "Citizens cannot ask for intake suggestions", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Input that parses but is wrong: every problem is listed in `fields`", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn suggest(
    State(state): State<AppState>,
    actor: Actor,
    AppJson(body): AppJson<SuggestBody>,
) -> Result<AppJson<Suggestions>, ApiError> {
    actor.check_staff()?;
    let category = clean(body.category).unwrap_or_default();
    let mut place = body.place.into_place();
    let outside = crate::place::incoming(&mut place, state.bounds.as_ref(), "place.lat", "place.lon");
    if !outside.is_empty() {
        return Err(ApiError::invalid_fields(outside));
    }
    let draft = NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: clean(body.title),
        text: body.text,
        category: category.clone(),
        place,
        contact: Contact::default(),
        external_id: None,
    };
    if let Err(errors) = draft.validate(state.desk.catalog()) {
        // An unwritten category is fine here; the other problems are not.
        let errors: Vec<_> = errors.into_iter().filter(|e| !(category.is_empty() && e.field == "category")).collect();
        if !errors.is_empty() {
            return Err(ApiError::invalid_fields(errors));
        }
    }
    // Duplicates only among the cases the actor may see (the store applies the scope).
    let s = state.desk.suggest(&actor.scope(state.desk.catalog()), &draft, state.now()).await?;
    let catalog = state.desk.catalog();
    Ok(AppJson(Suggestions {
        category: s.category.map(|c| CategoryView {
            category: c.category,
            category_name: c.category_name,
            top_category: c.top_category,
            top_category_name: c.top_category_name,
            also: c.also,
            label: c.label,
            unit_kind: c.unit_kind.map(|k| code_of(&k)),
            unit: c.unit,
            confidence: f64::from(c.confidence),
            label_confidence: f64::from(c.label_confidence),
            keywords: c.keywords,
            manual: c.manual,
            reason: c.reason,
        }),
        manual_queue: s.manual_queue,
        place: s.place.map(|p| {
            // Given back in WGS-84, as the APIs speak.
            let (lat, lon) = crate::place::outgoing(p.point.map(|x| x.lat), p.point.map(|x| x.lon));
            PlaceFound {
                lon,
                lat,
                street_name: p.street.as_ref().map(|a| a.name.clone()),
                street: p.street.map(|a| a.code),
                community_name: p.community.as_ref().map(|a| a.name.clone()),
                community: p.community.map(|a| a.code),
                grid: p.grid,
                confidence: p.confidence,
                source: code_of(&p.source),
                matched: p.matched,
                area_precision: p.area_precision.as_str().to_string(),
                outside_district: p.outside_district,
            }
        }),
        suggestions: s
            .suggestions
            .into_iter()
            .map(|x| FieldSuggestion {
                outcome: code_of(&x.outcome),
                field: x.field,
                value: x.value,
                confidence: x.confidence,
                source: x.source,
                chosen: x.chosen,
                reason: x.reason,
            })
            .collect(),
        duplicates: s
            .duplicates
            .into_iter()
            .map(|d| DuplicateView {
                case_id: d.case_id,
                // The title is made from the citizen's words: masked as the contact is.
                title: if actor.sees_contact(d.contact.confidential) {
                    d.title
                } else {
                    scrub(&d.contact.redact(&d.title))
                },
                status: d.status.code().to_string(),
                confidence: d.confidence,
                likely: d.likely,
                distance_m: d.reasons.distance_m,
                hours_apart: d.reasons.hours_apart,
                text_similarity: d.reasons.similarity,
            })
            .collect(),
        route: s.route.map(|r| RouteView {
            unit_name: catalog.unit(&r.unit).map(|u| u.name.clone()),
            unit: r.unit,
            rule: r.rule,
        }),
    }))
}
