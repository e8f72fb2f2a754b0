//! The simulator's rejection type: a Binance error code, its message and the HTTP status
//! the venue answers with. Every rejection on the wire goes through [`WireError`] so the
//! body always has Binance's `{"code":…,"msg":…}` shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A rejection as Binance sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub status: StatusCode,
    pub code: i64,
    pub msg: String,
}

pub type WireResult<T> = Result<T, WireError>;

impl WireError {
    pub fn new(status: StatusCode, code: i64, msg: impl Into<String>) -> Self {
        Self {
            status,
            code,
            msg: msg.into(),
        }
    }

    /// A 400 rejection, the status of most business and parameter errors.
    pub fn bad(code: i64, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, msg)
    }

    pub fn mandatory(param: &str) -> Self {
        Self::bad(
            -1102,
            format!(
                "Mandatory parameter '{}' was not sent, was empty/null, or malformed.",
                param.to_lowercase()
            ),
        )
    }

    pub fn not_required(param: &str) -> Self {
        Self::bad(
            -1106,
            format!(
                "Parameter '{}' sent when not required.",
                param.to_lowercase()
            ),
        )
    }

    pub fn illegal(param: &str) -> Self {
        Self::bad(
            -1130,
            format!(
                "Data sent for parameter '{}' is not valid.",
                param.to_lowercase()
            ),
        )
    }

    pub fn bad_symbol() -> Self {
        Self::bad(-1121, "Invalid symbol.")
    }

    pub fn unknown_order() -> Self {
        Self::bad(-2011, "Unknown order sent.")
    }

    pub fn no_such_order() -> Self {
        Self::bad(-2013, "Order does not exist.")
    }

    pub fn margin_insufficient() -> Self {
        Self::bad(-2019, "Margin is insufficient.")
    }

    pub fn reduce_only_reject() -> Self {
        Self::bad(-2022, "ReduceOnly Order is rejected.")
    }

    pub fn position_side_mismatch() -> Self {
        Self::bad(
            -4061,
            "Order's position side does not match user's setting.",
        )
    }

    pub fn precision() -> Self {
        Self::bad(
            -1111,
            "Precision is over the maximum defined for this asset.",
        )
    }

    pub fn invalid_key_format() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, -2014, "API-key format invalid.")
    }

    pub fn rejected_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        )
    }

    pub fn bad_signature() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            -1022,
            "Signature for this request is not valid.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            -1000,
            "An unknown error occured while processing the request.",
        )
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"code": self.code, "msg": self.msg})
    }
}

impl IntoResponse for WireError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
