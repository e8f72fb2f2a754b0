//! Order handling: business checks of a new order (client ids, notional, reduce-only and
//! hedge rules, margin), taking liquidity from the book, resting LIMIT orders that fill
//! when the price crosses them, cancels, and the position/wallet effect of every fill.

use rust_decimal::Decimal;
use serde_json::Value;

use super::account::{Order, OrderStatus, OrderType, Position, Trade};
use super::book::{Fill, LEVELS};
use super::error::{WireError, WireResult};
use super::exchange::SimVenue;
use super::views::{self, FillInfo};
use crate::domain::{PositionSide, Side};

/// A validated-in-shape new order (the wire parser has checked types and the filters).
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub kind: OrderType,
    /// GTC, IOC, FOK or GTX.
    pub tif: &'static str,
    pub qty: Decimal,
    /// Zero for MARKET.
    pub price: Decimal,
    pub reduce_only: bool,
    pub close_position: bool,
    pub client_id: Option<String>,
}

/// Client ids: Binance's `^[.A-Z:/a-z0-9_-]{1,36}$`.
pub fn valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 36
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '_' | '-'))
}

impl SimVenue {
    /// Places an order and runs it against the book. Returns the order's final state at
    /// the end of this call.
    pub fn place_order(&mut self, account: &str, req: NewOrder) -> WireResult<Order> {
        let m = self.market(&req.symbol)?.clone();
        let book = self
            .books
            .get(&req.symbol)
            .cloned()
            .ok_or_else(WireError::bad_symbol)?;
        let mark = book.mark();
        let a = self.account(account)?;

        if a.dual_side {
            if req.position_side == PositionSide::Both {
                return Err(WireError::position_side_mismatch());
            }
        } else if req.position_side != PositionSide::Both {
            return Err(WireError::position_side_mismatch());
        }
        let client_id = match &req.client_id {
            Some(c) if !valid_client_id(c) => {
                return Err(WireError::bad(-4015, "Client order id is not valid."))
            }
            Some(c) => {
                if a.open_orders().any(|o| &o.client_id == c) {
                    return Err(WireError::bad(-4116, "ClientOrderId is duplicated."));
                }
                c.clone()
            }
            None => format!("sim-{}", super::exchange::random_token(22)),
        };

        // Quantity that may actually trade when the order only reduces.
        let pos_amt = a
            .position(&req.symbol, req.position_side)
            .map_or(Decimal::ZERO, |p| p.amt);
        let closing_side = match req.position_side {
            PositionSide::Long => req.side == Side::Sell,
            PositionSide::Short => req.side == Side::Buy,
            PositionSide::Both => false,
        };
        let mut qty = req.qty;
        if req.reduce_only {
            let reducible = match req.side {
                Side::Buy if pos_amt < Decimal::ZERO => pos_amt.abs(),
                Side::Sell if pos_amt > Decimal::ZERO => pos_amt,
                _ => Decimal::ZERO,
            };
            if reducible.is_zero() {
                return Err(WireError::reduce_only_reject());
            }
            qty = qty.min(reducible);
        } else if closing_side && req.qty > pos_amt.abs() {
            return Err(WireError::reduce_only_reject());
        }

        let ref_price = match req.kind {
            OrderType::Limit => req.price,
            _ => mark,
        };
        let reduces = req.reduce_only || closing_side;
        if !reduces && ref_price * req.qty < m.filters.min_notional {
            return Err(WireError::bad(
                -4164,
                format!(
                    "Order's notional must be no smaller than {} (unless you choose reduce only).",
                    m.filters.min_notional.normalize()
                ),
            ));
        }

        // Marketable part and time-in-force rules.
        let limit = (req.kind == OrderType::Limit).then_some(req.price);
        let fills = book.walk(req.side, qty, limit);
        let fillable: Decimal = fills.iter().map(|f| f.qty).sum();
        if req.kind == OrderType::Limit {
            if req.tif == "GTX" && !fills.is_empty() {
                return Err(WireError::bad(
                    -5022,
                    "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history",
                ));
            }
            if req.tif == "FOK" && fillable < qty {
                return Err(WireError::bad(
                    -5021,
                    "Due to the order could not be filled immediately, the FOK order has been rejected. The order would not be recorded in the order history",
                ));
            }
        }

        // Margin: the opening part must fit in what is available.
        if !reduces {
            let lev = a.config(&req.symbol).leverage;
            let opening = a.opening_qty(&req.symbol, req.side, req.position_side, qty);
            let price_for_margin = match req.kind {
                OrderType::Limit => req.price,
                _ => views_avg(&fills).max(mark),
            };
            let need = opening * price_for_margin / Decimal::from(lev.max(1));
            let marks = self.marks();
            let avail = a
                .group_figures(m.margin_asset, &self.markets, &marks)
                .available;
            if need > avail {
                return Err(WireError::margin_insufficient());
            }
            // An order that closes the whole position and opens the other way leaves only
            // its opening part; otherwise the position grows by it.
            let closes_all = qty - opening >= pos_amt.abs() && !pos_amt.is_zero();
            let after = if closes_all {
                opening * mark
            } else {
                (pos_amt.abs() + opening) * mark
            };
            if opening > Decimal::ZERO && after > m.max_notional(lev) {
                return Err(WireError::bad(
                    -2027,
                    "Exceeded the maximum allowable position at current leverage.",
                ));
            }
        }

        let now = self.now();
        let id = self.order_id();
        let order = Order {
            id,
            client_id,
            symbol: req.symbol.clone(),
            side: req.side,
            position_side: req.position_side,
            kind: req.kind,
            tif: if req.kind == OrderType::Limit {
                req.tif
            } else {
                "GTC"
            },
            price: req.price,
            orig_qty: qty,
            executed_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: OrderStatus::New,
            reduce_only: req.reduce_only,
            close_position: req.close_position,
            time: now,
            update_time: now,
            expire_reason: 0,
        };
        self.account_mut(account)?.insert_order(order.clone());
        let ev = views::order_event(&m, &order, "NEW", None, now);
        self.emit(account, "ORDER_TRADE_UPDATE", ev);

        for f in &fills {
            self.apply_fill(account, id, *f, false);
        }
        let executed = self.order_state(account, id)?.executed_qty;
        if executed < qty {
            let expire = match (req.kind, req.tif) {
                (OrderType::Limit, "GTC" | "GTX") => None,
                (OrderType::Limit, _) => Some(2),
                _ => Some(9),
            };
            if let Some(reason) = expire {
                self.finish_order(account, id, OrderStatus::Expired, reason, "EXPIRED");
            }
        }
        self.order_state(account, id).cloned()
    }

