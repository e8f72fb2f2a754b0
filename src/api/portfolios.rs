//! Public lead portfolios for the CLI and the app: the list with 7/30/90-day figures, and
//! the what-if replay of copying one with a config's copy settings. The work is in
//! `runtime::leaders` and `analytics::replay`; this module picks the source and the
//! settings and turns their errors into [`ApiError`]s that name the input to change.

use std::path::Path;

use rust_decimal::Decimal;

use crate::analytics::replay::ReplayReport;
use crate::exchange::lead_portfolio::PortfolioClient;
use crate::runtime::leaders::{self, LeadersError, PortfolioLeader, ReplayRequest};

use super::{ApiError, ErrorCode};

fn client(endpoint: Option<&str>) -> Result<PortfolioClient, ApiError> {
    match endpoint {
        Some(e) => PortfolioClient::new(e),
        None => PortfolioClient::binance(),
    }
    .map_err(|e| ApiError::field("endpoint", format!("endpoint: {e}")))
}

fn source_error(e: LeadersError) -> ApiError {
    match e {
        LeadersError::Input(m) => ApiError::invalid(m),
        LeadersError::Source(s) => ApiError::new(ErrorCode::Exchange, s.to_string()),
    }
}

/// Public lead portfolios with their figures, from `endpoint` (a simulator) or the venue's
/// pages.
pub async fn public_leaders(endpoint: Option<&str>) -> Result<Vec<PortfolioLeader>, ApiError> {
    let c = client(endpoint)?;
    leaders::list_portfolios(&c, 0).await.map_err(source_error)
}

/// What copying portfolio `leader` over the last `days` would have done with the settings
/// of copy `copy` (the config's first copy when `None`).
pub async fn replay_public(
    leader: &str,
    config: &Path,
    copy: Option<&str>,
    days: u32,
    endpoint: Option<&str>,
    now_ms: i64,
) -> Result<(String, ReplayReport), ApiError> {
    let cfg = crate::runtime::config::load(config)
        .map_err(|e| ApiError::field("config", e.to_string()))?;
    let chosen = match copy {
        Some(name) => cfg.copies.iter().find(|c| c.name == name).ok_or_else(|| {
            ApiError::field(
                "copy",
                format!(
                    "{}: no copy named `{name}`; use --copy with one of its copies' names",
                    config.display()
                ),
            )
        })?,
        None => cfg.copies.first().ok_or_else(|| {
            ApiError::field(
                "config",
                format!(
                    "{}: the config has no [[copies]] to take settings from",
                    config.display()
                ),
            )
        })?,
    };
    let c = client(endpoint)?;
    let req = ReplayRequest {
        portfolio_id: leader.to_owned(),
        settings: chosen.settings.clone(),
        follower_wallet: None,
        days,
        now_ms,
        followed: 0,
        kline_interval: if days <= 2 { "1m" } else { "5m" }.to_owned(),
        slippage_bps: Decimal::ONE,
    };
    let report = leaders::replay_portfolio(&c, &req)
        .await
        .map_err(source_error)?;
    Ok((chosen.name.clone(), report))
}
