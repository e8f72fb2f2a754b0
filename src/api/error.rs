//! The one error that crosses IPC and CLI output: a stable machine-readable `code` the UI
//! may branch on, a `message` for people that names the field and the fix, and the input
//! `field` (a camelCase path) when the error is about one. Messages never carry secrets:
//! they are built from errors whose own texts carry none. The conversions from the core's
//! own error enums live here, so no module below `api` knows this type.

use serde::{Deserialize, Serialize};

use crate::runtime::RuntimeError;
use crate::secrets::keys::KeysError;
use crate::secrets::ResolveError;
use crate::store::StoreError;

/// Stable error codes. The UI matches on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidInput,
    NotFound,
    Conflict,
    Exchange,
    Keychain,
    Storage,
    /// Another engine (the app or `copydesk run`) holds the data directory.
    Locked,
    Internal,
}

/// `{code, message, field}`, serialised as such.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The input the error is about, as a camelCase path (`risk.maxLeverage`), if any.
    #[serde(default)]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// Invalid input in one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::invalid(message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::NotFound { .. } | StoreError::NoDatabase { .. } => ErrorCode::NotFound,
            StoreError::Locked { .. } => ErrorCode::Locked,
            StoreError::Conflict { .. } | StoreError::InvalidTransition { .. } => {
                ErrorCode::Conflict
            }
            StoreError::Invalid { .. } => ErrorCode::InvalidInput,
            _ => ErrorCode::Storage,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<ResolveError> for ApiError {
    fn from(e: ResolveError) -> Self {
        let code = match e {
            ResolveError::EnvMissing { .. } | ResolveError::EnvInvalid { .. } => {
                ErrorCode::InvalidInput
            }
            ResolveError::KeychainMissing { .. } => ErrorCode::NotFound,
            ResolveError::Keychain { .. } => ErrorCode::Keychain,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<KeysError> for ApiError {
    fn from(e: KeysError) -> Self {
        match e {
            KeysError::Store(s) => s.into(),
            KeysError::NotFound { .. } => ApiError::new(ErrorCode::NotFound, e.to_string()),
            KeysError::Keychain(_) => ApiError::new(ErrorCode::Keychain, e.to_string()),
            KeysError::InvalidName { .. } => ApiError::field("name", e.to_string()),
            KeysError::InvalidCredential { field, .. } => {
                let f = if field.contains("secret") {
                    "apiSecret"
                } else {
                    "apiKey"
                };
                ApiError::field(f, e.to_string())
            }
        }
    }
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::Store(s) => s.into(),
            RuntimeError::Config(_) => ApiError::invalid(e.to_string()),
            RuntimeError::AlreadyRunning { .. } => {
                ApiError::new(ErrorCode::Conflict, e.to_string())
            }
            RuntimeError::Setup { .. } | RuntimeError::Account { .. } => {
                ApiError::new(ErrorCode::Exchange, e.to_string())
            }
        }
    }
}

impl From<crate::exchange::ExchangeError> for ApiError {
    fn from(e: crate::exchange::ExchangeError) -> Self {
        ApiError::new(ErrorCode::Exchange, e.to_string())
    }
}

/// A settings field as the UI names it: `risk.max_leverage` → `risk.maxLeverage`.
pub fn camel_path(field: &str) -> String {
    field
        .split('.')
        .map(|part| {
            let mut out = String::new();
            let mut up = false;
            for c in part.chars() {
                if c == '_' {
                    up = true;
                } else if up {
                    out.extend(c.to_uppercase());
                    up = false;
                } else {
                    out.push(c);
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_message_and_field() {
        let e = ApiError::field(
            "investment",
            "investment: must be at least 100 USDT; raise it",
        );
        let json = serde_json::to_string(&e).expect("serialises");
        assert_eq!(
            json,
            r#"{"code":"invalid_input","message":"investment: must be at least 100 USDT; raise it","field":"investment"}"#
        );
        let plain = serde_json::to_value(ApiError::internal("x")).expect("serialises");
        assert!(plain["field"].is_null(), "no field is null: {plain}");
    }

    #[test]
    fn settings_fields_become_camel_case_paths() {
        assert_eq!(camel_path("risk.max_leverage"), "risk.maxLeverage");
        assert_eq!(camel_path("amount_per_order"), "amountPerOrder");
        assert_eq!(camel_path("investment"), "investment");
    }

    #[test]
    fn a_held_lock_is_its_own_code() {
        let e: ApiError = StoreError::Locked {
            dir: "/d".into(),
            holder: "copydesk run (pid 1)".into(),
        }
        .into();
        assert_eq!(e.code, ErrorCode::Locked, "{e:?}");
    }
}