    pub fn order_state(&self, account: &str, id: u64) -> WireResult<&Order> {
        self.account(account)?
            .orders
            .get(&id)
            .ok_or_else(WireError::no_such_order)
    }

    fn finish_order(
        &mut self,
        account: &str,
        id: u64,
        status: OrderStatus,
        reason: u8,
        exec: &str,
    ) {
        let now = self.now();
        let Some(a) = self.accounts.get_mut(account) else {
            return;
        };
        let Some(o) = a.orders.get_mut(&id) else {
            return;
        };
        o.status = status;
        o.expire_reason = reason;
        o.update_time = now;
        let o = o.clone();
        a.sync_open(id);
        if let Some(m) = self.markets.get(&o.symbol).cloned() {
            let ev = views::order_event(&m, &o, exec, None, now);
            self.emit(account, "ORDER_TRADE_UPDATE", ev);
        }
    }

    /// Applies one fill of an order: position, wallet, fee, trade and income records, and
    /// the `ORDER_TRADE_UPDATE` / `ACCOUNT_UPDATE` events. Returns the realized PnL.
    pub fn apply_fill(&mut self, account: &str, order_id: u64, fill: Fill, maker: bool) -> Decimal {
        self.apply_fill_as(account, order_id, fill, maker, "TRADE")
    }

