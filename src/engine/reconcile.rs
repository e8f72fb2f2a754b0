//! Reconciliation diff: compares the ledger with fresh leader and follower snapshots and
//! plans what repairs execution drift. It never opens, never restores what shrank or
//! vanished without an order of ours, never closes on a doubtful leader snapshot, and
//! leaves quantity it did not create alone unless `close_independent_trades`.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::filters::floor_to_step;
use crate::domain::CopyMode;

use super::client_id::{client_id, is_ours};
use super::risk::{check_exposure, ExposureCheck};
use super::sizing::{fit, floor_market, show, FitLimits};
use super::types::{
    entries, ActionKind, CopyContext, Direction, FollowerSnapshot, MarketInfo, NoticeKind,
    OrderIntent, OrderPlan, OrderType, Out, Plan, PositionKey,
};

/// How far a leader snapshot can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotStatus {
    /// Valid and confirmed by the stream or by a second snapshot.
    Confirmed,
    /// Valid but not yet confirmed: good for sizing, not for closing on a flat book.
    Unconfirmed,
    /// The read failed, came back empty by error, or the leader hid its positions.
    Failed,
}

/// The leader's positions as read for reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderSnapshot {
    pub status: SnapshotStatus,
    /// Signed quantity per leader book; flat books may be absent.
    #[serde(with = "entries")]
    pub positions: BTreeMap<PositionKey, Decimal>,
}

/// What one reconciliation pass needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileInput {
    pub copy: CopyContext,
    /// Unique id of this pass (client ids of its orders derive from it).
    pub pass_id: String,
    pub leader: LeaderSnapshot,
    pub follower: FollowerSnapshot,
    pub market: BTreeMap<String, MarketInfo>,
    /// Per ledger position, the quantity the runtime already announced as closed by fills
    /// of orders not ours (a hand close, a fired stop, a liquidation): a shrink it covers
    /// is repaired without a second `closed-outside` notice.
    #[serde(with = "entries", default)]
    pub announced_outside: BTreeMap<PositionKey, Decimal>,
}

