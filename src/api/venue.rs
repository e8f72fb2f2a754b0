//! Accounts → venues, in one place: [`account_spec`] finds an account's key material (the
//! keychain for real accounts, the embedded simulator's in-memory keys for paper ones) and
//! [`exchange`] opens a client through the engine's venue factory.

use std::sync::Arc;

use crate::exchange::{Credentials, Exchange};
use crate::runtime::{AccountSpec, RuntimeHandle};
use crate::secrets::{Keychain, SecretPart};
use crate::store::table::accounts::Account;

use super::paper::{PaperSim, PAPER_ENDPOINT};
use super::{ApiError, ErrorCode};

/// True for accounts on the embedded simulator.
pub fn is_paper(a: &Account) -> bool {
    a.endpoint.as_deref() == Some(PAPER_ENDPOINT)
}

/// The account with the key material to reach it.
pub(crate) fn account_spec(
    a: &Account,
    keychain: &Keychain,
    paper: Option<&PaperSim>,
) -> Result<AccountSpec, ApiError> {
    let exchange = a.exchange.clone().unwrap_or_else(|| "binance-usdm".into());
    if is_paper(a) {
        let sim = paper.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "account `{}` is a paper account and paper mode is not running; start paper mode",
                    a.name
                ),
            )
        })?;
        let credentials = sim.keys.get(&a.name).cloned().ok_or_else(|| {
            ApiError::not_found(format!(
                "paper account `{}` is not on this paper simulator (paper state starts afresh at each start)",
                a.name
            ))
        })?;
        return Ok(AccountSpec {
            name: a.name.clone(),
            exchange,
            endpoint: PAPER_ENDPOINT.into(),
            connect: Some(sim.handle.base_url()),
            credentials,
        });
    }
    let endpoint = a.endpoint.clone().ok_or_else(|| {
        ApiError::invalid(format!(
            "account `{}` has no endpoint; add it again with its environment",
            a.name
        ))
    })?;
    let read = |part: SecretPart| {
        keychain
            .get(&Keychain::entry_name(&a.name, part))
            .map_err(|e| ApiError::new(ErrorCode::Keychain, e.to_string()))?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "account `{}` has no {} in the keychain; add the account's key again",
                    a.name,
                    part.field()
                ))
            })
    };
    let key = read(SecretPart::ApiKey)?;
    let secret = read(SecretPart::ApiSecret)?;
    Ok(AccountSpec {
        name: a.name.clone(),
        exchange,
        endpoint,
        connect: None,
        credentials: Credentials::new(key.expose(), secret.expose()),
    })
}

/// A venue client for reads (key checks, previews, leader figures), through the engine's
/// venue factory.
pub(crate) fn exchange(
    spec: &AccountSpec,
    engine: &RuntimeHandle,
) -> Result<Arc<dyn Exchange>, ApiError> {
    crate::runtime::start::open_venue(spec, &*engine.venues(), &engine.clock(), 5_000)
        .map(|v| v.ex)
        .map_err(Into::into)
}

/// A venue client for background reads (a leader's history for its figures): it books at
/// low priority on the shared weight budget, so a copy's requests go first.
pub(crate) fn background_exchange(
    spec: &AccountSpec,
    venues: &Arc<dyn crate::exchange::VenueFactory>,
    clock: &Arc<dyn crate::exchange::Clock>,
) -> Result<Arc<dyn Exchange>, ApiError> {
    venues
        .connect(crate::exchange::VenueRequest {
            account: &spec.name,
            exchange: &spec.exchange,
            endpoint: spec.connect.as_deref().unwrap_or(&spec.endpoint),
            credentials: Some(spec.credentials.clone()),
            options: crate::exchange::VenueOptions {
                clock: clock.clone(),
                recv_window_ms: 5_000,
                background: true,
            },
        })
        .map_err(|e| ApiError::new(ErrorCode::Exchange, format!("account `{}`: {e}", spec.name)))
}
