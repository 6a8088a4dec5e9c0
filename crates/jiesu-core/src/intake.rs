//! Smart intake at the desk: the suggestions a new case gets before it is filed — its place
//! (street, community, unit grid, point) from the district's gazetteer and grid, and its leaf
//! category from the classifier — and what the filer did with each, recorded on the 受理 event.
//!
//! Policy: a suggestion fills a field the filer left empty only when it is confident enough
//! (place: [`FILL_CONFIDENCE`]; category: the classifier's own manual-queue threshold, see
//! [`jiesu_intake::suggest`]); a field the filer gave is never changed, and a different
//! suggestion is recorded as overridden.
//!
//! **The manual queue.** A draft without a category whose suggestion is not confident (or that
//! has no usable text, or whose label maps nowhere) is received under [`MANUAL_CATEGORY`]
//! (其他事项) and is *not* dispatched, even when automatic dispatch was asked: it stays 已受理
//! (`received`) for a dispatcher to classify and dispatch by hand, and its 受理 event carries the
//! category suggestion with outcome `shown` and the reason. The queue is the list of cases
//! received under that category and not yet dispatched: `GET /api/v1/cases?status=received&category=2299`.

use chrono::{DateTime, Utc};
use jiesu_domain::access::Scope;
use jiesu_domain::catalog::{Catalog, Route};
use jiesu_domain::draft::NewCase;
use jiesu_domain::suggestion::Suggestion;
use jiesu_geo::{Geo, Placement, Source};
use jiesu_intake::suggest::{CategorySuggestion, Suggester};

use serde::Serialize;

use crate::duplicates::DuplicateSuggestion;
use crate::error::invalid;
use crate::{CoreError, Desk};

/// Least confidence for a suggestion to fill an empty field.
pub const FILL_CONFIDENCE: f64 = 0.5;

/// The leaf a case is received under while it waits in the dispatcher's manual queue.
pub const MANUAL_CATEGORY: &str = "2299";

/// What the classifier made of a draft's category.
#[derive(Debug, Clone)]
pub struct CategoryIntake {
    /// The classifier's suggestion.
    pub suggestion: CategorySuggestion,
    /// What goes on the 受理 event (none when the filer gave a category and nothing was suggested).
    pub record: Option<Suggestion>,
    /// The draft had no category and the suggestion was not confident: received under
    /// [`MANUAL_CATEGORY`], not dispatched automatically.
    pub manual_queue: bool,
}

/// The text the classifier reads: the title, if given, and the text.
fn classified_text(case: &NewCase) -> String {
    match case.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => format!("{t}\n{}", case.text),
        None => case.text.clone(),
    }
}

/// Suggests the category of `case` and settles it against what the filer gave: an empty
/// category is filled when the suggestion is confident (not `manual`) and names a leaf of
/// `catalog`; otherwise an empty category becomes [`MANUAL_CATEGORY`] and the case goes to the
/// manual queue. A given category is kept; the suggestion is recorded as confirmed or overridden.
pub fn category(suggester: &Suggester, catalog: &Catalog, case: &mut NewCase) -> CategoryIntake {
    let s = suggester.suggest(&classified_text(case));
    let confidence = f64::from(s.confidence);
    let mut source = if s.label.is_empty() {
        "classifier: no usable text".to_string()
    } else {
        format!("classifier: {} ({:.2})", s.label, s.label_confidence)
    };
    if let Some(top) = &s.top_category {
        source.push_str(&format!(" → {top}"));
    }
    if s.category.is_some() {
        if s.keywords.is_empty() {
            source.push_str("; no keyword: default leaf");
        } else {
            source.push_str(&format!("; keywords {}", s.keywords.join("、")));
        }
    }
    let leaf = s.category.clone().filter(|c| catalog.category(c).is_some_and(|c| c.is_leaf()));
    let given = Some(case.category.trim()).filter(|c| !c.is_empty()).map(str::to_string);
    if let Some(given) = given {
        case.category = given.clone();
        let record = leaf.map(|l| Suggestion::settle("category", l, confidence, source, Some(given.as_str()), false).0);
        return CategoryIntake { suggestion: s, record, manual_queue: false };
    }
    if let Some(l) = leaf.as_ref().filter(|_| !s.manual) {
        let (record, _) = Suggestion::settle("category", l.clone(), confidence, source, None, true);
        case.category = l.clone();
        return CategoryIntake { suggestion: s, record: Some(record), manual_queue: false };
    }
    let why = match (&s.reason, &s.category, &leaf) {
        (Some(r), _, _) => r.clone(),
        (None, Some(c), None) => format!("建议分类 {c} 不在本区诉求分类目录中，需人工分类"),
        _ => "需人工分类".to_string(),
    };
    let (mut record, _) =
        Suggestion::settle("category", s.category.clone().unwrap_or_default(), confidence, source, None, false);
    record.reason = Some(format!("{why}；转人工分类队列，暂按其他事项（{MANUAL_CATEGORY}）受理，不自动派单"));
    case.category = MANUAL_CATEGORY.to_string();
    CategoryIntake { suggestion: s, record: Some(record), manual_queue: true }
}

