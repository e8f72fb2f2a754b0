//! The one error that crosses IPC and CLI output: a stable machine-readable `code` the UI
//! may branch on, and a `message` for people that names the field and the fix. Messages
//! never carry secrets: they are built from errors whose own texts carry none.

use serde::{Deserialize, Serialize};

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
