//! Offline protection: after every fill and at reconciliation, each copied position's
//! exchange-side stop is brought to the planner's price and quantity (placed, replaced,
//! or removed when the position closed), so protection holds while the app is closed.

use crate::engine;

use super::follower::to_follower;
use super::hold::HoldKind;
use super::supervisor::CopyRunner;

impl CopyRunner {
    /// Holds the copy while a position it holds has no protective stop on the venue
    /// (copy-rules §1.10), and lifts the hold once every one has.
    pub(crate) fn check_protected(&mut self, follower: &engine::FollowerSnapshot) {
        if !self.ctx.settings.risk.offline_protection {
            self.release(HoldKind::Unprotected);
            return;
        }
        let bare: Vec<String> = self
            .ctx
            .ledger
            .positions
            .values()
            // Only what the follower still holds needs a stop (as the planner decides).
            .filter(|p| {
                p.stop.is_none()
                    && !follower
                        .qty_in(&p.follower_key(), p.direction)
                        .min(p.qty)
                        .is_zero()
            })
            .map(|p| p.symbol.name.clone())
            .collect();
        if bare.is_empty() {
            self.release(HoldKind::Unprotected);
        } else {
            self.hold(
                HoldKind::Unprotected,
                format!(
                    "{} without a protective stop on the venue; placing it again at the next pass",
                    bare.join(", ")
                ),
            );
        }
    }

    /// Brings every position's protective stop up to date.
    pub(crate) async fn protect(&mut self) {
        let Some(snap) = self.follower_snapshot().await else {
            return;
        };
        let markets = self.ledger_markets().await;
        let f = to_follower(&snap, self.held_by_others());
        let plan = engine::plan_protection(&self.ctx, &f, &markets);
        if !plan.actions.is_empty() {
            self.execute(plan, None).await;
        }
        self.check_protected(&f);
        self.check_figures(&snap).await;
    }
}
