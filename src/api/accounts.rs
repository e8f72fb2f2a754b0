//! Accounts and keys: add (the key and secret go into the keychain only; the database
//! keeps the account's venue, endpoint and a masked hint), list, remove, and the live key
//! check that lists each finding with what to change on the exchange.

use rust_decimal::Decimal;

use crate::exchange::{DefaultVenues, VenueFactory};
use crate::exchange::{KeyCheck, KeyFinding, KeyRole, KeyVerdict};
use crate::secrets::{keys, Secret};
use crate::store::table::accounts::Account;

use super::dto::{
    AccountDto, BalanceDto, Environment, FindingStatus, KeyCheckDto, KeyCheckKind, KeyFindingDto,
    NewAccountRequest, PositionModeDto,
};
use super::venue::is_paper;
use super::ApiError;

/// The DTO of an account row.
pub fn dto(a: &Account) -> AccountDto {
    let paper = is_paper(a);
    let (environment, endpoint) = match a.endpoint.as_deref() {
        _ if paper => (Environment::Paper, None),
        Some("mainnet") => (Environment::Mainnet, None),
        Some("demo") => (Environment::Demo, None),
        other => (Environment::Custom, other.map(str::to_owned)),
    };
    AccountDto {
        name: a.name.clone(),
        exchange: a.exchange.clone().unwrap_or_else(|| "binance-usdm".into()),
        environment,
        endpoint,
        key_hint: a.key_hint.clone(),
        paper,
        created_at_ms: a.created_at,
    }
}

/// Checks a new account's request; returns the endpoint to store and the key material.
pub fn check_request(req: &NewAccountRequest) -> Result<(String, Secret, Secret), ApiError> {
    keys::validate_name(&req.name)?;
    if req.exchange != "binance-usdm" {
        return Err(ApiError::field(
            "exchange",
            format!(
                "exchange `{}` is not supported yet; choose binance-usdm",
                req.exchange
            ),
        ));
    }
    let endpoint = match req.environment {
        Environment::Paper => return Err(ApiError::field(
            "environment",
            "paper accounts come with paper mode and need no key; choose mainnet, demo or custom",
        )),
        Environment::Mainnet => "mainnet".to_owned(),
        Environment::Demo => "demo".to_owned(),
        Environment::Custom => {
            let url = req.endpoint.as_deref().map(str::trim).unwrap_or_default();
            if url.is_empty() {
                return Err(ApiError::field(
                    "endpoint",
                    "a custom environment needs its base URL, like http://127.0.0.1:8790",
                ));
            }
            DefaultVenues
                .check(&req.exchange, url)
                .map_err(|e| ApiError::field("endpoint", e.to_string()))?;
            url.to_owned()
        }
    };
    if req.passphrase.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(ApiError::field(
            "passphrase",
            "binance-usdm keys have no passphrase; leave it empty",
        ));
    }
    let key = Secret::new(req.api_key.trim().to_owned());
    let secret = Secret::new(req.api_secret.trim().to_owned());
    keys::validate_credential("api key", &key)?;
    keys::validate_credential("api secret", &secret)?;
    Ok((endpoint, key, secret))
}

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

/// Whether the key is limited to trusted IPs (the same finding for follower and leader keys).
pub(crate) fn ip_restriction_finding(
    check: &KeyCheck,
    unverified: bool,
    confirm: Option<&str>,
) -> KeyFindingDto {
    use KeyCheckKind as K;
    if check
        .findings
        .iter()
        .any(|f| matches!(f, KeyFinding::NoIpRestriction))
    {
        finding(
            K::IpRestriction,
            FindingStatus::Warn,
            "the key works from any IP address",
            Some("edit the key on the exchange and restrict it to this machine's IP address"),
        )
    } else if unverified {
        finding(
            K::IpRestriction,
            FindingStatus::Unknown,
            "cannot be read on this exchange",
            confirm,
        )
    } else {
        finding(
            K::IpRestriction,
            FindingStatus::Pass,
            "the key is restricted to trusted IPs",
            None,
        )
    }
}

