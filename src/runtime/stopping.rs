//! Stopping a copy (copy-rules §1.5, §1.10): with `keep`, the copy stops at once and its
//! positions stay open, unmanaged (its protective stops are cancelled); with `close-all`
//! (a user's stop, the kill switch, a total stop loss or take profit), the copy is
//! *stopping*: a state stored with its ledger that lasts, across restarts, until every
//! position it holds is flat or the user chooses to keep what remains.
//!
//! Each stop pass closes what the follower still holds of the copy's positions
//! (reduce-only, at market). A position leaves the ledger, and its protective stop is
//! cancelled, only once its close is confirmed by the venue; a close that failed keeps the
//! position and its stop, and the user is told which position remains and why. Passes are
//! retried with backoff. While stopping, leader signals are not copied (each is listed) and
//! reconciliation repairs nothing: the pass is what runs in its place, so it also settles
//! orders of unknown outcome and catches up fills the stream lost, and the copy's last
//! figures are recorded before it stops.
//!
//! This module owns that state machine; it never opens and never cancels anything the
//! engine did not create.

use crate::domain::StopAction;
use crate::engine::{self, ActionKind, CopyState, Plan, Stopping};

use super::follower::to_follower;
use super::hold::HoldKind;
use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::{ms, CopyRunner};

impl CopyRunner {
    /// Stops the copy with `action`: `keep` at once, `close-all` through the stopping state.
    pub(crate) async fn stop_copy(&mut self, action: StopAction, why: &str) {
        match action {
            StopAction::Keep => self.stop_keeping(why).await,
            StopAction::CloseAll => self.begin_stopping(why).await,
        }
    }

    /// True while the copy is stopping with `close-all`.
    pub(crate) fn is_stopping(&self) -> bool {
        self.ctx.ledger.stopping.is_some()
    }

    /// `keep`: the positions stay open as the user's own; the engine's stops on them are
    /// cancelled and the copy stops now (also the user's way out of a stop that cannot
    /// close a position).
    async fn stop_keeping(&mut self, why: &str) {
        let mut ledger = self.ctx.ledger.clone();
        let kept: Vec<String> = ledger
            .positions
            .values()
            .map(|p| format!("{} {:?} {}", p.symbol.name, p.direction, p.qty))
            .collect();
        let stops: Vec<(String, String)> = ledger
            .positions
            .values()
            .filter_map(|p| {
                p.stop
                    .as_ref()
                    .map(|s| (s.client_id.clone(), p.symbol.name.clone()))
            })
            .collect();
        ledger.positions.clear();
        ledger.pending.clear();
        ledger.stopping = None;
        self.settle(ledger);
        let reason = format!("stop ({why}), keep: the copy no longer manages the position");
        for (client_id, symbol) in stops {
            self.queue_stop_cancel(client_id, symbol, &reason).await;
        }
        let why = if kept.is_empty() {
            why.to_owned()
        } else {
            format!("{why}; kept open as your own: {}", kept.join(", "))
        };
        self.finish_stop(&why);
    }

    /// `close-all`: records the stopping state with the ledger, announces it and runs the
    /// first pass.
    async fn begin_stopping(&mut self, why: &str) {
        if !self.is_stopping() {
            let mut ledger = self.ctx.ledger.clone();
            ledger.stopping = Some(Stopping {
                reason: why.to_owned(),
                since_ms: self.clock.now_ms(),
            });
            self.settle(ledger);
            let open: Vec<String> = self
                .ctx
                .ledger
                .positions
                .values()
                .map(|p| format!("{} {:?} {}", p.symbol.name, p.direction, p.qty))
                .collect();
            self.say(
                NotifyLevel::Warning,
                NotifyKind::Stopping,
                if open.is_empty() {
                    format!("stopping ({why}): no position to close")
                } else {
                    format!("stopping ({why}): closing {}", open.join(", "))
                },
            );
        }
        self.stopping_retry.clear();
        self.stop_pass().await;
    }

    /// A stop pass is due (a close failed, or the follower could not be read).
    pub(crate) async fn retry_stopping(&mut self) {
        if self.is_stopping() && self.stopping_retry.due(self.clock.now_ms()) {
            self.stop_pass().await;
        }
    }

