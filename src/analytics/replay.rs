//! What-if replay: a leader's order history for a period run through the same planner
//! and risk gate as live copying (`engine::plan`, `engine::plan_pnl_check`) with the
//! user's settings, a modelled follower account (fills at the price path plus a stated
//! slippage, the venue's taker fee, cross margin) and the price path for unrealized PnL,
//! drawdown and total stop-loss / take-profit hits. Pure: the caller fetches orders,
//! prices and filters. The approximations it makes are listed in every report.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{
    decimal, Asset, CopySettings, LeaderFill, LeaderSignal, MarginMode, PositionMode, PositionSide,
    Price, Quantity, Side, SignalKind, Symbol, SymbolFilters,
};
use crate::engine::figures::Drawdown;
use crate::engine::{
    plan, plan_pnl_check, ActionKind, Balance, CopyContext, CopyState, FollowerPosition,
    FollowerSnapshot, Ledger, MarketInfo, NoticeKind, OrderPlan, OrderType, Plan, PlanInput,
    PositionKey, SymbolConfig,
};

use super::figures::EquityPoint;
use super::history::PricePath;

const HOUR_MS: i64 = 3_600_000;

/// One filled leader order, as an order history lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaderOrder {
    pub id: String,
    pub time_ms: i64,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    #[serde(with = "decimal")]
    pub qty: Decimal,
    /// Average fill price.
    #[serde(with = "decimal")]
    pub price: Decimal,
    pub reduce_only: bool,
    /// Realized PnL of the order, when the history gives it.
    #[serde(with = "decimal")]
    pub realized_pnl: Decimal,
}

/// A symbol the replay may trade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayMarket {
    pub symbol: Symbol,
    pub filters: SymbolFilters,
}

/// Everything a replay needs.
#[derive(Debug, Clone)]
pub struct ReplayInput {
    pub copy_id: String,
    pub settings: CopySettings,
    /// The follower's USDT wallet at the start.
    pub follower_wallet: Decimal,
    pub follower_mode: PositionMode,
    /// Filled leader orders of the period, any order (sorted here).
    pub orders: Vec<LeaderOrder>,
    /// The leader's equity at the start (Smart Sync sizing); walked forward with the
    /// orders' realized PnL.
    pub leader_equity_start: Option<Decimal>,
    /// The leader's leverage per symbol (histories do not carry it).
    pub leader_leverage: BTreeMap<String, u32>,
    pub default_leverage: u32,
    pub markets: BTreeMap<String, ReplayMarket>,
    /// Price path (e.g. kline closes) for marks, fills and stop checks.
    pub prices: PricePath,
    /// Taker fee rate, e.g. 0.0005.
    pub taker_fee: Decimal,
    /// Extra adverse move on every follower fill, in basis points of the path price.
    pub slippage_bps: Decimal,
    /// Time from the leader's fill to the follower's order (stream: milliseconds; a polled
    /// source: its interval).
    pub delay_ms: i64,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// A follower fill of the replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayFill {
    pub time_ms: i64,
    pub symbol: String,
    pub side: Side,
    #[serde(with = "decimal")]
    pub qty: Decimal,
    #[serde(with = "decimal")]
    pub price: Decimal,
    #[serde(with = "decimal")]
    pub fee: Decimal,
    #[serde(with = "decimal")]
    pub realized_pnl: Decimal,
    /// The leader order it copies.
    pub leader_order: String,
}

/// A signal the copy would have skipped (or a notice it would have shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub time_ms: i64,
    pub symbol: String,
    pub kind: NoticeKind,
    pub reason: String,
}

/// The total stop loss or take profit that stopped the copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopHit {
    pub time_ms: i64,
    pub kind: NoticeKind,
    pub reason: String,
}

/// A follower position at the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndPosition {
    pub symbol: String,
    pub position_side: PositionSide,
    /// Signed: long positive.
    #[serde(with = "decimal")]
    pub qty: Decimal,
    #[serde(with = "decimal")]
    pub entry_price: Decimal,
}

