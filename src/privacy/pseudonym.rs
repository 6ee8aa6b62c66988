//! Keyed pseudonyms: a value is replaced by `<prefix>_<16 hex digits>`, the first 8 bytes of
//! HMAC-SHA256(key, "<kind>:<normalised value>"). The same key and value give the same pseudonym
//! in every run, so lists written on different days still join; without the key the value cannot
//! be recovered or confirmed by guessing. The key comes from the `CUSTSEG_PSEUDONYM_KEY`
//! environment variable or a key file readable by its owner only, never from the command line.

use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::privacy::Field;

/// The environment variable holding the pseudonym key.
pub const KEY_ENV: &str = "CUSTSEG_PSEUDONYM_KEY";

/// Keys shorter than this many bytes are refused (a short key can be brute-forced).
pub const MIN_KEY_BYTES: usize = 16;

/// Hex digits of the HMAC kept in a pseudonym (64 bits).
pub const HEX_DIGITS: usize = 16;

/// Where a key came from, for messages (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `CUSTSEG_PSEUDONYM_KEY` environment variable.
    Env,
    /// A key file (`[privacy] key_file`).
    File(PathBuf),
}

/// A loaded pseudonym key. Debug output never shows the key.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: Vec<u8>,
    /// Where the key came from.
    pub source: KeySource,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Pseudonymizer {
    /// A pseudonymizer with `key` (at least [`MIN_KEY_BYTES`] bytes).
    pub fn new(key: Vec<u8>, source: KeySource) -> Result<Self> {
        if key.len() < MIN_KEY_BYTES {
            let from = match &source {
                KeySource::Env => format!("${KEY_ENV}"),
                KeySource::File(p) => p.display().to_string(),
            };
            return Err(Error::config(format!(
                "the pseudonym key in {from} has {} bytes; at least {MIN_KEY_BYTES} are needed",
                key.len()
            ))
            .hint("create one with: head -c 32 /dev/urandom | base64 > custseg.key && chmod 600 custseg.key"));
        }
        Ok(Self { key, source })
    }

    /// Loads the key: `$CUSTSEG_PSEUDONYM_KEY` when set and not empty, else `key_file`.
    /// Surrounding whitespace (a trailing newline) is not part of the key.
    pub fn load(key_file: Option<&Path>) -> Result<Self> {
        if let Some(text) = std::env::var_os(KEY_ENV) {
            let text = text.to_string_lossy().trim().to_string();
            if !text.is_empty() {
                return Self::new(text.into_bytes(), KeySource::Env);
            }
        }
        let Some(path) = key_file else {
            return Err(missing_key());
        };
        check_owner_only(path)?;
        let bytes = std::fs::read(path).map_err(|e| {
            Error::config(format!("cannot read the key file {}: {e}", path.display()))
        })?;
        let text = String::from_utf8_lossy(&bytes).trim().to_string();
        Self::new(text.into_bytes(), KeySource::File(path.to_path_buf()))
    }

    fn mac(&self, message: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(message.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The first [`HEX_DIGITS`] hex digits of HMAC-SHA256(key, message).
    pub fn digest(&self, message: &str) -> String {
        let bytes = self.mac(message);
        let mut hex = String::with_capacity(HEX_DIGITS);
        for b in bytes.iter().take(HEX_DIGITS / 2) {
            hex.push_str(&format!("{b:02x}"));
        }
        hex
    }

    /// All 64 hex digits of HMAC-SHA256(key, message) (audit log entries).
    pub fn full_digest(&self, message: &str) -> String {
        self.mac(message)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The pseudonym of a `field` value: `<prefix>_` + [`Self::digest`] of `<kind>:<normalised>`.
    /// A value that already is a pseudonym of this field (`em_` and 16 lower-case hex digits
    /// for an e-mail) is returned as it is, so pseudonymizing twice (an analysis with
    /// `--pseudonymize` over an ingest directory written with it) changes nothing.
    pub fn field(&self, field: Field, value: &str) -> String {
        if is_pseudonym(field.prefix(), value) {
            return value.to_string();
        }
        let normal = normalise(field, value);
        format!(
            "{}_{}",
            field.prefix(),
            self.digest(&format!("{}:{normal}", field.kind()))
        )
    }

    /// The pseudonym of a customer id derived from a key (`email:<e>`, `phone:<p>`, `ext:<id>`):
    /// `cu_` + the digest of the same message as the key's own pseudonym, so `cu_X` and `em_X`
    /// name the same person. Ids of other forms (a CRM's `C0001`) are returned as they are.
    pub fn customer_id(&self, value: &str) -> Option<String> {
        let (field, rest) = Field::of_derived_id(value)?;
        let normal = normalise(field, rest);
        Some(format!(
            "cu_{}",
            self.digest(&format!("{}:{normal}", field.kind()))
        ))
    }
}

/// True when `value` is `<prefix>_` followed by [`HEX_DIGITS`] lower-case hex digits.
pub fn is_pseudonym(prefix: &str, value: &str) -> bool {
    value
        .strip_prefix(prefix)
        .and_then(|v| v.strip_prefix('_'))
        .is_some_and(|hex| {
            hex.len() == HEX_DIGITS && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
}

/// The error when pseudonyms are asked for and no key is configured (exit 2).
pub fn missing_key() -> Error {
    Error::usage("--pseudonymize needs a key, and none was given")
        .hint(format!(
            "set {KEY_ENV} in the environment, or key_file = \"...\" in the [privacy] section of the config"
        ))
        .hint("the key is never taken from the command line, where other users could see it")
}

/// The normal form hashed for a value: e-mail trimmed and lower-case; phone digits only; name
/// trimmed, inner whitespace collapsed to one space, lower-case; external id trimmed. Ingest has
/// already brought e-mail and phone into this form, so hashing it again changes nothing.
pub fn normalise(field: Field, value: &str) -> String {
    match field {
        Field::Email => value.trim().to_lowercase(),
        Field::Phone => value.chars().filter(char::is_ascii_digit).collect(),
        Field::Name => value
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
        Field::ExternalId => value.trim().to_string(),
    }
}

/// Refuses a key file that its group or others may read or write (Unix permission bits).
#[cfg(unix)]
fn check_owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::config(format!("cannot read the key file {}: {e}", path.display())))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::config(format!(
            "the key file {} may be read by other users (mode {mode:o})",
            path.display()
        ))
        .hint(format!("run: chmod 600 {}", path.display())));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_only(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Pseudonymizer {
        Pseudonymizer::new(b"0123456789abcdef".to_vec(), KeySource::Env).unwrap()
    }

    #[test]
    fn rfc4231_case_2_prefix() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(hex.starts_with("5bdcc146bf60754e6a042426089575c7"));
    }

    #[test]
    fn stable_normalised_and_linked() {
        let p = p();
        let a = p.field(Field::Email, " User@QQ.com ");
        assert_eq!(a, p.field(Field::Email, "user@qq.com"));
        assert!(a.starts_with("em_") && a.len() == 3 + HEX_DIGITS, "{a}");
        let c = p.customer_id("email:user@qq.com").unwrap();
        assert_eq!(&c[3..], &a[3..]);
        assert_eq!(p.customer_id("C0001"), None);
        assert_eq!(
            p.field(Field::Email, &a),
            a,
            "pseudonymizing twice changes nothing"
        );
        assert_ne!(
            p.field(Field::Phone, "13800138000"),
            p.field(Field::Email, "13800138000")
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(Pseudonymizer::new(b"short".to_vec(), KeySource::Env).is_err());
    }
}
