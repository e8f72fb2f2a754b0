//! Offline protection: the exchange-side stop every copied position carries, at the price
//! where that position alone would lose its share of `total_stop_loss` (or 80 % of its
//! margin when none is set), and the plan that keeps those stops current.

use rust_decimal::Decimal;

use crate::domain::filters::round_to_tick;
use crate::domain::Rounding;

use super::client_id::client_id;
use super::sizing::show;
use super::types::{
    ActionKind, CopyContext, Direction, FollowerSnapshot, LedgerPosition, MarketInfo, Out, Plan,
    ProtectiveStop,
};
use crate::domain::Quantity;
use std::collections::BTreeMap;

/// A stop is re-placed only when its price would move by more than this many ticks (or
/// its quantity changes): the venue cannot modify a conditional order, so every change
/// costs a cancel and a placement.
pub const RESTOP_TICKS: u32 = 10;

/// Share of the margin a position may lose when no total stop loss is set.
pub const DEFAULT_LOSS_SHARE: Decimal = Decimal::from_parts(8, 0, 0, false, 1);

/// The stop price of one position and why; `None` when no positive price exists.
pub fn stop_price(
    direction: Direction,
    entry: Decimal,
    qty: Decimal,
    margin: Decimal,
    stop_loss_share: Option<Decimal>,
    tick: Decimal,
) -> Option<(Decimal, String)> {
    if qty <= Decimal::ZERO || entry <= Decimal::ZERO {
        return None;
    }
    let cap = margin * DEFAULT_LOSS_SHARE;
    let (loss, basis) = match stop_loss_share {
        // Past 80 % of the margin the venue liquidates first, so the stop would never fire.
        Some(share) if share < cap => (
            share,
            format!("its share {} of total_stop_loss", show(share)),
        ),
        Some(share) => (
            cap,
            format!(
                "80% of its margin {} (its stop-loss share {} is beyond that)",
                show(margin),
                show(share)
            ),
        ),
        None => (cap, format!("80% of its margin {}", show(margin))),
    };
    let per_unit = loss / qty;
    // Round toward the entry, so the stop fires no later than the loss allows.
    let price = match direction {
        Direction::Long => round_to_tick(entry - per_unit, tick, Rounding::Up),
        Direction::Short => round_to_tick(entry + per_unit, tick, Rounding::Down),
    };
    if price <= Decimal::ZERO {
        return None;
    }
    Some((
        price,
        format!(
            "stop at {} = entry {} {} loss {} / qty {}: {}",
            show(price),
            show(entry),
            if direction == Direction::Long {
                "-"
            } else {
                "+"
            },
            show(loss),
            show(qty),
            basis
        ),
    ))
}

/// The share of the copy's total stop loss that falls on one position: in proportion to
/// its margin among the copy's margin in use.
pub fn stop_loss_share(copy: &CopyContext, pos: &LedgerPosition) -> Option<Decimal> {
    let s = &copy.settings;
    let total = s.risk.total_stop_loss?.amount(s.investment)?;
    let in_use = copy.ledger.margin_in_use();
    if in_use <= Decimal::ZERO {
        return Some(total);
    }
    Some(total * pos.margin / in_use)
}

/// Cancels and places protective stops so each copied position carries one at its
/// current quantity and within [`RESTOP_TICKS`] of its price; a position gone flat loses
/// its stop at once. Run after every fill and at reconciliation.
pub fn plan_protection(
    copy: &CopyContext,
    follower: &FollowerSnapshot,
    market: &BTreeMap<String, MarketInfo>,
) -> Plan {
    let mut out = Out::default();
    let mut ledger = copy.ledger.clone();
    for (key, pos) in ledger.positions.iter_mut() {
        let fkey = pos.follower_key();
        let held = follower.qty_in(&fkey, pos.direction).min(pos.qty);
        let wanted = if !copy.settings.risk.offline_protection || held.is_zero() {
            None
        } else {
            let entry = follower
                .position(&fkey)
                .map(|p| p.entry_price)
                .unwrap_or(Decimal::ZERO);
            let tick = market
                .get(&pos.symbol.name)
                .map(|m| m.filters.tick_size)
                .unwrap_or(Decimal::ZERO);
            stop_price(
                pos.direction,
                entry,
                held,
                pos.margin,
                stop_loss_share(copy, pos),
                tick,
            )
        };
        let tick = market
            .get(&pos.symbol.name)
            .map(|m| m.filters.tick_size)
            .unwrap_or(Decimal::ZERO);
        let same = match (&pos.stop, &wanted) {
            (Some(old), Some((price, _))) => {
                old.qty == held
                    && (old.stop_price - *price).abs() <= tick * Decimal::from(RESTOP_TICKS)
            }
            (None, None) => true,
            _ => false,
        };
        if same {
            continue;
        }
        if let Some(old) = pos.stop.take() {
            out.push(
                ActionKind::CancelProtectiveStop {
                    client_id: old.client_id,
                    symbol: pos.symbol.name.clone(),
                },
                format!(
                    "replace the protective stop of {} (was {} for {})",
                    pos.symbol.name,
                    show(old.stop_price),
                    show(old.qty)
                ),
            );
        }
        if let Some((price, why)) = wanted {
            let id = client_id(
                &copy.id,
                &format!("stop:{}:{:?}:{}:{}", key.symbol, key.side, held, price),
                "stop",
            );
            out.push(
                ActionKind::PlaceProtectiveStop {
                    client_id: id.clone(),
                    symbol: pos.symbol.name.clone(),
                    side: pos.direction.opening_side().opposite(),
                    position_side: pos.follower_side,
                    stop_price: price,
                    qty: Quantity::new(held).unwrap_or(Quantity::ZERO),
                },
                format!(
                    "offline protection for {} {}: {why}",
                    show(held),
                    pos.symbol.name
                ),
            );
            pos.stop = Some(ProtectiveStop {
                client_id: id,
                stop_price: price,
                qty: held,
                confirmed: false,
            });
        }
    }
    Plan {
        actions: out.actions,
        ledger,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn without_a_stop_loss_the_stop_is_at_80_percent_of_margin() {
        // Long 0.01 BTC at 50,000 with margin 100: loss 80 → 8,000 per BTC → 42,000.
        let (p, why) = stop_price(
            Direction::Long,
            dec!(50000),
            dec!(0.01),
            dec!(100),
            None,
            dec!(0.1),
        )
        .expect("a stop exists");
        assert_eq!(
            p,
            dec!(42000),
            "long stop should sit 80 of margin below entry"
        );
        assert!(
            why.contains("80% of its margin 100"),
            "reason names the basis: {why}"
        );
    }

    #[test]
    fn a_stop_loss_share_sets_the_distance_and_short_stops_sit_above() {
        // Short 0.1 ETH at 2,500, share 20 → 200 per ETH → 2,700.
        let (p, why) = stop_price(
            Direction::Short,
            dec!(2500),
            dec!(0.1),
            dec!(50),
            Some(dec!(20)),
            dec!(0.01),
        )
        .expect("a stop exists");
        assert_eq!(p, dec!(2700), "short stop should sit its share above entry");
        assert!(
            why.contains("share 20 of total_stop_loss"),
            "reason names the share: {why}"
        );
    }
}