/// What the replay found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayReport {
    pub start_ms: i64,
    pub end_ms: i64,
    pub leader_orders: usize,
    /// Hourly follower equity (wallet + unrealized PnL at the path's price).
    pub equity_curve: Vec<EquityPoint>,
    #[serde(with = "decimal")]
    pub start_equity: Decimal,
    #[serde(with = "decimal")]
    pub end_equity: Decimal,
    /// End equity − start equity (fees included).
    #[serde(with = "decimal")]
    pub pnl: Decimal,
    /// PnL over the investment (or the starting wallet), percent.
    #[serde(with = "decimal::option")]
    pub roi_pct: Option<Decimal>,
    #[serde(with = "decimal")]
    pub realized_pnl: Decimal,
    #[serde(with = "decimal")]
    pub fees: Decimal,
    /// Deepest fall of follower equity, checked at every price point, fill and hour.
    pub max_drawdown: Drawdown,
    pub fills: Vec<ReplayFill>,
    pub skipped: Vec<Skipped>,
    pub stop: Option<StopHit>,
    pub positions: Vec<EndPosition>,
    pub approximations: Vec<String>,
}

/// The approximations every replay makes (shown with its results).
pub fn approximations(input: &ReplayInput) -> Vec<String> {
    let mut a = vec![
        format!(
            "follower orders fill at the price path {} ms after the leader's fill, moved {} bp against the follower; IOC limits fill only when that price is inside their limit",
            input.delay_ms, input.slippage_bps
        ),
        "the leader's leverage is its current setting per symbol (histories do not record it) and its margin mode is taken as cross".to_owned(),
        "the leader's equity is its starting equity plus the realized PnL of its orders (its fees and funding are not in order histories)".to_owned(),
        "the leader is taken as flat at the start: a reduce-only order on a book not opened in the period is skipped as opened before it".to_owned(),
        "the follower is one USDT cross-margin wallet: no funding, no liquidation; offline-protection stops are not simulated (the replayed copy never goes offline)".to_owned(),
        "unrealized PnL, drawdown and stop checks see the price path's points only (kline closes), not moves inside a kline".to_owned(),
    ];
    if input.prices.is_empty() {
        a.push("no price path: marks are the leader's last fill price per symbol".to_owned());
    }
    a
}

#[derive(Debug, Clone)]
struct FPos {
    qty: Decimal,
    entry: Decimal,
}

struct Replay<'a> {
    input: &'a ReplayInput,
    copy: CopyContext,
    wallet: Decimal,
    positions: BTreeMap<PositionKey, FPos>,
    configs: BTreeMap<String, SymbolConfig>,
    last_px: BTreeMap<String, Decimal>,
    realized: Decimal,
    fees: Decimal,
    fills: Vec<ReplayFill>,
    skipped: Vec<Skipped>,
    stop: Option<StopHit>,
    curve: Vec<EquityPoint>,
    next_sample: i64,
    peak: Decimal,
    dd: Drawdown,
    /// Last moment whose price points were checked.
    checked_to: i64,
    check_stops: bool,
}

