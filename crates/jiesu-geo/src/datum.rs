//! The two datums of Chinese coordinates: WGS-84 (GPS, phones, Open311 clients) and GCJ-02 (the
//! datum of Chinese web maps, of the district's outline and gazetteer, and so of every point the
//! domain stores). The APIs take and give WGS-84; the server converts at the edge.
//!
//! WGS-84 → GCJ-02 is the published obfuscation formula (crate `coordtransform`); GCJ-02 → WGS-84
//! has no closed form and is solved here by fixed-point iteration on the forward formula, to
//! about 1e-9° (0.1 mm), so a point given with six decimals comes back with the same six.
//! Outside China both are the identity, as the formula is.

/// GCJ-02 (lon, lat) of a WGS-84 point.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    coordtransform::wgs84_to_gcj02(lon, lat)
}

/// WGS-84 (lon, lat) of a GCJ-02 point: the point whose GCJ-02 image is (`lon`, `lat`).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (gx, gy) = wgs84_to_gcj02(x, y);
        let (dx, dy) = (gx - lon, gy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-10 && dy.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_pairs() {
        // Published pairs of other implementations of the formula (eviltransform ports): Beijing.
        let (lon, lat) = wgs84_to_gcj02(116.359496, 39.909745);
        assert!((lon - 116.36569790916941).abs() < 1e-8 && (lat - 39.911112866392486).abs() < 1e-8, "{lon} {lat}");
        // Dongcheng's offset is a few hundred metres north-east; abroad nothing moves.
        let (lon, lat) = wgs84_to_gcj02(116.4168, 39.9289);
        assert!(
            (0.005..0.007).contains(&(lon - 116.4168)) && (0.0005..0.002).contains(&(lat - 39.9289)),
            "{lon} {lat}"
        );
        assert_eq!(wgs84_to_gcj02(-71.06, 42.36), (-71.06, 42.36));
    }

    #[test]
    fn the_inverse_is_exact_to_a_tenth_of_a_millimetre() {
        for (lon, lat) in [(116.4168, 39.9289), (116.377134, 39.858625), (116.452391, 39.974036), (121.4737, 31.2304)] {
            let (gl, ga) = wgs84_to_gcj02(lon, lat);
            let (wl, wa) = gcj02_to_wgs84(gl, ga);
            assert!((wl - lon).abs() < 1e-9 && (wa - lat).abs() < 1e-9, "{lon},{lat} → {wl},{wa}");
            let (gl2, ga2) = wgs84_to_gcj02(wl, wa);
            assert!((gl2 - gl).abs() < 1e-9 && (ga2 - ga).abs() < 1e-9);
        }
    }
}
