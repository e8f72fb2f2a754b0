//! An API key pair held in memory. The secret half is zeroed on drop, never printed by
//! `Debug`, and never serialised. This is a stand-in until the shared `secrets::Secret`
//! type lands; it keeps the same promises.

use std::fmt;

use zeroize::Zeroizing;

/// An API key and its secret (an HMAC secret, or an Ed25519 private key in PKCS#8 PEM).
#[derive(Clone)]
pub struct Credentials {
    api_key: String,
    secret: Zeroizing<String>,
}

impl Credentials {
    pub fn new(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            secret: Zeroizing::new(secret.into()),
        }
    }

    /// The public half, sent in a header.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The secret half; only signers should call this.
    pub(crate) fn expose_secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is shown shortened so logs can tell accounts apart.
        let shown: String = self.api_key.chars().take(6).collect();
        f.debug_struct("Credentials")
            .field("api_key", &format_args!("{shown}…"))
            .field("secret", &format_args!("<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credentials::new("dbefbc809e3e83c2", "2b5eb11e18796d12d88f13dc27dbbd02");
        let shown = format!("{c:?} {c:#?}");
        assert!(
            !shown.contains("2b5eb11e"),
            "Debug must not contain the secret: {shown}"
        );
        assert!(
            !shown.contains("dbefbc809e3e83c2"),
            "Debug must not contain the full key: {shown}"
        );
        assert!(shown.contains("<redacted>"), "Debug says it redacted");
    }
}
