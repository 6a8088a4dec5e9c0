//! Place and organisation strings in citizen messages: estates (小区, 花园, 苑, 新城 …),
//! companies (公司, 集团), schools, hospitals, roads, villages, parks and stations.
//!
//! Names are not known in advance (the Teddy Cup data's city is anonymised; another city has its
//! own estates), so they are read from the messages themselves. Each occurrence of a kind word
//! (a suffix such as 小区 or 公司) gives candidate names: the kind word with 2, 3, … of the
//! characters before it, up to a separator (punctuation, a function character such as 的 or 在,
//! or an administrative unit 省/市/区/县, so `A市A3区` is never part of a name). Of these the
//! corpus decides: the candidate is the shortest one seen in at least two messages, extended to
//! the left while the longer string is still seen in at least [`EXTEND_RATIO`] of as many
//! messages (`滨河苑` → `伊景园滨河苑`, but not `道丽发新城`, whose left character varies).
//! Generic strings (该小区, 物业公司, 有限公司, 以上3个小区 …) are dropped.

use std::collections::{HashMap, HashSet};

/// Kind words, longest first at each position.
const SUFFIXES: &[&str] = &[
    "有限公司",
    "幼儿园",
    "公司",
    "集团",
    "物业",
    "小区",
    "花园",
    "家园",
    "公寓",
    "新城",
    "大厦",
    "广场",
    "新村",
    "社区",
    "学院",
    "大学",
    "中学",
    "小学",
    "学校",
    "医院",
    "大道",
    "高速",
    "公园",
    "市场",
    "苑",
    "园",
    "城",
    "湾",
    "路",
    "街",
    "村",
    "镇",
    "站",
];

/// Characters that end a name when walking back from its kind word.
const STOP_CHARS: &str = "的在是和与了对把被向从到给及或省市区县";

/// Longest walk back, in characters.
const MAX_NAME: usize = 10;

/// A longer candidate replaces a shorter one while it is seen in at least this share of as many
/// messages.
pub const EXTEND_RATIO: f64 = 0.7;

/// Whole strings that are kinds, not names.
const GENERIC: &[&str] = &[
    "小区",
    "社区",
    "公司",
    "物业",
    "学校",
    "医院",
    "新城",
    "花园",
    "家园",
    "公园",
    "学院",
    "大学",
    "中学",
    "小学",
    "幼儿园",
    "广场",
    "市场",
    "马路",
    "道路",
    "公路",
    "高速",
    "高速公路",
    "老旧小区",
    "安置小区",
    "物业公司",
    "商品房小区",
    "居民小区",
    "农村",
    "集团",
    "城市",
    "全城",
    "进城",
    "县城",
    "省城",
    "新农村",
    "网站",
];

/// Starts of a string that make it a description, not a name.
const DETERMINERS: &[&str] = &[
    "该", "本", "此", "这", "那", "我", "其", "各", "每", "某", "附近", "周边", "所在", "整个", "老旧", "新建", "小区",
    "个", "反映", "投诉", "关于", "咨询", "举报", "建议", "请求", "要求", "位于", "希望", "强烈", "紧急", "求助",
    "针对", "解决", "治理", "整治", "严惩", "恳请", "请", "问", "诉", "目前", "现在", "已经", "因为", "由于", "但",
    "而", "就", "都", "也", "还", "又", "让", "使", "将", "去", "来", "到", "从", "于", "即", "如", "没有", "没", "有",
    "造成", "导致", "影响", "距离", "距", "靠近", "紧挨", "以上", "人口", "实际", "原", "现", "新", "老", "旧", "配套",
    "普惠", "公办", "民办", "公立", "私立", "联系", "破坏", "成功", "所有", "全部", "部分", "城区", "农村", "中心",
];

/// Words that do not make a company or school name on their own (有限公司, 投资开发公司).
const HEADS: &[&str] = &[
    "有限责任",
    "房地产",
    "有限",
    "股份",
    "投资",
    "开发",
    "建设",
    "工程",
    "集团",
    "置业",
    "实业",
    "发展",
    "科技",
    "物业",
    "服务",
    "管理",
    "铁路",
    "电力",
    "总",
];

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FA1F}')
}

