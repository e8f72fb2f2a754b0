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
        held: None,
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
fn a_leader_open_from_flat_never_adds_to_a_stale_entry_of_the_other_direction() {
    // The follower's close of its long 0.010 was refused: the ledger still holds it while
    // the leader is flat. The leader now sells 0.1 from flat (a new short).
    let (c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Sell,
        dec!(0.1),
        dec!(50000),
        dec!(0),
        5,
        Some(dec!(10000)),
        "reopen",
    );
    let p = plan(&input(c, sig, f, btc_market(dec!(50000))));
    let orders: Vec<_> = p.orders().collect();
    assert!(
        orders.iter().all(|o| o.side == Side::Sell),
        "nothing is bought while the leader sells: {:#?}",
        p.actions
    );
    assert_eq!(
        orders.first().map(|o| (o.intent, o.qty.get())),
        Some((OrderIntent::Close, dec!(0.010))),
        "the stale long is closed first: {:#?}",
        p.actions
    );
    assert_eq!(
        orders.get(1).map(|o| (o.intent, o.qty.get())),
        Some((OrderIntent::Open, dec!(0.010))),
        "then the short opens as sized by the mode: {:#?}",
        p.actions
    );
    let pos = p
        .ledger
        .positions
        .values()
        .next()
        .expect("the new position");
    assert_eq!(
        pos.direction,
        Direction::Short,
        "the ledger holds the short"
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

/// Reconciliation read the leader after a fill whose event was still on its way and
/// matched the book to it (`leader_qty`); the event then changes nothing, or only what
/// reconciliation had not seen.
#[test]
fn a_fill_reconciliation_already_matched_is_not_applied_again() {
    let (mut c, f) = copied_btc(dec!(0.015), dec!(0.15), MarginMode::Cross);
    // The book was 0.1 → 0.010 (k 0.1); reconciliation saw the leader at 0.15, added 0.005.
    let add = |q, id| {
        fill(
            symbol("BTC", "USDT"),
            Side::Buy,
            q,
            dec!(50000),
            dec!(0.1),
            5,
            Some(dec!(10000)),
            id,
        )
    };
    let p = plan(&input(
        c.clone(),
        add(dec!(0.05), "late"),
        f.clone(),
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        p.orders().count(),
        0,
        "the add 0.1 → 0.15 is in the book already"
    );
    assert!(
        p.notice(NoticeKind::AlreadyReconciled)
            .is_some_and(|t| t.contains("from 0.1 to 0.15") && t.contains("leader's 0.15")),
        "and says so: {:?}",
        p.notices().collect::<Vec<_>>()
    );
    // The add went on to 0.2: only 0.15 → 0.2 is new, 0.05 × k 0.1 = 0.005.
    let p = plan(&input(
        c.clone(),
        add(dec!(0.1), "more"),
        f.clone(),
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        only_order(&p).qty.get(),
        dec!(0.005),
        "only what reconciliation had not seen"
    );
    // A reduce the same way round: the leader went 0.15 → 0.05 and reconciliation already
    // reduced the book to the leader's 0.05.
    for pos in c.ledger.positions.values_mut() {
        pos.leader_qty = dec!(0.05);
        pos.qty = dec!(0.005);
    }
    let p = plan(&input(
        c,
        sell_close(dec!(0.1), dec!(0.15), "cut"),
        f,
        btc_market(dec!(50000)),
    ));
    assert_eq!(p.orders().count(), 0, "the reduce is in the book already");
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
            "held, not paused",
            NoticeKind::CopyPaused,
            "holding opens because a position has no exchange-side stop",
            |i| {
                i.copy.state = CopyState::Paused;
                i.copy.held = Some(
                    "the copy is holding opens because a position has no exchange-side stop".into(),
                );
            },
        ),
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

fn sell_close(q: Decimal, before: Decimal, id: &str) -> LeaderSignal {
    fill(
        symbol("BTC", "USDT"),
        Side::Sell,
        q,
        dec!(50000),
        before,
        5,
        None,
        id,
    )
}

#[test]
fn pause_keeps_closes_and_margin_reduces_but_refuses_opens_and_adds() {
    let (mut c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Isolated);
    c.state = CopyState::Paused;
    let p = plan(&input(
        c.clone(),
        sell_close(dec!(0.05), dec!(0.1), "pc"),
        f.clone(),
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        only_order(&p).qty.get(),
        dec!(0.005),
        "a paused copy still halves with the leader"
    );
    let p = plan(&input(
        c.clone(),
        margin_change(dec!(-300), dec!(1000), "pr"),
        f.clone(),
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        margin_adjust(&p),
        Some(dec!(-30)),
        "a paused copy still reduces margin"
    );
    let p = plan(&input(
        c.clone(),
        margin_change(dec!(300), dec!(1000), "pa"),
        f.clone(),
        btc_market(dec!(50000)),
    ));
    assert_eq!(margin_adjust(&p), None, "a paused copy adds no margin");
    assert!(
        p.notice(NoticeKind::CopyPaused)
            .is_some_and(|t| t.contains("paused")),
        "and says why"
    );
    let inc = fill(
        symbol("BTC", "USDT"),
        Side::Buy,
        dec!(0.05),
        dec!(50000),
        dec!(0.1),
        5,
        Some(dec!(10000)),
        "pi",
    );
    let p = plan(&input(c, inc, f, btc_market(dec!(50000))));
    assert_eq!(p.orders().count(), 0, "a paused copy does not increase");
    let pos = p.ledger.positions.values().next().expect("still copied");
    assert_eq!(
        pos.declined,
        dec!(0.005),
        "the skipped increase is declined, so resume does not restore it"
    );
}

#[test]
fn closes_run_whatever_their_age_and_slippage() {
    let (c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
    let mut sig = sell_close(dec!(0.1), dec!(0.1), "old-close");
    sig.event_time_ms = T0 + 1; // 99.999 s old, past the 60 s limit for opens
    let mut m = btc_market(dec!(50000));
    m.current_price = px(dec!(40000));
    let p = plan(&input(c, sig, f, m));
    assert_eq!(
        only_order(&p).intent,
        OrderIntent::Close,
        "an old close with a 20 % move still closes"
    );
}

#[test]
fn partial_fills_of_one_leader_order_accumulate_until_the_minimum() {
    // Ratio 0.01: each leader fill of 0.05 BTC is 0.0005 BTC, below the 0.002 minimum.
    let s = CopySettings {
        ratio: Some(dec!(0.01)),
        ..settings(CopyMode::FixedRatio)
    };
    let mut c = copy(s);
    let mut before = Decimal::ZERO;
    let mut placed = Vec::new();
    for n in 0..4 {
        let mut sig = fill(
            symbol("BTC", "USDT"),
            Side::Buy,
            dec!(0.05),
            dec!(50000),
            before,
            5,
            None,
            &format!("f{n}"),
        );
        if let SignalKind::Fill(f) = &mut sig.kind {
            f.order_id = "one-order".into();
            f.order_final = false;
        }
        let p = plan(&input(
            c.clone(),
            sig,
            follower(dec!(5000)),
            btc_market(dec!(50000)),
        ));
        if n == 0 {
            let text = p.notice(NoticeKind::Pending).expect("the first fill waits");
            assert!(
                text.contains("below the minimum 0.002"),
                "pending names the minimum: {text}"
            );
        }
        placed.extend(p.orders().map(|o| o.qty.get()));
        c.ledger = p.ledger;
        before += dec!(0.05);
    }
    assert_eq!(
        placed,
        vec![dec!(0.002)],
        "four fills of 0.0005 add up to one order of 0.002"
    );
    assert!(
        c.ledger.pending.is_empty(),
        "nothing stays pending once sent"
    );
    let pos = c
        .ledger
        .positions
        .get(&PositionKey::new("BTCUSDT", PositionSide::Both))
        .expect("the accumulated open is copied");
    assert_eq!(
        pos.leader_qty,
        dec!(0.20),
        "the ledger knows the leader's whole 0.2"
    );
    assert_eq!(pos.k, dec!(0.01), "k = 0.002 / 0.2");
}

/// A fixed-amount copy's pending open is the amount, once: the order's later fills (and
/// its end, a fill of no quantity that completes it) add to the leader quantity it stands
/// for, never another amount.
#[test]
fn pending_fills_of_a_fixed_amount_copy_count_the_amount_once() {
    // 60 USDT at 1x is 0.0012 BTC at 50,000, below the 0.002 minimum.
    let s = CopySettings {
        amount_per_order: Some(dec!(60)),
        ..settings(CopyMode::FixedAmount)
    };
    let mut c = copy(s);
    let mut placed = Vec::new();
    for (n, (q, last)) in [(dec!(0.5), false), (dec!(0.3), false), (dec!(0), true)]
        .into_iter()
        .enumerate()
    {
        let before = [dec!(0), dec!(0.5), dec!(0.8)][n];
        let mut sig = fill(
            symbol("BTC", "USDT"),
            Side::Buy,
            q,
            dec!(50000),
            before,
            1,
            None,
            &format!("f{n}"),
        );
        if let SignalKind::Fill(f) = &mut sig.kind {
            f.order_id = "one-order".into();
            f.order_final = last;
        }
        let p = plan(&input(
            c.clone(),
            sig,
            follower(dec!(5000)),
            btc_market(dec!(50000)),
        ));
        if !last {
            let text = p.notice(NoticeKind::Pending).expect("the fill waits");
            assert!(
                text.contains("0.0012 BTCUSDT"),
                "pending holds the amount once: {text}"
            );
        }
        placed.extend(p.orders().map(|o| o.qty.get()));
        c.ledger = p.ledger;
    }
    assert_eq!(
        placed,
        vec![dec!(0.002)],
        "the amount's 0.0012 is raised to the minimum once, at the order's end"
    );
    let pos = c
        .ledger
        .positions
        .get(&PositionKey::new("BTCUSDT", PositionSide::Both))
        .expect("the open is copied");
    assert_eq!(pos.leader_qty, dec!(0.8), "the leader's whole 0.8");
    assert_eq!(pos.k, dec!(0.0025), "k = 0.002 / 0.8");
}

#[test]
fn fixed_amount_above_account_value_is_skipped_before_the_open() {
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
        follower(dec!(40)),
        eth_market(dec!(2500)),
    ));
    assert_eq!(p.orders().count(), 0, "no open above the account value");
    let text = p
        .notice(NoticeKind::AmountAboveAccountValue)
        .expect("a notice");
    assert!(
        text.contains("amount_per_order 50 exceeds the follower's account value 40"),
        "{text}"
    );
}

#[test]
fn minimum_bump_raises_within_twice_the_margin() {
    // r = 0.1 × 50,000/5 = 1,000... use 0.02 BTC: margin 200 of 10,000 = 2 % → 20 USDT,
    // notional 100 → 0.002 BTC: exactly the minimum. 0.015 BTC: 15 USDT → 0.0015 → 0.001,
    // below the 0.002 minimum; the minimum needs margin 20 ≤ 2 × 15: raised.
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Buy,
        dec!(0.015),
        dec!(50000),
        Decimal::ZERO,
        5,
        Some(dec!(10000)),
        "bump",
    );
    let p = plan(&input(
        copy(smart_sync(dec!(1000))),
        sig,
        follower(dec!(5000)),
        btc_market(dec!(50000)),
    ));
    let o = only_order(&p);
    assert_eq!(o.qty.get(), dec!(0.002), "raised to the minimum 0.002");
    let reason = &p
        .actions
        .iter()
        .find(|a| matches!(a.kind, ActionKind::PlaceOrder(_)))
        .expect("order")
        .reason;
    assert!(
        reason.contains("raised to the minimum 0.002"),
        "the reason says so: {reason}"
    );
}

#[test]
fn smart_sync_open_is_reduced_to_the_free_investment() {
    // Example A's open with only 60 of the 1,000 free: 60 × 5 / 50,000 = 0.006.
    let mut c = copy(smart_sync(dec!(1000)));
    c.ledger.positions.insert(
        PositionKey::new("ETHUSDT", PositionSide::Both),
        LedgerPosition {
            symbol: symbol("ETH", "USDT"),
            follower_side: PositionSide::Both,
            direction: Direction::Long,
            k: Decimal::ONE,
            qty: Decimal::ONE,
            declined: Decimal::ZERO,
            leader_qty: Decimal::ONE,
            margin: dec!(940),
            leverage: 5,
            margin_mode: MarginMode::Cross,
            last_event_ms: T0,
            stop: None,
        },
    );
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Buy,
        dec!(0.1),
        dec!(50000),
        Decimal::ZERO,
        5,
        Some(dec!(10000)),
        "funds",
    );
    let p = plan(&input(
        c,
        sig,
        follower(dec!(5000)),
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        only_order(&p).qty.get(),
        dec!(0.006),
        "reduced to what 60 free buys"
    );
    let pos = p
        .ledger
        .positions
        .get(&PositionKey::new("BTCUSDT", PositionSide::Both))
        .expect("copied");
    assert_eq!(
        pos.declined,
        dec!(0.004),
        "the dropped part is recorded as declined"
    );
}

#[test]
fn slippage_can_send_an_ioc_limit_at_the_cap() {
    let mut s = smart_sync(dec!(1000));
    s.risk.slippage_action = copydesk::domain::SlippageAction::IocLimit;
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Buy,
        dec!(0.1),
        dec!(50000),
        Decimal::ZERO,
        5,
        Some(dec!(10000)),
        "ioc",
    );
    let mut m = btc_market(dec!(50000));
    m.current_price = px(dec!(50300));
    let p = plan(&input(copy(s), sig, follower(dec!(5000)), m));
    assert_eq!(
        only_order(&p).order_type,
        copydesk::engine::OrderType::IocLimit {
            price: dec!(50250.0)
        },
        "0.5 % above the leader's 50,000 is 50,250"
    );
}

#[test]
fn margin_sync_skips_name_their_cause() {
    let (c, mut f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Isolated);
    // Margin level (100 + 0) / 5 = 2,000 % > 1,000 %.
    f.positions[0].maint_margin = dec!(5);
    let p = plan(&input(
        c.clone(),
        margin_change(dec!(500), dec!(1000), "lvl"),
        f.clone(),
        btc_market(dec!(50000)),
    ));
    let text = p.notice(NoticeKind::MarginSyncSkipped).expect("skipped");
    assert!(
        text.contains("margin level is 2000%, above 1000%"),
        "{text}"
    );
    f.positions[0].maint_margin = dec!(20);
    let mut poor = f.clone();
    poor.balances
        .get_mut(&Asset::usdt())
        .expect("usdt")
        .available = dec!(10);
    let p = plan(&input(
        c.clone(),
        margin_change(dec!(500), dec!(1000), "poor"),
        poor,
        btc_market(dec!(50000)),
    ));
    let text = p.notice(NoticeKind::MarginSyncSkipped).expect("skipped");
    assert!(
        text.contains("more than the available USDT of 10"),
        "{text}"
    );
    f.positions[0].max_removable_margin = dec!(12);
    let p = plan(&input(
        c,
        margin_change(dec!(-300), dec!(1000), "cap"),
        f,
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        margin_adjust(&p),
        Some(dec!(-12)),
        "never more than the maximum removable"
    );
    let cross = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
    let p = plan(&input(
        cross.0,
        margin_change(dec!(500), dec!(1000), "x"),
        cross.1,
        btc_market(dec!(50000)),
    ));
    assert!(
        p.notice(NoticeKind::MarginSyncSkipped)
            .is_some_and(|t| t.contains("not isolated")),
        "cross is never synced"
    );
}

#[test]
fn never_copied_positions_and_out_of_order_signals_change_nothing() {
    let p = plan(&input(
        copy(smart_sync(dec!(1000))),
        sell_close(dec!(0.05), dec!(0.1), "nc"),
        follower(dec!(5000)),
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        p.orders().count(),
        0,
        "a position never copied is not touched"
    );
    assert!(
        p.notice(NoticeKind::NotCopied)
            .is_some_and(|t| t.contains("did not copy")),
        "and the notice says so"
    );
    let (mut c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
    for pos in c.ledger.positions.values_mut() {
        pos.last_event_ms = NOW;
    }
    let p = plan(&input(
        c,
        sell_close(dec!(0.05), dec!(0.1), "late"),
        f,
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        p.orders().count(),
        0,
        "a signal older than the last applied change is not applied"
    );
    assert!(
        p.notice(NoticeKind::OutOfOrder)
            .is_some_and(|t| t.contains("moved past")),
        "named"
    );
}

mod lifecycle {
    use super::*;
    use copydesk::domain::StopAction;
    use copydesk::engine::{
        plan_panic, plan_pnl_check, plan_start, plan_stop, FollowerOrder, LeaderPosition,
        StartInput,
    };

    fn start_input(c: CopyContext, f: FollowerSnapshot) -> StartInput {
        let mut market = BTreeMap::new();
        market.insert("BTCUSDT".to_owned(), btc_market(dec!(50000)));
        market.insert("ETHUSDT".to_owned(), eth_market(dec!(2500)));
        StartInput {
            copy: c,
            follower: f,
            leader_positions: vec![LeaderPosition {
                symbol: symbol("BTC", "USDT"),
                position_side: PositionSide::Both,
                qty: dec!(0.1),
                leverage: 5,
                margin_mode: MarginMode::Cross,
            }],
            leader_equity: Some(dec!(10000)),
            market,
            now_ms: T0 + 1000,
            server_offset_ms: 0,
        }
    }

    #[test]
    fn clean_slate_closes_everything_but_other_copies_and_cancels_conditionals() {
        let mut s = smart_sync(dec!(1000));
        s.start.clean_slate = true;
        s.start.single_asset_mode = true;
        s.start.reset_figures = true;
        let (_, mut f) = copied_btc(dec!(0.5), dec!(1), MarginMode::Cross);
        f.multi_assets_mode = true;
        f.positions.push(FollowerPosition {
            key: PositionKey::new("ETHUSDT", PositionSide::Both),
            qty: dec!(-1),
            ..f.positions[0].clone()
        });
        f.held_by_other_copies
            .insert(PositionKey::new("ETHUSDT", PositionSide::Both));
        f.open_orders.push(FollowerOrder {
            symbol: "BTCUSDT".into(),
            client_id: "tp-1".into(),
            conditional: true,
        });
        let p = plan_start(&start_input(copy(s), f));
        let closes: Vec<_> = p
            .orders()
            .filter(|o| o.intent == OrderIntent::Close)
            .collect();
        assert_eq!(closes.len(), 1, "only BTCUSDT is closed: {:#?}", p.actions);
        assert_eq!(
            closes[0].qty.get(),
            dec!(0.5),
            "the whole follower position"
        );
        assert!(
            p.notice(NoticeKind::HeldByOtherCopy)
                .is_some_and(|t| t.contains("ETHUSDT")),
            "ETH is left alone, with a notice"
        );
        assert!(p.actions.iter().any(|a| matches!(&a.kind, ActionKind::CancelOrder { client_id, .. } if client_id == "tp-1")), "conditional orders are cancelled");
        assert!(
            p.actions
                .iter()
                .any(|a| a.kind == ActionKind::SetMultiAssetsMode { enabled: false }),
            "single-asset mode"
        );
        assert!(
            p.actions.iter().any(|a| a.kind == ActionKind::ResetFigures),
            "figures reset"
        );
        assert_eq!(
            p.orders().filter(|o| o.intent == OrderIntent::Open).count(),
            0,
            "ongoing positions are not copied by default"
        );
        assert!(
            p.ledger
                .not_copied
                .contains(&PositionKey::new("BTCUSDT", PositionSide::Both)),
            "the ongoing leader position is remembered as not copied"
        );
    }

    #[test]
    fn copy_ongoing_positions_opens_them_as_if_opened_at_t0() {
        let mut s = smart_sync(dec!(1000));
        s.copy_ongoing_positions = true;
        let p = plan_start(&start_input(copy(s), follower(dec!(5000))));
        let o = only_order(&p);
        assert_eq!(
            (o.intent, o.qty.get()),
            (OrderIntent::Open, dec!(0.010)),
            "sized like example A"
        );
    }

    #[test]
    fn stop_closes_all_or_keeps_and_panic_stops_every_copy() {
        let (c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
        let p = plan_stop(&c, &f, StopAction::CloseAll, "stop-1", "by the user");
        let o = only_order(&p);
        assert!(
            o.reduce_only && o.qty.get() == dec!(0.010),
            "close-all closes reduce-only"
        );
        assert!(
            p.ledger.positions.is_empty(),
            "nothing is managed after a stop"
        );
        let p = plan_stop(&c, &f, StopAction::Keep, "stop-2", "by the user");
        assert_eq!(p.orders().count(), 0, "keep leaves positions open");
        let plans = plan_panic(&[(c.clone(), f.clone()), (c, f)], "panic-1");
        assert_eq!(plans.len(), 2, "every copy stops");
        assert!(
            plans.iter().all(|p| p.orders().count() == 1),
            "each closes its position"
        );
    }

    #[test]
    fn total_stop_loss_in_percent_stops_the_copy_and_names_the_numbers() {
        let (mut c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
        c.settings.risk.total_stop_loss = Some(
            copydesk::domain::TotalStopLoss::PercentOfInvestment(dec!(20)),
        );
        let p = plan_pnl_check(&c, &f, dec!(-199.99), "chk-1");
        assert!(
            p.actions.is_empty(),
            "-199.99 is above -200 (20 % of 1,000)"
        );
        let p = plan_pnl_check(&c, &f, dec!(-200), "chk-2");
        let text = p.notice(NoticeKind::StopLoss).expect("stop-loss notice");
        assert!(
            text.contains("-200") && text.contains("20%"),
            "names the numbers: {text}"
        );
        assert_eq!(p.orders().count(), 1, "close-all closes the position");
        c.settings.risk.take_profit_total = Some(dec!(300));
        let p = plan_pnl_check(&c, &f, dec!(300), "chk-3");
        assert!(
            p.notice(NoticeKind::TakeProfit).is_some(),
            "take profit stops it upwards"
        );
    }
}

mod reconciliation {
    use super::*;
    use copydesk::engine::{reconcile, LeaderSnapshot, ReconcileInput, SnapshotStatus};

    fn rec(
        c: CopyContext,
        f: FollowerSnapshot,
        status: SnapshotStatus,
        leader: &[(&str, Decimal)],
    ) -> Plan {
        rec_announced(c, f, status, leader, BTreeMap::new())
    }

    fn rec_announced(
        c: CopyContext,
        f: FollowerSnapshot,
        status: SnapshotStatus,
        leader: &[(&str, Decimal)],
        announced_outside: BTreeMap<PositionKey, Decimal>,
    ) -> Plan {
        let mut market = BTreeMap::new();
        market.insert("BTCUSDT".to_owned(), btc_market(dec!(50000)));
        market.insert("ETHUSDT".to_owned(), eth_market(dec!(2500)));
        reconcile(&ReconcileInput {
            copy: c,
            pass_id: "pass-1".into(),
            leader: LeaderSnapshot {
                status,
                positions: leader
                    .iter()
                    .map(|(s, q)| (PositionKey::new(*s, PositionSide::Both), *q))
                    .collect(),
            },
            follower: f,
            market,
            announced_outside,
        })
    }

    #[test]
    fn drift_above_target_is_reduced_and_below_is_added_through_the_gate() {
        // k = 0.1; leader 0.05 → target 0.005; follower 0.010 → reduce 0.005.
        let (c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
        let p = rec(
            c.clone(),
            f.clone(),
            SnapshotStatus::Confirmed,
            &[("BTCUSDT", dec!(0.05))],
        );
        let o = only_order(&p);
        assert_eq!(
            (o.intent, o.qty.get()),
            (OrderIntent::Reduce, dec!(0.005)),
            "down to target"
        );
        // Leader 0.15 → target 0.015: add 0.005.
        let p = rec(
            c.clone(),
            f.clone(),
            SnapshotStatus::Confirmed,
            &[("BTCUSDT", dec!(0.15))],
        );
        let o = only_order(&p);
        assert_eq!(
            (o.intent, o.qty.get()),
            (OrderIntent::Increase, dec!(0.005)),
            "up to target"
        );
        // Within one step: nothing.
        let p = rec(c, f, SnapshotStatus::Confirmed, &[("BTCUSDT", dec!(0.109))]);
        assert_eq!(
            p.orders().count(),
            0,
            "a drift of one step or less is left alone"
        );
    }

    #[test]
    fn a_position_closed_outside_is_ended_not_restored() {
        let (c, mut f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
        f.positions.clear();
        let p = rec(c, f, SnapshotStatus::Confirmed, &[("BTCUSDT", dec!(0.1))]);
        assert_eq!(p.orders().count(), 0, "never reopened");
        assert!(p.ledger.positions.is_empty(), "marked ended");
        let text = p.notice(NoticeKind::ClosedOutside).expect("told");
        assert!(text.contains("without an order of ours"), "{text}");
        assert_eq!(
            p.notice(NoticeKind::LostOpen),
            None,
            "the leader's position was copied, then ended outside: not a lost open"
        );
    }

    #[test]
    fn a_close_already_announced_from_its_fills_is_repaired_without_a_second_notice() {
        let (c, mut f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
        f.positions.clear();
        let key = c
            .ledger
            .positions
            .keys()
            .next()
            .expect("a copied position")
            .clone();
        let p = rec_announced(
            c.clone(),
            f.clone(),
            SnapshotStatus::Confirmed,
            &[("BTCUSDT", dec!(0.1))],
            BTreeMap::from([(key.clone(), dec!(0.010))]),
        );
        assert!(p.ledger.positions.is_empty(), "still marked ended");
        assert_eq!(
            p.notice(NoticeKind::ClosedOutside),
            None,
            "the hand close was announced from its fill; reconciliation says nothing more"
        );
        // A fill that covered only part of the shrink leaves the rest unexplained: told.
        let p = rec_announced(
            c,
            f,
            SnapshotStatus::Confirmed,
            &[("BTCUSDT", dec!(0.1))],
            BTreeMap::from([(key, dec!(0.004))]),
        );
        assert!(
            p.notice(NoticeKind::ClosedOutside).is_some(),
            "a shrink beyond what was announced is told"
        );
    }

    #[test]
    fn a_shrunk_position_is_not_grown_back() {
        let (c, mut f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
        f.positions[0].qty = dec!(0.004);
        let p = rec(c, f, SnapshotStatus::Confirmed, &[("BTCUSDT", dec!(0.1))]);
        assert_eq!(
            p.orders().count(),
            0,
            "the shrink is accepted: {:#?}",
            p.actions
        );
        assert!(
            p.notice(NoticeKind::ClosedOutside)
                .is_some_and(|t| t.contains("shrank from 0.01 to 0.004")),
            "and told"
        );
    }

    #[test]
    fn doubtful_snapshots_close_nothing_and_lost_opens_are_never_opened() {
        let (c, f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
        let p = rec(c.clone(), f.clone(), SnapshotStatus::Failed, &[]);
        assert_eq!(p.orders().count(), 0, "a failed read closes nothing");
        assert!(
            p.actions.iter().any(|a| a.kind == ActionKind::PauseOpens),
            "and pauses opens"
        );
        assert!(
            p.notice(NoticeKind::DoubtfulSnapshot)
                .is_some_and(|t| t.contains("could not be read")),
            "named"
        );
        let p = rec(c.clone(), f.clone(), SnapshotStatus::Unconfirmed, &[]);
        assert_eq!(
            p.orders().count(),
            0,
            "an unconfirmed flat leader closes nothing"
        );
        assert!(
            p.notice(NoticeKind::LeaderFlatUnconfirmed)
                .is_some_and(|t| t.contains("not confirmed")),
            "named"
        );
        let p = rec(c.clone(), f.clone(), SnapshotStatus::Confirmed, &[]);
        assert_eq!(
            only_order(&p).intent,
            OrderIntent::Close,
            "a confirmed flat leader closes"
        );
        let p = rec(
            c,
            f,
            SnapshotStatus::Confirmed,
            &[("BTCUSDT", dec!(0.1)), ("ETHUSDT", dec!(2))],
        );
        assert_eq!(
            p.orders().count(),
            0,
            "the ETH position the copy never opened is not opened"
        );
        assert!(
            p.notice(NoticeKind::LostOpen)
                .is_some_and(|t| t.contains("never opens")),
            "named"
        );
    }

    #[test]
    fn strict_mirror_closes_independent_positions_and_orders() {
        let (mut c, mut f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
        c.settings.risk.close_independent_trades = true;
        f.positions.push(FollowerPosition {
            key: PositionKey::new("ETHUSDT", PositionSide::Both),
            qty: dec!(0.5),
            ..f.positions[0].clone()
        });
        f.open_orders.push(copydesk::engine::FollowerOrder {
            symbol: "ETHUSDT".into(),
            client_id: "manual-sl".into(),
            conditional: true,
        });
        let p = rec(c, f, SnapshotStatus::Confirmed, &[("BTCUSDT", dec!(0.1))]);
        let o = only_order(&p);
        assert_eq!(
            (o.symbol.name.as_str(), o.qty.get()),
            ("ETHUSDT", dec!(0.5)),
            "the hand-made ETH position is closed"
        );
        assert!(p.actions.iter().any(|a| matches!(&a.kind, ActionKind::CancelOrder { client_id, .. } if client_id == "manual-sl")), "and its conditional order cancelled");
    }
}

mod offline_protection {
    use super::*;
    use copydesk::engine::plan_protection;

    fn stops(p: &Plan) -> Vec<(Decimal, Decimal)> {
        p.actions
            .iter()
            .filter_map(|a| match &a.kind {
                ActionKind::PlaceProtectiveStop {
                    stop_price,
                    qty,
                    side,
                    ..
                } => {
                    assert_eq!(*side, Side::Sell, "a long's stop sells");
                    Some((*stop_price, qty.get()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn each_position_carries_a_stop_at_its_share_of_the_total_stop_loss() {
        let (mut c, mut f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
        let mut markets = BTreeMap::new();
        markets.insert("BTCUSDT".to_owned(), btc_market(dec!(50000)));
        // No stop loss: 80 % of margin 100 = 80 over 0.01 BTC → 8,000 below 50,000.
        let p = plan_protection(&c, &f, &markets);
        assert_eq!(
            stops(&p),
            vec![(dec!(42000), dec!(0.010))],
            "stop at 42,000 for 0.010"
        );
        // 20 % of 1,000 = 200; BTC holds margin 100 of 1,000 in use → share 20 → 48,000.
        c.settings.risk.total_stop_loss = Some(
            copydesk::domain::TotalStopLoss::PercentOfInvestment(dec!(20)),
        );
        let mut eth = c
            .ledger
            .positions
            .values()
            .next()
            .cloned()
            .expect("btc is copied");
        eth.symbol = symbol("ETH", "USDT");
        eth.margin = dec!(900);
        c.ledger
            .positions
            .insert(PositionKey::new("ETHUSDT", PositionSide::Both), eth);
        let p = plan_protection(&c, &f, &markets);
        assert_eq!(
            stops(&p),
            vec![(dec!(48000), dec!(0.010))],
            "stop at its share 20 → 48,000"
        );
        c.ledger = p.ledger;
        let again = plan_protection(&c, &f, &markets);
        assert!(
            again.actions.is_empty(),
            "a current stop is left as it is: {:#?}",
            again.actions
        );
        // After a partial close to 0.005 the stop is replaced: share 20 of margin 100 over 0.005.
        f.positions[0].qty = dec!(0.005);
        let moved = plan_protection(&c, &f, &markets);
        assert!(
            moved
                .actions
                .iter()
                .any(|a| matches!(a.kind, ActionKind::CancelProtectiveStop { .. })),
            "the old stop is cancelled"
        );
        assert_eq!(
            stops(&moved),
            vec![(dec!(46000), dec!(0.005))],
            "20 / 0.005 = 4,000 below entry"
        );
    }

    #[test]
    fn a_stop_moves_only_beyond_the_tick_bound_and_goes_when_flat() {
        use copydesk::engine::protection::RESTOP_TICKS;
        let (mut c, mut f) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
        let mut markets = BTreeMap::new();
        markets.insert("BTCUSDT".to_owned(), btc_market(dec!(50000)));
        let tick = markets["BTCUSDT"].filters.tick_size;
        let first = plan_protection(&c, &f, &markets);
        assert_eq!(stops(&first).len(), 1, "a new position gets one stop");
        c.ledger = first.ledger;
        let entry = f.positions[0].entry_price;
        // The entry (and so the stop) moves by exactly the bound: the stop stays.
        f.positions[0].entry_price = entry + tick * Decimal::from(RESTOP_TICKS);
        let near = plan_protection(&c, &f, &markets);
        assert!(
            near.actions.is_empty(),
            "a move of {RESTOP_TICKS} ticks leaves the stop where it is: {:#?}",
            near.actions
        );
        // One tick beyond the bound: cancel and place.
        f.positions[0].entry_price = entry + tick * Decimal::from(RESTOP_TICKS + 1);
        let far = plan_protection(&c, &f, &markets);
        assert_eq!(
            stops(&far).len(),
            1,
            "beyond the bound the stop is re-placed"
        );
        assert!(
            far.actions
                .iter()
                .any(|a| matches!(a.kind, ActionKind::CancelProtectiveStop { .. })),
            "and the old one cancelled"
        );
        // Flat: the stop is cancelled and none placed.
        f.positions[0].qty = Decimal::ZERO;
        let flat = plan_protection(&c, &f, &markets);
        assert!(
            stops(&flat).is_empty()
                && flat
                    .actions
                    .iter()
                    .any(|a| matches!(a.kind, ActionKind::CancelProtectiveStop { .. })),
            "a flat position keeps no stop: {:#?}",
            flat.actions
        );
    }
}

#[test]
fn the_strict_mirror_preset_applies_while_planning() {
    let mut s = CopySettings {
        amount_per_order: Some(dec!(50)),
        preset: Preset::StrictMirror,
        ..settings(CopyMode::FixedAmount)
    };
    s.risk.max_leverage = 20;
    let sig = fill(
        symbol("ETH", "USDT"),
        Side::Sell,
        dec!(4),
        dec!(2500),
        Decimal::ZERO,
        10,
        None,
        "sm",
    );
    let p = plan(&input(
        copy(s),
        sig,
        follower(dec!(1000)),
        eth_market(dec!(2500)),
    ));
    assert_eq!(
        leverage_set(&p),
        Some(5),
        "strict mirror caps leverage at 5 whatever max_leverage says"
    );
    assert_eq!(
        only_order(&p).qty.get(),
        dec!(0.100),
        "so example C's numbers hold"
    );
}

#[test]
fn failed_orders_are_written_back_so_reconciliation_does_not_see_a_hand_close() {
    let sig = fill(
        symbol("BTC", "USDT"),
        Side::Buy,
        dec!(0.1),
        dec!(50000),
        Decimal::ZERO,
        5,
        Some(dec!(10000)),
        "fo",
    );
    let c = copy(smart_sync(dec!(1000)));
    let p = plan(&input(
        c.clone(),
        sig,
        follower(dec!(5000)),
        btc_market(dec!(50000)),
    ));
    let order = only_order(&p).clone();
    let mut ledger = p.ledger.clone();
    ledger.apply_order_result(&c.ledger, &order, dec!(0.004));
    let pos = ledger
        .positions
        .get(&order.leader_key)
        .expect("still copied");
    assert_eq!(
        (pos.qty, pos.declined),
        (dec!(0.004), dec!(0.006)),
        "only the filled 0.004 is held; the rest is declined"
    );
    let (c2, f2) = copied_btc(dec!(0.010), dec!(0.1), MarginMode::Cross);
    let p = plan(&input(
        c2.clone(),
        sell_close(dec!(0.1), dec!(0.1), "fc"),
        f2,
        btc_market(dec!(50000)),
    ));
    let close = only_order(&p).clone();
    let mut ledger = p.ledger.clone();
    ledger.apply_order_result(&c2.ledger, &close, Decimal::ZERO);
    let back = ledger
        .positions
        .get(&close.leader_key)
        .expect("a failed close brings the position back");
    assert_eq!(back.qty, dec!(0.010), "with all of its quantity");
}

/// Slippage caps of copy-rules.md section 4: 0.5 % on BTC and ETH pairs, 1.5 % on others,
/// measured against the leader's fill of 100.
#[test]
fn default_slippage_caps_by_pair() {
    let rows = [
        ("BTC", dec!(100.5), true),
        ("BTC", dec!(100.6), false),
        ("ETH", dec!(100.5), true),
        ("ETH", dec!(100.6), false),
        ("SOL", dec!(101.5), true),
        ("SOL", dec!(101.6), false),
    ];
    for (base, now, copied) in rows {
        let m = MarketInfo {
            symbol: symbol(base, "USDT"),
            filters: filters(dec!(0.01), dec!(0.01), dec!(0.01), dec!(5)),
            mark_price: px(now),
            current_price: px(now),
        };
        let s = CopySettings {
            amount_per_order: Some(dec!(50)),
            ..settings(CopyMode::FixedAmount)
        };
        let sig = fill(
            symbol(base, "USDT"),
            Side::Buy,
            dec!(10),
            dec!(100),
            Decimal::ZERO,
            5,
            None,
            "slip",
        );
        let p = plan(&input(copy(s), sig, follower(dec!(1000)), m));
        assert_eq!(
            p.orders().count() == 1,
            copied,
            "{base} at {now} vs fill 100: copied = {copied}"
        );
        if !copied {
            let text = p.notice(NoticeKind::Slippage).expect("a slippage notice");
            assert!(
                text.contains("leader's fill 100"),
                "names the leader's fill: {text}"
            );
        }
    }
}

/// Issue 12 item 15: in hedge mode, a second copy's open of a symbol whose other book
/// another copy holds never changes that symbol's leverage or margin mode (they follow the
/// copy that holds it, copy-rules §1.8): an open that needs other settings is skipped; one
/// that needs the same opens without set-up actions.
#[test]
fn hedge_mode_open_never_changes_the_leverage_of_a_symbol_another_copy_holds() {
    let mut f = follower(dec!(10000));
    f.position_mode = PositionMode::Hedge;
    f.held_by_other_copies
        .insert(PositionKey::new("BTCUSDT", PositionSide::Long));
    f.symbol_configs.insert(
        "BTCUSDT".into(),
        copydesk::engine::SymbolConfig {
            leverage: 10,
            margin_mode: MarginMode::Cross,
        },
    );
    let mut sig = fill(
        symbol("BTC", "USDT"),
        Side::Sell,
        dec!(0.1),
        dec!(50000),
        dec!(0),
        5,
        Some(dec!(10000)),
        "hedge-open",
    );
    sig.position_side = PositionSide::Short;
    let p = plan(&input(
        copy(smart_sync(dec!(1000))),
        sig.clone(),
        f.clone(),
        btc_market(dec!(50000)),
    ));
    assert_eq!(
        leverage_set(&p),
        None,
        "no leverage change: {:#?}",
        p.actions
    );
    assert_eq!(
        p.orders().count(),
        0,
        "the open is skipped: {:#?}",
        p.actions
    );
    assert!(
        p.notices()
            .any(|(k, text)| k == NoticeKind::HeldByOtherCopy && text.contains("10x")),
        "the notice names the other copy's settings: {:#?}",
        p.actions
    );
    // Same settings as the holding copy: the open goes, with no set-up action.
    f.symbol_configs.insert(
        "BTCUSDT".into(),
        copydesk::engine::SymbolConfig {
            leverage: 5,
            margin_mode: MarginMode::Cross,
        },
    );
    let p = plan(&input(
        copy(smart_sync(dec!(1000))),
        sig,
        f,
        btc_market(dec!(50000)),
    ));
    assert_eq!(leverage_set(&p), None, "nothing to set: {:#?}", p.actions);
    assert_eq!(only_order(&p).position_side, PositionSide::Short);
}
