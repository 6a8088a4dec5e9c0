//! The console's languages: Chinese first, English on request (the `lang` cookie, set by
//! `GET /lang/{zh|en}?back=/path`, which sends the browser back to a local path only).
//!
//! One translation table, `i18n/en.tsv` (Chinese text, a tab, its English), keyed by the Chinese
//! text the pages show. Templates call it through the page's frame (`{{ chrome.t("承办") }}`,
//! `{{ chrome.f("共 {} 件", total) }}`); the server translates the domain's labels (statuses,
//! roles, kinds, actions, …) and its own messages with [`Lang::t`] / [`Lang::f`]. A text missing
//! from the table stays Chinese. Catalog data (categories, units, streets, communities) and what
//! citizens and staff wrote are never translated. The XLSX export and the JSON API are unchanged.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::actor::cookie;

/// The cookie that holds the chosen language (`zh` or `en`; anything else is Chinese).
pub(crate) const LANG_COOKIE: &str = "lang";

/// The English table, as shipped.
const EN_TSV: &str = include_str!("../../i18n/en.tsv");

static EN: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| parse(EN_TSV).0);

/// The table's entries and the problems of its lines (`line: what`), which the tests refuse.
fn parse(tsv: &'static str) -> (HashMap<&'static str, &'static str>, Vec<String>) {
    let mut map = HashMap::new();
    let mut problems = Vec::new();
    for (i, line) in tsv.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let n = i + 1;
        match line.split_once('\t') {
            Some((zh, en)) if !zh.is_empty() && !en.trim().is_empty() && !en.contains('\t') => {
                if zh.matches("{}").count() != en.matches("{}").count() {
                    problems.push(format!("{n}: {zh:?} and {en:?} have different numbers of {{}}"));
                }
                if map.insert(zh, en).is_some() {
                    problems.push(format!("{n}: {zh:?} is given twice"));
                }
            }
            _ => problems.push(format!("{n}: not `Chinese<TAB>English`: {line:?}")),
        }
    }
    (map, problems)
}

/// The language of the console's pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Lang {
    /// 中文, the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The language chosen by the request's `lang` cookie (Chinese unless it says `en`).
    pub(crate) fn of(headers: &HeaderMap) -> Lang {
        match cookie(headers, LANG_COOKIE) {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The value of `<html lang>`.
    pub(crate) fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Whether this is English (for templates).
    pub(crate) fn en(self) -> bool {
        self == Lang::En
    }

    /// `zh` in this language: the table's English, or `zh` itself when it has none.
    pub(crate) fn t(self, zh: &str) -> &str {
        match self {
            Lang::Zh => zh,
            Lang::En => EN.get(zh).copied().unwrap_or(zh),
        }
    }

    /// `zh` in this language with each `{}` replaced by the next of `args`, in order.
    pub(crate) fn f(self, zh: &str, args: &[&dyn Display]) -> String {
        let pattern = self.t(zh);
        let mut out = String::with_capacity(pattern.len() + 16);
        let mut args = args.iter();
        let mut rest = pattern;
        while let Some(at) = rest.find("{}") {
            out.push_str(&rest[..at]);
            match args.next() {
                Some(a) => out.push_str(&a.to_string()),
                None => out.push_str("{}"),
            }
            rest = &rest[at + 2..];
        }
        out.push_str(rest);
        out
    }
}

/// Query of `GET /lang/{code}`: where to go back to.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Switch {
    #[serde(default)]
    back: Option<String>,
}

/// `back` when it is a path of this site: one leading `/`, not `//` (another host), no
/// backslash (browsers read `/\` as `//`), no control characters or spaces. Anything else is `/`.
pub(crate) fn local_path(back: Option<&str>) -> &str {
    match back {
        Some(b)
            if b.starts_with('/')
                && !b.starts_with("//")
                && !b.contains('\\')
                && !b.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            b
        }
        _ => "/",
    }
}

