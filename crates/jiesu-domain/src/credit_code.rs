//! The unified social credit code (统一社会信用代码, GB 32100-2015) that names an enterprise in
//! the 紫金服务 register: 18 characters from a 31-character alphabet (digits and capital letters
//! without I, O, Z, S and V):
//!
//! | positions | meaning |
//! |-----------|---------|
//! | 1         | registration authority (登记管理部门), e.g. `9` market regulation |
//! | 2         | kind of organisation (机构类别), e.g. `1` enterprise |
//! | 3–8       | administrative division code (登记管理机关行政区划码), e.g. `110101` |
//! | 9–17      | organisation code (组织机构代码, GB 11714): 8 characters and its own check character |
//! | 18        | the check character of the whole code |
//!
//! A code is valid only when both check characters are right: the organisation code's (GB 11714:
//! weights 3 7 9 10 5 8 4 2, modulus 11, 10 written `X`) and the final one (GB 32100: weights
//! 3^i mod 31, modulus 31, over the alphabet's values).

/// The alphabet of GB 32100, in value order (0–30).
const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of the first 17 characters for the final check character (3^i mod 31).
const CODE_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/// Weights of the organisation code's 8 body characters (GB 11714).
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Why a code is not a valid unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// Not 18 characters.
    #[error("a unified social credit code has 18 characters, this one has {0}")]
    Length(usize),
    /// A character outside the alphabet (lower case, I, O, Z, S, V, punctuation …).
    #[error("character {position} '{ch}' is not allowed (digits and capital letters except I, O, Z, S, V)")]
    Character {
        /// 1-based position.
        position: usize,
        /// The character.
        ch: char,
    },
    /// The organisation code's check character (position 17) is wrong.
    #[error("the organisation code {org} (GB 11714) should end in {expected}, not {found}")]
    OrganisationCheck {
        /// Positions 9–17.
        org: String,
        /// The right check character.
        expected: char,
        /// The one given.
        found: char,
    },
    /// The final check character (position 18) is wrong.
    #[error("the check character (position 18) should be {expected}, not {found}")]
    Check {
        /// The right check character.
        expected: char,
        /// The one given.
        found: char,
    },
}

/// Checks `code` (surrounding spaces ignored, nothing else forgiven).
pub fn check(code: &str) -> Result<(), CreditCodeError> {
    let chars: Vec<char> = code.trim().chars().collect();
    if chars.len() != 18 {
        return Err(CreditCodeError::Length(chars.len()));
    }
    let mut values = [0u32; 18];
    for (i, &ch) in chars.iter().enumerate() {
        values[i] = value(ch).ok_or(CreditCodeError::Character { position: i + 1, ch })?;
    }
    let expected = organisation_check(&chars[8..16]);
    if chars[16] != expected {
        return Err(CreditCodeError::OrganisationCheck {
            org: chars[8..17].iter().collect(),
            expected,
            found: chars[16],
        });
    }
    let expected = final_check(&values[..17]);
    if chars[17] != expected {
        return Err(CreditCodeError::Check { expected, found: chars[17] });
    }
    Ok(())
}

/// The value of `ch` in GB 32100's alphabet.
fn value(ch: char) -> Option<u32> {
    ALPHABET.find(ch).map(|i| i as u32)
}

/// GB 11714: the check character of an organisation code's 8 body characters. Letters count by
/// their place in the Latin alphabet (A = 10 … Z = 35), as that standard defines them.
fn organisation_check(body: &[char]) -> char {
    let sum: u32 =
        body.iter().zip(ORG_WEIGHTS).map(|(c, w)| c.to_digit(36).expect("checked against the alphabet") * w).sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).expect("below 10"),
    }
}

/// GB 32100: the final check character of the first 17 values.
fn final_check(values: &[u32]) -> char {
    let sum: u32 = values.iter().zip(CODE_WEIGHTS).map(|(v, w)| v * w).sum();
    let c = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(c as usize).expect("below 31")
}

/// A valid code made from its first 16 characters (registration authority, kind, division and
/// the organisation code's body): both check characters computed. For the demo's register and
/// tests. None when a character is outside the alphabet or the length is not 16.
pub fn complete(first16: &str) -> Option<String> {
    let chars: Vec<char> = first16.chars().collect();
    if chars.len() != 16 || chars.iter().any(|&c| value(c).is_none()) {
        return None;
    }
    let mut code: Vec<char> = chars;
    code.push(organisation_check(&code[8..16]));
    let values: Vec<u32> = code.iter().map(|&c| value(c)).collect::<Option<_>>()?;
    code.push(final_check(&values));
    Some(code.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn published_codes_are_valid() {
        // Codes printed on business licences and in the standard's worked example.
        for code in ["91350100M000100Y43", "91110000600037341L", " 91350100M000100Y43 "] {
            assert_eq!(check(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn each_kind_of_mistake_is_named() {
        assert_eq!(check("91350100M000100Y4"), Err(CreditCodeError::Length(17)));
        assert_eq!(check("91350100m000100Y43"), Err(CreditCodeError::Character { position: 9, ch: 'm' }));
        assert_eq!(check("91350100I000100Y43"), Err(CreditCodeError::Character { position: 9, ch: 'I' }));
        assert_eq!(
            check("91350100M000100Y53"),
            Err(CreditCodeError::OrganisationCheck { org: "M000100Y5".into(), expected: '4', found: '5' })
        );
        assert_eq!(check("91350100M000100Y44"), Err(CreditCodeError::Check { expected: '3', found: '4' }));
        assert!(check("91350100M000100Y43").is_ok());
        let e = check("91350100M000100Y44").unwrap_err().to_string();
        assert!(e.contains("position 18") && e.contains('3'), "{e}");
    }

    proptest! {
        /// Completed codes pass; changing any one character to another of the alphabet fails.
        #[test]
        fn completed_codes_pass_and_any_single_change_fails(
            body in "[0-9A-HJ-NP-RTUWXY]{16}",
            at in 0usize..18,
            to in 0usize..31,
        ) {
            let code = complete(&body).unwrap();
            prop_assert_eq!(check(&code), Ok(()));
            let mut chars: Vec<char> = code.chars().collect();
            let new = ALPHABET.chars().nth(to).unwrap();
            prop_assume!(chars[at] != new);
            // Position 17 may only hold a digit or X, so most changes there fail its check too.
            chars[at] = new;
            let changed: String = chars.into_iter().collect();
            prop_assert!(check(&changed).is_err(), "{} passed", changed);
        }
    }
}
