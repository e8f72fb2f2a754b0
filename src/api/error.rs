//! The one error that crosses IPC and CLI output: a stable machine-readable `code` the UI
//! may branch on, and a `message` for people that names the field and the fix. Messages
//! never carry secrets: they are built from errors whose own texts carry none.

use serde::{Deserialize, Serialize};

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
    Internal,
}

/// `{code, message}`, serialised as such.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }
}

/// Conversions from the errors of the floors below: each floor keeps its own `thiserror`
/// enum and knows nothing of IPC; the code the UI branches on is chosen here, with an
/// explicit arm per variant so a new variant must be classified.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::NotFound { .. } | StoreError::NoDatabase { .. } => ErrorCode::NotFound,
            StoreError::Conflict { .. }
            | StoreError::Locked { .. }
            | StoreError::InvalidTransition { .. } => ErrorCode::Conflict,
            StoreError::Invalid { .. } => ErrorCode::InvalidInput,
            StoreError::Io { .. }
            | StoreError::NotSqlite { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Foreign { .. }
            | StoreError::TooNew { .. }
            | StoreError::VersionMismatch { .. }
            | StoreError::Backup { .. }
            | StoreError::Migration { .. }
            | StoreError::NotPrivate { .. }
            | StoreError::SharedDataDir { .. }
            | StoreError::Sqlite(_) => ErrorCode::Storage,
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
            KeysError::Resolve(r) => r.into(),
            KeysError::NotFound { .. } => ApiError::new(ErrorCode::NotFound, e.to_string()),
            KeysError::Keychain(_) => ApiError::new(ErrorCode::Keychain, e.to_string()),
            KeysError::InvalidName { .. }
            | KeysError::InvalidCredential { .. }
            | KeysError::Refused(_) => ApiError::invalid(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_and_message() {
        let e = ApiError::invalid("investment: must be at least 100 USDT; raise it");
        let json = serde_json::to_string(&e).expect("serialises");
        assert_eq!(
            json,
            r#"{"code":"invalid_input","message":"investment: must be at least 100 USDT; raise it"}"#
        );
    }
}