    /// [`Self::apply_fill`] with the execution type its order event carries: `TRADE`, or
    /// `CALCULATED` for the venue's liquidation of a position.
    pub fn apply_fill_as(
        &mut self,
        account: &str,
        order_id: u64,
        fill: Fill,
        maker: bool,
        exec: &'static str,
    ) -> Decimal {
        let now = self.now();
        let fee_rate = if maker {
            self.config.maker_fee
        } else {
            self.config.taker_fee
        };
        let trade_id = self.trade_id();
        let Some(a) = self.accounts.get(account) else {
            return Decimal::ZERO;
        };
        let Some(o) = a.orders.get(&order_id).cloned() else {
            return Decimal::ZERO;
        };
        let Some(m) = self.markets.get(&o.symbol).cloned() else {
            return Decimal::ZERO;
        };
        let cfg = a.config(&o.symbol);
        let key = (o.symbol.clone(), o.position_side);
        let mut pos = a
            .positions
            .get(&key)
            .cloned()
            .unwrap_or_else(|| Position::new(&o.symbol, o.position_side, cfg.isolated));
        pos.isolated = cfg.isolated;
        let realized = apply_to_position(&mut pos, o.side, fill, cfg.leverage);
        pos.update_time = now;
        let fee = (fill.price * fill.qty * fee_rate).round_dp(8);
        // BNB fees: paid from the BNB wallet at the BNBUSDT mark when it holds enough.
        let bnb_mark = self
            .books
            .get("BNBUSDT")
            .map_or(Decimal::ZERO, |b| b.mark());
        let fee_bnb = if bnb_mark > Decimal::ZERO {
            (fee / bnb_mark).round_dp(8)
        } else {
            Decimal::ZERO
        };
        let pay_bnb = a.bnb_fees
            && m.margin_asset == "USDT"
            && fee_bnb > Decimal::ZERO
            && a.wallet("BNB") >= fee_bnb;
        let (fee_paid, fee_asset) = if pay_bnb {
            (fee_bnb, "BNB")
        } else {
            (fee, m.margin_asset)
        };

        let Some(a) = self.accounts.get_mut(account) else {
            return Decimal::ZERO;
        };
        a.positions.insert(key, pos);
        if pay_bnb {
            a.credit(m.margin_asset, realized);
            a.credit("BNB", -fee_bnb);
        } else {
            a.credit(m.margin_asset, realized - fee);
        }
        a.update_time = now;
        if let Some(o) = a.orders.get_mut(&order_id) {
            o.executed_qty += fill.qty;
            o.cum_quote += fill.price * fill.qty;
            o.status = if o.executed_qty >= o.orig_qty {
                OrderStatus::Filled
            } else {
                OrderStatus::PartiallyFilled
            };
            o.update_time = now;
        }
        a.sync_open(order_id);
        a.trades.push(Trade {
            id: trade_id,
            order_id,
            symbol: o.symbol.clone(),
            side: o.side,
            position_side: o.position_side,
            price: fill.price,
            qty: fill.qty,
            commission: fee_paid,
            commission_asset: fee_asset.to_owned(),
            realized_pnl: realized,
            maker,
            time: now,
        });
        let order_now = a.orders.get(&order_id).cloned();
        if !realized.is_zero() {
            self.add_income(
                account,
                &o.symbol,
                "REALIZED_PNL",
                realized,
                m.margin_asset,
                trade_id.to_string(),
                now,
            );
        }
        self.add_income(
            account,
            &o.symbol,
            "COMMISSION",
            -fee_paid,
            fee_asset,
            trade_id.to_string(),
            now,
        );

        if let Some(book) = self.books.get_mut(&o.symbol) {
            book.last_price = fill.price;
        }
        if let Some(order_now) = order_now {
            let info = FillInfo {
                price: fill.price,
                qty: fill.qty,
                commission: fee_paid,
                commission_asset: fee_asset,
                trade_id,
                maker,
                realized,
            };
            let ev = views::order_event(&m, &order_now, exec, Some(info), now);
            self.emit(account, "ORDER_TRADE_UPDATE", ev);
        }
        let both = [m.margin_asset, "BNB"];
        let assets = if pay_bnb { &both[..] } else { &both[..1] };
        let upd = views::account_update(
            self,
            account,
            "ORDER",
            assets,
            &[(&o.symbol, o.position_side)],
            None,
        );
        self.emit(account, "ACCOUNT_UPDATE", upd);
        self.publish_agg_trade(&o.symbol, trade_id, fill, o.side == Side::Sell, now);
        realized
    }

