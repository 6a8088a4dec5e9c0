//! Prediction throughput on one thread: `speed DATA.csv [MODEL.bin]` (default: the shipped
//! model). Prints the best of seven passes over the file, in messages per second.
use std::time::Instant;

use jiesu_intake::classify::{Classifier, read_labeled_csv};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let data = args.get(1).ok_or("usage: speed DATA.csv [MODEL.bin]")?;
    let clf = match args.get(2) {
        Some(p) => Classifier::load(&std::fs::read(p)?)?,
        None => Classifier::shipped(),
    };
    let (samples, pre) = read_labeled_csv(data)?;
    let _ = clf.predict("预热", false); // load jieba's dictionary outside the timing
    let mut best = f64::MAX;
    let mut sink = 0usize;
    for _ in 0..7 {
        let t = Instant::now();
        for (x, _) in &samples {
            sink += clf.predict(x, pre).label.len();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "messages: {} ({}), checksum {sink}",
        samples.len(),
        if pre { "pre-segmented" } else { "raw" }
    );
    println!("us_per_msg: {:.2}", best * 1e6 / samples.len() as f64);
    println!("msgs_per_s: {:.0}", samples.len() as f64 / best);
    Ok(())
}
