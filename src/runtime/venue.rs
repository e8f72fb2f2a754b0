//! Light reads the port does not offer: the leader's positions alone (weight 5), so that
//! periodic reconciliation does not spend a full account snapshot (weight 100) of the
//! venue's shared per-address budget on the leader every pass.

use std::collections::BTreeMap;

use reqwest::Method;
use rust_decimal::Decimal;

use crate::engine::PositionKey;
use crate::exchange::binance_usdm::http::{Call, Security};
use crate::exchange::binance_usdm::map::position_side;
use crate::exchange::binance_usdm::parse::{decode, RawPositionRisk};
use crate::exchange::binance_usdm::BinanceUsdm;
use crate::exchange::ExResult;

/// Signed quantity per book of every open position.
pub async fn positions(venue: &BinanceUsdm) -> ExResult<BTreeMap<PositionKey, Decimal>> {
    const WHAT: &str = "GET /fapi/v3/positionRisk";
    let body = venue
        .raw()
        .send(&Call::new(
            Method::GET,
            "/fapi/v3/positionRisk",
            Security::Signed,
            5,
        ))
        .await?;
    let rows: Vec<RawPositionRisk> = decode(WHAT, &body)?;
    let mut out = BTreeMap::new();
    for r in rows.into_iter().filter(|r| !r.position_amt.is_zero()) {
        let side = position_side(WHAT, "positionSide", &r.position_side)?;
        out.insert(PositionKey::new(r.symbol, side), r.position_amt);
    }
    Ok(out)
}
