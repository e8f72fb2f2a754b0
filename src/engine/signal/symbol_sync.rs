//! Planning of the leader's symbol settings and isolated margin: leverage changes
//! (capped), margin-mode changes (deferred while a position is open), and isolated margin
//! add/reduce in the leader's proportion.

use rust_decimal::prelude::RoundingStrategy;
use rust_decimal::Decimal;

use crate::domain::MarginMode;

use super::Planner;
use crate::engine::sizing::show;
use crate::engine::types::{ActionKind, CopyState, NoticeKind, PositionKey};

/// Margin levels above this (1,000 %) get no added margin.
const MAX_MARGIN_LEVEL_FOR_ADD: Decimal = Decimal::TEN;
/// Decimals of a margin transfer.
const MARGIN_DP: u32 = 8;

impl Planner<'_> {
    pub(super) fn leverage(&mut self, leader_leverage: u32) {
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

    pub(super) fn margin_mode(&mut self, mode: MarginMode) {
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

    pub(super) fn isolated_margin(&mut self, change: Decimal, leader_before: Decimal) {
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
                    match &input.copy.held {
                        Some(why) => format!("margin not added on {name}: {why}"),
                        None => format!("margin not added on {name}: the copy is paused"),
                    },
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
