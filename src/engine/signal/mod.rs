//! Signal → actions: what the follower does for each leader signal of copy-rules.md
//! section 3 (open, increase, partial and full close, flip, leverage change, margin-mode
//! change, isolated margin add/reduce), after the risk gate for what adds exposure.
//! Closing actions never pass the gate and run whatever the copy's state or the age.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{
    CopyMode, LeaderFill, LeaderSignal, MarginMode, PositionMode, PositionSide, Preset, Price,
    Quantity, SignalKind,
};

use super::client_id::client_id;
use super::risk::{check_exposure, signal_age_ms, ExposureCheck};
use super::sizing::{show, Skip};
use super::types::{
    ActionKind, CopyContext, CopyState, Direction, FollowerSnapshot, Ledger, LedgerPosition,
    MarketInfo, NoticeKind, OrderIntent, OrderPlan, OrderType, Out, Plan, PositionKey,
};

mod grow;
mod shrink;
mod symbol_sync;

/// Everything one planning step needs; the planner reads nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInput {
    pub copy: CopyContext,
    pub signal: LeaderSignal,
    pub follower: FollowerSnapshot,
    /// Filters and prices of the signal's symbol.
    pub market: MarketInfo,
    /// Local clock, milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// Measured venue time minus local time, in milliseconds.
    pub server_offset_ms: i64,
}

/// Plans the follower's reaction to one leader signal. Deterministic: the same input
/// always gives the same actions, client ids and ledger.
pub fn plan(input: &PlanInput) -> Plan {
    let with_preset;
    let input = if input.copy.settings.preset == Preset::None {
        input
    } else {
        let mut i = input.clone();
        i.copy.settings = i.copy.settings.effective();
        with_preset = i;
        &with_preset
    };
    let mut p = Planner {
        input,
        ledger: input.copy.ledger.clone(),
        out: Out::default(),
    };
    p.run();
    Plan {
        actions: p.out.actions,
        ledger: p.ledger,
    }
}

struct Planner<'a> {
    input: &'a PlanInput,
    ledger: Ledger,
    out: Out,
}

