//! The port's light positions-only read in the engine's terms: signed quantity per book.
//! Periodic reconciliation reads the leader this way rather than with a full account
//! snapshot, which costs far more of the venue's shared per-address budget.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::engine::PositionKey;
use crate::exchange::{ExResult, Exchange};

/// Signed quantity per book of every open position.
pub async fn positions(venue: &dyn Exchange) -> ExResult<BTreeMap<PositionKey, Decimal>> {
    Ok(venue
        .positions()
        .await?
        .into_iter()
        .filter(|p| !p.signed_quantity.is_zero())
        .map(|p| {
            (
                PositionKey::new(p.symbol, p.position_side),
                p.signed_quantity,
            )
        })
        .collect())
}
