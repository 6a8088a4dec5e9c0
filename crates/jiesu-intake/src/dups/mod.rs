//! Duplicate finding: is a new case the same incident as an open case reported before?
//!
//! Pure scoring, no I/O and no clock: the caller (the desk) fetches the open cases near the new
//! one in space and time, and [`Scorer::rank`] orders them by a confidence in [0, 1] with the
//! reasons (metres apart, hours apart, text similarity, category match) so that an operator can
//! judge and merge.
//!
//! The confidence is
//!
//! ```text
//! category factor × (w_text·similarity + w_dist·exp(−metres / D) + w_time·exp(−hours / H))
//! ```
//!
//! with `w_text + w_dist + w_time = 1`. Text similarity is the cosine of hashed character n-gram
//! profiles ([`Fingerprint`]): Chinese characters and character bigrams, English words and
//! character trigrams, so it works on raw Chinese without segmentation and on English addresses
//! ("33 Beacon St" against "35 Beacon Street"). A case without a point gets no distance evidence
//! (the term is 0). The category factor is 1 for the same leaf category, [`Weights::same_group`]
//! for the same top-level category, [`Weights::other_category`] otherwise.
//!
//! The default weights, scales and threshold were chosen on data: `jiesu bench duplicates` replays
//! Boston 311 (2015), searches the weights on the first half of the year and reports precision and
//! recall on the second half ([`boston`]). The category factors cannot be learned there (its
//! protocol compares cases of the same type only); they are a design choice.

#[cfg(feature = "tools")]
pub mod boston;

use chrono::{DateTime, Utc};

use crate::classify::features::{hash_str, mix64};

/// A point on the Earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance between two points in metres (haversine formula).
pub fn haversine_m(a: Point, b: Point) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// A text's profile of hashed character n-grams, L2-normalised, sorted by hash: two profiles'
/// cosine is one merge of the two lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fingerprint {
    grams: Vec<(u32, f32)>,
}

/// Kinds of n-gram, mixed into the hash so that a word never collides with a character.
const HAN_CHAR: u64 = 1;
const HAN_BIGRAM: u64 = 2;
const WORD: u64 = 3;
const TRIGRAM: u64 = 4;

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FA1F}')
}

