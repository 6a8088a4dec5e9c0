//! Evaluation of the duplicate scorer on Boston 311 service requests of 2015.
//!
//! Ground truth: a case is a duplicate when its `CLOSURE_REASON` mentions "duplicate" (any case):
//! the closure code `Duplicate of Existing Case` (3,227 rows) or a staff note such as
//! "Case Noted duplicate of 1336919" (644 more); 3,871 in all.
//!
//! Protocol ([`replay`]): cases are replayed in `OPEN_DT` order. A case's candidates are the earlier
//! cases of the same `TYPE` still open when it arrives (`OPEN_DT ≤ t < CLOSED_DT`, or never
//! closed), opened at most [`Window::max_hours`] before, and, when both have a point, at most
//! [`Window::max_m`] away. Cases at the city-centre default (`LATITUDE` 42.3594, 17,284 rows) have
//! no point; their candidates are compared on text (title and address) and time only. A case is
//! flagged when its best candidate's confidence reaches the threshold.
//!
//! Figures ([`figures`]) count, among the cases of the types that have at least one duplicate, the
//! true duplicates flagged (precision = flagged duplicates / flagged; recall = flagged duplicates /
//! all duplicates, including those that had no candidate at all). [`tune`] searches the weights on
//! one period (the first half of the year) so that the figures of another (the second half) are
//! honest.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::New_York;

use super::{Incident, Point, Reasons, Scorer, Weights};

/// The not-geocoded default latitude of the data set.
const CITY_CENTRE_LAT: &str = "42.3594";

/// What went wrong reading the data.
#[derive(Debug, thiserror::Error)]
pub enum BostonError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The CSV is malformed or a field cannot be understood.
    #[error("{path}: {message}")]
    Data {
        /// The file.
        path: String,
        /// What is wrong, with the line.
        message: String,
    },
}

/// One service request.
#[derive(Debug, Clone)]
pub struct Case {
    /// `CASE_ENQUIRY_ID`.
    pub id: String,
    /// `OPEN_DT`.
    pub opened: DateTime<Utc>,
    /// `CLOSED_DT`, when closed.
    pub closed: Option<DateTime<Utc>>,
    /// `TYPE`.
    pub kind: String,
    /// Title and address as text, type, point and opening time.
    pub incident: Incident,
    /// Closed as a duplicate (the ground truth).
    pub duplicate: bool,
}

/// The data set, in replay order.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Cases sorted by opening time, then id.
    pub cases: Vec<Case>,
    /// Rows whose closure code is `Duplicate of Existing Case` (any letter case).
    pub closure_code_duplicates: usize,
    /// Rows at the city-centre default coordinate (no point).
    pub not_geocoded: usize,
}

impl Dataset {
    /// Cases whose closure reason mentions a duplicate.
    pub fn duplicates(&self) -> usize {
        self.cases.iter().filter(|c| c.duplicate).count()
    }
}

/// Parses `MM/DD/YYYY hh:mm:ss AM/PM`, local time in Boston. In the autumn's repeated hour the
/// earlier instant is taken; a time in the spring's skipped hour is read one hour later.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%m/%d/%Y %I:%M:%S %p")
        .map_err(|e| format!("'{s}' is not MM/DD/YYYY hh:mm:ss AM/PM: {e}"))?;
    let local = match New_York.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
        LocalResult::None => New_York
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .ok_or_else(|| format!("'{s}' does not exist in America/New_York"))?,
    };
    Ok(local.with_timezone(&Utc))
}

/// Reads the gzip-compressed CSV at `path`.
pub fn load(path: impl AsRef<Path>) -> Result<Dataset, BostonError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| BostonError::Io { path: shown.clone(), source })?;
    read(flate2::read::GzDecoder::new(file), &shown)
}

