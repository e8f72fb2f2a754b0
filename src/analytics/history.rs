//! An account's trading history in venue-neutral form, and what is rebuilt from it:
//! trades (one position's life from flat to flat, docs/figures.md), the wallet at any
//! moment (walking back from today's wallet), and equity at a moment valued on a price
//! path. Pure: the caller fetches fills, funding, transfers and prices.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{decimal, PositionSide, Side};

/// One entry of an account's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub time_ms: i64,
    pub kind: HistoryKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HistoryKind {
    /// A fill of one of the account's orders.
    Fill {
        symbol: String,
        position_side: PositionSide,
        side: Side,
        #[serde(with = "decimal")]
        qty: Decimal,
        #[serde(with = "decimal")]
        price: Decimal,
        /// Realized PnL the venue booked for the fill (before commission).
        #[serde(with = "decimal")]
        realized_pnl: Decimal,
        /// Commission paid, positive.
        #[serde(with = "decimal")]
        commission: Decimal,
    },
    /// Funding received (positive) or paid (negative) on a symbol.
    Funding {
        symbol: String,
        #[serde(with = "decimal")]
        amount: Decimal,
    },
    /// Money moved in (positive) or out (negative): deposits, withdrawals, transfers.
    /// Never counted as profit.
    Transfer {
        #[serde(with = "decimal")]
        amount: Decimal,
    },
}

impl HistoryKind {
    /// The change this entry makes to the wallet.
    pub fn wallet_change(&self) -> Decimal {
        match self {
            HistoryKind::Fill {
                realized_pnl,
                commission,
                ..
            } => realized_pnl - commission,
            HistoryKind::Funding { amount, .. } => *amount,
            HistoryKind::Transfer { amount } => *amount,
        }
    }
}

/// An account's history up to `end_ms`, when its wallet held `end_wallet`. Events are
/// sorted by time (ties keep their order); the history must begin while the account is
/// flat, or its first closes read as opens.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountHistory {
    pub events: Vec<HistoryEvent>,
    #[serde(with = "decimal")]
    pub end_wallet: Decimal,
    pub end_ms: i64,
}

/// One position's life on one symbol and side, from flat to flat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    pub symbol: String,
    pub position_side: PositionSide,
    /// True for a long position.
    pub long: bool,
    pub open_ms: i64,
    /// `None` while still open at the end of the history.
    pub close_ms: Option<i64>,
    /// Realized PnL − commission + funding over its life.
    #[serde(with = "decimal")]
    pub net_pnl: Decimal,
    /// Largest notional (quantity × entry price) the position reached.
    #[serde(with = "decimal")]
    pub max_notional: Decimal,
    /// Wallet balance just before the opening fill.
    #[serde(with = "decimal")]
    pub wallet_at_open: Decimal,
}

impl Trade {
    /// Effective leverage: largest notional over the wallet at the open; `None` without
    /// a positive wallet.
    pub fn leverage(&self) -> Option<Decimal> {
        (self.wallet_at_open > Decimal::ZERO).then(|| self.max_notional / self.wallet_at_open)
    }
}

/// An open position while walking a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPosition {
    /// Signed quantity: long positive.
    pub qty: Decimal,
    pub entry: Decimal,
    /// Index into the trade list of the trade this position belongs to.
    trade: usize,
}

/// The state of an account while its history is walked forward.
#[derive(Debug, Clone, Default)]
pub struct Walker {
    pub wallet: Decimal,
    pub positions: BTreeMap<(String, PositionSide), OpenPosition>,
    pub trades: Vec<Trade>,
}

impl Walker {
    /// A walker at the start of `h`: the wallet is today's minus every change since.
    pub fn start(h: &AccountHistory) -> Self {
        let changes: Decimal = h.events.iter().map(|e| e.kind.wallet_change()).sum();
        Walker {
            wallet: h.end_wallet - changes,
            ..Self::default()
        }
    }

