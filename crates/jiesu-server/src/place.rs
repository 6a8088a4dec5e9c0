//! Points at the edge: the APIs (JSON and Open311) take and give WGS-84 degrees — what phones,
//! GPS and Open311 clients send — while the domain, the outline, the gazetteer and the grid are in
//! GCJ-02, the datum of Chinese web maps. A point is converted when it comes in
//! ([`incoming`]: WGS-84 → GCJ-02, then checked against the district's box with a margin) and
//! when it goes out ([`outgoing`]: GCJ-02 → WGS-84, six decimals, about 0.1 m), with
//! `jiesu_geo::datum`.

use jiesu_core::Desk;
use jiesu_domain::draft::{FieldError, Place};
use jiesu_geo::datum::{gcj02_to_wgs84, wgs84_to_gcj02};

/// Default margin around the district's box, in degrees (about 5 km).
pub const DEFAULT_MARGIN_DEG: f64 = 0.05;

/// Dongcheng's box (GCJ-02), from its outline (`110101_full.json`): the bounds when the desk has
/// no outline or gazetteer points.
const DONGCHENG: [f64; 4] = [116.377134, 39.858625, 116.452391, 39.974036];

/// Where points may lie: the district's box plus a margin, in GCJ-02 degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// West, south, east, north.
    pub gcj02: [f64; 4],
}

impl Bounds {
    /// The box of the desk's district — the outline's, else the gazetteer's points', else
    /// Dongcheng's when that is the catalog's district — widened by `margin` degrees; None for
    /// another district without geography (then only the ranges of latitude and longitude hold).
    pub fn of_desk(desk: &Desk, margin: f64) -> Option<Bounds> {
        let b = desk
            .geo()
            .and_then(|g| g.bounds())
            .or_else(|| (desk.catalog().district_code() == "110101").then_some(DONGCHENG))?;
        let m = margin.max(0.0);
        Some(Bounds { gcj02: [b[0] - m, b[1] - m, b[2] + m, b[3] + m] })
    }

    fn contains(&self, lon: f64, lat: f64) -> bool {
        let [w, s, e, n] = self.gcj02;
        (w..=e).contains(&lon) && (s..=n).contains(&lat)
    }

    /// The box in WGS-84, rounded outwards to 3 decimals, for messages.
    fn wgs84_text(&self) -> String {
        let [w, s, e, n] = self.gcj02;
        let (w, s) = gcj02_to_wgs84(w, s);
        let (e, n) = gcj02_to_wgs84(e, n);
        let (down, up) = (|x: f64| (x * 1000.0).floor() / 1000.0, |x: f64| (x * 1000.0).ceil() / 1000.0);
        format!("latitude {:.3}..{:.3}, longitude {:.3}..{:.3}", down(s), up(n), down(w), up(e))
    }
}

/// Converts the point of `place` (as a client sent it, WGS-84) into the domain's GCJ-02 and checks
/// it against `bounds`. Each problem names its field (`lat_field`, `lon_field`); a point that is
/// half given, not finite or out of range is left as it is for the domain's own checks.
pub fn incoming(place: &mut Place, bounds: Option<&Bounds>, lat_field: &str, lon_field: &str) -> Vec<FieldError> {
    let (Some(lat), Some(lon)) = (place.lat, place.lon) else { return Vec::new() };
    if !lat.is_finite() || !lon.is_finite() || !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Vec::new();
    }
    let (glon, glat) = wgs84_to_gcj02(lon, lat);
    if let Some(b) = bounds
        && !b.contains(glon, glat)
    {
        let [w, s, e, n] = b.gcj02;
        let message = |what: &str, v: f64| {
            format!("{what} {v} (WGS-84) is outside the district: points must lie within {}", b.wgs84_text())
        };
        let mut errors = Vec::new();
        if !(s..=n).contains(&glat) {
            errors.push(FieldError { field: lat_field.into(), message: message("latitude", lat) });
        }
        if !(w..=e).contains(&glon) || errors.is_empty() {
            errors.push(FieldError { field: lon_field.into(), message: message("longitude", lon) });
        }
        return errors;
    }
    place.lat = Some(glat);
    place.lon = Some(glon);
    Vec::new()
}

/// A stored (GCJ-02) point as the APIs give it: WGS-84, six decimals.
pub fn outgoing(lat: Option<f64>, lon: Option<f64>) -> (Option<f64>, Option<f64>) {
    match (lat, lon) {
        (Some(lat), Some(lon)) if lat.is_finite() && lon.is_finite() => {
            let (wlon, wlat) = gcj02_to_wgs84(lon, lat);
            let round = |x: f64| (x * 1e6).round() / 1e6;
            (Some(round(wlat)), Some(round(wlon)))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(lat: f64, lon: f64) -> Place {
        Place { lat: Some(lat), lon: Some(lon), ..Place::default() }
    }

    #[test]
    fn points_go_in_as_gcj02_and_come_out_as_they_were_sent() {
        let b = Bounds { gcj02: [116.33, 39.81, 116.50, 40.02] };
        for (lat, lon) in [(39.9289, 116.4168), (39.93, 116.41), (39.858625, 116.377134), (39.912345, 116.398765)] {
            let mut p = place(lat, lon);
            assert!(incoming(&mut p, Some(&b), "lat", "lon").is_empty());
            // GCJ-02 lies a few hundred metres north-east of WGS-84 in Beijing.
            assert!(p.lon.unwrap() - lon > 0.005 && p.lat.unwrap() - lat > 0.0005, "{p:?}");
            assert_eq!(outgoing(p.lat, p.lon), (Some(lat), Some(lon)));
        }
    }

    #[test]
    fn points_outside_the_district_are_refused_by_field() {
        let b = Bounds { gcj02: [116.33, 39.81, 116.50, 40.02] };
        let e = incoming(&mut place(0.0, 0.0), Some(&b), "place.lat", "place.lon");
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["place.lat", "place.lon"]);
        assert!(e[0].message.contains("outside the district") && e[0].message.contains("latitude 39.8"), "{e:?}");
        let e = incoming(&mut place(39.93, -116.41), Some(&b), "lat", "long");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "long");
        // No bounds (another district without geography): converted, not refused.
        assert!(incoming(&mut place(31.23, 121.47), None, "lat", "lon").is_empty());
    }
}
