//! Conditional orders through the algo service: placement checks (`-2021` when the trigger
//! is already crossed, closePosition rules), cancel, and triggering on every price move,
//! whether or not a client is connected, which is what offline protection relies on.

use rust_decimal::Decimal;

use super::account::{AlgoOrder, AlgoStatus, OrderStatus, OrderType};
use super::error::{WireError, WireResult};
use super::exchange::SimVenue;
use super::matching::{valid_client_id, NewOrder};
use super::views;
use crate::domain::{PositionSide, Side};

/// A new conditional order, shape-checked by the wire parser.
#[derive(Debug, Clone)]
pub struct NewAlgo {
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub order_type: &'static str,
    pub tif: &'static str,
    pub qty: Decimal,
    pub price: Decimal,
    pub trigger_price: Decimal,
    pub mark_price_working: bool,
    pub close_position: bool,
    pub reduce_only: bool,
    pub price_protect: bool,
    pub client_id: Option<String>,
}

fn is_stop(order_type: &str) -> bool {
    matches!(order_type, "STOP" | "STOP_MARKET")
}

/// Whether a conditional order's trigger is met at `price`.
pub fn triggered(order_type: &str, side: Side, trigger: Decimal, price: Decimal) -> bool {
    match (is_stop(order_type), side) {
        (true, Side::Buy) | (false, Side::Sell) => price >= trigger,
        (true, Side::Sell) | (false, Side::Buy) => price <= trigger,
    }
}

impl SimVenue {
    fn working_price(&self, symbol: &str, mark: bool) -> Decimal {
        self.books.get(symbol).map_or(
            Decimal::ZERO,
            |b| if mark { b.mark() } else { b.last_price },
        )
    }

    pub fn place_algo(&mut self, account: &str, req: NewAlgo) -> WireResult<AlgoOrder> {
        let m = self.market(&req.symbol)?.clone();
        let a = self.account(account)?;
        if a.dual_side == (req.position_side == PositionSide::Both) {
            return Err(WireError::position_side_mismatch());
        }
        if req.close_position {
            let bad = matches!(
                (req.position_side, req.side),
                (PositionSide::Long, Side::Buy) | (PositionSide::Short, Side::Sell)
            );
            if bad {
                return Err(WireError::bad(
                    -4062,
                    "Invalid or improper reduceOnly value.",
                ));
            }
        }
        let client_id = match &req.client_id {
            Some(c) if !valid_client_id(c) => {
                return Err(WireError::bad(-4015, "Client order id is not valid."))
            }
            Some(c) => {
                let dup = a
                    .algo_orders
                    .values()
                    .any(|o| o.status == AlgoStatus::New && &o.client_id == c);
                if dup {
                    return Err(WireError::bad(-4116, "ClientOrderId is duplicated."));
                }
                c.clone()
            }
            None => format!("sim-algo-{}", super::exchange::random_token(20)),
        };
        let price = self.working_price(&req.symbol, req.mark_price_working);
        if triggered(req.order_type, req.side, req.trigger_price, price) {
            return Err(WireError::bad(-2021, "Order would immediately trigger."));
        }
        let now = self.now();
        let id = self.algo_id();
        let algo = AlgoOrder {
            id,
            client_id,
            symbol: req.symbol.clone(),
            side: req.side,
            position_side: req.position_side,
            order_type: req.order_type,
            tif: req.tif,
            qty: req.qty,
            price: req.price,
            trigger_price: req.trigger_price,
            mark_price_working: req.mark_price_working,
            close_position: req.close_position,
            reduce_only: req.reduce_only,
            price_protect: req.price_protect,
            status: AlgoStatus::New,
            create_time: now,
            update_time: now,
            trigger_time: 0,
            actual_order_id: None,
            reason: String::new(),
        };
        self.account_mut(account)?
            .algo_orders
            .insert(id, algo.clone());
        let ev = views::algo_event(&m, &algo, "NEW", Decimal::ZERO, Decimal::ZERO, now);
        self.emit(account, "ALGO_UPDATE", ev);
        Ok(algo)
    }

    pub fn find_algo(
        &self,
        account: &str,
        id: Option<u64>,
        client: Option<&str>,
    ) -> WireResult<u64> {
        let a = self.account(account)?;
        let found = match (id, client) {
            (Some(id), _) => a.algo_orders.get(&id).map(|o| o.id),
            (None, Some(c)) => a
                .algo_orders
                .values()
                .rev()
                .find(|o| o.client_id == c)
                .map(|o| o.id),
            (None, None) => return Err(WireError::mandatory("algoId")),
        };
        found.ok_or_else(WireError::no_such_order)
    }

    pub fn cancel_algo(&mut self, account: &str, id: u64) -> WireResult<AlgoOrder> {
        let now = self.now();
        let a = self.account_mut(account)?;
        let o = a
            .algo_orders
            .get_mut(&id)
            .filter(|o| o.status == AlgoStatus::New)
            .ok_or_else(WireError::unknown_order)?;
        o.status = AlgoStatus::Canceled;
        o.update_time = now;
        let o = o.clone();
        if let Some(m) = self.markets.get(&o.symbol).cloned() {
            let ev = views::algo_event(&m, &o, "CANCELED", Decimal::ZERO, Decimal::ZERO, now);
            self.emit(account, "ALGO_UPDATE", ev);
        }
        Ok(o)
    }

