//! Property tests of the planner as a whole: exposure stays within the risk limits,
//! closes are never blocked, reconciliation converges in one pass and never opens, and
//! planning is deterministic.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::domain::settings::RiskSettings;
use crate::domain::{
    Asset, CopyMode, CopySettings, LeaderFill, LeaderSignal, MarginMode, PositionMode,
    PositionSide, Preset, Price, Quantity, Side, SignalKind, StartActions, Symbol, SymbolFilters,
};

use super::reconcile::{reconcile, LeaderSnapshot, ReconcileInput, SnapshotStatus};
use super::signal::{plan, PlanInput};
use super::types::*;

const T0: i64 = 1_700_000_000_000;

fn btc() -> Symbol {
    Symbol::new(
        "BTCUSDT",
        Asset::new("BTC").expect("valid asset"),
        Asset::usdt(),
    )
}

fn market(price: Decimal, current: Decimal) -> MarketInfo {
    MarketInfo {
        symbol: btc(),
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
        mark_price: Price::new(price).expect("test prices are positive"),
        current_price: Price::new(current).expect("test prices are positive"),
    }
}

fn follower(available: Decimal, mode: PositionMode) -> FollowerSnapshot {
    let mut balances = BTreeMap::new();
    balances.insert(
        Asset::usdt(),
        Balance {
            wallet: available,
            available,
        },
    );
    FollowerSnapshot {
        position_mode: mode,
        multi_assets_mode: false,
        account_value: available,
        balances,
        positions: Vec::new(),
        symbol_configs: BTreeMap::new(),
        open_orders: Vec::new(),
        held_by_other_copies: BTreeSet::new(),
    }
}

fn dec_in(lo: i64, hi: i64, scale: u32) -> impl Strategy<Value = Decimal> {
    (lo..=hi).prop_map(move |m| Decimal::new(m, scale))
}

#[derive(Debug, Clone)]
struct Scenario {
    mode: CopyMode,
    amount: Decimal,
    max_leverage: u32,
    max_notional: Option<Decimal>,
    in_use: Decimal,
    available: Decimal,
    leader_qty: Decimal,
    price: Decimal,
    current: Decimal,
    leverage: u32,
    equity: Decimal,
    paused: bool,
    age_ms: i64,
    hedge: bool,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        (
            prop_oneof![
                Just(CopyMode::SmartSync),
                Just(CopyMode::FixedAmount),
                Just(CopyMode::FixedRatio)
            ],
            dec_in(100, 5000, 0),
            1u32..=20,
            proptest::option::of(dec_in(50, 5000, 0)),
            dec_in(0, 2000, 0),
            dec_in(0, 5000, 0),
        ),
        (
            dec_in(1, 100_000, 3),
            dec_in(10_000, 100_000, 0),
            -300i64..=300,
            1u32..=125,
            dec_in(100, 1_000_000, 0),
            any::<bool>(),
            0i64..=120_000,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (mode, amount, max_leverage, max_notional, in_use, available),
                (leader_qty, price, bps, leverage, equity, paused, age_ms, hedge),
            )| Scenario {
                mode,
                amount: if mode == CopyMode::FixedRatio {
                    amount / Decimal::from(10_000)
                } else {
                    amount
                },
                max_leverage,
                max_notional,
                in_use,
                available,
                leader_qty,
                price,
                current: price + price * Decimal::from(bps) / Decimal::from(10_000),
                leverage,
                equity,
                paused,
                age_ms,
                hedge,
            },
        )
}

fn settings(s: &Scenario) -> CopySettings {
    CopySettings {
        mode: s.mode,
        investment: (s.mode == CopyMode::SmartSync).then_some(s.amount),
        amount_per_order: (s.mode == CopyMode::FixedAmount).then_some(s.amount),
        ratio: (s.mode == CopyMode::FixedRatio).then_some(s.amount),
        copy_ongoing_positions: false,
        preset: Preset::None,
        start: StartActions::default(),
        risk: RiskSettings {
            max_leverage: s.max_leverage,
            max_position_notional: s.max_notional,
            ..RiskSettings::default()
        },
    }
}

