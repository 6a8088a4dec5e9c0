//! Prediction throughput on one thread: `speed DATA.csv [MODEL.bin …]` (default: the shipped
//! model). With several models the passes are interleaved, so all see the same machine load.
//!
//! Each model gets seven passes over the file; the best pass is reported, both as wall-clock
//! rate and as rate per CPU-second of this thread (`/proc/thread-self/schedstat`), which is what
//! "messages per second on one core" means on a shared machine where the thread is not always
//! running. Predictions include the probabilities (`Classifier::predict`).
use jiesu_intake::classify::{Classifier, CpuClock, read_labeled_csv};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let data = args.get(1).ok_or("usage: speed DATA.csv [MODEL.bin …]")?;
    let mut models: Vec<(String, Classifier)> = Vec::new();
    for p in &args[2..] {
        models.push((p.clone(), Classifier::load(&std::fs::read(p)?)?));
    }
    if models.is_empty() {
        models.push(("shipped".into(), Classifier::shipped()));
    }
    let (samples, pre) = read_labeled_csv(data)?;
    let _ = models[0].1.predict("预热", false); // load jieba's dictionary outside the timing
    let mut best = vec![(f64::MAX, f64::MAX); models.len()];
    let mut sink = 0usize;
    for _ in 0..7 {
        for (m, (_, clf)) in models.iter().enumerate() {
            let clock = CpuClock::start();
            for (x, _) in &samples {
                sink += clf.predict(x, pre).label.len();
            }
            let (wall, cpu) = (clock.wall_seconds(), clock.seconds());
            best[m] = (best[m].0.min(wall), best[m].1.min(cpu));
        }
    }
    println!("messages: {} ({}), checksum {sink}", samples.len(), if pre { "pre-segmented" } else { "raw" });
    let n = samples.len() as f64;
    for ((name, _), (wall, cpu)) in models.iter().zip(&best) {
        println!("model: {name}");
        println!("  us_per_msg_cpu: {:.2}", cpu * 1e6 / n);
        println!("  msgs_per_s_wall: {:.0}", n / wall);
        println!("  msgs_per_s: {:.0}", n / cpu);
    }
    Ok(())
}