impl Planner<'_> {
    fn sig(&self) -> &LeaderSignal {
        &self.input.signal
    }

    fn name(&self) -> &str {
        &self.input.signal.symbol.name
    }

    fn leader_key(&self) -> PositionKey {
        PositionKey::new(self.name(), self.sig().position_side)
    }

    fn skip(&mut self, s: Skip) {
        self.out.notice(s.kind, s.text);
    }

    fn run(&mut self) {
        let input = self.input;
        let sig = &input.signal;
        let name = self.name().to_owned();
        if input.copy.state == CopyState::Stopped {
            self.out.notice(
                NoticeKind::CopyStopped,
                format!("ignored a {name} signal: the copy is stopped"),
            );
            return;
        }
        if sig.event_time_ms < input.copy.t0_ms {
            self.out.notice(
                NoticeKind::BeforeStart,
                format!(
                    "ignored a {name} signal from {} ms, before the copy started at {} ms",
                    sig.event_time_ms, input.copy.t0_ms
                ),
            );
            return;
        }
        if input.market.symbol.name != name {
            self.out.notice(
                NoticeKind::MissingMarketData,
                format!(
                    "ignored a {name} signal: the market data given is for {}",
                    input.market.symbol.name
                ),
            );
            return;
        }
        let lk = self.leader_key();
        if let Some(pos) = self.ledger.positions.get(&lk) {
            if sig.event_time_ms < pos.last_event_ms {
                self.out.notice(
                    NoticeKind::OutOfOrder,
                    format!(
                        "ignored a {name} signal from {} ms: the position already moved past it (last change {} ms)",
                        sig.event_time_ms, pos.last_event_ms
                    ),
                );
                return;
            }
        }
        match &sig.kind {
            SignalKind::Fill(f) => self.fill(f),
            SignalKind::LeverageChange { leverage } => self.leverage(*leverage),
            SignalKind::MarginModeChange { margin_mode } => self.margin_mode(*margin_mode),
            SignalKind::IsolatedMargin {
                change,
                isolated_margin_before,
            } => self.isolated_margin(*change, *isolated_margin_before),
        }
        if let Some(pos) = self.ledger.positions.get_mut(&lk) {
            pos.last_event_ms = pos.last_event_ms.max(sig.event_time_ms);
        }
    }

    fn fill(&mut self, f: &LeaderFill) {
        let lk = self.leader_key();
        let before = f.position_before;
        let after = f.position_after();
        if let Some(pending) = self.ledger.pending.get(&f.order_id).cloned() {
            if pending.leader_key == lk && Direction::of(after).is_some() {
                let dir = Direction::of(after).unwrap_or(Direction::Long);
                if pending.opening {
                    self.open(f, dir, after.abs(), Some(pending));
                } else {
                    self.increase(f, f.qty.get(), after.abs(), Some(pending));
                }
                return;
            }
        }
        let before = match self.already_reconciled(before, after) {
            Some(seen) => seen,
            None => return,
        };
        match (Direction::of(before), Direction::of(after)) {
            (None, None) => {}
            (None, Some(d)) => self.open(f, d, after.abs(), None),
            (Some(b), Some(a)) if a == b && after.abs() > before.abs() => {
                self.increase(f, after.abs() - before.abs(), after.abs(), None)
            }
            (Some(b), Some(a)) if a == b => {
                self.reduce(before.abs() - after.abs(), before.abs(), after.abs())
            }
            (Some(_), None) => self.close_all("the leader closed its position", "close"),
            (Some(_), Some(a)) => {
                self.close_all("the leader flipped its position", "close");
                if self.sig().position_side == PositionSide::Both {
                    self.open(f, a, after.abs(), None);
                }
            }
        }
        if after.is_zero() {
            self.ledger.not_copied.remove(&lk);
            let dropped: Vec<String> = self
                .ledger
                .pending
                .iter()
                .filter(|(_, p)| p.leader_key == lk)
                .map(|(id, _)| id.clone())
                .collect();
            for id in dropped {
                self.ledger.pending.remove(&id);
            }
        }
    }

    /// Where this fill starts from, as far as the copy's book knows. A reconciliation pass
    /// may have matched the book to a leader snapshot read after this fill happened (its
    /// stream event still on its way): the ledger's leader quantity then already lies
    /// between `before` and `after`, or at `after`, and applying the whole change again
    /// would double it. The fill then counts from the ledger's quantity, or, when the
    /// ledger is already where it leads, changes nothing and says so (`None`).
    fn already_reconciled(&mut self, before: Decimal, after: Decimal) -> Option<Decimal> {
        let lk = self.leader_key();
        let Some(pos) = self.ledger.positions.get(&lk) else {
            return Some(before);
        };
        let same_side = |q: Decimal| Direction::of(q) == Some(pos.direction);
        if !same_side(before) || !same_side(after) {
            return Some(before);
        }
        let (from, to, seen) = (before.abs(), after.abs(), pos.leader_qty);
        let moved = (to > from && seen > from) || (to < from && seen < from);
        if !moved {
            return Some(before);
        }
        let done = (to > from && seen >= to) || (to < from && seen <= to);
        if done {
            self.out.notice(
                NoticeKind::AlreadyReconciled,
                format!(
                    "ignored a {} fill taking the leader from {} to {}: reconciliation already \
                     matched the copy to the leader's {}",
                    self.name(),
                    show(from),
                    show(to),
                    show(seen)
                ),
            );
            return None;
        }
        Some(if before.is_sign_negative() {
            -seen
        } else {
            seen
        })
    }

    fn follower_side(&self, dir: Direction) -> Result<PositionSide, Skip> {
        let hedge_follower = self.input.follower.position_mode == PositionMode::Hedge;
        match (self.sig().position_side, hedge_follower) {
            (PositionSide::Both, false) => Ok(PositionSide::Both),
            (_, true) => Ok(match dir {
                Direction::Long => PositionSide::Long,
                Direction::Short => PositionSide::Short,
            }),
            (_, false) => Err(Skip::new(
                NoticeKind::PositionModeMismatch,
                format!(
                    "skipped {}: the leader trades in hedge mode and the follower is in one-way mode",
                    self.name()
                ),
            )),
        }
    }

    /// Margin the copy may still use, and where it comes from.
    fn free_funds(&self) -> (Decimal, String) {
        let input = self.input;
        let avail = input.follower.available(&input.signal.symbol.quote);
        let avail_text = format!("available {}", input.signal.symbol.quote);
        match input.copy.settings.mode {
            CopyMode::SmartSync => {
                let inv = input.copy.settings.investment.unwrap_or(Decimal::ZERO);
                let free = inv - self.ledger.margin_in_use();
                if free <= avail {
                    (free.max(Decimal::ZERO), "copy's free investment".into())
                } else {
                    (avail, avail_text)
                }
            }
            _ => (avail, avail_text),
        }
    }

    fn gate(
        &self,
        dir: Direction,
        follower_key: &PositionKey,
        margin_mode: MarginMode,
        price: Price,
    ) -> Result<OrderType, Skip> {
        let input = self.input;
        check_exposure(&ExposureCheck {
            copy: &input.copy,
            follower: &input.follower,
            symbol: &input.signal.symbol,
            follower_key,
            margin_mode,
            leader_fill: Some((dir.opening_side(), price)),
            current_price: input.market.current_price,
            filters: &input.market.filters,
            age_ms: Some(signal_age_ms(
                input.now_ms,
                input.server_offset_ms,
                input.signal.event_time_ms,
            )),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn push_order(
        &mut self,
        side: crate::domain::Side,
        position_side: PositionSide,
        qty: Decimal,
        order_type: OrderType,
        closing: bool,
        intent: OrderIntent,
        leg: &str,
        reason: String,
    ) {
        let input = self.input;
        let hedge = input.follower.position_mode == PositionMode::Hedge;
        self.out.push(
            ActionKind::PlaceOrder(OrderPlan {
                client_id: client_id(&input.copy.id, &input.signal.id, leg),
                symbol: input.signal.symbol.clone(),
                side,
                position_side,
                qty: Quantity::new(qty).unwrap_or(Quantity::ZERO),
                order_type,
                // Hedge mode expresses reduce-only by the position side alone.
                reduce_only: closing && !hedge,
                intent,
                leader_key: self.leader_key(),
            }),
            reason,
        );
    }

    /// The quantity of a copied position the follower still holds from our orders.
    fn managed_qty(&self, pos: &LedgerPosition) -> Decimal {
        self.input
            .follower
            .qty_in(&pos.follower_key(), pos.direction)
            .min(pos.qty)
    }
}
