//! Feature extraction: hashed n-gram views with sublinear TF, IDF^p and a per-view L2 norm.
//!
//! A message's tokens give four *views*, each hashed into one table of `2^hash_bits` buckets
//! (a deterministic 64-bit mixer, so a model file means the same on every machine):
//!
//! | view | features |
//! |---|---|
//! | word | token unigrams |
//! | bigram | adjacent token pairs |
//! | char | character n-grams (`char_min..=char_max`, default 1–2) over the tokens joined without spaces |
//! | title | the message's subject: the tokens before the [`SUBJECT_END`] marker when it comes within the first `subject_max` tokens, else the first `title_tokens` tokens |
//! | title_char | character n-grams of the title tokens |
//!
//! The subject marker is put in by [`super::tokenize::tokens`] where the text has the subject's
//! end (see there); it is not a feature itself, and the other views skip it.
//!
//! Each feature's value is `(1 + ln tf) · idf^p` (`p` = `idf_power`), with the smoothed
//! `idf = ln((1 + n) / (1 + df)) + 1` learnt from the training set and stored in the model as
//! one byte per bucket (code 0: bucket unseen or under `min_df`, the feature is ignored). Each
//! view is L2-normalised on its own and scaled by its weight, so the views' contributions
//! are balanced whatever the message length.

pub use super::tokenize::SUBJECT_END;

/// Number of views (word, bigram, char, title, title_char).
pub const N_VIEWS: usize = 5;
/// Bits of the key that hold the bucket; the view index sits above them.
const VIEW_SHIFT: u32 = 28;
const BUCKET_MASK: u32 = (1 << VIEW_SHIFT) - 1;

/// Settings of the feature extractor; they are stored in the model file.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureConfig {
    /// The hash table has `2^hash_bits` buckets (12..=24).
    pub hash_bits: u8,
    /// Weight of the word-unigram view (0 disables it).
    pub word_weight: f32,
    /// Weight of the word-bigram view (0 disables it).
    pub bigram_weight: f32,
    /// Weight of the character n-gram view (0 disables it).
    pub char_weight: f32,
    /// Shortest character n-gram.
    pub char_min: u8,
    /// Longest character n-gram.
    pub char_max: u8,
    /// Weight of the title view (0 disables it).
    pub title_weight: f32,
    /// Weight of the title character n-gram view (0 disables it; same n-gram range as `char`).
    pub title_char_weight: f32,
    /// How many leading tokens make the title views when the subject's end is not marked
    /// (or is marked beyond `subject_max`).
    pub title_tokens: u16,
    /// Buckets seen in fewer training messages than this are ignored.
    pub min_df: u32,
    /// The title is the marked subject ([`SUBJECT_END`]) when it has at most this many tokens
    /// (0: ignore the marker, the title is always the first `title_tokens` tokens).
    pub subject_max: u16,
    /// Exponent `p` of the IDF factor (1: plain TF-IDF; larger: rarer features count more).
    pub idf_power: f32,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            hash_bits: 19,
            word_weight: 1.0,
            bigram_weight: 0.0,
            char_weight: 1.3,
            char_min: 1,
            char_max: 2,
            title_weight: 0.5,
            title_char_weight: 1.0,
            title_tokens: 10,
            min_df: 1,
            subject_max: 30,
            idf_power: 1.5,
        }
    }
}

impl FeatureConfig {
    /// The weights of the views, in view order.
    pub fn view_weights(&self) -> [f32; N_VIEWS] {
        [self.word_weight, self.bigram_weight, self.char_weight, self.title_weight, self.title_char_weight]
    }

    /// Number of buckets.
    pub fn buckets(&self) -> usize {
        1usize << self.hash_bits
    }

    /// Checks the ranges the extractor relies on.
    pub fn validate(&self) -> Result<(), String> {
        if !(12..=24).contains(&self.hash_bits) {
            return Err(format!("hash_bits {} outside 12..=24", self.hash_bits));
        }
        if (self.char_weight > 0.0 || self.title_char_weight > 0.0)
            && (self.char_min == 0 || self.char_min > self.char_max || self.char_max > 8)
        {
            return Err(format!("bad char n-gram range {}..={}", self.char_min, self.char_max));
        }
        if !(self.idf_power.is_finite() && (0.0..=4.0).contains(&self.idf_power)) {
            return Err(format!("idf_power {} outside 0..=4", self.idf_power));
        }
        let w = self.view_weights();
        if w.iter().any(|x| !x.is_finite() || *x < 0.0) || w.iter().all(|x| *x == 0.0) {
            return Err("view weights must be finite, non-negative and not all zero".into());
        }
        Ok(())
    }
}

