//! Integration tests of the classifier: the shipped model, model files, training round trips.
//!
//! Tests marked "needs ../shared/data" read the Teddy Cup sample from
//! `<workspace>/../shared/data` and fail with a clear message when it is missing.

use std::path::PathBuf;

use jiesu_intake::classify::{Classifier, ClassifyError, FeatureConfig, TrainOptions, evaluate, read_labeled_csv};

fn shared_data(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel);
    assert!(
        p.exists(),
        "missing {}: this test needs the shared data directory beside the repository (../shared/data)",
        p.display()
    );
    p
}

/// Small synthetic corpus: three topics with distinctive and shared words.
fn synthetic() -> Vec<(String, String)> {
    let topics = [
        ("交通", ["公交", "地铁", "站点", "线路", "司机", "停车"]),
        ("教育", ["学校", "老师", "学生", "学费", "课程", "考试"]),
        ("环境", ["噪音", "污水", "垃圾", "油烟", "排放", "空气"]),
    ];
    let shared = ["市民", "反映", "问题", "请求", "处理", "小区"];
    let mut out = Vec::new();
    for i in 0..60usize {
        let (label, words) = &topics[i % 3];
        let mut t: Vec<&str> = Vec::new();
        for j in 0..8 {
            t.push(words[(i * 7 + j * 3) % words.len()]);
            t.push(shared[(i + j) % shared.len()]);
        }
        out.push((t.join(" "), label.to_string()));
    }
    out
}

fn small_opts() -> TrainOptions {
    TrainOptions {
        features: FeatureConfig { hash_bits: 14, min_df: 1, ..FeatureConfig::default() },
        calibration_folds: 3,
        ..TrainOptions::default()
    }
}

#[test]
fn synthetic_train_predict_round_trip() {
    let data = synthetic();
    let clf = Classifier::train(&data, true, &small_opts()).unwrap();
    assert_eq!(clf.labels(), ["交通", "教育", "环境"]);
    let r = evaluate(&clf, &data, true);
    assert!(r.accuracy > 0.95, "{r}");
    let p = clf.predict("学校 老师 学费 问题", true);
    assert_eq!(p.label, "教育");
    assert_eq!(p.top.len(), 3);
    assert_eq!(p.top[0], (p.label.clone(), p.confidence));
    let total: f32 = clf.probabilities("学校 老师", true).iter().sum();
    assert!((total - 1.0).abs() < 1e-4);
    assert!(p.top.windows(2).all(|w| w[0].1 >= w[1].1));
    // Raw text goes through jieba: 学校 and 老师 are dictionary words.
    assert_eq!(clf.predict("学校的老师乱收学费", false).label, "教育");
}

#[test]
fn save_load_gives_identical_predictions() {
    let data = synthetic();
    let clf = Classifier::train(&data, true, &small_opts()).unwrap();
    let bytes = clf.save();
    let back = Classifier::load(&bytes).unwrap();
    assert_eq!(back, clf);
    assert_eq!(back.save(), bytes);
    for (t, _) in &data {
        assert_eq!(back.predict(t, true), clf.predict(t, true));
    }
}

#[test]
fn corrupt_model_files_are_refused() {
    let bytes = Classifier::train(&synthetic(), true, &small_opts()).unwrap().save();
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let e = Classifier::load(&flipped).unwrap_err();
    assert!(e.to_string().contains("checksum"), "{e}");
    let e = Classifier::load(&bytes[..bytes.len() - 10]).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    let e = Classifier::load(b"not a model at all, just some text here").unwrap_err();
    assert!(e.to_string().contains("magic"), "{e}");
    for old_or_new in [1u8, 4] {
        let mut other = bytes.clone();
        other[8] = old_or_new;
        assert!(matches!(
            Classifier::load(&other),
            Err(ClassifyError::Version { found, expected: 3 }) if found == u32::from(old_or_new)
        ));
    }
    assert!(Classifier::load(&[]).is_err());
}