/// Full-width ASCII (Ａ３) as half-width, so that names are spelt one way.
pub fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// An anonymised unit code (`K9县`, `A5区`) at the start of `chars`. The city's own codes (the
/// most frequent letter: A市, A3区, A7县) are administrative units; another letter after a name
/// (五矿万境K9县) is the anonymiser's mark inside an estate's name, so a kind word there.
fn code_unit(chars: &[char]) -> Option<String> {
    let first = *chars.first()?;
    if !first.is_ascii_uppercase() {
        return None;
    }
    let digits = chars[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    let unit = *chars.get(1 + digits)?;
    (digits <= 2 && "市区县".contains(unit)).then(|| chars[..digits + 2].iter().collect())
}

/// The candidate names of each kind-word occurrence in `text` (normalised), shortest first.
fn occurrences(text: &str, admin: Option<char>) -> Vec<Vec<String>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    for i in 0..chars.len() {
        let code = code_unit(&chars[i..]).filter(|c| c.chars().next() != admin);
        let Some(suffix) = code.clone().or_else(|| {
            SUFFIXES
                .iter()
                .find(|s| {
                    let mut rest = chars[i..].iter();
                    s.chars().all(|c| rest.next() == Some(&c))
                })
                .map(|s| s.to_string())
        }) else {
            continue;
        };
        let mut j = i;
        while j > 0
            && i - j < MAX_NAME
            && (is_han(chars[j - 1]) || chars[j - 1].is_ascii_alphanumeric())
            && !STOP_CHARS.contains(chars[j - 1])
        {
            j -= 1;
        }
        let name: String = chars[j..i].iter().collect();
        let n = i - j;
        if n < 2 {
            continue;
        }
        if code.is_some() && !chars[j..i].iter().all(|&c| is_han(c)) {
            continue;
        }
        let candidates =
            (2..=n).map(|len| chars[i - len..i].iter().collect::<String>() + &suffix).collect::<Vec<String>>();
        debug_assert!(candidates.last().is_some_and(|c| c.starts_with(&name)));
        out.push(candidates);
    }
    out
}

/// True when `key` can name one place or organisation.
fn is_name(key: &str) -> bool {
    if GENERIC.contains(&key) || DETERMINERS.iter().any(|d| key.starts_with(d)) || key.ends_with("政府") {
        return false;
    }
    let mut cs = key.chars();
    let (first, second) = (cs.next().unwrap_or(' '), cs.next().unwrap_or(' '));
    if first.is_ascii_digit()
        || ("一二三四五六七八九十几两多".contains(first) && "个所条栋家座处间期号片些".contains(second))
    {
        return false;
    }
    let Some(suffix) = SUFFIXES.iter().find(|s| key.ends_with(*s)) else {
        // An estate with an anonymised unit code (五矿万境K9县).
        return key.chars().rev().nth(1).is_some_and(|c| c.is_ascii_alphanumeric());
    };
    let mut rest = key[..key.len() - suffix.len()].to_string();
    for h in HEADS {
        rest = rest.replace(h, "");
    }
    rest.chars().count() >= 2
}

/// Place and organisation names learnt from a set of messages (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct PlaceFinder {
    /// By how many distinct users each candidate string was written.
    df: HashMap<String, u32>,
    /// The letter of the city's anonymised unit codes, if any.
    admin: Option<char>,
}

impl PlaceFinder {
    /// Counts the candidates of every `(text, user)`: a string counts once per user, so that one
    /// person posting the same text again confirms nothing.
    pub fn learn<'a>(texts: impl IntoIterator<Item = (&'a str, &'a str)>) -> PlaceFinder {
        let texts: Vec<(String, &str)> = texts.into_iter().map(|(t, u)| (normalise(t), u)).collect();
        let mut letters: HashMap<char, u32> = HashMap::new();
        for (text, _) in &texts {
            let chars: Vec<char> = text.chars().collect();
            for i in 0..chars.len() {
                if code_unit(&chars[i..]).is_some() {
                    *letters.entry(chars[i]).or_default() += 1;
                }
            }
        }
        let admin = letters.into_iter().max_by_key(|&(c, n)| (n, std::cmp::Reverse(c))).map(|(c, _)| c);
        let mut seen: HashSet<(String, &str)> = HashSet::new();
        for (text, user) in &texts {
            for c in occurrences(text, admin).into_iter().flatten() {
                seen.insert((c, user));
            }
        }
        let mut df: HashMap<String, u32> = HashMap::new();
        for (c, _) in seen {
            *df.entry(c).or_default() += 1;
        }
        PlaceFinder { df, admin }
    }

    fn df(&self, s: &str) -> u32 {
        self.df.get(s).copied().unwrap_or(0)
    }

    /// The names in `text`, sorted, without one contained in another found beside it.
    pub fn places(&self, text: &str) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for candidates in occurrences(&normalise(text), self.admin) {
            let mut best: Option<&String> = None;
            for c in &candidates {
                let df = self.df(c);
                if df < 2 {
                    break;
                }
                match best {
                    Some(b) if f64::from(df) < EXTEND_RATIO * f64::from(self.df(b)) => break,
                    _ => best = Some(c),
                }
            }
            if let Some(b) = best.filter(|b| is_name(b))
                && !keys.contains(b)
            {
                keys.push(b.clone());
            }
        }
        keys.sort();
        keys
    }
}

/// Kind words of areas and lines (roads, streets, towns, villages, stations), where many
/// unrelated problems happen: naming one of these together is weaker evidence than naming the
/// same estate, company or school.
const BROAD: &[&str] = &["路", "街", "大道", "高速", "镇", "村", "社区", "站", "市场", "广场", "公园"];