    pub fn cancel_all_algos(&mut self, account: &str, symbol: &str) -> WireResult<()> {
        let ids: Vec<u64> = self
            .account(account)?
            .algo_orders
            .values()
            .filter(|o| o.symbol == symbol && o.status == AlgoStatus::New)
            .map(|o| o.id)
            .collect();
        for id in ids {
            self.cancel_algo(account, id)?;
        }
        Ok(())
    }

    /// Fires every conditional order on `symbol` whose trigger the current price meets.
    pub fn trigger_algos(&mut self, symbol: &str) {
        let mark = self.working_price(symbol, true);
        let last = self.working_price(symbol, false);
        let mut due: Vec<(String, u64)> = Vec::new();
        for a in self.accounts.values() {
            for o in a.algo_orders.values() {
                if o.symbol != symbol || o.status != AlgoStatus::New {
                    continue;
                }
                let p = if o.mark_price_working { mark } else { last };
                if triggered(o.order_type, o.side, o.trigger_price, p) {
                    due.push((a.id.clone(), o.id));
                }
            }
        }
        due.sort_by_key(|d| d.1);
        for (acc, id) in due {
            self.fire_algo(&acc, id);
        }
    }

    fn fire_algo(&mut self, account: &str, id: u64) {
        let now = self.now();
        let Some(a) = self.accounts.get_mut(account) else {
            return;
        };
        let Some(o) = a.algo_orders.get_mut(&id) else {
            return;
        };
        o.trigger_time = now;
        o.update_time = now;
        let algo = o.clone();
        let Some(m) = self.markets.get(&algo.symbol).cloned() else {
            return;
        };
        let ev = views::algo_event(&m, &algo, "TRIGGERING", Decimal::ZERO, Decimal::ZERO, now);
        self.emit(account, "ALGO_UPDATE", ev);

        let amt = self
            .accounts
            .get(account)
            .and_then(|a| a.position(&algo.symbol, algo.position_side))
            .map_or(Decimal::ZERO, |p| p.amt);
        let qty = if algo.close_position {
            amt.abs()
        } else {
            algo.qty
        };
        let kind = if views::market_type_of(algo.order_type) == "LIMIT" {
            OrderType::Limit
        } else {
            OrderType::Market
        };
        let one_way = algo.position_side == PositionSide::Both;
        // The order's own events must follow TRIGGERED, which names the order id.
        self.hold_events();
        let result = if qty.is_zero() {
            Err(WireError::reduce_only_reject())
        } else {
            self.place_order(
                account,
                NewOrder {
                    symbol: algo.symbol.clone(),
                    side: algo.side,
                    position_side: algo.position_side,
                    kind,
                    tif: if kind == OrderType::Limit {
                        algo.tif
                    } else {
                        "GTC"
                    },
                    qty,
                    price: if kind == OrderType::Limit {
                        algo.price
                    } else {
                        Decimal::ZERO
                    },
                    reduce_only: one_way && (algo.close_position || algo.reduce_only),
                    close_position: algo.close_position,
                    client_id: None,
                },
            )
        };
        let order_events = self.release_events();
        let Some(o) = self
            .accounts
            .get_mut(account)
            .and_then(|a| a.algo_orders.get_mut(&id))
        else {
            self.send_events(order_events);
            return;
        };
        match result {
            Ok(order) => {
                o.status = AlgoStatus::Triggered;
                o.actual_order_id = Some(order.id);
                let algo = o.clone();
                let ev =
                    views::algo_event(&m, &algo, "TRIGGERED", Decimal::ZERO, Decimal::ZERO, now);
                self.emit(account, "ALGO_UPDATE", ev);
                self.send_events(order_events);
                if order.status == OrderStatus::Filled || !order.status.is_open() {
                    if let Some(o) = self
                        .accounts
                        .get_mut(account)
                        .and_then(|a| a.algo_orders.get_mut(&id))
                    {
                        o.status = AlgoStatus::Finished;
                    }
                    let ev = views::algo_event(
                        &m,
                        &algo,
                        "FINISHED",
                        order.avg_price(),
                        order.executed_qty,
                        now,
                    );
                    self.emit(account, "ALGO_UPDATE", ev);
                }
            }
            Err(e) => {
                // A refused order emitted nothing; anything held is still delivered.
                self.send_events(order_events);
                let Some(o) = self
                    .accounts
                    .get_mut(account)
                    .and_then(|a| a.algo_orders.get_mut(&id))
                else {
                    return;
                };
                o.status = AlgoStatus::Expired;
                o.reason = e.msg.clone();
                let algo = o.clone();
                let ev = views::algo_event(&m, &algo, "EXPIRED", Decimal::ZERO, Decimal::ZERO, now);
                self.emit(account, "ALGO_UPDATE", ev);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn trigger_directions_follow_the_docs() {
        assert!(
            triggered("STOP_MARKET", Side::Sell, dec!(45000), dec!(44999)),
            "sell stop below"
        );
        assert!(
            !triggered("STOP_MARKET", Side::Sell, dec!(45000), dec!(45001)),
            "sell stop above waits"
        );
        assert!(
            triggered("STOP_MARKET", Side::Buy, dec!(45000), dec!(45000)),
            "buy stop at trigger"
        );
        assert!(
            triggered("TAKE_PROFIT_MARKET", Side::Sell, dec!(55000), dec!(55000)),
            "sell tp above"
        );
        assert!(
            triggered("TAKE_PROFIT", Side::Buy, dec!(40000), dec!(39000)),
            "buy tp below"
        );
    }
}
