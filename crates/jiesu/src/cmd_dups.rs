//! `jiesu bench duplicates [--data PATH]`: the duplicate scorer on Boston 311 (2015).
//!
//! Replays the year (see `jiesu_intake::dups::boston`), searches the weights and threshold for the
//! best F1 on the first half, and reports them on the second half and the whole year, with an
//! operating curve and the scoring throughput. Ends with `precision: X`, `recall: X`, `f1: X`
//! (second half, weights chosen on the first).

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use jiesu_intake::dups::boston::{self, Figures, Period, Window};
use jiesu_intake::dups::{Scorer, Weights};

/// Where the data set is, relative to the project root.
pub const DEFAULT_DATA: &str = "../shared/data/boston311/boston311_2015.csv.gz";

fn line(name: &str, f: &Figures) -> String {
    format!(
        "{name:<22} threshold {:.3}  precision {:.3}  recall {:.3}  f1 {:.3}  ({} flagged, {} of {} duplicates, {} cases)",
        f.threshold, f.precision, f.recall, f.f1, f.flagged, f.true_positives, f.duplicates, f.cases
    )
}

fn weights(w: &Weights) -> String {
    format!(
        "text {:.1}, distance {:.1} (D = {} m), time {:.1} (H = {} h), threshold {:.3}",
        w.text, w.distance, w.distance_scale_m, w.time, w.time_scale_h, w.threshold
    )
}

/// Runs the benchmark on the gzip CSV at `data`.
pub fn run(data: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let set = boston::load(data).with_context(|| format!("reading Boston 311 data (get it into {DEFAULT_DATA})"))?;
    println!(
        "Boston 311 2015: {} cases read in {:.1} s; {} not geocoded (city-centre default, no point)",
        set.cases.len(),
        started.elapsed().as_secs_f64(),
        set.not_geocoded
    );
    println!(
        "ground truth: {} closed as duplicates (closure reason mentions \"duplicate\"; of these {} carry the code \"Duplicate of Existing Case\")",
        set.duplicates(),
        set.closure_code_duplicates
    );
    let window = Window::default();
    let shipped = Scorer::default();
    let replay = boston::replay(&set, window, &shipped);
    println!(
        "candidates: earlier open cases of the same TYPE opened within {} h and {} m: {} pairs, {} cases with at least one",
        window.max_hours, window.max_m, replay.pairs, replay.with_candidates
    );
    println!(
        "scoring throughput: {} pairs in {:.3} s = {:.0} pairs/s (one core)",
        replay.pairs,
        replay.scoring.as_secs_f64(),
        replay.pairs_per_second()
    );
    let [first, second, year] = Period::year_2015();
    let tuning = Instant::now();
    let (tuned, on_first) = boston::tune(&set, &replay, &first);
    println!(
        "weights chosen on the {} (best F1, {:.1} s): {}",
        first.name,
        tuning.elapsed().as_secs_f64(),
        weights(&tuned)
    );
    println!("shipped weights (dups::Weights::default): {}", weights(&shipped.weights));
    let scorer = Scorer::new(tuned);
    println!("{}", line(first.name, &on_first));
    let mut reported = None;
    for period in [second, year] {
        let f = boston::figures(&set, &replay, &scorer, &period, &[tuned.threshold])[0];
        println!("{}", line(period.name, &f));
        reported.get_or_insert(f);
    }
    let shipped_second = boston::figures(&set, &replay, &shipped, &second, &[shipped.weights.threshold])[0];
    println!("{}", line("second half, shipped", &shipped_second));
    println!("operating curve, {} (weights chosen on the first half):", second.name);
    let thresholds = [0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];
    for f in boston::figures(&set, &replay, &scorer, &second, &thresholds) {
        println!("  {}", line("", &f).trim_start());
    }
    // The baseline: flag every case that has any candidate in the window.
    let any = boston::figures(&set, &replay, &scorer, &second, &[f64::MIN_POSITIVE])[0];
    println!("  {}", line("any candidate (baseline)", &any));
    let f = reported.expect("two periods");
    println!("precision: {:.4}", f.precision);
    println!("recall: {:.4}", f.recall);
    println!("f1: {:.4}", f.f1);
    Ok(())
}