/// The splitmix64 finaliser: a fast, well-mixing, platform-independent 64-bit hash step.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a token's UTF-8 bytes (one mixing round per 8 bytes; keys are mixed again).
#[inline]
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3 ^ (s.len() as u64);
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = mix64(h ^ v).wrapping_add(0x9E37_79B9_7F4A_7C15);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = mix64(h ^ u64::from_le_bytes(buf)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    }
    h
}

const SALT: [u64; 4] = [0x5157_4F52_4431_0001, 0x4249_4752_414D_0002, 0x4348_4152_4E47_0003, 0x5449_544C_4500_0004];

/// Receives feature keys as they are made.
pub trait KeySink {
    /// Takes one key.
    fn put(&mut self, key: u32);
}

impl KeySink for Vec<u32> {
    #[inline]
    fn put(&mut self, key: u32) {
        self.push(key);
    }
}

/// Appends the hashed feature keys (`view << 28 | bucket`) of `tokens` to `keys`, unsorted.
pub fn extract_keys(cfg: &FeatureConfig, tokens: &[&str], keys: &mut Vec<u32>) {
    extract_into(cfg, tokens, keys);
}

/// Gives the hashed feature keys (`view << 28 | bucket`) of `tokens` to `keys`.
pub fn extract_into<S: KeySink>(cfg: &FeatureConfig, tokens: &[&str], keys: &mut S) {
    let shift = 64 - u32::from(cfg.hash_bits);
    let key = |view: usize, h: u64| ((view as u32) << VIEW_SHIFT) | (mix64(h ^ SALT[view]) >> shift) as u32;
    let need_hashes = cfg.word_weight > 0.0 || cfg.bigram_weight > 0.0 || cfg.title_weight > 0.0;
    let title = title_tokens(cfg, tokens);
    // Index in `tokens` just past the title (the marker, if inside, is skipped by the views).
    let n_title = title.len();
    if need_hashes {
        let mut prev: Option<u64> = None;
        for (i, t) in tokens.iter().enumerate() {
            if *t == SUBJECT_END {
                continue;
            }
            let h = hash_str(t);
            if cfg.word_weight > 0.0 {
                keys.put(key(0, h));
            }
            if cfg.title_weight > 0.0 && i < n_title {
                keys.put(key(3, h));
            }
            if cfg.bigram_weight > 0.0 {
                if let Some(p) = prev {
                    keys.put(key(1, p.rotate_left(17) ^ h));
                }
                prev = Some(h);
            }
        }
    }
    let (lo, hi) = (usize::from(cfg.char_min), usize::from(cfg.char_max));
    if cfg.char_weight > 0.0 {
        char_grams(tokens, lo, hi, 2, 0, shift, keys);
    }
    if cfg.title_char_weight > 0.0 {
        char_grams(title, lo, hi, 4, 0x7469_746C_6563_6872, shift, keys);
    }
}

/// The leading tokens that make the title views: those before the [`SUBJECT_END`] marker if it
/// comes after 1..=`subject_max` tokens, else the first `title_tokens` tokens (not counting a
/// marker among them, which the views skip).
pub fn title_tokens<'a, 'b>(cfg: &FeatureConfig, tokens: &'b [&'a str]) -> &'b [&'a str] {
    let marker = tokens.iter().position(|t| *t == SUBJECT_END);
    match marker {
        Some(p) if p > 0 && p <= usize::from(cfg.subject_max) => &tokens[..p],
        Some(p) if p < usize::from(cfg.title_tokens) => {
            &tokens[..(usize::from(cfg.title_tokens) + 1).min(tokens.len())]
        }
        _ => &tokens[..tokens.len().min(usize::from(cfg.title_tokens))],
    }
}

