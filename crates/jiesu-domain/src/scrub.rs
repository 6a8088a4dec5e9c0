//! The one scrubber of personal data in Chinese free text meant for the public (Open311 requests,
//! replies and updates, and anything else anonymous users can read).
//!
//! It masks: mobile numbers in every spelling (separators space, `-`, `.`, full-width ones;
//! `+86` / `0086` / `86` prefixes; full-width digits), landlines (`010-65123456`,
//! `(010)65123456`, 8-digit locals such as `6512 3456`, 400/800 numbers), 18-digit ID numbers with
//! a valid check character and 15-digit old ones, e-mail addresses, bank cards (16–19 digits that
//! pass Luhn), vehicle plates (`京A12345`, `京A·D12345`), names after 我叫/我是/本人/联系人/姓名/
//! name: and before 先生/女士/师傅/阿姨 (the name only: `*先生`), runs of 7 or more Chinese digit
//! words (`幺三八…`), and as a safety net every other run of 7 or more digits.
//!
//! It keeps: place names (the catalog's streets and communities and the gazetteer's places are
//! protected from the name rules), house numbers (`东四十条21号`, `3号楼2单元501`), dates
//! (`2020-01-06`, `20200106`, `2019-2020年`), times, money amounts (`15000000元`) and short
//! numbers. Pure: no I/O; the place names are embedded.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// The mask character.
const STAR: char = '*';

/// A digit, ASCII or full-width.
const D: &str = "[0-9\u{FF10}-\u{FF19}]";
/// One separator people put inside numbers: space, hyphen, dot, middle dot, full-width ones.
const S: &str = "[ \\-.\u{00B7}\u{00A0}\u{3000}\u{FF0D}\u{FF0E}\u{2010}-\u{2014}]";

