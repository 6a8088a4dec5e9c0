//! Honest raw-text check: trains on the segmented training file minus the rows that match a
//! raw sample message (token-set Jaccard ≥ 0.5 after jieba segmentation), then evaluates on
//! the raw messages (`subject` + `detail`, segmented with jieba at prediction time), and, for
//! comparison, on each raw message's closest removed row in its pre-segmented form.
//!
//! `raw_holdout TRAIN.csv RAW.csv`

use std::collections::HashSet;

use jiesu_intake::classify::{Classifier, TrainOptions, evaluate, read_labeled_csv, tokenize};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (train, pre) = read_labeled_csv(args.get(1).ok_or("usage: raw_holdout TRAIN.csv RAW.csv")?)?;
    let (raw, raw_pre) = read_labeled_csv(args.get(2).ok_or("RAW.csv")?)?;
    assert!(pre && !raw_pre, "expects a pre-segmented training file and a raw sample file");
    let set = |toks: Vec<&str>| toks.into_iter().map(str::to_string).collect::<HashSet<String>>();
    let raw_sets: Vec<HashSet<String>> = raw.iter().map(|(t, _)| set(tokenize::segment_raw(t))).collect();
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (t, l) in &train {
        let s = set(tokenize::split_segmented(t));
        let hit = raw_sets.iter().any(|r| {
            let inter = s.intersection(r).count() as f64;
            inter / (s.len() + r.len()) as f64 * 2.0 >= 0.5 || inter / (s.len().max(1) as f64) >= 0.8
        });
        if hit {
            dropped.push((t.clone(), l.clone()));
        } else {
            kept.push((t.clone(), l.clone()));
        }
    }
    println!("training rows: {} ({} matching a raw message removed)", kept.len(), dropped.len());
    let opts = TrainOptions::default();
    let clf = Classifier::train(&kept, true, &opts)?;
    // The closest removed row of each raw message, pre-segmented: the same messages through the
    // training data's own segmentation.
    let dropped_sets: Vec<HashSet<String>> = dropped.iter().map(|(t, _)| set(tokenize::split_segmented(t))).collect();
    let twins: Vec<(String, String)> = raw_sets
        .iter()
        .zip(&raw)
        .map(|(r, (_, label))| {
            let best = (0..dropped.len())
                .max_by_key(|&i| {
                    dropped_sets[i].intersection(r).count() * 1000 / (dropped_sets[i].len() + r.len()).max(1)
                })
                .unwrap_or(0);
            (dropped[best].0.clone(), label.clone())
        })
        .collect();
    let seg = evaluate(&clf, &twins, true);
    println!("closest removed rows, pre-segmented: macro_f1 {:.4} accuracy {:.4}", seg.macro_f1, seg.accuracy);
    println!("raw messages (jieba):");
    println!("{}", evaluate(&clf, &raw, false));
    Ok(())
}
