//! The gazetteer (地名库): the district's streets, communities, roads, hutongs and landmarks with
//! their names, aliases, an approximate GCJ-02 point and, where known, their street and community;
//! and the matcher that finds them in free Chinese text and address strings.
//!
//! The default file is the project-authored `data/gazetteer.csv` (points approximate, read off
//! public maps by the project; see its header). Every street and community of the catalog is in
//! the gazetteer even when the file does not list it (then without a point).
//!
//! Matching runs one Aho–Corasick automaton over every name and alias, leftmost-longest, so
//! `东四十条` wins over `东四` and `王府井大街` over `王府井`. When a name belongs to several entries the
//! most specific kind wins (landmark/hutong, then road, community, street). A number with `号`
//! after a road or hutong (`王府井大街255号`, `门牌12号`) is kept as the house number and raises the
//! confidence.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use jiesu_domain::catalog::{Catalog, Community, Street};
use serde::Serialize;

use crate::LonLat;
use crate::error::GeoError;

/// The embedded gazetteer of Dongcheng District (project-authored, points approximate).
pub const DONGCHENG_GAZETTEER_CSV: &str = include_str!("../data/gazetteer.csv");

/// What kind of place an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A street (街道), the level below the district.
    Street,
    /// A community (社区).
    Community,
    /// A road or avenue (大街, 路): long, may cross several streets.
    Road,
    /// A hutong or lane (胡同, 巷, 条).
    Hutong,
    /// A landmark: a building, park, station, gate, market, hospital.
    Landmark,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "street" | "街道" => Kind::Street,
            "community" | "社区" => Kind::Community,
            "road" | "道路" => Kind::Road,
            "hutong" | "胡同" => Kind::Hutong,
            "landmark" | "地标" => Kind::Landmark,
            _ => return None,
        })
    }

    /// How specific a mention of this kind is: higher wins.
    pub fn specificity(self) -> u8 {
        match self {
            Kind::Landmark | Kind::Hutong => 4,
            Kind::Road => 3,
            Kind::Community => 2,
            Kind::Street => 1,
        }
    }
}

/// One place of the gazetteer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Main name, e.g. `王府井大街`.
    pub name: String,
    /// What kind of place it is.
    pub kind: Kind,
    /// Other names it goes by (the main name not included).
    pub aliases: Vec<String>,
    /// Approximate GCJ-02 point, when known.
    pub point: Option<LonLat>,
    /// Rough radius in metres within which the place lies around `point`.
    pub precision_m: Option<u32>,
    /// Index of the entry's street in [`Gazetteer::streets`], when the file states it.
    pub street: Option<usize>,
    /// Index of the entry's community in [`Gazetteer::communities`], when the file states it.
    pub community: Option<usize>,
}

/// A place found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention {
    /// Index of the entry in [`Gazetteer::entries`].
    pub entry: usize,
    /// The text that matched, e.g. `王府井大街`.
    pub text: String,
    /// Byte offset of the match in the searched text.
    pub start: usize,
    /// Byte offset just past the match (and past the house number, if any).
    pub end: usize,
    /// House number after the name (`255号` → `255`), if any.
    pub house_number: Option<String>,
}

/// The gazetteer with its matcher.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    entries: Vec<Entry>,
    streets: Vec<Street>,
    communities: Vec<Community>,
    matcher: AhoCorasick,
    /// For each matcher pattern, the entries that carry that name, most specific first.
    pattern_entries: Vec<Vec<usize>>,
}

/// Bare community names shorter than this (in characters) are too ambiguous to match on their
/// own (`二条`, `花园`, `光明`); the full `…社区` form always matches.
const MIN_BARE_COMMUNITY_CHARS: usize = 3;

impl Gazetteer {
    /// The embedded Dongcheng gazetteer against the embedded catalog.
    pub fn dongcheng() -> Gazetteer {
        Gazetteer::from_csv(DONGCHENG_GAZETTEER_CSV, &Catalog::dongcheng())
            .unwrap_or_else(|e| panic!("embedded gazetteer is invalid: {e}"))
    }

