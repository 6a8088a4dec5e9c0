//! Integrity check: every case's stored state equals the replay of its events, and its events
//! are the ones written (their hash chain verifies); no cases are merged into each other round a
//! loop; no Open311 request is half-written.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use jiesu_domain::assessment::{self, Period, Tally};

use jiesu_domain::model::Status;
use jiesu_domain::workflow::{self, CaseState};

use crate::{CoreError, Desk};

/// What `check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Cases checked.
    pub cases: u64,
    /// Events replayed.
    pub events: u64,
    /// Cases whose stored state differs from the replay, with what differs.
    pub mismatches: Vec<(i64, String)>,
    /// Cases merged into each other round a loop (the request is lost: no action recovers a
    /// merged case), each loop once, from its smallest id, in merge order.
    pub merge_cycles: Vec<Vec<i64>>,
    /// Half-written Open311 requests, described: an Open311 row without its case, a case filed
    /// through the Open311 endpoint without its row, a media file attached to nothing.
    pub open311_orphans: Vec<String>,
    /// Assessment tallies that differ from the ones rebuilt from the replay of every case,
    /// described (month, unit, stored and replayed counts).
    pub tallies: Vec<String>,
    /// Places whose colour log does not lead to their stored colour (三色预警, issue 13), or log
    /// entries of places that have no colour, described.
    pub colours: Vec<String>,
}

impl CheckReport {
    /// True when nothing differs.
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty()
            && self.merge_cycles.is_empty()
            && self.open311_orphans.is_empty()
            && self.tallies.is_empty()
            && self.colours.is_empty()
    }
}

const BATCH: i64 = 2_000;

/// Tallies rebuilt from the replay, by (month, unit), with the latest reply or close counted.
type Rebuilt = BTreeMap<(Period, String), (Tally, Option<DateTime<Utc>>)>;

impl Desk {
    /// Checks every place's colour log against its stored colour (`jiesu_domain::alarm::check_log`).
    pub async fn check_colours(&self) -> Result<Vec<String>, CoreError> {
        let (places, orphans) = self.store().colour_logs().await?;
        let mut out = Vec::new();
        for (p, log) in places {
            if let Err(why) = jiesu_domain::alarm::check_log(&log, p.colour) {
                out.push(format!("colour of {}: {why}", p.place));
            } else if i64::try_from(log.len()).ok() != Some(p.seq) {
                out.push(format!("colour of {}: {} log entries, the place counts {}", p.place, log.len(), p.seq));
            }
        }
        out.extend(orphans.into_iter().map(|p| format!("colour log of {p}: no such place")));
        Ok(out)
    }

    /// Replays every case's events and compares the result with the stored state and the
    /// cached columns.
    pub async fn check(&self) -> Result<CheckReport, CoreError> {
        let mut report = CheckReport {
            open311_orphans: self.store().open311_orphans().await?,
            colours: self.check_colours().await?,
            ..CheckReport::default()
        };
        let Some(max) = self.store().max_case_id().await? else { return Ok(report) };
        let mut merged = HashMap::new();
        let mut tallies = Rebuilt::new();
        let mut first = 1;
        while first <= max {
            let last = first + BATCH - 1;
            let cases = self.store().cases_between(first, last).await?;
            let columns = self.store().cached_columns_between(first, last).await?;
            let events = self.store().events_of(first, last).await?;
            let mut ev = events.iter().peekable();
            for (rec, cols) in cases.iter().zip(&columns) {
                report.cases += 1;
                if let (Status::Merged, Some(into)) = (rec.state.status, rec.state.merged_into) {
                    merged.insert(rec.id, into);
                }
                let mut mine = Vec::new();
                while let Some((id, e)) = ev.peek() {
                    if *id < rec.id {
                        ev.next();
                        continue;
                    }
                    if *id > rec.id {
                        break;
                    }
                    mine.push(e);
                    ev.next();
                }
                report.events += mine.len() as u64;
                let replay = workflow::replay(mine.iter().copied());
                // The tallies are rebuilt from the replay (the stored state if it does not replay).
                let counted = replay.as_ref().unwrap_or(&rec.state);
                if let Some((period, unit, t)) = self.store().tally_entry(counted) {
                    let (sum, latest) = tallies.entry((period, unit)).or_default();
                    *sum = sum.plus(t);
                    *latest = (*latest).max(assessment::latest(counted));
                }
                match replay {
                    Err(e) => report.mismatches.push((rec.id, e.to_string())),
                    Ok(replayed) if replayed != rec.state => {
                        let fields = differing_fields(&rec.state, &replayed).join(", ");
                        report
                            .mismatches
                            .push((rec.id, format!("stored state differs from the replay of its events in: {fields}")));
                    }
                    Ok(replayed) if !cols.agree_with(&replayed, &mine) => {
                        report.mismatches.push((
                            rec.id,
                            "cached columns (status, assignee, due, seq, owner, category, summoned units) differ from replay".into(),
                        ));
                    }
                    Ok(_) => {}
                }
            }
            // The tamper-evident record: each case's events chained under the data key.
            report.mismatches.extend(self.store().chain_faults_between(first, last).await?);
            first = last + 1;
        }
        report.merge_cycles = merge_cycles(&merged);
        report.tallies = self.compare_tallies(tallies).await?;
        Ok(report)
    }

