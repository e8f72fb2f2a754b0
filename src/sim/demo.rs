//! Demo leaders: accounts driven by seeded scripted strategies of different styles
//! (scalper, swing, high leverage, isolated with margin adds). Each starts with 90 days of
//! generated history (orders, trades, income) so leader figures can be computed at once,
//! and then keeps trading live on simulated time through the normal order path.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::account::{Order, OrderStatus, OrderType, Trade};
use super::clock::Millis;
use super::exchange::{NewAccount, SimVenue};
use super::matching::NewOrder;
use crate::domain::filters::floor_to_step;
use crate::domain::{PositionSide, Side};

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

/// Trading style of a demo leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Scalper,
    Swing,
    HighLeverage,
    IsolatedAdder,
}

impl Style {
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Scalper => "scalper",
            Style::Swing => "swing",
            Style::HighLeverage => "high-leverage",
            Style::IsolatedAdder => "isolated-margin-adds",
        }
    }

    /// The style [`Self::as_str`] names.
    pub fn parse(s: &str) -> Option<Style> {
        [
            Style::Scalper,
            Style::Swing,
            Style::HighLeverage,
            Style::IsolatedAdder,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    fn of(i: usize) -> Style {
        match i % 4 {
            0 => Style::Scalper,
            1 => Style::Swing,
            2 => Style::HighLeverage,
            _ => Style::IsolatedAdder,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Style::Scalper => "BTCUSDT",
            Style::Swing => "ETHUSDT",
            Style::HighLeverage => "SOLUSDT",
            Style::IsolatedAdder => "BNBUSDT",
        }
    }

    fn leverage(self) -> u32 {
        match self {
            Style::Scalper => 10,
            Style::Swing => 3,
            Style::HighLeverage => 50,
            Style::IsolatedAdder => 10,
        }
    }

    /// Share of the wallet committed as margin per trade, in percent.
    fn margin_pct(self) -> i64 {
        match self {
            Style::Scalper => 5,
            Style::Swing => 20,
            Style::HighLeverage => 2,
            Style::IsolatedAdder => 10,
        }
    }

    /// Holding time range in hours (history) and live action interval.
    fn hold_hours(self) -> (i64, i64) {
        match self {
            Style::Scalper => (1, 3),
            Style::Swing => (24, 120),
            Style::HighLeverage => (2, 12),
            Style::IsolatedAdder => (12, 48),
        }
    }

    fn live_interval(self) -> Millis {
        match self {
            Style::Scalper => 30_000,
            Style::Swing => 20 * 60_000,
            Style::HighLeverage => 3 * 60_000,
            Style::IsolatedAdder => 10 * 60_000,
        }
    }
}

/// A demo leader's account and keys. `Debug` hides the secret.
#[derive(Clone)]
pub struct DemoLeader {
    pub account_id: String,
    pub label: String,
    pub style: Style,
    pub api_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for DemoLeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoLeader")
            .field("account_id", &self.account_id)
            .field("label", &self.label)
            .field("style", &self.style)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

/// Creates `n` demo leaders with 90 days of history each, traded on one hourly price
/// path per symbol that ends at the market's current price (and is served as klines).
pub fn create_leaders(ex: &mut SimVenue, n: usize, seed: u64) -> Vec<DemoLeader> {
    create_leaders_from(ex, 0, n, seed)
}

/// Creates demo leaders `first..n` (a restored simulator that kept fewer leaders than its
/// configuration asks for adds the missing ones, each as it would have been made).
pub fn create_leaders_from(
    ex: &mut SimVenue,
    first: usize,
    n: usize,
    seed: u64,
) -> Vec<DemoLeader> {
    let mut out = Vec::new();
    let mut paths: BTreeMap<&'static str, Vec<Decimal>> = BTreeMap::new();
    for i in 0..n {
        let sym = Style::of(i).symbol();
        if !paths.contains_key(sym) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_0000_0000 ^ (i as u64 % 4));
            if let Some(p) = price_path(ex, sym, &mut rng) {
                paths.insert(sym, p);
            }
        }
    }
    for i in first..n {
        let style = Style::of(i);
        let label = format!("Demo {} #{}", style.as_str(), i + 1);
        let start = Decimal::from(100_000);
        let keys = ex.create_account(NewAccount {
            balances: BTreeMap::from([("USDT".to_owned(), start)]),
            hedge: false,
            permissions: Default::default(),
            lead_portfolio: true,
            label: label.clone(),
            key_type: Default::default(),
        });
        let sym = style.symbol();
        let _ = ex.set_leverage(&keys.account_id, sym, style.leverage());
        if style == Style::IsolatedAdder {
            let _ = ex.set_margin_type(&keys.account_id, sym, true);
        }
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
        if let Some(path) = paths.get(sym) {
            generate_history(ex, &keys.account_id, style, path, &mut rng);
        }
        out.push(DemoLeader {
            account_id: keys.account_id,
            label,
            style,
            api_key: keys.api_key,
            secret_key: keys.secret_key,
        });
    }
    out
}

