//! Category classification of citizen messages (Chinese text → one of the model's labels).
//!
//! The model is linear: hashed word unigrams and character 1–2-grams of the whole message, and
//! the same for its subject ("title": the tokens before the subject's end where the text marks
//! it, else the leading tokens; [`features`], [`tokenize`]), each view TF-IDF weighted (sublinear
//! TF, IDF raised to a power, 1.5 by default) and L2-normalised, scored by one-vs-rest L2-loss linear SVMs trained by dual coordinate descent
//! ([`svm`]) with balanced class weights. Weights are quantised to `i8` per class; the model
//! file ([`model`]) is small, versioned and checksummed, and the shipped one is embedded in the
//! binary ([`Classifier::shipped`]).
//!
//! **Confidence.** [`Prediction::confidence`] is the softmax of the per-class SVM margins
//! multiplied by a temperature. The temperature is fitted at training time by minimising the
//! log-loss of out-of-fold margins (an internal stratified k-fold run, see
//! [`TrainOptions::calibration_folds`]), so the confidence is a calibrated-ish probability:
//! among predictions with confidence ≈ 0.8, about 80 % are right on data like the training set.

#[cfg(feature = "tools")]
pub mod clock;
#[cfg(feature = "tools")]
pub mod data;
pub mod eval;
pub mod features;
pub mod model;
pub mod svm;
pub mod tokenize;

use std::sync::OnceLock;

#[cfg(feature = "tools")]
pub use clock::CpuClock;
#[cfg(feature = "tools")]
pub use data::read_labeled_csv;
pub use eval::{ClassReport, CvReport, EvalReport, fold_assignment};
#[cfg(feature = "tools")]
pub use eval::{cross_validate, evaluate};
pub use features::FeatureConfig;

use features::{IdfTable, count_sorted, extract_keys, tfidf_vector};

/// Errors of the classifier: loading a model, reading data, training.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// The model bytes are not a valid model file.
    #[error("invalid model file: {0}")]
    BadModel(String),
    /// The model file has a format version this build cannot read.
    #[error(
        "model file format version {found} is not supported (this build reads versions 2 to {expected}); retrain with `jiesu model train`"
    )]
    Version {
        /// Version in the file.
        found: u32,
        /// The newest version this build reads.
        expected: u32,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A CSV file is malformed or lacks a column.
    #[error("{path}: {msg}")]
    Data {
        /// The file.
        path: String,
        /// What is wrong.
        msg: String,
    },
    /// Training cannot proceed (too few samples or labels, bad options).
    #[error("cannot train: {0}")]
    Train(String),
}

/// A classification result.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The most likely label.
    pub label: String,
    /// Its probability (temperature-scaled softmax of the SVM margins).
    pub confidence: f32,
    /// The three most likely labels with their probabilities, best first.
    pub top: Vec<(String, f32)>,
}

/// Options of [`Classifier::train`].
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Feature extraction settings.
    pub features: FeatureConfig,
    /// SVM cost `C` (larger: fits the training data more closely).
    pub c: f32,
    /// Weight each class's samples by `n / (k · n_class)` (scikit-learn's `balanced`).
    pub balanced: bool,
    /// Solver tolerance and iteration limit.
    pub eps: f32,
    /// Maximum solver passes per class.
    pub max_iter: usize,
    /// Seed of the solver's visiting order and of the calibration folds.
    pub seed: u64,
    /// Folds of the inner cross-validation on the training data that chooses the naive Bayes
    /// weight from [`TrainOptions::nb_weights`] (best out-of-fold macro-F1) and fits the
    /// confidence temperature (0 or 1: skip it, take the first weight and
    /// [`TrainOptions::default_temperature`]).
    pub calibration_folds: usize,
    /// Temperature used when calibration is skipped.
    pub default_temperature: f32,
    /// Free text stored in the model (training command, data, date).
    pub info: String,
    /// Candidate weights λ of the naive Bayes term added to the SVM weights (0: pure SVM), in
    /// ascending order; the inner cross-validation picks one (the smallest among equals).
    pub nb_weights: Vec<f32>,
    /// Additive smoothing of the naive Bayes term.
    pub nb_alpha: f32,
    /// Precision wanted of the confident predictions: the inner cross-validation sets
    /// [`Classifier::manual_threshold`] to the smallest confidence at which out-of-fold
    /// predictions are right at least this often.
    pub confident_precision: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            features: FeatureConfig::default(),
            c: 1.0,
            balanced: true,
            eps: 0.1,
            max_iter: 1000,
            seed: 1,
            calibration_folds: 3,
            default_temperature: 5.0,
            info: String::new(),
            // With the subject title views and IDF^1.5 the NB term no longer helps (λ = 0.01:
            // -0.0013 macro-F1 over four fold seeds) and the inner choice among candidates was
            // noise, so by default there is none: a pure SVM.
            nb_weights: vec![0.0],
            nb_alpha: 0.1,
            confident_precision: 0.97,
        }
    }
}

