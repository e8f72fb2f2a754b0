//! Funding and liquidation: every 8 hours of simulator time each open position pays or
//! receives `amount × mark × rate`; whenever prices move, an isolated position whose
//! margin falls to its maintenance margin, or a cross account whose margin balance does,
//! is closed at the mark price with a `LIQUIDATION` order.

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::account::{Order, OrderStatus, OrderType, Position};
use super::book::Fill;
use super::exchange::{SimVenue, FUNDING_INTERVAL_MS};
use super::market::Market;
use super::views;
use crate::domain::{PositionSide, Side};

impl SimVenue {
    /// Settles every funding time that simulated time has passed.
    pub fn run_funding(&mut self) {
        while self.now() >= self.next_funding {
            let at = self.next_funding;
            self.settle_funding(at);
            self.next_funding += FUNDING_INTERVAL_MS;
        }
    }

    fn settle_funding(&mut self, at: i64) {
        let mut payments: Vec<(String, String, PositionSide, Decimal, bool)> = Vec::new();
        for a in self.accounts.values() {
            for p in a.positions.values().filter(|p| !p.amt.is_zero()) {
                let Some(book) = self.books.get(&p.symbol) else {
                    continue;
                };
                let pay = (-p.amt * book.mark() * book.funding_rate).round_dp(8);
                payments.push((a.id.clone(), p.symbol.clone(), p.side, pay, p.isolated));
            }
        }
        payments.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        for (acc, symbol, side, pay, isolated) in payments {
            let Some(m) = self.markets.get(&symbol).cloned() else {
                continue;
            };
            if let Some(a) = self.accounts.get_mut(&acc) {
                a.credit(m.margin_asset, pay);
                a.update_time = at;
                if isolated {
                    if let Some(p) = a.positions.get_mut(&(symbol.clone(), side)) {
                        p.isolated_wallet += pay;
                    }
                }
            }
            self.add_income(
                &acc,
                &symbol,
                "FUNDING_FEE",
                pay,
                m.margin_asset,
                String::new(),
                at,
            );
            let positions: Vec<(&str, PositionSide)> = if isolated {
                vec![(symbol.as_str(), side)]
            } else {
                Vec::new()
            };
            let upd = views::account_update(
                self,
                &acc,
                "FUNDING_FEE",
                &[m.margin_asset],
                &positions,
                Some(&symbol),
            );
            self.emit(&acc, "ACCOUNT_UPDATE", upd);
        }
        self.check_liquidations();
    }

