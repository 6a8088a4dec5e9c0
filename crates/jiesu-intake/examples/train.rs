//! Trains on a labelled CSV and writes the model: `train DATA.csv OUT.bin [INFO]`
//! (the library side of `jiesu model train`, which runs the same code with the same defaults).
use jiesu_intake::classify::{Classifier, CpuClock, TrainOptions, read_labeled_csv};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (data, out) = (args.get(1).ok_or("usage: train DATA.csv OUT.bin [INFO]")?, args.get(2).ok_or("OUT.bin")?);
    let (samples, pre) = read_labeled_csv(data)?;
    let opts = TrainOptions { info: args.get(3).cloned().unwrap_or_default(), ..TrainOptions::default() };
    let clock = CpuClock::start();
    let clf = Classifier::train(&samples, pre, &opts)?;
    let (secs, wall) = (clock.seconds(), clock.wall_seconds());
    let bytes = clf.save();
    std::fs::write(out, &bytes)?;
    println!("train_seconds: {secs:.2} (CPU; wall {wall:.2})");
    println!("nb_weight: {}", clf.nb_weight());
    println!("temperature: {:.3}", clf.temperature());
    println!("manual_threshold: {:.3}", clf.manual_threshold());
    println!("model_bytes: {}", bytes.len());
    Ok(())
}