    /// The differences between the stored assessment tallies and `rebuilt` (from the replay).
    async fn compare_tallies(&self, mut rebuilt: Rebuilt) -> Result<Vec<String>, CoreError> {
        let mut out = Vec::new();
        for row in self.store().all_tallies().await? {
            let (expected, expected_latest) = rebuilt.remove(&(row.period, row.unit.clone())).unwrap_or_default();
            if row.tally != expected {
                out.push(format!(
                    "assessment tally {} {}: stored {:?}, replayed {:?}",
                    row.period, row.unit, row.tally, expected
                ));
            } else if expected_latest > row.latest {
                // An instant counted after the one stored would let the desk trust the tally
                // for a time before that reply or close.
                out.push(format!(
                    "assessment tally {} {}: latest {:?} is before a reply or close counted ({:?})",
                    row.period, row.unit, row.latest, expected_latest
                ));
            }
        }
        for ((period, unit), (t, _)) in rebuilt {
            if !t.is_zero() {
                out.push(format!("assessment tally {period} {unit}: missing, replayed {t:?}"));
            }
        }
        Ok(out)
    }
}

/// The loops of the merge graph (case → its master), each once, starting from its smallest id.
/// Each case has at most one master, so a walk from any case either ends at an unmerged case
/// or enters exactly one loop.
fn merge_cycles(into: &HashMap<i64, i64>) -> Vec<Vec<i64>> {
    // 1: on the current walk, 2: finished.
    let mut seen: HashMap<i64, u8> = HashMap::with_capacity(into.len());
    let mut cycles = Vec::new();
    let mut starts: Vec<i64> = into.keys().copied().collect();
    starts.sort_unstable();
    for start in starts {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(id) = at {
            match seen.get(&id) {
                Some(2) => break,
                Some(_) => {
                    let from = path.iter().position(|&p| p == id).expect("on the current walk");
                    let mut cycle: Vec<i64> = path[from..].to_vec();
                    let min = cycle.iter().enumerate().min_by_key(|(_, c)| **c).map_or(0, |(i, _)| i);
                    cycle.rotate_left(min);
                    cycles.push(cycle);
                    break;
                }
                None => {
                    seen.insert(id, 1);
                    path.push(id);
                    at = into.get(&id).copied();
                }
            }
        }
        for p in path {
            seen.insert(p, 2);
        }
    }
    cycles
}

/// Names of the state fields that differ.
fn differing_fields(stored: &CaseState, replayed: &CaseState) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(stored), serde_json::to_value(replayed))
    else {
        return vec!["(unreadable)".into()];
    };
    a.iter().filter(|(k, v)| b.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_cycles_are_found_once_and_chains_are_not_cycles() {
        let graph: HashMap<i64, i64> =
            [(1, 2), (2, 3), (5, 6), (6, 5), (7, 7), (9, 8), (10, 11), (11, 12), (12, 10), (4, 5)]
                .into_iter()
                .collect();
        let mut cycles = merge_cycles(&graph);
        cycles.sort();
        assert_eq!(cycles, vec![vec![5, 6], vec![7], vec![10, 11, 12]]);
        let chain: HashMap<i64, i64> = [(1, 2), (2, 3), (4, 3)].into_iter().collect();
        assert!(merge_cycles(&chain).is_empty());
    }
}
