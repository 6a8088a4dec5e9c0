//! Smart intake at the desk: the suggestions a new case gets before it is filed — today its
//! place (street, community, unit grid, point) from the district's gazetteer and grid — and
//! what the filer did with each, recorded on the 受理 event.
//!
//! Policy: a suggestion fills a field the filer left empty only when it is confident enough
//! ([`FILL_CONFIDENCE`]); a field the filer gave is never changed, and a different suggestion is
//! recorded as overridden.

use jiesu_domain::draft::NewCase;
use jiesu_domain::suggestion::Suggestion;
use jiesu_geo::{Geo, Placement, Source};

use crate::CoreError;
use crate::error::invalid;

/// Least confidence for a suggestion to fill an empty field.
pub const FILL_CONFIDENCE: f64 = 0.5;

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
/// fields are filled when confident, given ones kept. Returns the suggestions to record.
pub fn place(geo: &Geo, case: &mut NewCase) -> Result<Vec<Suggestion>, CoreError> {
    let point = case.place.lon.zip(case.place.lat);
    let found = geo
        .locate(&case.text, case.place.address.as_deref(), point)
        .map_err(|e| invalid("place", e.to_string()))?;
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
    let community = found.community.as_ref().map(|a| a.code.clone()).filter(|c| {
        place.street.as_deref().is_none_or(|s| c.starts_with(s))
    });
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
    Ok(out)
}