/// A version-2 file (no `subject_max` / `idf_power`) still loads, as a model with the subject
/// marker ignored and plain IDF, which is what version 2 models were trained with.
#[test]
fn version_2_files_load() {
    let opts = TrainOptions {
        features: FeatureConfig { subject_max: 0, idf_power: 1.0, ..small_opts().features },
        ..small_opts()
    };
    let clf = Classifier::train(&synthetic(), true, &opts).unwrap();
    let v3 = clf.save();
    // The v3 payload puts `subject_max u16, idf_power f32` right after `min_df`.
    let mut at = 28;
    let str_len = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    at += 4 + str_len(&v3, at);
    let n_labels = usize::from(u16::from_le_bytes([v3[at], v3[at + 1]]));
    at += 2;
    for _ in 0..n_labels {
        at += 4 + str_len(&v3, at);
    }
    at += 1 + 3 * 4 + 2 + 2 * 4 + 2 + 4;
    let mut payload = v3[28..at].to_vec();
    payload.extend_from_slice(&v3[at + 6..]);
    let mut v2 = b"JIESUCLF".to_vec();
    v2.extend_from_slice(&2u32.to_le_bytes());
    v2.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    v2.extend_from_slice(&jiesu_intake::classify::model::fnv1a64(&payload).to_le_bytes());
    v2.extend_from_slice(&payload);
    let back = Classifier::load(&v2).unwrap();
    assert_eq!(back, clf);
    assert_eq!(back.save(), v3);
}

/// The inner cross-validation chooses an NB weight from the grid, a temperature and a manual
/// threshold; cross-validation reports the confident part with the fold models' own thresholds.
#[test]
fn inner_selection_and_manual_threshold() {
    let opts = TrainOptions { nb_weights: vec![0.0, 0.05], ..small_opts() };
    let clf = Classifier::train(&synthetic(), true, &opts).unwrap();
    assert!(opts.nb_weights.contains(&clf.nb_weight()));
    assert!(clf.temperature() > 0.0);
    assert!((0.0..=1.0).contains(&clf.manual_threshold()));
    let back = Classifier::load(&clf.save()).unwrap();
    assert_eq!(back.manual_threshold(), clf.manual_threshold());
    assert_eq!(back.nb_weight(), clf.nb_weight());
    let cv = jiesu_intake::classify::cross_validate(&synthetic(), true, 3, 0, &opts).unwrap();
    assert_eq!(cv.fold_threshold.len(), 3);
    assert_eq!(cv.confidence.len(), 60);
    let (coverage, precision) = cv.confident_part();
    assert!(coverage > 0.5 && precision >= 0.9, "{cv}");
    assert!(cv.to_string().contains("confident part"), "{cv}");
    let bad = TrainOptions { nb_weights: vec![-1.0], ..small_opts() };
    assert!(matches!(Classifier::train(&synthetic(), true, &bad), Err(ClassifyError::Train(_))));
}

#[test]
fn training_refuses_bad_input() {
    let one_label: Vec<(String, String)> = vec![("a b".into(), "x".into()), ("c d".into(), "x".into())];
    assert!(matches!(Classifier::train(&one_label, true, &small_opts()), Err(ClassifyError::Train(_))));
}

#[test]
fn shipped_model_loads() {
    let clf = Classifier::shipped();
    assert_eq!(clf.labels().len(), 7, "{:?}", clf.labels());
    assert!(!clf.info().is_empty());
    let p = clf.predict("小区门口的马路上到处是垃圾和污水，臭气熏天，请环保部门处理", false);
    assert_eq!(p.label, "环境保护", "{p:?}");
    let p = clf.predict("孩子所在学校违规补课收费，教育局应该管一管", false);
    assert_eq!(p.label, "教育文体", "{p:?}");
    let p = clf.predict("公司拖欠工资半年，社保也没有缴纳", false);
    assert_eq!(p.label, "劳动和社会保障", "{p:?}");
}

/// Needs ../shared/data. The raw sample overlaps the training set, so this checks the raw-text
/// path (jieba + stop words) end to end rather than generalisation.
#[test]
fn shipped_model_classifies_raw_sample() {
    let (samples, pre) = read_labeled_csv(shared_data("teddy2020c/sample_raw_labeled.csv")).unwrap();
    assert!(!pre);
    assert_eq!(samples.len(), 495);
    let r = evaluate(&Classifier::shipped(), &samples, false);
    eprintln!("shipped model on the raw sample: accuracy {:.4}, macro_f1 {:.4}", r.accuracy, r.macro_f1);
    assert!(r.accuracy >= 0.97, "raw-sample accuracy {:.4} under the floor 0.97\n{r}", r.accuracy);
}

#[test]
fn missing_file_is_explained() {
    let e = read_labeled_csv("/nonexistent/x.csv").unwrap_err().to_string();
    assert!(e.contains("/nonexistent/x.csv"), "{e}");
}
