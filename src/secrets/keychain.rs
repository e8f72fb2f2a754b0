//! The OS keychain through the keyring crate's native backends: Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows. Entries live under one service name,
//! the app identifier, so the app and the CLI find the same entries; a credential pair of
//! account `NAME` is stored as users `NAME.key` and `NAME.secret`. Errors are reduced to
//! text at once, and only from the backends' Display, which carries no stored value.

use keyring::Entry;

use super::secret::Secret;
use crate::paths::APP_IDENTIFIER;

/// Which half of an API credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretPart {
    ApiKey,
    ApiSecret,
}

impl SecretPart {
    /// Suffix of the keychain user name (`NAME.key`, `NAME.secret`).
    pub fn suffix(self) -> &'static str {
        match self {
            SecretPart::ApiKey => "key",
            SecretPart::ApiSecret => "secret",
        }
    }

    /// The config field it comes from.
    pub fn field(self) -> &'static str {
        match self {
            SecretPart::ApiKey => "api_key",
            SecretPart::ApiSecret => "api_secret",
        }
    }
}

/// Why the keychain could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    #[error("no OS keychain is reachable ({detail}); on a headless server keep keys in environment variables and name them in the config, e.g. api_key = {{ env = \"ME_KEY\" }}")]
    Unavailable { detail: String },
    #[error("the OS keychain refused `{entry}`: {detail}")]
    Failed { entry: String, detail: String },
}

/// The keychain under one service name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Self::app()
    }
}

impl Keychain {
    /// The app's keychain: service [`APP_IDENTIFIER`], shared by the app and the CLI.
    pub fn app() -> Self {
        Self::with_service(APP_IDENTIFIER)
    }

    /// A keychain under another service name (tests use their own so they never touch
    /// the user's entries).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// The entry user name of one half of account `account`'s credential.
    pub fn entry_name(account: &str, part: SecretPart) -> String {
        format!("{account}.{}", part.suffix())
    }

    /// Checks that a keychain answers, so the app can say early that there is none.
    pub fn check(&self) -> Result<(), KeychainError> {
        self.get("copydesk-availability-probe").map(|_| ())
    }

    /// Stores (or overwrites) `user`'s secret.
    pub fn set(&self, user: &str, secret: &Secret) -> Result<(), KeychainError> {
        let entry = self.entry(user)?;
        entry
            .set_password(secret.expose())
            .map_err(|e| map_err(user, &e))?;
        tracing::debug!(service = %self.service, entry = user, "keychain entry written");
        Ok(())
    }

    /// `user`'s secret, or `None` when there is no such entry.
    pub fn get(&self, user: &str) -> Result<Option<Secret>, KeychainError> {
        let entry = self.entry(user)?;
        match entry.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(user, &e)),
        }
    }

    /// Deletes `user`'s entry; `false` when there was none.
    pub fn delete(&self, user: &str) -> Result<bool, KeychainError> {
        let entry = self.entry(user)?;
        match entry.delete_credential() {
            Ok(()) => {
                tracing::debug!(service = %self.service, entry = user, "keychain entry deleted");
                Ok(true)
            }
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_err(user, &e)),
        }
    }

    fn entry(&self, user: &str) -> Result<Entry, KeychainError> {
        Entry::new(&self.service, user).map_err(|e| map_err(user, &e))
    }
}

fn map_err(user: &str, e: &keyring::Error) -> KeychainError {
    // Display only: the Debug form of `BadEncoding` would print the stored bytes.
    let detail = e.to_string();
    match e {
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            KeychainError::Unavailable { detail }
        }
        _ => KeychainError::Failed {
            entry: user.to_owned(),
            detail,
        },
    }
}
