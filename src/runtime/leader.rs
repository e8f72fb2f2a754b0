//! The leader's account as the runtime follows it, and the conversion of its stream events
//! into [`LeaderSignal`]s: fills (with the position before, the leverage and the equity as
//! of the last account event before the fill; the venue's liquidation of a leader position
//! counts as a fill, so it becomes a close at once), leverage changes, margin-mode changes read
//! from position updates, and isolated margin adds/reduces (an `iw` change with an
//! unchanged amount whose reason is neither an order nor funding).
//!
//! Positions move with the fills themselves, not with the balance update that follows
//! them, so the "position before" of each fill never depends on which of the two events a
//! venue sends first.
//!
//! A stream's socket opens before its snapshot is read, so a change made in between is in
//! the snapshot and arrives on the socket after it. Every snapshot records the newest venue
//! time it contains (its positions' and balances' update times); an event at or before it
//! is already counted and gives no signal. Fills are also remembered by trade id, so one
//! delivered twice is applied once.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::domain::{
    LeaderFill, LeaderSignal, MarginMode, PositionMode, PositionSide, SignalKind, Symbol,
};
use crate::engine::PositionKey;
use crate::exchange::events::BalanceReason;
use crate::exchange::{AccountEvent, AccountSnapshot, OrderStatus};

/// Margin assets whose balances count toward leader equity.
const EQUITY_ASSETS: [&str; 2] = ["USDT", "USDC"];

/// What the runtime knows of the leader's account between snapshots.
#[derive(Debug, Clone, Default)]
pub struct LeaderTracker {
    positions: BTreeMap<PositionKey, Decimal>,
    isolated: BTreeMap<PositionKey, Decimal>,
    unrealized: BTreeMap<PositionKey, Decimal>,
    /// Entry price and the venue time of the last unrealized PnL per book, for the equity
    /// at current marks (see `leader_equity`).
    entry: BTreeMap<PositionKey, (Decimal, i64)>,
    /// Venue time at which a symbol's last book went flat (see `leader_mode`).
    flat_since: BTreeMap<String, i64>,
    wallet: BTreeMap<String, Decimal>,
    leverage: BTreeMap<String, u32>,
    margin_mode: BTreeMap<String, MarginMode>,
    pub position_mode: Option<PositionMode>,
    /// Event time of the newest event applied.
    pub last_event_ms: i64,
    /// Newest venue time the last snapshot contains: events up to it are in it already.
    covered_until_ms: i64,
    /// Trade ids of the fills applied lately, oldest first (a bounded memory).
    seen_trades: std::collections::VecDeque<String>,
}

/// How many trade ids the tracker remembers against duplicate deliveries.
const SEEN_TRADES: usize = 4_096;

impl LeaderTracker {
    /// Starts over from a snapshot (at start and after every reconnect).
    pub fn reset(&mut self, snap: &AccountSnapshot) {
        self.positions.clear();
        self.isolated.clear();
        self.unrealized.clear();
        self.entry.clear();
        self.wallet.clear();
        for b in &snap.balances {
            self.wallet
                .insert(b.asset.as_str().to_owned(), b.wallet_balance);
        }
        for s in &snap.symbol_settings {
            self.leverage.insert(s.symbol.clone(), s.leverage);
            self.margin_mode.insert(s.symbol.clone(), s.margin_mode);
        }
        for p in &snap.positions {
            let key = PositionKey::new(p.symbol.clone(), p.position_side);
            self.leverage.insert(p.symbol.clone(), p.leverage);
            self.margin_mode.insert(p.symbol.clone(), p.margin_mode);
            if p.signed_quantity.is_zero() {
                continue;
            }
            self.positions.insert(key.clone(), p.signed_quantity);
            self.unrealized.insert(key.clone(), p.unrealized_pnl);
            if let Some(e) = p.entry_price {
                self.entry.insert(key.clone(), (e.get(), p.updated_at));
            }
            if p.margin_mode == MarginMode::Isolated {
                self.isolated.insert(key, p.margin);
            }
        }
        self.position_mode = Some(snap.position_mode);
        self.covered_until_ms = snap
            .positions
            .iter()
            .map(|p| p.updated_at)
            .chain(snap.balances.iter().map(|b| b.updated_at))
            .max()
            .unwrap_or(0);
    }

    /// True for an event the last snapshot already contains.
    fn covered(&self, venue_ms: i64) -> bool {
        venue_ms <= self.covered_until_ms
    }

    /// Wallet plus unrealized PnL over USDT and USDC, as of the last event applied.
    pub fn equity(&self) -> Decimal {
        let wallet: Decimal = EQUITY_ASSETS
            .iter()
            .filter_map(|a| self.wallet.get(*a))
            .sum();
        wallet + self.unrealized.values().copied().sum::<Decimal>()
    }

