//! What the facade and the CLI call for the leader step: public lead portfolios listed with
//! their figures, one portfolio described (copyable or not and why, equity curve, open
//! positions), and a what-if replay of copying one with the user's settings. Reads through
//! [`PortfolioClient`] (one base URL for the portfolio pages and the market data) and hands
//! the numbers to `analytics`; formats nothing.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::analytics::figures::EquityPoint;
use crate::analytics::history::PricePath;
use crate::analytics::replay::{replay, LeaderOrder, ReplayInput, ReplayMarket, ReplayReport};
use crate::domain::{decimal, CopySettings, PositionMode, PositionSide};
use crate::exchange::lead_portfolio::{PortfolioClient, PortfolioPosition, SourceError};

use super::leader_poll::{poll_interval, DEFAULT_PER_MINUTE};

const DAY_MS: i64 = 86_400_000;
/// The venue's standard taker fee, used by the replay (a user's own tier may be lower).
pub const TAKER_FEE: Decimal = Decimal::from_parts(5, 0, 0, false, 4);

/// Figures of one window as the source publishes them (percent values: 25.5 = 25.5 %).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowFigures {
    pub days: u32,
    #[serde(with = "decimal::option")]
    pub roi_pct: Option<Decimal>,
    #[serde(with = "decimal::option")]
    pub pnl: Option<Decimal>,
    #[serde(with = "decimal::option")]
    pub max_drawdown_pct: Option<Decimal>,
    #[serde(with = "decimal::option")]
    pub sharpe: Option<Decimal>,
    #[serde(with = "decimal::option")]
    pub sortino: Option<Decimal>,
    #[serde(with = "decimal::option")]
    pub win_rate_pct: Option<Decimal>,
    pub trades: Option<u64>,
}

/// One public lead portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortfolioLeader {
    pub id: String,
    pub name: String,
    /// 7, 30 and 90 days.
    pub figures: Vec<WindowFigures>,
    /// `None` until the detail is read (the list may not say).
    pub copyable: Option<bool>,
    pub not_copyable_reason: Option<String>,
    /// The copy delay polling implies, e.g. "~4 s, polled".
    pub expected_delay: String,
    #[serde(with = "decimal::option")]
    pub equity: Option<Decimal>,
    pub followers: Option<u64>,
    #[serde(with = "decimal::option")]
    pub aum: Option<Decimal>,
}

/// One portfolio with its curve and open positions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortfolioLeaderDetail {
    pub leader: PortfolioLeader,
    /// Cumulative PnL over 90 days, one point a day.
    pub equity_curve: Vec<EquityPoint>,
    pub positions: Vec<OpenPosition>,
}

/// An open position of the leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenPosition {
    pub symbol: String,
    pub position_side: PositionSide,
    /// Signed: long positive.
    #[serde(with = "decimal")]
    pub qty: Decimal,
    #[serde(with = "decimal")]
    pub entry_price: Decimal,
    pub leverage: u32,
    pub isolated: bool,
}

/// Why a leader read or replay failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeadersError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{0}")]
    Input(String),
}

/// The delay a polled source implies when `followed` public portfolios share the budget.
pub fn expected_delay(followed: usize) -> String {
    super::leader_source::polled_delay(DEFAULT_PER_MINUTE, followed).1
}

const RANGES: [(u32, &str); 3] = [(7, "7D"), (30, "30D"), (90, "90D")];

