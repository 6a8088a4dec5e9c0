//! `jiesu geo …`: unit grids and place finding (the logic lives in `jiesu_geo`).
//!
//! * `jiesu geo grid --outline FILE [--areas FILE] [--out FILE]` cuts the ≈100 m unit grid over a
//!   district outline (GeoJSON), prints the cell count, areas, cells per street, the build time
//!   and the lookup speed, and with `--out` writes the cells as GeoJSON.
//! * `jiesu geo locate "TEXT" [--address A] [--point LON,LAT] [--outline FILE]` prints where a
//!   message is (street, community, grid cell, confidence) as JSON.
//!
//! [`load_geo`] is the loading helper the server uses: an outline path from the settings, else the
//! outline embedded in the binary (data/110101_full.json).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use jiesu_domain::catalog::Catalog;
use jiesu_geo::gazetteer::DONGCHENG_GAZETTEER_CSV;
use jiesu_geo::{Geo, Lookup};

/// The `geo` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum GeoCmd {
    /// Build the unit grid (万米单元网格) over a district outline and print its figures.
    Grid {
        /// District outline, GeoJSON (Polygon/MultiPolygon, GCJ-02).
        #[arg(long)]
        outline: PathBuf,
        /// Real street/community polygons, GeoJSON (features with a `code` or `name`); without
        /// it the areas are approximate.
        #[arg(long)]
        areas: Option<PathBuf>,
        /// Write the cells as a GeoJSON FeatureCollection here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Lookups to time.
        #[arg(long, default_value_t = 2_000_000)]
        lookups: usize,
    },
    /// Find the place of a message: street, community, grid cell.
    Locate {
        /// The message text.
        text: String,
        /// An address string, tried before the text.
        #[arg(long)]
        address: Option<String>,
        /// A GCJ-02 point, `LON,LAT`.
        #[arg(long, value_parser = parse_point, allow_hyphen_values = true)]
        point: Option<(f64, f64)>,
        /// District outline (default: the embedded Dongcheng outline).
        #[arg(long, env = "JIESU_OUTLINE")]
        outline: Option<PathBuf>,
    },
}

fn parse_point(s: &str) -> Result<(f64, f64), String> {
    let (lon, lat) = s.split_once(',').ok_or_else(|| format!("{s:?} is not LON,LAT"))?;
    let lon: f64 = lon.trim().parse().map_err(|_| format!("longitude {lon:?} is not a number"))?;
    let lat: f64 = lat.trim().parse().map_err(|_| format!("latitude {lat:?} is not a number"))?;
    Ok((lon, lat))
}

/// The district's places and grid: the outline at `outline` (an error if it cannot be read), else
/// the Dongcheng outline embedded in the binary.
pub fn load_geo(outline: Option<&Path>) -> anyhow::Result<Geo> {
    let Some(path) = outline else {
        return Geo::dongcheng_embedded().context("building the unit grid over the embedded outline");
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the outline {}", path.display()))?;
    Geo::dongcheng(&text).with_context(|| format!("building the unit grid over {}", path.display()))
}

/// Runs a `geo` subcommand.
pub fn run(cmd: GeoCmd) -> anyhow::Result<()> {
    match cmd {
        GeoCmd::Grid { outline, areas, out, lookups } => grid(&outline, areas.as_deref(), out.as_deref(), lookups),
        GeoCmd::Locate { text, address, point, outline } => {
            let geo = load_geo(outline.as_deref())?;
            let placement = geo.locate(&text, address.as_deref(), point)?;
            println!("{}", serde_json::to_string_pretty(&placement)?);
            Ok(())
        }
    }
}

fn grid(outline: &Path, areas: Option<&Path>, out: Option<&Path>, lookups: usize) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(outline).with_context(|| format!("reading {}", outline.display()))?;
    let polygons =
        areas.map(|p| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))).transpose()?;
    let start = Instant::now();
    let geo = Geo::new(&Catalog::dongcheng(), DONGCHENG_GAZETTEER_CSV, Some(&text), polygons.as_deref())
        .with_context(|| format!("building the grid over {}", outline.display()))?;
    let build_s = start.elapsed().as_secs_f64();
    let Some(grid) = geo.grid() else { bail!("no grid was built") };
    let stats = grid.stats();
    println!("outline: {} ({:.2} km²)", outline.display(), stats.outline_km2);
    println!("cell: {:.0} m × {:.0} m", grid.cell_m(), grid.cell_m());
    println!("cells: {} ({:.2} km²)", stats.cells, stats.cells_km2);
    println!("codes: 14 characters; {} cells use base-36 serials (communities over 99 cells)", stats.base36_serials);
    println!("communities with cells: {} of {}", stats.communities_with_cells, stats.communities);
    println!("area_precision: {}", stats.area_precision.as_str());
    println!("street                 cells   km²  communities");
    for s in &stats.streets {
        println!(
            "{} {:<8} {:>5} {:>6.2}  {}/{}",
            s.code,
            s.name,
            s.cells,
            s.cells as f64 * grid.cell_m() * grid.cell_m() / 1e6,
            s.communities_with_cells,
            s.communities
        );
    }
    println!("gazetteer: {} entries", geo.gazetteer().entries().len());
    println!("build_seconds: {build_s:.3}");

    // Lookups at pseudo-random points over the outline's bounding box (inside and outside).
    let points = jiesu_geo::grid::sample_points(grid.lattice(), lookups.max(1));
    let start = Instant::now();
    let mut inside = 0usize;
    for &(lon, lat) in &points {
        if let Lookup::Inside(_) = grid.lookup(lon, lat)? {
            inside += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "lookups: {} ({} inside) in {:.3} s: {:.0} lookups/s",
        points.len(),
        inside,
        secs,
        points.len() as f64 / secs
    );
    if let Some(out) = out {
        std::fs::write(out, grid.to_geojson()).with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