/// Hours of demo history.
const HISTORY_HOURS: usize = 90 * 24;

/// A seeded hourly path over the past 90 days (point k at `now − (2160 − k) h`) that ends
/// at the symbol's current mid, with hourly steps of −60…+62 bp (a slight upward drift so
/// figures are not all noise); recorded on the tape so klines show it.
fn price_path(ex: &mut SimVenue, symbol: &str, rng: &mut ChaCha8Rng) -> Option<Vec<Decimal>> {
    let m = ex.market(symbol).ok()?.clone();
    let now = ex.now();
    let mut path = vec![Decimal::ZERO; HISTORY_HOURS + 1];
    let mut price = ex.mark(symbol);
    path[HISTORY_HOURS] = price;
    for k in (0..HISTORY_HOURS).rev() {
        let bps: i64 = rng.random_range(-60..=62);
        price = (price / (Decimal::ONE + Decimal::new(bps, 4)))
            .round_dp(m.price_precision)
            .max(m.filters.tick_size);
        path[k] = price;
    }
    for (k, p) in path.iter().enumerate().take(HISTORY_HOURS) {
        let t = now - (HISTORY_HOURS - k) as Millis * HOUR;
        ex.tape.price(symbol, t, *p);
    }
    Some(path)
}

/// Round trips over the past 90 days on the symbol's hourly price path, booked straight
/// into the account's history: filled orders, trades, commission, realized PnL and funding.
fn generate_history(
    ex: &mut SimVenue,
    account: &str,
    style: Style,
    path: &[Decimal],
    rng: &mut ChaCha8Rng,
) {
    let Ok(m) = ex.market(style.symbol()).cloned() else {
        return;
    };
    let now = ex.now();
    let start = now - 90 * DAY;
    let at = |t: Millis| path[(((t - start) / HOUR) as usize).min(HISTORY_HOURS)];
    let mut t = start;
    let lev = Decimal::from(style.leverage());
    let fee = ex.config.taker_fee;
    let (hmin, hmax) = style.hold_hours();
    while t < now - 2 * HOUR {
        let wallet = ex
            .accounts
            .get(account)
            .map_or(Decimal::ZERO, |a| a.wallet("USDT"));
        let margin = wallet * Decimal::new(style.margin_pct(), 2);
        let hold = rng.random_range(hmin..=hmax);
        let side = if rng.random_bool(0.5) {
            Side::Buy
        } else {
            Side::Sell
        };
        let open_px = at(t);
        let qty = floor_to_step(margin * lev / open_px, m.filters.step_size);
        let close_t = (t + hold * HOUR).min(now - HOUR);
        let price = at(close_t);
        if qty >= m.filters.min_qty && qty * open_px >= m.filters.min_notional {
            let dir = if side == Side::Buy {
                Decimal::ONE
            } else {
                -Decimal::ONE
            };
            let pnl = (dir * qty * (price - open_px)).round_dp(8);
            book_fill(
                ex,
                account,
                m.symbol,
                side,
                qty,
                open_px,
                Decimal::ZERO,
                fee,
                t,
            );
            let fundings = hold / 8;
            for k in 0..fundings {
                let pay = (-dir * qty * open_px * Decimal::new(1, 4)).round_dp(8);
                if let Some(a) = ex.accounts.get_mut(account) {
                    a.credit("USDT", pay);
                }
                ex.add_income(
                    account,
                    m.symbol,
                    "FUNDING_FEE",
                    pay,
                    "USDT",
                    String::new(),
                    t + (k + 1) * 8 * HOUR,
                );
            }
            book_fill(
                ex,
                account,
                m.symbol,
                side.opposite(),
                qty,
                price,
                pnl,
                fee,
                close_t,
            );
        }
        t = close_t + rng.random_range(1..=6) * HOUR;
    }
}