    /// Wallet over USDT and USDC plus every other book's unrealized PnL at `mark`, leaving
    /// out `skip` (the book the signal opens). `None` when a book has no entry price or no
    /// current mark.
    pub fn equity_at_marks(
        &self,
        skip: &PositionKey,
        mark: &dyn Fn(&str) -> Option<Decimal>,
    ) -> Option<Decimal> {
        let wallet: Decimal = EQUITY_ASSETS
            .iter()
            .filter_map(|a| self.wallet.get(*a))
            .sum();
        let mut upnl = Decimal::ZERO;
        for (key, qty) in self.positions.iter().filter(|(k, _)| *k != skip) {
            let (entry, _) = self.entry.get(key)?;
            upnl += *qty * (mark(&key.symbol)? - *entry);
        }
        Some(wallet + upnl)
    }

    /// The stored equity (as of the last account events, leaving out `skip`), and the venue
    /// time of its oldest unrealized PnL (`None` when no other book is open: the wallet
    /// alone is current).
    pub fn stored_equity(&self, skip: &PositionKey) -> (Decimal, Option<i64>) {
        let wallet: Decimal = EQUITY_ASSETS
            .iter()
            .filter_map(|a| self.wallet.get(*a))
            .sum();
        let upnl: Decimal = self
            .unrealized
            .iter()
            .filter(|(k, _)| *k != skip)
            .map(|(_, v)| *v)
            .sum();
        let oldest = self
            .positions
            .keys()
            .filter(|k| *k != skip)
            .map(|k| self.entry.get(k).map_or(i64::MIN, |(_, at)| *at))
            .min();
        (wallet + upnl, oldest)
    }

    /// Venue time at which the symbol's last leader book went flat, when that was seen
    /// since the start (the margin mode can change only while flat).
    pub fn flat_since(&self, symbol: &str) -> Option<i64> {
        self.flat_since.get(symbol).copied()
    }

    /// The leader's margin mode on a symbol as a fresh read found it (a flat account can
    /// switch it without an event); the fill's own account update then agrees.
    pub fn set_margin_mode(&mut self, symbol: &str, mode: MarginMode) {
        self.margin_mode.insert(symbol.to_owned(), mode);
    }

    /// Signed quantity per leader book.
    pub fn positions(&self) -> &BTreeMap<PositionKey, Decimal> {
        &self.positions
    }

    /// The leader's leverage on a symbol, as last read.
    pub fn leverage(&self, symbol: &str) -> Option<u32> {
        self.leverage.get(symbol).copied()
    }

    /// The leader's margin mode on a symbol, as last read.
    pub fn margin_mode(&self, symbol: &str) -> MarginMode {
        self.margin_mode
            .get(symbol)
            .copied()
            .unwrap_or(MarginMode::Cross)
    }

