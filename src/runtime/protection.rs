//! Offline protection: after every fill and at reconciliation, each copied position's
//! exchange-side stop is brought to the planner's price and quantity (placed, replaced
//! beyond the engine's tick bound, or removed when the position went flat), so protection
//! holds while the app is closed.
//!
//! The venue calls run in a per-copy stop worker, one job after another in plan order (a
//! cancel never overtakes the placement it undoes), beside the supervisor: placing or
//! cancelling a stop never delays the next signal's order. A placement whose cancel is
//! already queued behind it (the venue was slower than the leader) is skipped, and with
//! it that cancel unless the stop rests from before. At shutdown the worker finishes
//! the jobs it holds (bounded by [`DRAIN`]). What the worker could not do comes back to
//! the copy as [`StopFault`]s, read at the supervisor's next tick: a stop the venue refused
//! leaves the ledger (the copy is held `unprotected` until the next pass places it), and a
//! journal row it could not write holds the copy (`journal_write`), as the copy's own
//! writes do.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::Decimal;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::{self, ActionKind};
use crate::exchange::{
    ClientOrderId, ConditionalKind, ConditionalOrderRequest, ConditionalPlacement, ConditionalSize,
    ConditionalStatus, Exchange, TriggerPrice,
};
use crate::store::group_commit::Durability;
use crate::store::table::journal::{OrderType as JournalType, PlannedOrder};
use crate::store::StoreError;

use super::account_state::SharedAccount;
use super::follower::to_follower;
use super::hold::HoldKind;
use super::notify::{Notification, Notifier, NotifyKind, NotifyLevel, SharedStore};
use super::supervisor::CopyRunner;

/// Longest a stopping copy waits for its stop worker to finish its jobs.
pub(crate) const DRAIN: Duration = Duration::from_secs(2);

/// One stop placement or cancel and why.
#[derive(Debug)]
pub(crate) struct StopJob {
    pub kind: ActionKind,
    pub reason: String,
}

/// What the stop worker reports to its copy: what it could not do, and the stops the venue
/// confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StopFault {
    /// The venue accepted this protective stop (or already held it): the ledger marks it
    /// confirmed.
    Placed(String),
    /// The venue refused this protective stop (by client id): the ledger must not claim it.
    Refused(String),
    /// A stop's journal row could not be written (what, and the error).
    Journal(String),
}

/// The faults a copy's stop worker reported, not yet read by the copy, and the signal that
/// wakes the copy's supervisor to read them.
pub(crate) type StopFaults = Arc<StopFaultQueue>;

/// What the stop worker hands its copy.
#[derive(Debug, Default)]
pub(crate) struct StopFaultQueue {
    list: Mutex<Vec<StopFault>>,
    ready: tokio::sync::Notify,
}

impl StopFaultQueue {
    fn push(&self, fault: StopFault) {
        if let Ok(mut f) = self.list.lock() {
            f.push(fault);
        }
        // Kept as a permit when the supervisor is not waiting: the next wait ends at once.
        self.ready.notify_one();
    }

    fn take(&self) -> Vec<StopFault> {
        self.list
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default()
    }

    /// Ends once the worker reported something since the last wait ended.
    pub(crate) async fn reported(&self) {
        self.ready.notified().await;
    }
}

/// What the stop worker needs, cloned from its copy.
#[derive(Debug, Clone)]
pub(crate) struct StopWorker {
    pub ex: Arc<dyn Exchange>,
    pub store: SharedStore,
    pub account: Arc<SharedAccount>,
    pub notifier: Notifier,
    pub clock: Arc<dyn crate::exchange::Clock>,
    pub copy_id: i64,
    pub name: String,
    pub faults: StopFaults,
    /// The engine's commit lane: a stop's rows join the other copies' writes in one
    /// commit (`None`: each is a commit of its own).
    pub lane: Option<super::commit_lane::CommitLane>,
}

