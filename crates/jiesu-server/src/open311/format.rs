//! The two output formats of GeoReport v2 and how a request picks one.
//!
//! A resource name may end in `.json` or `.xml` (`services.json`, `requests/12.xml`); without a
//! suffix the `Accept` header decides, and XML — the format the spec requires — is the default.
//! Any other suffix is refused with a 400 that names the formats we serve.
//!
//! Every response is built once as JSON ([`serde_json::Value`]); the XML is derived from it by the
//! spec's convention: a top-level list becomes a root element (`<services>`) holding one element
//! per item (`<service>`), and every nested list is wrapped the same way (`<attributes>` →
//! `<attribute>`, `<values>` → `<value>`, ...). The XML text is written by quick-xml's serde
//! serializer, with the XML declaration the spec asks for.

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;

use serde_json::{Map, Value};

/// A response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `text/xml`.
    Xml,
}

/// The formats served, as discovery lists them.
pub const MIME_TYPES: [&str; 2] = ["text/xml", "application/json"];

impl Format {
    /// The format a request asks for, from the last path segment's suffix, else `Accept`.
    /// Err names a suffix we do not serve.
    pub fn of_request(path: &str, headers: &HeaderMap) -> Result<Format, String> {
        let last = path.rsplit('/').next().unwrap_or("");
        match last.rsplit_once('.') {
            Some((_, "json")) => Ok(Format::Json),
            Some((_, "xml")) => Ok(Format::Xml),
            Some((_, other)) => Err(other.to_string()),
            None => Ok(Format::from_accept(headers)),
        }
    }

    /// JSON when the `Accept` header prefers it to XML, else XML (the spec's required format).
    pub fn from_accept(headers: &HeaderMap) -> Format {
        let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        let json = accept.find("json");
        let xml = accept.find("xml");
        match (json, xml) {
            (Some(j), Some(x)) if j < x => Format::Json,
            (Some(_), None) => Format::Json,
            _ => Format::Xml,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// Strips a `.json`/`.xml` suffix from a path parameter (`0101.json` → `0101`).
pub fn strip_suffix(segment: &str) -> &str {
    segment.strip_suffix(".json").or_else(|| segment.strip_suffix(".xml")).unwrap_or(segment)
}

/// A body ready to be sent in either format: the XML root element name and the JSON value.
#[derive(Debug, Clone)]
pub struct Doc {
    /// HTTP status.
    pub status: StatusCode,
    /// Root element of the XML form (`services`, `service_definition`, ...).
    pub root: &'static str,
    /// The JSON form.
    pub value: Value,
}

impl Doc {
    /// A 200 document.
    pub fn ok(root: &'static str, value: Value) -> Doc {
        Doc { status: StatusCode::OK, root, value }
    }

    /// Renders the document in `format`.
    pub fn render(self, format: Format) -> Response {
        let body = match format {
            Format::Json => self.value.to_string(),
            Format::Xml => to_xml(self.root, &self.value),
        };
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
        response
    }
}

/// The element name of one item of a list held by `list` (`services` → `service`).
fn item_name(list: &str) -> &'static str {
    match list {
        "services" => "service",
        "attributes" => "attribute",
        "endpoints" => "endpoint",
        "formats" => "format",
        "service_requests" => "request",
        "service_request_updates" => "request_update",
        "errors" => "error",
        "notes" => "note",
        _ => "value",
    }
}

/// A text as XML 1.0 may carry it: each character XML forbids (controls other than tab and
/// newlines, U+FFFE, U+FFFF) replaced by U+FFFD. Input is refused at the edge, but older stored
/// text (or text written past the edge) must not break the document for every client.
fn xml_text(s: &str) -> Cow<'_, str> {
    if s.chars().all(crate::input::xml_char) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().map(|c| if crate::input::xml_char(c) { c } else { '\u{FFFD}' }).collect())
    }
}

/// An element name from a key: our keys are names already; a stored attribute code that is not
/// (written past the edge) has its other characters replaced by `_`.
fn xml_name(key: &str) -> Cow<'_, str> {
    let ok = |i: usize, c: char| {
        c.is_ascii_alphabetic() || c == '_' || (i > 0 && (c.is_ascii_digit() || c == '-' || c == '.'))
    };
    if !key.is_empty() && key.chars().enumerate().all(|(i, c)| ok(i, c)) {
        Cow::Borrowed(key)
    } else {
        let name: String = key.chars().enumerate().map(|(i, c)| if ok(i, c) { c } else { '_' }).collect();
        Cow::Owned(if name.is_empty() { "_".to_string() } else { name })
    }
}

