//! A copy's lifecycle decisions outside single signals: the start actions at `t0` (clean
//! slate, reset, single-asset mode, copying ongoing leader positions), the stop with its
//! `stop_action`, the panic switch, and the total stop loss / take profit check.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{
    LeaderFill, LeaderSignal, MarginMode, PositionSide, Quantity, SignalKind, StopAction, Symbol,
};

use super::client_id::client_id;
use super::risk::pnl_stop;
use super::signal::{plan, PlanInput};
use super::sizing::show;
use super::types::{
    ActionKind, CopyContext, CopyState, Direction, FollowerSnapshot, MarketInfo, NoticeKind,
    OrderIntent, OrderPlan, Out, Plan, PositionKey,
};

/// A leader position open at `t0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderPosition {
    pub symbol: Symbol,
    /// The leader's book.
    pub position_side: PositionSide,
    /// Signed: long positive, short negative.
    pub qty: Decimal,
    pub leverage: u32,
    pub margin_mode: MarginMode,
}

/// What the start of a copy needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartInput {
    /// The copy, with `t0` set and an empty ledger (a restart is not a start).
    pub copy: CopyContext,
    pub follower: FollowerSnapshot,
    pub leader_positions: Vec<LeaderPosition>,
    /// Leader equity at `t0`, for Smart Sync sizing of ongoing positions.
    pub leader_equity: Option<Decimal>,
    /// Filters and prices of every symbol involved.
    pub market: BTreeMap<String, MarketInfo>,
    pub now_ms: i64,
    pub server_offset_ms: i64,
}

/// Plans the start actions of a copy, in order: clean slate, single-asset mode, reset of
/// figures, then the ongoing leader positions (opened at market when
/// `copy_ongoing_positions`, otherwise recorded as not copied).
pub fn plan_start(input: &StartInput) -> Plan {
    let settings = input.copy.settings.effective();
    let mut out = Out::default();
    let f = &input.follower;
    let start_id = format!("start:{}", input.copy.t0_ms);
    if settings.start.clean_slate {
        for p in f.positions.iter().filter(|p| !p.qty.is_zero()) {
            if f.held_by_other_copies.contains(&p.key) {
                out.notice(
                    NoticeKind::HeldByOtherCopy,
                    format!(
                        "clean slate left {} alone: another copy of this follower account holds it",
                        p.key.symbol
                    ),
                );
                continue;
            }
            let Some(dir) = Direction::of(p.qty) else {
                continue;
            };
            let Some(m) = input.market.get(&p.key.symbol) else {
                out.notice(
                    NoticeKind::MissingMarketData,
                    format!(
                        "clean slate could not close {}: no market data",
                        p.key.symbol
                    ),
                );
                continue;
            };
            let leg = format!("clean:{}:{:?}", p.key.symbol, p.key.side);
            out.push(
                ActionKind::PlaceOrder(OrderPlan::closing(
                    client_id(&input.copy.id, &start_id, &leg),
                    m.symbol.clone(),
                    dir,
                    p.key.side,
                    p.qty.abs(),
                    f.position_mode,
                    OrderIntent::Close,
                    p.key.clone(),
                )),
                format!(
                    "clean slate: close the follower's {} {} before copying",
                    show(p.qty.abs()),
                    p.key.symbol
                ),
            );
        }
        for o in &f.open_orders {
            if f.symbol_held_by_other(&o.symbol) {
                continue;
            }
            out.push(
                ActionKind::CancelOrder {
                    symbol: o.symbol.clone(),
                    client_id: o.client_id.clone(),
                },
                format!(
                    "clean slate: cancel {} order {} on {}",
                    if o.conditional { "conditional" } else { "open" },
                    o.client_id,
                    o.symbol
                ),
            );
        }
    }
    if settings.start.single_asset_mode && f.multi_assets_mode {
        out.push(
            ActionKind::SetMultiAssetsMode { enabled: false },
            "start: switch the follower to single-asset margin mode",
        );
    }
    if settings.start.reset_figures {
        out.push(
            ActionKind::ResetFigures,
            format!(
                "start: the copy's figures start from zero at t0 {} ms",
                input.copy.t0_ms
            ),
        );
    }
    let mut copy = input.copy.clone();
    copy.settings = settings;
    for lp in &input.leader_positions {
        let key = PositionKey::new(lp.symbol.name.clone(), lp.position_side);
        let Some(dir) = Direction::of(lp.qty) else {
            continue;
        };
        let market = match input.market.get(&lp.symbol.name) {
            Some(m) if copy.settings.copy_ongoing_positions => m,
            _ => {
                copy.ledger.not_copied.insert(key);
                continue;
            }
        };
        let signal = LeaderSignal {
            id: format!("{start_id}:{}:{:?}", lp.symbol.name, lp.position_side),
            symbol: lp.symbol.clone(),
            position_side: lp.position_side,
            event_time_ms: copy.t0_ms,
            kind: SignalKind::Fill(LeaderFill {
                order_id: format!("{start_id}:{}", lp.symbol.name),
                side: dir.opening_side(),
                qty: Quantity::new(lp.qty.abs()).unwrap_or(Quantity::ZERO),
                // As if opened at t0: sized at the current price, so no slippage applies.
                price: market.current_price,
                position_before: Decimal::ZERO,
                order_final: true,
                leverage: lp.leverage,
                margin_mode: lp.margin_mode,
                equity_before: input.leader_equity,
            }),
        };
        let p = plan(&PlanInput {
            copy: copy.clone(),
            signal,
            follower: input.follower.clone(),
            market: market.clone(),
            now_ms: input.now_ms,
            server_offset_ms: input.server_offset_ms,
        });
        out.actions.extend(p.actions);
        copy.ledger = p.ledger;
    }
    Plan {
        actions: out.actions,
        ledger: copy.ledger,
    }
}

