//! Offline protection: after every fill and at reconciliation, each copied position's
//! exchange-side stop is brought to the planner's price and quantity (placed, replaced
//! beyond the engine's tick bound, or removed when the position went flat), so protection
//! holds while the app is closed.
//!
//! The venue calls run in a per-copy stop worker, one job after another in plan order (a
//! cancel never overtakes the placement it undoes), beside the supervisor: placing or
//! cancelling a stop never delays the next signal's order. At shutdown the worker finishes
//! the jobs it holds (bounded by [`DRAIN`]).

use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::{self, ActionKind};
use crate::exchange::{
    ClientOrderId, ConditionalKind, ConditionalOrderRequest, ConditionalPlacement, ConditionalSize,
    Exchange, TriggerPrice,
};
use crate::store::table::journal::{OrderType as JournalType, PlannedOrder};

use super::account_state::SharedAccount;
use super::follower::to_follower;
use super::notify::{Notification, Notifier, NotifyLevel, SharedStore};
use super::supervisor::CopyRunner;

/// Longest a stopping copy waits for its stop worker to finish its jobs.
pub(crate) const DRAIN: Duration = Duration::from_secs(2);

/// One stop placement or cancel and why.
#[derive(Debug)]
pub(crate) struct StopJob {
    pub kind: ActionKind,
    pub reason: String,
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
}

impl StopWorker {
    /// Starts the worker; it ends once every sender is dropped and its queue is empty.
    pub(crate) fn spawn(self) -> (mpsc::UnboundedSender<StopJob>, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<StopJob>();
        let handle = tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                self.run(job).await;
            }
        });
        (tx, handle)
    }

    pub(crate) async fn run(&self, job: StopJob) {
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
            ActionKind::CancelProtectiveStop { client_id, symbol } => self
                .ex
                .cancel_conditional_blind(symbol, client_id)
                .await
                .map(|_| self.account.lock().conditional_gone(client_id)),
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.notifier.send(
                Some(self.copy_id),
                Notification {
                    ts_ms: self.clock.now_ms(),
                    copy: Some(self.name.clone()),
                    level: NotifyLevel::Warning,
                    kind: "error".into(),
                    message: format!("{}: the venue refused it: {e}", job.reason),
                },
            );
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
    ) -> Result<(), crate::exchange::ExchangeError> {
        let Ok(cid) = ClientOrderId::new(client_id) else {
            return Ok(());
        };
        let Ok(trigger) = crate::domain::Price::new(stop_price) else {
            return Ok(());
        };
        let now = self.clock.now_ms();
        if let Ok(mut g) = self.store.lock() {
            let _ = g.store_mut().journal().record_planned(&PlannedOrder {
                client_order_id: client_id,
                copy_id: self.copy_id,
                signal_id: None,
                leg: 0,
                symbol,
                side,
                position_side,
                order_type: JournalType::StopMarket,
                qty: qty.get(),
                price: Some(stop_price),
                reduce_only: true,
                at: now,
            });
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
        let placed = self.ex.place_conditional(&req).await?;
        if let ConditionalPlacement::Acknowledged(r) = &placed {
            self.account.lock().conditional(r);
        }
        if let Ok(mut g) = self.store.lock() {
            let _ = g
                .store_mut()
                .journal()
                .mark_acked(client_id, "conditional", now);
        }
        Ok(())
    }
}

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

    pub(crate) fn stop_worker(&self) -> StopWorker {
        StopWorker {
            ex: self.follower.ex.clone(),
            store: self.store.clone(),
            account: self.account.clone(),
            notifier: self.notifier.clone(),
            clock: self.clock.clone(),
            copy_id: self.copy_id,
            name: self.name.clone(),
        }
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
