//! 热点 hot issues: messages that speak of the same problem at the same place, grouped and ranked.
//!
//! Pure (no I/O, no clock): [`hot_issues`] takes plain [`Message`]s — the Teddy Cup message files
//! today, a month of store cases for the monthly report — and returns the clusters of two or more
//! messages, hottest first.
//!
//! # How messages are grouped
//!
//! 1. **Places.** Place and organisation names (estates, companies, schools, roads …) are read from
//!    the messages themselves ([`places`]): a name is a kind word (小区, 公司, 路 …) with the
//!    characters before it that the corpus confirms.
//! 2. **Profiles.** Each message's subject, and its subject with its text, become
//!    [`Fingerprint`]s (the duplicate finder's character n-grams), each gram weighted by its
//!    inverse document frequency over the messages given (投诉 or 小区 weigh little, 搅拌站 much):
//!    once as written (the problem at its place) and once with the message's place names blanked
//!    out (the problem alone).
//! 3. **Candidates.** MinHash/LSH over the gram sets of the text and of the subject ([`lsh`]), and
//!    every pair of messages that name the same place: a few thousand pairs instead of all n²/2.
//! 4. **Similarity check.** A pair's similarity is `w·cos(subjects) + (1 − w)·cos(texts)`
//!    ([`Options::subject_weight`]). Two messages are linked when
//!    * both subjects name the same estate, company or school (not a road or an area): the
//!      similarity as written reaches [`Options::subject_place_threshold`];
//!    * else they name a common place anywhere: the problem similarity reaches
//!      [`Options::place_threshold`];
//!    * else (at most one subject names a place): the problem similarity reaches
//!      [`Options::threshold`].
//!
//!    Two messages whose subjects name places, none of them named by the other message, are never
//!    linked. Linked messages are at most [`Options::window_days`] apart (a near-duplicate,
//!    problem similarity `≥` [`Options::near_duplicate`], naming a common place: up to
//!    [`Options::near_duplicate_window_days`], one petition sent again months later).
//! 5. **Union-find**, strongest links first. Two clusters are joined only if their places agree
//!    (as in 4, over all their members) and their average link — the mean similarity, places
//!    included, between their members — reaches [`Options::cohesion`], so that a chain of single
//!    strong links cannot walk from one topic to another.
//!
//! # Heat index
//!
//! For a cluster of `n` messages from `u` distinct users with `L` likes and `D` dislikes in total,
//! spanning `t` days from first to last message, with growth `g`:
//!
//! ```text
//! heat = (u + 0.25·(n − u)) × (1 + ln(1 + L + D/2) / 3) × (1 + 0.25·g) / (1 + t/365)
//! ```
//!
//! * people count, repetition a little: each distinct user counts 1, each further message by the
//!   same users ¼ (one resident re-posting is not a crowd);
//! * support counts logarithmically: likes, and dislikes at half weight (still attention), so a
//!   message liked 2,000 times lifts its cluster ×3.5 but not ×2,000;
//! * growth `g` ∈ [−1, 1] is the share of the cluster's messages in the last third of its span less
//!   the share in the first third: a rising issue is hotter than a fading one (±25 %);
//! * the span damps: the same number of voices within a month is hotter than over a year.
//!
//! Each issue is described by its place (the place its subjects name most, preferring the longer
//! name of nearly equal counts, when at least 40 % of them name it) and its representative subject
//! (the member most similar to the others).

pub mod data;
pub mod eval;
#[cfg(feature = "tools")]
pub mod file;
pub mod lsh;
pub mod places;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::dups::Fingerprint;
use lsh::Bands;
use places::{Named, PlaceFinder};

/// A message as the hot-issue finder needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The caller's id (a message id, a case id).
    pub id: String,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// Its subject or title (may be empty).
    pub subject: String,
    /// Its text.
    pub text: String,
    /// Who wrote it (any stable pseudonym; only compared).
    pub user: String,
    /// Likes (点赞), 0 where there are none.
    pub likes: u32,
    /// Dislikes (反对), 0 where there are none.
    pub dislikes: u32,
    /// Places the caller already knows the message is about (for a case: the gazetteer's match,
    /// its community); they count as named in the subject, beside those read from the text.
    pub places: Vec<String>,
}