    /// Parses a gazetteer file and checks it against the district's catalog: every street and
    /// community named must be in the catalog, points must be real coordinates.
    ///
    /// Columns (any order after `#` comment lines and a header row): `name, kind, aliases`
    /// (separated by `|`), `lon, lat` (GCJ-02, may be empty), `precision_m`, `street`, `community`
    /// (names as in the catalog, may be empty).
    pub fn from_csv(text: &str, catalog: &Catalog) -> Result<Gazetteer, GeoError> {
        let streets = catalog.streets().to_vec();
        let communities = catalog.communities().to_vec();
        let street_by_name: HashMap<&str, usize> = streets
            .iter()
            .enumerate()
            .flat_map(|(i, s)| [(s.name.as_str(), i), (s.name.trim_end_matches("街道"), i)])
            .collect();
        let community_by_name: HashMap<&str, usize> = communities
            .iter()
            .enumerate()
            .flat_map(|(i, c)| [(c.name.as_str(), i), (c.short_name.as_str(), i)])
            .collect();

        let mut entries = Vec::new();
        let mut street_entry: Vec<Option<usize>> = vec![None; streets.len()];
        let mut community_entry: Vec<Option<usize>> = vec![None; communities.len()];
        for (line, record) in records(text)? {
            let err = |message: String| GeoError::Gazetteer { line, message };
            let name = record.get("name").filter(|s| !s.is_empty()).ok_or_else(|| err("empty name".into()))?;
            let kind_text = record.get("kind").unwrap_or_default();
            let kind = Kind::parse(kind_text).ok_or_else(|| {
                err(format!("unknown kind {kind_text:?} (street, community, road, hutong or landmark)"))
            })?;
            let aliases: Vec<String> = record
                .get("aliases")
                .unwrap_or_default()
                .split('|')
                .map(str::trim)
                .filter(|a| !a.is_empty() && *a != name)
                .map(String::from)
                .collect();
            let point = match (record.get("lon").unwrap_or_default(), record.get("lat").unwrap_or_default()) {
                ("", "") => None,
                (lon, lat) => {
                    let lon: f64 = lon.parse().map_err(|_| err(format!("lon {lon:?} is not a number")))?;
                    let lat: f64 = lat.parse().map_err(|_| err(format!("lat {lat:?} is not a number")))?;
                    crate::error::check_coordinate(lon, lat).map_err(|e| err(e.to_string()))?;
                    Some(LonLat { lon, lat })
                }
            };
            let precision_m = match record.get("precision_m").unwrap_or_default() {
                "" => None,
                p => Some(p.parse().map_err(|_| err(format!("precision_m {p:?} is not a whole number of metres")))?),
            };
            let street = match record.get("street").unwrap_or_default() {
                "" => None,
                s => Some(*street_by_name.get(s).ok_or_else(|| err(format!("street {s:?} is not in the catalog")))?),
            };
            let community = match record.get("community").unwrap_or_default() {
                "" => None,
                c => Some(
                    *community_by_name.get(c).ok_or_else(|| err(format!("community {c:?} is not in the catalog")))?,
                ),
            };
            let mut street = street;
            if let Some(c) = community {
                let own = streets.iter().position(|s| s.code == communities[c].street_code);
                if street.is_some() && street != own {
                    return Err(err(format!(
                        "community {} belongs to another street than {}",
                        communities[c].short_name,
                        streets[street.unwrap_or_default()].name
                    )));
                }
                street = own;
            }
            // Streets and communities are the catalog's: the row adds a point and aliases.
            let mut entry = Entry { name: name.to_string(), kind, aliases, point, precision_m, street, community };
            match kind {
                Kind::Street => {
                    let i = *street_by_name
                        .get(name)
                        .ok_or_else(|| err(format!("street {name:?} is not in the catalog")))?;
                    if street_entry[i].is_some() {
                        return Err(err(format!("street {name:?} is listed twice")));
                    }
                    entry.name = streets[i].name.clone();
                    entry.street = Some(i);
                    street_entry[i] = Some(entries.len());
                }
                Kind::Community => {
                    let i = *community_by_name
                        .get(name)
                        .ok_or_else(|| err(format!("community {name:?} is not in the catalog")))?;
                    if community_entry[i].is_some() {
                        return Err(err(format!("community {name:?} is listed twice")));
                    }
                    entry.name = communities[i].short_name.clone();
                    entry.community = Some(i);
                    entry.street = streets.iter().position(|s| s.code == communities[i].street_code);
                    community_entry[i] = Some(entries.len());
                }
                _ => {}
            }
            entries.push(entry);
        }
        // Every street and community of the catalog, with its standard names.
        for (i, s) in streets.iter().enumerate() {
            let e = match street_entry[i] {
                Some(e) => e,
                None => {
                    entries.push(Entry {
                        name: s.name.clone(),
                        kind: Kind::Street,
                        aliases: vec![],
                        point: None,
                        precision_m: None,
                        street: Some(i),
                        community: None,
                    });
                    entries.len() - 1
                }
            };
            add_alias(&mut entries[e], s.name.trim_end_matches("街道"));
            add_alias(&mut entries[e], &format!("{}街道办事处", s.name.trim_end_matches("街道")));
            add_alias(&mut entries[e], &format!("{}街道办", s.name.trim_end_matches("街道")));
        }
        for (i, c) in communities.iter().enumerate() {
            let e = match community_entry[i] {
                Some(e) => e,
                None => {
                    entries.push(Entry {
                        name: c.short_name.clone(),
                        kind: Kind::Community,
                        aliases: vec![],
                        point: None,
                        precision_m: None,
                        street: streets.iter().position(|s| s.code == c.street_code),
                        community: Some(i),
                    });
                    entries.len() - 1
                }
            };
            add_alias(&mut entries[e], &c.name);
            add_alias(&mut entries[e], &c.short_name);
            let bare = c.short_name.trim_end_matches("社区");
            if bare.chars().count() >= MIN_BARE_COMMUNITY_CHARS {
                add_alias(&mut entries[e], bare);
            }
        }
        let (matcher, pattern_entries) = build_matcher(&entries)?;
        Ok(Gazetteer { entries, streets, communities, matcher, pattern_entries })
    }