/// Surnames that start a name (single and compound), common enough to matter. Words that are far
/// more often something else (路, 东, 老, 小, 和 ...) are left out.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏\
吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔\
向常汤康易乔赖文施洪辛柯庄樊殷祝阎柴牛葛季耿凌管华俞温钮蓝邢岳齐聂章翟甘宁鲁左牟房裴纪梅谷霍涂尚欧穆盛伍\
申焦单卓包景饶詹宫关解聂祁解翁邬安兰娄童";
const COMPOUND_SURNAMES: [&str; 18] = [
    "欧阳", "司马", "诸葛", "上官", "东方", "令狐", "慕容", "皇甫", "尉迟", "公孙", "夏侯", "轩辕", "端木", "长孙",
    "宇文", "司徒", "西门", "南宫",
];
/// Characters that end a name: function words, verbs and nouns that follow a name in a sentence.
const NAME_STOPS: &str = "的是在住家电手联今现来反想要号先女师阿老同这那和与及从于也都就了着过请我你他她们说因为所\
但而或已经被把给向对比很不没有个上下中里外前后左右年月日时分居业市区街路巷院楼门社小户人员工作反映投诉举报希望\
目位名姓叫本系";
/// Words after a name candidate that show it is a place (王府井大街, 彭庄社区).
const PLACE_WORDS: [&str; 24] = [
    "社区", "街道", "胡同", "大街", "小区", "地区", "路", "街", "巷", "里", "院", "楼", "桥", "府", "井", "庙", "寺",
    "坛", "园", "村", "区", "市", "号", "条",
];
/// Words after a number that make it an amount, a count or a year, not an identifier.
const QUANTITY_WORDS: [&str; 20] = [
    "元", "块", "万", "亿", "美元", "平", "米", "㎡", "人", "户", "次", "年", "个", "辆", "份", "张", "件", "吨", "%",
    "公里",
];
/// Honorifics that follow a name; the name is masked, the honorific kept.
const HONORIFICS: &str = "先生|女士|小姐|师傅|阿姨|大爷|大妈";

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+[@\x{FF20}][A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}").expect("email")
});
static ID18: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("[1-9\u{FF11}-\u{FF19}](?:{S}?{D}){{16}}{S}?[0-9\u{FF10}-\u{FF19}XxＸｘ]")).expect("id18")
});
static ID15: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!("[1-9\u{FF11}-\u{FF19}]{D}{{14}}")).expect("id15"));
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("[1-9\u{FF11}-\u{FF19}](?:{S}?{D}){{15,18}}")).expect("card"));
static MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    let prefix = format!(
        "(?:(?:[+\u{FF0B}]|00|\u{FF10}\u{FF10}){S}?(?:86|\u{FF18}\u{FF16})|[(（][+\u{FF0B}]?(?:86|\u{FF18}\u{FF16})[)）]|86|\u{FF18}\u{FF16})"
    );
    Regex::new(&format!("(?:{prefix}{S}{{0,3}})?(?:1|\u{FF11}){S}{{0,3}}[3-9\u{FF13}-\u{FF19}](?:{S}{{0,3}}{D}){{9}}"))
        .expect("mobile")
});
static LANDLINE: LazyLock<Regex> = LazyLock::new(|| {
    let area = format!("(?:[(（](?:0|\u{FF10}){D}{{2,3}}[)）]|(?:0|\u{FF10}){D}{{2,3}})");
    Regex::new(&format!("{area}{S}{{0,3}}[2-9\u{FF12}-\u{FF19}]{D}{{2,3}}{S}{{0,2}}{D}{{4}}")).expect("landline")
});
static SERVICE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("[48\u{FF14}\u{FF18}]{S}?(?:0|\u{FF10}){S}?(?:0|\u{FF10})(?:{S}{{0,2}}{D}){{7}}"))
        .expect("400/800")
});
static LOCAL_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("[2-8\u{FF12}-\u{FF18}]{D}{{3}}{S}{{0,2}}{D}{{4}}")).expect("local"));
static PLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•・.\\- ]?[A-HJ-NP-Z0-9]{5,6}",
    )
    .expect("plate")
});
static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!("{D}{{7,}}")).expect("digits"));
static WORD_DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("[〇零一二三四五六七八九幺两]{7,}").expect("word digits"));
static NAME_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:我叫|我是|本人|联系人|姓名|名字|(?i:name))[ \t\x{3000}]*[:：]?[ \t\x{3000}]*").expect("name after")
});
static LATIN_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z][A-Za-z'\-]*(?: [A-Z][A-Za-z'\-]*){0,2}").expect("latin name"));
static NAME_BEFORE: LazyLock<Regex> = LazyLock::new(|| Regex::new(HONORIFICS).expect("honorifics"));

/// The place names that the name rules must leave alone: the catalog's streets and communities
/// and the gazetteer's places with their aliases.
static PLACES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut names: HashSet<String> = HashSet::new();
    let catalog = crate::catalog::Catalog::dongcheng();
    for s in catalog.streets() {
        names.insert(s.name.clone());
    }
    for c in catalog.communities() {
        names.insert(c.name.clone());
        names.insert(c.short_name.clone());
        names.insert(c.short_name.trim_end_matches("社区").to_string());
    }
    let gazetteer = include_str!("../../jiesu-geo/data/gazetteer.csv");
    let body: String = gazetteer.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body.as_bytes());
    for row in reader.records().flatten() {
        if let Some(name) = row.get(0) {
            names.insert(name.to_string());
        }
        for alias in row.get(2).unwrap_or("").split('|') {
            names.insert(alias.to_string());
        }
    }
    let mut names: Vec<String> = names.into_iter().filter(|n| n.chars().count() >= 2).collect();
    names.sort();
    names
});

/// The text with the personal data it contains masked (see the module docs).
pub fn scrub(text: &str) -> String {
    let spans = find(text);
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.range.start]);
        out.push_str(&span.replacement);
        at = span.range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// What kind of personal data a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// An e-mail address.
    Email,
    /// An 18- or 15-digit resident ID number.
    IdNumber,
    /// A bank card number.
    BankCard,
    /// A mobile number.
    Mobile,
    /// A landline, 400/800 or local number.
    Landline,
    /// A vehicle plate.
    Plate,
    /// A person's name.
    Name,
    /// Any other run of 7 or more digits, or of Chinese digit words.
    Digits,
}

