//! A leader's (or a copy's) figures over the last 7, 30 and 90 days, computed from its
//! history and a price path: PnL, time-weighted ROI, Sharpe and Sortino of daily returns,
//! max drawdown, win rate, average hold time, average and max effective leverage, trades
//! per day, share of the most traded symbol, and the daily equity curve. Definitions are
//! in docs/figures.md next to copy-rules.md section 7. Money moved in or out (transfers)
//! never counts as profit.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, MathematicalOps};
use serde::{Deserialize, Serialize};

use crate::domain::decimal;
use crate::engine::figures::{max_drawdown, Drawdown};

use super::history::{AccountHistory, PricePath, Trade, Walker};

const DAY_MS: i64 = 86_400_000;

/// The windows the app shows, in days.
pub const WINDOWS: [u32; 3] = [7, 30, 90];

/// One point of the daily equity curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EquityPoint {
    pub ts_ms: i64,
    /// Equity (wallet + unrealized PnL at the path's price) less the money moved in or
    /// out since the curve's first point.
    #[serde(with = "decimal")]
    pub value: Decimal,
}

/// The most traded symbol of a window and its share of the window's trades.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopSymbol {
    pub symbol: String,
    #[serde(with = "decimal")]
    pub share_pct: Decimal,
}

/// Figures over one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub days: u32,
    /// Equity change less money moved in or out.
    #[serde(with = "decimal")]
    pub pnl: Decimal,
    /// Time-weighted: the product of (1 + daily return) − 1, in percent; `None` when no
    /// day started with positive equity.
    #[serde(with = "decimal::option")]
    pub roi_pct: Option<Decimal>,
    #[serde(with = "decimal::option")]
    pub sharpe: Option<Decimal>,
    #[serde(with = "decimal::option")]
    pub sortino: Option<Decimal>,
    pub max_drawdown: Drawdown,
    /// Closed trades with net PnL > 0 over closed trades, percent.
    #[serde(with = "decimal::option")]
    pub win_rate_pct: Option<Decimal>,
    /// Trades closed in the window.
    pub trades: usize,
    pub avg_hold_ms: Option<i64>,
    #[serde(with = "decimal::option")]
    pub avg_leverage: Option<Decimal>,
    #[serde(with = "decimal::option")]
    pub max_leverage: Option<Decimal>,
    #[serde(with = "decimal")]
    pub trades_per_day: Decimal,
    pub top_symbol: Option<TopSymbol>,
}

/// Figures for every window and the 90-day equity curve (one point a day, ending at the
/// history's end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub figures: Vec<Figures>,
    pub equity_curve: Vec<EquityPoint>,
    /// Every trade of the history, oldest first.
    pub trades: Vec<Trade>,
}

fn mean(xs: &[Decimal]) -> Option<Decimal> {
    (!xs.is_empty()).then(|| xs.iter().sum::<Decimal>() / Decimal::from(xs.len()))
}

fn annualise(ratio: Decimal) -> Option<Decimal> {
    Decimal::from(365).sqrt().map(|s| ratio * s)
}

/// Mean of daily returns over their sample standard deviation, × √365 (copy-rules §7,
/// risk-free rate 0); `None` with fewer than two returns or no variation.
pub fn sharpe(returns: &[Decimal]) -> Option<Decimal> {
    if returns.len() < 2 {
        return None;
    }
    let m = mean(returns)?;
    let n1 = Decimal::from(returns.len() - 1);
    let var = returns.iter().map(|r| (r - m) * (r - m)).sum::<Decimal>() / n1;
    let sd = var.sqrt()?;
    if sd.is_zero() {
        return None;
    }
    annualise(m / sd)
}

/// Like [`sharpe`], over the downside deviation: the root of the summed squared negative
/// returns over n − 1 (the same sample convention); `None` without a losing day.
pub fn sortino(returns: &[Decimal]) -> Option<Decimal> {
    if returns.len() < 2 {
        return None;
    }
    let m = mean(returns)?;
    let n1 = Decimal::from(returns.len() - 1);
    let down = returns
        .iter()
        .map(|r| r.min(&Decimal::ZERO))
        .map(|r| r * r)
        .sum::<Decimal>()
        / n1;
    let dd = down.sqrt()?;
    if dd.is_zero() {
        return None;
    }
    annualise(m / dd)
}