    /// One pass: closes what the follower still holds of each position; a position whose
    /// close is confirmed leaves the ledger and its stop is cancelled; the copy stops once
    /// none is left, and otherwise says which remain and why, and tries again later.
    pub(crate) async fn stop_pass(&mut self) {
        let Some(stopping) = self.ctx.ledger.stopping.clone() else {
            return;
        };
        self.mark_stopping(&stopping);
        let why = stopping.reason.clone();
        let now = self.clock.now_ms();
        let Some(snap) = self.fresh_snapshot().await else {
            self.try_stop_again(now, NotifyLevel::Error, |secs| {
                format!(
                    "stopping ({why}): the follower account could not be read, so nothing was closed yet; trying again in {secs} s"
                )
            });
            return;
        };
        // A close of an earlier pass whose answer was lost is settled first (reconciliation,
        // which does this for a running copy, does not run while stopping).
        self.resolve_unknown_orders().await;
        let f = to_follower(&snap, self.held_by_others());
        let stop_id = format!("stop:{now}");
        let planned = engine::plan_stop(&self.ctx, &f, StopAction::CloseAll, &stop_id, &why);
        // Only the closes run now: a stop is cancelled once its position is flat, and the
        // copy is marked stopped once every position is.
        let plan = Plan {
            actions: planned
                .actions
                .into_iter()
                .filter(|a| matches!(a.kind, ActionKind::PlaceOrder(_)))
                .collect(),
            ledger: planned.ledger,
        };
        let before = self.ctx.ledger.clone();
        self.execute(plan, None).await;
        let reason = format!("stop ({why}): the position is closed");
        for (key, pos) in &before.positions {
            if self.ctx.ledger.positions.contains_key(key) {
                continue;
            }
            if let Some(s) = &pos.stop {
                self.queue_stop_cancel(s.client_id.clone(), pos.symbol.name.clone(), &reason)
                    .await;
            }
        }
        // Fills of the closes whose stream event was lost (the stream down or stalled) are
        // read from the venue's trade history, so they count in the copy's PnL; a close
        // whose event is merely still queued is read too and stored once.
        self.catch_up_fills().await;
        // A close whose outcome is still unknown (its lookup refused) may have filled: the
        // copy does not stop before its fill is known, or its PnL would miss that fill.
        let unknown = match self.unknown_orders() {
            Ok(orders) if orders.is_empty() => None,
            Ok(orders) => Some(format!(
                "the outcome of order {} is not known yet (the venue did not answer its lookup), so its fill is not counted yet",
                orders
                    .iter()
                    .map(|o| o.client_order_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Err(e) => Some(format!(
                "the journal could not be read to check for orders of unknown outcome: {e}"
            )),
        };
        if let (true, Some(cause)) = (self.ctx.ledger.positions.is_empty(), unknown) {
            let now = self.clock.now_ms();
            self.try_stop_again(now, NotifyLevel::Warning, |secs| {
                format!("stopping ({why}): every position is flat, but {cause}; asking again in {secs} s")
            });
            return;
        }
        if self.ctx.ledger.positions.is_empty() {
            // The copy's last figures, with every close counted (nothing of it is open).
            self.record_figures(&snap);
            let mut ledger = self.ctx.ledger.clone();
            ledger.stopping = None;
            ledger.pending.clear();
            self.settle(ledger);
            self.stopping_retry.clear();
            self.finish_stop(&why);
            return;
        }
        let now = self.clock.now_ms();
        let cause = if self.refusals.is_empty() {
            "the close was not confirmed".to_owned()
        } else {
            self.refusals.join("; ")
        };
        let left: Vec<String> = self
            .ctx
            .ledger
            .positions
            .values()
            .map(|p| format!("{} {:?} {}", p.symbol.name, p.direction, p.qty))
            .collect();
        let left = left.join(", ");
        self.try_stop_again(now, NotifyLevel::Error, |secs| {
            format!(
                "stopping ({why}): {left} still open: {cause}; its protective stop stays; closing again in {secs} s (stop with `keep` to keep it as your own)"
            )
        });
    }

    /// A pass that could not finish: the next one is due after the backoff, and the user
    /// is told why, with the seconds until it (`message` gets them).
    fn try_stop_again(
        &mut self,
        now: i64,
        level: NotifyLevel,
        message: impl FnOnce(i64) -> String,
    ) {
        self.stopping_retry
            .failed(now, ms(self.opts.reconcile_every));
        let secs = self.stopping_retry.wait_ms(now).unwrap_or_default() / 1000;
        self.say(level, NotifyKind::Stopping, message(secs));
    }

    /// Shows the stopping state beside the holds (status, the app), without a `held`
    /// announcement: the stop was announced already.
    fn mark_stopping(&mut self, s: &Stopping) {
        if !self.holds.has(HoldKind::Stopping) {
            self.holds.set(
                HoldKind::Stopping,
                format!(
                    "stopping ({}): closing the copy's positions until they are flat",
                    s.reason
                ),
                self.clock.now_ms(),
            );
            self.publish_holds();
        }
    }

    /// The copy is stopped: stored, announced, and the supervisor ends.
    fn finish_stop(&mut self, why: &str) {
        if self.holds.lift(HoldKind::Stopping) == super::hold::Change::Lifted {
            self.publish_holds();
        }
        self.ctx.state = CopyState::Stopped;
        let now = self.clock.now_ms();
        self.store_stop(now, why);
        let cause = self
            .stop_cause_seen
            .take()
            .unwrap_or(super::notify::StopCause::User);
        self.say_detail(
            NotifyLevel::Warning,
            NotifyKind::Stopped,
            super::notify::NotifyDetail::Stop { cause },
            format!("copy stopped: {why}"),
        );
    }

    async fn queue_stop_cancel(&mut self, client_id: String, symbol: String, reason: &str) {
        self.stop_job(
            ActionKind::CancelProtectiveStop { client_id, symbol },
            reason,
        )
        .await;
    }

    /// A leader signal while stopping: not copied, and said so.
    pub(crate) fn skip_while_stopping(&self, symbol: &str) {
        self.say(
            NotifyLevel::Info,
            NotifyKind::Skip,
            format!("{symbol} signal not copied: the copy is stopping"),
        );
    }
}