/// Plans the repairs of one reconciliation pass.
pub fn reconcile(input: &ReconcileInput) -> Plan {
    let with_preset;
    let input = if input.copy.settings.preset == crate::domain::Preset::None {
        input
    } else {
        let mut i = input.clone();
        i.copy.settings = i.copy.settings.effective();
        with_preset = i;
        &with_preset
    };
    let mut out = Out::default();
    let mut ledger = input.copy.ledger.clone();
    let f = &input.follower;
    let settings = &input.copy.settings;
    if input.leader.status == SnapshotStatus::Failed {
        out.push(
            ActionKind::PauseOpens,
            "the leader snapshot could not be trusted",
        );
        out.notice(
            NoticeKind::DoubtfulSnapshot,
            "opens paused and nothing closed: the leader's positions could not be read \
             (failed, empty by error, or hidden)",
        );
        return Plan {
            actions: out.actions,
            ledger,
        };
    }
    let ours: BTreeSet<PositionKey> = ledger
        .positions
        .values()
        .map(|p| p.follower_key())
        .collect();
    let keys: Vec<PositionKey> = ledger.positions.keys().cloned().collect();
    for lk in keys {
        let Some(mut pos) = ledger.positions.get(&lk).cloned() else {
            continue;
        };
        let name = pos.symbol.name.clone();
        let Some(m) = input.market.get(&name) else {
            out.notice(
                NoticeKind::MissingMarketData,
                format!("{name} not reconciled: no market data"),
            );
            continue;
        };
        let step = m.filters.step(true);
        let min = m.filters.market_min_qty;
        let fkey = pos.follower_key();
        let actual = f.qty_in(&fkey, pos.direction);
        let leg = format!("reconcile:{}:{:?}", lk.symbol, lk.side);
        let order_id = client_id(&input.copy.id, &input.pass_id, &leg);
        // The shrink was announced when its fills arrived: one notice per close.
        let announced = input
            .announced_outside
            .get(&lk)
            .is_some_and(|q| pos.qty - actual <= *q + step);
        if actual < pos.qty {
            if actual.is_zero() {
                if !announced {
                    out.notice(
                        NoticeKind::ClosedOutside,
                        format!(
                            "{name}: the copied {} vanished without an order of ours (closed by hand, \
                             liquidated or auto-deleveraged); marked ended, not restored",
                            show(pos.qty)
                        ),
                    );
                }
                if let Some(stop) = &pos.stop {
                    out.push(
                        ActionKind::CancelProtectiveStop {
                            client_id: stop.client_id.clone(),
                            symbol: name.clone(),
                        },
                        format!("{name} has ended; its protective stop goes too"),
                    );
                }
                ledger.positions.remove(&lk);
                // The leader's book was copied and ended outside: not a lost open (the
                // pass must not call it "never opened"), and not reopened.
                ledger.not_copied.insert(lk.clone());
                continue;
            }
            if !announced {
                out.notice(
                    NoticeKind::ClosedOutside,
                    format!(
                        "{name}: the copied position shrank from {} to {} without an order of ours; not restored",
                        show(pos.qty),
                        show(actual)
                    ),
                );
            }
            pos.margin = pos.margin * actual / pos.qty;
            pos.declined += pos.qty - actual;
            pos.qty = actual;
        }
        let extra = actual - pos.qty;
        if settings.risk.close_independent_trades && extra >= min && extra > Decimal::ZERO {
            out.push(
                ActionKind::PlaceOrder(OrderPlan::closing(
                    client_id(&input.copy.id, &input.pass_id, &format!("independent:{leg}")),
                    pos.symbol.clone(),
                    pos.direction,
                    pos.follower_side,
                    floor_market(&m.filters, extra),
                    f.position_mode,
                    OrderIntent::Reduce,
                    lk.clone(),
                )),
                format!(
                    "close_independent_trades: {} {name} on top of the copy's {} was not opened by CopyDesk",
                    show(extra),
                    show(pos.qty)
                ),
            );
        }
        let leader = input.leader.positions.get(&lk).copied().unwrap_or_default();
        let target = if Direction::of(leader) == Some(pos.direction) {
            pos.leader_qty = leader.abs();
            let t = floor_to_step(leader.abs() * pos.k, step) - pos.declined;
            floor_to_step(t.max(Decimal::ZERO), step)
        } else if input.leader.status == SnapshotStatus::Confirmed {
            Decimal::ZERO
        } else {
            out.notice(
                NoticeKind::LeaderFlatUnconfirmed,
                format!(
                    "{name} kept: the leader looks flat, but the snapshot is not confirmed yet"
                ),
            );
            ledger.positions.insert(lk, pos);
            continue;
        };
        if pos.qty > target && (pos.qty - target > step || target.is_zero()) {
            let mut qty = floor_market(&m.filters, pos.qty - target);
            if target.is_zero() || pos.qty - qty < min {
                qty = pos.qty;
            }
            if qty < min && qty < pos.qty {
                ledger.positions.insert(lk, pos);
                continue;
            }
            let all = qty >= pos.qty;
            out.push(
                ActionKind::PlaceOrder(OrderPlan::closing(
                    order_id,
                    pos.symbol.clone(),
                    pos.direction,
                    pos.follower_side,
                    qty,
                    f.position_mode,
                    if all {
                        OrderIntent::Close
                    } else {
                        OrderIntent::Reduce
                    },
                    lk.clone(),
                )),
                format!(
                    "reconcile {name}: follower {} is above the target {} (leader {} × k {} − declined {}); reduce by {}",
                    show(pos.qty),
                    show(target),
                    show(leader.abs()),
                    show(pos.k),
                    show(pos.declined),
                    show(qty)
                ),
            );
            if all {
                if let Some(stop) = &pos.stop {
                    out.push(
                        ActionKind::CancelProtectiveStop {
                            client_id: stop.client_id.clone(),
                            symbol: name.clone(),
                        },
                        format!("{name} is closed; its protective stop goes too"),
                    );
                }
                ledger.positions.remove(&lk);
                continue;
            }
            pos.margin -= pos.margin * qty / pos.qty;
            pos.qty -= qty;
        } else if target > pos.qty && target - pos.qty > step {
            let diff = target - pos.qty;
            let gate = check_exposure(&ExposureCheck {
                copy: &input.copy,
                follower: f,
                symbol: &pos.symbol,
                follower_key: &fkey,
                margin_mode: pos.margin_mode,
                leader_fill: None,
                current_price: m.current_price,
                filters: &m.filters,
                age_ms: None,
            });
            let l = Decimal::from(pos.leverage.max(1));
            let price = m.current_price;
            let (free, free_what) = free_funds(input, &ledger, &pos.symbol.quote);
            let fitted = gate.and_then(|_| {
                fit(
                    diff,
                    diff * price.get() / l,
                    pos.leverage,
                    price,
                    &m.filters,
                    &FitLimits {
                        free_funds: free,
                        free_what,
                        existing_qty: pos.qty,
                        max_position_notional: settings.risk.max_position_notional,
                        bump_factor: None,
                    },
                )
            });
            match fitted {
                Ok(x) => {
                    out.push(
                        ActionKind::PlaceOrder(OrderPlan {
                            client_id: order_id,
                            symbol: pos.symbol.clone(),
                            side: pos.direction.opening_side(),
                            position_side: pos.follower_side,
                            qty: crate::domain::Quantity::new(x.qty)
                                .unwrap_or(crate::domain::Quantity::ZERO),
                            order_type: OrderType::Market,
                            reduce_only: false,
                            intent: OrderIntent::Increase,
                            leader_key: lk.clone(),
                        }),
                        format!(
                            "reconcile {name}: follower {} is below the target {} (leader {} × k {} − declined {}); add {}",
                            show(pos.qty),
                            show(target),
                            show(leader.abs()),
                            show(pos.k),
                            show(pos.declined),
                            show(x.qty)
                        ),
                    );
                    pos.qty += x.qty;
                    pos.margin += x.margin;
                    pos.declined += x.declined;
                }
                Err(s) if s.kind == NoticeKind::BelowMinimum => {}
                Err(s) => {
                    // The gate's answer stands: the declined part is not retried.
                    pos.declined += diff;
                    out.notice(s.kind, format!("reconcile: {}", s.text));
                }
            }
        }
        ledger.positions.insert(lk, pos);
    }
    let pending: BTreeSet<PositionKey> = ledger
        .pending
        .values()
        .map(|p| p.leader_key.clone())
        .collect();
    for (lk, qty) in &input.leader.positions {
        if qty.is_zero()
            || ledger.positions.contains_key(lk)
            || ledger.not_copied.contains(lk)
            || pending.contains(lk)
        {
            continue;
        }
        out.notice(
            NoticeKind::LostOpen,
            format!(
                "{} not opened: the leader holds {} that this copy never opened (a lost or stale open); \
                 reconciliation never opens, so it is skipped for good",
                lk.symbol,
                show(*qty)
            ),
        );
        ledger.not_copied.insert(lk.clone());
    }
    if input.leader.status == SnapshotStatus::Confirmed {
        ledger
            .not_copied
            .retain(|k| input.leader.positions.get(k).is_some_and(|q| !q.is_zero()));
    }
    if settings.risk.close_independent_trades {
        independent(input, &ours, &mut out);
    }
    Plan {
        actions: out.actions,
        ledger,
    }
}

