//! Adding an account leader: an exchange account whose read-only API key the user holds.
//! The key is checked as a leader key while it is only in memory; only a key that passes
//! is stored (key and secret in the keychain, the account's venue, endpoint and masked
//! hint and the leader row in the database). Nothing of a refused key is kept.
//!
//! Permissions: a key that can trade is accepted with a warning (a read-only key is
//! enough: CopyDesk only reads the leader's account). A key that can withdraw is refused:
//! CopyDesk never needs it, the key would sit on this computer, and for a leader it is
//! often someone else's account (a friend's, a fund's), whose funds a leaked key could
//! move; making a read-only key costs the owner a minute.

use crate::exchange::{AccountSnapshot, Credentials, KeyCheck, KeyFinding, KeyRole, KeyVerdict};
use crate::runtime::AccountSpec;
use crate::secrets::keys;
use crate::store::table::leaders::{LeaderSource, NewLeader};

use super::accounts::{balances_finding, check_request, ip_restriction_finding};
use super::dto::{
    BalanceDto, FindingStatus, KeyCheckDto, KeyCheckKind, KeyFindingDto, LeaderAddedDto,
    NewAccountRequest,
};
use super::{ApiError, ErrorCode};

fn finding(
    check: KeyCheckKind,
    status: FindingStatus,
    message: impl Into<String>,
    fix: Option<&str>,
) -> KeyFindingDto {
    KeyFindingDto {
        check,
        status,
        message: message.into(),
        fix: fix.map(str::to_owned),
    }
}

/// Every property of a leader key as a finding: valid, read-only (a warning when it can
/// trade), withdrawals (refused when on), IP restriction, and the account's balances.
pub(crate) fn leader_findings(
    check: &KeyCheck,
    account: Option<&AccountSnapshot>,
) -> Vec<KeyFindingDto> {
    use FindingStatus::{Fail, Pass, Unknown, Warn};
    use KeyCheckKind as K;
    let has = |f: &dyn Fn(&KeyFinding) -> bool| check.findings.iter().any(f);
    let unverified = check.verdict == KeyVerdict::CannotVerify;
    let confirm = Some(
        "this exchange does not show a key's permissions; confirm on its API management page that the key can only read",
    );
    let mut out = Vec::new();
    let rejected = check.findings.iter().find_map(|f| match f {
        KeyFinding::KeyRejected { message, .. } => Some(message),
        _ => None,
    });
    out.push(match rejected {
        Some(message) => finding(
            K::Valid,
            Fail,
            format!("the exchange refused the key: {message}"),
            Some("check the key and secret were pasted whole, the key is not deleted, reading is enabled, and this machine's IP is allowed"),
        ),
        None => finding(K::Valid, Pass, "the exchange accepts the key", None),
    });
    out.push(if has(&|f| matches!(f, KeyFinding::LeaderKeyCanTrade)) {
        finding(
            K::Trade,
            Warn,
            "the key can trade; a read-only key is enough to follow a leader",
            Some("on the exchange's API management page, untick “Enable Futures” and spot trading for this key, or create a key with only “Enable Reading”"),
        )
    } else if unverified {
        finding(K::Trade, Unknown, "cannot be read on this exchange", confirm)
    } else if has(&|f| matches!(f, KeyFinding::ReadingDisabled)) {
        finding(
            K::Trade,
            Fail,
            "the key cannot read the account",
            Some("edit the key on the exchange and tick “Enable Reading”"),
        )
    } else {
        finding(K::Trade, Pass, "the key is read-only", None)
    });
    out.push(if has(&|f| matches!(f, KeyFinding::WithdrawalsEnabled)) {
        finding(
            K::Withdrawals,
            Fail,
            "the key can withdraw funds; CopyDesk only reads a leader's account, and a key that can withdraw must not be kept on this computer",
            Some("edit the key on the exchange and untick “Enable Withdrawals” (and trading), or create a read-only key"),
        )
    } else if unverified {
        finding(K::Withdrawals, Unknown, "cannot be read on this exchange", confirm)
    } else {
        finding(K::Withdrawals, Pass, "withdrawals are off", None)
    });
    out.push(ip_restriction_finding(check, unverified, confirm));
    out.push(match account {
        Some(a) => balances_finding(a),
        None => finding(K::Balances, Unknown, "the account could not be read", None),
    });
    out
}