/// Every property of a key as a finding, from the adapter's check (and the account read
/// when it succeeded).
pub(crate) fn findings(
    check: &KeyCheck,
    account: Option<&crate::exchange::AccountSnapshot>,
) -> Vec<KeyFindingDto> {
    use FindingStatus::{Fail, Pass, Unknown, Warn};
    use KeyCheckKind as K;
    let has = |f: &dyn Fn(&KeyFinding) -> bool| check.findings.iter().any(f);
    let unverified = check.verdict == KeyVerdict::CannotVerify;
    let confirm = Some(
        "this exchange does not show a key's permissions; confirm them on its API management page",
    );
    let mut out = Vec::new();
    let rejected = check.findings.iter().find_map(|f| {
        if let KeyFinding::KeyRejected { message, .. } = f {
            Some(message)
        } else {
            None
        }
    });
    match rejected {
        Some(message) => out.push(finding(
            K::Valid,
            Fail,
            format!("the exchange refused the key: {message}"),
            Some("check the key and secret were pasted whole, the key is not deleted, and this machine's IP is allowed"),
        )),
        None => out.push(finding(K::Valid, Pass, "the exchange accepts the key", None)),
    }
    let perm = |kind: KeyCheckKind, bad: bool, ok: &str, fail: &str, fix: &str| {
        if bad {
            finding(kind, Fail, fail, Some(fix))
        } else if unverified {
            finding(kind, Unknown, "cannot be read on this exchange", confirm)
        } else {
            finding(kind, Pass, ok, None)
        }
    };
    let futures_off = has(&|f| matches!(f, KeyFinding::FuturesDisabled));
    let test_refused = check.findings.iter().find_map(|f| {
        if let KeyFinding::TestOrderRefused { message, .. } = f {
            Some(message)
        } else {
            None
        }
    });
    let proven = has(&|f| matches!(f, KeyFinding::TradingProven));
    if let Some(message) = test_refused {
        let fix = Some("edit the key on the exchange and enable futures trading");
        out.push(finding(
            K::Futures,
            Fail,
            format!("a test order was refused: {message}"),
            fix,
        ));
        out.push(finding(
            K::Trade,
            Fail,
            format!("the key cannot trade futures: a test order was refused: {message}"),
            fix,
        ));
    } else if proven {
        out.push(finding(
            K::Futures,
            Pass,
            "a futures test order was accepted",
            None,
        ));
        out.push(finding(
            K::Trade,
            Pass,
            "the key can trade futures: a test order was accepted (nothing was placed)",
            None,
        ));
    } else {
        out.push(perm(
            K::Futures,
            futures_off,
            "futures are enabled for the key",
            "futures are not enabled for the key",
            "edit the key on the exchange and tick “Enable Futures”",
        ));
        out.push(perm(
            K::Trade,
            futures_off || has(&|f| matches!(f, KeyFinding::ReadingDisabled)),
            "the key can read and trade futures",
            "the key cannot trade futures",
            "edit the key on the exchange and enable reading and futures trading",
        ));
    }
    out.push(perm(
        K::Withdrawals,
        has(&|f| matches!(f, KeyFinding::WithdrawalsEnabled)),
        "withdrawals are off",
        "the key can withdraw funds; a copier never needs that",
        "edit the key on the exchange and untick “Enable Withdrawals”",
    ));
    out.push(ip_restriction_finding(check, unverified, confirm));
    out.push(
        match check.findings.iter().find_map(|f| {
            if let KeyFinding::ExpiresSoon { at } = f {
                Some(*at)
            } else {
                None
            }
        }) {
            Some(at) => finding(
                K::Expiry,
                Warn,
                format!("trading permission ends at {at} (ms since the epoch), within 14 days"),
                Some("renew the key's trading permission on the exchange, or create a new key"),
            ),
            None if unverified => finding(
                K::Expiry,
                Unknown,
                "cannot be read on this exchange",
                confirm,
            ),
            None => finding(K::Expiry, Pass, "no expiry soon", None),
        },
    );
    match account {
        Some(a) => {
            out.push(balances_finding(a));
            out.push(match switch_to(a.position_mode) {
                Some(_) => finding(
                    K::PositionMode,
                    Warn,
                    "position mode one-way: a leader that trades in hedge mode cannot be copied here",
                    Some("switch the account to hedge mode (it copies one-way and hedge leaders); the exchange allows that only with no open positions or orders"),
                ),
                None => finding(
                    K::PositionMode,
                    Pass,
                    format!("position mode {}: fits every leader", mode_name(a.position_mode)),
                    None,
                ),
            });
        }
        None => {
            out.push(finding(
                K::Balances,
                Unknown,
                "the account could not be read",
                None,
            ));
            out.push(finding(
                K::PositionMode,
                Unknown,
                "the account could not be read",
                None,
            ));
        }
    }
    out
}

