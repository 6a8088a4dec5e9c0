//! `jiesu model …`: train and evaluate the message category classifier.
//!
//! * `jiesu model train --data FILE [--out models/classifier-v3.bin] [--cv K] [--seed S]` trains
//!   on a labelled CSV, writes the model file and prints the time taken, the chosen naive Bayes
//!   weight, temperature and manual-queue threshold (and, with `--cv`, the K-fold
//!   cross-validation score of the same settings).
//! * `jiesu model eval --data FILE [--model PATH]` evaluates a model (default: the one shipped
//!   in the binary) without training; `--cv K` cross-validates on `--data` instead (nested: each
//!   fold model chooses its settings on its own training folds) and prints per-fold and
//!   per-class figures. Both end with the lines `macro_f1: X`, `accuracy: X`, `msgs_per_s: N`
//!   (messages per CPU-second of one thread).
//!
//! CSV layouts: a `label` column and `text_segmented` (pre-segmented), `text` (raw Chinese), or
//! `subject` + `detail` (raw). The logic lives in `jiesu_intake::classify`.

use std::path::PathBuf;

use anyhow::Context;
use jiesu_intake::classify::{Classifier, CpuClock, TrainOptions, cross_validate, evaluate, read_labeled_csv};

/// The `model` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ModelCmd {
    /// Train the classifier on a labelled CSV and write the model file.
    Train {
        /// Labelled CSV (`label` + `text_segmented`, `text`, or `subject`+`detail`).
        #[arg(long)]
        data: PathBuf,
        /// Where to write the model.
        #[arg(long, default_value = "models/classifier-v3.bin")]
        out: PathBuf,
        /// Also report K-fold cross-validation of the same settings.
        #[arg(long)]
        cv: Option<usize>,
        /// Seed of the cross-validation folds.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Evaluate a model on a labelled CSV, or cross-validate on it with `--cv K`.
    Eval {
        /// Labelled CSV (`label` + `text_segmented`, `text`, or `subject`+`detail`).
        #[arg(long)]
        data: PathBuf,
        /// Model file (default: the model shipped in the binary).
        #[arg(long, conflicts_with = "cv")]
        model: Option<PathBuf>,
        /// Do K-fold cross-validation on `--data` instead of evaluating a model.
        #[arg(long)]
        cv: Option<usize>,
        /// Seed of the cross-validation folds.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// Runs a `model` subcommand.
pub fn run(cmd: ModelCmd) -> anyhow::Result<()> {
    match cmd {
        ModelCmd::Train { data, out, cv, seed } => {
            let (samples, pre) = read_labeled_csv(&data)?;
            let info = format!(
                "jiesu model train --data {} ({} samples, {}); trained at unix time {}",
                data.display(),
                samples.len(),
                if pre { "pre-segmented" } else { "raw text" },
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            );
            let opts = TrainOptions { info, ..TrainOptions::default() };
            let clock = CpuClock::start();
            let clf = Classifier::train(&samples, pre, &opts)?;
            let (secs, wall) = (clock.seconds(), clock.wall_seconds());
            let bytes = clf.save();
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
            println!("labels: {}", clf.labels().join(", "));
            println!("samples: {}", samples.len());
            println!("nb_weight: {}", clf.nb_weight());
            println!("temperature: {:.3}", clf.temperature());
            println!("manual_threshold: {:.3}", clf.manual_threshold());
            println!("model: {} ({} bytes)", out.display(), bytes.len());
            println!("train_seconds: {secs:.2} (CPU; wall {wall:.2})");
            if let Some(k) = cv {
                let r = cross_validate(&samples, pre, k, seed, &opts)?;
                println!("{r}");
            }
        }
        ModelCmd::Eval { data, model, cv, seed } => {
            let (samples, pre) = read_labeled_csv(&data)?;
            if let Some(k) = cv {
                let r = cross_validate(&samples, pre, k, seed, &TrainOptions::default())?;
                println!("{r}");
            } else {
                let clf = match &model {
                    Some(p) => {
                        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                        Classifier::load(&bytes).with_context(|| format!("loading {}", p.display()))?
                    }
                    None => Classifier::shipped(),
                };
                println!("model: {}", model.as_ref().map_or("shipped".to_string(), |p| p.display().to_string()));
                println!("model info: {}", clf.info());
                let r = evaluate(&clf, &samples, pre);
                println!("{r}");
            }
        }
    }
    Ok(())
}
