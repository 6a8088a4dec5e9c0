//! A generated corpus for the scrubber (`jiesu_domain::scrub`): identifiers of every kind in many
//! spellings, embedded in real citizen messages (the Teddy Cup 2020 set in
//! ../shared/data/teddy2020c, or a few sentences of our own when it is missing), and place names of
//! the district (catalog and gazetteer) embedded the same way as the negative corpus. Shared by
//! `tests/scrub.rs` (which asserts the targets) and `examples/scrub_recall.rs` (which prints them).

#![allow(dead_code)]

use std::collections::BTreeMap;

use jiesu_domain::catalog::Catalog;
use jiesu_domain::scrub::{luhn, scrub};

/// The Teddy Cup messages, relative to this crate.
pub const TEDDY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/teddy2020c");
/// The gazetteer of the district.
pub const GAZETTEER: &str = include_str!("../../../jiesu-geo/data/gazetteer.csv");

/// A small deterministic generator (SplitMix64): the corpus is the same on every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn digit(&mut self) -> char {
        char::from(b'0' + self.below(10) as u8)
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| self.digit()).collect()
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// The kinds of identifier generated.
pub const KINDS: [&str; 10] =
    ["mobile", "landline", "service line", "id18", "id15", "bank card", "e-mail", "plate", "name", "spoken"];

/// One identifier as written in a message, and what must not survive the scrubber.
#[derive(Debug, Clone)]
pub struct Identifier {
    pub kind: &'static str,
    /// The text put into the message (with its lead-in, e.g. `联系电话：138-1234-5678`).
    pub written: String,
    /// Digits (and X) that must not appear in a row in the output; empty for names.
    pub secret_digits: String,
    /// Text that must not appear in the output (the name with its trigger or honorific).
    pub secret_text: String,
}

impl Identifier {
    /// True when the scrubbed text no longer shows it.
    pub fn masked_in(&self, out: &str) -> bool {
        let digits: String = normal(out);
        !out.contains(&self.secret_text) && (self.secret_digits.is_empty() || !digits.contains(&self.secret_digits))
    }
}

/// Digits and X of a text, full-width ones made ASCII, separators inside numbers dropped, any
/// other character (a mask too) a `|`.
pub fn normal(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '\u{FF10}'..='\u{FF19}' => char::from_u32(c as u32 - 0xFF10 + u32::from(b'0')),
            'x' | 'X' | 'ｘ' | 'Ｘ' => Some('X'),
            // What people put inside a number joins its digits; anything else separates them.
            ' ' | '-' | '.' | '－' | '．' | '　' | '·' | '(' | ')' | '（' | '）' | '+' | '＋' => None,
            _ => Some('|'),
        })
        .collect()
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - u32::from(b'0') + 0xFF10).unwrap_or(c),
            '-' => '－',
            _ => c,
        })
        .collect()
}

/// `digits` split into groups of `sizes` joined with `sep`.
fn grouped(digits: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut at = 0;
    for &n in sizes {
        let end = (at + n).min(digits.len());
        out.push(&digits[at..end]);
        at = end;
    }
    if at < digits.len() {
        out.push(&digits[at..]);
    }
    out.join(sep)
}

const SEPARATORS: [&str; 7] = ["", " ", "-", ".", "－", "　", " - "];
const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗",
    "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "田", "董", "袁", "潘", "蒋", "欧阳",
    "诸葛", "司马",
];
const GIVEN: [&str; 40] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞",
    "平", "刚", "桂", "英", "华", "玉", "兰", "建", "国", "志", "红", "春", "晓", "海", "云", "文", "辉", "三丰", "德",
    "淑", "宏",
];
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁苏浙赣鄂桂甘晋蒙陕吉闽贵粤川琼";
const PLATE_LETTERS: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ";

fn mobile(rng: &mut Rng) -> Identifier {
    let digits = format!("1{}{}", rng.pick(&['3', '5', '6', '7', '8', '9']), rng.digits(9));
    let sep = rng.pick(&SEPARATORS);
    let sizes: &[usize] = rng.pick(&[&[3, 4, 4][..], &[3, 8], &[7, 4], &[3, 3, 5], &[11]]);
    let mut number = grouped(&digits, sizes, sep);
    if rng.chance(20) {
        number = full_width(&number);
    }
    let prefix = rng.pick(&["", "", "", "+86", "+86 ", "0086", "0086-", "86", "(+86)", "＋86 ", "（+86）"]);
    let lead = rng.pick(&["我的电话是", "联系电话：", "请打", "手机", "电话", "手机号码:", "，", "联系方式 ", "tel:"]);
    Identifier {
        kind: "mobile",
        written: format!("{lead}{prefix}{number}"),
        secret_digits: digits[3..].to_string(),
        secret_text: number,
    }
}