/// Where the placement came from, for the record.
fn source(p: &Placement) -> String {
    match (p.source, &p.matched, p.kind) {
        (Source::Point, _, _) => format!("grid lookup of the given point ({} areas)", p.area_precision.as_str()),
        (s, Some(m), kind) => {
            let from = if s == Source::Address { "address" } else { "text" };
            let kind = kind.map(|k| format!(" ({k:?})").to_lowercase()).unwrap_or_default();
            format!("gazetteer: {m}{kind} in the {from}; {} areas", p.area_precision.as_str())
        }
        _ => "nothing found".to_string(),
    }
}

/// Finds the place of `case` and settles each suggestion against what the filer gave: empty
/// fields are filled when confident, given ones kept. Returns what was found and the
/// suggestions to record.
pub fn place(geo: &Geo, case: &mut NewCase) -> Result<(Placement, Vec<Suggestion>), CoreError> {
    let point = case.place.lon.zip(case.place.lat);
    let found =
        geo.locate(&case.text, case.place.address.as_deref(), point).map_err(|e| invalid("place", e.to_string()))?;
    let from = source(&found);
    let confident = found.confidence >= FILL_CONFIDENCE;
    let mut out = Vec::new();
    let place = &mut case.place;
    let mut settle = |field: &str, value: Option<String>, given: &mut Option<String>, fill: bool| {
        if let Some(value) = value {
            let (s, v) = Suggestion::settle(field, value, found.confidence, from.clone(), given.as_deref(), fill);
            *given = v;
            out.push(s);
        }
    };
    settle("street", found.street.as_ref().map(|a| a.code.clone()), &mut place.street, confident);
    // A community only makes sense inside the street the case ends up in.
    let community = found
        .community
        .as_ref()
        .map(|a| a.code.clone())
        .filter(|c| place.street.as_deref().is_none_or(|s| c.starts_with(s)));
    settle("community", community, &mut place.community, confident);
    settle("grid", found.grid.clone(), &mut place.grid, confident);
    // A gazetteer point is filled in only when it is a fine one (it got a grid cell).
    if found.source != Source::Point
        && let Some(p) = found.point
    {
        let value = format!("{:.6},{:.6}", p.lon, p.lat);
        let given = point.map(|(lon, lat)| format!("{lon:.6},{lat:.6}"));
        let fill = confident && found.grid.is_some();
        let (s, v) = Suggestion::settle("point", value, found.confidence, from.clone(), given.as_deref(), fill);
        if given.is_none() && v.is_some() {
            (place.lon, place.lat) = (Some(p.lon), Some(p.lat));
        }
        out.push(s);
    }
    Ok((found, out))
}

/// Everything intake suggests for a draft, before it is filed (`Desk::suggest`).
#[derive(Debug, Clone, Serialize)]
pub struct IntakeSuggestions {
    /// Where the case is, as the gazetteer and grid tell (none when no gazetteer is loaded).
    pub place: Option<Placement>,
    /// The category the classifier suggests (none when the desk has no classifier).
    pub category: Option<CategorySuggestion>,
    /// Filed as it stands, the draft would go to the dispatcher's manual queue (no category given
    /// and no confident suggestion): received under [`MANUAL_CATEGORY`], not dispatched.
    pub manual_queue: bool,
    /// Each suggested field and what filing the draft as it stands would do with it.
    pub suggestions: Vec<Suggestion>,
    /// Open cases nearby that it may repeat, most likely first.
    pub duplicates: Vec<DuplicateSuggestion>,
    /// Who the responsibility list sends it to, for the draft's category (given or filled) and
    /// the place found; none for a draft bound for the manual queue.
    pub route: Option<Route>,
}

impl Desk {
    /// What intake suggests for `draft` at `now`: its category, place, likely duplicates and
    /// route, settled as [`Desk::receive`] would settle them. Nothing is stored. A draft whose
    /// category is unknown, or which would go to the manual queue, gets no route. Duplicates are
    /// looked for among the cases within `scope` only (the asking actor's).
    pub async fn suggest(
        &self,
        scope: &Scope,
        draft: &NewCase,
        now: DateTime<Utc>,
    ) -> Result<IntakeSuggestions, CoreError> {
        let mut case = draft.clone();
        let mut suggestions = Vec::new();
        let (category, manual_queue) = match self.classifier() {
            Some(s) => {
                let c = category(s, self.catalog(), &mut case);
                suggestions.extend(c.record);
                (Some(c.suggestion), c.manual_queue)
            }
            None => (None, false),
        };
        let place = match self.geo() {
            Some(geo) => {
                let (p, s) = place(geo, &mut case)?;
                suggestions.extend(s);
                Some(p)
            }
            None => None,
        };
        let duplicates = self.duplicate_candidates(scope, &case, now, None).await?;
        let route = self.catalog().category(&case.category).filter(|c| c.is_leaf() && !manual_queue).map(|_| {
            self.catalog().route(&case.category, case.place.street.as_deref(), case.place.community.as_deref())
        });
        Ok(IntakeSuggestions { place, category, manual_queue, suggestions, duplicates, route })
    }
}
