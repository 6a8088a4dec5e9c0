//! `jiesu hot` from outside: the contract's output on the real Teddy Cup file (../shared/data,
//! present in CI) and a clear error for a file without the needed columns.

use std::collections::{HashMap, HashSet};
use std::process::Command;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/teddy2020c/hot_messages.csv");

fn hot(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_jiesu")).arg("hot").args(args).env("RUST_LOG", "warn").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn hot_prints_the_top_issues_and_writes_every_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clusters.csv");
    let (code, stdout, stderr) = hot(&["--data", DATA, "--top", "5", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<&str> = stdout.lines().skip_while(|l| !l.starts_with("rank")).skip(1).take(5).collect();
    assert_eq!(rows.len(), 5, "{stdout}");
    for (k, row) in rows.iter().enumerate() {
        let f: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(f[0], (k + 1).to_string(), "{row}");
        assert!(f[1].parse::<f64>().unwrap() > 0.0, "{row}");
        assert!(f[5].len() == 10 && f[6].len() == 10 && f[5] <= f[6], "a time range: {row}");
        assert!(f.len() > 7, "a description: {row}");
    }
    assert!(rows[0].contains("伊景园滨河苑") || rows[0].contains("丽发新城"), "{stdout}");
    let written = std::fs::read_to_string(&out).unwrap();
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some("issue,message_id"));
    let mut per_issue: HashMap<usize, usize> = HashMap::new();
    let mut ids = HashSet::new();
    for line in lines {
        let (issue, id) = line.split_once(',').unwrap();
        *per_issue.entry(issue.parse().unwrap()).or_default() += 1;
        assert!(ids.insert(id.to_string()), "message {id} in two clusters");
    }
    assert!(per_issue.values().all(|&n| n >= 2), "clusters of two or more only");
    let ranks: Vec<usize> = (1..=per_issue.len()).collect();
    let mut found: Vec<usize> = per_issue.keys().copied().collect();
    found.sort_unstable();
    assert_eq!(found, ranks, "issues numbered 1, 2, … by rank");
    assert!(stdout.contains(&format!("clusters: {} rows written", ids.len())), "{stdout}");
}

#[test]
fn hot_names_the_columns_it_found_when_one_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "编号,内容\n1,路灯不亮\n").unwrap();
    let (code, _, stderr) = hot(&["--data", bad.to_str().unwrap(), "--top", "3"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no column id") && stderr.contains("编号, 内容"), "{stderr}");
    let (code, _, stderr) = hot(&["--data", dir.path().join("missing.csv").to_str().unwrap(), "--top", "3"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("missing.csv"), "{stderr}");
}