/// Daily samples: equity and the flows since the previous sample.
struct Sample {
    ts: i64,
    equity: Decimal,
    flows: Decimal,
}

/// Walks the history once, sampling equity at `end − (n − k) days` for k = 0..=n.
fn sample(h: &AccountHistory, prices: &PricePath, n: u32) -> (Vec<Sample>, Vec<Trade>) {
    let mut w = Walker::start(h);
    let mut events = h.events.iter().peekable();
    let mut out = Vec::with_capacity(n as usize + 1);
    for k in 0..=i64::from(n) {
        let ts = h.end_ms - (i64::from(n) - k) * DAY_MS;
        let mut flows = Decimal::ZERO;
        while let Some(e) = events.next_if(|e| e.time_ms <= ts) {
            if let super::history::HistoryKind::Transfer { amount } = &e.kind {
                flows += amount;
            }
            w.apply(e);
        }
        let equity = w.equity(|s| prices.at(s, ts));
        out.push(Sample { ts, equity, flows });
    }
    for e in events {
        w.apply(e);
    }
    (out, w.trades)
}

/// Figures over the last `days` of `samples` (the sample before the window is its start).
fn window(samples: &[Sample], trades: &[Trade], days: u32) -> Figures {
    let keep = (days as usize + 1).min(samples.len());
    let s = &samples[samples.len() - keep..];
    let mut returns = Vec::with_capacity(s.len());
    let mut growth = Decimal::ONE;
    let mut any_base = false;
    let mut flows = Decimal::ZERO;
    let mut adjusted = Vec::with_capacity(s.len());
    if let Some(first) = s.first() {
        adjusted.push(first.equity);
    }
    for pair in s.windows(2) {
        let (prev, cur) = (&pair[0], &pair[1]);
        flows += cur.flows;
        adjusted.push(cur.equity - flows);
        // Flows count as if moved at the start of the day they happened.
        let base = prev.equity + cur.flows;
        if base > Decimal::ZERO {
            let r = (cur.equity - base) / base;
            returns.push(r);
            growth *= Decimal::ONE + r;
            any_base = true;
        }
    }
    let pnl = match (s.first(), s.last()) {
        (Some(a), Some(b)) => b.equity - a.equity - flows,
        _ => Decimal::ZERO,
    };
    let from = s.first().map_or(i64::MIN, |p| p.ts);
    let to = s.last().map_or(i64::MAX, |p| p.ts);
    let closed: Vec<&Trade> = trades
        .iter()
        .filter(|t| t.close_ms.is_some_and(|c| c > from && c <= to))
        .collect();
    let n = closed.len();
    let wins = closed.iter().filter(|t| t.net_pnl > Decimal::ZERO).count();
    let holds: i64 = closed
        .iter()
        .map(|t| t.close_ms.unwrap_or(t.open_ms) - t.open_ms)
        .sum();
    let levs: Vec<Decimal> = closed.iter().filter_map(|t| t.leverage()).collect();
    let mut per_symbol: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &closed {
        *per_symbol.entry(t.symbol.as_str()).or_default() += 1;
    }
    // Most trades first; a tie goes to the alphabetically first symbol.
    let top = per_symbol
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(sym, c)| TopSymbol {
            symbol: (*sym).to_owned(),
            share_pct: Decimal::from(*c) / Decimal::from(n) * Decimal::ONE_HUNDRED,
        });
    Figures {
        days,
        pnl,
        roi_pct: any_base.then(|| (growth - Decimal::ONE) * Decimal::ONE_HUNDRED),
        sharpe: sharpe(&returns),
        sortino: sortino(&returns),
        max_drawdown: max_drawdown(&adjusted),
        win_rate_pct: (n > 0)
            .then(|| Decimal::from(wins) / Decimal::from(n) * Decimal::ONE_HUNDRED),
        trades: n,
        avg_hold_ms: (n > 0).then(|| holds / n as i64),
        avg_leverage: (!levs.is_empty())
            .then(|| levs.iter().sum::<Decimal>() / Decimal::from(levs.len())),
        max_leverage: levs.iter().max().copied(),
        trades_per_day: Decimal::from(n) / Decimal::from(days.max(1)),
        top_symbol: top,
    }
}