/// Character `lo..=hi`-grams over the tokens joined without spaces, as keys of `view`
/// (a [`SUBJECT_END`] marker among them is skipped).
///
/// Grams end at each character; up to 3 characters are packed exactly into 63 bits (21 bits
/// each), longer ones chain the extra characters through the mixer.
fn char_grams<S: KeySink>(tokens: &[&str], lo: usize, hi: usize, view: u32, salt: u64, shift: u32, keys: &mut S) {
    let tag = view << VIEW_SHIFT;
    if lo == 1 && (2..=3).contains(&hi) {
        // Fast path of the usual ranges: the same keys as the general loop below.
        let (s1, s2, s3) = (CHAR_SALT[1] ^ salt, CHAR_SALT[2] ^ salt, CHAR_SALT[3] ^ salt);
        let (mut p1, mut p2) = (u64::MAX, u64::MAX);
        for c in tokens.iter().filter(|t| **t != SUBJECT_END).flat_map(|t| t.chars()) {
            let c = u64::from(c);
            keys.put(tag | (mix64(c ^ s1) >> shift) as u32);
            if p1 != u64::MAX {
                let two = c | p1 << 21;
                keys.put(tag | (mix64(two ^ s2) >> shift) as u32);
                if hi == 3 && p2 != u64::MAX {
                    keys.put(tag | (mix64((two | p2 << 42) ^ s3) >> shift) as u32);
                }
            }
            p2 = p1;
            p1 = c;
        }
        return;
    }
    let mut ring = [0u64; 8];
    let mut seen = 0usize;
    for c in tokens.iter().filter(|t| **t != SUBJECT_END).flat_map(|t| t.chars()) {
        ring.copy_within(0..7, 1);
        ring[0] = u64::from(c);
        seen += 1;
        let mut packed = 0u64;
        for n in 1..=hi.min(seen) {
            let h = if n <= 3 {
                packed |= ring[n - 1] << (21 * (n - 1));
                packed ^ CHAR_SALT[n] ^ salt
            } else {
                let mut h = packed ^ CHAR_SALT[n.min(8)] ^ salt;
                for &x in &ring[3..n] {
                    h = mix64(h) ^ x;
                }
                h
            };
            if n >= lo {
                keys.put(tag | (mix64(h) >> shift) as u32);
            }
        }
    }
}

/// Per-length salts of character n-grams.
const CHAR_SALT: [u64; 9] = [
    0,
    0x4348_4152_0000_0001 << 1,
    0x4348_4152_0000_0002 << 1,
    0x4348_4152_0000_0003 << 1,
    0x4348_4152_0000_0004,
    0x4348_4152_0000_0005,
    0x4348_4152_0000_0006,
    0x4348_4152_0000_0007,
    0x4348_4152_0000_0008,
];

/// The learnt IDF table: one byte code per bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct IdfTable {
    /// `idf = 1 + (code - 1) * step` for codes 1..=255; 0 means ignored.
    pub step: f32,
    /// The value of a code is `idf^power`.
    pub power: f32,
    /// Lookup from code to IDF value.
    values: [f32; 256],
}

impl IdfTable {
    /// Table for a given quantisation step and exponent.
    pub fn new(step: f32, power: f32) -> Self {
        let mut values = [0f32; 256];
        for (c, v) in values.iter_mut().enumerate().skip(1) {
            *v = (1.0 + (c as f32 - 1.0) * step).powf(power);
        }
        IdfTable { step, power, values }
    }

    /// IDF value of a code (raised to the table's power).
    #[inline]
    pub fn value(&self, code: u8) -> f32 {
        self.values[usize::from(code)]
    }

    /// Quantises document frequencies into codes, with `n` training messages; values are
    /// raised to `power`.
    pub fn fit(df: &[u32], n: usize, min_df: u32, power: f32) -> (IdfTable, Vec<u8>) {
        let max_idf = ((1.0 + n as f64) / 1.0).ln() + 1.0;
        let step = ((max_idf - 1.0) / 254.0).max(1e-6) as f32;
        let table = IdfTable::new(step, power);
        let codes = df
            .iter()
            .map(|&d| {
                if d == 0 || d < min_df {
                    0
                } else {
                    let idf = ((1.0 + n as f64) / (1.0 + f64::from(d))).ln() + 1.0;
                    (((idf - 1.0) / f64::from(step)).round() as i64 + 1).clamp(1, 255) as u8
                }
            })
            .collect();
        (table, codes)
    }
}

/// `1 + ln(tf)` for small counts, precomputed.
pub fn sublinear(tf: u32) -> f32 {
    static TABLE: std::sync::OnceLock<[f32; 64]> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut a = [0f32; 64];
        for (i, v) in a.iter_mut().enumerate().skip(1) {
            *v = 1.0 + (i as f32).ln();
        }
        a
    });
    if (tf as usize) < 64 { t[tf as usize] } else { 1.0 + (tf as f32).ln() }
}

