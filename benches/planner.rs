//! Planner latency: how long `engine::plan` takes to turn one leader signal into the
//! follower's actions, the part of signal-to-order latency that is CopyDesk's own code
//! (the rest is the network and the venue). Run: `cargo bench --bench planner`.
//!
//! Method: each case is warmed up, then timed call by call (one `Instant` pair per call,
//! about 20–40 ns of overhead, included in the numbers); the report gives the median,
//! 90th and 99th percentiles and the maximum in microseconds. `black_box` keeps the
//! compiler from skipping the work. Numbers and the machine they came from are recorded
//! in docs/benchmarks.md.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::time::Instant;

use copydesk::domain::{
    Asset, CopyMode, CopySettings, LeaderFill, LeaderSignal, MarginMode, PositionMode,
    PositionSide, Preset, Price, Quantity, RiskSettings, Side, SignalKind, StartActions, Symbol,
    SymbolFilters,
};
use copydesk::engine::{
    plan, Balance, CopyContext, CopyState, FollowerSnapshot, Ledger, MarketInfo, PlanInput,
};
use rust_decimal::Decimal;

const WARMUP: usize = 10_000;
const SAMPLES: usize = 200_000;
const T0: i64 = 1_700_000_000_000;

fn d(s: &str) -> Decimal {
    s.parse().expect("bench constants are decimals")
}

fn btc() -> MarketInfo {
    let price = Price::new(d("50000")).expect("positive");
    MarketInfo {
        symbol: Symbol::new("BTCUSDT", Asset::new("BTC").expect("asset"), Asset::usdt()),
        filters: SymbolFilters {
            tick_size: d("0.1"),
            step_size: d("0.001"),
            market_step_size: d("0.001"),
            min_qty: d("0.001"),
            max_qty: d("1000"),
            market_min_qty: d("0.001"),
            market_max_qty: d("120"),
            min_notional: d("100"),
        },
        mark_price: price,
        current_price: price,
    }
}

fn follower() -> FollowerSnapshot {
    let mut balances = BTreeMap::new();
    balances.insert(
        Asset::usdt(),
        Balance {
            wallet: d("10000"),
            available: d("10000"),
        },
    );
    FollowerSnapshot {
        position_mode: PositionMode::OneWay,
        multi_assets_mode: false,
        account_value: d("10000"),
        balances,
        positions: Vec::new(),
        symbol_configs: BTreeMap::new(),
        open_orders: Vec::new(),
        held_by_other_copies: BTreeSet::new(),
    }
}

/// Example A of copy-rules.md: leader equity 10,000 opens 0.1 BTC at 50,000 with 5x.
fn smart_sync_open() -> PlanInput {
    PlanInput {
        copy: CopyContext {
            id: "bench-copy".into(),
            settings: CopySettings {
                mode: CopyMode::SmartSync,
                investment: Some(d("1000")),
                amount_per_order: None,
                ratio: None,
                copy_ongoing_positions: false,
                preset: Preset::None,
                start: StartActions::default(),
                risk: RiskSettings::default(),
            },
            state: CopyState::Running,
            t0_ms: T0,
            ledger: Ledger::default(),
            held: None,
        },
        signal: LeaderSignal {
            id: "sig-1".into(),
            symbol: btc().symbol,
            position_side: PositionSide::Both,
            event_time_ms: T0 + 1_000,
            kind: SignalKind::Fill(LeaderFill {
                order_id: "order-1".into(),
                side: Side::Buy,
                qty: Quantity::new(d("0.1")).expect("positive"),
                price: Price::new(d("50000")).expect("positive"),
                position_before: Decimal::ZERO,
                order_final: true,
                leverage: 5,
                margin_mode: MarginMode::Cross,
                equity_before: Some(d("10000")),
            }),
        },
        follower: follower(),
        market: btc(),
        now_ms: T0 + 1_050,
        server_offset_ms: 0,
    }
}

fn measure(name: &str, input: &PlanInput) {
    let actions = plan(input).actions.len();
    assert!(actions > 0, "{name}: the bench input must plan something");
    for _ in 0..WARMUP {
        black_box(plan(black_box(input)));
    }
    let mut nanos: Vec<u128> = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        black_box(plan(black_box(input)));
        nanos.push(start.elapsed().as_nanos());
    }
    nanos.sort_unstable();
    let at = |per_mille: usize| nanos[(nanos.len() - 1) * per_mille / 1000];
    let us = |n: u128| format!("{}.{:03}", n / 1000, n % 1000);
    report(&format!(
        "{name}: {SAMPLES} plans ({actions} actions each) p50 {} µs, p90 {} µs, p99 {} µs, max {} µs",
        us(at(500)),
        us(at(900)),
        us(at(990)),
        us(nanos[nanos.len() - 1]),
    ));
}

#[allow(clippy::print_stdout)]
fn report(line: &str) {
    println!("{line}");
}

fn main() {
    measure("smart-sync open (example A)", &smart_sync_open());
}
