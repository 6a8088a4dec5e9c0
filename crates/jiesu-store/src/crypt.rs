//! Encryption at rest of the citizen's personal data (name, phone, e-mail on the case row).
//!
//! Each value is sealed with XChaCha20-Poly1305 under the deployment's 32-byte data key, with a
//! fresh random 24-byte nonce, and stored as `x1:` followed by the base64 of nonce ‖ ciphertext.
//! Opening with another key fails the authentication tag: the store then refuses with a clear
//! error ([`StoreError::DataKey`]), it never returns garbage.
//!
//! Where the key comes from: given by the caller ([`crate::StoreOptions::data_key`], which the
//! binary fills from `JIESU_DATA_KEY` or the settings file), else for a SQLite file a key file
//! beside the database (`jiesu.db.key`), created with mode 0600 on first start. PostgreSQL has
//! no such default: without a key the store refuses to open. A check value sealed under the key
//! is kept in the `meta` table, so a wrong key is refused at start-up, before any request.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::StoreError;

/// Prefix of a sealed value (format version 1).
const PREFIX: &str = "x1:";
/// What the check value in `meta` opens to.
const CHECK_PLAINTEXT: &[u8] = b"jiesu data key check";

/// The 32-byte key that encrypts personal data. Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl DataKey {
    /// A new random key.
    pub fn generate() -> DataKey {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).expect("the operating system's random source works");
        DataKey(k)
    }

    /// The key from its text: 32 bytes as base64 (standard or URL-safe, padded or not) or as 64
    /// hexadecimal digits. Surrounding white space is ignored.
    pub fn parse(text: &str) -> Result<DataKey, StoreError> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..32).map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).expect("hex digits")).collect()
        } else {
            STANDARD
                .decode(t)
                .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
                .map_err(|_| StoreError::DataKey("the data key is neither base64 nor 64 hex digits".into()))?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            StoreError::DataKey(format!("the data key must be 32 bytes, this one has {}", b.len()))
        })?;
        Ok(DataKey(key))
    }

    /// The raw key (for keys derived from it).
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as standard base64 (what key files hold).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Reads a key file (see [`DataKey::parse`]).
    pub fn read_file(path: &Path) -> Result<DataKey, StoreError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| StoreError::DataKey(format!("cannot read the data key file {}: {e}", path.display())))?;
        DataKey::parse(&text).map_err(|e| StoreError::DataKey(format!("{}: {e}", path.display())))
    }

    /// Writes a new key file readable by its owner only (0600); refuses to overwrite one.
    pub fn write_new_file(&self, path: &Path) -> Result<(), StoreError> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|e| StoreError::DataKey(format!("cannot create the data key file {}: {e}", path.display())))?;
        writeln!(file, "{}", self.to_base64())
            .and_then(|_| file.sync_all())
            .map_err(|e| StoreError::DataKey(format!("cannot write the data key file {}: {e}", path.display())))
    }
}

/// The key file of a SQLite database file: the same path with `.key` added.
pub(crate) fn key_file_of(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// Seals and opens values under one data key.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

impl Sealer {
    pub(crate) fn new(key: &DataKey) -> Sealer {
        Sealer { cipher: XChaCha20Poly1305::new_from_slice(&key.0).expect("32-byte key") }
    }

    /// `x1:` + base64(nonce ‖ ciphertext).
    pub(crate) fn seal(&self, plain: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).expect("the operating system's random source works");
        let sealed = self.cipher.encrypt(&XNonce::from(nonce), plain).expect("encryption of a small value");
        let mut out = Vec::with_capacity(24 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// The plaintext of a sealed value; `what` names it in errors.
    pub(crate) fn open(&self, text: &str, what: &str) -> Result<Vec<u8>, StoreError> {
        let body = text
            .strip_prefix(PREFIX)
            .ok_or_else(|| StoreError::Corrupt(format!("{what} is not sealed (no {PREFIX} prefix)")))?;
        let raw = STANDARD.decode(body).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
        if raw.len() < 24 + 16 {
            return Err(StoreError::Corrupt(format!("{what} is too short to be sealed")));
        }
        let (nonce, sealed) = raw.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().expect("24 bytes");
        self.cipher.decrypt(&XNonce::from(nonce), sealed).map_err(|_| {
            StoreError::DataKey(format!("{what} does not open with the data key: wrong key, or the value was altered"))
        })
    }

    /// A sealed check value, kept in `meta` to recognise the key later.
    pub(crate) fn check_value(&self) -> String {
        self.seal(CHECK_PLAINTEXT)
    }

    /// True when `stored` was sealed by this key.
    pub(crate) fn opens_check(&self, stored: &str) -> bool {
        self.open(stored, "check").is_ok_and(|p| p == CHECK_PLAINTEXT)
    }
}

/// True when a stored contact is sealed (the alternative is plain JSON written before 0002).
#[cfg(test)]
fn is_sealed(text: &str) -> bool {
    text.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_refuses_the_wrong_key() {
        let a = Sealer::new(&DataKey::generate());
        let b = Sealer::new(&DataKey::generate());
        let sealed = a.seal("{\"phone\":\"13812345678\"}".as_bytes());
        assert!(is_sealed(&sealed) && !sealed.contains("138"));
        assert_ne!(a.seal(b"x"), a.seal(b"x"), "a fresh nonce per value");
        assert_eq!(a.open(&sealed, "contact").unwrap(), b"{\"phone\":\"13812345678\"}");
        assert!(matches!(b.open(&sealed, "contact"), Err(StoreError::DataKey(_))));
        let mut tampered = sealed.clone();
        tampered.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert!(a.open(&tampered, "contact").is_err());
        assert!(a.opens_check(&a.check_value()) && !b.opens_check(&a.check_value()));
    }

    #[test]
    fn keys_parse_from_base64_and_hex() {
        let k = DataKey::generate();
        assert_eq!(DataKey::parse(&k.to_base64()).unwrap(), k);
        assert_eq!(DataKey::parse(&format!(" {}\n", URL_SAFE_NO_PAD.encode(k.0))).unwrap(), k);
        let hex: String = k.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(DataKey::parse(&hex).unwrap(), k);
        assert!(DataKey::parse("c2hvcnQ=").unwrap_err().to_string().contains("32 bytes"));
        assert!(DataKey::parse("not a key!").is_err());
        assert_eq!(format!("{k:?}"), "DataKey(…)");
    }
}
