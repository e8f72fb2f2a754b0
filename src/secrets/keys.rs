//! Managing stored credentials: add, list, remove. The keychain holds the key and secret;
//! the database's accounts table holds only the index of names with a masked key hint,
//! so listing needs no keychain access and shows nothing usable.

use std::path::Path;

use serde::Serialize;

use super::keychain::{Keychain, KeychainError, SecretPart};
use super::secret::Secret;
use crate::store::{db_path, now_ms, DataDir, Store, StoreError};

/// Why a key operation failed. No variant holds a credential.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("account name `{name}`: {problem}; use 1 to 64 letters, digits, `-` or `_`, like `binance-main`")]
    InvalidName { name: String, problem: &'static str },
    #[error("{field}: {problem}; paste it exactly as the exchange showed it")]
    InvalidCredential {
        field: &'static str,
        problem: &'static str,
    },
    #[error("no key named `{name}` is stored; `copydesk keys list` shows the stored names")]
    NotFound { name: String },
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A stored key as `keys list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub name: String,
    /// `abcd…wxyz`: enough to recognise a key, not to use it.
    pub key_hint: String,
}

/// Checks an account name, which becomes part of keychain entry names.
pub fn validate_name(name: &str) -> Result<(), KeysError> {
    let problem = if name.is_empty() {
        Some("is empty")
    } else if name.chars().count() > 64 {
        Some("is longer than 64 characters")
    } else if name.starts_with('-') {
        Some("starts with `-`")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Some("has characters other than letters, digits, `-` and `_`")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(KeysError::InvalidName {
            name: name.to_owned(),
            problem,
        }),
        None => Ok(()),
    }
}

/// Checks a pasted key or secret without ever echoing it.
pub fn validate_credential(field: &'static str, value: &Secret) -> Result<(), KeysError> {
    let v = value.expose();
    let problem = if v.is_empty() {
        Some("is empty")
    } else if v.chars().count() > 1024 {
        Some("is longer than 1024 characters")
    } else if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains spaces or control characters")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(KeysError::InvalidCredential { field, problem }),
        None => Ok(()),
    }
}

/// `abcd…wxyz` for keys of 12 characters or more; shorter keys show only `…`, since
/// eight of their characters would be most of them.
pub fn mask(key: &Secret) -> String {
    let chars: Vec<char> = key.expose().chars().collect();
    if chars.len() < 12 {
        return "…".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// Stores account `name`'s key and secret in the keychain (replacing any) and indexes the
/// name with a masked hint. Takes the open data directory, so only its engine (the app, or
/// the CLI holding the lock) writes the index. Returns the hint.
pub fn add(
    data: &DataDir,
    keychain: &Keychain,
    name: &str,
    key: &Secret,
    secret: &Secret,
) -> Result<String, KeysError> {
    validate_name(name)?;
    validate_credential("api key", key)?;
    validate_credential("api secret", secret)?;
    let key_entry = Keychain::entry_name(name, SecretPart::ApiKey);
    keychain.set(&key_entry, key)?;
    if let Err(e) = keychain.set(&Keychain::entry_name(name, SecretPart::ApiSecret), secret) {
        // Half a credential is useless and misleading: take the key out again.
        let _ = keychain.delete(&key_entry);
        return Err(e.into());
    }
    let hint = mask(key);
    data.store()
        .accounts()
        .set_key_hint(name, Some(&hint), now_ms())?;
    tracing::info!(account = name, "credentials stored in the keychain");
    Ok(hint)
}

/// The stored names with their hints. Reads the database only; none yet means none.
pub fn list(dir: &Path) -> Result<Vec<KeyInfo>, KeysError> {
    let path = db_path(dir);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let store = Store::open_read_only(&path)?;
    Ok(store
        .accounts()
        .with_keys()?
        .into_iter()
        .map(|a| KeyInfo {
            name: a.name,
            key_hint: a.key_hint.unwrap_or_default(),
        })
        .collect())
}

/// Deletes account `name`'s keychain entries and its hint. An unknown name is an error.
pub fn remove(data: &DataDir, keychain: &Keychain, name: &str) -> Result<(), KeysError> {
    validate_name(name)?;
    let deleted_key = keychain.delete(&Keychain::entry_name(name, SecretPart::ApiKey))?;
    let deleted_secret = keychain.delete(&Keychain::entry_name(name, SecretPart::ApiSecret))?;
    let accounts = data.store().accounts();
    let indexed = accounts.get(name)?.is_some_and(|a| a.key_hint.is_some());
    if indexed {
        accounts.set_key_hint(name, None, now_ms())?;
    }
    if !(deleted_key || deleted_secret || indexed) {
        return Err(KeysError::NotFound {
            name: name.to_owned(),
        });
    }
    tracing::info!(account = name, "credentials removed from the keychain");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_shows_only_the_ends() {
        let k = Secret::new("abcdEFGH12345678wxyz".into());
        assert_eq!(mask(&k), "abcd…wxyz", "first and last four characters");
        assert_eq!(
            mask(&Secret::new("short".into())),
            "…",
            "short keys show nothing"
        );
    }

    #[test]
    fn names_are_checked_with_the_fix() {
        assert!(validate_name("binance-main_2").is_ok(), "plain names pass");
        for bad in ["", "a b", "-x", "über", "a/b"] {
            let err = validate_name(bad).expect_err("bad name refused");
            assert!(
                err.to_string().contains("letters, digits"),
                "gives the fix: {err}"
            );
        }
    }

    #[test]
    fn credential_errors_never_echo_the_value() {
        let v = Secret::new("s3cr3t value".into());
        let err = validate_credential("api secret", &v).expect_err("space refused");
        let msg = err.to_string();
        assert!(msg.contains("api secret"), "names the field: {msg}");
        assert!(!msg.contains("s3cr3t"), "never echoes the value: {msg}");
    }
}