/// A trained classifier. Cheap to share between threads (`predict` takes `&self`).
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    pub(crate) labels: Vec<String>,
    pub(crate) cfg: FeatureConfig,
    pub(crate) idf: IdfTable,
    /// One row per bucket, [`row_stride`] bytes: the IDF code, the `i8` weights, padding.
    pub(crate) table: Vec<u8>,
    /// Per-label dequantisation scale of the weights.
    pub(crate) scales: Vec<f32>,
    /// Per-label bias.
    pub(crate) bias: Vec<f32>,
    /// Softmax temperature applied to the margins.
    pub(crate) temperature: f32,
    /// The naive Bayes weight λ folded into the weights (informational).
    pub(crate) nb_weight: f32,
    /// Predictions less confident than this go to the dispatcher's manual queue.
    pub(crate) manual_threshold: f32,
    /// Free text: how the model was made.
    pub(crate) info: String,
}

/// The model shipped in the repository (`models/classifier-v3.bin`).
static SHIPPED_BYTES: &[u8] = include_bytes!("../../../../models/classifier-v3.bin");

impl Classifier {
    /// The shipped model, embedded in the binary (parsed once, then cloned).
    pub fn shipped() -> Classifier {
        static SHIPPED: OnceLock<Classifier> = OnceLock::new();
        SHIPPED.get_or_init(|| Classifier::load(SHIPPED_BYTES).expect("the embedded model file is valid")).clone()
    }

    /// Parses a model file (see [`model`] for the format).
    pub fn load(bytes: &[u8]) -> Result<Classifier, ClassifyError> {
        model::decode(bytes)
    }

    /// Serialises the model (see [`model`] for the format).
    pub fn save(&self) -> Vec<u8> {
        model::encode(self)
    }

    /// The labels, in the model's order (sorted).
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Free text stored with the model (training command, data, date, score).
    pub fn info(&self) -> &str {
        &self.info
    }

    /// The feature settings.
    pub fn features(&self) -> &FeatureConfig {
        &self.cfg
    }

    /// The softmax temperature used for confidences.
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// The weight of the naive Bayes term folded into the weights (chosen by inner CV).
    pub fn nb_weight(&self) -> f32 {
        self.nb_weight
    }

    /// The confidence below which a prediction should be checked by a person (chosen by the
    /// inner cross-validation for [`TrainOptions::confident_precision`]; 0 if not calibrated).
    pub fn manual_threshold(&self) -> f32 {
        self.manual_threshold
    }

    fn stride(&self) -> usize {
        row_stride(self.labels.len())
    }