impl StopWorker {
    /// Starts the worker; it ends once every sender is dropped and its queue is empty.
    pub(crate) fn spawn(self) -> (mpsc::UnboundedSender<StopJob>, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<StopJob>();
        let handle = tokio::spawn(async move {
            let mut queued = VecDeque::new();
            loop {
                let job = match queued.pop_front() {
                    Some(job) => job,
                    None => match rx.recv().await {
                        Some(job) => job,
                        None => break,
                    },
                };
                while let Ok(next) = rx.try_recv() {
                    queued.push_back(next);
                }
                if self.undone_later(&job, &mut queued) {
                    continue;
                }
                self.run(job).await;
            }
        });
        (tx, handle)
    }

    /// Whether `job` places a stop that a cancel already queued behind it takes off again
    /// (the venue was slower than the leader: the position opened and went flat again
    /// meanwhile). Then the placement is skipped, and so is that cancel unless the stop
    /// rests on the venue from before; each is logged with its reason. A backlog of
    /// place-and-cancel pairs would otherwise put each stop on the venue late, only to
    /// take it off.
    fn undone_later(&self, job: &StopJob, queued: &mut VecDeque<StopJob>) -> bool {
        let ActionKind::PlaceProtectiveStop { client_id, .. } = &job.kind else {
            return false;
        };
        let next = queued.iter().position(|j| match &j.kind {
            ActionKind::PlaceProtectiveStop { client_id: id, .. }
            | ActionKind::CancelProtectiveStop { client_id: id, .. } => id == client_id,
            _ => false,
        });
        let Some(at) = next else {
            return false;
        };
        if !matches!(queued[at].kind, ActionKind::CancelProtectiveStop { .. }) {
            return false;
        }
        tracing::info!(copy = %self.name, stop = %client_id, placement = %job.reason,
            "protective stop not placed: a cancel queued behind it takes it off again");
        if !self.account.lock().conditional_rests(client_id) {
            if let Some(cancel) = queued.remove(at) {
                tracing::info!(copy = %self.name, stop = %client_id, cancel = %cancel.reason,
                    "protective stop's cancel not sent: the stop was never placed");
            }
        }
        true
    }

    pub(crate) async fn run(&self, job: StopJob) {
        // A new stop lets the other copies' orders go first (`runtime::burst`); a cancel
        // does not wait: a close-position stop left on a flat symbol would close the
        // next position.
        if let (Some(lane), ActionKind::PlaceProtectiveStop { .. }) = (&self.lane, &job.kind) {
            lane.calm().await;
        }
        let result = match &job.kind {
            ActionKind::PlaceProtectiveStop {
                client_id,
                symbol,
                side,
                position_side,
                stop_price,
                qty,
            } => {
                self.place(client_id, symbol, *side, *position_side, *stop_price, *qty)
                    .await
            }
            ActionKind::CancelProtectiveStop { client_id, symbol } => {
                match self.ex.cancel_conditional_blind(symbol, client_id).await {
                    Ok(_) => {
                        self.cancelled(client_id).await;
                        Ok(())
                    }
                    Err(e) => Err(format!("the venue refused it: {e}")),
                }
            }
            _ => Ok(()),
        };
        if let (Ok(()), ActionKind::PlaceProtectiveStop { client_id, .. }) = (&result, &job.kind) {
            self.fault(StopFault::Placed(client_id.clone()));
        }
        if let Err(e) = result {
            if let ActionKind::PlaceProtectiveStop { client_id, .. } = &job.kind {
                self.fault(StopFault::Refused(client_id.clone()));
            }
            self.notifier.send(
                Some(self.copy_id),
                Notification {
                    ts_ms: self.clock.now_ms(),
                    copy: Some(self.name.clone()),
                    level: NotifyLevel::Warning,
                    kind: NotifyKind::Error,
                    notice: None,
                    message: format!("{}: {e}", job.reason),
                    detail: None,
                },
            );
        }
    }