/// Public portfolios with their published 7/30/90-day figures (three list reads).
/// `followed` is how many public portfolios are already followed (for the delay shown).
pub async fn list_portfolios(
    client: &PortfolioClient,
    followed: usize,
) -> Result<Vec<PortfolioLeader>, LeadersError> {
    let mut by_id: BTreeMap<String, PortfolioLeader> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (days, range) in RANGES {
        for s in client.list(range, 100).await? {
            let entry = by_id.entry(s.id.clone()).or_insert_with(|| {
                order.push(s.id.clone());
                PortfolioLeader {
                    id: s.id.clone(),
                    name: s.nickname.clone(),
                    figures: Vec::new(),
                    copyable: s.position_show,
                    not_copyable_reason: (s.position_show == Some(false))
                        .then(|| "this portfolio hides its positions".to_owned()),
                    expected_delay: expected_delay(followed + 1),
                    equity: None,
                    followers: s.followers,
                    aum: s.aum,
                }
            });
            entry.figures.push(WindowFigures {
                days,
                roi_pct: s.roi_pct,
                pnl: s.pnl,
                max_drawdown_pct: s.mdd_pct,
                sharpe: s.sharpe,
                sortino: None,
                win_rate_pct: s.win_rate_pct,
                trades: s.trades,
            });
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .collect())
}

/// One portfolio: detail, figures per range, the 90-day PnL curve and open positions
/// (six reads; positions only when shown).
pub async fn portfolio_detail(
    client: &PortfolioClient,
    id: &str,
    followed: usize,
) -> Result<PortfolioLeaderDetail, LeadersError> {
    let d = client.detail(id).await?;
    let mut figures = Vec::new();
    for (days, range) in RANGES {
        let p = client.performance(id, range).await?;
        figures.push(WindowFigures {
            days,
            roi_pct: p.roi_pct,
            pnl: p.pnl,
            max_drawdown_pct: p.mdd_pct,
            sharpe: p.sharpe,
            sortino: p.sortino,
            win_rate_pct: p.win_rate_pct,
            trades: p.trades,
        });
    }
    let curve = client
        .pnl_chart(id, "90D")
        .await?
        .into_iter()
        .map(|(ts_ms, value)| EquityPoint { ts_ms, value })
        .collect();
    let positions = if d.position_show {
        client
            .positions(id)
            .await?
            .into_iter()
            .filter(|p| !p.amount.is_zero())
            .map(|p| OpenPosition {
                symbol: p.symbol,
                position_side: p.position_side,
                qty: p.amount,
                entry_price: p.entry_price,
                leverage: p.leverage,
                isolated: p.isolated,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(PortfolioLeaderDetail {
        leader: PortfolioLeader {
            id: id.to_owned(),
            name: d.nickname.clone(),
            figures,
            copyable: Some(d.position_show),
            not_copyable_reason: (!d.position_show)
                .then(|| "this portfolio hides its positions, so they cannot be copied".to_owned()),
            expected_delay: expected_delay(followed + 1),
            equity: d.margin_balance,
            followers: None,
            aum: None,
        },
        equity_curve: curve,
        positions,
    })
}

/// What a replay of a public portfolio needs besides the settings.
#[derive(Debug, Clone)]
pub struct ReplayRequest {
    pub portfolio_id: String,
    pub settings: CopySettings,
    /// The follower's USDT at the start; `None`: the settings' investment.
    pub follower_wallet: Option<Decimal>,
    pub days: u32,
    pub now_ms: i64,
    /// Public portfolios already followed (the polling delay grows with them).
    pub followed: usize,
    /// Kline interval of the price path, e.g. `5m` (`1m` for short periods).
    pub kline_interval: String,
    /// Adverse move on every follower fill, basis points (spread and impact; 1 is typical
    /// on the majors).
    pub slippage_bps: Decimal,
}

/// Replays copying a public portfolio over the last `days`: its order history, the leader's
/// current leverage per symbol, its margin balance walked back over the period's realized
/// PnL, klines of every symbol it traded (closes at their close times), the venue's rules and taker fee, and the
/// polling delay as the copy delay.
pub async fn replay_portfolio(
    client: &PortfolioClient,
    req: &ReplayRequest,
) -> Result<ReplayReport, LeadersError> {
    if !(1..=90).contains(&req.days) {
        return Err(LeadersError::Input(format!(
            "days must be between 1 and 90 (got {}); the order history reaches 90 days back",
            req.days
        )));
    }
    let wallet = req
        .follower_wallet
        .or(req.settings.investment)
        .filter(|w| *w > Decimal::ZERO)
        .ok_or_else(|| {
            LeadersError::Input(
                "the replay needs the follower's funds: set an investment in the settings".into(),
            )
        })?;
    let start = req.now_ms - i64::from(req.days) * DAY_MS;
    let id = &req.portfolio_id;
    let detail = client.detail(id).await?;
    let orders = client.order_history(id, start, req.now_ms).await?;
    let rows: Vec<PortfolioPosition> = if detail.position_show {
        client.positions(id).await?
    } else {
        Vec::new()
    };
    let leverage: BTreeMap<String, u32> = rows
        .iter()
        .map(|p| (p.symbol.clone(), p.leverage))
        .collect();
    let realized: Decimal = orders.iter().map(|o| o.realized_pnl).sum();
    let leader_equity_start = detail.margin_balance.map(|e| e - realized);
    let rules = client.symbol_rules().await?;
    let mut symbols: Vec<&str> = orders.iter().map(|o| o.symbol.as_str()).collect();
    symbols.sort_unstable();
    symbols.dedup();
    let mut markets = BTreeMap::new();
    let mut prices = PricePath::default();
    for s in &symbols {
        if let Some(r) = rules.iter().find(|r| r.symbol.name == *s) {
            markets.insert(
                (*s).to_owned(),
                ReplayMarket {
                    symbol: r.symbol.clone(),
                    filters: r.filters.clone(),
                },
            );
        }
        let closes = client
            .kline_closes(s, &req.kline_interval, start, req.now_ms)
            .await?;
        prices.insert(s, closes.iter().map(|k| (k.close_ms, k.close)).collect());
    }
    let delay_ms = poll_interval(DEFAULT_PER_MINUTE, req.followed + 1).as_millis() as i64;
    let input = ReplayInput {
        copy_id: format!("replay:{id}"),
        settings: req.settings.clone(),
        follower_wallet: wallet,
        follower_mode: PositionMode::OneWay,
        orders: orders
            .into_iter()
            .map(|o| LeaderOrder {
                id: o.id,
                time_ms: o.time_ms,
                symbol: o.symbol,
                side: o.side,
                position_side: o.position_side,
                qty: o.qty,
                price: o.avg_price,
                reduce_only: o.reduce_only,
                realized_pnl: o.realized_pnl,
            })
            .collect(),
        leader_equity_start,
        leader_leverage: leverage,
        default_leverage: 20,
        markets,
        prices,
        taker_fee: TAKER_FEE,
        slippage_bps: req.slippage_bps,
        delay_ms,
        start_ms: start,
        end_ms: req.now_ms,
    };
    Ok(replay(&input))
}

/// The window one `userTrades` read may span on Binance.
const TRADE_WINDOW_MS: i64 = 7 * DAY_MS;

/// An account leader's history over the last `days` for `symbols`, read through the port:
/// `userTrades` per symbol in 7-day windows (paged by trade id within a window), funding and
/// transfers from the income history, and today's USDT + USDC wallet. Feed it to
/// `analytics::figures::report`. Runs on whatever limiter the adapter shares; call it off
/// the copy's path (it is never needed to copy).
pub async fn account_history(
    ex: &dyn crate::exchange::Exchange,
    symbols: &[String],
    days: u32,
    now_ms: i64,
) -> Result<crate::analytics::history::AccountHistory, crate::exchange::ExchangeError> {
    use crate::analytics::history::{AccountHistory, HistoryEvent, HistoryKind};
    use crate::exchange::{IncomeKind, IncomeQuery, TradeQuery};

    let start = now_ms - i64::from(days) * DAY_MS;
    let pooled = |a: &str| a == "USDT" || a == "USDC";
    let mut events = Vec::new();
    for sym in symbols {
        let mut from = start;
        while from < now_ms {
            let to = (from + TRADE_WINDOW_MS - 1).min(now_ms);
            let mut q = TradeQuery {
                symbol: sym.clone(),
                start: Some(from),
                end: Some(to),
                from_id: None,
                limit: Some(1000),
            };
            loop {
                let page = ex.user_trades(&q).await?;
                let full = page.len() >= 1000;
                let last_id = page.last().and_then(|t| t.trade_id.parse::<u64>().ok());
                for t in page.into_iter().filter(|t| t.time >= from && t.time <= to) {
                    if !pooled(t.commission.asset.as_str()) {
                        continue;
                    }
                    events.push(HistoryEvent {
                        time_ms: t.time,
                        kind: HistoryKind::Fill {
                            symbol: t.symbol,
                            position_side: t.position_side,
                            side: t.side,
                            qty: t.quantity.get(),
                            price: t.price.get(),
                            realized_pnl: t.realized_pnl,
                            commission: t.commission.amount.abs(),
                        },
                    });
                }
                match (full, last_id) {
                    // Paging by id reads on past the window's end; the filter above drops it.
                    (true, Some(id)) => {
                        q.from_id = Some(id + 1);
                        q.start = None;
                        q.end = None;
                    }
                    _ => break,
                }
            }
            from = to + 1;
        }
    }
    for kind in [IncomeKind::FundingFee, IncomeKind::Transfer] {
        let mut from = start;
        loop {
            let page = ex
                .income(&IncomeQuery {
                    symbol: None,
                    kind: Some(kind.clone()),
                    start: Some(from),
                    end: Some(now_ms),
                    limit: Some(1000),
                })
                .await?;
            let full = page.len() >= 1000;
            let last = page.last().map(|r| r.time);
            for r in page {
                if !pooled(r.amount.asset.as_str()) {
                    continue;
                }
                let k = match r.kind {
                    IncomeKind::Transfer => HistoryKind::Transfer {
                        amount: r.amount.amount,
                    },
                    _ => HistoryKind::Funding {
                        symbol: r.symbol.unwrap_or_default(),
                        amount: r.amount.amount,
                    },
                };
                events.push(HistoryEvent {
                    time_ms: r.time,
                    kind: k,
                });
            }
            match (full, last) {
                (true, Some(t)) if t + 1 > from => from = t + 1,
                _ => break,
            }
        }
    }
    events.sort_by_key(|e| e.time_ms);
    let snap = ex.account().await?;
    let end_wallet = snap
        .balances
        .iter()
        .filter(|b| pooled(b.asset.as_str()))
        .map(|b| b.wallet_balance)
        .sum();
    Ok(AccountHistory {
        events,
        end_wallet,
        end_ms: now_ms,
    })
}

/// The symbols an account traded over the last `days` (every fill books a commission in
/// its income history) and those it holds now: what [`account_history`] reads trades for,
/// since the venue's trade list needs a symbol.
pub async fn traded_symbols(
    ex: &dyn crate::exchange::Exchange,
    snap: &crate::exchange::AccountSnapshot,
    days: u32,
    now_ms: i64,
) -> Result<Vec<String>, crate::exchange::ExchangeError> {
    use crate::exchange::{IncomeKind, IncomeQuery};
    let mut symbols: std::collections::BTreeSet<String> = snap
        .positions
        .iter()
        .filter(|p| !p.signed_quantity.is_zero())
        .map(|p| p.symbol.clone())
        .collect();
    let mut from = now_ms - i64::from(days) * DAY_MS;
    loop {
        let page = ex
            .income(&IncomeQuery {
                symbol: None,
                kind: Some(IncomeKind::Commission),
                start: Some(from),
                end: Some(now_ms),
                limit: Some(1000),
            })
            .await?;
        let full = page.len() >= 1000;
        let last = page.last().map(|r| r.time);
        symbols.extend(page.into_iter().filter_map(|r| r.symbol));
        match (full, last) {
            (true, Some(t)) if t + 1 > from => from = t + 1,
            _ => break,
        }
    }
    symbols.retain(|s| !s.is_empty());
    Ok(symbols.into_iter().collect())
}

/// An account leader's figures for 7, 30 and 90 days and its daily equity curve, read
/// through the port: today's account, the symbols it traded, their `userTrades` in 7-day
/// windows, funding and transfers ([`account_history`]), fed to
/// `analytics::figures::report`. The port has no price history, so an open position is
/// valued at its entry on every day but the last, where its mark price counts. Give it a
/// client that books at low priority: it is never needed to copy.
pub async fn account_leader_report(
    ex: &dyn crate::exchange::Exchange,
    now_ms: i64,
) -> Result<
    (
        crate::analytics::figures::Report,
        crate::exchange::AccountSnapshot,
    ),
    crate::exchange::ExchangeError,
> {
    let days = crate::analytics::figures::WINDOWS[crate::analytics::figures::WINDOWS.len() - 1] + 1;
    let snap = ex.account().await?;
    let symbols = traded_symbols(ex, &snap, days, now_ms).await?;
    let history = account_history(ex, &symbols, days, now_ms).await?;
    let mut prices = PricePath::default();
    for p in snap
        .positions
        .iter()
        .filter(|p| !p.signed_quantity.is_zero())
    {
        if let Some(mark) = p.mark_price {
            prices.insert(&p.symbol, vec![(now_ms, mark.get())]);
        }
    }
    Ok((crate::analytics::figures::report(&history, &prices), snap))
}

/// A copy's own history (the follower side) in the figures' form: its fills and funding from
/// the store, starting from its investment, so `analytics::figures::report` gives the copy
/// the same figures as a leader. Fills are taken as one-way (`BOTH`) books.
pub fn copy_history(
    investment: Decimal,
    fills: &[crate::store::table::fills::Fill],
    funding: &[crate::store::table::copy_funding::FundingRow],
    now_ms: i64,
) -> crate::analytics::history::AccountHistory {
    use crate::analytics::history::{AccountHistory, HistoryEvent, HistoryKind};
    let mut events: Vec<HistoryEvent> = fills
        .iter()
        .map(|f| HistoryEvent {
            time_ms: f.ts,
            kind: HistoryKind::Fill {
                symbol: f.symbol.clone(),
                position_side: PositionSide::Both,
                side: f.side,
                qty: f.qty,
                price: f.price,
                realized_pnl: f.realized_pnl,
                commission: f.fee.abs(),
            },
        })
        .chain(funding.iter().map(|r| HistoryEvent {
            time_ms: r.ts,
            kind: HistoryKind::Funding {
                symbol: r.symbol.clone(),
                amount: r.amount,
            },
        }))
        .collect();
    events.sort_by_key(|e| e.time_ms);
    let change: Decimal = events.iter().map(|e| e.kind.wallet_change()).sum();
    AccountHistory {
        events,
        end_wallet: investment + change,
        end_ms: now_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::figures::report;
    use crate::domain::Side;
    use crate::store::table::fills::Fill;
    use rust_decimal_macros::dec;

    #[test]
    fn a_copys_history_starts_from_its_investment() {
        let fill = |ts: i64, side: Side, pnl: Decimal| Fill {
            copy_id: 1,
            client_order_id: None,
            venue_trade_id: ts.to_string(),
            symbol: "BTCUSDT".into(),
            side,
            qty: dec!(0.01),
            price: dec!(50000),
            fee: dec!(0.25),
            fee_asset: "USDT".into(),
            realized_pnl: pnl,
            ts,
        };
        let now = 100 * DAY_MS;
        let h = copy_history(
            dec!(1000),
            &[
                fill(now - 3 * DAY_MS, Side::Buy, dec!(0)),
                fill(now - 2 * DAY_MS, Side::Sell, dec!(-25)),
            ],
            &[],
            now,
        );
        assert_eq!(h.end_wallet, dec!(974.5), "1000 − 25 − two fees of 0.25");
        let f = report(&h, &PricePath::default());
        let w7 = f.figures.iter().find(|w| w.days == 7).expect("7 days");
        assert_eq!(w7.pnl, dec!(-25.5), "the copy's PnL");
        assert_eq!(w7.win_rate_pct, Some(dec!(0)), "its one trade lost");
        assert_eq!(w7.max_drawdown.amount, dec!(25.5), "from 1000 to 974.5");
    }
}
