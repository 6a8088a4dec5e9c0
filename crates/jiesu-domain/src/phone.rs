//! Phone numbers as one caller: every spelling of a number reduced to one canonical form, so that
//! the store can find a caller's earlier cases (来电弹屏) by a keyed hash of it.
//!
//! The canonical form is digits only, without the country code:
//! - a mobile is its 11 digits (`13812345678`), however written: `+86 138-1234-5678`,
//!   `0086 13812345678`, `8613812345678`, `013812345678` (a 0 dialled first), full-width digits;
//! - a landline is its area code with the trunk 0 and the local number (`01065123456`):
//!   `010-6512 3456`, `(010) 65123456`, `+86 10 6512 3456`; a local number alone (7 or 8 digits)
//!   is in [`DEFAULT_AREA_CODE`] (the district is in Beijing);
//! - an extension (`转 123`, `ext. 123`, `x123`, `#123`, `分机 123`) is dropped: the line is
//!   the caller.
//!
//! Anything else (too short, too long, letters) has no canonical form: no lookup is made.

/// The area code of a local landline number written without one (Beijing).
pub const DEFAULT_AREA_CODE: &str = "010";

/// Where an extension begins (after the number itself).
const EXTENSION_MARKS: &[&str] = &["转", "分机", "ext", "x", "#", ",", "，", ";", "；"];

/// The canonical form of `text` as a phone number (see the module), or None.
pub fn normalise(text: &str) -> Option<String> {
    // Full-width forms (０-９, ＋, －, （, ）, 　) as their ASCII counterparts.
    let ascii: String = text
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' => char::from(b'0' + (c as u32 - 0xFF10) as u8),
            '\u{FF0B}' => '+',
            '\u{FF0D}' | '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{FF08}' => '(',
            '\u{FF09}' => ')',
            '\u{3000}' => ' ',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    // The number ends where an extension begins.
    let number = EXTENSION_MARKS.iter().filter_map(|m| ascii.find(m)).min().map_or(ascii.as_str(), |i| &ascii[..i]);
    let mut plus = false;
    let mut digits = String::with_capacity(number.len());
    for c in number.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !plus => plus = true,
            ' ' | '-' | '.' | '(' | ')' | '/' | '\t' => {}
            _ => return None,
        }
    }
    // Without the country code: `+86…`, `0086…`, and `86…` when what follows is a full number.
    let national = if plus {
        digits.strip_prefix("86")?.to_string()
    } else if let Some(rest) = digits.strip_prefix("0086") {
        rest.to_string()
    } else if digits.len() == 13 && digits.starts_with("861") {
        digits[2..].to_string()
    } else {
        digits
    };
    let is_mobile =
        |d: &str| d.len() == 11 && d.starts_with('1') && d.as_bytes()[1].is_ascii_digit() && d.as_bytes()[1] >= b'3';
    if is_mobile(&national) {
        return Some(national);
    }
    // A mobile with a trunk 0 dialled first (no area code begins 01 but Beijing's 010).
    if national.len() == 12 && national.starts_with('0') && is_mobile(&national[1..]) {
        return Some(national[1..].to_string());
    }
    let landline = if national.starts_with('0') {
        national
    } else if plus || national.len() > 8 {
        // From abroad the trunk 0 is left out: `+86 10 6512 3456`.
        format!("0{national}")
    } else {
        format!("{DEFAULT_AREA_CODE}{national}")
    };
    // Area code (3 or 4 digits with the 0) and a local number of 7 or 8 digits.
    (10..=12).contains(&landline.len()).then_some(landline).filter(|l| !l.starts_with("00"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_mobile_is_one_number() {
        for s in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+8613812345678",
            "0086 13812345678",
            "0086-138-1234-5678",
            "8613812345678",
            "013812345678",
            " 13812345678 ",
            "１３８１２３４５６７８",
            "＋８６　１３８－１２３４－５６７８",
            "138.1234.5678",
            "13812345678转1",
        ] {
            assert_eq!(normalise(s).as_deref(), Some("13812345678"), "{s}");
        }
    }

    #[test]
    fn landlines_carry_their_area_code_and_lose_their_extension() {
        for s in [
            "010-65123456",
            "01065123456",
            "(010) 6512 3456",
            "（010）65123456",
            "+86 10 6512 3456",
            "0086-10-65123456",
            "65123456",
            "6512-3456",
            "010-65123456转8021",
            "010-65123456 转 8021",
            "010-65123456 ext. 8021",
            "010-65123456 x8021",
            "010-65123456#8021",
            "010-65123456分机8021",
            "０１０－６５１２３４５６",
        ] {
            assert_eq!(normalise(s).as_deref(), Some("01065123456"), "{s}");
        }
        assert_eq!(normalise("0311-8765432").as_deref(), Some("03118765432"), "another city's code is kept");
        assert_eq!(normalise("6512345").as_deref(), Some("0106512345"), "a 7-digit local number");
    }

    #[test]
    fn what_is_no_number_has_no_canonical_form() {
        for s in ["", "  ", "12345", "110", "abc", "138123456789012345", "+1 212 555 0100", "１３８abc", "+"] {
            assert_eq!(normalise(s), None, "{s}");
        }
        assert_ne!(normalise("13812345678"), normalise("13812345679"));
        assert_ne!(normalise("010-65123456"), normalise("021-65123456"));
    }
}