fn landline(rng: &mut Rng) -> Identifier {
    let area = rng.pick(&["010", "010", "021", "022", "0755", "0311"]);
    let local = format!("{}{}", rng.pick(&['2', '3', '5', '6', '8']), rng.digits(7));
    let sep = rng.pick(&["", "-", " ", "－"]);
    let local_written = if rng.chance(40) { grouped(&local, &[4, 4], sep) } else { local.clone() };
    let number = match rng.below(5) {
        0 => format!("{area}-{local_written}"),
        1 => format!("({area}){local_written}"),
        2 => format!("（{area}）{local_written}"),
        3 => format!("{area} {local_written}"),
        _ => grouped(&local, &[4, 4], rng.pick(&[" ", "-"])),
    };
    let lead = rng.pick(&["座机", "家里电话", "联系电话：", "办公电话", "电话"]);
    Identifier {
        kind: "landline",
        written: format!("{lead}{number}"),
        secret_digits: local[..6].to_string(),
        secret_text: number,
    }
}

fn service_line(rng: &mut Rng) -> Identifier {
    let digits = format!("{}00{}", rng.pick(&['4', '8']), rng.digits(7));
    let sep = rng.pick(&["", "-", " "]);
    let number = grouped(&digits, rng.pick(&[&[3, 3, 4][..], &[3, 4, 3], &[10]]), sep);
    Identifier {
        kind: "service line",
        written: format!("{}{number}", rng.pick(&["客服电话", "拨打", "热线"])),
        secret_digits: digits[3..9].to_string(),
        secret_text: number,
    }
}

/// An 18-digit ID number with its check character.
pub fn id18_digits(rng: &mut Rng) -> String {
    let region = rng.pick(&["110101", "110105", "110108", "130102", "320106", "440305", "510104"]);
    let year = 1940 + rng.below(66);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let body = format!("{region}{year:04}{month:02}{day:02}{}", rng.digits(3));
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    let check = char::from(b"10X98765432"[(sum % 11) as usize]);
    format!("{body}{check}")
}

fn id18(rng: &mut Rng) -> Identifier {
    let mut id = id18_digits(rng);
    // Every ID ending in X: the spelling that broke the old masking.
    while rng.chance(30) && !id.ends_with('X') {
        id = id18_digits(rng);
    }
    let mut written = if rng.chance(30) { grouped(&id, &[6, 8, 4], " ") } else { id.clone() };
    if rng.chance(20) {
        written = written.replace('X', "x");
    }
    if rng.chance(15) {
        written = full_width(&written);
    }
    let lead = rng.pick(&["身份证号", "身份证：", "身份证号码是", "证件号 "]);
    Identifier {
        kind: "id18",
        written: format!("{lead}{written}"),
        secret_digits: id[6..16].to_string(),
        secret_text: written,
    }
}

fn id15(rng: &mut Rng) -> Identifier {
    let id =
        format!("110101{:02}{:02}{:02}{}", 40 + rng.below(59), 1 + rng.below(12), 1 + rng.below(28), rng.digits(3));
    Identifier {
        kind: "id15",
        written: format!("{}{id}", rng.pick(&["老身份证号", "身份证"])),
        secret_digits: id[6..13].to_string(),
        secret_text: id,
    }
}

fn bank_card(rng: &mut Rng) -> Identifier {
    let len = 16 + rng.below(4);
    let prefix = rng.pick(&["622202", "621700", "622848", "456351", "524047"]);
    let mut body = format!("{prefix}{}", rng.digits(len - prefix.len() - 1));
    let check =
        (0..10).map(|d| char::from(b'0' + d)).find(|d| luhn(&format!("{body}{d}"))).expect("a Luhn digit exists");
    body.push(check);
    let written = if rng.chance(50) { grouped(&body, &[4, 4, 4, 4], rng.pick(&[" ", "-"])) } else { body.clone() };
    Identifier {
        kind: "bank card",
        written: format!("{}{written}", rng.pick(&["银行卡号", "工资卡", "卡号：", "打到"])),
        secret_digits: body[6..len - 4].to_string(),
        secret_text: written,
    }
}

fn email(rng: &mut Rng) -> Identifier {
    let local = format!(
        "{}{}{}",
        rng.pick(&["zhang", "li.wei", "wang_fang", "liu-yang", "chen", "zhaolei"]),
        rng.pick(&["", ".", "_"]),
        {
            let n = rng.below(5);
            rng.digits(n)
        }
    );
    let domain = rng.pick(&["qq.com", "163.com", "126.com", "sina.com.cn", "example.org", "bjdch.gov.cn"]);
    let address = format!("{local}@{domain}");
    Identifier {
        kind: "e-mail",
        written: format!("{}{address}", rng.pick(&["邮箱", "请发邮件到", "email: ", "电子邮件："])),
        secret_digits: String::new(),
        secret_text: local,
    }
}

