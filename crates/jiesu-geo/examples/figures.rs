//! Speed figures of the grid without building the whole binary:
//! `cargo run --release -p jiesu-geo --example figures -- ../shared/data/geo/110101_full.json`
//! (`jiesu geo grid --outline FILE` prints the same figures and more.)

use std::time::Instant;

use jiesu_geo::{Geo, Lookup};

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "../shared/data/geo/110101_full.json".into());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let start = Instant::now();
    let geo = Geo::dongcheng(&text).expect("grid");
    let build = start.elapsed().as_secs_f64();
    let grid = geo.grid().expect("grid");
    println!(
        "cells: {}, gazetteer entries: {}, build_seconds: {build:.3}",
        grid.cells().len(),
        geo.gazetteer().entries().len()
    );

    let points = jiesu_geo::grid::sample_points(grid.lattice(), 5_000_000);
    let start = Instant::now();
    let inside = points.iter().filter(|&&(lon, lat)| matches!(grid.lookup(lon, lat), Ok(Lookup::Inside(_)))).count();
    let secs = start.elapsed().as_secs_f64();
    println!("lookups: {} ({inside} inside) in {secs:.3} s: {:.0} lookups/s", points.len(), points.len() as f64 / secs);

    let texts = [
        "东城区王府井大街255号门口井盖丢失",
        "南锣鼓巷里面酒吧太吵",
        "小区楼下噪音扰民，晚上睡不着",
        "天坛东门附近井盖丢失",
    ];
    let n = 400_000;
    let start = Instant::now();
    let found =
        (0..n).filter(|i| geo.locate(texts[i % texts.len()], None, None).is_ok_and(|p| p.street.is_some())).count();
    let secs = start.elapsed().as_secs_f64();
    println!("locate (text): {n} messages ({found} placed) in {secs:.3} s: {:.0} messages/s", n as f64 / secs);
}
