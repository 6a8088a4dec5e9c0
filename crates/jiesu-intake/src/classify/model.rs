//! The model file format (version 3; version 2 files are still read): compact, versioned,
//! checksummed.
//!
//! All integers little-endian.
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `JIESUCLF` |
//! | 4 | format version (`u32`, 3) |
//! | 8 | payload length (`u64`) |
//! | 8 | FNV-1a 64 checksum of the payload |
//! | … | payload |
//!
//! Payload: `info` (string), labels (`u16` count, then strings), the [`FeatureConfig`]
//! (`hash_bits u8, word/bigram/char weights f32, char_min u8, char_max u8, title and title-char weights f32,
//! title_tokens u16, min_df u32`, and since version 3 `subject_max u16, idf_power f32`), IDF step `f32`, temperature `f32`, the naive Bayes weight
//! folded into the weights `f32` (informational) and the manual-queue confidence threshold `f32`,
//! per-label bias `f32` and
//! scale `f32`; then the table: a bitmap of used buckets (`2^hash_bits` bits), the IDF code of
//! each used bucket (`u8`), a bitmap over used buckets of those with a non-zero weight, and
//! `n_labels` `i8` weights for each of those. Strings are a `u32` byte length and UTF-8.
//!
//! Version 2 (the same without `subject_max` and `idf_power`) is read as `subject_max` 0 (the
//! title is the first `title_tokens` tokens) and `idf_power` 1, which is what it was trained with.
//!
//! A file that is truncated, has a bad magic, checksum or version, or inconsistent contents is
//! refused with a [`ClassifyError`] that says which.

use super::features::{FeatureConfig, IdfTable};
use super::{Classifier, ClassifyError};

/// Magic bytes at the start of a model file.
pub const MAGIC: &[u8; 8] = b"JIESUCLF";
/// The format version this build writes (and reads).
pub const VERSION: u32 = 3;
/// The oldest format version this build reads.
pub const MIN_VERSION: u32 = 2;

/// FNV-1a 64-bit hash.
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Serialises a classifier.
pub fn encode(clf: &Classifier) -> Vec<u8> {
    let mut p = Vec::new();
    put_str(&mut p, &clf.info);
    p.extend_from_slice(&(clf.labels.len() as u16).to_le_bytes());
    for l in &clf.labels {
        put_str(&mut p, l);
    }
    let c = &clf.cfg;
    p.push(c.hash_bits);
    for w in [c.word_weight, c.bigram_weight, c.char_weight] {
        p.extend_from_slice(&w.to_le_bytes());
    }
    p.push(c.char_min);
    p.push(c.char_max);
    p.extend_from_slice(&c.title_weight.to_le_bytes());
    p.extend_from_slice(&c.title_char_weight.to_le_bytes());
    p.extend_from_slice(&c.title_tokens.to_le_bytes());
    p.extend_from_slice(&c.min_df.to_le_bytes());
    p.extend_from_slice(&c.subject_max.to_le_bytes());
    p.extend_from_slice(&c.idf_power.to_le_bytes());
    p.extend_from_slice(&clf.idf.step.to_le_bytes());
    p.extend_from_slice(&clf.temperature.to_le_bytes());
    p.extend_from_slice(&clf.nb_weight.to_le_bytes());
    p.extend_from_slice(&clf.manual_threshold.to_le_bytes());
    for v in clf.bias.iter().chain(&clf.scales) {
        p.extend_from_slice(&v.to_le_bytes());
    }
    let n = clf.labels.len();
    let stride = super::row_stride(n);
    let buckets = c.buckets();
    let rows = |b: usize| &clf.table[b * stride..b * stride + 1 + n];
    let used: Vec<usize> = (0..buckets).filter(|&b| rows(b)[0] != 0).collect();
    let mut bitmap = vec![0u8; buckets.div_ceil(8)];
    for &b in &used {
        bitmap[b / 8] |= 1 << (b % 8);
    }
    p.extend_from_slice(&bitmap);
    p.extend(used.iter().map(|&b| rows(b)[0]));
    let mut nz = vec![0u8; used.len().div_ceil(8)];
    let mut weights = Vec::new();
    for (j, &b) in used.iter().enumerate() {
        let w = &rows(b)[1..];
        if w.iter().any(|&x| x != 0) {
            nz[j / 8] |= 1 << (j % 8);
            weights.extend_from_slice(w);
        }
    }
    p.extend_from_slice(&nz);
    p.extend_from_slice(&weights);

    let mut out = Vec::with_capacity(p.len() + 28);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(p.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a64(&p).to_le_bytes());
    out.extend_from_slice(&p);
    out
}

fn put_str(p: &mut Vec<u8>, s: &str) {
    p.extend_from_slice(&(s.len() as u32).to_le_bytes());
    p.extend_from_slice(s.as_bytes());
}

