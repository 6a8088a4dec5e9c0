//! Console forms turned into the JSON bodies the API takes, so that a form post and an API call
//! go through the same parsing (`command_and_note`, `CreateCase`, `SuggestBody`) and the same
//! desk calls.

use serde_json::{Map, Value, json};

/// A form as posted: every name/value pair in order (a later pair wins, so a hidden `false`
/// before a checkbox gives the checkbox's value when it is ticked).
pub(crate) type FormPairs = Vec<(String, String)>;

/// Fields of a form that are the page's, not the command's.
const PAGE_FIELDS: &[&str] = &["csrf", "back", "then"];
/// Fields that are booleans (`on`, `true`, `1`, `yes` are true).
const BOOL_FIELDS: &[&str] = &["contacted", "reached", "responded", "solved", "passed", "excluded"];
/// Fields that are integers.
const INT_FIELDS: &[&str] = &["working_days", "into", "checkin_hours"];

/// Refuses a form with a name or value holding a control character (NUL ...), as the JSON API
/// refuses such a body: 400 naming the field.
pub(crate) fn check_form(form: &FormPairs) -> Result<(), crate::error::ApiError> {
    for (k, v) in form {
        crate::input::check_text(k).map_err(|m| crate::error::ApiError::bad_param("parameter name", m))?;
        crate::input::check_text(v).map_err(|m| crate::error::ApiError::bad_param(k, m))?;
    }
    Ok(())
}

/// The value of `name` (the last one posted), trimmed.
pub(crate) fn field<'a>(form: &'a FormPairs, name: &str) -> Option<&'a str> {
    form.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim())
}

/// The action form as the API's action body: `{"action": ..., "note": ..., ...}`. Blank values
/// are left out (a blank unit dispatches by the responsibility list); a value that does not
/// parse is passed on as text, so the API's parser names the field.
pub(crate) fn command_body(form: &FormPairs) -> Value {
    let mut map = Map::new();
    for (k, v) in form {
        let (k, v) = (k.as_str(), v.trim());
        if PAGE_FIELDS.contains(&k) || v.is_empty() {
            continue;
        }
        let value = if BOOL_FIELDS.contains(&k) {
            match v {
                "on" | "true" | "1" | "yes" => Value::Bool(true),
                "off" | "false" | "0" | "no" => Value::Bool(false),
                _ => Value::String(v.into()),
            }
        } else if INT_FIELDS.contains(&k) {
            v.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(v.into()))
        } else if k == "units" {
            // One field of codes, or one checkbox per unit: all of them together.
            let mut units = match map.remove("units") {
                Some(Value::Array(given)) => given,
                _ => Vec::new(),
            };
            units.extend(v.split([',', '，', ' ']).filter(|u| !u.is_empty()).map(|u| Value::String(u.into())));
            Value::Array(units)
        } else {
            Value::String(v.into())
        };
        map.insert(k.to_string(), value);
    }
    Value::Object(map)
}

fn text(form: &FormPairs, name: &str) -> Value {
    field(form, name).filter(|v| !v.is_empty()).map_or(Value::Null, |v| Value::String(v.into()))
}

/// A number field: the number, null when blank, the text when it does not parse (so the API's
/// parser names the field).
fn number(form: &FormPairs, name: &str) -> Value {
    match field(form, name).filter(|v| !v.is_empty()) {
        None => Value::Null,
        Some(v) => v
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(v.into()), Value::Number),
    }
}

/// The intake form as the body of `POST /api/v1/cases`.
pub(crate) fn case_body(form: &FormPairs, auto_dispatch: bool) -> Value {
    json!({
        "channel": field(form, "channel").unwrap_or("hotline"),
        "kind": field(form, "kind").unwrap_or("complaint"),
        "title": text(form, "title"),
        "text": field(form, "text").unwrap_or(""),
        "category": text(form, "category"),
        "place": {"address": text(form, "address"), "lat": number(form, "lat"), "lon": number(form, "lon")},
        "contact": {"name": text(form, "name"), "phone": text(form, "phone"), "email": text(form, "email")},
        "auto_dispatch": auto_dispatch,
    })
}

/// The intake form as the body of `POST /api/v1/intake/suggest`.
pub(crate) fn suggest_body(form: &FormPairs) -> Value {
    json!({
        "title": text(form, "title"),
        "text": field(form, "text").unwrap_or(""),
        "category": text(form, "category"),
        "place": {"address": text(form, "address")},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormPairs {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn control_characters_are_refused_by_name() {
        assert!(check_form(&form(&[("note", "已到场\n第二行\t")])).is_ok());
        let e = check_form(&form(&[("action", "check_in"), ("note", "已到\0场")])).unwrap_err();
        assert_eq!(e.fields()[0].field, "note");
        assert!(check_form(&form(&[("no\u{1b}te", "x")])).is_err());
    }

    #[test]
    fn positions_are_numbers_and_blank_is_absent() {
        let f = form(&[("text", "井盖松动"), ("lat", "39.93"), ("lon", " ")]);
        let body = case_body(&f, true);
        assert_eq!(body["place"]["lat"], json!(39.93));
        assert_eq!(body["place"]["lon"], Value::Null);
        assert_eq!(case_body(&form(&[("lat", "north")]), true)["place"]["lat"], json!("north"));
    }

    #[test]
    fn action_forms_become_api_bodies() {
        let f = form(&[("csrf", "x"), ("action", "dispatch"), ("unit", ""), ("category", "0101")]);
        assert_eq!(command_body(&f), json!({"action": "dispatch", "category": "0101"}));
        let f = form(&[("action", "handle"), ("contacted", "false"), ("contacted", "on"), ("note", " 已联系 ")]);
        assert_eq!(command_body(&f), json!({"action": "handle", "contacted": true, "note": "已联系"}));
        let f = form(&[("action", "request_extension"), ("working_days", "3"), ("back", "/inbox")]);
        assert_eq!(command_body(&f), json!({"action": "request_extension", "working_days": 3}));
        let f = form(&[("action", "whistle"), ("units", "B03"), ("units", "B05,B07"), ("checkin_hours", "4")]);
        assert_eq!(command_body(&f), json!({"action": "whistle", "units": ["B03", "B05", "B07"], "checkin_hours": 4}));
        let f = form(&[("action", "merge"), ("into", "x1")]);
        assert_eq!(command_body(&f), json!({"action": "merge", "into": "x1"}));
        let (cmd, note) = crate::cases::command_and_note(command_body(&form(&[
            ("action", "callback"),
            ("reached", "true"),
            ("responded", "true"),
            ("solved", "false"),
            ("satisfaction", "basic"),
        ])))
        .unwrap();
        assert_eq!(cmd.code(), "callback");
        assert_eq!(note, None);
    }
}
