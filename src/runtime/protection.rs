//! Offline protection: after every fill and at reconciliation, each copied position's
//! exchange-side stop is brought to the planner's price and quantity (placed, replaced,
//! or removed when the position closed), so protection holds while the app is closed.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine;

use super::follower::to_follower;
use super::supervisor::CopyRunner;

impl CopyRunner {
    /// Brings every position's protective stop up to date.
    pub(crate) async fn protect(&mut self) {
        let Some(snap) = self.follower_snapshot().await else {
            return;
        };
        let mut markets = BTreeMap::new();
        let names: BTreeSet<String> = self
            .ctx
            .ledger
            .positions
            .values()
            .map(|p| p.symbol.name.clone())
            .collect();
        for n in names {
            if let Some(m) = self.market_of(&n).await {
                markets.insert(n, m);
            }
        }
        let f = to_follower(&snap, self.held_by_others());
        let plan = engine::plan_protection(&self.ctx, &f, &markets);
        if !plan.actions.is_empty() {
            self.execute(plan, None).await;
        }
        self.check_figures(&snap).await;
    }
}