impl Replay<'_> {
    fn mark(&self, symbol: &str, t: i64) -> Option<Decimal> {
        self.input
            .prices
            .at(symbol, t)
            .or_else(|| self.last_px.get(symbol).copied())
    }

    fn unrealized(&self, t: i64) -> Decimal {
        self.positions
            .iter()
            .map(|(k, p)| {
                self.mark(&k.symbol, t)
                    .map_or(Decimal::ZERO, |m| p.qty * (m - p.entry))
            })
            .sum()
    }

    fn equity(&self, t: i64) -> Decimal {
        self.wallet + self.unrealized(t)
    }

    fn observe(&mut self, t: i64) {
        let e = self.equity(t);
        self.peak = self.peak.max(e);
        let fall = self.peak - e;
        if fall > self.dd.amount {
            self.dd = Drawdown {
                amount: fall,
                pct: if self.peak > Decimal::ZERO {
                    fall / self.peak * Decimal::ONE_HUNDRED
                } else {
                    Decimal::ZERO
                },
            };
        }
    }

    fn snapshot(&self, t: i64) -> FollowerSnapshot {
        let mut margin = Decimal::ZERO;
        let mut upnl = Decimal::ZERO;
        let positions = self
            .positions
            .iter()
            .map(|(k, p)| {
                let m = self.mark(&k.symbol, t).unwrap_or(p.entry);
                let lev = self
                    .configs
                    .get(&k.symbol)
                    .map_or(self.input.default_leverage, |c| c.leverage)
                    .max(1);
                let u = p.qty * (m - p.entry);
                margin += p.qty.abs() * m / Decimal::from(lev);
                upnl += u;
                FollowerPosition {
                    key: k.clone(),
                    qty: p.qty,
                    entry_price: p.entry,
                    margin_mode: MarginMode::Cross,
                    isolated_margin: Decimal::ZERO,
                    unrealized_pnl: u,
                    maint_margin: Decimal::ZERO,
                    max_removable_margin: Decimal::ZERO,
                }
            })
            .collect();
        let value = self.wallet + upnl;
        FollowerSnapshot {
            position_mode: self.input.follower_mode,
            multi_assets_mode: false,
            account_value: value,
            balances: BTreeMap::from([(
                Asset::usdt(),
                Balance {
                    wallet: self.wallet,
                    available: (value - margin).max(Decimal::ZERO),
                },
            )]),
            positions,
            symbol_configs: self.configs.clone(),
            open_orders: Vec::new(),
            held_by_other_copies: BTreeSet::new(),
        }
    }

    /// Runs what falls due up to `t`: hourly samples and stop checks at price points.
    fn advance(&mut self, t: i64) {
        let mut points: Vec<i64> = Vec::new();
        if self.check_stops && self.copy.state != CopyState::Stopped {
            for k in self.positions.keys() {
                points.extend(
                    self.input
                        .prices
                        .between(&k.symbol, self.checked_to, t)
                        .iter()
                        .map(|(pt, _)| *pt),
                );
            }
        }
        while self.next_sample <= t {
            points.push(self.next_sample);
            self.next_sample += HOUR_MS;
        }
        points.sort_unstable();
        points.dedup();
        let samples_from = self.curve.last().map_or(i64::MIN, |p| p.ts_ms);
        for pt in points {
            if !self.positions.is_empty() {
                self.observe(pt);
                self.pnl_check(pt);
            }
            if pt > samples_from && (pt - self.input.start_ms) % HOUR_MS == 0 {
                let value = self.equity(pt);
                self.curve.push(EquityPoint { ts_ms: pt, value });
            }
        }
        self.checked_to = self.checked_to.max(t);
    }

    fn pnl_check(&mut self, t: i64) {
        if !self.check_stops || self.copy.state == CopyState::Stopped {
            return;
        }
        let pnl = self.realized - self.fees + self.unrealized(t);
        let snap = self.snapshot(t);
        let p = plan_pnl_check(&self.copy, &snap, pnl, &format!("replay-check:{t}"));
        if !p.actions.is_empty() {
            self.run_plan(p, t, "", "");
        }
    }

    fn run_plan(&mut self, p: Plan, t: i64, symbol: &str, leader_order: &str) {
        let before = self.copy.ledger.clone();
        let mut ledger = p.ledger.clone();
        for a in &p.actions {
            match &a.kind {
                ActionKind::PlaceOrder(o) => {
                    let filled = self.fill(o, t, leader_order);
                    ledger.apply_order_result(&before, o, filled);
                }
                ActionKind::SetLeverage { symbol, leverage } => {
                    let c = self.configs.entry(symbol.clone()).or_insert(SymbolConfig {
                        leverage: *leverage,
                        margin_mode: MarginMode::Cross,
                    });
                    c.leverage = *leverage;
                }
                ActionKind::SetMarginMode {
                    symbol,
                    margin_mode,
                } => {
                    let lev = self.input.default_leverage;
                    self.configs
                        .entry(symbol.clone())
                        .or_insert(SymbolConfig {
                            leverage: lev,
                            margin_mode: *margin_mode,
                        })
                        .margin_mode = *margin_mode;
                }
                ActionKind::StopCopy { .. } => self.copy.state = CopyState::Stopped,
                ActionKind::Notice(kind) => {
                    if matches!(kind, NoticeKind::StopLoss | NoticeKind::TakeProfit) {
                        self.stop.get_or_insert(StopHit {
                            time_ms: t,
                            kind: *kind,
                            reason: a.reason.clone(),
                        });
                    } else {
                        self.skipped.push(Skipped {
                            time_ms: t,
                            symbol: symbol.to_owned(),
                            kind: *kind,
                            reason: a.reason.clone(),
                        });
                    }
                }
                _ => {}
            }
        }
        self.copy.ledger = ledger;
    }

    /// Fills an order at the path price (with slippage) and returns the filled quantity.
    fn fill(&mut self, o: &OrderPlan, t: i64, leader_order: &str) -> Decimal {
        let Some(px) = self.mark(&o.symbol.name, t) else {
            return Decimal::ZERO;
        };
        let slip = px * self.input.slippage_bps / Decimal::from(10_000);
        let px = match o.side {
            Side::Buy => px + slip,
            Side::Sell => px - slip,
        };
        if let OrderType::IocLimit { price } = o.order_type {
            let inside = match o.side {
                Side::Buy => px <= price,
                Side::Sell => px >= price,
            };
            if !inside {
                return Decimal::ZERO;
            }
        }
        let qty = o.qty.get();
        let signed = match o.side {
            Side::Buy => qty,
            Side::Sell => -qty,
        };
        let key = PositionKey::new(o.symbol.name.clone(), o.position_side);
        let pos = self.positions.remove(&key).unwrap_or(FPos {
            qty: Decimal::ZERO,
            entry: px,
        });
        let mut realized = Decimal::ZERO;
        let after = pos.qty + signed;
        let grows = pos.qty.is_zero() || (pos.qty > Decimal::ZERO) == (signed > Decimal::ZERO);
        let new = if grows {
            FPos {
                qty: after,
                entry: (pos.entry * pos.qty.abs() + px * qty) / after.abs(),
            }
        } else {
            let closed = qty.min(pos.qty.abs());
            let dir = if pos.qty > Decimal::ZERO {
                Decimal::ONE
            } else {
                -Decimal::ONE
            };
            realized = dir * closed * (px - pos.entry);
            let flipped = !after.is_zero() && (after > Decimal::ZERO) != (pos.qty > Decimal::ZERO);
            FPos {
                qty: after,
                entry: if flipped { px } else { pos.entry },
            }
        };
        if !new.qty.is_zero() {
            self.positions.insert(key, new);
        }
        let fee = qty * px * self.input.taker_fee;
        self.wallet += realized - fee;
        self.realized += realized;
        self.fees += fee;
        self.fills.push(ReplayFill {
            time_ms: t,
            symbol: o.symbol.name.clone(),
            side: o.side,
            qty,
            price: px,
            fee,
            realized_pnl: realized,
            leader_order: leader_order.to_owned(),
        });
        self.observe(t);
        qty
    }
}

