//! The stored keys as the CLI's `keys` commands manage them: add a key and secret for an
//! account name (the config refers to it with `{ keychain = "NAME" }`), list the names
//! with masked hints, remove them. Each takes the data directory's lock for its write, as
//! one-shot commands beside no engine.

use std::path::Path;

use crate::secrets::{keys, Keychain, Secret, SecretPart, SecretSource};
use crate::store::DataDir;

use super::ApiError;

/// Environment variable that arms the hidden `debug-panic` command (tests only).
pub const TEST_PANIC_ENV: &str = "COPYDESK_TEST_PANIC";

/// A stored key's name and hint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub key_hint: String,
}

/// Checks an account name before anyone types a secret for it; takes the lock, so a
/// command that would be refused is refused first.
pub fn open_for_keys(data_dir: &Path, name: &str, program: &str) -> Result<DataDir, ApiError> {
    keys::validate_name(name)?;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        ApiError::new(
            super::ErrorCode::Storage,
            format!(
                "cannot create the data directory {}: {e}",
                data_dir.display()
            ),
        )
    })?;
    Ok(DataDir::open(data_dir, program)?)
}

/// Stores a key and secret in the keychain; returns the masked hint.
pub fn add_key(
    data: &DataDir,
    keychain: &Keychain,
    name: &str,
    key: &Secret,
    secret: &Secret,
) -> Result<String, ApiError> {
    Ok(keys::add(data, keychain, name, key, secret)?)
}

/// The stored names with their hints (reads the database only).
pub fn list_keys(data_dir: &Path) -> Result<Vec<KeyInfo>, ApiError> {
    Ok(keys::list(data_dir)?
        .into_iter()
        .map(|k| KeyInfo {
            name: k.name,
            key_hint: k.key_hint,
        })
        .collect())
}

/// Deletes an account's key and secret from the keychain.
pub fn remove_key(data: &DataDir, keychain: &Keychain, name: &str) -> Result<(), ApiError> {
    Ok(keys::remove(data, keychain, name)?)
}

/// The hidden `debug-panic NAME` command: loads account `NAME`'s credentials the way the
/// engine does, then panics while holding them, so the leak test can check that a crash
/// report shows none of them. Refused unless [`TEST_PANIC_ENV`] is `1`.
pub fn debug_panic(name: &str) -> Result<String, ApiError> {
    if std::env::var_os(TEST_PANIC_ENV).is_none_or(|v| v != "1") {
        return Err(ApiError::invalid(format!(
            "debug-panic is a test hook; it runs only with {TEST_PANIC_ENV}=1"
        )));
    }
    let keychain = Keychain::app();
    let source = SecretSource::Keychain(name.to_owned());
    let key = source.resolve(name, SecretPart::ApiKey, &keychain)?;
    let secret = source.resolve(name, SecretPart::ApiSecret, &keychain)?;
    tracing::trace!(
        ?key,
        ?secret,
        account = name,
        "credentials loaded before a forced panic"
    );
    panic!("forced test panic while holding key {key:?} and secret {secret:?} ({key}, {secret})");
}

/// Reads and checks a `copy.toml`.
pub fn load_config(path: &Path) -> Result<crate::runtime::RunConfig, ApiError> {
    crate::runtime::config::load(path).map_err(|e| ApiError::invalid(e.to_string()))
}