/// `GET /lang/{zh|en}?back=/path`: remembers the language for a year (an HttpOnly cookie: scripts
/// read `<html lang>`) and goes back to `back` (a local path only, else the home page). Needs no
/// session, so the login page has it too.
pub(crate) async fn switch(Path(code): Path<String>, Query(q): Query<Switch>) -> Response {
    let lang = match code.as_str() {
        "zh" => Lang::Zh,
        "en" => Lang::En,
        _ => return (StatusCode::NOT_FOUND, "unknown language: use /lang/zh or /lang/en").into_response(),
    };
    let value = if lang.en() { "en" } else { "zh" };
    let cookie = format!("{LANG_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000");
    // Non-ASCII (a search word) percent-encoded, so the Location header is plain ASCII.
    let back = percent_encoding::utf8_percent_encode(local_path(q.back.as_deref()), percent_encoding::CONTROLS);
    let mut resp = Redirect::to(&back.to_string()).into_response();
    resp.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_well_formed() {
        let (map, problems) = parse(EN_TSV);
        assert!(problems.is_empty(), "i18n/en.tsv:\n{}", problems.join("\n"));
        let chinese_english: Vec<_> = map.iter().filter(|(_, en)| en.chars().any(chinese)).collect();
        assert!(chinese_english.is_empty(), "English with Chinese in it: {chinese_english:?}");
        assert!(map.len() > 100);
    }

    #[test]
    fn missing_keys_stay_chinese_and_placeholders_follow_the_english_order() {
        assert_eq!(Lang::En.t("承办"), "Inbox");
        assert_eq!(Lang::Zh.t("承办"), "承办");
        assert_eq!(Lang::En.t("没有这一条"), "没有这一条");
        assert_eq!(Lang::En.f("共 {} 件", &[&3]), "3 in all");
        assert_eq!(Lang::Zh.f("共 {} 件", &[&3]), "共 3 件");
    }

    #[test]
    fn only_local_paths_are_gone_back_to() {
        for ok in ["/", "/cases/12", "/cases?q=%E5%99%AA&status=closed", "/assessment?period=2026-11"] {
            assert_eq!(local_path(Some(ok)), ok);
        }
        for bad in [
            "//evil.example/",
            "http://evil.example/",
            "https:evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/ /evil",
            "javascript:alert(1)",
            "evil",
            "",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(local_path(None), "/");
    }

    /// Han characters and full-width punctuation (what an English page must not show outside
    /// data).
    fn chinese(c: char) -> bool {
        matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{ff00}'..='\u{ffef}')
    }

    /// The helper calls of a template line (`X.t("…")`, `X.f("…", …)`): their Chinese keys, and
    /// the line with the calls' literals taken out.
    fn calls(line: &str) -> (Vec<&str>, String) {
        let mut keys = Vec::new();
        let mut rest = String::new();
        let mut s = line;
        loop {
            let next =
                [".t(\"", ".f(\"", ".f2(\"", ".f4(\""].iter().filter_map(|m| s.find(m).map(|at| (at, m.len()))).min();
            let Some((at, len)) = next else { break };
            rest.push_str(&s[..at]);
            let after = &s[at + len..];
            let end = after.find('"').unwrap_or(after.len());
            keys.push(&after[..end]);
            s = &after[(end + 1).min(after.len())..];
        }
        rest.push_str(s);
        (keys, rest)
    }

    /// The switch names each language in itself: 中文 stays Chinese on an English page.
    const NATIVE: &[&str] = &["中文"];

    #[test]
    fn every_template_text_goes_through_the_table_and_has_english() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut bare = Vec::new();
        let mut missing = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(files.len() > 15, "{dir:?}");
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            // Template comments say what they like.
            let mut in_comment = false;
            for (i, line) in text.lines().enumerate() {
                let (keys, mut rest) = calls(line);
                for k in keys {
                    if !EN.contains_key(k) {
                        missing.push(format!("templates/{name}:{}: {k:?}", i + 1));
                    }
                }
                // The switch's own name of Chinese (the line that links to /lang/zh).
                if rest.contains("id=\"lang-zh\"") {
                    for n in NATIVE {
                        rest = rest.replace(&format!(">{n}</a>"), "");
                    }
                }
                let mut shown = String::new();
                let mut s = rest.as_str();
                loop {
                    if in_comment {
                        match s.find("#}") {
                            Some(at) => (in_comment, s) = (false, &s[at + 2..]),
                            None => break,
                        }
                    } else {
                        match s.find("{#") {
                            Some(at) => {
                                shown.push_str(&s[..at]);
                                (in_comment, s) = (true, &s[at + 2..]);
                            }
                            None => {
                                shown.push_str(s);
                                break;
                            }
                        }
                    }
                }
                if shown.chars().any(chinese) {
                    bare.push(format!("templates/{name}:{}: {}", i + 1, line.trim()));
                }
            }
        }
        assert!(bare.is_empty(), "Chinese outside chrome.t(\"…\") / chrome.f(\"…\", …):\n{}", bare.join("\n"));
        assert!(missing.is_empty(), "no English in i18n/en.tsv for:\n{}", missing.join("\n"));
    }

    /// `workflow::Action::label` of every action.
    const ACTION_LABELS: &[&str] = &[
        "受理",
        "派单",
        "签收",
        "办理",
        "退单申请",
        "退单通过",
        "退单驳回",
        "延期申请",
        "延期批准",
        "延期驳回",
        "督办",
        "吹哨",
        "报到",
        "答复",
        "核查",
        "回访",
        "结案",
        "重办",
        "合并",
        "改分类",
        "考核申诉",
        "核减",
        "申诉裁定",
        "设备告警",
    ];

    #[test]
    fn every_key_the_server_uses_has_english() {
        // The console's Rust sources: every literal given to `.t("…")` or `.f("…", …)`.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
        let mut missing = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let path = e.unwrap().path();
                // This module's own tests use keys missing on purpose.
                if path.ends_with("i18n.rs") {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, line) in text.lines().enumerate() {
                    for k in calls(line).0 {
                        if k.chars().any(chinese) && !EN.contains_key(k) {
                            missing.push(format!("{}:{}: {k:?}", path.display(), i + 1));
                        }
                    }
                }
            }
        }
        // And every label of the domain the pages show.
        use jiesu_domain::model::{
            AppealReason, CaseKind, Channel, DeadlineClass, Role, Satisfaction, Status, UnitKind,
        };
        let labels = Status::ALL
            .iter()
            .map(|s| s.label())
            .chain(Role::ALL.iter().map(|r| r.label()))
            .chain(Channel::ALL.iter().map(|c| c.label()))
            .chain(CaseKind::ALL.iter().map(|k| k.label()))
            .chain(DeadlineClass::ALL.iter().map(|d| d.label()))
            .chain(UnitKind::ALL.iter().map(|u| u.label()))
            .chain(Satisfaction::ALL.iter().map(|s| s.label()))
            .chain(AppealReason::ALL.iter().map(|r| r.label()))
            .chain(jiesu_domain::alarm::Level::ALL.iter().map(|l| l.label()))
            .chain(jiesu_domain::alarm::Colour::ALL.iter().map(|c| c.label()))
            .chain(jiesu_core::notices::NoticeKind::ALL.iter().map(|k| k.label()))
            .chain(ACTION_LABELS.iter().copied());
        for l in labels {
            if l.chars().any(chinese) && !EN.contains_key(l) {
                missing.push(format!("domain label {l:?}"));
            }
        }
        assert!(missing.is_empty(), "no English in i18n/en.tsv for:\n{}", missing.join("\n"));
    }
}