/// A piece of personal data found in a text: its byte range and what replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Byte range in the text.
    pub range: Range<usize>,
    /// What it is.
    pub kind: Kind,
    /// The masked form.
    pub replacement: String,
}

/// Every piece of personal data in `text`, in order, not overlapping.
pub fn find(text: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let add = |range: Range<usize>, kind: Kind, replacement: String, spans: &mut Vec<Span>| {
        if !spans.iter().any(|s| s.range.start < range.end && range.start < s.range.end) {
            spans.push(Span { range, kind, replacement });
        }
    };
    for m in EMAIL.find_iter(text) {
        add(m.range(), Kind::Email, mask_email(m.as_str()), &mut spans);
    }
    for r in candidates(&ID18, text, |r| bounded(text, r, true) && valid_id18(&normal(&text[r.clone()]))) {
        add(r.clone(), Kind::IdNumber, keep_ends(&normal(&text[r]), 3, 2), &mut spans);
    }
    for r in candidates(&CARD, text, |r| {
        let digits = normal(&text[r.clone()]);
        bounded(text, r, false) && (16..=19).contains(&digits.len()) && luhn(&digits)
    }) {
        add(r.clone(), Kind::BankCard, keep_ends(&normal(&text[r]), 0, 4), &mut spans);
    }
    for r in candidates(&MOBILE, text, |r| bounded(text, r, false)) {
        add(r.clone(), Kind::Mobile, mask_mobile(&text[r]), &mut spans);
    }
    for r in candidates(&LANDLINE, text, |r| bounded(text, r, false)) {
        add(r.clone(), Kind::Landline, mask_landline(&text[r]), &mut spans);
    }
    for r in candidates(&SERVICE_LINE, text, |r| bounded(text, r, false)) {
        add(r.clone(), Kind::Landline, keep_ends(&normal(&text[r]), 3, 2), &mut spans);
    }
    for r in candidates(&LOCAL_LINE, text, |r| bounded(text, r, false) && !date_or_amount(text, r)) {
        add(r.clone(), Kind::Landline, keep_ends(&normal(&text[r]), 0, 2), &mut spans);
    }
    for r in candidates(&ID15, text, |r| bounded(text, r, false) && valid_id15(&normal(&text[r.clone()]))) {
        add(r.clone(), Kind::IdNumber, keep_ends(&normal(&text[r]), 3, 2), &mut spans);
    }
    for r in candidates(&PLATE, text, |r| {
        let tail = &text[r.clone()];
        tail.chars().skip(2).any(|c| c.is_ascii_digit())
            && !text[r.end..].starts_with(|c: char| c.is_ascii_alphanumeric())
    }) {
        let head: String = text[r.clone()].chars().take(2).collect();
        add(r, Kind::Plate, format!("{head}{STAR}{STAR}{STAR}{STAR}{STAR}"), &mut spans);
    }
    for r in names(text) {
        let stars = STAR.to_string().repeat(text[r.clone()].chars().count());
        add(r, Kind::Name, stars, &mut spans);
    }
    for r in candidates(&DIGIT_RUN, text, |r| bounded(text, r, false) && !date_or_amount(text, r)) {
        add(r.clone(), Kind::Digits, keep_ends(&normal(&text[r]), 0, 2), &mut spans);
    }
    for m in WORD_DIGITS.find_iter(text) {
        add(m.range(), Kind::Digits, STAR.to_string().repeat(m.as_str().chars().count()), &mut spans);
    }
    spans.sort_by_key(|s| s.range.start);
    spans
}