fn check_dto(name: &str, check: &KeyCheck, snap: Option<&AccountSnapshot>) -> KeyCheckDto {
    let findings = leader_findings(check, snap);
    KeyCheckDto {
        account: name.to_owned(),
        ok: !findings.iter().any(|f| f.status == FindingStatus::Fail),
        findings,
        balances: snap
            .map(|s| {
                s.balances
                    .iter()
                    .map(|b| BalanceDto {
                        asset: b.asset.as_str().to_owned(),
                        wallet: b.wallet_balance.normalize().to_string(),
                        available: b.available_balance.normalize().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        position_mode: snap.map(|s| s.position_mode.into()),
        // A leader's position mode is its own business: nothing to switch.
        switch_position_mode: None,
    }
}

impl super::App {
    /// Adds an account leader from its read-only key: checks the key as a leader key with
    /// the key in memory, and stores it (keychain), the account and the leader only when
    /// the check passed. Bad input is an [`ApiError`] naming the field; a refused key is a
    /// check with `ok: false` and nothing stored. The reply never holds the key or secret.
    pub async fn add_leader(&self, req: NewAccountRequest) -> Result<LeaderAddedDto, ApiError> {
        let (endpoint, key, secret) = check_request(&req)?;
        let name = req.name.as_str();
        let taken = self.with_store(|s| {
            Ok(s.accounts().get(name)?.is_some() || s.leaders().by_name(name)?.is_some())
        })?;
        let demo = self
            .paper
            .lock()
            .await
            .as_ref()
            .is_some_and(|p| p.demo.iter().any(|(n, _)| n == name));
        if taken || demo {
            return Err(ApiError {
                code: ErrorCode::Conflict,
                ..ApiError::field(
                    "name",
                    format!("an account or leader named `{name}` exists; choose another name"),
                )
            });
        }
        let spec = AccountSpec {
            name: name.to_owned(),
            exchange: req.exchange.clone(),
            endpoint: endpoint.clone(),
            connect: None,
            credentials: Credentials::new(key.expose(), secret.clone()),
        };
        let ex = super::venue::exchange(&spec, &self.engine).map_err(|e| ApiError {
            field: Some("endpoint".into()),
            ..e
        })?;
        let check = match ex.check_key(KeyRole::Leader).await {
            Ok(c) => c,
            Err(e) => KeyCheck {
                verdict: KeyVerdict::Refused,
                findings: vec![KeyFinding::KeyRejected {
                    code: e.venue_code(),
                    message: e.to_string(),
                }],
            },
        };
        let snap = ex.account().await.ok();
        let dto = check_dto(name, &check, snap.as_ref());
        if !dto.ok {
            tracing::info!(leader = name, "leader key refused; nothing stored");
            return Ok(LeaderAddedDto {
                check: dto,
                leader_id: None,
            });
        }
        let now = self.engine.clock().now_ms();
        let store = self.engine.store();
        let guard = store
            .lock()
            .map_err(|_| ApiError::internal("the database lock is poisoned"))?;
        guard
            .store()
            .accounts()
            .upsert(name, Some(&req.exchange), Some(&endpoint), now)?;
        keys::add(&guard, &self.keychain, name, &key, &secret)?;
        guard.store().leaders().insert(&NewLeader {
            name,
            source: LeaderSource::Account,
            account: Some(name),
            portfolio_id: None,
            endpoint: None,
            created_at: now,
        })?;
        drop(guard);
        self.leader_cache.forget(name);
        tracing::info!(leader = name, "account leader added");
        Ok(LeaderAddedDto {
            check: dto,
            leader_id: Some(name.to_owned()),
        })
    }

    /// Accounts that only lead (added as account leaders and following in no copy): their
    /// read-only keys do not make the app "live".
    pub(crate) fn leader_only_accounts(&self) -> Result<Vec<String>, ApiError> {
        self.with_store(|s| {
            let followers: Vec<String> =
                s.copies().list()?.into_iter().map(|c| c.follower).collect();
            Ok(s.leaders()
                .list()?
                .into_iter()
                .filter(|l| l.source == LeaderSource::Account)
                .filter_map(|l| l.account)
                .filter(|a| !followers.contains(a))
                .collect())
        })
    }
}
