//! Parameters as GeoReport v2 clients send them: from the query string and, for POSTs, from a
//! form-urlencoded or multipart body (where a `media` file may come too). An empty parameter counts
//! as absent, as the spec's "Optional Arguments" rule says. Dates are W3C/ISO 8601 and must carry a
//! time zone (`Z` or `+08:00`); a bare date is the local midnight of the deployment's time zone.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use super::error::Open311Error;

/// Longest accepted form field (the description's own limit, 4,000, is checked with it; this
/// bounds every other field, whether we read it or not).
const MAX_FIELD_CHARS: usize = 10_000;

/// An uploaded file.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The content type the client declared.
    pub declared_type: Option<String>,
    /// The bytes.
    pub bytes: Bytes,
}

/// The request's parameters, in the order sent (query first), and an uploaded `media` file.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// The `media` file of a multipart POST.
    pub media: Option<Upload>,
}

impl Params {
    /// The parameters of a query string.
    pub fn from_query(query: Option<&str>) -> Params {
        let pairs = query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
        Params { pairs, media: None }
    }

    /// The query's and the body's parameters of a POST. `limit` is the body limit (for the error).
    pub async fn from_post(req: Request, limit: usize) -> Result<Params, Open311Error> {
        let mut params = Params::from_query(req.uri().query());
        let content_type =
            req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(req, &())
                .await
                .map_err(|e| Open311Error::bad(format!("malformed multipart body: {}", e.body_text())))?;
            loop {
                let field = match multipart.next_field().await {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) => return Err(multipart_error(e.status(), e.body_text(), limit)),
                };
                let name = field.name().unwrap_or("").to_string();
                let is_file = field.file_name().is_some();
                let declared_type = field.content_type().map(str::to_string);
                let bytes = field.bytes().await.map_err(|e| multipart_error(e.status(), e.body_text(), limit))?;
                if name == "media" && (is_file || declared_type.is_some()) {
                    if params.media.is_some() {
                        return Err(Open311Error::param("media", "send at most one file"));
                    }
                    params.media = Some(Upload { declared_type, bytes });
                } else {
                    let text = String::from_utf8(bytes.to_vec())
                        .map_err(|_| Open311Error::param(&name, "is not valid UTF-8"))?;
                    crate::input::check_text(&name).map_err(|m| Open311Error::param("parameter name", m))?;
                    crate::input::check_text(&text).map_err(|m| Open311Error::param(&name, m))?;
                    if text.chars().count() > MAX_FIELD_CHARS {
                        return Err(Open311Error::param(&name, format!("longer than {MAX_FIELD_CHARS} characters")));
                    }
                    params.pairs.push((name, text));
                }
            }
        } else if content_type.is_empty() || content_type.starts_with("application/x-www-form-urlencoded") {
            let body = Bytes::from_request(req, &()).await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Open311Error::too_large(limit)
                } else {
                    Open311Error::bad(format!("cannot read the body: {}", e.body_text()))
                }
            })?;
            // Strictly: invalid UTF-8 or a control character is refused, never replaced.
            let pairs =
                crate::input::form_pairs(&body, Some(MAX_FIELD_CHARS)).map_err(|(k, m)| Open311Error::param(&k, m))?;
            params.pairs.extend(pairs);
        } else {
            return Err(Open311Error::bad(format!(
                "Content-Type '{content_type}' is not accepted: send application/x-www-form-urlencoded or multipart/form-data"
            )));
        }
        Ok(params)
    }

    /// The first non-empty value of `name`, trimmed (None when absent or empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).find(|v| !v.is_empty())
    }

    /// Every `(name, value)` pair whose name starts with `prefix`, empty values left out.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, v)| k.starts_with(prefix) && !v.trim().is_empty())
            .map(|(k, v)| (k.as_str(), v.trim()))
    }

    /// The values of `name`, which may be repeated and comma-separated (each trimmed, empty ones
    /// left out).
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

fn multipart_error(status: StatusCode, text: String, limit: usize) -> Open311Error {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        Open311Error::too_large(limit)
    } else {
        Open311Error::bad(format!("malformed multipart body: {text}"))
    }
}

/// A W3C/ISO 8601 date-time with a time zone (`2026-11-27T09:30:00+08:00`, `…Z`, seconds and
/// fractions optional), or a date (`2026-11-27`, the local midnight in `tz`). A `+` that a query
/// string turned into a space is taken back.
pub fn w3c_datetime(name: &str, value: &str, tz: Tz) -> Result<DateTime<FixedOffset>, Open311Error> {
    let v = value.trim().replace(' ', "+");
    let with_offset = match v.strip_suffix('Z').or_else(|| v.strip_suffix('z')) {
        Some(rest) => format!("{rest}+00:00"),
        None => v.clone(),
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&with_offset) {
        return Ok(t);
    }
    for pattern in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(t) = DateTime::parse_from_str(&with_offset, pattern) {
            return Ok(t);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
        let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        if let Some(t) = tz.from_local_datetime(&midnight).earliest() {
            return Ok(t.fixed_offset());
        }
    }
    let no_zone = NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M").is_ok();
    if no_zone {
        return Err(Open311Error::param(
            name,
            format!("'{value}' has no time zone: add Z or an offset, e.g. 2026-11-27T09:30:00+08:00"),
        ));
    }
    Err(Open311Error::param(
        name,
        format!("'{value}' is not a W3C date-time: use e.g. 2026-11-27T09:30:00+08:00 or 2026-11-27T01:30:00Z"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_need_a_zone_and_keep_it() {
        let tz = chrono_tz::Asia::Shanghai;
        let t = w3c_datetime("start_date", "2026-11-27T09:30:00+08:00", tz).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-27T09:30:00+08:00");
        let z = w3c_datetime("start_date", "2026-11-27T01:30:00Z", tz).unwrap();
        assert_eq!(z, t);
        assert_eq!(w3c_datetime("d", "2026-11-27T09:30+08:00", tz).unwrap(), t);
        assert_eq!(w3c_datetime("d", "2026-11-27T09:30:00 08:00", tz).unwrap(), t);
        assert_eq!(w3c_datetime("d", "2026-11-27T09:30:00.000+0800", tz).unwrap(), t);
        assert_eq!(w3c_datetime("d", "2026-11-27", tz).unwrap().to_rfc3339(), "2026-11-27T00:00:00+08:00");
        let e = w3c_datetime("start_date", "2026-11-27T09:30:00", tz).unwrap_err();
        assert!(e.descriptions[0].contains("no time zone"), "{e:?}");
        let e = w3c_datetime("end_date", "yesterday", tz).unwrap_err();
        assert!(e.descriptions[0].starts_with("end_date:"), "{e:?}");
        assert!(w3c_datetime("d", "2026-13-01T00:00:00Z", tz).is_err());
    }

    #[test]
    fn empty_parameters_are_absent() {
        let p = Params::from_query(Some("status=&service_code=0101,%200201,&jurisdiction_id=+&service_code=0301"));
        assert_eq!(p.get("status"), None);
        assert_eq!(p.get("jurisdiction_id"), None);
        assert_eq!(p.list("service_code"), vec!["0101", "0201", "0301"]);
        assert!(p.list("status").is_empty());
    }
}
