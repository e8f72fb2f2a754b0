//! An API key pair held in memory, with the passphrase some venues add (OKX, Bitget,
//! KuCoin). The secret half and the passphrase are [`Secret`]s: zeroed on drop, never
//! printed by `Debug` or `Display`, never serialised. One redacting type serves the
//! keychain, the CLI and the adapters, so a secret read from the keychain reaches the
//! signer without ever being copied into a plain `String`.

use std::fmt;

use crate::secrets::Secret;

/// An API key and its secret (an HMAC secret, or an Ed25519 private key in PKCS#8 PEM),
/// and the passphrase chosen when the key was made, on venues that ask for one.
#[derive(Clone)]
pub struct Credentials {
    api_key: String,
    secret: Secret,
    passphrase: Option<Secret>,
}

impl Credentials {
    /// Takes the secret as a [`Secret`] (best: no plain copy is ever made), or as text.
    pub fn new(api_key: impl Into<String>, secret: impl IntoSecret) -> Self {
        Self {
            api_key: api_key.into(),
            secret: secret.into_secret(),
            passphrase: None,
        }
    }

    /// The same key with the venue's passphrase.
    pub fn with_passphrase(mut self, passphrase: impl IntoSecret) -> Self {
        self.passphrase = Some(passphrase.into_secret());
        self
    }

    /// The public half, sent in a header.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The secret half; only signers should call this (adapters, including those outside
    /// the crate such as the tests' in-memory venue), and never into a log.
    pub fn expose_secret(&self) -> &str {
        self.secret.expose()
    }

    /// The passphrase, if the key has one; as for [`Credentials::expose_secret`].
    pub fn expose_passphrase(&self) -> Option<&str> {
        self.passphrase.as_ref().map(Secret::expose)
    }
}

/// What [`Credentials::new`] accepts as the secret half.
pub trait IntoSecret {
    fn into_secret(self) -> Secret;
}

impl IntoSecret for Secret {
    fn into_secret(self) -> Secret {
        self
    }
}

impl IntoSecret for String {
    fn into_secret(self) -> Secret {
        Secret::new(self)
    }
}

impl IntoSecret for &str {
    fn into_secret(self) -> Secret {
        Secret::new(self.to_owned())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is shown shortened so logs can tell accounts apart.
        let shown: String = self.api_key.chars().take(6).collect();
        f.debug_struct("Credentials")
            .field("api_key", &format_args!("{shown}…"))
            .field("secret", &self.secret)
            .field("passphrase", &self.passphrase)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credentials::new(
            "dbefbc809e3e83c2",
            Secret::new("2b5eb11e18796d12d88f13dc27dbbd02".into()),
        )
        .with_passphrase("Tr0ub4dor-passphrase");
        let shown = format!("{c:?} {c:#?}");
        assert!(
            !shown.contains("2b5eb11e"),
            "Debug must not contain the secret: {shown}"
        );
        assert!(
            !shown.contains("Tr0ub4dor"),
            "Debug must not contain the passphrase: {shown}"
        );
        assert!(
            !shown.contains("dbefbc809e3e83c2"),
            "Debug must not contain the full key: {shown}"
        );
        assert!(
            shown.contains("redacted"),
            "Debug says it redacted: {shown}"
        );
    }
}
