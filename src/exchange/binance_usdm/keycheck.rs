//! Checks what an API key may do. Permissions come from the wallet API's
//! `apiRestrictions` (the key's own flags), never from the account's `canWithdraw`, which
//! describes the account. Before that, one signed futures call proves the key works at all.
//! Where the environment has no wallet API (demo), the answer is "cannot verify" and the
//! user confirms the permissions by hand.

use reqwest::Method;

use crate::exchange::error::{ErrorClass, ExchangeError};
use crate::exchange::types::{KeyCheck, KeyFinding, KeyRole, KeyVerdict, Millis};

use super::http::{Call, Security};
use super::parse::{ApiRestrictions, RawAccountConfig};
use super::Inner;

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
    match probe {
        Ok(_) => {}
        Err(e) if e.class() == ErrorClass::Fatal => {
            return Ok(KeyCheck {
                verdict: KeyVerdict::Refused,
                findings: vec![KeyFinding::KeyRejected {
                    code: e.venue_code(),
                    message: e.to_string(),
                }],
            })
        }
        Err(e) => return Err(e),
    }
    let Some(wallet) = inner.endpoints.wallet.clone() else {
        return Ok(KeyCheck {
            verdict: KeyVerdict::CannotVerify,
            findings: Vec::new(),
        });
    };
    let restrictions = inner
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
    let r = match restrictions {
        Ok(r) => r,
        // The host has no wallet API (an answer without a venue error body, e.g. 404), or
        // refuses to show this key's flags: we cannot tell.
        Err(ExchangeError::UnexpectedStatus { .. }) | Err(ExchangeError::KeyRejected { .. }) => {
            return Ok(KeyCheck {
                verdict: KeyVerdict::CannotVerify,
                findings: Vec::new(),
            })
        }
        Err(e) => return Err(e),
    };
    Ok(judge(&r, role, inner.raw.clock().now_ms()))
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