    /// Sends `MARGIN_CALL` once when maintenance margin reaches 80 % of the margin that
    /// backs it (cross: cross wallet + cross PnL; isolated: isolated wallet + PnL), and
    /// re-arms once it falls back below.
    pub fn check_margin_calls(&mut self) {
        let marks = self.marks();
        let threshold = Decimal::new(8, 1);
        let mut send: Vec<(String, String, Value)> = Vec::new();
        let mut clear: Vec<(String, String)> = Vec::new();
        for a in self.accounts.values() {
            let mut seen: Vec<String> = Vec::new();
            let mut live: Vec<String> = Vec::new();
            for p in a.positions.values().filter(|p| !p.amt.is_zero()) {
                let Some(m) = self.markets.get(&p.symbol) else {
                    continue;
                };
                let mark = marks.get(&p.symbol).copied().unwrap_or(p.entry);
                let (key, backing, maint, cw, rows) = if p.isolated {
                    let key = format!("iso:{}:{}", p.symbol, views::ps_str(p.side));
                    let mm = p.maint_margin(mark, m);
                    let rows = vec![call_row(m, p, mark, mm, "ISOLATED")];
                    (
                        key,
                        p.isolated_wallet + p.upnl(mark),
                        mm,
                        Decimal::ZERO,
                        rows,
                    )
                } else {
                    let group = a.margin_group(m.margin_asset);
                    let key = format!("cross:{}", group.join(","));
                    if seen.contains(&key) {
                        continue;
                    }
                    seen.push(key.clone());
                    let f = a.group_figures(m.margin_asset, &self.markets, &marks);
                    let rows = a
                        .positions
                        .values()
                        .filter(|q| !q.amt.is_zero() && !q.isolated)
                        .filter_map(|q| {
                            let qm = self.markets.get(&q.symbol)?;
                            if !group.iter().any(|g| g == qm.margin_asset) {
                                return None;
                            }
                            let qmark = marks.get(&q.symbol).copied().unwrap_or(q.entry);
                            Some(call_row(qm, q, qmark, q.maint_margin(qmark, qm), "CROSSED"))
                        })
                        .collect();
                    (
                        key,
                        f.cross_wallet + f.cross_unrealized,
                        f.cross_maint_margin,
                        f.cross_wallet,
                        rows,
                    )
                };
                live.push(key.clone());
                let danger = maint > Decimal::ZERO && maint >= backing * threshold;
                let sent = a.margin_calls.contains(&key);
                if danger && !sent {
                    let payload = json!({"e": "MARGIN_CALL", "cw": views::money(cw), "p": rows});
                    send.push((a.id.clone(), key, payload));
                } else if !danger && sent {
                    clear.push((a.id.clone(), key));
                }
            }
            // A call whose position is gone (closed or liquidated) re-arms.
            for k in a.margin_calls.iter().filter(|k| !live.contains(k)) {
                clear.push((a.id.clone(), k.clone()));
            }
        }
        for (acc, key) in clear {
            if let Some(a) = self.accounts.get_mut(&acc) {
                a.margin_calls.remove(&key);
            }
        }
        send.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        for (acc, key, payload) in send {
            if let Some(a) = self.accounts.get_mut(&acc) {
                a.margin_calls.insert(key);
            }
            self.emit(&acc, "MARGIN_CALL", payload);
        }
    }

    /// Liquidates what has breached maintenance margin.
    pub fn check_liquidations(&mut self) {
        self.check_margin_calls();
        let marks = self.marks();
        let mut isolated: Vec<(String, String, PositionSide)> = Vec::new();
        let mut cross: Vec<(String, String)> = Vec::new();
        for a in self.accounts.values() {
            let mut groups_seen: Vec<String> = Vec::new();
            for p in a.positions.values().filter(|p| !p.amt.is_zero()) {
                let Some(m) = self.markets.get(&p.symbol) else {
                    continue;
                };
                let mark = marks.get(&p.symbol).copied().unwrap_or(p.entry);
                if p.isolated {
                    if p.isolated_wallet + p.upnl(mark) <= p.maint_margin(mark, m) {
                        isolated.push((a.id.clone(), p.symbol.clone(), p.side));
                    }
                    continue;
                }
                let group = a.margin_group(m.margin_asset).join(",");
                if groups_seen.contains(&group) {
                    continue;
                }
                groups_seen.push(group);
                let f = a.group_figures(m.margin_asset, &self.markets, &marks);
                if f.cross_wallet + f.cross_unrealized <= f.cross_maint_margin {
                    cross.push((a.id.clone(), m.margin_asset.to_owned()));
                }
            }
        }
        isolated.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        cross.sort();
        for (acc, symbol, side) in isolated {
            self.liquidate(&acc, &symbol, side);
        }
        for (acc, asset) in cross {
            let Some(a) = self.accounts.get(&acc) else {
                continue;
            };
            let group = a.margin_group(&asset);
            let mut targets: Vec<(String, PositionSide)> = a
                .positions
                .values()
                .filter(|p| !p.amt.is_zero() && !p.isolated)
                .filter(|p| {
                    self.markets
                        .get(&p.symbol)
                        .is_some_and(|m| group.iter().any(|g| g == m.margin_asset))
                })
                .map(|p| (p.symbol.clone(), p.side))
                .collect();
            targets.sort_by(|x, y| x.0.cmp(&y.0));
            for (symbol, side) in targets {
                self.liquidate(&acc, &symbol, side);
            }
            // Losses past the wallet are the insurance fund's, not the account's.
            let clear: Vec<(String, Decimal)> = group
                .iter()
                .filter_map(|g| {
                    let w = self.accounts.get(&acc)?.wallet(g);
                    (w < Decimal::ZERO).then(|| (g.clone(), -w))
                })
                .collect();
            for (g, amount) in clear {
                if let Some(a) = self.accounts.get_mut(&acc) {
                    a.credit(&g, amount);
                }
                let now = self.now();
                self.add_income(&acc, "", "INSURANCE_CLEAR", amount, &g, String::new(), now);
            }
        }
    }

