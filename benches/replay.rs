//! What-if replay speed: 90 days of a busy leader (5,000 orders on two symbols, an
//! open/increase/close rhythm) replayed through `engine::plan` with a one-minute price path
//! (129,600 points per symbol) and a total stop loss, so stop checks run at every point.
//! Run: `cargo bench --bench replay`; the target is < 2 s per replay in a release build.
//!
//! Method: one warm-up replay, then 5 timed replays; the report gives each time and the
//! median. Numbers and the machine are recorded in docs/benchmarks.md.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use copydesk::analytics::history::PricePath;
use copydesk::analytics::replay::{replay, LeaderOrder, ReplayInput, ReplayMarket};
use copydesk::domain::{
    Asset, CopyMode, CopySettings, PositionMode, PositionSide, RiskSettings, Side, Symbol,
    SymbolFilters, TotalStopLoss,
};
use rust_decimal::Decimal;

const MIN: i64 = 60_000;
const DAYS: i64 = 90;
const ORDERS: usize = 5_000;
const START: i64 = 1_700_000_000_000 - 1_700_000_000_000 % (60 * MIN);

fn d(s: &str) -> Decimal {
    s.parse().expect("bench constants are decimals")
}

fn market(name: &str, base: &str) -> ReplayMarket {
    ReplayMarket {
        symbol: Symbol::new(name, Asset::new(base).expect("asset"), Asset::usdt()),
        filters: SymbolFilters {
            tick_size: d("0.01"),
            step_size: d("0.001"),
            market_step_size: d("0.001"),
            min_qty: d("0.001"),
            max_qty: d("10000"),
            market_min_qty: d("0.001"),
            market_max_qty: d("1000"),
            min_notional: d("5"),
        },
    }
}

/// A deterministic wave around `base`, one point a minute.
fn path(base: Decimal, phase: i64) -> Vec<(i64, Decimal)> {
    (0..DAYS * 24 * 60)
        .map(|m| {
            // A triangle wave of ±3 % over ~17 hours plus a small minute-to-minute wiggle.
            let tri = ((m + phase) % 1000 - 500).abs() - 250;
            let wiggle = (m * 7919 % 13) - 6;
            let px = base + base * Decimal::new(tri * 12 + wiggle, 5);
            (START + m * MIN, px.round_dp(2))
        })
        .collect()
}

fn input() -> ReplayInput {
    let mut prices = PricePath::default();
    let btc = path(d("50000"), 0);
    let eth = path(d("3000"), 333);
    let span = DAYS * 24 * 60 * MIN;
    let step = span / ORDERS as i64;
    let mut orders = Vec::with_capacity(ORDERS);
    for i in 0..ORDERS {
        let t = START + i as i64 * step + 1;
        let (sym, pts, qty) = if i % 6 < 3 {
            ("BTCUSDT", &btc, d("0.2"))
        } else {
            ("ETHUSDT", &eth, d("3"))
        };
        let px = pts[((t - START) / MIN) as usize].1;
        // Per symbol: open, increase, close of the whole position.
        let (side, q, ro) = match i % 3 {
            0 => (Side::Buy, qty, false),
            1 => (Side::Buy, qty, false),
            _ => (Side::Sell, qty * Decimal::TWO, true),
        };
        orders.push(LeaderOrder {
            id: format!("o{i}"),
            time_ms: t,
            symbol: sym.to_owned(),
            side,
            position_side: PositionSide::Both,
            qty: q,
            price: px,
            reduce_only: ro,
            realized_pnl: Decimal::ZERO,
        });
    }
    prices.insert("BTCUSDT", btc);
    prices.insert("ETHUSDT", eth);
    ReplayInput {
        copy_id: "bench".into(),
        settings: CopySettings {
            mode: CopyMode::SmartSync,
            investment: Some(d("5000")),
            amount_per_order: None,
            ratio: None,
            copy_ongoing_positions: false,
            preset: Default::default(),
            start: Default::default(),
            risk: RiskSettings {
                max_slippage_pct: Some(d("5")),
                total_stop_loss: Some(TotalStopLoss::Amount(d("9500"))),
                ..RiskSettings::default()
            },
        },
        follower_wallet: d("10000"),
        follower_mode: PositionMode::OneWay,
        orders,
        leader_equity_start: Some(d("100000")),
        leader_leverage: BTreeMap::from([("BTCUSDT".into(), 10), ("ETHUSDT".into(), 10)]),
        default_leverage: 20,
        markets: BTreeMap::from([
            ("BTCUSDT".into(), market("BTCUSDT", "BTC")),
            ("ETHUSDT".into(), market("ETHUSDT", "ETH")),
        ]),
        prices,
        taker_fee: d("0.0005"),
        slippage_bps: d("1"),
        delay_ms: 3_000,
        start_ms: START,
        end_ms: START + span,
    }
}

#[allow(clippy::print_stdout)]
fn main() {
    let input = input();
    let warm = replay(&input);
    println!(
        "replay: {} leader orders, {} follower fills, {} skipped, stop {:?}, {} equity points",
        warm.leader_orders,
        warm.fills.len(),
        warm.skipped.len(),
        warm.stop.as_ref().map(|s| s.time_ms),
        warm.equity_curve.len()
    );
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        black_box(replay(black_box(&input)));
        times.push(t.elapsed());
    }
    for (i, t) in times.iter().enumerate() {
        println!("run {}: {:.3} s", i + 1, t.as_secs_f64());
    }
    times.sort();
    println!("median: {:.3} s", times[times.len() / 2].as_secs_f64());
}