    /// All entries: the file's rows, then catalog streets and communities the file did not list.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The catalog's streets (entries refer to them by index).
    pub fn streets(&self) -> &[Street] {
        &self.streets
    }

    /// The catalog's communities (entries refer to them by index).
    pub fn communities(&self) -> &[Community] {
        &self.communities
    }

    /// The gazetteer entry of a catalog street.
    pub fn street_entry(&self, street: usize) -> Option<&Entry> {
        self.entries.iter().find(|e| e.kind == Kind::Street && e.street == Some(street))
    }

    /// The gazetteer entry of a catalog community.
    pub fn community_entry(&self, community: usize) -> Option<&Entry> {
        self.entries.iter().find(|e| e.kind == Kind::Community && e.community == Some(community))
    }

    /// Every place mentioned in `text`, in order, non-overlapping (leftmost-longest).
    pub fn mentions(&self, text: &str) -> Vec<Mention> {
        self.matcher
            .find_iter(text)
            .filter_map(|m| {
                let candidates = &self.pattern_entries[m.pattern().as_usize()];
                let entry = *candidates.first()?;
                let kind = self.entries[entry].kind;
                let (house_number, end) = match kind {
                    Kind::Road | Kind::Hutong | Kind::Landmark | Kind::Community => house_number(&text[m.end()..])
                        .map(|(n, len)| (Some(n), m.end() + len))
                        .unwrap_or((None, m.end())),
                    Kind::Street => (None, m.end()),
                };
                Some(Mention { entry, text: text[m.start()..m.end()].to_string(), start: m.start(), end, house_number })
            })
            .collect()
    }

    /// The most specific mention in `text`: a house-numbered address first, then by kind
    /// (landmark/hutong, road, community, street), then the finer point, then the earliest.
    pub fn best(&self, text: &str) -> Option<Mention> {
        let mentions = self.mentions(text);
        mentions.into_iter().enumerate().max_by_key(|(i, m)| self.rank(m, *i)).map(|(_, m)| m)
    }

    fn rank(&self, m: &Mention, position: usize) -> (bool, u8, bool, std::cmp::Reverse<u32>, std::cmp::Reverse<usize>) {
        let e = &self.entries[m.entry];
        (
            m.house_number.is_some(),
            e.kind.specificity(),
            e.point.is_some(),
            std::cmp::Reverse(e.precision_m.unwrap_or(u32::MAX)),
            std::cmp::Reverse(position),
        )
    }
}