fn free_funds(
    input: &ReconcileInput,
    ledger: &super::types::Ledger,
    quote: &crate::domain::Asset,
) -> (Decimal, String) {
    let avail = input.follower.available(quote);
    if input.copy.settings.mode == CopyMode::SmartSync {
        let inv = input.copy.settings.investment.unwrap_or(Decimal::ZERO);
        let free = (inv - ledger.margin_in_use()).max(Decimal::ZERO);
        if free <= avail {
            return (free, "copy's free investment".into());
        }
    }
    (avail, format!("available {quote}"))
}

/// Strict mirror: closes follower positions and cancels orders CopyDesk did not create.
fn independent(input: &ReconcileInput, ours: &BTreeSet<PositionKey>, out: &mut Out) {
    let f = &input.follower;
    for p in &f.positions {
        if p.qty.is_zero() || ours.contains(&p.key) || f.held_by_other_copies.contains(&p.key) {
            continue;
        }
        let (Some(dir), Some(m)) = (Direction::of(p.qty), input.market.get(&p.key.symbol)) else {
            continue;
        };
        let leg = format!("independent:{}:{:?}", p.key.symbol, p.key.side);
        out.push(
            ActionKind::PlaceOrder(OrderPlan::closing(
                client_id(&input.copy.id, &input.pass_id, &leg),
                m.symbol.clone(),
                dir,
                p.key.side,
                p.qty.abs(),
                f.position_mode,
                OrderIntent::Close,
                p.key.clone(),
            )),
            format!(
                "close_independent_trades: {} {} was not opened by CopyDesk",
                show(p.qty.abs()),
                p.key.symbol
            ),
        );
    }
    for o in &f.open_orders {
        if is_ours(&o.client_id) || f.symbol_held_by_other(&o.symbol) {
            continue;
        }
        out.push(
            ActionKind::CancelOrder {
                symbol: o.symbol.clone(),
                client_id: o.client_id.clone(),
            },
            format!(
                "close_independent_trades: {} order {} on {} was not placed by CopyDesk",
                if o.conditional { "conditional" } else { "open" },
                o.client_id,
                o.symbol
            ),
        );
    }
}