    /// Applies one event.
    pub fn apply(&mut self, e: &HistoryEvent) {
        match &e.kind {
            HistoryKind::Fill {
                symbol,
                position_side,
                side,
                qty,
                price,
                realized_pnl,
                commission,
            } => {
                let key = (symbol.clone(), *position_side);
                let signed = match side {
                    Side::Buy => *qty,
                    Side::Sell => -*qty,
                };
                self.fill(key, e.time_ms, signed, *price, realized_pnl - commission);
            }
            HistoryKind::Funding { symbol, amount } => {
                let trade = self
                    .positions
                    .iter()
                    .find(|((s, _), _)| s == symbol)
                    .map(|(_, p)| p.trade);
                if let Some(t) = trade {
                    self.trades[t].net_pnl += amount;
                }
            }
            HistoryKind::Transfer { .. } => {}
        }
        self.wallet += e.kind.wallet_change();
    }

    fn fill(
        &mut self,
        key: (String, PositionSide),
        t: i64,
        signed: Decimal,
        price: Decimal,
        net: Decimal,
    ) {
        let before = self.positions.get(&key).map_or(Decimal::ZERO, |p| p.qty);
        let after = before + signed;
        let same_way = before.is_zero() || (before > Decimal::ZERO) == (signed > Decimal::ZERO);
        if same_way {
            // Open or increase.
            let trade = match self.positions.get(&key) {
                Some(p) => p.trade,
                None => self.new_trade(&key, t, signed > Decimal::ZERO),
            };
            let entry = match self.positions.get(&key) {
                Some(p) => (p.entry * p.qty.abs() + price * signed.abs()) / after.abs(),
                None => price,
            };
            self.trades[trade].net_pnl += net;
            let tr = &mut self.trades[trade];
            tr.max_notional = tr.max_notional.max(after.abs() * entry);
            self.positions.insert(
                key,
                OpenPosition {
                    qty: after,
                    entry,
                    trade,
                },
            );
            return;
        }
        // Reduce, close or flip: the fill's PnL belongs to the trade it ends or reduces.
        let Some(pos) = self.positions.get(&key).cloned() else {
            return;
        };
        self.trades[pos.trade].net_pnl += net;
        if after.is_zero() || (after > Decimal::ZERO) != (before > Decimal::ZERO) {
            self.trades[pos.trade].close_ms = Some(t);
            self.positions.remove(&key);
            if !after.is_zero() {
                let trade = self.new_trade(&key, t, after > Decimal::ZERO);
                self.trades[trade].max_notional = after.abs() * price;
                self.positions.insert(
                    key,
                    OpenPosition {
                        qty: after,
                        entry: price,
                        trade,
                    },
                );
            }
        } else if let Some(p) = self.positions.get_mut(&key) {
            p.qty = after;
        }
    }

    fn new_trade(&mut self, key: &(String, PositionSide), t: i64, long: bool) -> usize {
        self.trades.push(Trade {
            symbol: key.0.clone(),
            position_side: key.1,
            long,
            open_ms: t,
            close_ms: None,
            net_pnl: Decimal::ZERO,
            max_notional: Decimal::ZERO,
            wallet_at_open: self.wallet,
        });
        self.trades.len() - 1
    }

    /// Wallet plus the unrealized PnL of open positions valued by `mark`; a position
    /// whose symbol has no price is valued at its entry (no unrealized PnL).
    pub fn equity(&self, mark: impl Fn(&str) -> Option<Decimal>) -> Decimal {
        self.wallet
            + self
                .positions
                .iter()
                .map(|((sym, _), p)| mark(sym).map_or(Decimal::ZERO, |m| p.qty * (m - p.entry)))
                .sum::<Decimal>()
    }
}

/// Every trade of a history, in order of opening.
pub fn trades(h: &AccountHistory) -> Vec<Trade> {
    let mut w = Walker::start(h);
    for e in &h.events {
        w.apply(e);
    }
    w.trades
}

/// Prices per symbol over time, e.g. kline closes: a symbol's price at `t` is the last
/// point at or before `t`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PricePath {
    points: BTreeMap<String, Vec<(i64, Decimal)>>,
}