/// Thresholds and windows of the grouping (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Similarity needed to link two messages when at most one names a place.
    pub threshold: f64,
    /// Similarity needed when the two name a common place.
    pub place_threshold: f64,
    /// Similarity, places included, needed when both subjects name a common place.
    pub subject_place_threshold: f64,
    /// Mean similarity (places included) needed between the members of two clusters to join them.
    pub cohesion: f64,
    /// Weight of the subjects' similarity (the texts' weight is the rest).
    pub subject_weight: f64,
    /// Longest time between two linked messages, days.
    pub window_days: f64,
    /// Similarity from which two messages naming a common place are the same petition again.
    pub near_duplicate: f64,
    /// Longest time between two such messages, days.
    pub near_duplicate_window_days: f64,
    /// Grams in more than this share of the messages are left out of the MinHash sets.
    pub common_gram_share: f64,
    /// MinHash banding.
    pub bands: Bands,
    /// Smallest cluster reported.
    pub min_size: usize,
}

impl Default for Options {
    /// Chosen by reading the clusters of the Teddy Cup 2020 C hot-message file (see README: the
    /// labelled sample and its purity).
    fn default() -> Self {
        Options {
            threshold: 0.30,
            place_threshold: 0.20,
            subject_place_threshold: 0.28,
            cohesion: 0.15,
            subject_weight: 0.6,
            window_days: 60.0,
            near_duplicate: 0.5,
            near_duplicate_window_days: 400.0,
            common_gram_share: 0.05,
            bands: Bands::default(),
            min_size: 2,
        }
    }
}

/// The figures behind a cluster's heat.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Heat {
    /// The heat index (see the module docs).
    pub value: f64,
    /// Messages.
    pub messages: usize,
    /// Distinct users.
    pub users: usize,
    /// Likes in total.
    pub likes: u64,
    /// Dislikes in total.
    pub dislikes: u64,
    /// Days from the first message to the last.
    pub span_days: f64,
    /// Share in the last third of the span less share in the first third, in [−1, 1].
    pub growth: f64,
}

impl Heat {
    /// The heat of messages with these figures.
    pub fn of(messages: usize, users: usize, likes: u64, dislikes: u64, span_days: f64, growth: f64) -> Heat {
        let volume = users as f64 + 0.25 * (messages.saturating_sub(users)) as f64;
        let support = 1.0 + (1.0 + likes as f64 + dislikes as f64 / 2.0).ln() / 3.0;
        let value = volume * support * (1.0 + 0.25 * growth) / (1.0 + span_days.max(0.0) / 365.0);
        Heat { value, messages, users, likes, dislikes, span_days, growth }
    }
}

/// A hot issue: a cluster of messages with its heat and description.
#[derive(Debug, Clone, PartialEq)]
pub struct HotIssue {
    /// 1 for the hottest.
    pub rank: usize,
    /// Its heat.
    pub heat: Heat,
    /// Indices of its messages in the input, in time order.
    pub members: Vec<usize>,
    /// The first message's time.
    pub first: DateTime<Utc>,
    /// The last message's time.
    pub last: DateTime<Utc>,
    /// The place its subjects name most, when enough of them do.
    pub place: Option<String>,
    /// Index of the representative message (most similar to the others).
    pub representative: usize,
}

/// Stages reported to the progress callback of [`hot_issues_with_progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading places and profiles.
    Profiles,
    /// Finding and checking candidate pairs.
    Pairs,
    /// Joining and ranking clusters.
    Clusters,
}

/// The hot issues among `messages`, hottest first (clusters of [`Options::min_size`] or more).
pub fn hot_issues(messages: &[Message], opts: &Options) -> Vec<HotIssue> {
    hot_issues_with_progress(messages, opts, |_, _, _| {})
}