    /// `PUT /fapi/v1/order`: changes an open LIMIT order's price and quantity (an
    /// AMENDMENT event); a new price that crosses the book takes liquidity at once.
    pub fn modify_order(
        &mut self,
        account: &str,
        id: u64,
        side: Side,
        qty: Decimal,
        price: Decimal,
    ) -> WireResult<Order> {
        let o = self.order_state(account, id)?.clone();
        if !o.status.is_open() || o.kind != OrderType::Limit {
            return Err(WireError::bad(-2013, "Order does not exist."));
        }
        if o.side != side {
            return Err(WireError::bad(
                -4006,
                "Side of the order can not be modified.",
            ));
        }
        if o.price == price && o.orig_qty == qty {
            return Err(WireError::bad(-5027, "No need to modify the order."));
        }
        if qty <= o.executed_qty {
            return Err(WireError::bad(
                -4003,
                "Quantity less than or equal to the executed quantity.",
            ));
        }
        let m = self.market(&o.symbol)?.clone();
        let now = self.now();
        let a = self.account_mut(account)?;
        let Some(stored) = a.orders.get_mut(&id) else {
            return Err(WireError::no_such_order());
        };
        stored.price = price;
        stored.orig_qty = qty;
        stored.update_time = now;
        let amended = stored.clone();
        let ev = views::order_event(&m, &amended, "AMENDMENT", None, now);
        self.emit(account, "ORDER_TRADE_UPDATE", ev);
        let fills = self
            .books
            .get(&o.symbol)
            .map(|b| b.walk(side, amended.remaining(), Some(price)))
            .unwrap_or_default();
        for f in fills {
            self.apply_fill(account, id, f, false);
        }
        self.order_state(account, id).cloned()
    }

    /// Cancels an open order. `-2011` when it is not open.
    pub fn cancel_order(&mut self, account: &str, symbol: &str, id: u64) -> WireResult<Order> {
        let a = self.account(account)?;
        match a.orders.get(&id) {
            Some(o) if o.symbol == symbol && o.status.is_open() => {}
            _ => return Err(WireError::unknown_order()),
        }
        self.finish_order(account, id, OrderStatus::Canceled, 0, "CANCELED");
        self.order_state(account, id).cloned()
    }

    pub fn cancel_all(&mut self, account: &str, symbol: &str) -> WireResult<()> {
        let ids: Vec<u64> = self
            .account(account)?
            .open_orders()
            .filter(|o| o.symbol == symbol)
            .map(|o| o.id)
            .collect();
        for id in ids {
            self.finish_order(account, id, OrderStatus::Canceled, 0, "CANCELED");
        }
        Ok(())
    }

    /// Finds an order by id or client id.
    pub fn find_order(
        &self,
        account: &str,
        symbol: &str,
        id: Option<u64>,
        client: Option<&str>,
    ) -> WireResult<u64> {
        let a = self.account(account)?;
        let found = match (id, client) {
            (Some(id), _) => a
                .orders
                .get(&id)
                .filter(|o| o.symbol == symbol)
                .map(|o| o.id),
            (None, Some(c)) => a
                .orders
                .values()
                .rev()
                .find(|o| o.symbol == symbol && o.client_id == c)
                .map(|o| o.id),
            (None, None) => return Err(WireError::mandatory("orderId")),
        };
        found.ok_or_else(WireError::no_such_order)
    }