/// Runs the replay.
pub fn replay(input: &ReplayInput) -> ReplayReport {
    let mut orders: Vec<&LeaderOrder> = input
        .orders
        .iter()
        .filter(|o| o.time_ms >= input.start_ms && o.time_ms <= input.end_ms)
        .collect();
    orders.sort_by_key(|o| o.time_ms);
    let r = &input.settings.risk;
    let mut rp = Replay {
        input,
        copy: CopyContext {
            id: input.copy_id.clone(),
            settings: input.settings.clone(),
            state: CopyState::Running,
            t0_ms: input.start_ms,
            ledger: Ledger::default(),
            held: None,
        },
        wallet: input.follower_wallet,
        positions: BTreeMap::new(),
        configs: BTreeMap::new(),
        last_px: BTreeMap::new(),
        realized: Decimal::ZERO,
        fees: Decimal::ZERO,
        fills: Vec::new(),
        skipped: Vec::new(),
        stop: None,
        curve: Vec::new(),
        next_sample: input.start_ms,
        peak: input.follower_wallet,
        dd: Drawdown::default(),
        checked_to: input.start_ms,
        check_stops: r.total_stop_loss.is_some() || r.take_profit_total.is_some(),
    };
    let mut leader_pos: BTreeMap<(String, PositionSide), Decimal> = BTreeMap::new();
    let mut leader_equity = input.leader_equity_start;
    for o in orders {
        rp.advance(o.time_ms + input.delay_ms);
        let key = (o.symbol.clone(), o.position_side);
        let before = leader_pos.get(&key).copied().unwrap_or(Decimal::ZERO);
        let signed = match o.side {
            Side::Buy => o.qty,
            Side::Sell => -o.qty,
        };
        let Some(m) = input.markets.get(&o.symbol) else {
            rp.skipped.push(Skipped {
                time_ms: o.time_ms,
                symbol: o.symbol.clone(),
                kind: NoticeKind::MissingMarketData,
                reason: format!("skipped {}: no filters for this symbol", o.symbol),
            });
            continue;
        };
        if o.reduce_only && before.is_zero() {
            rp.skipped.push(Skipped {
                time_ms: o.time_ms,
                symbol: o.symbol.clone(),
                kind: NoticeKind::NotCopied,
                reason: format!(
                    "skipped a reduce-only {} order: the position was opened before the replay period",
                    o.symbol
                ),
            });
            continue;
        }
        leader_pos.insert(key, before + signed);
        rp.last_px.insert(o.symbol.clone(), o.price);
        let (Ok(qty), Ok(price)) = (Quantity::new(o.qty), Price::new(o.price)) else {
            continue;
        };
        let now = o.time_ms + input.delay_ms;
        let px = rp.mark(&o.symbol, now).unwrap_or(o.price);
        let Ok(px) = Price::new(px) else {
            continue;
        };
        let signal = LeaderSignal {
            id: o.id.clone(),
            symbol: m.symbol.clone(),
            position_side: o.position_side,
            event_time_ms: o.time_ms,
            kind: SignalKind::Fill(LeaderFill {
                order_id: o.id.clone(),
                side: o.side,
                qty,
                price,
                position_before: before,
                order_final: true,
                leverage: input
                    .leader_leverage
                    .get(&o.symbol)
                    .copied()
                    .unwrap_or(input.default_leverage),
                margin_mode: MarginMode::Cross,
                equity_before: leader_equity,
            }),
        };
        let p = plan(&PlanInput {
            copy: rp.copy.clone(),
            signal,
            follower: rp.snapshot(now),
            market: MarketInfo {
                symbol: m.symbol.clone(),
                filters: m.filters.clone(),
                mark_price: px,
                current_price: px,
            },
            now_ms: now,
            server_offset_ms: 0,
        });
        rp.run_plan(p, now, &o.symbol, &o.id);
        rp.pnl_check(now);
        if let Some(e) = &mut leader_equity {
            *e += o.realized_pnl;
        }
    }
    rp.advance(input.end_ms);
    let end_equity = rp.equity(input.end_ms);
    let pnl = end_equity - input.follower_wallet;
    let base = input.settings.investment.unwrap_or(input.follower_wallet);
    ReplayReport {
        start_ms: input.start_ms,
        end_ms: input.end_ms,
        leader_orders: input.orders.len(),
        equity_curve: rp.curve,
        start_equity: input.follower_wallet,
        end_equity,
        pnl,
        roi_pct: (base > Decimal::ZERO).then(|| pnl / base * Decimal::ONE_HUNDRED),
        realized_pnl: rp.realized,
        fees: rp.fees,
        max_drawdown: rp.dd,
        fills: rp.fills,
        skipped: rp.skipped,
        stop: rp.stop,
        positions: rp
            .positions
            .iter()
            .map(|(k, p)| EndPosition {
                symbol: k.symbol.clone(),
                position_side: k.side,
                qty: p.qty,
                entry_price: p.entry,
            })
            .collect(),
        approximations: approximations(input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CopyMode, RiskSettings, TotalStopLoss};
    use rust_decimal_macros::dec;

    const T0: i64 = 1_700_000_000_000 - 1_700_000_000_000 % HOUR_MS;

    fn btc() -> ReplayMarket {
        ReplayMarket {
            symbol: Symbol::new("BTCUSDT", Asset::new("BTC").expect("asset"), Asset::usdt()),
            filters: SymbolFilters {
                tick_size: dec!(0.1),
                step_size: dec!(0.001),
                market_step_size: dec!(0.001),
                min_qty: dec!(0.001),
                max_qty: dec!(1000),
                market_min_qty: dec!(0.001),
                market_max_qty: dec!(120),
                min_notional: dec!(100),
            },
        }
    }

    fn order(id: &str, h: i64, side: Side, qty: Decimal, price: Decimal, ro: bool) -> LeaderOrder {
        LeaderOrder {
            id: id.into(),
            time_ms: T0 + h * HOUR_MS,
            symbol: "BTCUSDT".into(),
            side,
            position_side: PositionSide::Both,
            qty,
            price,
            reduce_only: ro,
            realized_pnl: Decimal::ZERO,
        }
    }

    fn input(stop_loss: Option<Decimal>, orders: Vec<LeaderOrder>) -> ReplayInput {
        let mut prices = PricePath::default();
        prices.insert(
            "BTCUSDT",
            vec![
                (T0, dec!(50000)),
                (T0 + 3 * HOUR_MS, dec!(45000)),
                (T0 + 5 * HOUR_MS, dec!(47000)),
            ],
        );
        ReplayInput {
            copy_id: "what-if".into(),
            settings: CopySettings {
                mode: CopyMode::FixedRatio,
                investment: None,
                amount_per_order: None,
                ratio: Some(dec!(0.1)),
                copy_ongoing_positions: false,
                preset: Default::default(),
                start: Default::default(),
                risk: RiskSettings {
                    total_stop_loss: stop_loss.map(TotalStopLoss::Amount),
                    ..RiskSettings::default()
                },
            },
            follower_wallet: dec!(10000),
            follower_mode: PositionMode::OneWay,
            orders,
            leader_equity_start: Some(dec!(100000)),
            leader_leverage: BTreeMap::from([("BTCUSDT".to_owned(), 10)]),
            default_leverage: 20,
            markets: BTreeMap::from([("BTCUSDT".to_owned(), btc())]),
            prices,
            taker_fee: dec!(0.0005),
            slippage_bps: Decimal::ZERO,
            delay_ms: 0,
            start_ms: T0,
            end_ms: T0 + 6 * HOUR_MS,
        }
    }

    fn history() -> Vec<LeaderOrder> {
        vec![
            order("o1", 1, Side::Buy, dec!(1), dec!(50000), false),
            order("o2", 2, Side::Buy, dec!(0.001), dec!(50000), false),
            order("o3", 4, Side::Sell, dec!(1.001), dec!(45000), true),
        ]
    }

    #[test]
    fn a_below_minimum_skip_and_a_stop_loss_hit() {
        // Ratio 0.1: the open copies 0.1 BTC at 50,000; the 0.001 increase calls for 0.0001
        // (below the minimum); at 45,000 the copy's PnL is −500 − 2.5 fee, past the 400
        // stop, so everything closes there (fee 2.25) and the leader's close is ignored.
        let r = replay(&input(Some(dec!(400)), history()));
        assert_eq!(
            r.fills.len(),
            2,
            "the open and the stop's close: {:?}",
            r.fills
        );
        assert_eq!(
            (r.fills[0].qty, r.fills[0].price),
            (dec!(0.1), dec!(50000)),
            "open at the path price"
        );
        assert_eq!(
            (r.fills[1].qty, r.fills[1].price, r.fills[1].time_ms),
            (dec!(0.1), dec!(45000), T0 + 3 * HOUR_MS),
            "closed by the stop at the drop"
        );
        let stop = r.stop.as_ref().expect("the stop loss is hit");
        assert_eq!(stop.kind, NoticeKind::StopLoss, "a stop loss");
        assert_eq!(stop.time_ms, T0 + 3 * HOUR_MS, "at the drop");
        assert!(
            r.skipped
                .iter()
                .any(|s| s.kind == NoticeKind::BelowMinimum && s.time_ms == T0 + 2 * HOUR_MS),
            "the tiny increase is skipped below the minimum: {:?}",
            r.skipped
        );
        assert!(
            r.skipped.iter().any(|s| s.kind == NoticeKind::CopyStopped),
            "the leader's close comes after the stop: {:?}",
            r.skipped
        );
        assert_eq!(r.fees, dec!(4.75), "2.5 + 2.25");
        assert_eq!(r.pnl, dec!(-504.75), "−500 realized − 4.75 fees");
        assert_eq!(r.end_equity, dec!(9495.25), "what is left");
        assert!(r.positions.is_empty(), "flat at the end");
        assert_eq!(
            r.max_drawdown.amount,
            dec!(504.75),
            "from the start down to the stop"
        );
        assert_eq!(r.equity_curve.len(), 7, "hourly, start and end included");
    }

    #[test]
    fn without_a_stop_the_copy_follows_the_leaders_close() {
        let r = replay(&input(None, history()));
        assert!(r.stop.is_none(), "no stop set, none hit");
        assert_eq!(r.fills.len(), 2, "open and the leader's close");
        assert_eq!(
            (r.fills[1].qty, r.fills[1].price, r.fills[1].time_ms),
            (dec!(0.1), dec!(45000), T0 + 4 * HOUR_MS),
            "closed with the leader"
        );
        assert_eq!(r.pnl, dec!(-504.75), "same loss, one hour later");
        assert!(r.positions.is_empty(), "flat at the end");
    }

    #[test]
    fn a_close_of_a_position_opened_before_the_period_is_skipped() {
        let r = replay(&input(
            None,
            vec![order("old", 1, Side::Sell, dec!(1), dec!(50000), true)],
        ));
        assert!(r.fills.is_empty(), "nothing to copy");
        assert_eq!(r.skipped.len(), 1, "one skip");
        assert_eq!(
            r.skipped[0].kind,
            NoticeKind::NotCopied,
            "opened before the period"
        );
        assert_eq!(r.pnl, dec!(0), "no PnL");
    }
}