/// [`hot_issues`], calling `progress(stage, done, total)` as it goes.
pub fn hot_issues_with_progress(
    messages: &[Message],
    opts: &Options,
    mut progress: impl FnMut(Stage, usize, usize),
) -> Vec<HotIssue> {
    let n = messages.len();
    let profiles = Profiles::new(messages, opts, &mut progress);
    let links = profiles.links(messages, opts, &mut progress);
    progress(Stage::Clusters, 0, 1);
    let mut clusters = UnionFind::new(&profiles.places);
    for link in &links {
        clusters.join(link.a as usize, link.b as usize, |x, y| profiles.cohesion(x, y) >= opts.cohesion);
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        groups.entry(clusters.find(i)).or_default().push(i);
    }
    let mut issues: Vec<HotIssue> = groups
        .into_values()
        .filter(|m| m.len() >= opts.min_size.max(2))
        .map(|mut members| {
            members.sort_by_key(|&i| (messages[i].at, i));
            profiles.issue(messages, members)
        })
        .collect();
    // Ties (equal heat and start) go by the first member's position, so ranks never depend on
    // hash order.
    issues.sort_by(|a, b| {
        b.heat.value.total_cmp(&a.heat.value).then(a.first.cmp(&b.first)).then(a.members[0].cmp(&b.members[0]))
    });
    for (k, issue) in issues.iter_mut().enumerate() {
        issue.rank = k + 1;
    }
    progress(Stage::Clusters, 1, 1);
    issues
}

/// A checked link between two messages.
#[derive(Debug, Clone, Copy)]
struct Link {
    a: u32,
    b: u32,
    similarity: f64,
}

/// What is computed once per message.
struct Profiles {
    places: Vec<Named>,
    /// IDF-weighted profiles with the places blanked out: the problem.
    subjects: Vec<Fingerprint>,
    texts: Vec<Fingerprint>,
    /// The same with the places kept: the problem at its place.
    subjects_raw: Vec<Fingerprint>,
    texts_raw: Vec<Fingerprint>,
    /// Gram hashes of each text for MinHash (common ones left out), and of each subject.
    sets: [Vec<Vec<u32>>; 2],
    subject_weight: f64,
}

/// `text` with every name of `places` (longest first) replaced by a separator.
fn blank(text: &str, places: &[String]) -> String {
    let mut names: Vec<&String> = places.iter().collect();
    names.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let mut out = places::normalise(text);
    for p in names {
        out = out.replace(p.as_str(), "|");
    }
    out
}

impl Profiles {
    fn new(messages: &[Message], opts: &Options, progress: &mut impl FnMut(Stage, usize, usize)) -> Profiles {
        let n = messages.len();
        let full: Vec<String> = messages.iter().map(|m| format!("{}。{}", m.subject, m.text)).collect();
        let finder = PlaceFinder::learn(full.iter().zip(messages).map(|(f, m)| (f.as_str(), m.user.as_str())));
        let mut places = Vec::with_capacity(n);
        let mut subjects = Vec::with_capacity(n);
        let mut texts = Vec::with_capacity(n);
        let mut subjects_raw = Vec::with_capacity(n);
        let mut texts_raw = Vec::with_capacity(n);
        for (i, (m, f)) in messages.iter().zip(&full).enumerate() {
            let all = finder.places(f);
            let subject_text = places::normalise(&m.subject);
            let subject = all.iter().filter(|p| subject_text.contains(p.as_str())).cloned().collect();
            let mut p = Named { subject, all };
            p.absorb(Named { subject: m.places.clone(), all: m.places.clone() });
            subjects.push(Fingerprint::of(&blank(&m.subject, &p.all)));
            texts.push(Fingerprint::of(&blank(f, &p.all)));
            subjects_raw.push(Fingerprint::of(&places::normalise(&m.subject)));
            texts_raw.push(Fingerprint::of(&places::normalise(f)));
            places.push(p);
            if i % 500 == 0 {
                progress(Stage::Profiles, i, n);
            }
        }
        let mut df: HashMap<u32, u32> = HashMap::new();
        for t in &texts {
            for &(h, _) in t.grams() {
                *df.entry(h).or_default() += 1;
            }
        }
        let idf = |h: u32| -> f32 { ((n.max(1) as f32) / df.get(&h).copied().unwrap_or(1).max(1) as f32).ln() };
        let common = (opts.common_gram_share * n as f64).max(2.0);
        let rare = |f: &Fingerprint| -> Vec<u32> {
            f.grams().iter().map(|&(h, _)| h).filter(|h| f64::from(df.get(h).copied().unwrap_or(1)) <= common).collect()
        };
        let sets = [texts.iter().map(rare).collect(), subjects.iter().map(rare).collect()];
        let subjects = subjects.iter().map(|f| f.reweighted(idf)).collect();
        let texts = texts.iter().map(|f| f.reweighted(idf)).collect();
        let subjects_raw = subjects_raw.iter().map(|f| f.reweighted(idf)).collect();
        let texts_raw = texts_raw.iter().map(|f| f.reweighted(idf)).collect();
        progress(Stage::Profiles, n, n);
        Profiles { places, subjects, texts, subjects_raw, texts_raw, sets, subject_weight: opts.subject_weight }
    }

