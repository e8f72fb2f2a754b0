//! Where the config says a credential comes from: `{ env = "VAR" }` or
//! `{ keychain = "name" }`, and the resolver that fetches it. There is no file source and
//! no fallback: a missing value is an error naming the variable or entry and the fix.

use serde::{Deserialize, Serialize};

use super::keychain::{Keychain, KeychainError, SecretPart};
use super::secret::Secret;

/// A credential's source as written in the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SecretSource {
    /// An environment variable holding the value (headless servers).
    Env(String),
    /// A keychain credential stored with `copydesk keys add NAME`.
    Keychain(String),
}

/// Why a credential could not be resolved. Messages name the account, the field and the
/// variable or entry, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("account `{account}`, {field}: environment variable {var} is not set; export it before starting, or store the key with `copydesk keys add {account}` and write {field} = {{ keychain = \"{account}\" }}")]
    EnvMissing {
        account: String,
        field: &'static str,
        var: String,
    },
    #[error("account `{account}`, {field}: environment variable {var} is empty or not valid UTF-8; set it to the credential's text")]
    EnvInvalid {
        account: String,
        field: &'static str,
        var: String,
    },
    #[error("account `{account}`, {field}: the keychain has no entry `{entry}` (service {service}); add it with `copydesk keys add {name}`")]
    KeychainMissing {
        account: String,
        field: &'static str,
        name: String,
        entry: String,
        service: String,
    },
    #[error("account `{account}`, {field}: {source}")]
    Keychain {
        account: String,
        field: &'static str,
        #[source]
        source: KeychainError,
    },
}

impl SecretSource {
    /// Fetches the credential from the process environment or the keychain.
    pub fn resolve(
        &self,
        account: &str,
        part: SecretPart,
        keychain: &Keychain,
    ) -> Result<Secret, ResolveError> {
        self.resolve_with(account, part, keychain, |var| std::env::var_os(var))
    }

    /// As [`SecretSource::resolve`] with the environment given as a lookup function.
    pub fn resolve_with(
        &self,
        account: &str,
        part: SecretPart,
        keychain: &Keychain,
        env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Secret, ResolveError> {
        let field = part.field();
        match self {
            SecretSource::Env(var) => {
                let value = env(var).ok_or_else(|| ResolveError::EnvMissing {
                    account: account.to_owned(),
                    field,
                    var: var.clone(),
                })?;
                match value.into_string() {
                    Ok(s) if !s.trim().is_empty() => Ok(Secret::new(s)),
                    _ => Err(ResolveError::EnvInvalid {
                        account: account.to_owned(),
                        field,
                        var: var.clone(),
                    }),
                }
            }
            SecretSource::Keychain(name) => {
                let entry = Keychain::entry_name(name, part);
                match keychain.get(&entry) {
                    Ok(Some(secret)) => Ok(secret),
                    Ok(None) => Err(ResolveError::KeychainMissing {
                        account: account.to_owned(),
                        field,
                        name: name.clone(),
                        entry,
                        service: keychain.service().to_owned(),
                    }),
                    Err(source) => Err(ResolveError::Keychain {
                        account: account.to_owned(),
                        field,
                        source,
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Account {
        api_key: SecretSource,
        api_secret: SecretSource,
    }

    #[test]
    fn parses_the_config_shape() {
        let a: Account = toml::from_str(
            "api_key = { env = \"LEAD_KEY\" }\napi_secret = { keychain = \"lead\" }",
        )
        .expect("both shapes parse");
        assert_eq!(a.api_key, SecretSource::Env("LEAD_KEY".into()));
        assert_eq!(a.api_secret, SecretSource::Keychain("lead".into()));
    }

    #[test]
    fn refuses_a_file_source() {
        let err = toml::from_str::<Account>(
            "api_key = { file = \"/tmp/k\" }\napi_secret = { env = \"S\" }",
        )
        .expect_err("a file source must be refused");
        let msg = err.to_string();
        assert!(
            msg.contains("env") && msg.contains("keychain"),
            "the message should list the allowed sources: {msg}"
        );
    }

    #[test]
    fn missing_env_names_the_variable_and_the_fix() {
        let src = SecretSource::Env("ME_SECRET".into());
        let err = src
            .resolve_with("me", SecretPart::ApiSecret, &Keychain::app(), |_| None)
            .expect_err("unset variable is an error");
        let msg = err.to_string();
        assert!(msg.contains("ME_SECRET"), "names the variable: {msg}");
        assert!(msg.contains("api_secret"), "names the field: {msg}");
        assert!(msg.contains("copydesk keys add me"), "gives the fix: {msg}");
    }

    #[test]
    fn env_value_is_returned_as_a_secret() {
        let src = SecretSource::Env("ME_KEY".into());
        let s = src
            .resolve_with("me", SecretPart::ApiKey, &Keychain::app(), |v| {
                (v == "ME_KEY").then(|| "k-123".into())
            })
            .expect("set variable resolves");
        assert_eq!(s.expose(), "k-123", "the variable's value is the secret");
        let err = src
            .resolve_with("me", SecretPart::ApiKey, &Keychain::app(), |_| {
                Some("".into())
            })
            .expect_err("empty variable refused");
        assert!(matches!(err, ResolveError::EnvInvalid { .. }), "{err}");
    }
}