    /// Moves a symbol's price and runs everything a price move triggers: resting LIMIT
    /// fills, conditional orders, liquidations and the market streams.
    pub fn set_price(&mut self, symbol: &str, price: Decimal) -> WireResult<()> {
        self.market(symbol)?;
        if price <= Decimal::ZERO {
            return Err(WireError::illegal("price"));
        }
        if let Some(b) = self.books.get_mut(symbol) {
            b.set_mid(price);
            b.last_price = b.mid;
            let (t, mid) = (self.clock.now(), b.mid);
            self.tape.price(symbol, t, mid);
        }
        self.after_move(symbol);
        Ok(())
    }

    /// What every price move runs: resting LIMIT fills, conditional orders, liquidations
    /// and the market streams.
    pub(crate) fn after_move(&mut self, symbol: &str) {
        self.revision += 1;
        self.fill_resting(symbol);
        self.trigger_algos(symbol);
        self.check_liquidations();
        self.publish_book(symbol);
    }

    /// Resting LIMIT orders the new book crosses fill in full at their own price, as maker.
    fn fill_resting(&mut self, symbol: &str) {
        let Some(book) = self.books.get(symbol).cloned() else {
            return;
        };
        let mut crossing: Vec<(String, u64, Decimal, Decimal)> = Vec::new();
        for a in self.accounts.values() {
            for o in a
                .open_orders()
                .filter(|o| o.symbol == symbol && o.kind == OrderType::Limit)
            {
                let crossed = match o.side {
                    Side::Buy => book.best_ask() <= o.price,
                    Side::Sell => book.best_bid() >= o.price,
                };
                if crossed {
                    crossing.push((a.id.clone(), o.id, o.price, o.remaining()));
                }
            }
        }
        crossing.sort_by_key(|c| c.1);
        for (acc, id, price, remaining) in crossing {
            let qty = self
                .reducible_now(&acc, id)
                .map_or(remaining, |r| r.min(remaining));
            if qty <= Decimal::ZERO {
                self.finish_order(&acc, id, OrderStatus::Expired, 4, "EXPIRED");
                continue;
            }
            self.apply_fill(&acc, id, Fill { price, qty }, true);
            if qty < remaining {
                self.finish_order(&acc, id, OrderStatus::Expired, 4, "EXPIRED");
            }
        }
    }

    /// For a reduce-only order: how much it may still reduce now. `None` for others.
    fn reducible_now(&self, account: &str, id: u64) -> Option<Decimal> {
        let a = self.accounts.get(account)?;
        let o = a.orders.get(&id)?;
        if !o.reduce_only {
            return None;
        }
        let amt = a
            .position(&o.symbol, o.position_side)
            .map_or(Decimal::ZERO, |p| p.amt);
        Some(match o.side {
            Side::Buy if amt < Decimal::ZERO => amt.abs(),
            Side::Sell if amt > Decimal::ZERO => amt,
            _ => Decimal::ZERO,
        })
    }

    /// Depth snapshot (`GET /fapi/v1/depth`).
    pub fn depth(&self, symbol: &str, limit: u32) -> WireResult<Value> {
        let m = self.market(symbol)?;
        let b = self.books.get(symbol).ok_or_else(WireError::bad_symbol)?;
        let n = limit.clamp(1, LEVELS);
        let side = |s: Side| -> Vec<Value> {
            b.levels(s, n)
                .iter()
                .map(|l| serde_json::json!([views::px(m, l.price), views::qty(m, l.qty)]))
                .collect()
        };
        let now = self.now();
        Ok(serde_json::json!({
            "lastUpdateId": b.update_id, "E": now, "T": now,
            "bids": side(Side::Sell), "asks": side(Side::Buy),
        }))
    }
}

fn views_avg(fills: &[Fill]) -> Decimal {
    super::book::average(fills)
}

