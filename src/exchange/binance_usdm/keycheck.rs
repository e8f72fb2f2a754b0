//! Checks what an API key may do. Permissions come from the wallet API's
//! `apiRestrictions` (the key's own flags), never from the account's `canWithdraw`, which
//! describes the account. One signed futures call proves the key works at all; when the
//! futures API refuses it, the key's flags are still read so the user learns why (e.g.
//! futures not enabled). Where the environment has no wallet API (demo), the answer is
//! "cannot verify" and the user confirms the permissions by hand, except a follower's
//! trading permission, which a test order (`POST /fapi/v1/order/test`) proves.

use reqwest::Method;

use crate::exchange::error::{ErrorClass, ExchangeError};
use crate::exchange::types::{KeyCheck, KeyFinding, KeyRole, KeyVerdict, Millis};

use super::http::{Call, Security};
use super::parse::{ApiRestrictions, RawAccountConfig};
use super::Inner;

/// The venue's code for a path it does not serve.
const INVALID_PATH: i64 = -5000;

/// The order a test order describes: the smallest market buy of the most liquid symbol.
const TEST_SYMBOL: &str = "BTCUSDT";
const TEST_QTY: &str = "0.001";

/// Trading permission ending within this window earns a warning.
const EXPIRY_WARNING_MS: Millis = 14 * 24 * 3600 * 1000;

pub(crate) async fn check(inner: &Inner, role: KeyRole) -> Result<KeyCheck, ExchangeError> {
    let probe = inner
        .get::<RawAccountConfig>(Call::new(
            Method::GET,
            "/fapi/v1/accountConfig",
            Security::Signed,
            5,
        ))
        .await;
    let refused = match probe {
        Ok(_) => None,
        Err(e) if e.class() == ErrorClass::Fatal => Some(KeyFinding::KeyRejected {
            code: e.venue_code(),
            message: e.to_string(),
        }),
        Err(e) => return Err(e),
    };
    let restrictions = match inner.endpoints.wallet.clone() {
        None => None,
        Some(wallet) => read_restrictions(inner, wallet).await?,
    };
    match (refused, restrictions) {
        // The futures API refused the key, but its flags may say why (a key without the
        // futures permission is refused there with the same `-2015` as a revoked one).
        // The venue's refusal is listed too unless "futures disabled" already explains it.
        (Some(rejected), Some(r)) => {
            let mut verdict = judge(&r, role, inner.raw.clock().now_ms());
            verdict.verdict = KeyVerdict::Refused;
            if !verdict.findings.contains(&KeyFinding::FuturesDisabled) {
                verdict.findings.push(rejected);
            }
            Ok(verdict)
        }
        (Some(rejected), None) => Ok(KeyCheck {
            verdict: KeyVerdict::Refused,
            findings: vec![rejected],
        }),
        (None, Some(r)) => Ok(judge(&r, role, inner.raw.clock().now_ms())),
        // No wallet API: a follower key proves it can trade futures with a test order
        // (validated by the venue, never placed); the rest stays "cannot verify".
        (None, None) if role == KeyRole::Follower => match test_order(inner).await {
            Ok(()) => Ok(KeyCheck {
                verdict: KeyVerdict::CannotVerify,
                findings: vec![KeyFinding::TradingProven],
            }),
            Err(e) if e.class() == ErrorClass::Transient => Err(e),
            // The host does not serve test orders either: nothing is proven.
            Err(
                ExchangeError::UnexpectedStatus { .. }
                | ExchangeError::Rejected {
                    code: INVALID_PATH, ..
                },
            ) => Ok(KeyCheck {
                verdict: KeyVerdict::CannotVerify,
                findings: Vec::new(),
            }),
            Err(e) => Ok(KeyCheck {
                verdict: KeyVerdict::Refused,
                findings: vec![KeyFinding::TestOrderRefused {
                    code: e.venue_code(),
                    message: e.to_string(),
                }],
            }),
        },
        (None, None) => Ok(KeyCheck {
            verdict: KeyVerdict::CannotVerify,
            findings: Vec::new(),
        }),
    }
}

/// `POST /fapi/v1/order/test`: the venue checks a minimal market order as it would a real
/// one (key, permission, parameters) and places nothing.
async fn test_order(inner: &Inner) -> Result<(), ExchangeError> {
    inner
        .raw
        .send(
            &Call::new(Method::POST, "/fapi/v1/order/test", Security::Signed, 1)
                .param("symbol", TEST_SYMBOL)
                .param("side", "BUY")
                .param("type", "MARKET")
                .param("quantity", TEST_QTY),
        )
        .await
        .map(|_| ())
}

/// The key's flags from the wallet API; `None` when this host cannot tell.
async fn read_restrictions(
    inner: &Inner,
    wallet: url::Url,
) -> Result<Option<ApiRestrictions>, ExchangeError> {
    let answer = inner
        .get::<ApiRestrictions>(
            Call::new(
                Method::GET,
                "/sapi/v1/account/apiRestrictions",
                Security::Signed,
                1,
            )
            .on(wallet),
        )
        .await;
    match answer {
        Ok(r) => Ok(Some(r)),
        // The host has no wallet API (a bare 404, or the venue's "invalid path" code), or
        // refuses to show this key's flags: we cannot tell.
        Err(ExchangeError::UnexpectedStatus { .. })
        | Err(ExchangeError::Rejected {
            code: INVALID_PATH, ..
        })
        | Err(ExchangeError::KeyRejected { .. })
        | Err(ExchangeError::BadKey { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The verdict for a key with these restrictions, at time `now`.
pub fn judge(r: &ApiRestrictions, role: KeyRole, now: Millis) -> KeyCheck {
    let mut findings = Vec::new();
    if r.enable_withdrawals {
        findings.push(KeyFinding::WithdrawalsEnabled);
    }
    if !r.enable_reading {
        findings.push(KeyFinding::ReadingDisabled);
    }
    match role {
        KeyRole::Follower if !r.enable_futures => findings.push(KeyFinding::FuturesDisabled),
        KeyRole::Leader if r.enable_futures || r.enable_spot_and_margin_trading => {
            findings.push(KeyFinding::LeaderKeyCanTrade)
        }
        KeyRole::Follower | KeyRole::Leader => {}
    }
    if !r.ip_restrict {
        findings.push(KeyFinding::NoIpRestriction);
    }
    if let Some(at) = r.trading_authority_expiration_time.filter(|t| *t > 0) {
        if at - now <= EXPIRY_WARNING_MS {
            findings.push(KeyFinding::ExpiresSoon { at });
        }
    }
    let verdict = if findings.iter().any(KeyFinding::refuses) {
        KeyVerdict::Refused
    } else {
        KeyVerdict::Accepted
    };
    KeyCheck { verdict, findings }
}