/// A decimal as the app writes amounts: rounded to `dp` places, trailing zeros dropped,
/// thousands separated ("5,000", "1,234.5"), a minus as "−".
pub(crate) fn grouped(d: Decimal, dp: u32) -> String {
    let t = d.round_dp(dp).normalize().to_string();
    let (sign, t) = match t.strip_prefix('-') {
        Some(rest) => ("−", rest),
        None => ("", t.as_str()),
    };
    let (int, frac) = t.split_once('.').map_or((t, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// The balances finding of a key check: equity and available USDT, formatted as the app
/// shows amounts.
pub(crate) fn balances_finding(a: &crate::exchange::AccountSnapshot) -> KeyFindingDto {
    let usdt: Decimal = a
        .balances
        .iter()
        .filter(|b| b.asset.as_str() == "USDT")
        .map(|b| b.available_balance)
        .sum();
    if a.equity > Decimal::ZERO {
        finding(
            KeyCheckKind::Balances,
            FindingStatus::Pass,
            format!(
                "futures equity {} USDT, {} USDT available",
                grouped(a.equity, 2),
                grouped(usdt, 2)
            ),
            None,
        )
    } else {
        finding(
            KeyCheckKind::Balances,
            FindingStatus::Warn,
            "the futures wallet is empty",
            Some("transfer USDT into the USDⓈ-M futures wallet"),
        )
    }
}

/// The position mode a key check offers to switch to (copy-rules §1.1): a hedge-mode
/// leader needs a hedge-mode follower, while a one-way leader is copied into either, so a
/// one-way account is offered hedge and a hedge account fits every leader.
pub(crate) fn switch_to(m: crate::domain::PositionMode) -> Option<PositionModeDto> {
    match m {
        crate::domain::PositionMode::OneWay => Some(PositionModeDto::Hedge),
        crate::domain::PositionMode::Hedge => None,
    }
}

fn mode_name(m: crate::domain::PositionMode) -> &'static str {
    match m {
        crate::domain::PositionMode::OneWay => "one-way",
        crate::domain::PositionMode::Hedge => "hedge",
    }
}

/// The key-check DTO.
pub(crate) fn check_dto(
    account: &str,
    check: &KeyCheck,
    snap: Option<&crate::exchange::AccountSnapshot>,
) -> KeyCheckDto {
    let findings = findings(check, snap);
    KeyCheckDto {
        account: account.to_owned(),
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
        switch_position_mode: snap.and_then(|s| switch_to(s.position_mode)),
    }
}

/// The role a key check assumes.
pub(crate) const CHECK_ROLE: KeyRole = KeyRole::Follower;

impl super::App {
    /// Every known account, never with its key.
    pub async fn accounts(&self) -> Result<Vec<AccountDto>, ApiError> {
        self.with_store(|s| Ok(s.accounts().list()?.iter().map(dto).collect()))
    }

    /// Adds an account: its key and secret go into the keychain only; the database keeps
    /// its venue, endpoint and a masked hint.
    pub async fn add_account(&self, req: NewAccountRequest) -> Result<AccountDto, ApiError> {
        let (endpoint, key, secret) = check_request(&req)?;
        let existing = self.with_store(|s| Ok(s.accounts().get(&req.name)?))?;
        if existing.as_ref().is_some_and(is_paper) {
            return Err(ApiError::field(
                "name",
                format!("`{}` is a paper account; choose another name", req.name),
            ));
        }
        let now = self.engine.clock().now_ms();
        let store = self.engine.store();
        let guard = store
            .lock()
            .map_err(|_| ApiError::internal("the database lock is poisoned"))?;
        guard
            .store()
            .accounts()
            .upsert(&req.name, Some(&req.exchange), Some(&endpoint), now)?;
        keys::add(&guard, &self.keychain, &req.name, &key, &secret)?;
        let row = guard
            .store()
            .accounts()
            .get(&req.name)?
            .ok_or_else(|| ApiError::internal("the account vanished after it was added"))?;
        Ok(dto(&row))
    }

    /// Removes an account's key from the keychain. Refused for paper accounts and for
    /// accounts a running copy uses.
    pub async fn remove_account(&self, name: &str) -> Result<(), ApiError> {
        let row = self.with_store(|s| Ok(s.accounts().get(name)?))?;
        if row.as_ref().is_some_and(is_paper) {
            return Err(ApiError::field(
                "name",
                format!("`{name}` is a paper account; it has no key to remove"),
            ));
        }
        let running = self.engine.copies();
        let in_use = self.with_store(|s| {
            Ok(s.copies()
                .list()?
                .into_iter()
                .filter(|c| running.contains(&c.name))
                .any(|c| c.follower == name))
        })?;
        if in_use {
            return Err(ApiError::new(
                super::ErrorCode::Conflict,
                format!("account `{name}` follows in a running copy; stop that copy first"),
            ));
        }
        let store = self.engine.store();
        let guard = store
            .lock()
            .map_err(|_| ApiError::internal("the database lock is poisoned"))?;
        keys::remove(&guard, &self.keychain, name)?;
        Ok(())
    }

    /// Checks an account's key live: each finding with what to change on the exchange.
    pub async fn check_key(&self, name: &str) -> Result<KeyCheckDto, ApiError> {
        let spec = self.account_spec(name).await?;
        let ex = super::venue::exchange(&spec, &self.engine)?;
        let check = match ex.check_key(CHECK_ROLE).await {
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
        Ok(check_dto(name, &check, snap.as_ref()))
    }

    /// Switches an account between one-way and hedge mode through its venue. Refused
    /// while a running copy follows on the account, and when the venue refuses (open
    /// positions or orders), with what to do. Returns the mode now in force.
    pub async fn set_position_mode(
        &self,
        name: &str,
        mode: PositionModeDto,
    ) -> Result<PositionModeDto, ApiError> {
        let spec = self.account_spec(name).await?;
        let in_use = self.with_store(|s| {
            Ok(s.copies()
                .list()?
                .into_iter()
                .find(|c| c.follower == name && self.engine.is_running(&c.name)))
        })?;
        if let Some(copy) = in_use {
            return Err(ApiError::new(
                super::ErrorCode::Conflict,
                format!(
                    "account `{name}` follows in the running copy `{}`; stop that copy before switching its position mode",
                    copy.name
                ),
            ));
        }
        let ex = super::venue::exchange(&spec, &self.engine)?;
        let wanted = mode_name(mode.into());
        ex.set_position_mode(mode.into())
            .await
            .map_err(|e| match e.venue_code() {
                Some(-4067) => ApiError::new(
                    super::ErrorCode::Conflict,
                    format!(
                        "the exchange keeps account `{name}` in its position mode while it has open orders; cancel them on the exchange, then switch to {wanted} mode"
                    ),
                ),
                Some(-4068) => ApiError::new(
                    super::ErrorCode::Conflict,
                    format!(
                        "the exchange keeps account `{name}` in its position mode while it has open positions; close them on the exchange, then switch to {wanted} mode"
                    ),
                ),
                _ => ApiError::from(e),
            })?;
        Ok(mode)
    }

    /// An account with its key material: the config's sources for accounts of the run
    /// config, else the keychain, or the paper simulator for paper accounts.
    pub(crate) async fn account_spec(
        &self,
        name: &str,
    ) -> Result<crate::runtime::AccountSpec, ApiError> {
        if let Some(config) = &self.config {
            if config.account(name).is_some() {
                return Ok(crate::runtime::start::config_account(
                    config,
                    name,
                    &crate::runtime::KeySource::Config(&self.keychain),
                )?);
            }
        }
        let row = self
            .with_store(|s| Ok(s.accounts().get(name)?))?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "no account named `{name}`; add it with its key first"
                ))
            })?;
        let paper = self.paper.lock().await;
        super::venue::account_spec(&row, &self.keychain, paper.as_ref())
    }
}
