//! Integration tests of `engine` (see the module for what it owns): the worked examples of
//! copy-rules.md as tables with the same numbers, and the notices of every skip rule,
//! through the public API only.

use std::collections::{BTreeMap, BTreeSet};

use copydesk::domain::{
    Asset, CopyMode, CopySettings, LeaderFill, LeaderSignal, MarginMode, PositionMode,
    PositionSide, Preset, Price, Quantity, RiskSettings, Side, SignalKind, StartActions, Symbol,
    SymbolFilters,
};
use copydesk::engine::{
    plan, ActionKind, Balance, CopyContext, CopyState, Direction, FollowerPosition,
    FollowerSnapshot, Ledger, LedgerPosition, MarketInfo, NoticeKind, OrderIntent, Plan, PlanInput,
    PositionKey, SymbolConfig,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const T0: i64 = 1_700_000_000_000;
const NOW: i64 = T0 + 100_000;

fn px(p: Decimal) -> Price {
    Price::new(p).expect("test prices are positive")
}

fn qty(q: Decimal) -> Quantity {
    Quantity::new(q).expect("test quantities are not negative")
}

fn symbol(base: &str, quote: &str) -> Symbol {
    Symbol::new(
        format!("{base}{quote}"),
        Asset::new(base).expect("base asset"),
        Asset::new(quote).expect("quote asset"),
    )
}

fn filters(tick: Decimal, step: Decimal, min_qty: Decimal, min_notional: Decimal) -> SymbolFilters {
    SymbolFilters {
        tick_size: tick,
        step_size: step,
        market_step_size: step,
        min_qty,
        max_qty: dec!(1000),
        market_min_qty: min_qty,
        market_max_qty: dec!(1000),
        min_notional,
    }
}

fn btc_market(price: Decimal) -> MarketInfo {
    MarketInfo {
        symbol: symbol("BTC", "USDT"),
        filters: filters(dec!(0.1), dec!(0.001), dec!(0.001), dec!(100)),
        mark_price: px(price),
        current_price: px(price),
    }
}

fn eth_market(price: Decimal) -> MarketInfo {
    MarketInfo {
        symbol: symbol("ETH", "USDT"),
        filters: filters(dec!(0.01), dec!(0.001), dec!(0.001), dec!(20)),
        mark_price: px(price),
        current_price: px(price),
    }
}

fn settings(mode: CopyMode) -> CopySettings {
    CopySettings {
        mode,
        investment: None,
        amount_per_order: None,
        ratio: None,
        copy_ongoing_positions: false,
        preset: Preset::None,
        start: StartActions::default(),
        risk: RiskSettings::default(),
    }
}

fn smart_sync(investment: Decimal) -> CopySettings {
    CopySettings {
        investment: Some(investment),
        ..settings(CopyMode::SmartSync)
    }
}

fn copy(settings: CopySettings) -> CopyContext {
    CopyContext {
        id: "copy-1".into(),
        settings,
        state: CopyState::Running,
        t0_ms: T0,
        ledger: Ledger::default(),
    }
}

fn follower(usdt: Decimal) -> FollowerSnapshot {
    let mut balances = BTreeMap::new();
    balances.insert(
        Asset::usdt(),
        Balance {
            wallet: usdt,
            available: usdt,
        },
    );
    FollowerSnapshot {
        position_mode: PositionMode::OneWay,
        multi_assets_mode: false,
        account_value: usdt,
        balances,
        positions: Vec::new(),
        symbol_configs: BTreeMap::new(),
        open_orders: Vec::new(),
        held_by_other_copies: BTreeSet::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn fill(
    sym: Symbol,
    side: Side,
    q: Decimal,
    price: Decimal,
    before: Decimal,
    leverage: u32,
    equity: Option<Decimal>,
    id: &str,
) -> LeaderSignal {
    LeaderSignal {
        id: id.into(),
        symbol: sym,
        position_side: PositionSide::Both,
        event_time_ms: NOW - 500,
        kind: SignalKind::Fill(LeaderFill {
            order_id: format!("order-{id}"),
            side,
            qty: qty(q),
            price: px(price),
            position_before: before,
            order_final: true,
            leverage,
            margin_mode: MarginMode::Cross,
            equity_before: equity,
        }),
    }
}

fn input(
    copy: CopyContext,
    signal: LeaderSignal,
    follower: FollowerSnapshot,
    market: MarketInfo,
) -> PlanInput {
    PlanInput {
        copy,
        signal,
        follower,
        market,
        now_ms: NOW,
        server_offset_ms: 0,
    }
}

fn only_order(p: &Plan) -> &copydesk::engine::OrderPlan {
    let orders: Vec<_> = p.orders().collect();
    assert_eq!(
        orders.len(),
        1,
        "exactly one order should be planned: {:#?}",
        p.actions
    );
    orders[0]
}

fn leverage_set(p: &Plan) -> Option<u32> {
    p.actions.iter().find_map(|a| match a.kind {
        ActionKind::SetLeverage { leverage, .. } => Some(leverage),
        _ => None,
    })
}

/// Examples A and B of copy-rules.md 2.1: leader equity 10,000 opens BTCUSDT long with
/// 1,000 USDT margin at 50,000; investment 1,000; step 0.001.
#[test]
fn smart_sync_worked_examples_a_and_b() {
    struct Row {
        name: &'static str,
        leader_leverage: u32,
        max_leverage: u32,
        follower_qty: Decimal,
        follower_leverage: u32,
        follower_margin: Decimal,
    }
    let rows = [
        Row {
            name: "A: 5x, cap 5",
            leader_leverage: 5,
            max_leverage: 5,
            follower_qty: dec!(0.010),
            follower_leverage: 5,
            follower_margin: dec!(100),
        },
        Row {
            name: "B: 20x capped to 5x keeps margin 100, notional 500",
            leader_leverage: 20,
            max_leverage: 5,
            follower_qty: dec!(0.010),
            follower_leverage: 5,
            follower_margin: dec!(100),
        },
    ];
    for row in rows {
        // Leader margin 1,000 at L: quantity = 1,000 × L / 50,000.
        let leader_qty = dec!(1000) * Decimal::from(row.leader_leverage) / dec!(50000);
        let mut s = smart_sync(dec!(1000));
        s.risk.max_leverage = row.max_leverage;
        let sig = fill(
            symbol("BTC", "USDT"),
            Side::Buy,
            leader_qty,
            dec!(50000),
            Decimal::ZERO,
            row.leader_leverage,
            Some(dec!(10000)),
            "a",
        );
        let p = plan(&input(
            copy(s),
            sig,
            follower(dec!(5000)),
            btc_market(dec!(50000)),
        ));
        let o = only_order(&p);
        assert_eq!(
            o.qty.get(),
            row.follower_qty,
            "{}: follower buys {}",
            row.name,
            row.follower_qty
        );
        assert_eq!(o.side, Side::Buy, "{}: a long open buys", row.name);
        assert!(!o.reduce_only, "{}: an open is not reduce-only", row.name);
        assert_eq!(o.intent, OrderIntent::Open, "{}: it is an open", row.name);
        assert_eq!(
            leverage_set(&p),
            Some(row.follower_leverage),
            "{}: leverage",
            row.name
        );
        let pos = p
            .ledger
            .positions
            .get(&PositionKey::new("BTCUSDT", PositionSide::Both))
            .expect("the open is recorded in the ledger");
        assert_eq!(
            pos.margin, row.follower_margin,
            "{}: margin in use",
            row.name
        );
        assert_eq!(
            pos.k,
            row.follower_qty / leader_qty,
            "{}: k = follower / leader",
            row.name
        );
        let reason = &p
            .actions
            .iter()
            .find(|a| matches!(a.kind, ActionKind::PlaceOrder(_)))
            .expect("order")
            .reason;
        assert!(
            reason.contains("10% of equity 10000"),
            "{}: reason names r and equity: {reason}",
            row.name
        );
        assert!(
            reason.contains("notional 500"),
            "{}: reason names the notional: {reason}",
            row.name
        );
    }
}

/// Example C of copy-rules.md 2.2: amount 50, ETHUSDT short at 10x, max 5, price 2,500.
#[test]
fn fixed_amount_worked_example_c() {
    let s = CopySettings {
        amount_per_order: Some(dec!(50)),
        ..settings(CopyMode::FixedAmount)
    };
    let sig = fill(
        symbol("ETH", "USDT"),
        Side::Sell,
        dec!(4),
        dec!(2500),
        Decimal::ZERO,
        10,
        None,
        "c",
    );
    let p = plan(&input(
        copy(s),
        sig,
        follower(dec!(1000)),
        eth_market(dec!(2500)),
    ));
    let o = only_order(&p);
    assert_eq!(
        o.qty.get(),
        dec!(0.100),
        "notional 250 at 2,500 should be 0.100 ETH"
    );
    assert_eq!(o.side, Side::Sell, "a short open sells");
    assert_eq!(leverage_set(&p), Some(5), "10x capped by max_leverage 5");
}

/// Fixed ratio of copy-rules.md 2.3: quantity = leader quantity × ratio, rounded down.
#[test]
fn fixed_ratio_multiplies_and_rounds_down() {
    let s = CopySettings {
        ratio: Some(dec!(0.1)),
        ..settings(CopyMode::FixedRatio)
    };
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Buy,
        dec!(0.0579),
        dec!(50000),
        Decimal::ZERO,
        3,
        None,
        "r",
    );
    let p = plan(&input(
        copy(s),
        sig,
        follower(dec!(1000)),
        btc_market(dec!(50000)),
    ));
    // 0.0579 × 0.1 = 0.00579 → 0.005; notional 250 ≥ 100.
    assert_eq!(
        only_order(&p).qty.get(),
        dec!(0.005),
        "0.00579 rounds down to 0.005"
    );
}

fn copied_btc(
    follower_qty: Decimal,
    leader_qty: Decimal,
    margin_mode: MarginMode,
) -> (CopyContext, FollowerSnapshot) {
    let mut c = copy(smart_sync(dec!(1000)));
    let key = PositionKey::new("BTCUSDT", PositionSide::Both);
    c.ledger.positions.insert(
        key.clone(),
        LedgerPosition {
            symbol: symbol("BTC", "USDT"),
            follower_side: PositionSide::Both,
            direction: Direction::Long,
            k: follower_qty / leader_qty,
            qty: follower_qty,
            declined: Decimal::ZERO,
            leader_qty,
            margin: dec!(100),
            leverage: 5,
            margin_mode,
            last_event_ms: T0,
            stop: None,
        },
    );
    let mut f = follower(dec!(5000));
    f.positions.push(FollowerPosition {
        key,
        qty: follower_qty,
        entry_price: dec!(50000),
        margin_mode,
        isolated_margin: if margin_mode == MarginMode::Isolated {
            dec!(100)
        } else {
            Decimal::ZERO
        },
        unrealized_pnl: Decimal::ZERO,
        maint_margin: dec!(20),
        max_removable_margin: dec!(1000),
    });
    f.symbol_configs.insert(
        "BTCUSDT".into(),
        SymbolConfig {
            leverage: 5,
            margin_mode,
        },
    );
    (c, f)
}

fn margin_change(change: Decimal, before: Decimal, id: &str) -> LeaderSignal {
    LeaderSignal {
        id: id.into(),
        symbol: symbol("BTC", "USDT"),
        position_side: PositionSide::Both,
        event_time_ms: NOW - 500,
        kind: SignalKind::IsolatedMargin {
            change,
            isolated_margin_before: before,
        },
    }
}

fn margin_adjust(p: &Plan) -> Option<Decimal> {
    p.actions.iter().find_map(|a| match a.kind {
        ActionKind::AdjustIsolatedMargin { amount, .. } => Some(amount),
        _ => None,
    })
}

/// Example D of copy-rules.md 3: leader isolated margin 1,000, follower 100; leader adds
/// 500 → follower adds 50; leader reduces 300 from 1,500 → follower reduces 30.
#[test]
fn margin_sync_worked_example_d() {
    let (c, mut f) = copied_btc(dec!(0.01), dec!(0.1), MarginMode::Isolated);
    let add = plan(&input(
        c.clone(),
        margin_change(dec!(500), dec!(1000), "d1"),
        f.clone(),
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        margin_adjust(&add),
        Some(dec!(50)),
        "500 × 100/1,000 should add 50: {:#?}",
        add.actions
    );
    f.positions[0].isolated_margin = dec!(150);
    let mut c2 = c;
    c2.ledger = add.ledger;
    let red = plan(&input(
        c2,
        margin_change(dec!(-300), dec!(1500), "d2"),
        f,
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        margin_adjust(&red),
        Some(dec!(-30)),
        "300 × 150/1,500 should remove 30: {:#?}",
        red.actions
    );
}

#[test]
fn partial_close_closes_the_same_fraction_and_full_close_closes_all() {
    let (c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
    // Leader sells 0.04 of 0.1: f = 0.4 → 0.004 of 0.010; remainder 0.006 ≥ 0.001.
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Sell,
        dec!(0.04),
        dec!(50000),
        dec!(0.1),
        5,
        None,
        "p",
    );
    let p = plan(&input(c.clone(), sig, f.clone(), btc_market(dec!(50000))));
    let o = only_order(&p);
    assert_eq!(o.qty.get(), dec!(0.004), "f 0.4 × 0.010 = 0.004");
    assert!(o.reduce_only, "one-way closes are reduce-only");
    assert_eq!(o.side, Side::Sell, "closing a long sells");
    // With a minimum quantity of 0.002: 0.0995 of 0.1 → 0.00995 → 0.009 leaves 0.001,
    // below the minimum, so all 0.010 is closed.
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Sell,
        dec!(0.0995),
        dec!(50000),
        dec!(0.1),
        5,
        None,
        "p2",
    );
    let mut m = btc_market(dec!(50000));
    m.filters.market_min_qty = dec!(0.002);
    let p = plan(&input(c.clone(), sig, f.clone(), m));
    assert_eq!(
        only_order(&p).qty.get(),
        dec!(0.010),
        "a remainder below min qty closes all"
    );
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Sell,
        dec!(0.1),
        dec!(50000),
        dec!(0.1),
        5,
        None,
        "full",
    );
    let p = plan(&input(c, sig, f, btc_market(dec!(50000))));
    assert_eq!(
        only_order(&p).intent,
        OrderIntent::Close,
        "a full leader close closes all"
    );
    assert!(
        p.ledger.positions.is_empty(),
        "the closed position leaves the ledger"
    );
}

#[test]
fn hedge_mode_closes_by_position_side_without_reduce_only() {
    let (mut c, mut f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
    f.position_mode = PositionMode::Hedge;
    let pos = c
        .ledger
        .positions
        .get_mut(&PositionKey::new("BTCUSDT", PositionSide::Both))
        .expect("copied");
    pos.follower_side = PositionSide::Long;
    f.positions[0].key = PositionKey::new("BTCUSDT", PositionSide::Long);
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Sell,
        dec!(0.1),
        dec!(50000),
        dec!(0.1),
        5,
        None,
        "h",
    );
    let p = plan(&input(c, sig, f, btc_market(dec!(50000))));
    let o = only_order(&p);
    assert_eq!(
        o.position_side,
        PositionSide::Long,
        "the close names the LONG book"
    );
    assert_eq!(o.side, Side::Sell, "on the opposite side");
    assert!(!o.reduce_only, "hedge mode must not send reduceOnly");
}

#[test]
fn flip_closes_then_opens_the_other_side() {
    let (c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
    // Leader long 0.1 sells 0.2 at 5x with equity 10,000: new short 0.1 → margin 1,000.
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Sell,
        dec!(0.2),
        dec!(50000),
        dec!(0.1),
        5,
        Some(dec!(10000)),
        "flip",
    );
    let p = plan(&input(c, sig, f, btc_market(dec!(50000))));
    let orders: Vec<_> = p.orders().collect();
    assert_eq!(
        orders.len(),
        2,
        "a flip is a close and an open: {:#?}",
        p.actions
    );
    assert_eq!(
        orders[0].intent,
        OrderIntent::Close,
        "the close comes first"
    );
    assert_eq!(orders[0].qty.get(), dec!(0.010), "the whole long is closed");
    assert_eq!(
        orders[1].intent,
        OrderIntent::Open,
        "then the new side opens"
    );
    assert_eq!(orders[1].side, Side::Sell, "the new side is short");
    assert_eq!(
        orders[1].qty.get(),
        dec!(0.010),
        "sized per the mode like example A"
    );
    assert_ne!(
        orders[0].client_id, orders[1].client_id,
        "each leg has its own id"
    );
}

#[test]
fn increase_adds_delta_times_k() {
    let (c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
    // k = 0.1; leader adds 0.05 → 0.005.
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Buy,
        dec!(0.05),
        dec!(50000),
        dec!(0.1),
        5,
        Some(dec!(10000)),
        "inc",
    );
    let p = plan(&input(c, sig, f, btc_market(dec!(50000))));
    let o = only_order(&p);
    assert_eq!(o.qty.get(), dec!(0.005), "Δq 0.05 × k 0.1 = 0.005");
    assert_eq!(o.intent, OrderIntent::Increase, "it is an increase");
}

#[test]
fn leverage_change_is_capped_and_margin_mode_waits_for_a_flat_symbol() {
    let (c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
    let lev = LeaderSignal {
        id: "lev".into(),
        symbol: symbol("BTC", "USDT"),
        position_side: PositionSide::Both,
        event_time_ms: NOW - 500,
        kind: SignalKind::LeverageChange { leverage: 20 },
    };
    let p = plan(&input(c.clone(), lev, f.clone(), btc_market(dec!(50000))));
    assert_eq!(
        leverage_set(&p),
        Some(5),
        "leader 20x capped by max_leverage 5"
    );
    let mm = LeaderSignal {
        id: "mm".into(),
        symbol: symbol("BTC", "USDT"),
        position_side: PositionSide::Both,
        event_time_ms: NOW - 500,
        kind: SignalKind::MarginModeChange {
            margin_mode: MarginMode::Isolated,
        },
    };
    let p = plan(&input(c, mm.clone(), f, btc_market(dec!(50000))));
    let text = p
        .notice(NoticeKind::MarginModeDeferred)
        .expect("deferred with a notice");
    assert!(
        text.contains("next open") && text.contains("open BTCUSDT position"),
        "names the cause: {text}"
    );
    let p = plan(&input(
        copy(smart_sync(dec!(1000))),
        mm,
        follower(dec!(1000)),
        btc_market(dec!(50000)),
    ));
    assert!(
        p.actions.iter().any(|a| matches!(
            a.kind,
            ActionKind::SetMarginMode {
                margin_mode: MarginMode::Isolated,
                ..
            }
        )),
        "with no open position the mode is set at once: {:#?}",
        p.actions
    );
}

/// Each skip rule's notice names its cause.
#[test]
fn every_skip_notice_names_its_cause() {
    let a = || {
        fill(
            symbol("BTC", "USDT"),
            Side::Buy,
            dec!(0.1),
            dec!(50000),
            Decimal::ZERO,
            5,
            Some(dec!(10000)),
            "s",
        )
    };
    type Tweak = fn(&mut PlanInput);
    let rows: Vec<(&str, NoticeKind, &str, Tweak)> = vec![
        ("paused", NoticeKind::CopyPaused, "paused", |i| {
            i.copy.state = CopyState::Paused
        }),
        (
            "too old",
            NoticeKind::TooOld,
            "max_signal_age_secs 60",
            |i| i.signal.event_time_ms = NOW - 61_000,
        ),
        (
            "slippage",
            NoticeKind::Slippage,
            "beyond the slippage cap 0.5%",
            |i| i.market.current_price = Price::new(dec!(50300)).expect("positive"),
        ),
        (
            "quote",
            NoticeKind::QuoteNotAllowed,
            "quote asset USDT is not in allowed_quote_assets",
            |i| i.copy.settings.risk.allowed_quote_assets = vec![Asset::usdc()],
        ),
        (
            "blocklist",
            NoticeKind::SymbolFiltered,
            "symbol_blocklist",
            |i| i.copy.settings.risk.symbol_blocklist = vec!["BTCUSDT".into()],
        ),
        (
            "allowlist",
            NoticeKind::SymbolFiltered,
            "not in symbol_allowlist",
            |i| i.copy.settings.risk.symbol_allowlist = vec!["ETHUSDT".into()],
        ),
        (
            "margin asset",
            NoticeKind::MarginAssetMissing,
            "holds no USDT",
            |i| i.follower.balances.clear(),
        ),
        (
            "other copy",
            NoticeKind::HeldByOtherCopy,
            "another copy",
            |i| {
                i.follower
                    .held_by_other_copies
                    .insert(PositionKey::new("BTCUSDT", PositionSide::Both));
            },
        ),
        (
            "no equity",
            NoticeKind::NoLeaderEquity,
            "equity is unknown",
            |i| {
                if let SignalKind::Fill(f) = &mut i.signal.kind {
                    f.equity_before = None;
                }
            },
        ),
        (
            "below minimum",
            NoticeKind::BelowMinimum,
            "more than 2 × 5 = 10",
            |i| {
                // r = 0.5 %: margin 5 → 0.0005 BTC; the minimum 0.002 needs margin 20.
                if let SignalKind::Fill(f) = &mut i.signal.kind {
                    f.qty = Quantity::new(dec!(0.005)).expect("valid");
                }
            },
        ),
        (
            "funds",
            NoticeKind::InsufficientFunds,
            "copy's free investment is 0",
            |i| {
                i.copy.ledger.positions.insert(
                    PositionKey::new("ETHUSDT", PositionSide::Both),
                    LedgerPosition {
                        symbol: symbol("ETH", "USDT"),
                        follower_side: PositionSide::Both,
                        direction: Direction::Long,
                        k: Decimal::ONE,
                        qty: Decimal::ONE,
                        declined: Decimal::ZERO,
                        leader_qty: Decimal::ONE,
                        margin: dec!(1000),
                        leverage: 5,
                        margin_mode: MarginMode::Cross,
                        last_event_ms: T0,
                        stop: None,
                    },
                );
            },
        ),
        (
            "cap",
            NoticeKind::PositionCapped,
            "max_position_notional 50",
            |i| i.copy.settings.risk.max_position_notional = Some(dec!(50)),
        ),
        (
            "before start",
            NoticeKind::BeforeStart,
            "before the copy started",
            |i| i.signal.event_time_ms = T0 - 1,
        ),
        ("stopped", NoticeKind::CopyStopped, "stopped", |i| {
            i.copy.state = CopyState::Stopped
        }),
        (
            "multi-assets",
            NoticeKind::MultiAssetsWithIsolated,
            "multi-assets mode",
            |i| {
                i.follower.multi_assets_mode = true;
                if let SignalKind::Fill(f) = &mut i.signal.kind {
                    f.margin_mode = MarginMode::Isolated;
                }
            },
        ),
        (
            "hedge leader, one-way follower",
            NoticeKind::PositionModeMismatch,
            "hedge mode",
            |i| i.signal.position_side = PositionSide::Long,
        ),
    ];
    for (name, kind, words, tweak) in rows {
        let mut i = input(
            copy(smart_sync(dec!(1000))),
            a(),
            follower(dec!(5000)),
            btc_market(dec!(50000)),
        );
        tweak(&mut i);
        let p = plan(&i);
        assert_eq!(
            p.orders().count(),
            0,
            "{name}: nothing is opened: {:#?}",
            p.actions
        );
        let text = p
            .notice(kind)
            .unwrap_or_else(|| panic!("{name}: a {kind:?} notice is expected: {:#?}", p.actions));
        assert!(
            text.contains(words),
            "{name}: notice should name `{words}`: {text}"
        );
    }
}