    /// A stop no longer rests (cancelled now, or already gone): the state forgets it and
    /// its journal row ends `canceled`. Left `acked`, it would stay among the unfinished
    /// rows every reconciliation reads, one more for every stop the copy ever replaced.
    async fn cancelled(&self, client_id: &str) {
        let now = self.clock.now_ms();
        self.account.lock().conditional_gone(client_id, now);
        let id = client_id.to_owned();
        self.lane_write("a protective stop's `canceled` state", false, move |s| {
            match s.journal().mark_canceled(&id, now) {
                // A stop of an older version has no row; one that fired moved on.
                Ok(())
                | Err(StoreError::InvalidTransition { .. })
                | Err(StoreError::NotFound { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        })
        .await;
    }

    fn fault(&self, fault: StopFault) {
        self.faults.push(fault);
    }

    /// Writes a stop's journal row (committed without an `fsync`; see `runtime::writer`)
    /// through the engine's commit lane, with the other copies' writes handed over
    /// meanwhile (`before_send`: a row that must be durable before the stop is sent);
    /// on its own when the engine has no lane or it stopped. A failure is reported to
    /// the copy, which holds. What to sync through to make it durable, when it was
    /// written.
    async fn lane_write(
        &self,
        what: &str,
        before_send: bool,
        f: impl FnOnce(&crate::store::Store) -> Result<(), StoreError> + Send + Sync + 'static,
    ) -> Option<(u64, Arc<Durability>)> {
        let Some(lane) = &self.lane else {
            return self.journal_write(what, |s| f(s));
        };
        let handed = if before_send {
            lane.submit(Box::new(f))
        } else {
            lane.submit_after_send(Box::new(f))
        };
        let result = match handed {
            Ok(answered) => super::commit_lane::answer(answered)
                .await
                .map(|seq| (seq, lane.durability())),
            // The lane stopped (the engine is stopping): on its own.
            Err(write) => return self.journal_write(what, |s| write(s)),
        };
        self.answered(what, result)
    }

    /// Writes a stop's journal row on its own (committed without an `fsync`); see
    /// [`StopWorker::lane_write`].
    fn journal_write(
        &self,
        what: &str,
        f: impl FnOnce(&mut crate::store::Store) -> Result<(), StoreError>,
    ) -> Option<(u64, Arc<Durability>)> {
        let result = match self.store.lock() {
            Ok(mut g) => {
                let s = g.store_mut();
                s.relaxed(f).map(|((), seq)| (seq, s.durability()))
            }
            Err(_) => Err(StoreError::Invalid {
                field: "store",
                message: "the database lock is poisoned".into(),
            }),
        };
        self.answered(what, result)
    }

    fn answered(
        &self,
        what: &str,
        result: Result<(u64, Arc<Durability>), StoreError>,
    ) -> Option<(u64, Arc<Durability>)> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(copy = %self.name, what, error = %e, "journal write failed");
                self.fault(StopFault::Journal(format!(
                    "{what} could not be written: {e}"
                )));
                None
            }
        }
    }

    /// Whether a lookup by client id finds the stop resting on the venue (and records it).
    async fn rests(&self, symbol: &str, client_id: &str) -> bool {
        match self.ex.query_conditional(symbol, client_id).await {
            Ok(Some(r))
                if matches!(
                    r.status,
                    ConditionalStatus::Sent
                        | ConditionalStatus::New
                        | ConditionalStatus::Triggering
                ) =>
            {
                let now = self.clock.now_ms();
                self.account.lock().conditional(&r, now);
                true
            }
            _ => false,
        }
    }