fn plate(rng: &mut Rng) -> Identifier {
    let province: Vec<char> = PROVINCES.chars().collect();
    let letters: Vec<char> = PLATE_LETTERS.chars().collect();
    let head = format!("{}{}", rng.pick(&province), rng.pick(&letters));
    let tail = if rng.chance(30) {
        format!("{}{}", rng.pick(&['D', 'F']), rng.digits(5))
    } else {
        let mut t: String = (0..5).map(|_| if rng.chance(70) { rng.digit() } else { rng.pick(&letters) }).collect();
        if !t.chars().any(|c| c.is_ascii_digit()) {
            t.replace_range(4..5, "7");
        }
        t
    };
    let sep = rng.pick(&["", "", "·", " "]);
    let number = format!("{head}{sep}{tail}");
    Identifier {
        kind: "plate",
        written: format!(
            "{}{number}{}",
            rng.pick(&["车牌号", "一辆", "车牌", "，"]),
            rng.pick(&["的车", "长期占道", "，"])
        ),
        secret_digits: String::new(),
        secret_text: tail,
    }
}

fn name(rng: &mut Rng) -> Identifier {
    let surname = rng.pick(&SURNAMES);
    let given = rng.pick(&GIVEN);
    let full = format!("{surname}{given}");
    let (written, secret) = match rng.below(8) {
        0 => (format!("我叫{full}，"), format!("我叫{full}")),
        1 => (format!("联系人：{full}，"), full.clone()),
        2 => (format!("姓名：{full}。"), full.clone()),
        3 => (format!("本人{full}，"), format!("本人{full}")),
        4 => (format!("我是{full}，"), format!("我是{full}")),
        5 => {
            let h = rng.pick(&["先生", "女士", "师傅", "阿姨"]);
            (format!("请{surname}{h}回电，"), format!("{surname}{h}"))
        }
        6 => {
            let h = rng.pick(&["先生", "女士"]);
            (format!("{full}{h}反映"), format!("{full}{h}"))
        }
        _ => (format!("联系人{surname}女士，"), format!("{surname}女士")),
    };
    Identifier { kind: "name", written, secret_digits: String::new(), secret_text: secret }
}

/// A mobile number in Chinese digit words, as a hotline operator types what was said.
fn spoken(rng: &mut Rng) -> Identifier {
    let digits = format!("1{}{}", rng.pick(&['3', '5', '8', '9']), rng.digits(9));
    let words: String = digits
        .chars()
        .map(|d| {
            let i = d as usize - '0' as usize;
            if i == 1 && rng.chance(50) {
                '幺'
            } else {
                "零一二三四五六七八九".chars().nth(i).unwrap_or('零')
            }
        })
        .collect();
    Identifier {
        kind: "spoken",
        written: format!("{}{words}", rng.pick(&["电话是", "手机", "号码"])),
        secret_digits: String::new(),
        secret_text: words.chars().skip(3).take(5).collect(),
    }
}

/// One identifier of `kind` (one of [`KINDS`]).
pub fn identifier(kind: &str, rng: &mut Rng) -> Identifier {
    match kind {
        "mobile" => mobile(rng),
        "landline" => landline(rng),
        "service line" => service_line(rng),
        "id18" => id18(rng),
        "id15" => id15(rng),
        "bank card" => bank_card(rng),
        "e-mail" => email(rng),
        "plate" => plate(rng),
        "spoken" => spoken(rng),
        _ => name(rng),
    }
}

/// Real citizen messages (the Teddy Cup set's details), or a few of our own when it is missing;
/// read once.
pub fn messages() -> &'static [String] {
    static MESSAGES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(read_messages);
    &MESSAGES
}