/// A bounds-checked reader over the payload.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ClassifyError> {
        if self.data.len() - self.pos < n {
            return Err(ClassifyError::BadModel(format!("truncated while reading {what}")));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, ClassifyError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, ClassifyError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32, ClassifyError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn f32(&mut self, what: &str) -> Result<f32, ClassifyError> {
        let v = f32::from_bits(self.u32(what)?);
        if v.is_finite() { Ok(v) } else { Err(ClassifyError::BadModel(format!("{what} is not finite"))) }
    }
    fn str(&mut self, what: &str) -> Result<String, ClassifyError> {
        let n = self.u32(what)? as usize;
        let b = self.take(n, what)?;
        String::from_utf8(b.to_vec()).map_err(|_| ClassifyError::BadModel(format!("{what} is not UTF-8")))
    }
}

/// Parses a model file.
pub fn decode(bytes: &[u8]) -> Result<Classifier, ClassifyError> {
    let bad = |m: &str| ClassifyError::BadModel(m.to_string());
    if bytes.len() < 28 {
        return Err(bad("too short to be a model file"));
    }
    if &bytes[..8] != MAGIC {
        return Err(bad("not a jiesu classifier model (bad magic bytes)"));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if !(MIN_VERSION..=VERSION).contains(&version) {
        return Err(ClassifyError::Version { found: version, expected: VERSION });
    }
    let mut len8 = [0u8; 8];
    len8.copy_from_slice(&bytes[12..20]);
    let len = u64::from_le_bytes(len8);
    let mut sum8 = [0u8; 8];
    sum8.copy_from_slice(&bytes[20..28]);
    let payload = &bytes[28..];
    if payload.len() as u64 != len {
        return Err(ClassifyError::BadModel(format!(
            "payload is {} bytes, header says {len}: truncated or padded",
            payload.len()
        )));
    }
    if fnv1a64(payload) != u64::from_le_bytes(sum8) {
        return Err(bad("checksum mismatch: the file is corrupt"));
    }
    let mut c = Cursor { data: payload, pos: 0 };
    let info = c.str("info")?;
    let n_labels = usize::from(c.u16("label count")?);
    if !(2..=255).contains(&n_labels) {
        return Err(bad("label count outside 2..=255"));
    }
    let labels = (0..n_labels).map(|_| c.str("label")).collect::<Result<Vec<_>, _>>()?;
    if labels.windows(2).any(|w| w[0] >= w[1]) {
        return Err(bad("labels are not sorted and distinct"));
    }
    let mut cfg = FeatureConfig {
        hash_bits: c.u8("hash_bits")?,
        word_weight: c.f32("word weight")?,
        bigram_weight: c.f32("bigram weight")?,
        char_weight: c.f32("char weight")?,
        char_min: c.u8("char_min")?,
        char_max: c.u8("char_max")?,
        title_weight: c.f32("title weight")?,
        title_char_weight: c.f32("title char weight")?,
        title_tokens: c.u16("title_tokens")?,
        min_df: c.u32("min_df")?,
        subject_max: 0,
        idf_power: 1.0,
    };
    if version >= 3 {
        cfg.subject_max = c.u16("subject_max")?;
        cfg.idf_power = c.f32("idf_power")?;
    }
    cfg.validate().map_err(|e| ClassifyError::BadModel(format!("feature settings: {e}")))?;
    let step = c.f32("idf step")?;
    let temperature = c.f32("temperature")?;
    let nb_weight = c.f32("naive Bayes weight")?;
    let manual_threshold = c.f32("manual threshold")?;
    if !(0.0..=1.0).contains(&manual_threshold) {
        return Err(bad("manual threshold outside 0..=1"));
    }
    let bias = (0..n_labels).map(|_| c.f32("bias")).collect::<Result<Vec<_>, _>>()?;
    let scales = (0..n_labels).map(|_| c.f32("scale")).collect::<Result<Vec<_>, _>>()?;
    let buckets = cfg.buckets();
    let bitmap = c.take(buckets.div_ceil(8), "bucket bitmap")?;
    let used: Vec<usize> = (0..buckets).filter(|&b| bitmap[b / 8] >> (b % 8) & 1 == 1).collect();
    let codes = c.take(used.len(), "idf codes")?;
    if codes.contains(&0) {
        return Err(bad("a used bucket has IDF code 0"));
    }
    let nz = c.take(used.len().div_ceil(8), "weight bitmap")?;
    let stride = super::row_stride(n_labels);
    let mut table = vec![0u8; buckets * stride];
    for (j, &b) in used.iter().enumerate() {
        table[b * stride] = codes[j];
        if nz[j / 8] >> (j % 8) & 1 == 1 {
            let w = c.take(n_labels, "weights")?;
            table[b * stride + 1..b * stride + 1 + n_labels].copy_from_slice(w);
        }
    }
    if c.pos != payload.len() {
        return Err(bad("trailing bytes after the weights"));
    }
    let idf = IdfTable::new(step, cfg.idf_power);
    Ok(Classifier { labels, cfg, idf, table, scales, bias, temperature, nb_weight, manual_threshold, info })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(decode(b"hello"), Err(ClassifyError::BadModel(_))));
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&7u32.to_le_bytes());
        v.extend_from_slice(&[0; 16]);
        assert!(matches!(decode(&v), Err(ClassifyError::Version { found: 7, expected: 3 })));
    }
}