    fn similarity(&self, a: usize, b: usize) -> f64 {
        let w = self.subject_weight;
        w * self.subjects[a].cosine(&self.subjects[b]) + (1.0 - w) * self.texts[a].cosine(&self.texts[b])
    }

    fn similarity_raw(&self, a: usize, b: usize) -> f64 {
        let w = self.subject_weight;
        w * self.subjects_raw[a].cosine(&self.subjects_raw[b])
            + (1.0 - w) * self.texts_raw[a].cosine(&self.texts_raw[b])
    }

    /// Mean similarity (places included) between the members of two clusters, over at most 24
    /// evenly spaced members of each: the average link, which a chain of strong single links
    /// between different topics does not have.
    fn cohesion(&self, a: &[usize], b: &[usize]) -> f64 {
        let sample = |m: &[usize]| m.iter().copied().step_by(m.len().div_ceil(24).max(1)).collect::<Vec<usize>>();
        let (a, b) = (sample(a), sample(b));
        let total: f64 = a.iter().map(|&x| b.iter().map(|&y| self.similarity_raw(x, y)).sum::<f64>()).sum();
        total / (a.len() * b.len()) as f64
    }

    /// Candidate pairs (LSH on texts and subjects, shared places) that pass the checks, strongest
    /// first.
    fn links(&self, messages: &[Message], opts: &Options, progress: &mut impl FnMut(Stage, usize, usize)) -> Vec<Link> {
        let len = opts.bands.bands * opts.bands.rows;
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for sets in &self.sets {
            let signatures: Vec<Option<Vec<u32>>> = sets.iter().map(|s| lsh::signature(s, len)).collect();
            pairs.extend(lsh::candidate_pairs(&signatures, opts.bands));
        }
        let mut by_place: HashMap<&str, Vec<u32>> = HashMap::new();
        for (i, p) in self.places.iter().enumerate() {
            for name in &p.all {
                by_place.entry(name.as_str()).or_default().push(i as u32);
            }
        }
        for members in by_place.values().filter(|m| m.len() <= opts.bands.max_bucket) {
            for (k, &i) in members.iter().enumerate() {
                pairs.extend(members[k + 1..].iter().map(|&j| (i.min(j), i.max(j))));
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let total = pairs.len();
        // The estates, companies and schools each subject names.
        let specific: Vec<Vec<String>> = self
            .places
            .iter()
            .map(|n| n.subject.iter().filter(|p| places::is_specific(p)).cloned().collect())
            .collect();
        let mut links = Vec::new();
        for (k, &(a, b)) in pairs.iter().enumerate() {
            if k % 20_000 == 0 {
                progress(Stage::Pairs, k, total);
            }
            let (i, j) = (a as usize, b as usize);
            let (pa, pb) = (&self.places[i], &self.places[j]);
            if !pa.agree(pb) {
                continue;
            }
            let shared = pa.share(pb);
            let problem = self.similarity(i, j);
            let (similarity, needed) = if places::share(&specific[i], &specific[j]) {
                (self.similarity_raw(i, j), opts.subject_place_threshold)
            } else if shared {
                (problem, opts.place_threshold)
            } else {
                (problem, opts.threshold)
            };
            if similarity < needed {
                continue;
            }
            let days = (messages[i].at - messages[j].at).num_seconds().unsigned_abs() as f64 / 86_400.0;
            let window = if shared && problem >= opts.near_duplicate {
                opts.near_duplicate_window_days.max(opts.window_days)
            } else {
                opts.window_days
            };
            if days <= window {
                links.push(Link { a, b, similarity });
            }
        }
        progress(Stage::Pairs, total, total);
        links.sort_by(|x, y| y.similarity.total_cmp(&x.similarity).then((x.a, x.b).cmp(&(y.a, y.b))));
        links
    }

    /// The issue made of `members` (in time order).
    fn issue(&self, messages: &[Message], members: Vec<usize>) -> HotIssue {
        let first = messages[members[0]].at;
        let last = messages[members[members.len() - 1]].at;
        let mut users: Vec<&str> = members.iter().map(|&i| messages[i].user.as_str()).collect();
        users.sort_unstable();
        users.dedup();
        let likes = members.iter().map(|&i| u64::from(messages[i].likes)).sum();
        let dislikes = members.iter().map(|&i| u64::from(messages[i].dislikes)).sum();
        let span = (last - first).num_seconds().max(0) as f64;
        let growth = if span > 0.0 && members.len() > 1 {
            let third = |i: usize| ((messages[i].at - first).num_seconds() as f64 / span * 3.0).min(2.999) as usize;
            let early = members.iter().filter(|&&i| third(i) == 0).count() as f64;
            let late = members.iter().filter(|&&i| third(i) == 2).count() as f64;
            (late - early) / members.len() as f64
        } else {
            0.0
        };
        let heat = Heat::of(members.len(), users.len(), likes, dislikes, span / 86_400.0, growth);
        // The place the subjects name most (a place only in the texts is often a passing mention).
        let mut named: HashMap<&str, usize> = HashMap::new();
        for &i in &members {
            for p in &self.places[i].subject {
                *named.entry(p.as_str()).or_default() += 1;
            }
        }
        let top = named.values().copied().max().unwrap_or(0);
        let place = named
            .iter()
            .filter(|&(_, &c)| c >= 2.max(top * 7 / 10) && c * 5 >= members.len() * 2)
            .max_by(|a, b| a.0.chars().count().cmp(&b.0.chars().count()).then(a.1.cmp(b.1)).then(b.0.cmp(a.0)))
            .map(|(p, _)| (*p).to_string());
        // The medoid, over at most 200 members (evenly spaced) to bound the work.
        let step = members.len().div_ceil(200);
        let sample: Vec<usize> = members.iter().copied().step_by(step.max(1)).collect();
        let representative = *sample
            .iter()
            .max_by(|&&a, &&b| {
                let total = |x: usize| sample.iter().map(|&y| self.similarity(x, y)).sum::<f64>();
                total(a).total_cmp(&total(b)).then(b.cmp(&a))
            })
            .expect("a cluster has members");
        HotIssue { rank: 0, heat, members, first, last, place, representative }
    }
}

/// Union-find over messages, each set carrying the place names of its members; two sets join
/// only if their names agree.
struct UnionFind {
    parent: Vec<usize>,
    places: Vec<Named>,
    members: Vec<Vec<usize>>,
}

impl UnionFind {
    fn new(places: &[Named]) -> UnionFind {
        UnionFind {
            parent: (0..places.len()).collect(),
            places: places.to_vec(),
            members: (0..places.len()).map(|i| vec![i]).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins the sets of `a` and `b` if their places agree and `cohesive(members, members)`.
    fn join(&mut self, a: usize, b: usize, cohesive: impl Fn(&[usize], &[usize]) -> bool) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb || !self.places[ra].agree(&self.places[rb]) || !cohesive(&self.members[ra], &self.members[rb]) {
            return false;
        }
        let (small, big) = if self.places[ra].all.len() < self.places[rb].all.len() { (ra, rb) } else { (rb, ra) };
        self.parent[small] = big;
        let moved = std::mem::take(&mut self.places[small]);
        self.places[big].absorb(moved);
        let moved = std::mem::take(&mut self.members[small]);
        self.members[big].extend(moved);
        true
    }
}

#[cfg(test)]
mod tests;
