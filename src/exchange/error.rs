//! Errors of the exchange port. Every error has a class that drives what the runtime does:
//! retry with backoff (transient), report the venue's refusal (rejected), or stop and tell
//! the user (fatal). The venue's own code is kept wherever there is one. No variant ever
//! holds a secret or a signature.

use std::time::Duration;

use crate::domain::FilterViolation;

/// What the runtime should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Try again later (backoff, rate limits, timeouts, venue hiccups).
    Transient,
    /// The venue (or the adapter, before sending) said no to this request; retrying the
    /// same request will fail the same way.
    Rejected,
    /// The key or configuration is unusable: stop the copy and tell the user.
    Fatal,
}

/// An error from an exchange adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// The request could not be sent or its answer not read.
    #[error("network error: {detail}")]
    Network { detail: String },
    /// No answer in time. The request may have been executed.
    #[error("no answer within {after:?}")]
    Timeout { after: Duration },
    /// The venue's rate limit was hit (`429`).
    #[error("rate limited by the venue (code {code:?}); retry after {retry_after:?}")]
    RateLimited {
        code: Option<i64>,
        retry_after: Option<Duration>,
    },
    /// The venue banned this IP for a while (`418`); nothing is sent until it lifts.
    #[error("IP banned by the venue for {retry_after:?}")]
    Banned { retry_after: Duration },
    /// The venue failed (5xx, throttling, unknown errors). With `outcome_unknown`, a
    /// placement may have gone through.
    #[error("venue unavailable (HTTP {status}, code {code:?}): {message}")]
    Unavailable {
        status: u16,
        code: Option<i64>,
        message: String,
        outcome_unknown: bool,
    },
    /// Our clock was outside the venue's window even after a resync.
    #[error("clock out of sync with the venue (code {code}): {message}")]
    ClockSkew { code: i64, message: String },
    /// The venue refused the request.
    #[error("venue rejected the request (code {code}): {message}")]
    Rejected { code: i64, message: String },
    /// The venue answered with an HTTP status and no error body (e.g. `404` from a host
    /// without this API, `403` from a firewall).
    #[error("unexpected HTTP {status}: {message}")]
    UnexpectedStatus { status: u16, message: String },
    /// The API key is malformed, unknown or its signature is wrong.
    #[error("API key or signature refused (code {code}): {message}")]
    BadKey { code: i64, message: String },
    /// The key is not allowed to do this (Binance `-2015`: invalid key, IP or permissions;
    /// code 0 for a bare `401`).
    /// For a leader this means the copies of that leader must pause.
    #[error("API key lacks permission or its IP is not allowed (code {code}): {message}")]
    KeyRejected { code: i64, message: String },
    /// The order would break the symbol's filters, so it was not sent.
    #[error("order for {symbol} not sent: {violation}")]
    Filter {
        symbol: String,
        violation: FilterViolation,
    },
    /// The request was refused before sending (bad argument, unknown symbol, halted
    /// symbol, unsupported key type).
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The venue's answer could not be read.
    #[error("could not decode {what}: {detail}")]
    Decode { what: String, detail: String },
}

impl ExchangeError {
    /// The class that drives retries.
    pub fn class(&self) -> ErrorClass {
        match self {
            ExchangeError::Network { .. }
            | ExchangeError::Timeout { .. }
            | ExchangeError::RateLimited { .. }
            | ExchangeError::Banned { .. }
            | ExchangeError::Unavailable { .. }
            | ExchangeError::ClockSkew { .. } => ErrorClass::Transient,
            ExchangeError::Rejected { .. }
            | ExchangeError::UnexpectedStatus { .. }
            | ExchangeError::Filter { .. }
            | ExchangeError::Invalid { .. }
            | ExchangeError::Decode { .. } => ErrorClass::Rejected,
            ExchangeError::BadKey { .. } | ExchangeError::KeyRejected { .. } => ErrorClass::Fatal,
        }
    }

    /// The venue's error code, where it sent one.
    pub fn venue_code(&self) -> Option<i64> {
        match self {
            ExchangeError::RateLimited { code, .. } | ExchangeError::Unavailable { code, .. } => {
                *code
            }
            ExchangeError::ClockSkew { code, .. }
            | ExchangeError::Rejected { code, .. }
            | ExchangeError::BadKey { code, .. }
            | ExchangeError::KeyRejected { code, .. } => Some(*code),
            ExchangeError::Network { .. }
            | ExchangeError::Timeout { .. }
            | ExchangeError::Banned { .. }
            | ExchangeError::UnexpectedStatus { .. }
            | ExchangeError::Filter { .. }
            | ExchangeError::Invalid { .. }
            | ExchangeError::Decode { .. } => None,
        }
    }

    /// How long the venue asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ExchangeError::RateLimited { retry_after, .. } => *retry_after,
            ExchangeError::Banned { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}
