//! 热点 hot issues on the real Teddy Cup 2020 C hot-message file (../shared/data, present in CI),
//! scored against the labelled sample in the repository (`data/hot_labels.csv`: message ids and
//! topic labels only, labelled by a developer reading each message; see README).

use jiesu_intake::hot::{self, Options, eval};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/teddy2020c/hot_messages.csv");
const LABELS: &str = include_str!("../../../data/hot_labels.csv");

/// Floors a margin below the figures measured with the shipped options (README).
const FINE_PURITY_FLOOR: f64 = 0.85;
const COARSE_PURITY_FLOOR: f64 = 0.93;
const COARSE_RECALL_FLOOR: f64 = 0.72;

#[test]
fn the_hottest_issues_are_each_one_topic() {
    let messages =
        hot::file::load(DATA).unwrap_or_else(|e| panic!("the Teddy Cup data is needed (../shared/data): {e}"));
    assert_eq!(messages.len(), 4_326);
    let labels = eval::read_labels(LABELS).expect("data/hot_labels.csv");
    let started = std::time::Instant::now();
    let issues = hot::hot_issues(&messages, &Options::default());
    println!("{} issues in {:.2} s", issues.len(), started.elapsed().as_secs_f64());
    let scores = eval::score(&issues, &messages, &labels);
    println!("{scores:#?}");
    assert_eq!(scores.labelled, labels.len(), "every labelled id is in the file");
    assert!(scores.fine.purity >= FINE_PURITY_FLOOR, "{:?}", scores.fine);
    assert!(scores.coarse.purity >= COARSE_PURITY_FLOOR, "{:?}", scores.coarse);
    assert!(scores.coarse.recall >= COARSE_RECALL_FLOOR, "{:?}", scores.coarse);
    // Each of the ten hottest is labelled and is one estate, company or policy (≥ 80 % of its
    // labelled messages share the label's place).
    for issue in issues.iter().take(10) {
        let (_, n, _, coarse) = scores
            .per_issue
            .iter()
            .find(|p| p.0 == issue.rank)
            .copied()
            .unwrap_or_else(|| panic!("issue {} has no labelled message", issue.rank));
        assert!(n >= 2 && coarse >= 0.8, "issue {} is not one topic: {n} labelled, {coarse:.2}", issue.rank);
    }
    // The two largest campaigns of the file lead.
    let top: Vec<String> =
        issues.iter().take(2).map(|i| eval::place_of(&labels[&messages[i.representative].id]).to_string()).collect();
    assert!(top.contains(&"伊景园滨河苑".to_string()) && top.contains(&"丽发新城".to_string()), "{top:?}");

    // The checks can fail: without the similarity and cohesion checks the chains merge topics.
    let loose = Options {
        threshold: 0.0,
        place_threshold: 0.0,
        subject_place_threshold: 0.0,
        cohesion: 0.0,
        ..Options::default()
    };
    let chained = eval::score(&hot::hot_issues(&messages, &loose), &messages, &labels);
    println!("without the checks: {:?} {:?}", chained.fine, chained.coarse);
    assert!(chained.fine.purity < FINE_PURITY_FLOOR && chained.coarse.purity < COARSE_PURITY_FLOOR, "{chained:?}");
}
