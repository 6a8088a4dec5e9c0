//! Integrity check: every case's stored state equals the replay of its events, and its events
//! are the ones written (their hash chain verifies).

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
}

impl CheckReport {
    /// True when nothing differs.
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty()
    }
}

const BATCH: i64 = 2_000;

impl Desk {
    /// Replays every case's events and compares the result with the stored state and the
    /// cached columns.
    pub async fn check(&self) -> Result<CheckReport, CoreError> {
        let mut report = CheckReport::default();
        let Some(max) = self.store().max_case_id().await? else { return Ok(report) };
        let mut first = 1;
        while first <= max {
            let last = first + BATCH - 1;
            let cases = self.store().cases_between(first, last).await?;
            let columns = self.store().cached_columns_between(first, last).await?;
            let events = self.store().events_of(first, last).await?;
            let mut ev = events.iter().peekable();
            for (rec, cols) in cases.iter().zip(&columns) {
                report.cases += 1;
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
                match workflow::replay(mine.iter().copied()) {
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
        Ok(report)
    }
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
