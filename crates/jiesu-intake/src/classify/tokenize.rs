//! Tokenization of messages for the classifier.
//!
//! Two inputs are accepted:
//!
//! * **pre-segmented** text (the training file's `text_segmented` column): tokens separated by
//!   whitespace, stop words and punctuation already removed;
//! * **raw** Chinese text: segmented here with [`jieba_rs`] (its embedded default dictionary,
//!   HMM on, as in Python jieba's default `cut`), then filtered the way the training data was
//!   prepared: whitespace, common punctuation and stop words are dropped (see [`STOP_WORDS`];
//!   the rarer symbols the preparers kept are in [`KEPT_SYMBOLS`]), ASCII compounds such as
//!   `baidu.com` are split as Python jieba splits them, and Excel's `_x000D_` stays one token.
//!
//! **Subject.** A message is its subject followed by its body. Where the text shows the
//! subject's end, [`tokens`] puts the marker [`SUBJECT_END`] there (once, after at least one
//! token): at the first whitespace that is not a single ASCII space — a line break, a tab, an
//! ideographic space `U+3000`, a no-break space, or a run of two or more whitespace characters.
//! In the training file 78 % of the messages have one (the body's indentation survived
//! segmentation as `　 　` or a run of spaces); raw `subject` + `detail` messages are joined with a
//! line break ([`super::data`]), so they always have one. The title views of
//! [`super::features`] use it.
//!
//! The stop list was derived from the data: it holds the tokens that jieba emits at least twice
//! on the raw sample messages (`sample_raw_labeled.csv`, subject + detail) but that never
//! occur in the segmented training file, i.e. the words its preparers removed (a few personal
//! and company names among them were left out). Single ASCII digits and the letter `A` (the
//! anonymised city) are on it because the preparers' list removed them too.

use std::sync::OnceLock;

use jieba_rs::Jieba;

/// The shared segmenter: loading jieba's dictionary takes ~100 ms, so it is built once.
fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// Loads jieba's dictionary now (it is otherwise loaded by the first raw message), so that
/// timings of raw-text prediction leave it out.
pub fn warm_up() {
    let _ = jieba();
}

