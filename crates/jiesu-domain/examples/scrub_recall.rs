//! Recall of the public-text scrubber on a generated corpus: identifiers of every kind in many
//! spellings embedded in real citizen messages (../shared/data/teddy2020c), and the district's place
//! names as the negative corpus.
//!
//! `cargo run --example scrub_recall -p jiesu-domain [-- MESSAGES [SEED]]`

#[path = "../tests/scrub_corpus/mod.rs"]
mod scrub_corpus;

fn main() {
    let mut args = std::env::args().skip(1);
    let count = args.next().and_then(|a| a.parse().ok()).unwrap_or(3_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(0x5EED);
    let f = scrub_corpus::run(count, seed);
    println!("messages: {} (with {} identifiers)", f.messages, f.generated());
    println!("{:<14} {:>9} {:>9} {:>9}", "kind", "generated", "masked", "recall");
    for (kind, (n, m)) in &f.by_kind {
        println!("{kind:<14} {n:>9} {m:>9} {:>8.2}%", 100.0 * *m as f64 / (*n).max(1) as f64);
    }
    println!(
        "{:<14} {:>9} {:>9} {:>8.2}%",
        "all",
        f.generated(),
        f.masked(),
        100.0 * f.masked() as f64 / f.generated().max(1) as f64
    );
    println!("place sentences: {}, place names masked: {}", f.places, f.places_masked.len());
    // What the scrubber finds in the real messages as they are (they carry few identifiers: each
    // find is either one or a false positive worth a look).
    let texts = scrub_corpus::messages();
    let mut found = std::collections::BTreeMap::new();
    let mut samples = Vec::new();
    for t in texts {
        for s in jiesu_domain::scrub::find(t) {
            *found.entry(format!("{:?}", s.kind)).or_insert(0) += 1;
            if samples.len() < 15 {
                let from = t.floor_char_boundary(s.range.start.saturating_sub(12));
                let to = t.ceil_char_boundary((s.range.end + 12).min(t.len()));
                samples.push(format!("{:?}: …{}…", s.kind, &t[from..to]));
            }
        }
    }
    println!("found in the {} real messages as they are: {found:?}", texts.len());
    for s in samples {
        println!("  {s}");
    }
    for m in f.missed.iter().chain(&f.places_masked).take(30) {
        println!("  {m}");
    }
}
