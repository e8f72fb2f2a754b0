//! Offline protection: after every fill and at reconciliation, each copied position's
//! exchange-side stop is brought to the planner's price and quantity (placed, replaced,
//! or removed when the position closed), so protection holds while the app is closed.

use crate::engine;

use super::follower::to_follower;
use super::supervisor::CopyRunner;

impl CopyRunner {
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
        self.check_figures(&snap).await;
    }
}
