//! A leader order that ends (cancelled or expired) after partial fills whose copy is still
//! pending below the symbol's minimum (issue 12 item 15): its end is planned as the order's
//! last fill — a fill of no quantity that completes the order — so the pending quantity is
//! finalised by the minimum-size rule (raised to the minimum within `min_bump_factor`, or
//! skipped with a notice) instead of waiting for fills that will never come.

use crate::domain::{LeaderFill, LeaderSignal, Price, Quantity, SignalKind};
use crate::engine::PositionKey;
use crate::exchange::events::Execution;
use crate::exchange::AccountEvent;

use super::supervisor::CopyRunner;

impl CopyRunner {
    /// The signal that finalises the pending fills of a leader order this event ends, if
    /// it ends one. A fixed-amount copy's pending quantity is the amount (its later fills
    /// do not add another), so it is finalised the same way.
    pub(crate) fn pending_order_end(&self, ev: &AccountEvent) -> Option<LeaderSignal> {
        let AccountEvent::Order(u) = ev else {
            return None;
        };
        if !matches!(u.execution, Execution::Canceled | Execution::Expired) {
            return None;
        }
        let o = &u.order;
        self.ctx.ledger.pending.get(&o.venue_order_id)?;
        let symbol = self.rules.get(&o.symbol)?.symbol.clone();
        let key = PositionKey::new(o.symbol.clone(), o.position_side);
        let before = self
            .tracker
            .positions()
            .get(&key)
            .copied()
            .unwrap_or_default();
        let price: Price = o.average_price.or(o.price)?;
        Some(LeaderSignal {
            id: format!("end:{}:{}", o.symbol, o.venue_order_id),
            symbol,
            position_side: o.position_side,
            event_time_ms: u.times.transaction.unwrap_or(u.times.venue),
            kind: SignalKind::Fill(LeaderFill {
                order_id: o.venue_order_id.clone(),
                side: o.side,
                qty: Quantity::ZERO,
                price,
                position_before: before,
                order_final: true,
                leverage: self.tracker.leverage(&o.symbol).unwrap_or(1),
                margin_mode: self.tracker.margin_mode(&o.symbol),
                equity_before: Some(self.tracker.equity()),
            }),
        })
    }
}