/// Turns sorted keys into `(key, count)` runs.
pub fn count_sorted(keys: &[u32], out: &mut Vec<(u32, u32)>) {
    out.clear();
    for &k in keys {
        match out.last_mut() {
            Some((lk, c)) if *lk == k => *c += 1,
            _ => out.push((k, 1)),
        }
    }
}

/// Counts keys with an open-addressing table (faster than sorting ~1,000 keys). The table is
/// kept between calls and only the slots used are reset.
#[derive(Debug, Default)]
pub struct KeyCounter {
    /// Key per slot; `u32::MAX` marks an empty slot.
    keys: Vec<u32>,
    /// Count per slot.
    counts: Vec<u32>,
    /// Slots used by the current call, in first-seen order.
    used: Vec<u32>,
}

impl KeyCounter {
    /// Writes the distinct keys of `keys` with their counts to `out`, in first-seen order.
    pub fn count(&mut self, keys: &[u32], out: &mut Vec<(u32, u32)>) {
        out.clear();
        let want = (keys.len() * 2).next_power_of_two().max(1024);
        if self.keys.len() < want {
            self.keys = vec![u32::MAX; want];
            self.counts = vec![0; want];
        }
        let mask = self.keys.len() - 1;
        // Local borrows, so the compiler keeps the tables' addresses in registers.
        let (table, counts, used) = (&mut self.keys[..], &mut self.counts[..], &mut self.used);
        used.clear();
        for &k in keys {
            // The low bits of a key are a hashed bucket already: use them as the slot.
            let mut i = (k ^ (k >> VIEW_SHIFT)) as usize & mask;
            while table[i] != k {
                if table[i] == u32::MAX {
                    table[i] = k;
                    used.push(i as u32);
                    break;
                }
                i = (i + 1) & mask;
            }
            counts[i] += 1;
        }
        for &i in used.iter() {
            let i = i as usize & mask;
            out.push((table[i], counts[i]));
            table[i] = u32::MAX;
            counts[i] = 0;
        }
    }
}

/// View of a key (0 word, 1 bigram, 2 char, 3 title, 4 title_char).
#[inline]
pub fn view_of(key: u32) -> usize {
    (key >> VIEW_SHIFT) as usize
}

/// Distinct bucket of a key.
#[inline]
pub fn bucket_of(key: u32) -> u32 {
    key & BUCKET_MASK
}