/// Applies a fill to a position: averages the entry on increases, realizes PnL on
/// reductions, flips through zero in one-way mode, and moves isolated margin with it.
/// Returns the realized PnL.
pub fn apply_to_position(pos: &mut Position, side: Side, fill: Fill, leverage: u32) -> Decimal {
    let lev = Decimal::from(leverage.max(1));
    let signed = match side {
        Side::Buy => fill.qty,
        Side::Sell => -fill.qty,
    };
    let same_way = pos.amt.is_zero() || (pos.amt > Decimal::ZERO) == (signed > Decimal::ZERO);
    if same_way {
        let old = pos.amt.abs();
        let new = old + fill.qty;
        pos.entry = (pos.entry * old + fill.price * fill.qty) / new;
        pos.amt += signed;
        if pos.isolated {
            pos.isolated_wallet += fill.price * fill.qty / lev;
        }
        return Decimal::ZERO;
    }
    let old = pos.amt.abs();
    let close = fill.qty.min(old);
    let direction = if pos.amt > Decimal::ZERO {
        Decimal::ONE
    } else {
        -Decimal::ONE
    };
    let realized = close * (fill.price - pos.entry) * direction;
    pos.realized += realized;
    if pos.isolated {
        let release = pos.isolated_wallet * close / old;
        pos.isolated_wallet -= release;
    }
    pos.amt -= direction * close;
    let rest = fill.qty - close;
    if pos.amt.is_zero() {
        pos.entry = Decimal::ZERO;
        pos.isolated_wallet = Decimal::ZERO;
    }
    if rest > Decimal::ZERO {
        pos.amt = -direction * rest;
        pos.entry = fill.price;
        if pos.isolated {
            pos.isolated_wallet = fill.price * rest / lev;
        }
    }
    realized
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn entry_averages_and_reduction_realizes() {
        let mut p = Position::new("BTCUSDT", PositionSide::Both, false);
        apply_to_position(
            &mut p,
            Side::Buy,
            Fill {
                price: dec!(50000),
                qty: dec!(1),
            },
            10,
        );
        apply_to_position(
            &mut p,
            Side::Buy,
            Fill {
                price: dec!(52000),
                qty: dec!(1),
            },
            10,
        );
        assert_eq!(
            p.entry,
            dec!(51000),
            "entry is the average of 50,000 and 52,000"
        );
        let r = apply_to_position(
            &mut p,
            Side::Sell,
            Fill {
                price: dec!(53000),
                qty: dec!(0.5),
            },
            10,
        );
        assert_eq!(r, dec!(1000), "0.5 × (53,000 − 51,000) realized");
        assert_eq!(p.amt, dec!(1.5), "1.5 left");
        assert_eq!(p.entry, dec!(51000), "a reduction keeps the entry");
    }

    #[test]
    fn one_way_flip_opens_the_rest_at_the_fill() {
        let mut p = Position::new("BTCUSDT", PositionSide::Both, true);
        apply_to_position(
            &mut p,
            Side::Buy,
            Fill {
                price: dec!(100),
                qty: dec!(2),
            },
            10,
        );
        assert_eq!(p.isolated_wallet, dec!(20), "isolated margin 2 × 100 / 10");
        let r = apply_to_position(
            &mut p,
            Side::Sell,
            Fill {
                price: dec!(90),
                qty: dec!(3),
            },
            10,
        );
        assert_eq!(r, dec!(-20), "2 × (90 − 100)");
        assert_eq!(p.amt, dec!(-1), "flipped to 1 short");
        assert_eq!(p.entry, dec!(90), "short entry at the fill");
        assert_eq!(
            p.isolated_wallet,
            dec!(9),
            "new isolated margin 1 × 90 / 10"
        );
    }

    #[test]
    fn client_id_rules() {
        assert!(valid_client_id("copy-0001:a/b.c_d"), "allowed charset");
        assert!(!valid_client_id(""), "empty refused");
        assert!(!valid_client_id(&"a".repeat(37)), "37 chars refused");
        assert!(!valid_client_id("has space"), "space refused");
    }
}
