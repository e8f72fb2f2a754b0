//! Planning of what removes exposure: partial closes by the leader's fraction, full
//! closes and the close half of a flip. Never gated: a close runs whatever the copy's
//! state, the signal's age or the price.

use rust_decimal::Decimal;

use super::Planner;
use crate::engine::sizing::{floor_market, show};
use crate::engine::types::{ActionKind, LedgerPosition, NoticeKind, OrderIntent, OrderType};

impl Planner<'_> {
    pub(super) fn reduce(&mut self, closed: Decimal, before: Decimal, after: Decimal) {
        let lk = self.leader_key();
        let name = self.name().to_owned();
        let Some(pos) = self.ledger.positions.get(&lk).cloned() else {
            self.out.notice(
                NoticeKind::NotCopied,
                format!(
                    "nothing to do: the leader reduced {name}, a position this copy did not copy"
                ),
            );
            return;
        };
        let filters = &self.input.market.filters;
        let held = self.managed_qty(&pos);
        let f = closed / before;
        let mut qty = floor_market(filters, f * held);
        let remainder = held - qty;
        let mut why = format!(
            "leader closed {} of {} (fraction {}); {} × {} rounds down to {}",
            show(closed),
            show(before),
            show(f),
            show(f),
            show(held),
            show(qty)
        );
        if remainder < filters.market_min_qty {
            why.push_str(&format!(
                "; the remainder {} is below the minimum quantity {}, so all of it",
                show(remainder),
                show(filters.market_min_qty)
            ));
            qty = held;
        }
        if qty >= held {
            return self.close_position(&pos, held, &why, "close");
        }
        if qty < filters.market_min_qty {
            self.out.notice(
                NoticeKind::BelowMinimum,
                format!(
                    "not reduced yet: {why}, below the minimum quantity {}; reconciliation closes it once it can",
                    show(filters.market_min_qty)
                ),
            );
        } else {
            self.push_order(
                pos.direction.opening_side().opposite(),
                pos.follower_side,
                qty,
                OrderType::Market,
                true,
                OrderIntent::Reduce,
                "reduce",
                format!("reduce {name} by {}: {why}", show(qty)),
            );
        }
        if let Some(p) = self.ledger.positions.get_mut(&lk) {
            let shrink = if held > Decimal::ZERO {
                qty / held
            } else {
                Decimal::ZERO
            };
            let gone = p.qty - held;
            p.qty = held - qty;
            p.margin -= p.margin * shrink;
            p.declined = (p.declined + gone) * (Decimal::ONE - f);
            p.leader_qty = after;
        }
    }

    pub(super) fn close_all(&mut self, cause: &str, leg: &str) {
        let lk = self.leader_key();
        let name = self.name().to_owned();
        let Some(pos) = self.ledger.positions.get(&lk).cloned() else {
            self.out.notice(
                NoticeKind::NotCopied,
                format!("nothing to do: {cause} on {name}, a position this copy did not copy"),
            );
            return;
        };
        let held = self.managed_qty(&pos);
        self.close_position(&pos, held, cause, leg);
    }

    pub(super) fn close_position(
        &mut self,
        pos: &LedgerPosition,
        held: Decimal,
        why: &str,
        leg: &str,
    ) {
        let lk = self.leader_key();
        let name = self.name().to_owned();
        if held > Decimal::ZERO {
            self.push_order(
                pos.direction.opening_side().opposite(),
                pos.follower_side,
                held,
                OrderType::Market,
                true,
                OrderIntent::Close,
                leg,
                format!("close all {} {name}: {why}", show(held)),
            );
        } else {
            self.out.notice(
                NoticeKind::ClosedOutside,
                format!("nothing left to close on {name}: the follower position was closed outside CopyDesk"),
            );
        }
        if let Some(stop) = &pos.stop {
            self.out.push(
                ActionKind::CancelProtectiveStop {
                    client_id: stop.client_id.clone(),
                    symbol: name.clone(),
                },
                format!("{name} is closed; its protective stop goes too"),
            );
        }
        self.ledger.positions.remove(&lk);
    }
}