    /// Raw per-label SVM margins of already-tokenized text.
    ///
    /// Rows of the table are `stride` bytes, a multiple of 8: lane 0 of the first block is the
    /// IDF code, lane `c + 1` the weight of label `c`. Accumulating whole 8-lane blocks (lane 0
    /// ignored) lets the compiler vectorise the inner loop.
    ///
    /// Two passes over the message's distinct features: the first reads the IDF codes and
    /// computes each view's norm, the second adds the weighted rows; the result equals scoring
    /// the normalised vector of [`features::tfidf_vector`].
    pub fn margins_of_tokens(&self, tokens: &[&str]) -> Vec<f32> {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
        }
        let n = self.labels.len();
        let stride = self.stride();
        let blocks = stride / 8;
        let mut acc = vec![[0f32; 8]; blocks];
        let weights = self.cfg.view_weights();
        SCRATCH.with(|s| {
            let Scratch { keys, counter, counts, hits } = &mut *s.borrow_mut();
            keys.clear();
            extract_keys(&self.cfg, tokens, keys);
            counter.count(keys, counts);
            // Pass 1 only reads each row's IDF code: a short loop, so many cache misses are in
            // flight at once; it also gives the views' norms. Pass 2 then finds the rows in cache.
            hits.clear();
            let mut norms = [0f32; features::N_VIEWS];
            for &(key, tf) in counts.iter() {
                let base = features::bucket_of(key) as usize * stride;
                let code = self.table[base];
                if code != 0 {
                    let v = features::sublinear(tf) * self.idf.value(code);
                    let view = features::view_of(key);
                    norms[view] += v * v;
                    hits.push((base as u32, view as u32, v));
                }
            }
            let mut factor = [0f32; features::N_VIEWS];
            for v in 0..features::N_VIEWS {
                if norms[v] > 0.0 {
                    factor[v] = weights[v] / norms[v].sqrt();
                }
            }
            if blocks == 1 {
                // Up to 7 labels: one fixed-size block, vectorised.
                let mut a = [0f32; 8];
                for &(base, view, v) in hits.iter() {
                    let x = v * factor[view as usize];
                    let r: [u8; 8] = self.table[base as usize..base as usize + 8].try_into().expect("8-byte row");
                    for l in 0..8 {
                        a[l] += x * f32::from(r[l] as i8);
                    }
                }
                acc[0] = a;
            } else {
                for &(base, view, v) in hits.iter() {
                    let x = v * factor[view as usize];
                    let row = &self.table[base as usize..base as usize + stride];
                    for (a, r) in acc.iter_mut().zip(row.chunks_exact(8)) {
                        for l in 0..8 {
                            a[l] += x * f32::from(r[l] as i8);
                        }
                    }
                }
            }
        });
        let mut out = self.bias.clone();
        for (c, o) in out.iter_mut().enumerate() {
            let lane = c + 1;
            *o += acc[lane / 8][lane % 8] * self.scales[c];
        }
        debug_assert_eq!(out.len(), n);
        out
    }

    /// Raw per-label SVM margins of a message.
    pub fn margins(&self, text: &str, pre_segmented: bool) -> Vec<f32> {
        self.margins_of_tokens(&tokenize::tokens(text, pre_segmented))
    }

    /// Per-label probabilities (temperature-scaled softmax of the margins), in label order.
    pub fn probabilities(&self, text: &str, pre_segmented: bool) -> Vec<f32> {
        softmax(&self.margins(text, pre_segmented), self.temperature)
    }

    /// Classifies a message: raw Chinese text (`pre_segmented = false`, segmented with jieba) or
    /// whitespace-separated tokens.
    pub fn predict(&self, text: &str, pre_segmented: bool) -> Prediction {
        self.predict_tokens(&tokenize::tokens(text, pre_segmented))
    }

    /// [`Classifier::predict`] on tokens already made by [`tokenize::tokens`].
    pub fn predict_tokens(&self, tokens: &[&str]) -> Prediction {
        let p = softmax(&self.margins_of_tokens(tokens), self.temperature);
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
        let top: Vec<(String, f32)> = order.iter().take(3).map(|&i| (self.labels[i].clone(), p[i])).collect();
        Prediction { label: top[0].0.clone(), confidence: top[0].1, top }
    }

    /// Index of the best label (no probabilities; the fast path of evaluation).
    pub fn predict_index(&self, text: &str, pre_segmented: bool) -> usize {
        argmax(&self.margins(text, pre_segmented))
    }

    /// Trains a classifier on `(text, label)` samples.
    pub fn train(
        samples: &[(String, String)],
        pre_segmented: bool,
        opts: &TrainOptions,
    ) -> Result<Classifier, ClassifyError> {
        let tokens: Vec<Vec<&str>> = samples.iter().map(|(t, _)| tokenize::tokens(t, pre_segmented)).collect();
        let labels: Vec<&str> = samples.iter().map(|(_, l)| l.as_str()).collect();
        train_tokens(&tokens, &labels, opts)
    }
}

/// Per-thread buffers of the prediction path.
#[derive(Default)]
struct Scratch {
    keys: Vec<u32>,
    counter: features::KeyCounter,
    counts: Vec<(u32, u32)>,
    hits: Vec<(u32, u32, f32)>,
}