    /// Closes one position at the mark with an `autoclose-` LIQUIDATION order (IOC), streamed
    /// as a `NEW` event and a `CALCULATED` execution that carries the fill. An isolated
    /// position loses exactly its isolated margin; what is left after PnL and fee goes to
    /// the insurance fund as a clearance fee.
    fn liquidate(&mut self, account: &str, symbol: &str, side: PositionSide) {
        let now = self.now();
        let mark = self.mark(symbol);
        let Some(m) = self.markets.get(symbol).cloned() else {
            return;
        };
        let Some(p) = self
            .accounts
            .get(account)
            .and_then(|a| a.position(symbol, side))
            .cloned()
        else {
            return;
        };
        if p.amt.is_zero() {
            return;
        }
        let order_side = if p.amt > Decimal::ZERO {
            Side::Sell
        } else {
            Side::Buy
        };
        let id = self.order_id();
        let order = Order {
            id,
            client_id: format!("autoclose-{now}"),
            symbol: symbol.to_owned(),
            side: order_side,
            position_side: side,
            kind: OrderType::Liquidation,
            tif: "IOC",
            price: mark,
            orig_qty: p.amt.abs(),
            executed_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: OrderStatus::New,
            reduce_only: true,
            close_position: false,
            time: now,
            update_time: now,
            expire_reason: 0,
        };
        let wallet_before = self
            .accounts
            .get(account)
            .map_or(Decimal::ZERO, |a| a.wallet(m.margin_asset));
        if let Some(a) = self.accounts.get_mut(account) {
            a.insert_order(order.clone());
        }
        let ev = views::order_event(&m, &order, "NEW", None, now);
        self.emit(account, "ORDER_TRADE_UPDATE", ev);
        // As on the venue: NEW, then the execution with `x = CALCULATED`.
        self.apply_fill_as(
            account,
            id,
            Fill {
                price: mark,
                qty: p.amt.abs(),
            },
            false,
            "CALCULATED",
        );
        if p.isolated {
            let wallet_after = self
                .accounts
                .get(account)
                .map_or(Decimal::ZERO, |a| a.wallet(m.margin_asset));
            let target = wallet_before - p.isolated_wallet;
            let adjust = target - wallet_after;
            if !adjust.is_zero() {
                if let Some(a) = self.accounts.get_mut(account) {
                    a.credit(m.margin_asset, adjust);
                }
                self.add_income(
                    account,
                    symbol,
                    "INSURANCE_CLEAR",
                    adjust,
                    m.margin_asset,
                    String::new(),
                    now,
                );
            }
        }
        tracing::info!(account, symbol, "simulated liquidation");
    }
}

/// One position row of a `MARGIN_CALL` (margin type in uppercase here, unlike elsewhere).
fn call_row(m: &Market, p: &Position, mark: Decimal, mm: Decimal, mt: &str) -> Value {
    json!({
        "s": p.symbol, "ps": views::ps_str(p.side), "pa": views::qty(m, p.amt), "mt": mt,
        "iw": views::money(p.isolated_wallet), "mp": views::fixed(mark, 8),
        "up": views::money(p.upnl(mark)), "mm": views::money(mm),
    })
}
