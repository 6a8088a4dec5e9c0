//! Cross-validates the classifier on a labelled CSV and prints the report.
//!
//! `cargo run --release -p jiesu-intake --example cv -- --data FILE [--k 5] [--seed 0]
//! [--c 1] [--word 1] [--bigram 0] [--char 1.3] [--cmin 1] [--cmax 2] [--title 0.5]
//! [--title-n 10] [--subject-max 30] [--tchar 1] [--idf-power 1.5] [--bits 19] [--min-df 2]
//! [--eps 0.1] [--no-balance]`
//!
//! Used by `bench/classify_reference.py` and for tuning; the option defaults are
//! [`TrainOptions::default`].

use jiesu_intake::classify::{TrainOptions, cross_validate, read_labeled_csv};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let data = get("--data").ok_or("--data FILE is required")?;
    let k: usize = get("--k").map_or(Ok(5), |v| v.parse())?;
    let seed: u64 = get("--seed").map_or(Ok(0), |v| v.parse())?;
    let mut o = TrainOptions::default();
    let f = &mut o.features;
    macro_rules! set {
        ($flag:expr, $field:expr) => {
            if let Some(v) = get($flag) {
                $field = v.parse()?;
            }
        };
    }
    set!("--c", o.c);
    set!("--word", f.word_weight);
    set!("--bigram", f.bigram_weight);
    set!("--char", f.char_weight);
    set!("--cmin", f.char_min);
    set!("--cmax", f.char_max);
    set!("--title", f.title_weight);
    set!("--title-n", f.title_tokens);
    set!("--tchar", f.title_char_weight);
    set!("--bits", f.hash_bits);
    set!("--min-df", f.min_df);
    set!("--subject-max", f.subject_max);
    set!("--idf-power", f.idf_power);
    set!("--eps", o.eps);
    if let Some(v) = get("--nb") {
        o.nb_weights = v.split(',').map(str::parse).collect::<Result<_, _>>()?;
    }
    set!("--inner", o.calibration_folds);
    set!("--nb-alpha", o.nb_alpha);
    if args.iter().any(|a| a == "--no-balance") {
        o.balanced = false;
    }
    let (samples, pre) = read_labeled_csv(&data)?;
    let r = cross_validate(&samples, pre, k, seed, &o)?;
    println!("{r}");
    Ok(())
}