fn eth_in_use(margin: Decimal) -> (PositionKey, LedgerPosition) {
    (
        PositionKey::new("ETHUSDT", PositionSide::Both),
        LedgerPosition {
            symbol: Symbol::new(
                "ETHUSDT",
                Asset::new("ETH").expect("valid asset"),
                Asset::usdt(),
            ),
            follower_side: PositionSide::Both,
            direction: Direction::Long,
            k: Decimal::ONE,
            qty: Decimal::ONE,
            declined: Decimal::ZERO,
            leader_qty: Decimal::ONE,
            margin,
            leverage: 1,
            margin_mode: MarginMode::Cross,
            last_event_ms: T0,
            stop: None,
        },
    )
}

fn open_input(s: &Scenario, side: Side) -> PlanInput {
    let mut ledger = Ledger::default();
    let (k, v) = eth_in_use(s.in_use);
    ledger.positions.insert(k, v);
    let now = T0 + 1_000_000;
    PlanInput {
        copy: CopyContext {
            id: "copy-p".into(),
            settings: settings(s),
            state: if s.paused {
                CopyState::Paused
            } else {
                CopyState::Running
            },
            t0_ms: T0,
            ledger,
            held: None,
        },
        signal: LeaderSignal {
            id: "sig-1".into(),
            symbol: btc(),
            position_side: PositionSide::Both,
            event_time_ms: now - s.age_ms,
            kind: SignalKind::Fill(LeaderFill {
                order_id: "o-1".into(),
                side,
                qty: Quantity::new(s.leader_qty).unwrap_or(Quantity::ZERO),
                price: Price::new(s.price).expect("test prices are positive"),
                position_before: Decimal::ZERO,
                order_final: true,
                leverage: s.leverage,
                margin_mode: MarginMode::Cross,
                equity_before: Some(s.equity),
            }),
        },
        follower: follower(
            s.available,
            if s.hedge {
                PositionMode::Hedge
            } else {
                PositionMode::OneWay
            },
        ),
        market: market(s.price, s.current),
        now_ms: now,
        server_offset_ms: 0,
    }
}

