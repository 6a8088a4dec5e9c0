//! What the two POSTs (`requests`, `servicerequestupdates`) both take besides their own
//! parameters — a description, a `media_url` and an uploaded `media` image — checked the same way.

use jiesu_store::NewMedia;

use super::error::Open311Error;
use super::params::{Params, Upload};
use super::requests::random_name;

/// Longest accepted description (the spec's limit), in characters.
const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Longest accepted media URL.
const MAX_URL_CHARS: usize = 1000;

/// The description, media URL and uploaded image of a POST, checked.
#[derive(Debug)]
pub(crate) struct Posted {
    /// The description (empty when not given).
    pub description: String,
    /// An http(s) URL of a picture hosted elsewhere.
    pub media_url: Option<String>,
    /// The type of the uploaded image, if one came.
    pub media_type: Option<&'static str>,
}

impl Posted {
    /// Checks `description` (at most 4,000 characters), `media_url` and the uploaded `media` of
    /// `p`; every problem found is added to `problems`.
    pub(crate) fn check(p: &Params, problems: &mut Vec<String>) -> Posted {
        let description = p.get("description").unwrap_or("").to_string();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            problems.push(format!("description: longer than {MAX_DESCRIPTION_CHARS} characters"));
        }
        let media_url = check_media_url(p.get("media_url")).unwrap_or_else(|e| {
            problems.extend(e.descriptions);
            None
        });
        let media_type = p.media.as_ref().map(check_upload).transpose().unwrap_or_else(|e| {
            problems.extend(e.descriptions);
            None
        });
        Posted { description, media_url, media_type }
    }

    /// The uploaded image of `p` (checked by [`Posted::check`]) under a random name, to be
    /// written with the request or update it came with; None when no image came.
    pub(crate) fn media(&self, p: &Params) -> Option<NewMedia> {
        match (&p.media, self.media_type) {
            (Some(u), Some(t)) => {
                Some(NewMedia { id: random_name(), content_type: t.to_string(), bytes: u.bytes.to_vec() })
            }
            _ => None,
        }
    }
}

/// The image type of `bytes`, from its first bytes (the declared type is not trusted).
pub(crate) fn image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

/// Checks an uploaded file: a JPEG, PNG, GIF or WebP image, not empty. Returns its type.
pub(crate) fn check_upload(u: &Upload) -> Result<&'static str, Open311Error> {
    if u.bytes.is_empty() {
        return Err(Open311Error::param("media", "the file is empty"));
    }
    image_type(&u.bytes).ok_or_else(|| {
        Open311Error::param(
            "media",
            format!(
                "only JPEG, PNG, GIF or WebP images are accepted (the file declared {})",
                u.declared_type.as_deref().unwrap_or("no type")
            ),
        )
    })
}

/// Checks a `media_url` parameter: an http(s) URL.
pub(crate) fn check_media_url(v: Option<&str>) -> Result<Option<String>, Open311Error> {
    let Some(v) = v else { return Ok(None) };
    let ok = (v.starts_with("http://") || v.starts_with("https://"))
        && v.len() <= MAX_URL_CHARS
        && !v.contains(char::is_whitespace);
    if ok {
        Ok(Some(v.to_string()))
    } else {
        Err(Open311Error::param("media_url", format!("'{v}' is not an http(s) URL")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_bytes() {
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<html>"), None);
    }

    #[test]
    fn descriptions_and_media_urls_are_checked_together() {
        let p = Params::from_query(Some("media_url=ftp%3A%2F%2Fx&description=ok"));
        let mut problems = Vec::new();
        let posted = Posted::check(&p, &mut problems);
        assert_eq!(posted.description, "ok");
        assert_eq!(posted.media_url, None);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("media_url"), "{problems:?}");
        let long = format!("description={}", "字".repeat(MAX_DESCRIPTION_CHARS + 1));
        let mut problems = Vec::new();
        Posted::check(&Params::from_query(Some(&long)), &mut problems);
        assert!(problems[0].starts_with("description: longer than 4000"), "{problems:?}");
    }
}