/// Reads the (uncompressed) CSV from `reader`; `name` is used in error messages.
pub fn read(reader: impl Read, name: &str) -> Result<Dataset, BostonError> {
    let err = |message: String| BostonError::Data { path: name.to_string(), message };
    let mut rdr = csv::Reader::from_reader(reader);
    let headers = rdr.headers().map_err(|e| err(format!("cannot read the header row: {e}")))?.clone();
    let col = |c: &str| headers.iter().position(|h| h == c).ok_or_else(|| err(format!("no `{c}` column")));
    let [id, open, closed, reason, title, kind, location, lat, lon] = [
        "CASE_ENQUIRY_ID",
        "OPEN_DT",
        "CLOSED_DT",
        "CLOSURE_REASON",
        "CASE_TITLE",
        "TYPE",
        "Location",
        "LATITUDE",
        "LONGITUDE",
    ]
    .map(col);
    let (id, open, closed, reason, title, kind, location, lat, lon) =
        (id?, open?, closed?, reason?, title?, kind?, location?, lat?, lon?);
    let mut cases = Vec::new();
    let (mut closure_code_duplicates, mut not_geocoded) = (0, 0);
    for (i, row) in rdr.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| err(format!("line {line}: {e}")))?;
        let field = |c: usize| row.get(c).unwrap_or("").trim();
        let bad = |what: &str, m: String| err(format!("line {line}: {what}: {m}"));
        let opened = parse_time(field(open)).map_err(|m| bad("OPEN_DT", m))?;
        let closed = match field(closed) {
            "" => None,
            s => Some(parse_time(s).map_err(|m| bad("CLOSED_DT", m))?),
        };
        let why = field(reason).to_lowercase();
        closure_code_duplicates += usize::from(why.contains("duplicate of existing case"));
        let point = if field(lat) == CITY_CENTRE_LAT {
            not_geocoded += 1;
            None
        } else {
            let num =
                |c: usize, what: &str| field(c).parse::<f64>().map_err(|e| bad(what, format!("'{}': {e}", field(c))));
            match (field(lat), field(lon)) {
                ("", _) | (_, "") => None,
                _ => Some(Point { lat: num(lat, "LATITUDE")?, lon: num(lon, "LONGITUDE")? }),
            }
        };
        let text = format!("{} {}", field(title), field(location));
        cases.push(Case {
            id: field(id).to_string(),
            opened,
            closed,
            kind: field(kind).to_string(),
            incident: Incident::new(&text, field(kind), None, point, opened),
            duplicate: why.contains("duplicate"),
        });
    }
    cases.sort_by(|a, b| a.opened.cmp(&b.opened).then_with(|| a.id.cmp(&b.id)));
    Ok(Dataset { cases, closure_code_duplicates, not_geocoded })
}

/// How far back and how far away candidates are looked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Metres (when both cases have a point).
    pub max_m: f64,
    /// Hours since the candidate was opened.
    pub max_hours: f64,
}

impl Default for Window {
    fn default() -> Self {
        Window { max_m: 1_000.0, max_hours: 30.0 * 24.0 }
    }
}

/// The replay's result: for each case (in [`Dataset::cases`] order), the figures of the
/// candidates that can be best under some weights (the Pareto front: no other candidate is as
/// similar, as near and as recent), and the scoring throughput.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Per case, the undominated candidates' figures.
    pub fronts: Vec<Vec<Reasons>>,
    /// Cases that had at least one candidate.
    pub with_candidates: usize,
    /// Candidate pairs scored.
    pub pairs: u64,
    /// Time spent scoring them ([`Scorer::rank`]).
    pub scoring: Duration,
}

impl Replay {
    /// Candidate pairs scored per second.
    pub fn pairs_per_second(&self) -> f64 {
        self.pairs as f64 / self.scoring.as_secs_f64().max(1e-9)
    }
}

/// Replays the cases in order (see the module docs), scoring every candidate with `scorer`.
pub fn replay(data: &Dataset, window: Window, scorer: &Scorer) -> Replay {
    let mut open_by_type: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut fronts = Vec::with_capacity(data.cases.len());
    let (mut pairs, mut scoring, mut with_candidates) = (0u64, Duration::ZERO, 0);
    let max_ms = (window.max_hours * 3_600_000.0) as i64;
    for (i, case) in data.cases.iter().enumerate() {
        let t = case.opened;
        let open = open_by_type.entry(case.kind.as_str()).or_default();
        // Time only moves forward: a case closed or too old now stays so for every later case.
        open.retain(|&j| {
            let c = &data.cases[j];
            c.closed.is_none_or(|closed| closed > t) && (t - c.opened).num_milliseconds() <= max_ms
        });
        let here = case.incident.point;
        let within = |j: &usize| match (here, data.cases[*j].incident.point) {
            // A cheap box first (1° of latitude ≥ 111 km; longitude degrees are shorter in Boston).
            (Some(a), Some(b)) => {
                (a.lat - b.lat).abs() * 111_000.0 <= window.max_m && (a.lon - b.lon).abs() * 80_000.0 <= window.max_m
            }
            _ => true,
        };
        let started = Instant::now();
        let ranked =
            scorer.rank(&case.incident, open.iter().filter(|j| within(j)).map(|&j| (j, &data.cases[j].incident)));
        scoring += started.elapsed();
        pairs += ranked.len() as u64;
        let mut front: Vec<Reasons> = Vec::new();
        let mut near: Vec<Reasons> =
            ranked.into_iter().map(|c| c.reasons).filter(|r| r.distance_m.is_none_or(|d| d <= window.max_m)).collect();
        near.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        for r in near {
            if !front.iter().any(|f| dominates(f, &r)) {
                front.push(r);
            }
        }
        with_candidates += usize::from(!front.is_empty());
        fronts.push(front);
        open.push(i);
    }
    Replay { fronts, with_candidates, pairs, scoring }
}