/// True when `name` is an estate, company, school … rather than a road or an area.
pub fn is_specific(name: &str) -> bool {
    !BROAD.iter().any(|b| name.ends_with(b))
}

/// The places of one message (or of a cluster): those its subject names, and all it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Named {
    /// Named in the subject (what the message is about).
    pub subject: Vec<String>,
    /// Named anywhere (subject and text).
    pub all: Vec<String>,
}

impl Named {
    /// True when the two name a common place anywhere.
    pub fn share(&self, other: &Named) -> bool {
        share(&self.all, &other.all)
    }

    /// True unless both subjects name places and neither subject's places are named by the other:
    /// a detail's passing mention (a road nearby, a company) never keeps two messages apart.
    pub fn agree(&self, other: &Named) -> bool {
        self.subject.is_empty()
            || other.subject.is_empty()
            || share(&self.subject, &other.all)
            || share(&other.subject, &self.all)
    }

    /// Adds `other`'s places (a cluster's union).
    pub fn absorb(&mut self, other: Named) {
        for (mine, theirs) in [(&mut self.subject, other.subject), (&mut self.all, other.all)] {
            for p in theirs {
                if !mine.contains(&p) {
                    mine.push(p);
                }
            }
        }
    }
}

/// True when the two sets name a common place (one name within the other counts: 魅力之城 and
/// 魅力之城小区).
pub fn share(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| b.iter().any(|y| x.contains(y.as_str()) || y.contains(x.as_str())))
}

/// True unless both sets name places and none in common.
pub fn agree(a: &[String], b: &[String]) -> bool {
    a.is_empty() || b.is_empty() || share(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_from_the_corpus() {
        let texts = [
            "投诉A市伊景园滨河苑捆绑销售车位",
            "A市伊景园滨河苑项目捆绑销售车位，开发商是广铁集团",
            "武广新城伊景园滨河苑违法捆绑销售车位",
            "A2区丽发新城附近修建搅拌厂",
            "A市暮云街道丽发新城小区附近搅拌站噪音",
            "丽发新城小区旁边建搅拌站，该小区居民苦不堪言",
            "丽发新城社区附近搅拌站修建",
        ];
        let finder = PlaceFinder::learn(texts.iter().enumerate().map(|(k, t)| (*t, ["u1", "u2", "u3"][k % 3])));
        assert_eq!(finder.places(texts[0]), ["伊景园", "伊景园滨河苑"]);
        assert_eq!(finder.places(texts[3]), ["丽发新城"]);
        let p = finder.places(texts[4]);
        assert!(p.contains(&"丽发新城小区".to_string()), "{p:?}");
        assert!(!p.iter().any(|k| k.starts_with("道")), "{p:?}");
        assert!(!finder.places(texts[5]).contains(&"该小区".to_string()));
        // Seen once: not a name the corpus confirms.
        assert!(finder.places("A3区某某某某路的问题").is_empty());
        // Seen twice but by one user: not confirmed either.
        let twice = PlaceFinder::learn([("投诉东湖某某路", "u1"), ("再次投诉东湖某某路", "u1")]);
        assert!(twice.places("东湖某某路").is_empty());
        let two = PlaceFinder::learn([("投诉东湖某某路", "u1"), ("再次投诉东湖某某路", "u2")]);
        assert_eq!(two.places("东湖某某路"), ["东湖某某路"]);
        // An anonymised unit code after a name is part of it; A市A5区 is not a name.
        let k9 = PlaceFinder::learn([
            ("A市A5区五矿万境K9县存在问题", "u1"),
            ("五矿万境K9县墙壁开裂", "u2"),
            ("关注A市A7县的路", "u3"),
            ("关注A市A7县的路", "u4"),
        ]);
        assert!(k9.places("关注A市A7县的路").is_empty(), "A市 is the city");
        assert_eq!(k9.places("A市A5区五矿万境K9县存在问题"), ["五矿万境K9县"]);
    }

    #[test]
    fn generic_kinds_are_not_names() {
        for k in ["物业公司", "该小区", "有限公司", "投资有限公司", "以上3个小区", "三个小区", "人民政府", "附近小区"]
        {
            assert!(!is_name(k), "{k}");
        }
        for k in ["伊景园滨河苑", "魅力之城", "广铁集团", "泉星公园", "凉塘路", "五矿万境K9县"]
        {
            assert!(is_name(k), "{k}");
        }
    }

    #[test]
    fn agreement_needs_a_common_name_only_when_both_have_names() {
        let a = vec!["魅力之城小区".to_string()];
        let b = vec!["劳动东路".to_string(), "魅力之城".to_string()];
        let c = vec!["润芳园小区".to_string()];
        assert!(share(&a, &b) && agree(&a, &b));
        assert!(!agree(&a, &c));
        assert!(agree(&a, &[]));
    }

    #[test]
    fn full_width_letters_and_digits_are_folded() {
        assert_eq!(normalise("Ａ市Ａ３区　１号"), "A市A3区 1号");
    }
}
