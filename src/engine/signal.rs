//! Signal → actions: what the follower does for each leader signal of copy-rules.md
//! section 3 (open, increase, partial and full close, flip, leverage change, margin-mode
//! change, isolated margin add/reduce), after the risk gate for what adds exposure.
//! Closing actions never pass the gate and run whatever the copy's state or the age.

use rust_decimal::prelude::RoundingStrategy;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{
    CopyMode, LeaderFill, LeaderSignal, MarginMode, PositionMode, PositionSide, Preset, Price,
    Quantity, SignalKind,
};

use super::client_id::client_id;
use super::risk::{check_exposure, signal_age_ms, ExposureCheck};
use super::sizing::{fit, floor_market, show, size_open, FitLimits, Skip};
use super::types::{
    ActionKind, CopyContext, CopyState, Direction, FollowerSnapshot, Ledger, LedgerPosition,
    MarketInfo, NoticeKind, OrderIntent, OrderPlan, OrderType, Out, PendingFills, Plan,
    PositionKey,
};

/// Margin levels above this (1,000 %) get no added margin.
const MAX_MARGIN_LEVEL_FOR_ADD: Decimal = Decimal::TEN;
/// Decimals of a margin transfer.
const MARGIN_DP: u32 = 8;

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

    fn open(
        &mut self,
        f: &LeaderFill,
        dir: Direction,
        leader_qty: Decimal,
        pending: Option<PendingFills>,
    ) {
        let lk = self.leader_key();
        if self.ledger.positions.contains_key(&lk) {
            // A stale entry for a book the leader reports flat: size on top of it.
            self.increase(f, f.qty.get(), leader_qty, pending);
            return;
        }
        let input = self.input;
        let name = self.name().to_owned();
        let fside = match self.follower_side(dir) {
            Ok(s) => s,
            Err(s) => return self.skip_open(s),
        };
        let fkey = PositionKey::new(name.clone(), fside);
        let order_type = match self.gate(dir, &fkey, f.margin_mode, f.price) {
            Ok(t) => t,
            Err(s) => return self.skip_open(s),
        };
        let settings = &input.copy.settings;
        if settings.mode == CopyMode::FixedAmount {
            let amount = settings.amount_per_order.unwrap_or(Decimal::ZERO);
            if amount > input.follower.account_value {
                return self.skip_open(Skip::new(
                    NoticeKind::AmountAboveAccountValue,
                    format!(
                        "skipped {name}: amount_per_order {} exceeds the follower's account value {}",
                        show(amount),
                        show(input.follower.account_value)
                    ),
                ));
            }
        }
        let fill_qty = if pending.is_some() {
            f.qty.get()
        } else {
            leader_qty
        };
        let sized = match size_open(settings, fill_qty, f.price, f.leverage, f.equity_before) {
            Ok(s) => s,
            Err(s) => return self.skip_open(s),
        };
        let (mut raw, mut margin, mut lead_total) = (sized.raw_qty, sized.margin, fill_qty);
        if let Some(p) = &pending {
            raw += p.raw_qty;
            margin += p.margin;
            lead_total += p.leader_qty;
        }
        if self.hold_pending(f, &lk, true, raw, margin, lead_total) {
            return;
        }
        let (free, free_what) = self.free_funds();
        let fitted = match fit(
            raw,
            margin,
            sized.leverage,
            f.price,
            &input.market.filters,
            &FitLimits {
                free_funds: free,
                free_what,
                existing_qty: Decimal::ZERO,
                max_position_notional: settings.risk.max_position_notional,
                bump_factor: Some(settings.risk.min_bump_factor),
            },
        ) {
            Ok(x) => x,
            Err(s) => {
                self.ledger.pending.remove(&f.order_id);
                return self.skip_open(s);
            }
        };
        self.ledger.pending.remove(&f.order_id);
        self.configure_symbol(f.margin_mode, sized.leverage);
        let why = format!("{}; {}", sized.why, fitted.why.join("; "));
        self.push_order(
            dir.opening_side(),
            fside,
            fitted.qty,
            order_type,
            false,
            OrderIntent::Open,
            "open",
            format!(
                "open {:?} {} {name} at {}x: {why}",
                dir,
                show(fitted.qty),
                sized.leverage
            ),
        );
        self.ledger.not_copied.remove(&lk);
        self.ledger.positions.insert(
            lk,
            LedgerPosition {
                symbol: input.signal.symbol.clone(),
                follower_side: fside,
                direction: dir,
                k: fitted.intended / lead_total,
                qty: fitted.qty,
                declined: fitted.declined,
                leader_qty,
                margin: fitted.margin,
                leverage: sized.leverage,
                margin_mode: f.margin_mode,
                last_event_ms: input.signal.event_time_ms,
                stop: None,
            },
        );
    }

    fn skip_open(&mut self, s: Skip) {
        let lk = self.leader_key();
        self.ledger.not_copied.insert(lk);
        self.skip(s);
    }

    /// Keeps fills of one leader order pending while their copy is below the minimum and
    /// more fills may come. Returns true when it did.
    fn hold_pending(
        &mut self,
        f: &LeaderFill,
        lk: &PositionKey,
        opening: bool,
        raw: Decimal,
        margin: Decimal,
        leader_qty: Decimal,
    ) -> bool {
        let filters = &self.input.market.filters;
        let min = filters.min_tradable_qty(f.price, true).get();
        let rounded = floor_market(filters, raw);
        if f.order_final || rounded >= min {
            return false;
        }
        self.ledger.pending.insert(
            f.order_id.clone(),
            PendingFills {
                leader_key: lk.clone(),
                opening,
                leader_qty,
                raw_qty: raw,
                margin,
            },
        );
        self.out.notice(
            NoticeKind::Pending,
            format!(
                "pending: {} {} so far from leader order {} is below the minimum {}; later fills of that order add to it",
                show(raw),
                self.name(),
                f.order_id,
                show(min)
            ),
        );
        true
    }

    /// Sets the follower's margin mode and leverage for the symbol before an open.
    fn configure_symbol(&mut self, margin_mode: MarginMode, leverage: u32) {
        let input = self.input;
        let name = self.name().to_owned();
        let current = input.follower.symbol_configs.get(&name).copied();
        if current.map(|c| c.margin_mode) != Some(margin_mode) {
            let has_position = input
                .follower
                .positions
                .iter()
                .any(|p| p.key.symbol == name && !p.qty.is_zero());
            if has_position {
                self.out.notice(
                    NoticeKind::MarginModeDeferred,
                    format!(
                        "{name} stays in its current margin mode: the follower holds a {name} position, so {:?} cannot be set now",
                        margin_mode
                    ),
                );
            } else {
                self.out.push(
                    ActionKind::SetMarginMode {
                        symbol: name.clone(),
                        margin_mode,
                    },
                    format!("{name} margin mode {:?}, as the leader's", margin_mode),
                );
            }
        }
        if current.map(|c| c.leverage) != Some(leverage) {
            self.out.push(
                ActionKind::SetLeverage {
                    symbol: name.clone(),
                    leverage,
                },
                format!(
                    "{name} leverage {leverage}x (leader's capped by max_leverage {})",
                    input.copy.settings.risk.max_leverage
                ),
            );
        }
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

    fn increase(
        &mut self,
        f: &LeaderFill,
        dq: Decimal,
        leader_after: Decimal,
        pending: Option<PendingFills>,
    ) {
        let lk = self.leader_key();
        let input = self.input;
        let name = self.name().to_owned();
        let Some(pos) = self.ledger.positions.get(&lk).cloned() else {
            self.out.notice(
                NoticeKind::NotCopied,
                format!(
                    "nothing to do: the leader increased {name}, a position this copy did not copy"
                ),
            );
            return;
        };
        let mut raw = dq * pos.k;
        if let Some(p) = &pending {
            raw += p.raw_qty;
        }
        let fkey = pos.follower_key();
        let decline = |ledger: &mut Ledger, raw: Decimal| {
            if let Some(p) = ledger.positions.get_mut(&lk) {
                p.declined += raw;
                p.leader_qty = leader_after;
            }
        };
        let order_type = match self.gate(pos.direction, &fkey, pos.margin_mode, f.price) {
            Ok(t) => t,
            Err(s) => {
                decline(&mut self.ledger, raw);
                self.ledger.pending.remove(&f.order_id);
                return self.skip(s);
            }
        };
        let l = Decimal::from(pos.leverage.max(1));
        let margin = raw * f.price.get() / l;
        let lead_total = dq
            + pending
                .as_ref()
                .map(|p| p.leader_qty)
                .unwrap_or(Decimal::ZERO);
        if self.hold_pending(f, &lk, false, raw, margin, lead_total) {
            if let Some(p) = self.ledger.positions.get_mut(&lk) {
                p.leader_qty = leader_after;
            }
            return;
        }
        self.ledger.pending.remove(&f.order_id);
        let (free, free_what) = self.free_funds();
        let fitted = fit(
            raw,
            margin,
            pos.leverage,
            f.price,
            &input.market.filters,
            &FitLimits {
                free_funds: free,
                free_what,
                existing_qty: pos.qty,
                max_position_notional: input.copy.settings.risk.max_position_notional,
                bump_factor: None,
            },
        );
        let fitted = match fitted {
            Ok(x) => x,
            Err(s) => {
                // Below the minimum is not a decline: reconciliation may add it later.
                if s.kind != NoticeKind::BelowMinimum {
                    decline(&mut self.ledger, raw);
                } else if let Some(p) = self.ledger.positions.get_mut(&lk) {
                    p.leader_qty = leader_after;
                }
                return self.skip(s);
            }
        };
        self.push_order(
            pos.direction.opening_side(),
            pos.follower_side,
            fitted.qty,
            order_type,
            false,
            OrderIntent::Increase,
            "increase",
            format!(
                "increase {name} by {}: leader added {} × k {} = {}; {}",
                show(fitted.qty),
                show(lead_total),
                show(pos.k),
                show(raw),
                fitted.why.join("; ")
            ),
        );
        if let Some(p) = self.ledger.positions.get_mut(&lk) {
            p.qty += fitted.qty;
            p.declined += fitted.declined;
            p.margin += fitted.margin;
            p.leader_qty = leader_after;
        }
    }

    /// The quantity of a copied position the follower still holds from our orders.
    fn managed_qty(&self, pos: &LedgerPosition) -> Decimal {
        self.input
            .follower
            .qty_in(&pos.follower_key(), pos.direction)
            .min(pos.qty)
    }

    fn reduce(&mut self, closed: Decimal, before: Decimal, after: Decimal) {
        let lk = self.leader_key();
        let name = self.name().to_owned();
        let Some(pos) = self.ledger.positions.get(&lk).cloned() else {
            self.out.notice(
                NoticeKind::NotCopied,
                format!(
                    "nothing to do: the leader reduced {name}, a position this copy did not copy"
                ),
            );
            return;
        };
        let filters = &self.input.market.filters;
        let held = self.managed_qty(&pos);
        let f = closed / before;
        let mut qty = floor_market(filters, f * held);
        let remainder = held - qty;
        let mut why = format!(
            "leader closed {} of {} (fraction {}); {} × {} rounds down to {}",
            show(closed),
            show(before),
            show(f),
            show(f),
            show(held),
            show(qty)
        );
        if remainder < filters.market_min_qty {
            why.push_str(&format!(
                "; the remainder {} is below the minimum quantity {}, so all of it",
                show(remainder),
                show(filters.market_min_qty)
            ));
            qty = held;
        }
        if qty >= held {
            return self.close_position(&pos, held, &why, "close");
        }
        if qty < filters.market_min_qty {
            self.out.notice(
                NoticeKind::BelowMinimum,
                format!(
                    "not reduced yet: {why}, below the minimum quantity {}; reconciliation closes it once it can",
                    show(filters.market_min_qty)
                ),
            );
        } else {
            self.push_order(
                pos.direction.opening_side().opposite(),
                pos.follower_side,
                qty,
                OrderType::Market,
                true,
                OrderIntent::Reduce,
                "reduce",
                format!("reduce {name} by {}: {why}", show(qty)),
            );
        }
        if let Some(p) = self.ledger.positions.get_mut(&lk) {
            let shrink = if held > Decimal::ZERO {
                qty / held
            } else {
                Decimal::ZERO
            };
            let gone = p.qty - held;
            p.qty = held - qty;
            p.margin -= p.margin * shrink;
            p.declined = (p.declined + gone) * (Decimal::ONE - f);
            p.leader_qty = after;
        }
    }

    fn close_all(&mut self, cause: &str, leg: &str) {
        let lk = self.leader_key();
        let name = self.name().to_owned();
        let Some(pos) = self.ledger.positions.get(&lk).cloned() else {
            self.out.notice(
                NoticeKind::NotCopied,
                format!("nothing to do: {cause} on {name}, a position this copy did not copy"),
            );
            return;
        };
        let held = self.managed_qty(&pos);
        self.close_position(&pos, held, cause, leg);
    }

    fn close_position(&mut self, pos: &LedgerPosition, held: Decimal, why: &str, leg: &str) {
        let lk = self.leader_key();
        let name = self.name().to_owned();
        if held > Decimal::ZERO {
            self.push_order(
                pos.direction.opening_side().opposite(),
                pos.follower_side,
                held,
                OrderType::Market,
                true,
                OrderIntent::Close,
                leg,
                format!("close all {} {name}: {why}", show(held)),
            );
        } else {
            self.out.notice(
                NoticeKind::ClosedOutside,
                format!("nothing left to close on {name}: the follower position was closed outside CopyDesk"),
            );
        }
        if let Some(stop) = &pos.stop {
            self.out.push(
                ActionKind::CancelProtectiveStop {
                    client_id: stop.client_id.clone(),
                    symbol: name.clone(),
                },
                format!("{name} is closed; its protective stop goes too"),
            );
        }
        self.ledger.positions.remove(&lk);
    }

    fn leverage(&mut self, leader_leverage: u32) {
        let input = self.input;
        let name = self.name().to_owned();
        let max = input.copy.settings.risk.max_leverage;
        let lev = leader_leverage.min(max).max(1);
        if input.follower.symbol_held_by_other(&name) {
            self.out.notice(
                NoticeKind::HeldByOtherCopy,
                format!("leverage not changed: another copy of this follower account holds {name}"),
            );
            return;
        }
        let ours: Vec<PositionKey> = self
            .ledger
            .positions
            .iter()
            .filter(|(_, p)| p.symbol.name == name)
            .map(|(k, _)| k.clone())
            .collect();
        if ours.is_empty() {
            // No copied position: the next open sets the leverage it needs.
            return;
        }
        for k in ours {
            if let Some(p) = self.ledger.positions.get_mut(&k) {
                p.leverage = lev;
            }
        }
        self.out.push(
            ActionKind::SetLeverage {
                symbol: name.clone(),
                leverage: lev,
            },
            format!("{name} leverage {lev}x: the leader set {leader_leverage}x, capped by max_leverage {max}"),
        );
    }

    fn margin_mode(&mut self, mode: MarginMode) {
        let input = self.input;
        let name = self.name().to_owned();
        if input.follower.symbol_held_by_other(&name) {
            self.out.notice(
                NoticeKind::HeldByOtherCopy,
                format!(
                    "margin mode not changed: another copy of this follower account holds {name}"
                ),
            );
            return;
        }
        let has_position = input
            .follower
            .positions
            .iter()
            .any(|p| p.key.symbol == name && !p.qty.is_zero());
        if has_position {
            self.out.notice(
                NoticeKind::MarginModeDeferred,
                format!(
                    "{name} margin mode {:?} is applied at the next open: the follower holds an open {name} position now",
                    mode
                ),
            );
            return;
        }
        let current = input
            .follower
            .symbol_configs
            .get(&name)
            .map(|c| c.margin_mode);
        if current != Some(mode) {
            self.out.push(
                ActionKind::SetMarginMode {
                    symbol: name.clone(),
                    margin_mode: mode,
                },
                format!("{name} margin mode {:?}, as the leader set it", mode),
            );
        }
    }

    fn isolated_margin(&mut self, change: Decimal, leader_before: Decimal) {
        let input = self.input;
        let lk = self.leader_key();
        let name = self.name().to_owned();
        let Some(pos) = self.ledger.positions.get(&lk).cloned() else {
            self.out.notice(
                NoticeKind::NotCopied,
                format!("margin not synced: the leader changed margin on {name}, a position this copy did not copy"),
            );
            return;
        };
        let fpos = input.follower.position(&pos.follower_key());
        let Some(fpos) = fpos.filter(|p| p.margin_mode == MarginMode::Isolated) else {
            self.out.notice(
                NoticeKind::MarginSyncSkipped,
                format!("margin not synced: the follower's {name} position is not isolated"),
            );
            return;
        };
        if leader_before <= Decimal::ZERO || change.is_zero() {
            self.out.notice(
                NoticeKind::MarginSyncSkipped,
                format!(
                    "margin not synced on {name}: the leader's isolated margin before the change was {}",
                    show(leader_before)
                ),
            );
            return;
        }
        let ratio = fpos.isolated_margin / leader_before;
        let amount =
            (change.abs() * ratio).round_dp_with_strategy(MARGIN_DP, RoundingStrategy::ToZero);
        let basis = format!(
            "{} × (follower isolated margin {} / leader isolated margin {}) = {}",
            show(change.abs()),
            show(fpos.isolated_margin),
            show(leader_before),
            show(amount)
        );
        if change > Decimal::ZERO {
            if input.copy.state == CopyState::Paused {
                self.out.notice(
                    NoticeKind::CopyPaused,
                    format!("margin not added on {name}: the copy is paused"),
                );
                return;
            }
            if fpos.maint_margin <= Decimal::ZERO
                || (fpos.isolated_margin + fpos.unrealized_pnl) / fpos.maint_margin
                    > MAX_MARGIN_LEVEL_FOR_ADD
            {
                let level = if fpos.maint_margin > Decimal::ZERO {
                    format!(
                        "{}%",
                        show(
                            ((fpos.isolated_margin + fpos.unrealized_pnl) / fpos.maint_margin
                                * Decimal::ONE_HUNDRED)
                                .round_dp(2)
                        )
                    )
                } else {
                    "unbounded (no maintenance margin)".to_owned()
                };
                self.out.notice(
                    NoticeKind::MarginSyncSkipped,
                    format!("margin not added on {name}: the margin level is {level}, above 1000%"),
                );
                return;
            }
            let (pool, pool_what) = self.free_funds();
            if amount > pool {
                self.out.notice(
                    NoticeKind::MarginSyncSkipped,
                    format!(
                        "margin not added on {name}: {basis} is more than the {pool_what} of {}",
                        show(pool)
                    ),
                );
                return;
            }
            self.out.push(
                ActionKind::AdjustIsolatedMargin {
                    symbol: name.clone(),
                    position_side: pos.follower_side,
                    amount,
                },
                format!("add margin to {name}: leader added {basis}"),
            );
            if let Some(p) = self.ledger.positions.get_mut(&lk) {
                p.margin += amount;
            }
        } else {
            let capped = amount.min(fpos.max_removable_margin);
            if capped <= Decimal::ZERO {
                self.out.notice(
                    NoticeKind::MarginSyncSkipped,
                    format!(
                        "margin not reduced on {name}: the exchange allows removing nothing now"
                    ),
                );
                return;
            }
            let mut why = format!("reduce margin of {name}: leader removed {basis}");
            if capped < amount {
                why.push_str(&format!(
                    ", capped at the maximum removable {}",
                    show(fpos.max_removable_margin)
                ));
            }
            self.out.push(
                ActionKind::AdjustIsolatedMargin {
                    symbol: name.clone(),
                    position_side: pos.follower_side,
                    amount: -capped,
                },
                why,
            );
            if let Some(p) = self.ledger.positions.get_mut(&lk) {
                p.margin = (p.margin - capped).max(Decimal::ZERO);
            }
        }
    }
}
