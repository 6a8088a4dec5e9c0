//! What every input must be before a handler sees it, checked in one place per way in: the URI
//! (path segments and query parameters, by the [`check_uri`] middleware in front of every
//! route), JSON bodies ([`crate::extract::AppJson`] walks every string) and Open311 forms
//! (`open311::params`, with [`form_pairs`]).
//!
//! Text is valid UTF-8 (percent-escapes included: nothing is silently replaced) and has no
//! character that XML 1.0 forbids: no control character other than tab, line feed and carriage
//! return (NUL among them, which PostgreSQL refuses to store), no U+FFFE or U+FFFF. A query
//! parameter is at most [`MAX_QUERY_CHARS`] characters. Each refusal is a 400 that names the field.

use std::borrow::Cow;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode;
use serde_json::Value;

use crate::error::ApiError;
use crate::open311::{Format, Open311Error};

/// Longest accepted query parameter value (and name), in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;

/// Refuses with 400 every `(field, value, most characters)` whose value is longer, naming each.
pub fn check_lengths(fields: &[(&str, Option<&String>, usize)]) -> Result<(), ApiError> {
    let long: Vec<(&str, usize)> = fields
        .iter()
        .filter(|(_, v, max)| v.is_some_and(|v| v.chars().count() > *max))
        .map(|(f, _, max)| (*f, *max))
        .collect();
    let Some((first, max)) = long.first() else { return Ok(()) };
    let mut e = ApiError::bad_request(format!("{first}: longer than {max} characters"));
    for (f, max) in long {
        e = e.with_field(f, format!("longer than {max} characters"));
    }
    Err(e)
}

/// True for the characters that XML 1.0 allows (its `Char` production).
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Checks one text input: Err says what is wrong with it (without repeating the value).
pub fn check_text(value: &str) -> Result<(), String> {
    match value.chars().find(|c| !xml_char(*c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "contains the character U+{:04X}; control characters other than tab, line feed and carriage return are not accepted",
            u32::from(c)
        )),
    }
}

/// Checks every string (keys too) of a JSON body; Err names the first field at fault
/// (`place.address`, `units[1]`).
pub fn check_json(value: &Value) -> Result<(), ApiError> {
    fn walk(v: &Value, path: &str) -> Result<(), (String, String)> {
        match v {
            Value::String(s) => check_text(s).map_err(|m| (path.to_string(), m)),
            Value::Array(items) => {
                items.iter().enumerate().try_for_each(|(i, item)| walk(item, &format!("{path}[{i}]")))
            }
            Value::Object(fields) => fields.iter().try_for_each(|(k, item)| {
                let field = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                check_text(k).map_err(|m| (field.clone(), format!("the field name {m}")))?;
                walk(item, &field)
            }),
            _ => Ok(()),
        }
    }
    walk(value, "").map_err(|(field, message)| {
        let field = if field.is_empty() { "body".to_string() } else { field };
        ApiError::bad_param(&field, message)
    })
}

/// A percent-decoded piece of a URI or form as text; Err when it is not valid UTF-8.
fn decode(raw: &[u8], plus_is_space: bool) -> Result<String, String> {
    let raw: Cow<[u8]> = if plus_is_space && raw.contains(&b'+') {
        Cow::Owned(raw.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect())
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Vec<u8> = percent_decode(&raw).collect();
    String::from_utf8(bytes).map_err(|_| "is not valid UTF-8 (after percent-decoding)".to_string())
}

/// The pairs of an `application/x-www-form-urlencoded` text (a query string or a form body),
/// decoded strictly: Err `(field, message)` for a name or value that is not valid UTF-8, holds a
/// forbidden character, or (when `max_chars` is given) is longer than that.
pub fn form_pairs(raw: &[u8], max_chars: Option<usize>) -> Result<Vec<(String, String)>, (String, String)> {
    let mut out = Vec::new();
    for pair in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let key = decode(k, true).map_err(|m| ("parameter name".to_string(), m))?;
        check_text(&key).map_err(|m| ("parameter name".to_string(), m))?;
        let value = decode(v, true).map_err(|m| (key.clone(), m))?;
        check_text(&value).map_err(|m| (key.clone(), m))?;
        if let Some(max) = max_chars
            && (key.chars().count() > max || value.chars().count() > max)
        {
            return Err((key, format!("longer than {max} characters")));
        }
        out.push((key, value));
    }
    Ok(out)
}

/// Checks the path segments and query parameters of every request before routing; a bad one is
/// refused with 400 naming it, in the Open311 error shape under the Open311 base path (`state`).
pub async fn check_uri(State(open311_base): State<String>, req: Request, next: Next) -> Response {
    let problem = {
        let path = req.uri().path();
        let segment = path.split('/').filter(|s| !s.is_empty()).find_map(|s| {
            decode(s.as_bytes(), false)
                .and_then(|text| check_text(&text))
                .err()
                .map(|m| (format!("path segment '{s}'"), m))
        });
        segment.or_else(|| req.uri().query().and_then(|q| form_pairs(q.as_bytes(), Some(MAX_QUERY_CHARS)).err()))
    };
    match problem {
        None => next.run(req).await,
        Some((field, message)) => {
            let path = req.uri().path();
            if path == open311_base || path.starts_with(&format!("{open311_base}/")) {
                let format = Format::of_request(path, req.headers()).unwrap_or(Format::Xml);
                Open311Error::param(&field, message).render(format)
            } else {
                ApiError::bad_param(&field, message).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn control_characters_are_refused_but_tab_and_newlines_kept() {
        assert!(check_text("暖气\t不热\r\n，请处理").is_ok());
        for bad in ["a\0b", "\u{1}", "\u{b}", "\u{1b}[31m", "\u{fffe}"] {
            assert!(check_text(bad).unwrap_err().contains("U+"), "{bad:?}");
        }
        let e = check_json(&json!({"text": "ok", "place": {"address": "东四\u{0}十条"}})).unwrap_err();
        assert_eq!(e.fields()[0].field, "place.address");
        let e = check_json(&json!({"units": ["S001", "\u{7}"]})).unwrap_err();
        assert_eq!(e.fields()[0].field, "units[1]");
    }

    #[test]
    fn forms_are_decoded_strictly() {
        let pairs = form_pairs(b"q=%E6%9A%96%E6%B0%94+x&status=", None).unwrap();
        assert_eq!(pairs, vec![("q".into(), "暖气 x".into()), ("status".into(), String::new())]);
        assert_eq!(form_pairs(b"q=%00", None).unwrap_err().0, "q");
        assert_eq!(
            form_pairs(b"description=%FF%FE", None).unwrap_err(),
            ("description".into(), "is not valid UTF-8 (after percent-decoding)".into())
        );
        assert_eq!(form_pairs(b"q=aaaa", Some(3)).unwrap_err().0, "q");
    }
}