/// Words dropped from raw text after segmentation, as the training data's preparers did.
pub const STOP_WORDS: &[&str] = &[
    "的",
    "了",
    "在",
    "是",
    "我",
    "我们",
    "和",
    "有",
    "不",
    "也",
    "都",
    "没有",
    "为",
    "就",
    "到",
    "A",
    "对",
    "与",
    "要",
    "还",
    "给",
    "等",
    "但",
    "这",
    "并",
    "上",
    "被",
    "又",
    "将",
    "去",
    "能",
    "可以",
    "1",
    "让",
    "而",
    "来",
    "该",
    "不能",
    "2",
    "他们",
    "向",
    "有关",
    "3",
    "吗",
    "多",
    "作为",
    "一",
    "本人",
    "个",
    "什么",
    "会",
    "5",
    "按",
    "就是",
    "这样",
    "把",
    "其",
    "从",
    "由",
    "自己",
    "以",
    "不是",
    "人民",
    "4",
    "或者",
    "多次",
    "通过",
    "关于",
    "及",
    "可",
    "这些",
    "6",
    "这个",
    "您",
    "其他",
    "为了",
    "于",
    "或",
    "根据",
    "因",
    "过",
    "但是",
    "8",
    "任何",
    "他",
    "为什么",
    "因为",
    "7",
    "才",
    "只有",
    "没",
    "内",
    "而且",
    "之",
    "大",
    "着",
    "如果",
    "所",
    "地",
    "此",
    "她",
    "你",
    "很",
    "由于",
    "很多",
    "更",
    "还是",
    "9",
    "怎么",
    "开始",
    "时候",
    "这么",
    "基本",
    "呢",
    "们",
    "且",
    "本",
    "第",
    "还有",
    "按照",
    "谁",
    "必须",
    "结果",
    "三",
    "二",
    "均",
    "至",
    "经过",
    "所以",
    "如何",
    "同时",
    "看",
    "可能",
    "如此",
    "为何",
    "啊",
    "以及",
    "你们",
    "那么",
    "用",
    "并且",
    "个人",
    "不得",
    "打",
    "吧",
    "不要",
    "经",
    "拿",
    "望",
    "各种",
    "那",
    "如",
    "这里",
    "因此",
    "才能",
    "起",
    "出",
    "叫",
    "连",
    "多少",
    "跟",
    "只是",
    "保险",
    "非常",
    "得",
    "难道",
    "一样",
    "像",
    "当",
    "老",
    "哪里",
    "只要",
    "尽快",
    "不会",
    "近",
    "大家",
    "对于",
    "自",
    "出来",
    "其中",
    "甚至",
    "有些",
    "可是",
    "仍",
    "然后",
    "后来",
    "它",
    "之一",
    "比",
    "那些",
    "竟然",
    "起来",
    "另",
    "据",
    "如下",
    "带",
    "的话",
    "何时",
    "四",
    "虽然",
    "等等",
    "各",
    "不了",
    "不管",
    "然而",
    "经常",
    "另外",
    "即",
    "每",
    "五",
    "不仅",
    "不少",
    "哪些",
    "否则",
    "到底",
    "某",
    "除",
    "依照",
    "加上",
    "仅",
    "既然",
    "随着",
    "故意",
    "怎样",
    "首先",
    "便",
    "冲",
    "亲自",
    "那里",
    "不同",
    "到处",
    "同",
    "其实",
    "不但",
    "既",
    "管",
    "马上",
    "故",
    "方",
    "如今",
    "不再",
    "一切",
    "六",
    "见",
    "仍然",
    "离",
    "不满",
    "及其",
    "而是",
    "就算",
    "哪",
    "于是",
    "靠",
    "反而",
    "共",
    "比如",
    "从未",
    "极大",
    "归",
    "基本上",
    "若",
    "各位",
    "某些",
    "快",
    "呀",
    "即使",
    "任",
    "近年来",
    "自从",
    "进去",
    "不得不",
    "一般",
    "按时",
    "其它",
    "怎么办",
    "他人",
    "不然",
    "则",
    "者",
    "别人",
    "那个",
    "０",
    "待",
    "从而",
    "别的",
    "单",
    "此外",
    "刚",
    "各个",
    "那边",
    "沿",
    "更加",
    "大事",
    "其次",
    "人家",
    "居然",
    "边",
    "虽",
    "绝对",
    "么",
    "自身",
    "当然",
    "不过",
    "毫无",
    "敢",
    "哪个",
    "简直",
    "极",
    "怕",
    "当中",
    "满",
    "等到",
    "八",
    "借",
    "充分",
    "往",
    "别",
    "可见",
    "究竟",
    "一旦",
    "那样",
    "大概",
    "综上所述",
    "自家",
    "即将",
    "进来",
    "无论",
    "要是",
    "竟",
    "极其",
    "使得",
    "加之",
    "一方面",
    "看来",
    "不如",
    "当场",
    "从来",
    "不力",
    "２",
    "并非",
    "除了",
    "不止",
    "九",
    "定",
    "要么",
    "较",
    "前后",
    "半",
    "基于",
    "莫",
    "公然",
    "１",
    "啦",
    "必将",
    "毕竟",
    "尽",
    "临",
    "本着",
    "0",
    "据说",
    "伙同",
    "出去",
    "来看",
    "冒",
    "理应",
    "替",
    "差不多",
    "大约",
    "的确",
    "社会主义",
    "将近",
    "什么样",
    "几乎",
    "截至",
    "也好",
    "仅仅",
    "七",
    "不仅仅",
    "这边",
    "尽量",
    "尽早",
    "大大",
    "怎么样",
    "全年",
    "再说",
    "本身",
    "照",
    "每逢",
    "而已",
    "不怕",
    "一则",
    "上下",
    "不怎么",
    "不时",
    "与其",
    "与否",
    "之所以",
    "互相",
    "从不",
    "从严",
    "从中",
    "从此",
    "以免",
    "以至于",
    "何处",
    "何必",
    "依",
    "光",
    "其二",
    "况且",
    "凭",
    "别说",
    "加以",
    "千",
    "千万",
    "即便",
    "另一方面",
    "各自",
    "吓",
    "哈",
    "哦",
    "哪儿",
    "哪怕",
    "啥",
    "多多",
    "大多",
    "她们",
    "如期",
    "它们",
    "将要",
    "就此",
    "尽可能",
    "尽管",
    "屡屡",
    "己",
    "常常",
    "当即",
    "很少",
    "总之",
    "或是",
    "或许",
    "日益",
    "暗地里",
    "更为",
    "朝",
    "极为",
    "极度",
    "某个",
    "此后",
    "每当",
    "白白",
    "立马",
    "紧接着",
    "而后",
    "而言",
    "至于",
    "要不是",
    "起初",
    "趁",
    "趁机",
    "过于",
    "鉴于",
    "长期以来",
    "随",
    "零",
    "顿时",
    "颇",
];

