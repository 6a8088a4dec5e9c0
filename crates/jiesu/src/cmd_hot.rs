//! `jiesu hot --data FILE --top K [--out CLUSTERS.csv]`: 热点 hot issues in a message file.
//!
//! Prints the K hottest issues (rank, heat, time range, place, description: the place and the
//! representative subject) and, with `--out`, writes every message of every cluster of two or
//! more as `issue,message_id` (issue = rank, 1 the hottest). The grouping and the heat index are
//! `jiesu_intake::hot`'s.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use chrono_tz::Asia::Shanghai;
use jiesu_intake::hot::{self, HotIssue, Message, Options, Stage};

/// Arguments of `jiesu hot`.
#[derive(Debug, clap::Args)]
pub struct HotArgs {
    /// Message file (CSV with id, time, detail or text; subject, user, likes, dislikes if present),
    /// e.g. ../shared/data/teddy2020c/hot_messages.csv.
    #[arg(long)]
    pub data: PathBuf,
    /// How many issues to print.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Write every message of every cluster of two or more here as `issue,message_id`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Score the clusters against labelled messages (`message_id,topic_label`, e.g.
    /// data/hot_labels.csv): purity and pairwise precision and recall.
    #[arg(long)]
    pub labels: Option<PathBuf>,
}

/// Shows stages on stderr when it is a terminal and the work has taken more than a second.
struct Progress {
    started: Instant,
    tty: bool,
    shown: bool,
}

impl Progress {
    fn new() -> Progress {
        Progress { started: Instant::now(), tty: std::io::stderr().is_terminal(), shown: false }
    }

    fn update(&mut self, stage: Stage, done: usize, total: usize) {
        if !self.tty || self.started.elapsed().as_secs_f64() < 1.0 {
            return;
        }
        let what = match stage {
            Stage::Profiles => "reading places and profiles",
            Stage::Pairs => "checking candidate pairs",
            Stage::Clusters => "joining clusters",
        };
        eprint!("\r{what}: {done}/{total}\x1b[K");
        let _ = std::io::stderr().flush();
        self.shown = true;
    }

    fn finish(&self) {
        if self.shown {
            eprint!("\r\x1b[K");
        }
    }
}

fn chars(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// The one-line description of an issue: its place and its representative subject (or the start
/// of its text when it has no subject).
pub fn describe(issue: &HotIssue, messages: &[Message]) -> String {
    let rep = &messages[issue.representative];
    let subject =
        if rep.subject.trim().is_empty() { chars(rep.text.trim(), 40) } else { chars(rep.subject.trim(), 60) };
    match &issue.place {
        Some(p) => format!("{p} · {subject}"),
        None => subject,
    }
}

/// Writes `issue,message_id` for every member of every issue.
fn write_clusters(path: &Path, issues: &[HotIssue], messages: &[Message]) -> anyhow::Result<()> {
    let mut w =
        std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?);
    writeln!(w, "issue,message_id")?;
    for issue in issues {
        for &i in &issue.members {
            writeln!(w, "{},{}", issue.rank, messages[i].id)?;
        }
    }
    w.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Runs `jiesu hot`.
pub fn run(args: &HotArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let messages = hot::file::load(&args.data)?;
    let mut progress = Progress::new();
    let issues = hot::hot_issues_with_progress(&messages, &Options::default(), |s, d, t| progress.update(s, d, t));
    progress.finish();
    let elapsed = started.elapsed().as_secs_f64();
    let clustered: usize = issues.iter().map(|i| i.members.len()).sum();
    println!(
        "{} messages: {} issues of 2 or more messages ({} messages) in {:.2} s",
        messages.len(),
        issues.len(),
        clustered,
        elapsed
    );
    println!("rank  heat    msgs users likes  from        to          place · description");
    for issue in issues.iter().take(args.top) {
        let day = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&Shanghai).format("%Y-%m-%d").to_string();
        println!(
            "{:<5} {:<7.1} {:<4} {:<5} {:<6} {}  {}  {}",
            issue.rank,
            issue.heat.value,
            issue.heat.messages,
            issue.heat.users,
            issue.heat.likes,
            day(issue.first),
            day(issue.last),
            describe(issue, &messages)
        );
    }
    if let Some(path) = &args.labels {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let labels = hot::eval::read_labels(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let s = hot::eval::score(&issues, &messages, &labels);
        println!("labelled: {} messages ({} in clusters)", s.labelled, s.clustered);
        for (name, f) in [("topic (place/problem)", s.fine), ("place (estate, company, policy)", s.coarse)] {
            println!("{name}: purity {:.3}, pairwise precision {:.3}, recall {:.3}", f.purity, f.precision, f.recall);
        }
        let one = s.per_issue.iter().filter(|p| p.0 <= args.top && p.3 >= 0.8).count();
        let seen = s.per_issue.iter().filter(|p| p.0 <= args.top).count();
        println!(
            "top {}: {one} of {seen} labelled issues are one place (>= 80 % of their labelled messages)",
            args.top
        );
    }
    if let Some(out) = &args.out {
        write_clusters(out, &issues, &messages)?;
        println!("clusters: {} rows written to {}", clustered, out.display());
    }
    Ok(())
}