/// The ranges where `re` matches and `accept` agrees; after a refused match the search goes on
/// from the next character, so a refused candidate does not hide one that starts inside it.
fn candidates(re: &Regex, text: &str, accept: impl Fn(&Range<usize>) -> bool) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at <= text.len() {
        let Some(m) = re.find_at(text, at) else { break };
        if accept(&m.range()) {
            out.push(m.range());
            at = m.end().max(m.start() + 1);
        } else {
            at = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
        }
        while at < text.len() && !text.is_char_boundary(at) {
            at += 1;
        }
    }
    out
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('\u{FF10}'..='\u{FF19}').contains(&c)
}

fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c)
}

/// True when `r` is not glued to more digits (or, for `letters`, ASCII letters) on either side.
fn bounded(text: &str, r: &Range<usize>, letters: bool) -> bool {
    let before = text[..r.start].chars().next_back();
    let after = text[r.end..].chars().next();
    let glued = |c: Option<char>| c.is_some_and(|c| is_digit(c) || (letters && c.is_ascii_alphabetic()));
    !glued(before) && !glued(after)
}

/// The digits (and X) of a number as written, full-width ones made ASCII, separators dropped.
fn normal(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '\u{FF10}'..='\u{FF19}' => char::from_u32(c as u32 - 0xFF10 + u32::from(b'0')),
            'x' | 'X' | 'ｘ' | 'Ｘ' => Some('X'),
            _ => None,
        })
        .collect()
}

/// `head` first and `tail` last characters kept, four stars between.
fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return STAR.to_string().repeat(chars.len());
    }
    let h: String = chars[..head].iter().collect();
    let t: String = chars[chars.len() - tail..].iter().collect();
    format!("{h}****{t}")
}

/// A mobile number masked as `138****5678`, its country prefix kept as written.
fn mask_mobile(s: &str) -> String {
    let digits = normal(s);
    let national = &digits[digits.len() - 11..];
    let prefix_end = s.char_indices().filter(|(_, c)| is_digit(*c)).nth(digits.len() - 11).map_or(0, |(i, _)| i);
    format!("{}{}", &s[..prefix_end], keep_ends(national, 3, 4))
}

/// A landline masked as `010-****56`: the area code kept as written.
fn mask_landline(s: &str) -> String {
    let first_local = s
        .char_indices()
        .skip_while(|(_, c)| is_digit(*c) || "(（".contains(*c))
        .find(|(_, c)| is_digit(*c))
        .map_or(0, |(i, _)| i);
    format!("{}{}", &s[..first_local], keep_ends(&normal(&s[first_local..]), 0, 2))
}

fn mask_email(s: &str) -> String {
    match s.split_once(['@', '＠']) {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or(STAR)),
        None => STAR.to_string().repeat(s.chars().count()),
    }
}

/// Words just before a number that say it is a phone number, whatever it looks like.
const PHONE_CUES: [&str; 12] =
    ["电话", "座机", "手机", "拨打", "致电", "热线", "联系", "号码", "传真", "tel", "Tel", "TEL"];

/// True when the number at `r` is a date (`20200106`, `2019-2020`) or is followed by a unit of
/// money or quantity (`15000000元`), or preceded by a currency sign — unless a phone word comes
/// just before it (`座机2029-1128`).
fn date_or_amount(text: &str, r: &Range<usize>) -> bool {
    let before: String = text[..r.start].chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
    if PHONE_CUES.iter().any(|c| before.contains(c)) {
        return false;
    }
    let written = &text[r.clone()];
    let digits = normal(written);
    let joined = written.chars().all(is_digit);
    let after = text[r.end..].trim_start();
    if QUANTITY_WORDS.iter().any(|w| after.starts_with(w)) {
        return true;
    }
    if text[..r.start].trim_end().ends_with(['¥', '￥', '$']) {
        return true;
    }
    let year = |s: &str| s.parse::<u32>().is_ok_and(|y| (1900..=2099).contains(&y));
    if digits.len() == 8 {
        let (y, m, d) = (&digits[..4], &digits[4..6], &digits[6..]);
        let month = m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
        let day = d.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
        // 20200106 is a date; 2019-2020 a span of years, 2029-1128 is not a way to write a date.
        if year(y) && (joined && month && day || year(&digits[4..])) {
            return true;
        }
    }
    false
}