/// Plans a stop of the copy: with `close-all`, every copied position is closed at market
/// (reduce-only); with `keep`, they stay open and unmanaged. Either way the engine's own
/// protective stops are cancelled and nothing else is.
pub fn plan_stop(
    copy: &CopyContext,
    follower: &FollowerSnapshot,
    stop_action: StopAction,
    stop_id: &str,
    why: &str,
) -> Plan {
    let mut out = Out::default();
    for (key, pos) in &copy.ledger.positions {
        let held = follower
            .qty_in(&pos.follower_key(), pos.direction)
            .min(pos.qty);
        if stop_action == StopAction::CloseAll && held > Decimal::ZERO {
            let leg = format!("stop:{}:{:?}", key.symbol, key.side);
            out.push(
                ActionKind::PlaceOrder(OrderPlan::closing(
                    client_id(&copy.id, stop_id, &leg),
                    pos.symbol.clone(),
                    pos.direction,
                    pos.follower_side,
                    held,
                    follower.position_mode,
                    OrderIntent::Close,
                    key.clone(),
                )),
                format!(
                    "stop ({why}), close-all: close {} {}",
                    show(held),
                    pos.symbol.name
                ),
            );
        }
        if let Some(stop) = &pos.stop {
            out.push(
                ActionKind::CancelProtectiveStop {
                    client_id: stop.client_id.clone(),
                    symbol: pos.symbol.name.clone(),
                },
                format!(
                    "stop ({why}): the copy no longer manages {}",
                    pos.symbol.name
                ),
            );
        }
    }
    out.push(
        ActionKind::StopCopy { stop_action },
        format!(
            "stop ({why}) with stop_action {}",
            match stop_action {
                StopAction::CloseAll => "close-all",
                StopAction::Keep => "keep: positions stay open, no longer managed",
            }
        ),
    );
    let mut ledger = copy.ledger.clone();
    ledger.positions.clear();
    ledger.pending.clear();
    Plan {
        actions: out.actions,
        ledger,
    }
}

/// What the user does with one copied position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionRelease {
    /// Market-close the copy's share (reduce-only).
    Close,
    /// Keep it open as the user's own; the copy stops managing it.
    Unlink,
}

/// Releases one copied position (`symbol`, `direction`): with [`PositionRelease::Close`]
/// the copy's share is closed at market, reduce-only; either way its protective stop is
/// cancelled and it leaves the ledger. The leader's book goes to `not_copied`, so the
/// leader's later changes on it are declined until the leader is flat; an unlinked
/// position then counts as the user's own. `None` when the copy holds no such position.
pub fn plan_release(
    copy: &CopyContext,
    follower: &FollowerSnapshot,
    symbol: &str,
    direction: Direction,
    how: PositionRelease,
    release_id: &str,
) -> Option<Plan> {
    let (key, pos) = copy
        .ledger
        .positions
        .iter()
        .find(|(_, p)| p.symbol.name == symbol && p.direction == direction)?;
    let mut out = Out::default();
    let held = follower
        .qty_in(&pos.follower_key(), pos.direction)
        .min(pos.qty);
    if how == PositionRelease::Close && held > Decimal::ZERO {
        let leg = format!("close:{}:{:?}", key.symbol, key.side);
        out.push(
            ActionKind::PlaceOrder(OrderPlan::closing(
                client_id(&copy.id, release_id, &leg),
                pos.symbol.clone(),
                pos.direction,
                pos.follower_side,
                held,
                follower.position_mode,
                OrderIntent::Close,
                key.clone(),
            )),
            format!(
                "closed by the user: close {} {}; the leader's changes on it are declined until it is flat",
                show(held),
                pos.symbol.name
            ),
        );
    }
    if let Some(stop) = &pos.stop {
        out.push(
            ActionKind::CancelProtectiveStop {
                client_id: stop.client_id.clone(),
                symbol: pos.symbol.name.clone(),
            },
            format!("the copy no longer manages {}", pos.symbol.name),
        );
    }
    let mut ledger = copy.ledger.clone();
    ledger.positions.remove(key);
    ledger.pending.retain(|_, p| &p.leader_key != key);
    ledger.not_copied.insert(key.clone());
    Some(Plan {
        actions: out.actions,
        ledger,
    })
}

/// The kill switch: every copy stops with `close-all` at once.
pub fn plan_panic(copies: &[(CopyContext, FollowerSnapshot)], panic_id: &str) -> Vec<Plan> {
    copies
        .iter()
        .filter(|(c, _)| c.state != CopyState::Stopped)
        .map(|(c, f)| plan_stop(c, f, StopAction::CloseAll, panic_id, "panic"))
        .collect()
}

/// Checks the copy's PnL against its total stop loss and take profit; on a hit, the plan
/// stops the copy with its `stop_action`. Run on every fill and mark-price update.
pub fn plan_pnl_check(
    copy: &CopyContext,
    follower: &FollowerSnapshot,
    pnl: Decimal,
    check_id: &str,
) -> Plan {
    if copy.state == CopyState::Stopped {
        return Plan {
            actions: Vec::new(),
            ledger: copy.ledger.clone(),
        };
    }
    match pnl_stop(&copy.settings, pnl) {
        None => Plan {
            actions: Vec::new(),
            ledger: copy.ledger.clone(),
        },
        Some((kind, text)) => {
            let mut p = plan_stop(
                copy,
                follower,
                copy.settings.risk.stop_action,
                check_id,
                &text,
            );
            p.actions.insert(
                0,
                super::types::Action {
                    kind: ActionKind::Notice(kind),
                    reason: text,
                },
            );
            p
        }
    }
}