fn read_messages() -> Vec<String> {
    let mut out = Vec::new();
    for file in ["sample_raw_labeled.csv", "hot_messages.csv", "replies.csv"] {
        let Ok(mut reader) = csv::Reader::from_path(format!("{TEDDY}/{file}")) else { continue };
        let headers = reader.headers().cloned().unwrap_or_default();
        let Some(col) = headers.iter().position(|h| h == "detail") else { continue };
        for row in reader.records().flatten() {
            if let Some(text) = row.get(col) {
                let text: String = text.trim().chars().take(300).collect();
                if text.chars().count() > 10 {
                    out.push(text);
                }
            }
        }
    }
    if out.is_empty() {
        eprintln!("note: {TEDDY} is missing; the corpus uses built-in messages only");
        out = [
            "小区门口的路灯坏了三天，晚上出行很不方便，希望尽快维修。",
            "楼下餐馆油烟太大，每天中午和晚上都排放，严重影响居民生活。",
            "胡同里有人私搭乱建，占用消防通道，请有关部门处理。",
            "暖气不热，室温只有十四度，家里有老人和孩子，请供热公司上门检修。",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
    }
    out
}

/// The district's place names: catalog streets and communities, gazetteer names and aliases.
pub fn places() -> Vec<String> {
    let catalog = Catalog::dongcheng();
    let mut names: Vec<String> = catalog.streets().iter().map(|s| s.name.clone()).collect();
    names.extend(catalog.communities().iter().flat_map(|c| [c.name.clone(), c.short_name.clone()]));
    let body: String = GAZETTEER.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body.as_bytes());
    for row in reader.records().flatten() {
        names.extend(row.get(0).map(str::to_string));
        names.extend(row.get(2).unwrap_or("").split('|').filter(|a| !a.is_empty()).map(str::to_string));
    }
    names.sort();
    names.dedup();
    names
}

/// Sentences that carry a place name, a house number, a date, a time or an amount.
const PLACE_TEMPLATES: [&str; 10] = [
    "我住在{}附近，",
    "{}21号院门口，",
    "我是{}居民，",
    "我是{}的，",
    "{}3号楼2单元501室",
    "2020年1月6日12:09在{}",
    "{}旁边的停车场收费15元每小时，",
    "联系人在{}等候，",
    "{}王师傅说",
    "路过{}时看到",
];

/// A message with `inserted` put between two sentences of `message` (or at its start or end).
pub fn embed(message: &str, inserted: &str, rng: &mut Rng) -> String {
    let cuts: Vec<usize> =
        message.char_indices().filter(|(_, c)| "，。！？；".contains(*c)).map(|(i, c)| i + c.len_utf8()).collect();
    let at = match rng.below(cuts.len() + 2) {
        0 => 0,
        n if n > cuts.len() => message.len(),
        n => cuts[n - 1],
    };
    format!("{}{inserted}{}", &message[..at], &message[at..])
}

/// The figures of one run.
#[derive(Debug, Default)]
pub struct Figures {
    /// Per kind: generated, masked.
    pub by_kind: BTreeMap<&'static str, (usize, usize)>,
    /// Messages generated.
    pub messages: usize,
    /// Place sentences tested, and those whose place name the scrubber changed.
    pub places: usize,
    pub places_masked: Vec<String>,
    /// Identifiers that survived, with the output (the first few).
    pub missed: Vec<String>,
}

impl Figures {
    pub fn generated(&self) -> usize {
        self.by_kind.values().map(|(n, _)| n).sum()
    }

    pub fn masked(&self) -> usize {
        self.by_kind.values().map(|(_, m)| m).sum()
    }
}

/// Generates `count` messages (each with one to three identifiers) and one place sentence per
/// place name and template, scrubs them and counts.
pub fn run(count: usize, seed: u64) -> Figures {
    let mut rng = Rng::new(seed);
    let texts = messages();
    let mut f = Figures { messages: count, ..Figures::default() };
    for _ in 0..count {
        let mut text = texts[rng.below(texts.len())].clone();
        // An identifier the message already shows (a name in its greeting) could not be told apart.
        let ids: Vec<Identifier> = (0..1 + rng.below(3))
            .map(|_| {
                loop {
                    let id = identifier(rng.pick(&KINDS), &mut rng);
                    if !text.contains(&id.secret_text) {
                        break id;
                    }
                }
            })
            .collect();
        for id in &ids {
            text = embed(&text, &format!("{}。", id.written), &mut rng);
        }
        let out = scrub(&text);
        for id in &ids {
            let entry = f.by_kind.entry(id.kind).or_default();
            entry.0 += 1;
            if id.masked_in(&out) {
                entry.1 += 1;
            } else if f.missed.len() < 20 {
                f.missed.push(format!("{}: {} → {out}", id.kind, id.written));
            }
        }
    }
    for place in places() {
        for template in PLACE_TEMPLATES {
            let sentence = template.replace("{}", &place);
            let text = embed(&texts[rng.below(texts.len())], &sentence, &mut rng);
            f.places += 1;
            if !scrub(&text).contains(&sentence.replace("王师傅", "*师傅")) {
                f.places_masked.push(format!("{place}: {sentence} → {}", scrub(&sentence)));
            }
        }
    }
    f
}