impl PricePath {
    /// Adds a symbol's points (any order; sorted here).
    pub fn insert(&mut self, symbol: &str, mut points: Vec<(i64, Decimal)>) {
        points.sort_by_key(|(t, _)| *t);
        self.points.insert(symbol.to_owned(), points);
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Price of `symbol` at `t`: the last point at or before it.
    pub fn at(&self, symbol: &str, t: i64) -> Option<Decimal> {
        let pts = self.points.get(symbol)?;
        let i = pts.partition_point(|(pt, _)| *pt <= t);
        (i > 0).then(|| pts[i - 1].1)
    }

    /// The points of `symbol` in `(from, to]`, oldest first.
    pub fn between(&self, symbol: &str, from: i64, to: i64) -> &[(i64, Decimal)] {
        let Some(pts) = self.points.get(symbol) else {
            return &[];
        };
        let a = pts.partition_point(|(pt, _)| *pt <= from);
        let b = pts.partition_point(|(pt, _)| *pt <= to);
        &pts[a..b]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fill(t: i64, side: Side, qty: Decimal, price: Decimal, pnl: Decimal) -> HistoryEvent {
        HistoryEvent {
            time_ms: t,
            kind: HistoryKind::Fill {
                symbol: "BTCUSDT".into(),
                position_side: PositionSide::Both,
                side,
                qty,
                price,
                realized_pnl: pnl,
                commission: dec!(1),
            },
        }
    }

    #[test]
    fn a_flip_ends_one_trade_and_starts_another() {
        // Long 1 at 100, sell 3 at 110 (closes the long for +10, opens a short of 2),
        // buy 2 at 105 (closes the short for +10).
        let h = AccountHistory {
            events: vec![
                fill(1, Side::Buy, dec!(1), dec!(100), dec!(0)),
                fill(2, Side::Sell, dec!(3), dec!(110), dec!(10)),
                fill(3, Side::Buy, dec!(2), dec!(105), dec!(10)),
            ],
            end_wallet: dec!(1017),
            end_ms: 4,
        };
        let t = trades(&h);
        assert_eq!(t.len(), 2, "the flip makes two trades");
        assert!(t[0].long && !t[1].long, "long, then short");
        assert_eq!(
            (t[0].open_ms, t[0].close_ms),
            (1, Some(2)),
            "first trade times"
        );
        assert_eq!(t[0].net_pnl, dec!(8), "10 realized − 1 + 1 commission");
        assert_eq!(t[1].net_pnl, dec!(9), "10 realized − 1 commission");
        assert_eq!(t[1].max_notional, dec!(220), "short of 2 at 110");
        assert_eq!(
            t[0].wallet_at_open,
            dec!(1000),
            "wallet walked back from 1017"
        );
    }

    #[test]
    fn partial_closes_and_increases_belong_to_one_trade_and_funding_to_it() {
        let mut events = vec![
            fill(1, Side::Buy, dec!(1), dec!(100), dec!(0)),
            fill(2, Side::Buy, dec!(1), dec!(120), dec!(0)),
            fill(3, Side::Sell, dec!(1), dec!(120), dec!(10)),
        ];
        events.push(HistoryEvent {
            time_ms: 4,
            kind: HistoryKind::Funding {
                symbol: "BTCUSDT".into(),
                amount: dec!(-2),
            },
        });
        events.push(fill(5, Side::Sell, dec!(1), dec!(130), dec!(20)));
        let h = AccountHistory {
            events,
            end_wallet: dec!(1024),
            end_ms: 6,
        };
        let t = trades(&h);
        assert_eq!(t.len(), 1, "one life from flat to flat");
        assert_eq!(
            t[0].net_pnl,
            dec!(24),
            "30 realized − 4 commission − 2 funding"
        );
        assert_eq!(t[0].max_notional, dec!(220), "2 at an average entry of 110");
        assert_eq!(t[0].close_ms, Some(5), "closed by the last fill");
    }

    #[test]
    fn price_path_takes_the_last_point_at_or_before() {
        let mut p = PricePath::default();
        p.insert("X", vec![(20, dec!(2)), (10, dec!(1))]);
        assert_eq!(p.at("X", 9), None, "nothing before the first point");
        assert_eq!(p.at("X", 10), Some(dec!(1)), "at a point");
        assert_eq!(p.at("X", 19), Some(dec!(1)), "between points");
        assert_eq!(p.at("X", 99), Some(dec!(2)), "after the last");
        assert_eq!(p.between("X", 10, 20).len(), 1, "half-open range");
    }
}