/// The JSON value reshaped for XML: lists wrapped in their item elements, nulls as empty elements,
/// texts and names made legal XML.
fn xml_shape(key: &str, value: &Value) -> Value {
    match value {
        Value::Array(items) => {
            let item = item_name(key);
            let items: Vec<Value> = items.iter().map(|v| xml_shape(item, v)).collect();
            if items.is_empty() {
                Value::String(String::new())
            } else {
                let mut m = Map::new();
                m.insert(item.to_string(), Value::Array(items));
                Value::Object(m)
            }
        }
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (xml_name(k).into_owned(), xml_shape(k, v))).collect())
        }
        Value::String(s) => Value::String(xml_text(s).into_owned()),
        Value::Null => Value::String(String::new()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other.clone(),
    }
}

/// The XML document with root `root` for `value`.
pub fn to_xml(root: &str, value: &Value) -> String {
    let shaped = xml_shape(root, value);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let mut ser = quick_xml::se::Serializer::with_root(&mut out, Some(root)).expect("root names are constants");
    ser.indent(' ', 2);
    match serde::Serialize::serialize(&shaped, ser) {
        Ok(_) => out,
        // Element names come from our own keys and attribute codes (checked A-Z0-9_), so this is a bug.
        Err(e) => panic!("XML serialisation of <{root}> failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_are_wrapped_and_nulls_are_empty() {
        let v = json!([{"service_code": "0101", "metadata": true, "n": 1.5, "account_id": null,
            "attributes": [{"code": "A", "values": [{"key": "k", "name": "甲<&>"}]}]}]);
        let xml = to_xml("services", &v);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services>"), "{xml}");
        for part in [
            "<service>",
            "<service_code>0101</service_code>",
            "<metadata>true</metadata>",
            "<n>1.5</n>",
            "<attributes>",
            "<attribute>",
            "<values>",
            "<value>",
            "<name>甲&lt;&amp;&gt;</name>",
        ] {
            assert!(xml.contains(part), "{part} missing in {xml}");
        }
        assert!(xml.contains("<account_id/>") || xml.contains("<account_id></account_id>"), "{xml}");
    }

    #[test]
    fn forbidden_characters_never_reach_the_xml() {
        let v = json!([{"description": "a\u{0}b\u{1}c\u{b}d\u{1b}[31m\u{fffe}\te\nf", "1 bad key": "x"}]);
        let xml = to_xml("service_requests", &v);
        assert!(xml.chars().all(crate::input::xml_char), "{xml:?}");
        assert!(xml.contains("a\u{fffd}b\u{fffd}c\u{fffd}d\u{fffd}[31m\u{fffd}\te\nf"), "{xml}");
        assert!(xml.contains("<__bad_key>x</__bad_key>"), "{xml}");
    }

    proptest::proptest! {
        /// Any string, as a value or a key, renders to XML that a parser accepts and that holds
        /// only the characters XML 1.0 allows.
        #[test]
        fn any_text_renders_to_well_formed_xml(text in proptest::prelude::any::<String>(), key in proptest::prelude::any::<String>()) {
            let mut attrs = Map::new();
            attrs.insert(key, json!(text.clone()));
            let v = json!([{"description": text, "attributes": attrs, "notes": [{"description": text}]}]);
            let xml = to_xml("service_requests", &v);
            proptest::prop_assert!(xml.chars().all(crate::input::xml_char), "{:?}", xml);
            proptest::prop_assert!(well_formed(&xml), "{}", xml);
        }
    }

    /// True when quick-xml reads `xml` to the end with balanced elements and every text unescapes.
    pub(crate) fn well_formed(xml: &str) -> bool {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut depth = 0i32;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Start(_)) => depth += 1,
                Ok(quick_xml::events::Event::End(_)) => depth -= 1,
                Ok(quick_xml::events::Event::Text(t)) => {
                    if t.decode().is_err() {
                        return false;
                    }
                }
                Ok(quick_xml::events::Event::Eof) => return depth == 0,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }

    #[test]
    fn format_comes_from_the_suffix_then_accept() {
        let mut h = HeaderMap::new();
        assert_eq!(Format::of_request("/open311/v2/services.json", &h), Ok(Format::Json));
        assert_eq!(Format::of_request("/open311/v2/services/0101.xml", &h), Ok(Format::Xml));
        assert_eq!(Format::of_request("/open311/v2/services", &h), Ok(Format::Xml));
        assert_eq!(Format::of_request("/open311/v2/services.csv", &h), Err("csv".into()));
        h.insert(ACCEPT, HeaderValue::from_static("application/json, text/xml;q=0.5"));
        assert_eq!(Format::of_request("/open311/v2/services", &h), Ok(Format::Json));
        assert_eq!(strip_suffix("0101.json"), "0101");
    }
}