impl Fingerprint {
    /// The profile of `text`: lowercased; runs of Chinese characters give each character and each
    /// bigram; runs of other letters and digits give the word and the trigrams of `^word$`.
    /// Everything else separates. Counts are damped (1 + ln n) before normalising.
    pub fn of(text: &str) -> Fingerprint {
        let mut hashes: Vec<u32> = Vec::new();
        let mut push =
            |kind: u64, h: u64| hashes.push((mix64(h ^ kind.wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 32) as u32);
        let mut word = String::new();
        let mut prev_han: Option<char> = None;
        let flush_word = |word: &mut String, push: &mut dyn FnMut(u64, u64)| {
            if word.is_empty() {
                return;
            }
            push(WORD, hash_str(word));
            let padded: Vec<char> = std::iter::once('^').chain(word.chars()).chain(std::iter::once('$')).collect();
            let mut buf = [0u8; 12];
            for w in padded.windows(3) {
                let mut n = 0;
                for c in w {
                    n += c.encode_utf8(&mut buf[n..]).len();
                }
                push(TRIGRAM, hash_str(std::str::from_utf8(&buf[..n]).expect("utf-8")));
            }
            word.clear();
        };
        for c in text.chars().flat_map(char::to_lowercase) {
            if is_han(c) {
                flush_word(&mut word, &mut push);
                push(HAN_CHAR, u64::from(c));
                if let Some(p) = prev_han {
                    push(HAN_BIGRAM, (u64::from(p) << 21) | u64::from(c));
                }
                prev_han = Some(c);
            } else if c.is_alphanumeric() {
                prev_han = None;
                word.push(c);
            } else {
                prev_han = None;
                flush_word(&mut word, &mut push);
            }
        }
        flush_word(&mut word, &mut push);
        hashes.sort_unstable();
        let mut grams: Vec<(u32, f32)> = Vec::with_capacity(hashes.len());
        for h in hashes {
            match grams.last_mut() {
                Some((last, n)) if *last == h => *n += 1.0,
                _ => grams.push((h, 1.0)),
            }
        }
        let mut norm = 0.0f32;
        for (_, w) in &mut grams {
            *w = 1.0 + w.ln();
            norm += *w * *w;
        }
        let norm = norm.sqrt();
        for (_, w) in &mut grams {
            *w /= norm;
        }
        Fingerprint { grams }
    }

    /// The profile's grams: (hash, weight), sorted by hash, weights of unit length.
    pub fn grams(&self) -> &[(u32, f32)] {
        &self.grams
    }

    /// The same grams with each weight multiplied by `factor(hash)` (an IDF, say), normalised
    /// again; grams whose factor is 0 are dropped.
    pub fn reweighted(&self, factor: impl Fn(u32) -> f32) -> Fingerprint {
        let mut grams: Vec<(u32, f32)> =
            self.grams.iter().map(|&(h, w)| (h, w * factor(h))).filter(|&(_, w)| w > 0.0).collect();
        let norm = grams.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, w) in &mut grams {
                *w /= norm;
            }
        }
        Fingerprint { grams }
    }

    /// True when the text had no letters, digits or Chinese characters.
    pub fn is_empty(&self) -> bool {
        self.grams.is_empty()
    }

    /// Cosine similarity in [0, 1] (0 when either text is empty).
    pub fn cosine(&self, other: &Fingerprint) -> f64 {
        let (a, b) = (&self.grams, &other.grams);
        let (mut i, mut j, mut dot) = (0, 0, 0.0f32);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += a[i].1 * b[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        f64::from(dot).clamp(0.0, 1.0)
    }
}

/// What the scorer knows of a case: its text profile, category, point and time of receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Profile of the title, text and address.
    pub fingerprint: Fingerprint,
    /// Leaf category code (or type name).
    pub category: String,
    /// Top-level category, when the catalog has one.
    pub group: Option<String>,
    /// Where, when known.
    pub point: Option<Point>,
    /// When it was received.
    pub at: DateTime<Utc>,
}

impl Incident {
    /// An incident from its text (title, text and address together), category, point and time.
    pub fn new(text: &str, category: &str, group: Option<&str>, point: Option<Point>, at: DateTime<Utc>) -> Incident {
        Incident {
            fingerprint: Fingerprint::of(text),
            category: category.to_string(),
            group: group.map(str::to_string),
            point,
            at,
        }
    }
}

/// How the categories of two cases relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryMatch {
    /// The same leaf category.
    Same,
    /// Different leaves of the same top-level category.
    SameGroup,
    /// Unrelated categories.
    Other,
}

/// Why two cases look alike: the figures behind a confidence.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Reasons {
    /// Metres apart, when both have a point.
    pub distance_m: Option<f64>,
    /// Hours between the two receipts.
    pub hours_apart: f64,
    /// Text similarity in [0, 1].
    pub similarity: f64,
    /// How the categories relate.
    pub category: CategoryMatch,
}

/// Weights, scales and threshold of the confidence (see the module docs for the formula).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Weights {
    /// Weight of text similarity.
    pub text: f64,
    /// Weight of nearness, `exp(−metres / distance_scale_m)`.
    pub distance: f64,
    /// Weight of recency, `exp(−hours / time_scale_h)`.
    pub time: f64,
    /// D, metres.
    pub distance_scale_m: f64,
    /// H, hours.
    pub time_scale_h: f64,
    /// Factor for a different leaf of the same top-level category.
    pub same_group: f64,
    /// Factor for an unrelated category.
    pub other_category: f64,
    /// Confidence from which a candidate is suggested as a likely duplicate.
    pub threshold: f64,
}

