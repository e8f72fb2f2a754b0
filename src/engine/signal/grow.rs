//! Planning of what adds exposure: leader opens (sized per the mode, with the minimum
//! bump and the accumulation of one order's fills) and increases (Δq × k), each through
//! the risk gate first.

use rust_decimal::Decimal;

use crate::domain::{CopyMode, LeaderFill, MarginMode};

use super::Planner;
use crate::engine::sizing::{fit, floor_market, show, size_open, FitLimits, Skip};
use crate::engine::types::{
    ActionKind, Direction, Ledger, LedgerPosition, NoticeKind, OrderIntent, PendingFills,
    PositionKey,
};

impl Planner<'_> {
    pub(super) fn open(
        &mut self,
        f: &LeaderFill,
        dir: Direction,
        leader_qty: Decimal,
        pending: Option<PendingFills>,
    ) {
        let lk = self.leader_key();
        if let Some(stale) = self.ledger.positions.get(&lk) {
            if stale.direction == dir {
                // A stale entry for a book the leader reports flat: size on top of it.
                self.increase(f, f.qty.get(), leader_qty, pending);
                return;
            }
            // The leader was flat, so this entry is a close that was not executed (refused,
            // or its signal lost). Adding to it would trade against the leader: it is
            // closed first, then the new side opens as after a flip.
            self.close_all(
                "a close of the earlier position was not executed and the leader now opens the other way",
                "close-stale",
            );
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
            // A fixed amount is per copied position: the pending copy of the order's first
            // fill already is the whole amount, and later fills (or the order's end) only
            // add to the leader quantity it stands for.
            if settings.mode == CopyMode::FixedAmount {
                (raw, margin) = (p.raw_qty, p.margin);
            } else {
                raw += p.raw_qty;
                margin += p.margin;
            }
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
        // In hedge mode another copy may hold the other book of this symbol: its leverage
        // and margin mode follow that copy (copy-rules §1.8), so an open that needs others
        // is skipped rather than change them under it.
        if input.follower.symbol_held_by_other(&name) {
            let current = input.follower.symbol_configs.get(&name).copied();
            if current.map(|c| (c.leverage, c.margin_mode)) != Some((sized.leverage, f.margin_mode))
            {
                let now = current.map_or("unknown".to_owned(), |c| {
                    format!("{}x {:?}", c.leverage, c.margin_mode)
                });
                return self.skip_open(Skip::new(
                    NoticeKind::HeldByOtherCopy,
                    format!(
                        "skipped {name}: another copy of this follower account holds a {name} position, and the symbol's leverage and margin mode ({now}) follow that copy; this open needs {}x {:?}",
                        sized.leverage, f.margin_mode
                    ),
                ));
            }
        }
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

    pub(super) fn skip_open(&mut self, s: Skip) {
        let lk = self.leader_key();
        self.ledger.not_copied.insert(lk);
        self.skip(s);
    }

    /// Keeps fills of one leader order pending while their copy is below the minimum and
    /// more fills may come. Returns true when it did.
    pub(super) fn hold_pending(
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
    pub(super) fn configure_symbol(&mut self, margin_mode: MarginMode, leverage: u32) {
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

    pub(super) fn increase(
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
}