fn add_alias(entry: &mut Entry, alias: &str) {
    if !alias.is_empty() && entry.name != alias && !entry.aliases.iter().any(|a| a == alias) {
        entry.aliases.push(alias.to_string());
    }
}

fn build_matcher(entries: &[Entry]) -> Result<(AhoCorasick, Vec<Vec<usize>>), GeoError> {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        for name in std::iter::once(&e.name).chain(&e.aliases) {
            let list = by_name.entry(name.as_str()).or_default();
            if !list.contains(&i) {
                list.push(i);
            }
        }
    }
    let mut names: Vec<(&str, Vec<usize>)> = by_name.into_iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    for (_, list) in &mut names {
        list.sort_by_key(|&i| {
            let e = &entries[i];
            (std::cmp::Reverse(e.kind.specificity()), e.point.is_none(), e.precision_m.unwrap_or(u32::MAX), i)
        });
    }
    let matcher = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(names.iter().map(|(n, _)| n))
        .map_err(|e| GeoError::Gazetteer { line: 0, message: format!("cannot build the matcher: {e}") })?;
    Ok((matcher, names.into_iter().map(|(_, l)| l).collect()))
}

/// A house number right after a place name: `255号`, ` 甲3号`, `门牌12号`, `12-3号院`, `８号`.
/// Returns the number and the byte length consumed.
fn house_number(rest: &str) -> Option<(String, usize)> {
    let mut consumed = 0;
    let mut s = rest;
    let skip = |s: &mut &str, consumed: &mut usize, prefix: &str| {
        if let Some(r) = s.strip_prefix(prefix) {
            *consumed += prefix.len();
            *s = r;
            true
        } else {
            false
        }
    };
    while skip(&mut s, &mut consumed, " ") || skip(&mut s, &mut consumed, "　") {}
    let _ = skip(&mut s, &mut consumed, "门牌号") || skip(&mut s, &mut consumed, "门牌");
    let mut number = String::new();
    for prefix in ["甲", "乙", "丙", "丁"] {
        if skip(&mut s, &mut consumed, prefix) {
            number.push_str(prefix);
            break;
        }
    }
    let mut digits = 0;
    for c in s.chars() {
        let ascii = match c {
            '0'..='9' | '-' => c,
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32)?,
            _ => break,
        };
        number.push(ascii);
        consumed += c.len_utf8();
        digits += 1;
    }
    s = &rest[consumed..];
    if digits == 0 || !s.starts_with('号') {
        return None;
    }
    consumed += '号'.len_utf8();
    Some((number.trim_end_matches('-').to_string(), consumed))
}

/// The rows of a CSV file after its `#` comment lines, as (1-based line, field map).
fn records(text: &str) -> Result<Vec<(usize, Record)>, GeoError> {
    let skipped = text.lines().take_while(|l| l.trim_start().starts_with('#')).count();
    let body_start: usize = text.lines().take(skipped).map(|l| l.len() + 1).sum();
    let body = text.get(body_start.min(text.len())..).unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(body.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| GeoError::Gazetteer { line: skipped + 1, message: format!("cannot read the header: {e}") })?
        .clone();
    for needed in ["name", "kind"] {
        if !headers.iter().any(|h| h == needed) {
            return Err(GeoError::Gazetteer { line: skipped + 1, message: format!("no {needed:?} column") });
        }
    }
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| GeoError::Gazetteer {
            line: skipped + e.position().map_or(0, |p| p.line() as usize),
            message: e.to_string(),
        })?;
        let line = skipped + row.position().map_or(0, |p| p.line() as usize);
        let fields = headers.iter().zip(row.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect();
        out.push((line, Record(fields)));
    }
    Ok(out)
}

struct Record(HashMap<String, String>);

impl Record {
    fn get(&self, column: &str) -> Option<&str> {
        self.0.get(column).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn house_numbers() {
        assert_eq!(house_number("255号"), Some(("255".into(), "255号".len())));
        assert_eq!(house_number(" 甲3号院"), Some(("甲3".into(), " 甲3号".len())));
        assert_eq!(house_number("门牌12号"), Some(("12".into(), "门牌12号".len())));
        assert_eq!(house_number("８号"), Some(("8".into(), "８号".len())));
        assert_eq!(house_number("附近"), None);
        assert_eq!(house_number("12路公交"), None);
    }
}
