//! What smart intake suggested for a new case and what the person filing it did with each
//! suggestion. Recorded on the 受理 event, so every override is kept (overrides are training data)
//! and every filled-in field can be traced to its source.

use serde::{Deserialize, Serialize};

/// What became of a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The field was empty and took the suggestion.
    Filled,
    /// The filer gave the same value.
    Confirmed,
    /// The filer gave another value (see `chosen`).
    Overridden,
    /// Shown only: the suggestion was not confident enough to fill the field (see `reason`).
    Shown,
}

/// One suggestion for one field of a new case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The field: `category`, `street`, `community`, `grid` or `point`.
    pub field: String,
    /// The suggested value (a code, or `lon,lat` for a point); empty when nothing could be
    /// suggested (e.g. a message without usable text).
    pub value: String,
    /// Confidence, 0–1.
    pub confidence: f64,
    /// What it rests on, e.g. `gazetteer: 王府井大街 (road)` or `classifier v2: 城乡建设`.
    pub source: String,
    /// What the filer did with it.
    pub outcome: Outcome,
    /// The value the filer chose instead, when overridden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen: Option<String>,
    /// Why the suggestion was not taken or what it led to, e.g. why a case went to the
    /// dispatcher's manual queue (Chinese, for the dispatcher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Suggestion {
    /// Compares a suggestion with what the filer gave: fills an empty field (when `fill` allows),
    /// confirms an equal value, or records the override. Returns the suggestion with its outcome
    /// and the value the field should hold.
    pub fn settle(
        field: &str,
        value: String,
        confidence: f64,
        source: String,
        given: Option<&str>,
        fill: bool,
    ) -> (Suggestion, Option<String>) {
        let (outcome, chosen, result) = match given {
            Some(g) if g == value => (Outcome::Confirmed, None, Some(value.clone())),
            Some(g) => (Outcome::Overridden, Some(g.to_string()), Some(g.to_string())),
            None if fill => (Outcome::Filled, None, Some(value.clone())),
            None => (Outcome::Shown, None, None),
        };
        let s = Suggestion { field: field.to_string(), value, confidence, source, outcome, chosen, reason: None };
        (s, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settle_fills_confirms_overrides_or_shows() {
        let s = |given, fill| Suggestion::settle("street", "110101001".into(), 0.9, "t".into(), given, fill);
        let (a, v) = s(None, true);
        assert_eq!((a.outcome, v.as_deref()), (Outcome::Filled, Some("110101001")));
        let (a, v) = s(Some("110101001"), true);
        assert_eq!((a.outcome, v.as_deref()), (Outcome::Confirmed, Some("110101001")));
        let (a, v) = s(Some("110101002"), true);
        assert_eq!(
            (a.outcome, a.chosen.as_deref(), v.as_deref()),
            (Outcome::Overridden, Some("110101002"), Some("110101002"))
        );
        let (a, v) = s(None, false);
        assert_eq!((a.outcome, v), (Outcome::Shown, None));
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["outcome"], "shown");
        assert!(json.get("chosen").is_none() && json.get("reason").is_none());
        // Events stored before `reason` existed still read.
        let old: Suggestion =
            serde_json::from_str(r#"{"field":"street","value":"1","confidence":0.5,"source":"t","outcome":"filled"}"#)
                .unwrap();
        assert_eq!(old.reason, None);
    }
}