    async fn place(
        &self,
        client_id: &str,
        symbol: &str,
        side: crate::domain::Side,
        position_side: crate::domain::PositionSide,
        stop_price: Decimal,
        qty: crate::domain::Quantity,
    ) -> Result<(), String> {
        let Ok(cid) = ClientOrderId::new(client_id) else {
            return Err(format!("`{client_id}` is not a valid client order id"));
        };
        let Ok(trigger) = crate::domain::Price::new(stop_price) else {
            return Err(format!("{stop_price} is not a valid stop price"));
        };
        let now = self.clock.now_ms();
        let copy_id = self.copy_id;
        let (id, sym) = (client_id.to_owned(), symbol.to_owned());
        let planned = self
            .lane_write("a protective stop's journal row", true, move |s| {
                match s.journal().record_planned(&PlannedOrder {
                    client_order_id: &id,
                    copy_id,
                    signal_id: None,
                    leg: 0,
                    symbol: &sym,
                    side,
                    position_side,
                    order_type: JournalType::StopMarket,
                    qty: qty.get(),
                    price: Some(stop_price),
                    reduce_only: true,
                    at: now,
                }) {
                    Ok(_) => Ok(()),
                    // Planned before (a retry, or a crash before the ledger was saved), or the
                    // id of a stop cancelled earlier, reopened.
                    Err(StoreError::Conflict { .. }) => {
                        s.journal().reopen_stop(&id, now).map(|_| ())
                    }
                    Err(e) => Err(e),
                }
            })
            .await;
        // Durable before the stop is sent, like an order's row (a group sync, outside the
        // database lock).
        if let Some((seq, durability)) = planned {
            if let Err(e) = durability.sync_through(seq).await {
                tracing::error!(copy = %self.name, error = %e, "journal sync failed");
                self.fault(StopFault::Journal(format!(
                    "a protective stop's journal row could not be made durable: {e}"
                )));
            }
        }
        let req = ConditionalOrderRequest {
            client_id: cid,
            symbol: symbol.to_owned(),
            side,
            position_side,
            kind: ConditionalKind::StopMarket,
            trigger_price: trigger,
            trigger_by: TriggerPrice::Mark,
            size: ConditionalSize::Quantity { quantity: qty },
            margin_mode: crate::domain::MarginMode::Cross,
        };
        match self.ex.place_conditional(&req).await {
            Ok(ConditionalPlacement::Acknowledged(r)) => {
                let now = self.clock.now_ms();
                self.account.lock().conditional(&r, now);
            }
            // An answer that was lost proves nothing: the stop is in place only if a
            // lookup by its client id finds it resting.
            Ok(ConditionalPlacement::Unconfirmed { reason, .. }) => {
                if !self.rests(symbol, client_id).await {
                    return Err(format!(
                        "its placement was not confirmed ({reason}) and a lookup by its id does not find it on the venue"
                    ));
                }
            }
            Err(e) => {
                // The same stop may already rest there (placed before a crash, the ledger
                // not saved yet): stop ids are derived from the stop, so the venue refuses
                // the copy.
                if !self.rests(symbol, client_id).await {
                    return Err(format!("the venue refused it: {e}"));
                }
            }
        }
        let id = client_id.to_owned();
        self.lane_write("a protective stop's `acked` state", false, move |s| match s
            .journal()
            .mark_acked(&id, "conditional", now)
        {
            Ok(()) | Err(StoreError::InvalidTransition { .. }) => Ok(()),
            Err(e) => Err(e),
        })
        .await;
        Ok(())
    }
}

impl CopyRunner {
    /// Holds the copy while a position it holds has no protective stop on the venue
    /// (copy-rules §1.10), and lifts the hold once every one has.
    pub(crate) fn check_protected(&mut self, follower: &engine::FollowerSnapshot) {
        if !self.ctx.settings.risk.offline_protection {
            self.protected();
            return;
        }
        // Only what the follower still holds needs a stop (as the planner decides).
        let needs = |p: &&engine::LedgerPosition| {
            !follower
                .qty_in(&p.follower_key(), p.direction)
                .min(p.qty)
                .is_zero()
        };
        let positions = &self.ctx.ledger.positions;
        let bare: Vec<String> = positions
            .values()
            .filter(needs)
            .filter(|p| p.stop.is_none())
            .map(|p| p.symbol.name.clone())
            .collect();
        // A stop sent but not yet answered is not in place yet, nor known missing: the
        // worker's answer decides at the next tick.
        let in_flight = positions
            .values()
            .filter(needs)
            .any(|p| p.stop.as_ref().is_some_and(|s| !s.confirmed));
        if !bare.is_empty() {
            self.unprotected(
                &bare,
                "no protective stop of it is confirmed on the venue",
                true,
            );
        } else if !in_flight {
            self.protected();
        }
    }

    /// Positions without a confirmed stop: the user is told which and why (once per gap,
    /// and again when a symbol not named yet in the gap joins it), protection is tried
    /// again with backoff, and with `hold` (the venue refused the stop, or none could be
    /// planned) the copy is held `unprotected` until every stop rests. A stop that is
    /// simply being placed again does not hold the copy.
    pub(crate) fn unprotected(&mut self, symbols: &[String], why: &str, hold: bool) {
        if !self.ctx.settings.risk.offline_protection {
            return;
        }
        let reason = format!(
            "{} without a protective stop on the venue: {why}; placing it again",
            symbols.join(", ")
        );
        let in_gap = self.stop_retry.pending() || self.holds.has(HoldKind::Unprotected);
        let unnamed = symbols.iter().any(|s| !self.unprotected_named.contains(s));
        self.unprotected_named.extend(symbols.iter().cloned());
        if !in_gap || unnamed {
            self.say(
                NotifyLevel::Warning,
                NotifyKind::Unprotected,
                format!("unprotected: {reason}"),
            );
        }
        if hold {
            self.hold(HoldKind::Unprotected, reason);
        }
        let now = self.clock.now_ms();
        if !self.stop_retry.due(now) {
            self.stop_retry
                .failed(now, super::supervisor::ms(self.opts.reconcile_every));
        }
    }