/// Symbols the training data kept (the preparers' list removed common punctuation only):
/// every non-alphanumeric token seen at least three times in the segmented training file.
pub const KEPT_SYMBOLS: &[&str] = &[
    "—", "【", "】", "．", "©", "〔", "〕", "......", "---", "－", "＂", "＝", "·", "㎡", "×", "----", "{", "／", "「",
    "」", "}", ".....", "‰", "------", "-----", "℃", "....", "○", "╳", "–", "∶", "#-", "≥", "﹞", "﹝", "●",
    "\u{200b}", ".......", "㎜", "〝", "〞", "″",
];

/// True when `word` carries no letter, digit or CJK ideograph (punctuation, symbols, spaces).
fn is_punct_or_space(word: &str) -> bool {
    !word.chars().any(char::is_alphanumeric)
}

fn stop_set() -> &'static std::collections::HashSet<&'static str> {
    static SET: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().copied().collect())
}

fn kept_set() -> &'static std::collections::HashSet<&'static str> {
    static SET: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| KEPT_SYMBOLS.iter().copied().collect())
}

/// True when a raw-text token is dropped before feature extraction.
pub fn is_dropped(word: &str) -> bool {
    if is_punct_or_space(word) { !kept_set().contains(word) } else { stop_set().contains(word) }
}

/// Splits an ASCII compound the way Python jieba (which made the training data) does: pieces
/// matching `[a-zA-Z0-9]+(\.[0-9]+)?%?` are words, the characters between them are dropped
/// (jieba-rs keeps `baidu.com` or `2015-2040` whole; the training data has `baidu`, `com`).
fn split_ascii_compound<'a>(word: &'a str, out: &mut Vec<&'a str>) {
    let b = word.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        if i < b.len() && b[i] == b'%' {
            i += 1;
        }
        let piece = &word[start..i];
        if !is_dropped(piece) {
            out.push(piece);
        }
    }
}

/// Segments raw Chinese text with jieba and drops punctuation and stop words, matching the
/// preparation of the training data (see the module docs).
pub fn segment_raw(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for t in jieba().cut(text, true) {
        let w = t.word;
        if w == "x000D" {
            // Excel's escaped carriage return `_x000D_`: one token in the training data.
            out.push("_x000D_");
        } else if w.is_ascii() && w.len() > 1 && w.bytes().any(|c| b"+#&._%-".contains(&c)) && !is_punct_or_space(w) {
            split_ascii_compound(w, &mut out);
        } else if !is_dropped(w) {
            out.push(w);
        }
    }
    out
}

/// The token [`tokens`] puts after a message's subject. A line break: no real token contains
/// whitespace, so it cannot be confused with one.
pub const SUBJECT_END: &str = "\n";

/// Splits pre-segmented text on whitespace (Unicode `White_Space`, as `str::split_whitespace`,
/// with a fast path for ASCII).
pub fn split_segmented(text: &str) -> Vec<&str> {
    split(text, false)
}

/// [`split_segmented`], with [`SUBJECT_END`] before the first token that follows whitespace
/// other than a single ASCII space (see the module docs).
pub fn split_segmented_marked(text: &str) -> Vec<&str> {
    split(text, true)
}

