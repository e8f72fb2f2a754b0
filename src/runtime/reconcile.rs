//! Reconciliation (copy-rules §5): a fresh leader position read, confirmed by the stream or
//! by a second read before anything is closed on it, and a fresh follower snapshot are
//! compared with the ledger; the engine's repairs run through the journal like any plan.

use std::collections::BTreeMap;

use crate::engine::{self, LeaderSnapshot, ReconcileInput, SnapshotStatus};

use super::follower::to_follower;
use super::reconcile_reads::{Prefetched, FUNDING_EVERY_PASSES};
use super::supervisor::{ms, CopyRunner};

impl CopyRunner {
    /// One reconciliation pass: leader and follower snapshots against the ledger.
    pub(crate) async fn reconcile(&mut self, why: &str) {
        self.reconcile_with(why, None).await;
    }

    /// A pass whose reads were taken beforehand, beside the signal loop
    /// ([`CopyRunner::prefetch`]); with `None`, the pass reads itself.
    pub(crate) async fn reconcile_with(&mut self, why: &str, mut read: Option<Prefetched>) {
        // A routine pass finishing an asked-for one that could not finish reports under its
        // reason; an asked-for pass that returns early leaves its reason to the next one.
        let why = match (why, self.deferred_why.take()) {
            ("periodic", Some(asked)) => asked,
            (why, _) => why.to_string(),
        };
        let why = why.as_str();
        let defer = |me: &mut Self| {
            if why != "periodic" {
                me.deferred_why = Some(why.to_string());
            }
        };
        self.next_reconcile_ms = self.clock.now_ms() + ms(self.opts.reconcile_every);
        // A stopping copy repairs nothing toward the leader: its stop pass runs instead.
        if self.is_stopping() {
            self.stop_pass().await;
            return;
        }
        match read.as_ref().and_then(|r| r.offset_ms) {
            Some(offset) => self.server_offset_ms = offset,
            None => self.sync_time().await,
        }
        let venue = self.leader.venue().map(|v| v.ex.clone());
        let leader_read = read.as_mut().and_then(|r| r.leader.take());
        let leader = match venue {
            // A polled leader: its last good read, or nothing to act on.
            None => match self.polled_snapshot() {
                Some(s) => s,
                None => {
                    defer(self);
                    return;
                }
            },
            Some(ex) => match match leader_read {
                Some(r) => r,
                None => super::venue::positions(&*ex).await,
            } {
                Ok(positions) => {
                    // A snapshot is confirmed by the stream (both agree) or by a second read
                    // that finds the same; otherwise the stream may simply not have delivered
                    // the latest fills yet, so look again shortly instead of acting on it.
                    let confirmed = &positions == self.tracker.positions()
                        || self.unconfirmed.as_ref() == Some(&positions);
                    if !confirmed {
                        tracing::debug!(
                            why,
                            "leader snapshot differs from the stream; reading again soon"
                        );
                        self.unconfirmed = Some(positions);
                        self.next_reconcile_ms = self.clock.now_ms() + 2_000;
                        defer(self);
                        return;
                    }
                    self.unconfirmed = None;
                    LeaderSnapshot {
                        status: SnapshotStatus::Confirmed,
                        positions,
                    }
                }
                Err(e) => {
                    if self.key_refused("the leader", &e) {
                        return;
                    }
                    tracing::warn!(error = %e, "leader snapshot failed");
                    LeaderSnapshot {
                        status: SnapshotStatus::Failed,
                        positions: BTreeMap::new(),
                    }
                }
            },
        };
        if leader.status != SnapshotStatus::Failed {
            self.release(super::hold::HoldKind::LeaderUnreadable);
        }
        let Some(snap) = self.fresh_snapshot().await else {
            defer(self);
            return;
        };
        self.guard_open_orders(&snap);
        self.repair_missing_stops(&snap, why == "start-up");
        self.sweep_stray_stops(&snap).await;
        self.resolve_unknown_orders().await;
        // Fills of our orders the stream lost (it was down when they filled) are read
        // from the venue's trade history before the figures are recorded.
        self.catch_up_fills().await;
        self.report_wrong_modes(&snap);
        let markets = self.ledger_markets().await;
        self.pass += 1;
        let input = ReconcileInput {
            copy: self.ctx.clone(),
            pass_id: format!("reconcile:{}:{}", self.clock.now_ms(), self.pass),
            leader,
            follower: to_follower(&snap, self.held_by_others()),
            market: markets,
            announced_outside: std::mem::take(&mut self.outside_announced),
        };
        let plan = engine::reconcile(&input);
        let repairs = plan.orders().count();
        if repairs > 0 {
            tracing::info!(why, repairs, "reconciliation repairs drift");
        }
        // Periodic passes are routine; the others tell the user the copy caught up.
        if why != "periodic" {
            self.say(
                super::notify::NotifyLevel::Info,
                super::notify::NotifyKind::Reconciled,
                format!("reconciled after {why}: {repairs} repair order(s)"),
            );
        }
        let changed = plan.ledger != self.ctx.ledger || !plan.actions.is_empty();
        if changed {
            self.execute(plan, None).await;
        }
        // A completed pass has matched the ledger to the venue's positions, which is what
        // unreadable stored state needed.
        self.release(super::hold::HoldKind::UnreadableState);
        // Funding the stream's event did not bring in (a reconnect, a restart) is caught up
        // before protect() records the figures.
        // A periodic pass reads them every FUNDING_EVERY_PASSES passes only: the
        // stream's funding update reads them when funding is paid.
        if why != "periodic" || self.pass % FUNDING_EVERY_PASSES == 1 {
            self.collect_funding().await;
        }
        self.protect().await;
        self.handle_stop_request().await;
    }
}