impl Default for Weights {
    /// Chosen on the first half of Boston 311 2015 by `jiesu bench duplicates` (best F1 over a grid
    /// of weights, scales and thresholds). Boston's cases carry no description, only the type and
    /// the address, so there the text adds nothing the point does not already say and its weight
    /// came out 0; a district with its own merged cases should tune again (see README). Text
    /// similarity is still computed and shown to the operator as a reason.
    fn default() -> Self {
        Weights {
            text: 0.0,
            distance: 0.6,
            time: 0.4,
            distance_scale_m: 15.0,
            time_scale_h: 720.0,
            same_group: 0.6,
            other_category: 0.3,
            threshold: 0.85,
        }
    }
}

/// A candidate with its confidence of being the same incident as the new case.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate<K> {
    /// The caller's key for the candidate (a case id).
    pub key: K,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// The figures behind it.
    pub reasons: Reasons,
    /// True when the confidence reaches the threshold.
    pub likely: bool,
}

/// Scores pairs of cases with one set of [`Weights`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scorer {
    /// The weights in use.
    pub weights: Weights,
}

impl Scorer {
    /// A scorer with `weights`.
    pub fn new(weights: Weights) -> Scorer {
        Scorer { weights }
    }

    /// The figures comparing `new` with an earlier `old` case.
    pub fn reasons(&self, new: &Incident, old: &Incident) -> Reasons {
        let category = if new.category == old.category {
            CategoryMatch::Same
        } else if new.group.is_some() && new.group == old.group {
            CategoryMatch::SameGroup
        } else {
            CategoryMatch::Other
        };
        Reasons {
            distance_m: new.point.zip(old.point).map(|(a, b)| haversine_m(a, b)),
            hours_apart: (new.at - old.at).num_milliseconds().unsigned_abs() as f64 / 3_600_000.0,
            similarity: new.fingerprint.cosine(&old.fingerprint),
            category,
        }
    }

    /// The confidence in [0, 1] that the figures describe one incident reported twice.
    pub fn confidence(&self, r: &Reasons) -> f64 {
        let w = &self.weights;
        let near = r.distance_m.map_or(0.0, |d| (-d / w.distance_scale_m).exp());
        let recent = (-r.hours_apart / w.time_scale_h).exp();
        let factor = match r.category {
            CategoryMatch::Same => 1.0,
            CategoryMatch::SameGroup => w.same_group,
            CategoryMatch::Other => w.other_category,
        };
        let total = w.text + w.distance + w.time;
        if total <= 0.0 {
            return 0.0;
        }
        (factor * (w.text * r.similarity + w.distance * near + w.time * recent) / total).clamp(0.0, 1.0)
    }