/// Figures for 7, 30 and 90 days and the 90-day daily equity curve. Positions are valued
/// on `prices` (a symbol without a price is valued at its entry).
pub fn report(h: &AccountHistory, prices: &PricePath) -> Report {
    let longest = WINDOWS[WINDOWS.len() - 1];
    let (samples, trades) = sample(h, prices, longest);
    let figures = WINDOWS
        .iter()
        .map(|d| window(&samples, &trades, *d))
        .collect();
    let mut flows = Decimal::ZERO;
    let equity_curve = samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i > 0 {
                flows += s.flows;
            }
            EquityPoint {
                ts_ms: s.ts,
                value: s.equity - flows,
            }
        })
        .collect();
    Report {
        figures,
        equity_curve,
        trades,
    }
}

#[cfg(test)]
mod tests {
    use super::super::history::{HistoryEvent, HistoryKind};
    use super::*;
    use crate::domain::{PositionSide, Side};
    use rust_decimal_macros::dec;

    #[test]
    fn sharpe_is_mean_over_sample_sd_times_root_365() {
        // Returns 1 %, 3 %: mean 2 %, sample sd √0.0002 ≈ 0.014142; 2/1.4142 × 19.105 ≈ 27.02.
        let s = sharpe(&[dec!(0.01), dec!(0.03)]).expect("defined");
        assert_eq!(s.round_dp(2), dec!(27.02), "Sharpe of 1 % and 3 % days");
        assert_eq!(sharpe(&[dec!(0.01)]), None, "one return has no deviation");
        assert_eq!(
            sharpe(&[dec!(0.01), dec!(0.01)]),
            None,
            "no variation, no ratio"
        );
    }

    #[test]
    fn sortino_uses_only_the_downside() {
        // Returns 3 %, −1 %: mean 1 %, downside √(0.0001 / 1) = 1 % → 1 × √365 ≈ 19.10.
        let s = sortino(&[dec!(0.03), dec!(-0.01)]).expect("defined");
        assert_eq!(s.round_dp(2), dec!(19.10), "Sortino of 3 % and −1 % days");
        assert_eq!(
            sortino(&[dec!(0.01), dec!(0.02)]),
            None,
            "no losing day, no downside"
        );
    }

    const END: i64 = 100 * DAY_MS;
    const H: i64 = 3_600_000;

    #[allow(clippy::too_many_arguments)]
    fn fill(
        t: i64,
        sym: &str,
        side: Side,
        qty: Decimal,
        price: Decimal,
        pnl: Decimal,
        fee: Decimal,
    ) -> HistoryEvent {
        HistoryEvent {
            time_ms: t,
            kind: HistoryKind::Fill {
                symbol: sym.into(),
                position_side: PositionSide::Both,
                side,
                qty,
                price,
                realized_pnl: pnl,
                commission: fee,
            },
        }
    }

    fn fig(r: &Report, days: u32) -> &Figures {
        r.figures
            .iter()
            .find(|f| f.days == days)
            .expect("window present")
    }