#[allow(clippy::too_many_arguments)]
fn book_fill(
    ex: &mut SimVenue,
    account: &str,
    symbol: &str,
    side: Side,
    qty: Decimal,
    price: Decimal,
    realized: Decimal,
    fee_rate: Decimal,
    t: Millis,
) {
    let id = ex.order_id();
    let trade_id = ex.trade_id();
    let fee = (qty * price * fee_rate).round_dp(8);
    let Some(a) = ex.accounts.get_mut(account) else {
        return;
    };
    a.insert_order(Order {
        id,
        client_id: format!("demo-{id}"),
        symbol: symbol.to_owned(),
        side,
        position_side: PositionSide::Both,
        kind: OrderType::Market,
        tif: "GTC",
        price: Decimal::ZERO,
        orig_qty: qty,
        executed_qty: qty,
        cum_quote: qty * price,
        status: OrderStatus::Filled,
        reduce_only: !realized.is_zero(),
        close_position: false,
        time: t,
        update_time: t,
        expire_reason: 0,
    });
    a.trades.push(Trade {
        id: trade_id,
        order_id: id,
        symbol: symbol.to_owned(),
        side,
        position_side: PositionSide::Both,
        price,
        qty,
        commission: fee,
        commission_asset: "USDT".to_owned(),
        realized_pnl: realized,
        maker: false,
        time: t,
    });
    a.credit("USDT", realized - fee);
    if !realized.is_zero() {
        ex.add_income(
            account,
            symbol,
            "REALIZED_PNL",
            realized,
            "USDT",
            trade_id.to_string(),
            t,
        );
    }
    ex.add_income(
        account,
        symbol,
        "COMMISSION",
        -fee,
        "USDT",
        trade_id.to_string(),
        t,
    );
}

/// Live trading of the demo leaders, called from the simulator's ticker; `speed` divides
/// each style's live interval.
pub fn drive(ex: &mut SimVenue, leaders: &[DemoLeader], rng: &mut ChaCha8Rng, speed: u32) {
    let now = ex.now();
    for l in leaders {
        let due = ex.demo_next.get(&l.account_id).copied().unwrap_or(now);
        if now < due {
            continue;
        }
        ex.demo_next.insert(
            l.account_id.clone(),
            now + l.style.live_interval() / Millis::from(speed.max(1)),
        );
        let sym = l.style.symbol();
        let Ok(m) = ex.market(sym).cloned() else {
            continue;
        };
        let pos = ex
            .accounts
            .get(&l.account_id)
            .and_then(|a| a.position(sym, PositionSide::Both))
            .map_or(Decimal::ZERO, |p| p.amt);
        if pos.is_zero() {
            let wallet = ex
                .accounts
                .get(&l.account_id)
                .map_or(Decimal::ZERO, |a| a.wallet("USDT"));
            let margin = wallet * Decimal::new(l.style.margin_pct(), 2);
            let qty = floor_to_step(
                margin * Decimal::from(l.style.leverage()) / ex.mark(sym),
                m.filters.market_step_size,
            )
            .min(m.filters.market_max_qty);
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let _ = ex.place_order(&l.account_id, market(sym, side, qty, false));
        } else if l.style == Style::IsolatedAdder && rng.random_bool(0.5) {
            let add = Decimal::from(rng.random_range(50..=500));
            let _ = ex.position_margin(&l.account_id, sym, PositionSide::Both, add, true);
        } else {
            let side = if pos > Decimal::ZERO {
                Side::Sell
            } else {
                Side::Buy
            };
            let _ = ex.place_order(&l.account_id, market(sym, side, pos.abs(), true));
        }
    }
}

fn market(symbol: &str, side: Side, qty: Decimal, reduce_only: bool) -> NewOrder {
    NewOrder {
        symbol: symbol.to_owned(),
        side,
        position_side: PositionSide::Both,
        kind: OrderType::Market,
        tif: "GTC",
        qty,
        price: Decimal::ZERO,
        reduce_only,
        close_position: false,
        client_id: None,
    }
}