    /// Scores every candidate against `new`, most likely first (ties: the earlier key order).
    pub fn rank<'a, K: 'a>(
        &self,
        new: &Incident,
        candidates: impl IntoIterator<Item = (K, &'a Incident)>,
    ) -> Vec<Candidate<K>> {
        let mut out: Vec<Candidate<K>> = candidates
            .into_iter()
            .map(|(key, old)| {
                let reasons = self.reasons(new, old);
                let confidence = self.confidence(&reasons);
                Candidate { key, confidence, reasons, likely: confidence >= self.weights.threshold }
            })
            .collect();
        out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap() + chrono::Duration::hours(h)
    }

    #[test]
    fn haversine_matches_known_distances() {
        // One degree of latitude is ≈ 111.2 km; Tiananmen to the Drum Tower is ≈ 3.1 km.
        let d = haversine_m(Point { lat: 39.0, lon: 116.0 }, Point { lat: 40.0, lon: 116.0 });
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
        let d = haversine_m(Point { lat: 39.9087, lon: 116.3975 }, Point { lat: 39.9370, lon: 116.3934 });
        assert!((3_100.0..3_200.0).contains(&d), "{d}");
        assert_eq!(haversine_m(Point { lat: 39.9, lon: 116.4 }, Point { lat: 39.9, lon: 116.4 }), 0.0);
    }

    #[test]
    fn similar_chinese_texts_score_higher_than_unrelated_ones() {
        let a = Fingerprint::of("东四北大街12号门前路灯不亮，晚上很黑");
        let b = Fingerprint::of("东四北大街12号路灯坏了不亮");
        let c = Fingerprint::of("小区垃圾桶满了没人清运，气味很大");
        assert!((a.cosine(&a) - 1.0).abs() < 1e-6);
        assert!(a.cosine(&b) > 0.4, "{}", a.cosine(&b));
        assert!(a.cosine(&c) < 0.1, "{}", a.cosine(&c));
    }

    #[test]
    fn english_addresses_match_by_words_and_trigrams() {
        let a = Fingerprint::of("Sign Repair 33 Beacon St  Boston  MA  02108");
        let b = Fingerprint::of("Sign Repair 33 BEACON ST Boston MA 02108");
        let c = Fingerprint::of("Sign Repair 35 Beacon Street Boston MA 02108");
        let d = Fingerprint::of("Graffiti Removal 120 Dorchester Ave Boston MA 02127");
        assert!((a.cosine(&b) - 1.0).abs() < 1e-6, "case and spacing do not matter");
        assert!(a.cosine(&c) > a.cosine(&d));
        assert!(a.cosine(&c) < 1.0);
    }

    #[test]
    fn empty_text_has_no_similarity() {
        let e = Fingerprint::of(" ，。!! ");
        assert!(e.is_empty());
        assert_eq!(e.cosine(&Fingerprint::of("路灯")), 0.0);
    }

    #[test]
    fn rank_puts_the_same_incident_first_with_its_reasons() {
        let s = Scorer::default();
        let here = Point { lat: 39.9300, lon: 116.4170 };
        let new = Incident::new("东四北大街12号路灯不亮", "0301", Some("03"), Some(here), at(30));
        let same = Incident::new(
            "东四北大街12号门前路灯坏了",
            "0301",
            Some("03"),
            Some(Point { lat: 39.93001, lon: 116.41701 }),
            at(26),
        );
        let far = Incident::new(
            "东四北大街路灯不亮",
            "0301",
            Some("03"),
            Some(Point { lat: 39.9400, lon: 116.4170 }),
            at(29),
        );
        let other = Incident::new("垃圾桶满了", "0502", Some("05"), Some(here), at(29));
        let ranked = s.rank(&new, [(1, &far), (2, &same), (3, &other)]);
        assert_eq!(ranked[0].key, 2, "{ranked:?}");
        let top = &ranked[0];
        assert!(top.likely, "{top:?}");
        assert!(top.reasons.distance_m.unwrap() < 2.0);
        assert!((top.reasons.hours_apart - 4.0).abs() < 1e-9);
        assert_eq!(top.reasons.category, CategoryMatch::Same);
        let unrelated = ranked.iter().find(|c| c.key == 3).unwrap();
        assert_eq!(unrelated.reasons.category, CategoryMatch::Other);
        assert!(ranked[1..].iter().all(|c| !c.likely), "{ranked:?}");
        for c in &ranked {
            assert!((0.0..=1.0).contains(&c.confidence));
        }
    }

    #[test]
    fn confidence_falls_with_distance_time_and_category() {
        let s = Scorer::default();
        let base = Reasons { distance_m: Some(0.0), hours_apart: 0.0, similarity: 1.0, category: CategoryMatch::Same };
        assert!((s.confidence(&base) - 1.0).abs() < 1e-12);
        let farther = Reasons { distance_m: Some(200.0), ..base };
        let later = Reasons { hours_apart: 500.0, ..base };
        let unknown_place = Reasons { distance_m: None, ..base };
        let group = Reasons { category: CategoryMatch::SameGroup, ..base };
        for r in [farther, later, unknown_place, group] {
            assert!(s.confidence(&r) < s.confidence(&base), "{r:?}");
        }
        assert!(s.confidence(&Reasons { category: CategoryMatch::Other, ..base }) < s.confidence(&group));
    }
}