    #[test]
    fn an_empty_history_has_no_ratios_and_a_flat_curve() {
        let h = AccountHistory {
            events: vec![],
            end_wallet: dec!(1000),
            end_ms: END,
        };
        let r = report(&h, &PricePath::default());
        assert_eq!(
            r.equity_curve.len(),
            91,
            "one point a day for 90 days plus the start"
        );
        assert!(
            r.equity_curve.iter().all(|p| p.value == dec!(1000)),
            "flat at the wallet"
        );
        for f in &r.figures {
            assert_eq!(f.pnl, dec!(0), "no PnL over {} days", f.days);
            assert_eq!(f.roi_pct, Some(dec!(0)), "ROI 0 % over {} days", f.days);
            assert_eq!(
                (f.sharpe, f.sortino),
                (None, None),
                "no variation, no ratios"
            );
            assert_eq!(f.max_drawdown.amount, dec!(0), "no drawdown");
            assert_eq!(f.win_rate_pct, None, "no closed trade, no win rate");
            assert_eq!(
                (f.trades, f.avg_hold_ms, f.avg_leverage),
                (0, None, None),
                "no trades"
            );
            assert_eq!(f.trades_per_day, dec!(0), "no trades a day");
            assert_eq!(f.top_symbol, None, "no symbol");
        }
    }

    #[test]
    fn one_winning_trade_valued_on_the_price_path() {
        // Wallet 1000. Buy 1 at 100 at end − 5 d + 1 h, sell at 110 at end − 3 d + 1 h,
        // 0.05 commission each way; the path has 105 from end − 4 d.
        let h = AccountHistory {
            events: vec![
                fill(
                    END - 5 * DAY_MS + H,
                    "BTCUSDT",
                    Side::Buy,
                    dec!(1),
                    dec!(100),
                    dec!(0),
                    dec!(0.05),
                ),
                fill(
                    END - 3 * DAY_MS + H,
                    "BTCUSDT",
                    Side::Sell,
                    dec!(1),
                    dec!(110),
                    dec!(10),
                    dec!(0.05),
                ),
            ],
            end_wallet: dec!(1009.9),
            end_ms: END,
        };
        let mut prices = PricePath::default();
        prices.insert("BTCUSDT", vec![(END - 4 * DAY_MS, dec!(105))]);
        let r = report(&h, &prices);
        let f = fig(&r, 7);
        // Curve: 1000 ×3, 1004.95 (999.95 + 5 unrealized) ×2, 1009.9 ×3.
        let tail: Vec<Decimal> = r.equity_curve[83..].iter().map(|p| p.value).collect();
        assert_eq!(
            tail,
            vec![
                dec!(1000),
                dec!(1000),
                dec!(1000),
                dec!(1004.95),
                dec!(1004.95),
                dec!(1009.9),
                dec!(1009.9),
                dec!(1009.9)
            ],
            "7-day curve with the open position valued at 105"
        );
        assert_eq!(f.pnl, dec!(9.9), "10 realized − 0.10 commission");
        assert_eq!(
            f.roi_pct.map(|x| x.round_dp(8)),
            Some(dec!(0.99)),
            "9.9 / 1000"
        );
        // Returns 0, 0, 0.00495, 0, 4.95/1004.95, 0, 0: mean / sample sd × √365 = 11.1867
        // (hand-computed with 40 digits).
        assert_eq!(
            f.sharpe.map(|x| x.round_dp(4)),
            Some(dec!(11.1867)),
            "Sharpe"
        );
        assert_eq!(f.sortino, None, "no losing day");
        assert_eq!(f.max_drawdown.amount, dec!(0), "never below a peak");
        assert_eq!(f.win_rate_pct, Some(dec!(100)), "the one trade won");
        assert_eq!(f.trades, 1, "one trade");
        assert_eq!(f.avg_hold_ms, Some(2 * DAY_MS), "held two days");
        assert_eq!(f.avg_leverage, Some(dec!(0.1)), "100 notional on 1000");
        assert_eq!(f.max_leverage, Some(dec!(0.1)), "the only trade's leverage");
        assert_eq!(
            f.trades_per_day.round_dp(4),
            dec!(0.1429),
            "1 trade / 7 days"
        );
        assert_eq!(
            f.top_symbol,
            Some(TopSymbol {
                symbol: "BTCUSDT".into(),
                share_pct: dec!(100)
            }),
            "all on BTCUSDT"
        );
        assert_eq!(fig(&r, 90).pnl, dec!(9.9), "the 90-day window holds it too");
    }

