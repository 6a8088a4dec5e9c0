//! A new case as written at intake (受理), its validation, and the masking of personal data.

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::model::{CaseKind, Channel};

/// Longest accepted case text, in characters.
pub const MAX_TEXT_CHARS: usize = 5_000;
/// Longest accepted title or address, in characters.
pub const MAX_LINE_CHARS: usize = 200;
/// Longest accepted name of a citizen, in characters.
pub const MAX_NAME_CHARS: usize = 50;

/// The citizen's contact details: personal data, masked wherever a role does not need them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// Name.
    pub name: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// 保密: the citizen asked that no unit see who they are; the callback goes through the
    /// 12345 desk (see [`crate::access::contact_access`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confidential: bool,
}

impl Contact {
    /// True when no field is set (the confidentiality flag alone says nothing about anyone).
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none() && self.email.is_none()
    }

    /// `text` with this contact's name, phone and e-mail masked wherever they appear in it
    /// (citizens often say their number in the case text, and titles are made from the text).
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        let fields =
            [(&self.phone, mask_phone as fn(&str) -> String), (&self.email, mask_email), (&self.name, mask_name)];
        for (value, mask) in fields {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                out = out.replace(v, &mask(v));
            }
        }
        out
    }

    /// The same contact with every field masked (`138****5678`, `张*`, `z***@example.com`).
    pub fn masked(&self) -> Contact {
        Contact {
            name: self.name.as_deref().map(mask_name),
            phone: self.phone.as_deref().map(mask_phone),
            email: self.email.as_deref().map(mask_email),
            confidential: self.confidential,
        }
    }
}

/// Masks a phone number, keeping the first 3 and last 4 digits of 11-digit mobiles
/// (`13812345678` → `138****5678`) and the last 2 characters otherwise.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() >= 11 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    } else if chars.len() > 2 {
        let tail: String = chars[chars.len() - 2..].iter().collect();
        format!("{}{tail}", "*".repeat(chars.len() - 2))
    } else {
        "*".repeat(chars.len())
    }
}

/// Masks a name, keeping its first character (`张三丰` → `张**`).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

/// Masks an e-mail address, keeping the first character and the domain.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => mask_name(email),
    }
}

/// Where the matter is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// Address as said or written.
    pub address: Option<String>,
    /// Latitude, in the datum of the district's map (GCJ-02 for Dongcheng, as its outline and grids).
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Street (街道) code.
    pub street: Option<String>,
    /// Community (社区) code.
    pub community: Option<String>,
    /// Unit grid (单元网格) code.
    pub grid: Option<String>,
}

/// A case as written at intake, before it has an id or events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCase {
    /// How it reached us.
    pub channel: Channel,
    /// What the citizen wants.
    pub kind: CaseKind,
    /// Short title (subject); derived from the text when absent.
    pub title: Option<String>,
    /// The citizen's words.
    pub text: String,
    /// Leaf category code; empty = not given: a desk with a category classifier suggests one
    /// (`jiesu-core::intake`), otherwise validation rejects the draft.
    pub category: String,
    /// Where.
    pub place: Place,
    /// Who (personal data).
    pub contact: Contact,
    /// Id in the system it came from (Open311 token, sensor alarm id, ...).
    pub external_id: Option<String>,
}

/// One thing wrong with a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field (`text`, `place.lat`, ...).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

impl NewCase {
    /// True when the citizen's contact is withheld from every unit: they asked for 保密, or the
    /// case is a 举报 (a report of wrongdoing, where the reporter must be protected).
    pub fn contact_confidential(&self) -> bool {
        self.contact.confidential || self.kind == CaseKind::Report
    }

    /// The title to show: the given one, or the first 30 characters of the text.
    pub fn display_title(&self) -> String {
        match self.title.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => self.text.trim().chars().take(30).collect(),
        }
    }

    /// Checks the draft against the catalog; returns every problem found, not just the first.
    pub fn validate(&self, catalog: &Catalog) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = self.text.trim();
        if text.is_empty() {
            errors.push(err("text", "must not be empty"));
        } else if text.chars().count() > MAX_TEXT_CHARS {
            errors.push(err("text", format!("longer than {MAX_TEXT_CHARS} characters")));
        }
        for (field, value) in [("title", &self.title), ("place.address", &self.place.address)] {
            if value.as_ref().is_some_and(|v| v.chars().count() > MAX_LINE_CHARS) {
                errors.push(err(field, format!("longer than {MAX_LINE_CHARS} characters")));
            }
        }
        match catalog.category(&self.category) {
            None if self.category.is_empty() => errors.push(err("category", "required: a leaf category code")),
            None => errors.push(err("category", format!("unknown category code '{}'", self.category))),
            Some(c) if c.parent.is_none() => errors.push(err(
                "category",
                format!("'{}' ({}) is a top-level class; file the case under one of its subcategories", c.code, c.name),
            )),
            Some(_) => {}
        }
        match (self.place.lat, self.place.lon) {
            (None, None) => {}
            (Some(lat), Some(lon)) => {
                if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
                    errors.push(err("place.lat", format!("latitude {lat} is not within -90..90")));
                }
                if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
                    errors.push(err("place.lon", format!("longitude {lon} is not within -180..180")));
                }
            }
            _ => errors.push(err("place", "give both lat and lon, or neither")),
        }
        if let Some(street) = &self.place.street
            && catalog.street(street).is_none()
        {
            errors.push(err("place.street", format!("unknown street code '{street}'")));
        }
        if let Some(code) = &self.place.community {
            match catalog.community(code) {
                None => errors.push(err("place.community", format!("unknown community code '{code}'"))),
                Some(c) if self.place.street.as_ref().is_some_and(|s| *s != c.street_code) => errors.push(err(
                    "place.community",
                    format!(
                        "community '{code}' belongs to street {}, not {}",
                        c.street_code,
                        self.place.street.as_deref().unwrap_or("")
                    ),
                )),
                Some(_) => {}
            }
        }
        if self.contact.name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
            errors.push(err("contact.name", format!("longer than {MAX_NAME_CHARS} characters")));
        }
        if let Some(phone) = &self.contact.phone {
            let ok = phone.len() <= 20 && phone.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c));
            if !ok || !phone.chars().any(|c| c.is_ascii_digit()) {
                errors.push(err("contact.phone", "only digits, spaces, + and - are allowed (at most 20)"));
            }
        }
        if let Some(email) = &self.contact.email
            && (!email.contains('@') || email.len() > 254)
        {
            errors.push(err("contact.email", "not an e-mail address"));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_personal_data() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("010-6512345"), "010****2345");
        assert_eq!(mask_phone("6512345"), "*****45");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_email("zhang@example.com"), "z***@example.com");
        let c = Contact { name: Some("王五".into()), phone: Some("13900001111".into()), ..Contact::default() };
        assert_eq!(
            c.masked(),
            Contact { name: Some("王*".into()), phone: Some("139****1111".into()), ..Contact::default() }
        );
        assert_eq!(c.redact("我是王五，电话13900001111，王五在家"), "我是王*，电话139****1111，王*在家");
        assert_eq!(Contact::default().redact("没有联系人"), "没有联系人");
    }
}
