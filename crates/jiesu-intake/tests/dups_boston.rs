//! The duplicate scorer on the real Boston 311 data of 2015 (../shared/data, present in CI):
//! the ground truth is read as documented, and the shipped weights keep the precision and recall
//! measured by `jiesu bench duplicates` (floors set a margin below the measured figures).

use jiesu_intake::dups::Scorer;
use jiesu_intake::dups::boston::{self, Period, Window};

/// Floors: measured by `jiesu bench duplicates` with the shipped weights, precision 0.141 and
/// recall 0.308 on the second half of 2015 (0.149 and 0.339 on the whole year), less a margin.
const PRECISION_FLOOR: f64 = 0.12;
const RECALL_FLOOR: f64 = 0.27;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/boston311/boston311_2015.csv.gz");

#[test]
fn shipped_weights_flag_boston_duplicates() {
    let data = boston::load(DATA).unwrap_or_else(|e| panic!("the Boston 311 data is needed (../shared/data): {e}"));
    assert_eq!(data.cases.len(), 121_145);
    assert_eq!(data.duplicates(), 3_871, "closure reasons that mention a duplicate");
    assert_eq!(data.closure_code_duplicates, 3_227);
    assert_eq!(data.not_geocoded, 17_284);
    let scorer = Scorer::default();
    let replay = boston::replay(&data, Window::default(), &scorer);
    assert!(replay.pairs > 0 && replay.with_candidates > 0);
    let [_, second, year] = Period::year_2015();
    for period in [second, year] {
        let f = boston::figures(&data, &replay, &scorer, &period, &[scorer.weights.threshold])[0];
        println!("{}: {f:?}", period.name);
        assert!(f.duplicates > 1_000 && f.cases > f.duplicates, "{f:?}");
        assert!((0.0..=1.0).contains(&f.precision) && (0.0..=1.0).contains(&f.recall), "{f:?}");
        assert!(f.precision >= PRECISION_FLOOR && f.recall >= RECALL_FLOOR, "{}: {f:?}", period.name);
    }
}
