//! Fills of orders the journal does not know, on a book this copy holds (issue 12 item 3):
//! a triggered protective stop, a liquidation, an auto-deleverage, a hand close. They are
//! attributed to the copy — all of a fill of the copy's own protective stop (known by the
//! regular order its trigger placed), else the copy's share of the follower's position —
//! stored with the copy's fills so they count in its PnL and in its total stop loss, and
//! announced with what closed the position ("by hand" for a close the user made). The
//! caller then checks the PnL stops, so a stop that fires and takes the loss past the total
//! stop loss stops the copy with its stop action.

use rust_decimal::Decimal;

use crate::domain::Side;
use crate::engine::{self, Direction, NoticeKind};
use crate::exchange::{AccountEvent, OrderOrigin};
use crate::store::table::fills::Fill as StoredFill;

use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::CopyRunner;

impl CopyRunner {
    /// Reads one follower event before the account state applies it: remembers which
    /// regular order a protective stop of this copy placed when it fired, and attributes a
    /// fill of an order that is not ours. True when a fill was attributed to the copy.
    pub(crate) fn attribute_outside(&mut self, ev: &AccountEvent) -> bool {
        match ev {
            AccountEvent::Conditional(u) => {
                if let Some(oid) = &u.order.triggered_order_id {
                    let ours = self.ctx.ledger.positions.values().any(|p| {
                        p.stop
                            .as_ref()
                            .is_some_and(|s| s.client_id == u.order.client_id)
                    });
                    if ours {
                        self.stop_triggers
                            .insert(oid.clone(), u.order.client_id.clone());
                    }
                }
                false
            }
            AccountEvent::Order(u) => {
                // A trade, or the venue's liquidation execution (`x = CALCULATED`).
                let Some(fill) = u.execution.fill() else {
                    return false;
                };
                let o = &u.order;
                if engine::client_id::is_ours(&o.client_id) {
                    return false;
                }
                let Some((key, pos)) = self
                    .ctx
                    .ledger
                    .positions
                    .iter()
                    .find(|(_, p)| p.symbol.name == o.symbol && p.follower_side == o.position_side)
                    .map(|(k, p)| (k.clone(), p.clone()))
                else {
                    return false;
                };
                // Only what shrinks the copy's position is the copy's: a hand trade that
                // adds to it is the user's own quantity.
                let closing = match pos.direction {
                    Direction::Long => o.side == Side::Sell,
                    Direction::Short => o.side == Side::Buy,
                };
                if !closing || pos.qty.is_zero() {
                    return false;
                }
                let qty = fill.quantity.get();
                let by_stop = self.stop_triggers.contains_key(&o.venue_order_id);
                let share = if by_stop {
                    (pos.qty / qty).min(Decimal::ONE)
                } else {
                    let now = self.clock.now_ms();
                    let held = self
                        .account
                        .lock()
                        .estimate(now)
                        .and_then(|s| {
                            s.positions
                                .iter()
                                .find(|p| {
                                    p.symbol == o.symbol && p.position_side == o.position_side
                                })
                                .map(|p| p.signed_quantity.abs())
                        })
                        .unwrap_or(pos.qty)
                        .max(qty);
                    (pos.qty.min(held) / held).min(Decimal::ONE)
                };
                let what = if by_stop {
                    "its protective stop fired"
                } else {
                    match o.origin {
                        OrderOrigin::Liquidation => "the venue liquidated it",
                        OrderOrigin::AutoDeleverage => "the venue auto-deleveraged it",
                        OrderOrigin::Settlement => "the venue settled it",
                        OrderOrigin::Client => {
                            "closed by hand (an order this engine did not place)"
                        }
                    }
                };
                let (fee, fee_asset) = fill
                    .commission
                    .as_ref()
                    .map_or((Decimal::ZERO, "USDT".to_owned()), |m| {
                        self.fee_in_quote(&o.symbol, m.amount, m.asset.as_str())
                    });
                let ours_qty = (qty * share).round_dp(8);
                let row = StoredFill {
                    copy_id: self.copy_id,
                    client_order_id: Some(o.client_id.clone()),
                    venue_trade_id: fill.trade_id.clone(),
                    symbol: o.symbol.clone(),
                    side: o.side,
                    qty: ours_qty,
                    price: fill.price.get(),
                    fee: (fee * share).round_dp(8),
                    fee_asset,
                    realized_pnl: (fill.realized_pnl * share).round_dp(8),
                    ts: u.times.venue,
                };
                match self.with_store(|s| s.fills().record(&row)) {
                    Ok(Some(_)) => {}
                    // Seen before (a replay after a reconnect): counted once.
                    Ok(None) => return false,
                    Err(e) => {
                        tracing::warn!(error = %e, "outside fill not stored");
                        return false;
                    }
                }
                self.tell(
                    NotifyLevel::Warning,
                    NotifyKind::Notice,
                    Some(NoticeKind::ClosedOutside),
                    format!(
                        "{} {} of this copy's {} closed at {}: {what}; realized {} and fee {} {} count in the copy's PnL",
                        o.symbol,
                        ours_qty.normalize(),
                        pos.qty.normalize(),
                        fill.price.get().normalize(),
                        row.realized_pnl.normalize(),
                        row.fee.normalize(),
                        row.fee_asset
                    ),
                );
                // Reconciliation will find the position shrunk: it repairs the ledger
                // without announcing the same close a second time.
                *self.outside_announced.entry(key).or_default() += ours_qty;
                true
            }
            _ => false,
        }
    }
}