    /// Every position carries a confirmed stop (or needs none): the hold lifts and the gap
    /// is announced closed.
    fn protected(&mut self) {
        let gap = self.stop_retry.pending() || self.holds.has(HoldKind::Unprotected);
        self.stop_retry.clear();
        self.unprotected_named.clear();
        if gap {
            self.say(
                NotifyLevel::Info,
                NotifyKind::Protected,
                "protected: every copied position has its protective stop on the venue".into(),
            );
        }
        self.release(HoldKind::Unprotected);
    }

    /// A retry of protection is due (a stop was refused, unconfirmed or found missing).
    pub(crate) async fn retry_protection(&mut self) {
        let now = self.clock.now_ms();
        if !self.stop_retry.due(now) {
            return;
        }
        // Scheduled again first: protect() clears it once every stop is in place.
        self.stop_retry
            .failed(now, super::supervisor::ms(self.opts.reconcile_every));
        self.protect().await;
    }

    /// Reconciliation: a stop the ledger holds as confirmed that is not among the venue's
    /// open conditional orders was cancelled or expired outside the engine. It leaves the
    /// ledger, so the protection pass that follows places it again.
    /// A stop the ledger holds as unconfirmed is confirmed when it rests there; at start-up
    /// (`after_restart`, when no placement of this run can be in flight) one that does not
    /// rest is missing too.
    pub(crate) fn repair_missing_stops(
        &mut self,
        snap: &crate::exchange::AccountSnapshot,
        after_restart: bool,
    ) {
        if !self.ctx.settings.risk.offline_protection {
            return;
        }
        let resting: std::collections::BTreeSet<&str> = snap
            .open_conditionals
            .iter()
            .map(|o| o.client_id.as_str())
            .collect();
        let held = |p: &engine::LedgerPosition| {
            snap.positions
                .iter()
                .find(|x| x.symbol == p.symbol.name && x.position_side == p.follower_side)
                .is_some_and(|x| !x.signed_quantity.is_zero())
        };
        let mut ledger = self.ctx.ledger.clone();
        let mut missing = Vec::new();
        let mut found = false;
        for p in ledger.positions.values_mut() {
            if let Some(s) = p.stop.as_mut() {
                if !s.confirmed && resting.contains(s.client_id.as_str()) {
                    s.confirmed = true;
                    found = true;
                }
            }
            let gone = p.stop.as_ref().is_some_and(|s| {
                (s.confirmed || after_restart) && !resting.contains(s.client_id.as_str())
            });
            if gone && held(p) {
                if let Some(s) = p.stop.take() {
                    tracing::warn!(copy = %self.name, symbol = %p.symbol.name, stop = %s.client_id, "protective stop missing on the venue");
                }
                missing.push(p.symbol.name.clone());
            }
        }
        if missing.is_empty() {
            if found {
                self.settle(ledger);
            }
            return;
        }
        self.settle(ledger);
        // Placed again by the protection pass that follows; the copy is held only if the
        // venue refuses it.
        self.unprotected(
            &missing,
            "its stop is no longer among the venue's open orders (cancelled or expired outside the engine)",
            false,
        );
    }