fn valid_date(yyyy: &str, mm: &str, dd: &str) -> bool {
    let y = yyyy.parse::<u32>().unwrap_or(0);
    let m = mm.parse::<u32>().unwrap_or(0);
    let d = dd.parse::<u32>().unwrap_or(0);
    (1800..=2099).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
}

/// An 18-character resident ID number: a birth date and the ISO 7064 MOD 11-2 check character.
pub fn valid_id18(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || !valid_date(&id[6..10], &id[10..12], &id[12..14]) {
        return false;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b[..17].iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    b[17] == b"10X98765432"[(sum % 11) as usize]
}

/// A 15-digit resident ID number (before 1999): a birth date in 19YY.
fn valid_id15(id: &str) -> bool {
    id.len() == 15 && valid_date(&format!("19{}", &id[6..8]), &id[8..10], &id[10..12])
}

/// The Luhn check of a card number.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c.wrapping_sub(b'0'));
        if d > 9 {
            return false;
        }
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fn is_surname(c: char) -> bool {
    SURNAMES.contains(c)
}

fn is_given(c: char) -> bool {
    is_han(c) && !NAME_STOPS.contains(c)
}

/// True when a place name of the district covers any part of `r` in `text`.
fn overlaps_place(text: &str, r: &Range<usize>) -> bool {
    PLACES.iter().any(|p| {
        let from = r.start.saturating_sub(p.len());
        let from = (from..=r.start).find(|i| text.is_char_boundary(*i)).unwrap_or(r.start);
        let to = (r.end + p.len()).min(text.len());
        let to = (r.end..=to).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(r.end);
        text[from..to].match_indices(p.as_str()).any(|(i, _)| from + i < r.end && r.start < from + i + p.len())
    })
}

/// True when a place word follows within two characters of `end`, or the name itself ends in one.
fn place_follows(text: &str, start: usize, end: usize) -> bool {
    let rest = &text[end..];
    let name = &text[start..end];
    let next: Vec<(usize, char)> = rest.char_indices().take(3).collect();
    let mut i = 0;
    while i < next.len() {
        let s = &rest[next[i].0..];
        if PLACE_WORDS.iter().any(|w| s.starts_with(w)) {
            return true;
        }
        if !is_given(next[i].1) {
            break;
        }
        i += 1;
    }
    PLACE_WORDS.iter().any(|w| name.ends_with(w))
}

/// The Chinese name starting at byte `at`: a surname and one or two given characters, or None.
/// `strict` (after the weaker cues 我是, 本人): the name must end where the word does, not run on
/// into more characters (我是龙腾大厦业主, 本人向相关部门).
fn chinese_name_at(text: &str, at: usize, strict: bool) -> Option<Range<usize>> {
    let rest = &text[at..];
    let surname_len = match COMPOUND_SURNAMES.iter().find(|s| rest.starts_with(*s)) {
        Some(s) => s.len(),
        None => rest.chars().next().filter(|c| is_surname(*c)).map(char::len_utf8)?,
    };
    let mut end = at + surname_len;
    for c in text[end..].chars().take(2) {
        if !is_given(c) {
            break;
        }
        end += c.len_utf8();
    }
    if end == at + surname_len || overlaps_place(text, &(at..end)) || place_follows(text, at, end) {
        return None;
    }
    if strict && text[end..].chars().next().is_some_and(is_given) {
        return None;
    }
    Some(at..end)
}

/// Names after 我叫/我是/本人/联系人/姓名/name: and before an honorific (先生, 女士 ...).
fn names(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for m in NAME_AFTER.find_iter(text) {
        let at = m.end();
        let strict = m.as_str().starts_with("我是") || m.as_str().starts_with("本人");
        if let Some(r) = chinese_name_at(text, at, strict) {
            out.push(r);
        } else if m.as_str().to_ascii_lowercase().starts_with("name")
            && let Some(l) = LATIN_NAME.find(&text[at..])
        {
            out.push(at..at + l.end());
        }
    }
    for m in NAME_BEFORE.find_iter(text) {
        // The name is the last one to three characters before the honorific, led by a surname;
        // the longest that is not part of a place name.
        // (Four with a compound surname: 欧阳三丰女士.)
        let before: Vec<(usize, char)> = text[..m.start()].char_indices().rev().take(4).collect();
        let mut starts = Vec::new();
        for (k, &(i, c)) in before.iter().enumerate() {
            if !is_han(c) || (k > 0 && NAME_STOPS.contains(before[k - 1].1)) {
                break;
            }
            let compound = COMPOUND_SURNAMES.iter().any(|s| text[i..].starts_with(s));
            let given = if compound { k.saturating_sub(1) } else { k };
            if (is_surname(c) && k < 3 || compound) && given <= 2 && before[..given].iter().all(|(_, g)| is_given(*g)) {
                starts.push(i);
            }
        }
        if let Some(i) = starts.into_iter().rev().find(|i| !overlaps_place(text, &(*i..m.start()))) {
            out.push(i..m.start());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_spelling_of_a_mobile() {
        for phone in [
            "13812345678",
            "138-1234-5678",
            "138 1234 5678",
            "138.1234.5678",
            "１３８１２３４５６７８",
            "１３８－１２３４－５６７８",
            "+86 138 1234 5678",
            "+8613812345678",
            "0086-13812345678",
            "(+86)138-1234-5678",
            "8613812345678",
        ] {
            let out = scrub(&format!("请联系{phone}，谢谢"));
            assert!(out.contains("138****5678"), "{phone} → {out}");
            assert!(!normal(&out).contains("1234"), "{phone} → {out}");
        }
    }

    #[test]
    fn masks_landlines_ids_cards_mails_plates_and_names() {
        let cases = [
            ("电话010-65123456", "电话010-****56"),
            ("电话(010)65123456", "电话(010)****56"),
            ("电话6512 3456", "电话****56"),
            ("客服400-810-5678", "客服400****78"),
            ("身份证11010519491231002X号", "身份证110****2X号"),
            ("卡号6222 0212 3456 7890 128", "卡号****0128"),
            ("邮箱zhang.san@example.com", "邮箱z***@example.com"),
            ("车牌京A12345", "车牌京A*****"),
            ("车牌京A·D12345停在门口", "车牌京A*****停在门口"),
            ("我叫张三丰，住在东四十条21号", "我叫***，住在东四十条21号"),
            ("联系人：李四", "联系人：**"),
            ("请王先生回电", "请*先生回电"),
            ("name: John Smith", "name: **********"),
            ("欧阳三丰女士反映", "****女士反映"),
            ("座机2029-1128", "座机****28"),
            ("电话是幺三八一二三四五六七八", "电话是***********"),
        ];
        for (text, want) in cases {
            assert_eq!(scrub(text), want, "{text}");
        }
    }

    #[test]
    fn keeps_places_dates_money_and_house_numbers() {
        for text in [
            "东四十条21号院3号楼2单元501室",
            "2020-01-06 12:09:38在王府井大街",
            "20200106反映",
            "2019-2020年供暖季",
            "2020-01-06至2020-02-06",
            "房租3000-5000元",
            "拖欠工资15000000元",
            "我是王府井社区居民",
            "我是彭庄社区的",
            "我是汪芝麻胡同的住户",
            "张自忠路社区门口",
            "12345热线",
            "路灯坏了3天",
        ] {
            assert_eq!(scrub(text), text);
        }
    }

    #[test]
    fn checks_id_and_card_digits() {
        assert!(valid_id18("11010519491231002X"));
        assert!(!valid_id18("110105194912310021"));
        assert!(luhn("4539578763621486"));
        assert!(!luhn("4539578763621487"));
    }
}