fn split(text: &str, mark: bool) -> Vec<&str> {
    let mut out = Vec::with_capacity(text.len() / 4 + 1);
    // Whitespace since the last token: none (0), one ASCII space (1), anything else (2).
    let mut gap = 0u8;
    let mut marked = !mark;
    let bytes = text.as_bytes();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Fast path, one byte at a time: a byte that cannot begin whitespace (printable ASCII,
        // a continuation byte, or the lead byte of a character outside the whitespace blocks)
        // starts or continues a token. Lead bytes are never continuation bytes, so the slow
        // path below always sees the start of a character.
        if b > b' ' && !matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3) {
            if start.is_none() {
                if gap == 2 && !marked && !out.is_empty() {
                    out.push(SUBJECT_END);
                    marked = true;
                }
                start = Some(i);
            }
            gap = 0;
            i += 1;
            continue;
        }
        let (is_space, len) = match b {
            0..0x80 => (b.is_ascii_whitespace() || b == 0x0B, 1),
            // Lead bytes of the non-ASCII White_Space characters: U+0085, U+00A0 (C2),
            // U+1680 (E1), U+2000–U+205F (E2), U+3000 (E3).
            0xC2 | 0xE1 | 0xE2 | 0xE3 => {
                let c = text[i..].chars().next().unwrap_or(' ');
                (c.is_whitespace(), c.len_utf8())
            }
            0xC0..0xE0 => (false, 2),
            0xE0..0xF0 => (false, 3),
            _ => (false, 4),
        };
        match (is_space, start) {
            (true, Some(s)) => {
                out.push(&text[s..i]);
                start = None;
            }
            (false, None) => {
                if gap == 2 && !marked && !out.is_empty() {
                    out.push(SUBJECT_END);
                    marked = true;
                }
                start = Some(i);
            }
            _ => {}
        }
        if is_space {
            gap = if gap == 0 && b == b' ' { 1 } else { 2 };
        } else {
            gap = 0;
        }
        i += len;
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Tokens of a message, segmented (raw) or split (pre-segmented), with [`SUBJECT_END`] after
/// the subject where the text shows its end (see the module docs).
pub fn tokens(text: &str, pre_segmented: bool) -> Vec<&str> {
    if pre_segmented {
        return split_segmented_marked(text);
    }
    // Raw text: the subject ends at the first whitespace that is not a single ASCII space,
    // after some non-whitespace text. jieba splits there anyway, so segmenting the two parts
    // apart gives the same tokens.
    let mut seen = false;
    let mut prev_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            let next_space = text[i + c.len_utf8()..].chars().next().is_some_and(char::is_whitespace);
            if seen && !prev_space && (c != ' ' || next_space) {
                let mut out = segment_raw(&text[..i]);
                let rest = segment_raw(&text[i..]);
                if !out.is_empty() && !rest.is_empty() {
                    out.push(SUBJECT_END);
                }
                out.extend(rest);
                return out;
            }
            prev_space = true;
        } else {
            seen = true;
            prev_space = false;
        }
    }
    segment_raw(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_text_is_segmented_and_filtered() {
        let t = segment_raw("小区的路灯坏了，请尽快维修！");
        assert!(t.contains(&"小区"), "{t:?}");
        assert!(t.contains(&"路灯"), "{t:?}");
        assert!(!t.contains(&"的"), "{t:?}");
        assert!(!t.iter().any(|w| is_punct_or_space(w)), "{t:?}");
    }

    #[test]
    fn raw_text_matches_the_training_preparation() {
        let t = segment_raw("见baidu.com和0000-00000000，占10%，1.5米。_x000D_【通知】");
        assert_eq!(
            t,
            vec!["baidu", "com", "0000", "00000000", "占", "10%", "1.5", "米", "_x000D_", "【", "通知", "】"]
        );
    }

    #[test]
    fn subject_end_is_marked() {
        let m = SUBJECT_END;
        assert_eq!(
            tokens("路灯 坏 　 　 小区 路灯 \u{3000} 维修", true),
            vec!["路灯", "坏", m, "小区", "路灯", "维修"]
        );
        assert_eq!(tokens("a b  c\nd", true), vec!["a", "b", m, "c", "d"]);
        assert_eq!(tokens("a b c", true), vec!["a", "b", "c"]);
        // Leading whitespace is not a subject's end.
        assert_eq!(tokens("　 a b\tc", true), vec!["a", "b", m, "c"]);
        assert_eq!(tokens("a b  ", true), vec!["a", "b"]);
        // Raw subject + detail, joined with a line break.
        let t = tokens("小区路灯坏了\n小区的路灯坏了，请尽快维修！", false);
        let at = t.iter().position(|x| *x == m).expect("marked");
        assert_eq!(&t[..at], segment_raw("小区路灯坏了"));
        assert_eq!(&t[at + 1..], segment_raw("小区的路灯坏了，请尽快维修！"));
        assert_eq!(tokens("小区路灯坏了", false), segment_raw("小区路灯坏了"));
        assert!(!tokens("\n小区路灯坏了", false).contains(&m));
    }

    #[test]
    fn segmented_text_is_split() {
        assert_eq!(split_segmented(" 小区  路灯\t维修 "), vec!["小区", "路灯", "维修"]);
        for t in ["a\u{3000}b\u{a0}c\u{2003}d\u{85}e\u{200b}f", "", "  ", "x", "é ü\u{b}z"] {
            assert_eq!(split_segmented(t), t.split_whitespace().collect::<Vec<_>>(), "{t:?}");
        }
    }

    /// Random strings over characters of every UTF-8 length, whitespace or not, from the blocks
    /// the fast path treats specially: the split is `str::split_whitespace`'s.
    #[test]
    fn split_agrees_with_the_standard_library() {
        let alphabet: Vec<char> = "a Z9\t\n\u{b}\u{c}\r\u{1}\u{7f}é\u{85}\u{a0}\u{1680}\u{2000}\u{200a}\u{2028}\u{202f}\u{205f}\u{2060}\u{3000}、。「小区路灯😀\u{e000}"
            .chars()
            .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5000 {
            let mut t = String::new();
            state = crate::classify::features::mix64(state);
            for _ in 0..(state % 24) {
                state = crate::classify::features::mix64(state);
                t.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            assert_eq!(split_segmented(&t), t.split_whitespace().collect::<Vec<_>>(), "{t:?}");
        }
    }
}