    /// Reconciliation: a protective stop of this copy resting on the venue that no
    /// position of its ledger names is cancelled. It is one whose cancel the venue refused
    /// (the position ended or its stop was replaced meanwhile), or one the ledger let go:
    /// left resting, a reduce-only stop would close part of a later position on the symbol
    /// at its old price. Stops of other copies on the account (by their journal rows) and
    /// orders of other programs are left alone.
    pub(crate) async fn sweep_stray_stops(&mut self, snap: &crate::exchange::AccountSnapshot) {
        let named: std::collections::BTreeSet<&str> = self
            .ctx
            .ledger
            .positions
            .values()
            .filter_map(|p| p.stop.as_ref())
            .map(|s| s.client_id.as_str())
            .collect();
        let copy_id = self.copy_id;
        let stray: Vec<(String, String)> = snap
            .open_conditionals
            .iter()
            .filter(|o| {
                engine::client_id::is_ours(&o.client_id) && !named.contains(o.client_id.as_str())
            })
            .filter(|o| {
                matches!(
                    self.with_store(|s| s.journal().get(&o.client_id)),
                    Ok(Some(e)) if e.copy_id == copy_id
                )
            })
            .map(|o| (o.client_id.clone(), o.symbol.clone()))
            .collect();
        for (client_id, symbol) in stray {
            tracing::warn!(copy = %self.name, %symbol, stop = %client_id, "a protective stop of this copy that no position names rests on the venue; cancelling it");
            let reason = format!(
                "{symbol}: a protective stop of this copy that no position of it names any more rests on the venue; cancelled so that it cannot close a later position"
            );
            self.stop_job(
                ActionKind::CancelProtectiveStop { client_id, symbol },
                &reason,
            )
            .await;
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

    pub(crate) fn stop_worker(&self) -> StopWorker {
        StopWorker {
            ex: self.follower.ex.clone(),
            store: self.store.clone(),
            account: self.account.clone(),
            notifier: self.notifier.clone(),
            clock: self.clock.clone(),
            copy_id: self.copy_id,
            name: self.name.clone(),
            faults: self.stop_faults.clone(),
            lane: self.lane.clone(),
        }
    }

    /// Acts on what the stop worker could not do: a refused stop leaves the ledger and
    /// holds the copy `unprotected` until the next protection pass places it; a journal
    /// row it could not write holds the copy as the copy's own failed writes do.
    pub(crate) fn take_stop_faults(&mut self) {
        let faults = self.stop_faults.take();
        let mut refused = Vec::new();
        let mut placed = Vec::new();
        for fault in faults {
            match fault {
                StopFault::Placed(client_id) => placed.push(client_id),
                StopFault::Refused(client_id) => refused.push(client_id),
                StopFault::Journal(reason) => self.hold(HoldKind::JournalWrite, reason),
            }
        }
        if refused.is_empty() && placed.is_empty() {
            return;
        }
        let mut ledger = self.ctx.ledger.clone();
        let mut newly_confirmed = Vec::new();
        for p in ledger.positions.values_mut() {
            if let Some(s) = p.stop.as_mut().filter(|s| placed.contains(&s.client_id)) {
                if !s.confirmed {
                    newly_confirmed.push(format!("{} at {}", p.symbol.name, s.stop_price));
                }
                s.confirmed = true;
            }
        }
        let confirmed = !newly_confirmed.is_empty();
        let mut bare = Vec::new();
        for p in ledger.positions.values_mut() {
            if p.stop
                .as_ref()
                .is_some_and(|s| refused.contains(&s.client_id))
            {
                p.stop = None;
                bare.push(p.symbol.name.clone());
            }
        }
        if bare.is_empty() {
            if confirmed {
                // Lost at a power cut, the next reconciliation finds the stop resting and
                // confirms it again.
                self.settle_after_send(ledger);
                // Screens showing "not confirmed yet" re-read on this event, sent once
                // the settled ledger is committed with it.
                self.say_kept(
                    NotifyLevel::Info,
                    NotifyKind::Protected,
                    None,
                    format!(
                        "protective stop confirmed by the venue: {}",
                        newly_confirmed.join(", ")
                    ),
                );
            }
            return;
        }
        self.settle(ledger);
        self.unprotected(&bare, "the venue did not accept its stop", true);
    }

    /// Hands a stop job to the worker, or runs it here when no worker runs (before the
    /// supervisor loop starts, e.g. the start plan).
    pub(crate) async fn stop_job(&mut self, kind: ActionKind, reason: &str) {
        let job = StopJob {
            kind,
            reason: reason.to_owned(),
        };
        let job = match &self.stops {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        self.stop_worker().run(job).await;
    }
}