proptest! {
    #[test]
    fn opens_stay_within_the_risk_limits(s in scenario(), buy in any::<bool>()) {
        let side = if buy { Side::Buy } else { Side::Sell };
        let input = open_input(&s, side);
        let p = plan(&input);
        for a in &p.actions {
            if let ActionKind::SetLeverage { leverage, .. } = a.kind {
                prop_assert!(leverage <= s.max_leverage, "leverage {} above max {}", leverage, s.max_leverage);
            }
        }
        let opens: Vec<&OrderPlan> = p.orders().filter(|o| !o.intent.is_closing()).collect();
        if s.paused || s.age_ms > 60_000 {
            prop_assert!(opens.is_empty(), "a paused copy or a stale signal opens nothing: {:?}", p.actions);
        }
        let pct = if s.current > s.price { (s.current - s.price) / s.price } else { (s.price - s.current) / s.price };
        let worse = match side { Side::Buy => s.current > s.price, Side::Sell => s.current < s.price };
        if worse && pct * Decimal::ONE_HUNDRED > dec!(0.5) {
            prop_assert!(opens.is_empty(), "slippage beyond 0.5 % on BTC opens nothing");
        }
        for o in opens {
            let pos = p.ledger.positions.get(&o.leader_key);
            prop_assert!(pos.is_some(), "every open is in the ledger");
            let pos = pos.expect("checked above");
            let l = Decimal::from(pos.leverage);
            let margin = o.qty.get() * s.price / l;
            prop_assert!(pos.leverage <= s.max_leverage, "ledger leverage within max");
            if let Some(cap) = s.max_notional {
                prop_assert!(o.qty.get() * s.price <= cap, "notional {} above cap {}", o.qty.get() * s.price, cap);
            }
            prop_assert!(margin <= s.available, "margin {} above available {}", margin, s.available);
            if s.mode == CopyMode::SmartSync {
                prop_assert!(margin <= s.amount - s.in_use, "margin {} above free investment {}", margin, s.amount - s.in_use);
            }
            if s.mode == CopyMode::FixedAmount {
                prop_assert!(s.amount <= s.available, "fixed amount is checked against the account value");
            }
        }
    }

    #[test]
    fn increases_stay_within_the_risk_limits(s in scenario(), held_m in 1i64..=5000, k_pm in 1i64..=2000) {
        let held = Decimal::new(held_m, 3);
        let mut input = open_input(&s, Side::Buy);
        let key = PositionKey::new("BTCUSDT", PositionSide::Both);
        let fside = if s.hedge { PositionSide::Long } else { PositionSide::Both };
        let lev = s.max_leverage;
        input.copy.ledger.positions.insert(key.clone(), LedgerPosition {
            symbol: btc(), follower_side: fside, direction: Direction::Long,
            k: Decimal::new(k_pm, 3), qty: held, declined: Decimal::ZERO, leader_qty: Decimal::ONE,
            margin: Decimal::ZERO, leverage: lev, margin_mode: MarginMode::Cross, last_event_ms: T0, stop: None,
        });
        input.follower.positions.push(FollowerPosition {
            key: PositionKey::new("BTCUSDT", fside), qty: held, entry_price: s.price,
            margin_mode: MarginMode::Cross, isolated_margin: Decimal::ZERO, unrealized_pnl: Decimal::ZERO,
            maint_margin: Decimal::ONE, max_removable_margin: Decimal::ZERO,
        });
        if let SignalKind::Fill(f) = &mut input.signal.kind {
            f.position_before = Decimal::ONE;
        }
        let p = plan(&input);
        let free = if s.mode == CopyMode::SmartSync {
            (s.amount - s.in_use).max(Decimal::ZERO).min(s.available)
        } else {
            s.available
        };
        for o in p.orders() {
            prop_assert_eq!(o.intent, OrderIntent::Increase, "a leader increase only increases");
            prop_assert!(!s.paused && s.age_ms <= 60_000, "paused or stale increases are refused");
            prop_assert!(o.qty.get() * s.price / Decimal::from(lev) <= free, "margin within the free funds {}", free);
            if let Some(cap) = s.max_notional {
                prop_assert!((held + o.qty.get()) * s.price <= cap, "position notional within the cap {}", cap);
            }
        }
    }

    #[test]
    fn closes_and_reduces_are_never_blocked(
        s in scenario(),
        held_m in 1i64..=5000,
        frac_pm in 1i64..=1000,
    ) {
        let held = Decimal::new(held_m, 3);
        let mut input = open_input(&s, Side::Sell);
        let key = PositionKey::new("BTCUSDT", PositionSide::Both);
        let fside = if s.hedge { PositionSide::Long } else { PositionSide::Both };
        input.copy.ledger.positions.insert(key.clone(), LedgerPosition {
            symbol: btc(), follower_side: fside, direction: Direction::Long,
            k: held / s.leader_qty, qty: held, declined: Decimal::ZERO, leader_qty: s.leader_qty,
            margin: dec!(10), leverage: 5, margin_mode: MarginMode::Cross, last_event_ms: T0, stop: None,
        });
        input.follower.positions.push(FollowerPosition {
            key: PositionKey::new("BTCUSDT", fside), qty: held, entry_price: s.price,
            margin_mode: MarginMode::Cross, isolated_margin: Decimal::ZERO, unrealized_pnl: Decimal::ZERO,
            maint_margin: Decimal::ONE, max_removable_margin: Decimal::ZERO,
        });
        let closed = (s.leader_qty * Decimal::new(frac_pm, 3)).max(Decimal::new(1, 3)).min(s.leader_qty);
        if let SignalKind::Fill(f) = &mut input.signal.kind {
            f.qty = Quantity::new(closed).unwrap_or(Quantity::ZERO);
            f.position_before = s.leader_qty;
        }
        let p = plan(&input);
        let closes: Vec<&OrderPlan> = p.orders().filter(|o| o.intent.is_closing()).collect();
        prop_assert!(p.orders().all(|o| o.intent.is_closing()), "a reduce never opens");
        for o in &closes {
            prop_assert_eq!(o.side, Side::Sell, "closing a long sells");
            prop_assert_eq!(o.reduce_only, !s.hedge, "reduce-only only in one-way mode");
            prop_assert_eq!(o.position_side, fside, "the close names the position's book");
        }
        if closed == s.leader_qty {
            prop_assert_eq!(closes.len(), 1, "a full close is always sent: {:?}", p.actions);
            prop_assert_eq!(closes[0].qty.get(), held, "and closes all");
        } else if closes.is_empty() {
            prop_assert!(p.notice(NoticeKind::BelowMinimum).is_some(),
                "a partial close is only held back below the venue minimum: {:?}", p.actions);
        }
    }

    #[test]
    fn planning_is_deterministic(s in scenario(), buy in any::<bool>()) {
        let input = open_input(&s, if buy { Side::Buy } else { Side::Sell });
        prop_assert_eq!(plan(&input), plan(&input), "same input, same plan and client ids");
    }

    #[test]
    fn reconciliation_converges_in_one_pass_and_never_opens(
        ledger_m in 1i64..=20_000,
        follower_m in 0i64..=25_000,
        leader_m in 0i64..=300_000,
        k_pm in 1i64..=1000,
        declined_m in 0i64..=2000,
        available in dec_in(0, 10_000, 0),
        confirmed in any::<bool>(),
        independent in any::<bool>(),
        cap in proptest::option::of(dec_in(100, 20_000, 0)),
    ) {
        let key = PositionKey::new("BTCUSDT", PositionSide::Both);
        let mut settings = settings(&Scenario {
            mode: CopyMode::FixedAmount, amount: dec!(50), max_leverage: 5, max_notional: cap,
            in_use: Decimal::ZERO, available, leader_qty: Decimal::ONE, price: dec!(50000),
            current: dec!(50000), leverage: 5, equity: Decimal::ONE, paused: false, age_ms: 0, hedge: false,
        });
        settings.risk.close_independent_trades = independent;
        let mut ledger = Ledger::default();
        ledger.positions.insert(key.clone(), LedgerPosition {
            symbol: btc(), follower_side: PositionSide::Both, direction: Direction::Long,
            k: Decimal::new(k_pm, 3), qty: Decimal::new(ledger_m, 3), declined: Decimal::new(declined_m, 3),
            leader_qty: Decimal::new(leader_m, 3), margin: dec!(10), leverage: 5,
            margin_mode: MarginMode::Cross, last_event_ms: T0, stop: None,
        });
        let mut f = follower(available, PositionMode::OneWay);
        let fqty = Decimal::new(follower_m, 3);
        f.positions.push(FollowerPosition {
            key: key.clone(), qty: fqty, entry_price: dec!(50000), margin_mode: MarginMode::Cross,
            isolated_margin: Decimal::ZERO, unrealized_pnl: Decimal::ZERO, maint_margin: Decimal::ONE,
            max_removable_margin: Decimal::ZERO,
        });
        let mut leader = BTreeMap::new();
        if leader_m > 0 {
            leader.insert(key.clone(), Decimal::new(leader_m, 3));
        }
        let mut markets = BTreeMap::new();
        markets.insert("BTCUSDT".to_owned(), market(dec!(50000), dec!(50000)));
        let mut input = ReconcileInput {
            copy: CopyContext { id: "c".into(), settings, state: CopyState::Running, t0_ms: T0, ledger, held: None },
            pass_id: "pass-1".into(),
            leader: LeaderSnapshot {
                status: if confirmed { SnapshotStatus::Confirmed } else { SnapshotStatus::Unconfirmed },
                positions: leader,
            },
            follower: f,
            market: markets,
            announced_outside: BTreeMap::new(),
        };
        let first = reconcile(&input);
        prop_assert_eq!(&first, &reconcile(&input), "reconciliation is deterministic");
        let mut qty = fqty;
        for o in first.orders() {
            prop_assert!(o.intent != OrderIntent::Open, "reconciliation never opens");
            match o.intent {
                OrderIntent::Increase => {
                    prop_assert!(fqty > Decimal::ZERO, "an increase only grows a held position");
                    qty += o.qty.get();
                }
                _ => qty -= o.qty.get(),
            }
        }
        prop_assert!(qty >= Decimal::ZERO, "never closes more than held");
        input.follower.positions[0].qty = qty;
        input.copy.ledger = first.ledger.clone();
        input.pass_id = "pass-2".into();
        let second = reconcile(&input);
        prop_assert_eq!(second.orders().count(), 0,
            "a second pass finds nothing to do: first {:?}, second {:?}", first.actions, second.actions);
    }
}