    #[test]
    fn a_losing_leader_with_a_deposit_that_is_not_profit() {
        // Wallet 1000. Short 1 ETH at 100 (end − 6 d + 1 h), closed at 110 (end − 5 d + 1 h)
        // for −10; +500 deposited at end − 4 d + 1 h; long 2 SOL at 50 (end − 3 d + 1 h),
        // −1 funding, closed at 45 (end − 2 d + 1 h) for −10. End wallet 1479.
        let h = AccountHistory {
            events: vec![
                fill(
                    END - 6 * DAY_MS + H,
                    "ETHUSDT",
                    Side::Sell,
                    dec!(1),
                    dec!(100),
                    dec!(0),
                    dec!(0),
                ),
                fill(
                    END - 5 * DAY_MS + H,
                    "ETHUSDT",
                    Side::Buy,
                    dec!(1),
                    dec!(110),
                    dec!(-10),
                    dec!(0),
                ),
                HistoryEvent {
                    time_ms: END - 4 * DAY_MS + H,
                    kind: HistoryKind::Transfer { amount: dec!(500) },
                },
                fill(
                    END - 3 * DAY_MS + H,
                    "SOLUSDT",
                    Side::Buy,
                    dec!(2),
                    dec!(50),
                    dec!(0),
                    dec!(0),
                ),
                HistoryEvent {
                    time_ms: END - 3 * DAY_MS + 2 * H,
                    kind: HistoryKind::Funding {
                        symbol: "SOLUSDT".into(),
                        amount: dec!(-1),
                    },
                },
                fill(
                    END - 2 * DAY_MS + H,
                    "SOLUSDT",
                    Side::Sell,
                    dec!(2),
                    dec!(45),
                    dec!(-10),
                    dec!(0),
                ),
            ],
            end_wallet: dec!(1479),
            end_ms: END,
        };
        let r = report(&h, &PricePath::default());
        let f = fig(&r, 7);
        assert_eq!(f.pnl, dec!(-21), "1479 − 1000 − 500 deposited");
        // Time-weighted: 0.99 × 1489/1490 × 1479/1489 − 1 = −1.73087…%.
        assert_eq!(
            f.roi_pct.map(|x| x.round_dp(4)),
            Some(dec!(-1.7309)),
            "time-weighted ROI"
        );
        // Curve net of the deposit: 1000, 1000, 1000, 990, 990, 989, 979, 979.
        assert_eq!(f.max_drawdown.amount, dec!(21), "from 1000 down to 979");
        assert_eq!(f.max_drawdown.pct, dec!(2.1), "21 of 1000");
        // Returns 0, 0, −0.01, 0, −1/1490, −10/1489, 0 (hand-computed with 30 digits):
        // Sharpe −11.4887, Sortino −9.6347.
        assert_eq!(
            f.sharpe.map(|x| x.round_dp(4)),
            Some(dec!(-11.4887)),
            "Sharpe"
        );
        assert_eq!(
            f.sortino.map(|x| x.round_dp(4)),
            Some(dec!(-9.6347)),
            "Sortino"
        );
        assert_eq!(f.win_rate_pct, Some(dec!(0)), "both trades lost");
        assert_eq!(f.trades, 2, "two trades");
        assert_eq!(f.avg_hold_ms, Some(DAY_MS), "each held a day");
        assert_eq!(
            f.max_leverage,
            Some(dec!(0.1)),
            "100 ETH notional on a 1000 wallet"
        );
        assert_eq!(
            f.avg_leverage.map(|x| x.round_dp(6)),
            Some(dec!(0.083557)),
            "mean of 0.1 and 100 SOL notional on the 1490 wallet after the deposit"
        );
        assert_eq!(
            f.top_symbol,
            Some(TopSymbol {
                symbol: "ETHUSDT".into(),
                share_pct: dec!(50)
            }),
            "a tie goes to the first symbol"
        );
        assert_eq!(
            r.trades[1].net_pnl,
            dec!(-11),
            "the funding belongs to the SOL trade"
        );
    }
}
