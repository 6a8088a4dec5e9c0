//! Trains on a labelled CSV and writes the model: `train DATA.csv OUT.bin [INFO]`
//! (the library side of `jiesu model train`, for use before the binary exists).
use std::time::Instant;

use jiesu_intake::classify::{Classifier, TrainOptions, read_labeled_csv};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (data, out) = (
        args.get(1).ok_or("usage: train DATA.csv OUT.bin [INFO]")?,
        args.get(2).ok_or("OUT.bin")?,
    );
    let (samples, pre) = read_labeled_csv(data)?;
    let mut opts = TrainOptions {
        info: args.get(3).cloned().unwrap_or_default(),
        ..TrainOptions::default()
    };
    if let Ok(b) = std::env::var("HASH_BITS") {
        opts.features.hash_bits = b.parse()?; // development aid
    }
    let t = Instant::now();
    let clf = Classifier::train(&samples, pre, &opts)?;
    let secs = t.elapsed().as_secs_f64();
    let bytes = clf.save();
    std::fs::write(out, &bytes)?;
    println!("train_seconds: {secs:.2}");
    println!("temperature: {:.3}", clf.temperature());
    println!("model_bytes: {}", bytes.len());
    Ok(())
}