/// `a` is at least as similar, as near and as recent as `b` (front built in order of similarity).
fn dominates(a: &Reasons, b: &Reasons) -> bool {
    let da = a.distance_m.unwrap_or(f64::INFINITY);
    let db = b.distance_m.unwrap_or(f64::INFINITY);
    a.similarity >= b.similarity && da <= db && a.hours_apart <= b.hours_apart
}

/// Which cases count: those opened in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    /// First instant.
    pub from: DateTime<Utc>,
    /// Instant after the last.
    pub to: DateTime<Utc>,
    /// Name for reports.
    pub name: &'static str,
}

impl Period {
    /// 2015 in Boston, and its first and second halves (split at 1 July, local time).
    pub fn year_2015() -> [Period; 3] {
        let local = |y, m| New_York.with_ymd_and_hms(y, m, 1, 0, 0, 0).unwrap().with_timezone(&Utc);
        [
            Period { from: local(2015, 1), to: local(2015, 7), name: "first half (Jan–Jun)" },
            Period { from: local(2015, 7), to: local(2016, 1), name: "second half (Jul–Dec)" },
            Period { from: local(2015, 1), to: local(2016, 1), name: "whole year" },
        ]
    }
}

/// Precision and recall of flagging duplicates in a period.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Figures {
    /// Threshold used.
    pub threshold: f64,
    /// Cases of the types with duplicates, opened in the period.
    pub cases: usize,
    /// Of which true duplicates.
    pub duplicates: usize,
    /// Cases flagged.
    pub flagged: usize,
    /// Duplicates flagged.
    pub true_positives: usize,
    /// true_positives / flagged (0 when nothing is flagged).
    pub precision: f64,
    /// true_positives / duplicates.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

impl Figures {
    fn new(threshold: f64, cases: usize, duplicates: usize, flagged: usize, true_positives: usize) -> Figures {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(true_positives, flagged), ratio(true_positives, duplicates));
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        Figures { threshold, cases, duplicates, flagged, true_positives, precision, recall, f1 }
    }
}

/// Each counted case's best confidence under `scorer` (0 without candidates) and its truth.
fn best_scores(data: &Dataset, replay: &Replay, scorer: &Scorer, period: &Period) -> Vec<(f64, bool)> {
    let dup_types: std::collections::HashSet<&str> =
        data.cases.iter().filter(|c| c.duplicate).map(|c| c.kind.as_str()).collect();
    data.cases
        .iter()
        .zip(&replay.fronts)
        .filter(|(c, _)| c.opened >= period.from && c.opened < period.to && dup_types.contains(c.kind.as_str()))
        .map(|(c, front)| (front.iter().map(|r| scorer.confidence(r)).fold(0.0, f64::max), c.duplicate))
        .collect()
}

/// The figures in `period` for each of `thresholds`, weights from `scorer`.
pub fn figures(data: &Dataset, replay: &Replay, scorer: &Scorer, period: &Period, thresholds: &[f64]) -> Vec<Figures> {
    let scores = best_scores(data, replay, scorer, period);
    let duplicates = scores.iter().filter(|s| s.1).count();
    thresholds
        .iter()
        .map(|&t| {
            let flagged = scores.iter().filter(|s| s.0 >= t && s.0 > 0.0).count();
            let tp = scores.iter().filter(|s| s.0 >= t && s.0 > 0.0 && s.1).count();
            Figures::new(t, scores.len(), duplicates, flagged, tp)
        })
        .collect()
}

/// Thresholds tried by [`tune`]: 0.30, 0.35, …, 0.95.
pub fn threshold_grid() -> Vec<f64> {
    (6..=19).map(|i| f64::from(i) * 0.05).collect()
}

/// The threshold of [`threshold_grid`] with the best F1 in `period` for `scorer`'s weights.
fn best_threshold(data: &Dataset, replay: &Replay, scorer: &Scorer, period: &Period) -> Figures {
    figures(data, replay, scorer, period, &threshold_grid())
        .into_iter()
        .fold(None, |best: Option<Figures>, f| if best.is_none_or(|b| f.f1 > b.f1) { Some(f) } else { best })
        .expect("the grid is not empty")
}

