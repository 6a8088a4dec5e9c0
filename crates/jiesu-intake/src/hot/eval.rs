//! Scores of a clustering against labelled messages (`message_id,topic_label`, labels written
//! `place/problem`, e.g. `丽发新城/搅拌站污染`).
//!
//! Only labelled messages count. Messages left out of every cluster are singletons.
//! * **purity**: over the labelled messages in clusters of two or more, the share that carry their
//!   cluster's most common label;
//! * **pairwise precision**: of the pairs of labelled messages put in one cluster, the share with
//!   the same label; **recall**: of the pairs with the same label, the share put in one cluster.
//!
//! Each is given for the full label (fine: one problem at one place) and for its place part
//! (coarse: one estate, company or policy, as the hot-issue task asks).

use std::collections::HashMap;

use super::{HotIssue, Message};

/// Purity and pairwise figures at one level of labels.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figures {
    /// Purity in [0, 1].
    pub purity: f64,
    /// Pairwise precision in [0, 1].
    pub precision: f64,
    /// Pairwise recall in [0, 1].
    pub recall: f64,
}

/// The scores of a clustering.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scores {
    /// Labelled messages found in the input.
    pub labelled: usize,
    /// Of these, in clusters of two or more.
    pub clustered: usize,
    /// Full labels (place/problem).
    pub fine: Figures,
    /// Place part of the labels.
    pub coarse: Figures,
    /// Per issue rank: (labelled members, share of the most common full label, share of the most
    /// common place), for issues with labelled members.
    pub per_issue: Vec<(usize, usize, f64, f64)>,
}

/// The place part of a label (before the first `/`).
pub fn place_of(label: &str) -> &str {
    label.split('/').next().unwrap_or(label)
}

fn figures(assigned: &[(usize, &str)]) -> Figures {
    // assigned: (cluster, label) of each labelled message; cluster usize::MAX + index = singleton.
    let mut by_cluster: HashMap<usize, HashMap<&str, usize>> = HashMap::new();
    let mut by_label: HashMap<&str, usize> = HashMap::new();
    let mut by_both: HashMap<(usize, &str), usize> = HashMap::new();
    for &(c, l) in assigned {
        *by_cluster.entry(c).or_default().entry(l).or_default() += 1;
        *by_label.entry(l).or_default() += 1;
        *by_both.entry((c, l)).or_default() += 1;
    }
    let pairs = |n: usize| (n * n.saturating_sub(1) / 2) as f64;
    let same_cluster: f64 = by_cluster.values().map(|m| pairs(m.values().sum())).sum();
    let same_label: f64 = by_label.values().map(|&n| pairs(n)).sum();
    let both: f64 = by_both.values().map(|&n| pairs(n)).sum();
    let (mut top, mut total) = (0, 0);
    for m in by_cluster.values() {
        let n: usize = m.values().sum();
        if n >= 1 {
            top += m.values().max().copied().unwrap_or(0);
            total += n;
        }
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 1.0 };
    Figures {
        purity: ratio(top as f64, total as f64),
        precision: ratio(both, same_cluster),
        recall: ratio(both, same_label),
    }
}

/// Scores `issues` (over `messages`) against `labels` (message id → label).
pub fn score(issues: &[HotIssue], messages: &[Message], labels: &HashMap<String, String>) -> Scores {
    let mut cluster_of: HashMap<&str, usize> = HashMap::new();
    for issue in issues {
        for &i in &issue.members {
            cluster_of.insert(messages[i].id.as_str(), issue.rank);
        }
    }
    let mut fine: Vec<(usize, &str)> = Vec::new();
    let mut coarse: Vec<(usize, &str)> = Vec::new();
    let mut clustered_fine: Vec<(usize, &str)> = Vec::new();
    let mut clustered_coarse: Vec<(usize, &str)> = Vec::new();
    for (k, m) in messages.iter().enumerate() {
        let Some(label) = labels.get(&m.id) else { continue };
        match cluster_of.get(m.id.as_str()) {
            Some(&c) => {
                fine.push((c, label));
                coarse.push((c, place_of(label)));
                clustered_fine.push((c, label));
                clustered_coarse.push((c, place_of(label)));
            }
            None => {
                fine.push((usize::MAX - k, label));
                coarse.push((usize::MAX - k, place_of(label)));
            }
        }
    }
    let pr = |all: &[(usize, &str)], clustered: &[(usize, &str)]| {
        let f = figures(all);
        Figures { purity: figures(clustered).purity, ..f }
    };
    let mut per_issue = Vec::new();
    for issue in issues {
        let ls: Vec<&String> = issue.members.iter().filter_map(|&i| labels.get(&messages[i].id)).collect();
        if ls.is_empty() {
            continue;
        }
        let share = |key: &dyn Fn(&String) -> &str| {
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for l in &ls {
                *counts.entry(key(l)).or_default() += 1;
            }
            counts.values().max().copied().unwrap_or(0) as f64 / ls.len() as f64
        };
        per_issue.push((issue.rank, ls.len(), share(&|l| l.as_str()), share(&|l| place_of(l))));
    }
    Scores {
        labelled: fine.len(),
        clustered: clustered_fine.len(),
        fine: pr(&fine, &clustered_fine),
        coarse: pr(&coarse, &clustered_coarse),
        per_issue,
    }
}

/// Reads `message_id,topic_label` lines (a header first).
pub fn read_labels(text: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim_start_matches('\u{feff}').trim() == "message_id,topic_label" => {}
        other => return Err(format!("the header must be message_id,topic_label, found {:?}", other.map(|(_, h)| h))),
    }
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let Some((id, label)) = line.split_once(',') else {
            return Err(format!("line {}: expected message_id,topic_label, found {line:?}", n + 1));
        };
        if out.insert(id.trim().to_string(), label.trim().to_string()).is_some() {
            return Err(format!("line {}: message {id} labelled twice", n + 1));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::hot::Heat;

    fn m(id: &str) -> Message {
        Message {
            id: id.into(),
            at: Utc::now(),
            subject: String::new(),
            text: String::new(),
            user: String::new(),
            likes: 0,
            dislikes: 0,
            places: Vec::new(),
        }
    }

    #[test]
    fn purity_and_pairs_are_counted_over_labelled_messages() {
        let messages: Vec<Message> = ["1", "2", "3", "4", "5"].map(m).to_vec();
        let issue = |rank, members: Vec<usize>| HotIssue {
            rank,
            heat: Heat::of(2, 2, 0, 0, 0.0, 0.0),
            members,
            first: Utc::now(),
            last: Utc::now(),
            place: None,
            representative: 0,
        };
        // Cluster 1 = {1, 2, 3}; 4 and 5 alone.
        let issues = [issue(1, vec![0, 1, 2])];
        let labels =
            read_labels("message_id,topic_label\n1,甲/油烟\n2,甲/油烟\n3,甲/开裂\n4,甲/油烟\n5,乙/噪音\n").unwrap();
        let s = score(&issues, &messages, &labels);
        assert_eq!((s.labelled, s.clustered), (5, 3));
        assert!((s.fine.purity - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.coarse.purity - 1.0).abs() < 1e-12);
        // Fine: cluster pairs 3, of which 1 same label; same-label pairs: 油烟 3 → 3 pairs, 1 together.
        assert!((s.fine.precision - 1.0 / 3.0).abs() < 1e-12 && (s.fine.recall - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.per_issue.len(), 1);
        assert!(read_labels("id,label\n").is_err());
        assert!(read_labels("message_id,topic_label\n1,a\n1,b\n").unwrap_err().contains("twice"));
    }
}