    /// Applies one event and returns the signals it carries, in event order. `symbol`
    /// looks up a symbol's assets; events on unknown symbols give no signal.
    pub fn apply(
        &mut self,
        event: &AccountEvent,
        symbol: &dyn Fn(&str) -> Option<Symbol>,
    ) -> Vec<LeaderSignal> {
        let mut out = Vec::new();
        match event {
            AccountEvent::Order(u) => {
                self.last_event_ms = self.last_event_ms.max(u.times.venue);
                // A liquidation of the leader is a fill like any other: it takes the
                // position to zero, so the follower closes at once (not at reconciliation).
                let Some(fill) = u.execution.fill() else {
                    return out;
                };
                let o = &u.order;
                let trade = format!("{}:{}", o.symbol, fill.trade_id);
                let at = u.times.transaction.unwrap_or(u.times.venue);
                if self.covered(at) || self.seen_trades.contains(&trade) {
                    tracing::info!(trade, at, covered_until = self.covered_until_ms, "leader fill already counted (in the snapshot, or delivered twice); not applied again");
                    return out;
                }
                if self.seen_trades.len() >= SEEN_TRADES {
                    self.seen_trades.pop_front();
                }
                self.seen_trades.push_back(trade);
                let key = PositionKey::new(o.symbol.clone(), o.position_side);
                let before = self.positions.get(&key).copied().unwrap_or_default();
                let leverage = self.leverage(&o.symbol).unwrap_or(1);
                let f = LeaderFill {
                    order_id: o.venue_order_id.clone(),
                    side: o.side,
                    qty: fill.quantity,
                    price: fill.price,
                    position_before: before,
                    order_final: o.status == OrderStatus::Filled || o.status.is_final(),
                    leverage,
                    margin_mode: self.margin_mode(&o.symbol),
                    equity_before: Some(self.equity()),
                };
                let after = f.position_after();
                if after.is_zero() {
                    self.positions.remove(&key);
                    self.unrealized.remove(&key);
                    self.entry.remove(&key);
                    if !self.positions.keys().any(|k| k.symbol == o.symbol) {
                        self.flat_since.insert(
                            o.symbol.clone(),
                            u.times.transaction.unwrap_or(u.times.venue),
                        );
                    }
                } else {
                    self.positions.insert(key, after);
                }
                if let Some(sym) = symbol(&o.symbol) {
                    out.push(LeaderSignal {
                        id: format!("fill:{}:{}", o.symbol, fill.trade_id),
                        symbol: sym,
                        position_side: o.position_side,
                        event_time_ms: u.times.transaction.unwrap_or(u.times.venue),
                        kind: SignalKind::Fill(f),
                    });
                }
            }
            AccountEvent::BalancePosition(u) => {
                self.last_event_ms = self.last_event_ms.max(u.times.venue);
                // Older than the snapshot: its balances and positions are in it already.
                if self.covered(u.times.transaction.unwrap_or(u.times.venue)) {
                    return out;
                }
                for b in &u.balances {
                    self.wallet
                        .insert(b.asset.as_str().to_owned(), b.wallet_balance);
                }
                let margin_transfer =
                    !matches!(u.reason, BalanceReason::Order | BalanceReason::FundingFee);
                for p in &u.positions {
                    let key = PositionKey::new(p.symbol.clone(), p.position_side);
                    let sym = symbol(&p.symbol);
                    let old_mode = self.margin_mode(&p.symbol);
                    if p.margin_mode != old_mode {
                        self.margin_mode.insert(p.symbol.clone(), p.margin_mode);
                        if let Some(s) = sym.clone() {
                            out.push(LeaderSignal {
                                id: format!(
                                    "mode:{}:{:?}:{}",
                                    p.symbol, p.position_side, u.times.venue
                                ),
                                symbol: s,
                                position_side: p.position_side,
                                event_time_ms: u.times.venue,
                                kind: SignalKind::MarginModeChange {
                                    margin_mode: p.margin_mode,
                                },
                            });
                        }
                    }
                    let old_iw = self.isolated.get(&key).copied().unwrap_or_default();
                    let old_qty = self.positions.get(&key).copied().unwrap_or_default();
                    if margin_transfer
                        && p.margin_mode == MarginMode::Isolated
                        && p.signed_quantity == old_qty
                        && !p.signed_quantity.is_zero()
                        && p.isolated_margin != old_iw
                    {
                        if let Some(s) = sym {
                            out.push(LeaderSignal {
                                id: format!(
                                    "iw:{}:{:?}:{}",
                                    p.symbol, p.position_side, u.times.venue
                                ),
                                symbol: s,
                                position_side: p.position_side,
                                event_time_ms: u.times.venue,
                                kind: SignalKind::IsolatedMargin {
                                    change: p.isolated_margin - old_iw,
                                    isolated_margin_before: old_iw,
                                },
                            });
                        }
                    }
                    // Order fills already moved the position; other reasons (liquidation,
                    // deleveraging) are only seen here.
                    if u.reason != BalanceReason::Order {
                        if p.signed_quantity.is_zero() {
                            self.positions.remove(&key);
                        } else {
                            self.positions.insert(key.clone(), p.signed_quantity);
                        }
                    }
                    if p.signed_quantity.is_zero() {
                        self.unrealized.remove(&key);
                        self.isolated.remove(&key);
                        self.entry.remove(&key);
                    } else {
                        self.unrealized.insert(key.clone(), p.unrealized_pnl);
                        if let Some(e) = p.entry_price {
                            self.entry.insert(key.clone(), (e.get(), u.times.venue));
                        }
                        self.isolated.insert(key, p.isolated_margin);
                    }
                }
            }
            AccountEvent::Leverage(l) => {
                self.last_event_ms = self.last_event_ms.max(l.times.venue);
                let changed =
                    self.leverage.insert(l.symbol.clone(), l.leverage) != Some(l.leverage);
                if changed {
                    if let Some(s) = symbol(&l.symbol) {
                        let side = match self.position_mode {
                            Some(PositionMode::Hedge) => PositionSide::Long,
                            _ => PositionSide::Both,
                        };
                        out.push(LeaderSignal {
                            id: format!("lev:{}:{}:{}", l.symbol, l.leverage, l.times.venue),
                            symbol: s,
                            position_side: side,
                            event_time_ms: l.times.venue,
                            kind: SignalKind::LeverageChange {
                                leverage: l.leverage,
                            },
                        });
                    }
                }
            }
            AccountEvent::Resynced(r) => self.reset(&r.snapshot),
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Asset;
    use crate::exchange::events::{BalancePositionUpdate, EventTimes, PositionChange};
    use rust_decimal_macros::dec;

    fn btc() -> Option<Symbol> {
        Some(Symbol::new(
            "BTCUSDT",
            Asset::new("BTC").ok()?,
            Asset::new("USDT").ok()?,
        ))
    }

    fn update(reason: BalanceReason, qty: Decimal, iw: Decimal, at: i64) -> AccountEvent {
        AccountEvent::BalancePosition(BalancePositionUpdate {
            times: EventTimes {
                venue: at,
                transaction: None,
                received: at,
                received_us: at * 1000,
            },
            reason,
            balances: Vec::new(),
            positions: vec![PositionChange {
                symbol: "BTCUSDT".into(),
                position_side: PositionSide::Both,
                signed_quantity: qty,
                entry_price: None,
                unrealized_pnl: Decimal::ZERO,
                margin_mode: MarginMode::Isolated,
                isolated_margin: iw,
            }],
        })
    }

    #[test]
    fn an_iw_change_without_an_amount_change_is_a_margin_signal_but_funding_is_not() {
        let mut t = LeaderTracker::default();
        let lookup = |_: &str| btc();
        // The position appears through a liquidation-free update (reason other than order).
        t.apply(
            &update(
                BalanceReason::Other("SETUP".into()),
                dec!(0.1),
                dec!(1000),
                1,
            ),
            &lookup,
        );
        let funding = t.apply(
            &update(BalanceReason::FundingFee, dec!(0.1), dec!(999), 2),
            &lookup,
        );
        assert!(
            funding.is_empty(),
            "funding moves iw but is never synced: {funding:?}"
        );
        let add = t.apply(
            &update(BalanceReason::MarginTransfer, dec!(0.1), dec!(1499), 3),
            &lookup,
        );
        assert_eq!(add.len(), 1, "one margin signal for the add: {add:?}");
        assert_eq!(
            add[0].kind,
            SignalKind::IsolatedMargin {
                change: dec!(500),
                isolated_margin_before: dec!(999),
            },
            "the change and the margin before it (Example D's 500 on top of the wallet)"
        );
    }

    #[test]
    fn a_liquidation_of_the_leader_is_a_fill_that_closes_the_position() {
        use crate::domain::{Price, Quantity, Side};
        use crate::exchange::events::{Execution, Fill, OrderUpdate};
        use crate::exchange::{OrderOrigin, ReportedOrderType};
        let mut t = LeaderTracker::default();
        let lookup = |_: &str| btc();
        t.apply(
            &update(
                BalanceReason::Other("SETUP".into()),
                dec!(0.1),
                dec!(1000),
                1,
            ),
            &lookup,
        );
        let qty = Quantity::new(dec!(0.1)).expect("quantity");
        let liquidation = AccountEvent::Order(OrderUpdate {
            times: EventTimes {
                venue: 2,
                transaction: Some(2),
                received: 2,
                received_us: 2_000,
            },
            execution: Execution::Liquidation(Fill {
                trade_id: "77".into(),
                quantity: qty,
                price: Price::new(dec!(45000)).expect("price"),
                commission: None,
                realized_pnl: dec!(-500),
                maker: false,
            }),
            order: crate::exchange::OrderReport {
                client_id: "autoclose-2".into(),
                venue_order_id: "9".into(),
                symbol: "BTCUSDT".into(),
                side: Side::Sell,
                position_side: PositionSide::Both,
                order_type: ReportedOrderType::Liquidation,
                status: OrderStatus::Filled,
                origin: OrderOrigin::Liquidation,
                price: None,
                quantity: qty,
                filled_quantity: qty,
                average_price: None,
                reduce_only: true,
                updated_at: 2,
            },
        });
        let signals = t.apply(&liquidation, &lookup);
        let [LeaderSignal {
            kind: SignalKind::Fill(f),
            ..
        }] = signals.as_slice()
        else {
            panic!("one fill signal for the liquidation: {signals:?}");
        };
        assert_eq!(
            (f.position_before, f.position_after(), f.order_final),
            (dec!(0.1), Decimal::ZERO, true),
            "the liquidation takes the 0.1 long to flat in one final fill"
        );
        assert!(
            t.positions().is_empty(),
            "the tracker holds no position after the liquidation"
        );
    }

    #[test]
    fn equity_counts_usdt_and_usdc_wallets_and_unrealized_pnl() {
        let mut t = LeaderTracker::default();
        t.wallet.insert("USDT".into(), dec!(9000));
        t.wallet.insert("USDC".into(), dec!(1000));
        t.wallet.insert("BNB".into(), dec!(5));
        t.unrealized
            .insert(PositionKey::new("BTCUSDT", PositionSide::Both), dec!(-50));
        assert_eq!(
            t.equity(),
            dec!(9950),
            "USDT + USDC + unrealized, nothing else"
        );
    }
}