/// Searches text/distance/time weights (steps of 0.1), scales D and H and the threshold (steps of
/// 0.05) for the best F1 in `period`. The category factors are left as they are.
pub fn tune(data: &Dataset, replay: &Replay, period: &Period) -> (Weights, Figures) {
    let mut best: Option<(Weights, Figures)> = None;
    for distance_scale_m in [15.0, 30.0, 50.0, 100.0, 200.0] {
        for time_scale_h in [6.0, 24.0, 72.0, 168.0, 720.0] {
            for text in 0..=10 {
                for distance in 0..=(10 - text) {
                    let weights = Weights {
                        text: f64::from(text) / 10.0,
                        distance: f64::from(distance) / 10.0,
                        time: f64::from(10 - text - distance) / 10.0,
                        distance_scale_m,
                        time_scale_h,
                        ..Weights::default()
                    };
                    let f = best_threshold(data, replay, &Scorer::new(weights), period);
                    if best.as_ref().is_none_or(|(_, b)| f.f1 > b.f1) {
                        best = Some((Weights { threshold: f.threshold, ..weights }, f));
                    }
                }
            }
        }
    }
    best.expect("the grid is not empty")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boston_times_are_read_in_local_time() {
        let t = parse_time("01/01/2015 12:20:09 AM").unwrap();
        assert_eq!(t.to_rfc3339(), "2015-01-01T05:20:09+00:00");
        let t = parse_time("07/04/2015 01:05:00 PM").unwrap();
        assert_eq!(t.to_rfc3339(), "2015-07-04T17:05:00+00:00");
        // 2:30 on 8 March 2015 did not exist in Boston.
        assert_eq!(parse_time("03/08/2015 02:30:00 AM").unwrap().to_rfc3339(), "2015-03-08T07:30:00+00:00");
        assert!(parse_time("2015-01-01 00:00").unwrap_err().contains("MM/DD/YYYY"));
    }

    const HEADER: &str =
        "CASE_ENQUIRY_ID,OPEN_DT,CLOSED_DT,CLOSURE_REASON,CASE_TITLE,TYPE,Location,LATITUDE,LONGITUDE\n";

    #[test]
    fn a_small_file_replays_to_exact_figures() {
        let csv = format!(
            "{HEADER}\
             1,01/05/2015 08:00:00 AM,01/09/2015 08:00:00 AM,Case Closed Case Resolved,Sign Repair,Sign Repair,33 Beacon St Boston MA,42.3574,-71.0648\n\
             2,01/05/2015 10:00:00 AM,01/05/2015 11:00:00 AM,Case Closed Duplicate of Existing Case,Sign Repair,Sign Repair,33 Beacon St Boston MA,42.3574,-71.0648\n\
             3,01/06/2015 10:00:00 AM,,,Sign Repair,Sign Repair,2 Main St Charlestown MA,42.3800,-71.0600\n\
             4,01/10/2015 10:00:00 AM,,Case Closed Case Noted duplicate of 1,Sign Repair,Sign Repair,33 Beacon St Boston MA,42.3574,-71.0648\n\
             5,01/06/2015 11:00:00 AM,,,Pothole,Pothole,33 Beacon St Boston MA,42.3594,-71.0587\n"
        );
        let data = read(csv.as_bytes(), "test").unwrap();
        assert_eq!(
            (data.cases.len(), data.duplicates(), data.closure_code_duplicates, data.not_geocoded),
            (5, 2, 1, 1)
        );
        let scorer = Scorer::default();
        let replay = replay(&data, Window::default(), &scorer);
        // Case 2 has case 1 (same address, 2 h); case 3 is 2.5 km from both (outside the window);
        // case 4 comes after case 1 closed: no candidate but case 3, which is far. Case 5 is alone.
        let counts: Vec<usize> = replay.fronts.iter().map(Vec::len).collect();
        assert_eq!(counts, vec![0, 1, 0, 0, 0]);
        let [_, _, year] = Period::year_2015();
        let f = figures(&data, &replay, &scorer, &year, &[scorer.weights.threshold])[0];
        // Pothole has no duplicate: only the four Sign Repair cases count.
        assert_eq!((f.cases, f.duplicates, f.flagged, f.true_positives), (4, 2, 1, 1));
        assert_eq!((f.precision, f.recall), (1.0, 0.5));
    }

    #[test]
    fn a_bad_date_names_the_line_and_column() {
        let csv = format!("{HEADER}1,2015-01-05,,,,Sign Repair,x,42.3,-71.0\n");
        let e = read(csv.as_bytes(), "x.csv").unwrap_err().to_string();
        assert!(e.contains("x.csv") && e.contains("line 2") && e.contains("OPEN_DT"), "{e}");
        let e = read("A,B\n1,2\n".as_bytes(), "y.csv").unwrap_err().to_string();
        assert!(e.contains("no `CASE_ENQUIRY_ID` column"), "{e}");
    }
}