/// Bytes per table row for `n` labels: the IDF code and `n` weights, padded to a multiple of 8.
pub(crate) fn row_stride(n: usize) -> usize {
    (1 + n).div_ceil(8) * 8
}

/// `softmax(t · m)`.
pub fn softmax(m: &[f32], t: f32) -> Vec<f32> {
    let max = m.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = m.iter().map(|x| ((x - max) * t).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

/// Index of the largest value (first on ties).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// The multinomial naive Bayes log-probabilities of each feature per label, centred over the
/// labels (so they sum to 0 for each feature): the weights of NB as a linear model on the same
/// features. Added `λ` times to the SVM weights ([`Fitted::finish`]) they keep one linear model
/// (same prediction cost). Class priors are left out (classes are balanced, as in the SVM).
fn naive_bayes(rows: &[Vec<(u32, f32)>], y: &[usize], k: usize, codes: &[u8], alpha: f32) -> Vec<Vec<f32>> {
    let buckets = codes.len();
    let mut sums = vec![vec![0f64; buckets]; k];
    for (r, &c) in rows.iter().zip(y) {
        for &(b, v) in r {
            sums[c][b as usize] += f64::from(v);
        }
    }
    let used = codes.iter().filter(|&&c| c != 0).count() as f64;
    let totals: Vec<f64> = sums.iter().map(|s| s.iter().sum::<f64>()).collect();
    let a = f64::from(alpha);
    let mut out = vec![vec![0f32; buckets]; k];
    let mut logs = vec![0f64; k];
    for b in 0..buckets {
        if codes[b] == 0 {
            continue;
        }
        for c in 0..k {
            logs[c] = ((sums[c][b] + a) / (totals[c] + a * used)).ln();
        }
        let mean = logs.iter().sum::<f64>() / k as f64;
        for c in 0..k {
            out[c][b] = (logs[c] - mean) as f32;
        }
    }
    out
}

/// Trains on tokenized samples: the core of [`Classifier::train`] and of cross-validation.
///
/// Fits the SVMs (and the naive Bayes term) on all samples; an inner cross-validation on the
/// same samples ([`TrainOptions::calibration_folds`]) chooses the NB weight and fits the
/// confidence temperature.
pub fn train_tokens(tokens: &[Vec<&str>], labels: &[&str], opts: &TrainOptions) -> Result<Classifier, ClassifyError> {
    let fitted = fit(tokens, labels, opts)?;
    if opts.calibration_folds >= 2 {
        let s = eval::inner_select(tokens, labels, opts)?;
        let mut clf = fitted.finish(s.nb_weight, s.temperature);
        clf.manual_threshold = s.manual_threshold;
        Ok(clf)
    } else {
        let lambda = opts.nb_weights.first().copied().unwrap_or(0.0);
        Ok(fitted.finish(lambda, opts.default_temperature))
    }
}

/// A fitted model before the NB weight is chosen and the weights are quantised.
pub(crate) struct Fitted {
    names: Vec<String>,
    cfg: FeatureConfig,
    idf: IdfTable,
    codes: Vec<u8>,
    /// Per label: SVM weights of every bucket, then the bias.
    svm: Vec<Vec<f32>>,
    /// Per label: centred NB log-probabilities (empty when no NB weight is positive).
    nb: Vec<Vec<f32>>,
    info: String,
}

impl Fitted {
    /// The labels.
    pub(crate) fn labels(&self) -> &[String] {
        &self.names
    }

    /// The classifier with weights `svm + λ·nb`, quantised to `i8` per label.
    pub(crate) fn finish(&self, lambda: f32, temperature: f32) -> Classifier {
        let k = self.names.len();
        let buckets = self.codes.len();
        let stride = row_stride(k);
        let mut table = vec![0u8; buckets * stride];
        let mut scales = Vec::with_capacity(k);
        let mut bias = Vec::with_capacity(k);
        let mut w = vec![0f32; buckets];
        for c in 0..k {
            w.copy_from_slice(&self.svm[c][..buckets]);
            if lambda != 0.0 && !self.nb.is_empty() {
                for (x, n) in w.iter_mut().zip(&self.nb[c]) {
                    *x += lambda * n;
                }
            }
            let max = w.iter().fold(0f32, |m, x| m.max(x.abs()));
            let s = if max > 0.0 { max / 127.0 } else { 1.0 };
            for (b, x) in w.iter().enumerate() {
                if self.codes[b] != 0 {
                    table[b * stride + 1 + c] = ((x / s).round().clamp(-127.0, 127.0) as i8) as u8;
                }
            }
            scales.push(s);
            bias.push(self.svm[c][buckets]);
        }
        for (b, &code) in self.codes.iter().enumerate() {
            table[b * stride] = code;
        }
        Classifier {
            labels: self.names.clone(),
            cfg: self.cfg.clone(),
            idf: self.idf.clone(),
            table,
            scales,
            bias,
            temperature,
            nb_weight: lambda,
            manual_threshold: 0.0,
            info: self.info.clone(),
        }
    }
}

/// One supervised fit of the SVMs and the naive Bayes term.
pub(crate) fn fit(tokens: &[Vec<&str>], labels: &[&str], opts: &TrainOptions) -> Result<Fitted, ClassifyError> {
    let cfg = &opts.features;
    cfg.validate().map_err(ClassifyError::Train)?;
    if !(opts.c > 0.0 && opts.c.is_finite()) {
        return Err(ClassifyError::Train(format!("C must be positive, got {}", opts.c)));
    }
    if opts.nb_weights.iter().any(|l| !(l.is_finite() && *l >= 0.0)) {
        return Err(ClassifyError::Train(format!(
            "naive Bayes weights must be finite and non-negative, got {:?}",
            opts.nb_weights
        )));
    }
    let mut names: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
    names.sort();
    names.dedup();
    if names.len() < 2 {
        return Err(ClassifyError::Train(format!("need at least 2 labels, got {}", names.len())));
    }
    if names.len() > 255 {
        return Err(ClassifyError::Train(format!("at most 255 labels, got {}", names.len())));
    }
    let y: Vec<usize> = labels.iter().map(|l| names.binary_search_by(|n| n.as_str().cmp(l)).unwrap_or(0)).collect();
    let n = tokens.len();
    let buckets = cfg.buckets();

    // Counted feature keys of every sample, and document frequencies per bucket.
    let mut df = vec![0u32; buckets];
    let mut keys = Vec::new();
    let counted: Vec<Vec<(u32, u32)>> = tokens
        .iter()
        .map(|t| {
            keys.clear();
            extract_keys(cfg, t, &mut keys);
            keys.sort_unstable();
            let mut c = Vec::new();
            count_sorted(&keys, &mut c);
            let mut last = u32::MAX;
            for &(k, _) in &c {
                let b = features::bucket_of(k);
                if b != last {
                    df[b as usize] += 1;
                    last = b;
                }
            }
            c
        })
        .collect();
    let (idf, codes) = IdfTable::fit(&df, n, cfg.min_df, cfg.idf_power);
    let rows: Vec<Vec<(u32, f32)>> = counted
        .iter()
        .map(|c| {
            let mut v = Vec::new();
            tfidf_vector(cfg, &idf, c, |b| codes[b as usize], &mut v);
            v
        })
        .collect();
    let row_refs: Vec<&svm::Row> = rows.iter().map(|r| r.as_slice()).collect();

    let k = names.len();
    let mut class_n = vec![0usize; k];
    for &c in &y {
        class_n[c] += 1;
    }
    let class_w: Vec<f32> =
        class_n.iter().map(|&m| if opts.balanced && m > 0 { n as f32 / (k as f32 * m as f32) } else { 1.0 }).collect();
    let cost: Vec<f32> = y.iter().map(|&c| opts.c * class_w[c]).collect();
    let solver = svm::SolverOptions { eps: opts.eps, max_iter: opts.max_iter, seed: opts.seed };
    let mut weights = Vec::with_capacity(k);
    for c in 0..k {
        let yy: Vec<f32> = y.iter().map(|&l| if l == c { 1.0 } else { -1.0 }).collect();
        let (w, _) = svm::train_binary(&row_refs, &yy, &cost, buckets, &solver);
        weights.push(w);
    }

    let nb = if opts.nb_weights.iter().any(|&l| l > 0.0) {
        naive_bayes(&rows, &y, k, &codes, opts.nb_alpha)
    } else {
        Vec::new()
    };
    Ok(Fitted { names, cfg: cfg.clone(), idf, codes, svm: weights, nb, info: opts.info.clone() })
}