/// Builds the weighted, normalised TF-IDF vector `(bucket, value)` from counted keys.
///
/// `idf_code(bucket)` gives a bucket's IDF code; buckets with code 0 are skipped.
pub fn tfidf_vector(
    cfg: &FeatureConfig,
    idf: &IdfTable,
    counts: &[(u32, u32)],
    idf_code: impl Fn(u32) -> u8,
    out: &mut Vec<(u32, f32)>,
) {
    out.clear();
    let weights = cfg.view_weights();
    let mut norms = [0f32; N_VIEWS];
    let mut views = Vec::with_capacity(counts.len());
    for &(key, tf) in counts {
        let b = bucket_of(key);
        let code = idf_code(b);
        if code == 0 {
            continue;
        }
        let v = sublinear(tf) * idf.value(code);
        let view = (key >> VIEW_SHIFT) as usize;
        norms[view] += v * v;
        out.push((b, v));
        views.push(view as u8);
    }
    let mut scale = [0f32; N_VIEWS];
    for i in 0..N_VIEWS {
        if norms[i] > 0.0 {
            scale[i] = weights[i] / norms[i].sqrt();
        }
    }
    for (x, view) in out.iter_mut().zip(&views) {
        x.1 *= scale[usize::from(*view)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cover_views() {
        let cfg = FeatureConfig { bigram_weight: 1.0, ..FeatureConfig::default() };
        let mut keys = Vec::new();
        extract_keys(&cfg, &["小区", "路灯"], &mut keys);
        // 2 words + 1 bigram + 2 title + chars (4 unigrams, 3 bigrams) + title chars.
        assert_eq!(keys.len(), 2 + 1 + 2 + 7 + 7);
        assert!(keys.iter().all(|k| bucket_of(*k) < (1 << 20)));
    }

    #[test]
    fn title_is_the_marked_subject() {
        let cfg = FeatureConfig { title_tokens: 2, subject_max: 3, ..FeatureConfig::default() };
        let toks = ["路灯", "坏", "了", SUBJECT_END, "小区", "路灯"];
        assert_eq!(title_tokens(&cfg, &toks), &toks[..3]);
        // A marker beyond `subject_max`, or none: the first `title_tokens` tokens.
        let late = ["a", "b", "c", "d", SUBJECT_END, "e"];
        assert_eq!(title_tokens(&cfg, &late), &late[..2]);
        assert_eq!(title_tokens(&cfg, &["a", "b", "c"]), &["a", "b"]);
        // Marker ignored (`subject_max` 0): it does not count as a title token.
        let off = FeatureConfig { subject_max: 0, ..cfg.clone() };
        assert_eq!(title_tokens(&off, &["a", SUBJECT_END, "b", "c"]), &["a", SUBJECT_END, "b"]);
        // The marker makes no feature: the body views are those of the text without it.
        let mut with = Vec::new();
        let body = FeatureConfig { title_weight: 0.0, title_char_weight: 0.0, bigram_weight: 1.0, ..cfg.clone() };
        extract_keys(&body, &toks, &mut with);
        let mut without = Vec::new();
        let plain: Vec<&str> = toks.iter().copied().filter(|t| *t != SUBJECT_END).collect();
        extract_keys(&body, &plain, &mut without);
        assert_eq!(with, without);
    }

    #[test]
    fn char_fast_path_matches_general_loop() {
        let toks = ["市民", "反映", "小区", "A3", "路灯", "坏了"];
        let mut fast2 = Vec::new();
        char_grams(&toks, 1, 2, 2, 7, 44, &mut fast2);
        let mut slow2 = Vec::new();
        char_grams(&toks, 1, 1, 2, 7, 44, &mut slow2);
        char_grams(&toks, 2, 2, 2, 7, 44, &mut slow2);
        fast2.sort_unstable();
        slow2.sort_unstable();
        assert_eq!(fast2, slow2);
        let mut fast = Vec::new();
        char_grams(&toks, 1, 3, 2, 7, 44, &mut fast);
        // The general loop, reached with the range split in two.
        let mut slow = Vec::new();
        char_grams(&toks, 1, 1, 2, 7, 44, &mut slow);
        char_grams(&toks, 2, 3, 2, 7, 44, &mut slow);
        fast.sort_unstable();
        slow.sort_unstable();
        assert_eq!(fast, slow);
    }

    #[test]
    fn vector_views_are_unit_scaled() {
        let cfg =
            FeatureConfig { title_weight: 0.0, char_weight: 0.0, title_char_weight: 0.0, ..FeatureConfig::default() };
        let mut keys = Vec::new();
        extract_keys(&cfg, &["甲", "乙", "甲"], &mut keys);
        keys.sort_unstable();
        let mut counts = Vec::new();
        count_sorted(&keys, &mut counts);
        let idf = IdfTable::new(0.01, 1.0);
        let mut v = Vec::new();
        tfidf_vector(&cfg, &idf, &counts, |_| 1, &mut v);
        let n: f32 = v.iter().map(|x| x.1 * x.1).sum();
        assert!((n - 1.0).abs() < 1e-5);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn counter_matches_sorting() {
        let keys: Vec<u32> = (0..5000u32).map(|i| (i * 7919) % 613).collect();
        let mut counter = KeyCounter::default();
        let mut a = Vec::new();
        counter.count(&keys[..100], &mut a);
        counter.count(&keys, &mut a);
        a.sort_unstable();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        let mut b = Vec::new();
        count_sorted(&sorted, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn idf_codes() {
        let (t, codes) = IdfTable::fit(&[0, 1, 5, 100], 100, 2, 1.0);
        assert_eq!(codes[0], 0);
        assert_eq!(codes[1], 0);
        assert!(codes[2] > codes[3] && codes[3] >= 1);
        assert!((t.value(codes[3]) - 1.0).abs() < 0.05);
        let (t2, codes2) = IdfTable::fit(&[0, 1, 5, 100], 100, 2, 1.5);
        assert_eq!(codes, codes2);
        assert!((t2.value(codes[2]) - t.value(codes[2]).powf(1.5)).abs() < 1e-5);
    }
}
