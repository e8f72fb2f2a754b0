//! Executes a plan against the follower: every order is written to the journal (the
//! outbox) together with the new ledger and the plan in flight before anything is sent;
//! then actions run in order, each order's outcome is recorded, a short fill is written
//! back to the ledger, and the plan is marked settled. A crash at any point leaves enough
//! in the database for [`super::recovery`] to finish the plan without doubling an order.

use std::time::Duration;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{Quantity, Side};
use crate::engine::{ActionKind, Ledger, OrderPlan, OrderType, Plan};
use crate::exchange::{
    ClientOrderId, ConditionalKind, ConditionalOrderRequest, ConditionalSize, ConditionalStatus,
    ErrorClass, MarginChange, OrderKind, OrderReport, OrderRequest, OrderStatus, Placement,
    TimeInForce, TriggerPrice,
};
use crate::store::table::journal::{OrderType as JournalType, PlannedOrder};
use crate::store::{Store, StoreError};

use super::failpoint;
use super::hold::HoldKind;
use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::CopyRunner;

/// A plan whose orders may not all have settled: what recovery needs after a crash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InFlight {
    /// The ledger before the plan.
    pub before: Ledger,
    pub orders: Vec<OrderPlan>,
}

impl CopyRunner {
    /// Runs one write to the journal or the ledger. A failure is logged as an error and
    /// puts the copy on a [`HoldKind::JournalWrite`] hold; the next write that succeeds
    /// lifts it (copy-rules §1.10). Never a silent `let _ =`: a lost journal row is how an
    /// order gets sent twice after a crash.
    pub(crate) fn journal_write<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Option<T> {
        match self.with_store(f) {
            Ok(v) => {
                self.release(HoldKind::JournalWrite);
                Some(v)
            }
            // The row is already past that state (a report read twice): nothing to write,
            // and the database works.
            Err(e @ (StoreError::InvalidTransition { .. } | StoreError::NotFound { .. })) => {
                tracing::debug!(copy = %self.name, what, error = %e, "journal state not advanced");
                None
            }
            Err(e) => {
                tracing::error!(copy = %self.name, what, error = %e, "journal write failed");
                self.hold(
                    HoldKind::JournalWrite,
                    format!("{what} could not be written: {e}"),
                );
                None
            }
        }
    }

    /// Writes a plan's orders and ledger, then runs it.
    pub(crate) async fn execute(&mut self, plan: Plan, leader_ref: Option<(Decimal, i64)>) {
        let before = self.ctx.ledger.clone();
        let orders: Vec<OrderPlan> = plan.orders().cloned().collect();
        let now = self.clock.now_ms();
        let inflight = InFlight {
            before: before.clone(),
            orders: orders.clone(),
        };
        let signal_id = self.signal_row;
        let copy_id = self.copy_id;
        let written = self.with_store(|s| {
            let ledger = serde_json::to_string(&plan.ledger).unwrap_or_default();
            let inflight = serde_json::to_string(&inflight).unwrap_or_default();
            s.transaction(|tx| {
                let j = crate::store::table::journal::Journal::on(tx);
                for (leg, o) in orders.iter().enumerate() {
                    let (kind, price) = match o.order_type {
                        OrderType::Market => (JournalType::Market, None),
                        OrderType::IocLimit { price } => (JournalType::Limit, Some(price)),
                    };
                    let row = PlannedOrder {
                        client_order_id: &o.client_id,
                        copy_id,
                        signal_id,
                        leg: u32::try_from(leg).unwrap_or(u32::MAX),
                        symbol: &o.symbol.name,
                        side: o.side,
                        position_side: o.position_side,
                        order_type: kind,
                        qty: o.qty.get(),
                        price,
                        reduce_only: o.reduce_only,
                        at: now,
                    };
                    match j.record_planned(&row) {
                        Ok(_) | Err(StoreError::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                crate::store::table::copy_ledger::CopyLedgers::on(tx).save(
                    copy_id,
                    &ledger,
                    (!orders.is_empty()).then_some(inflight.as_str()),
                    now,
                )
            })
        });
        let audit_at = now;
        let _ = self.with_store(|s| {
            for a in &plan.actions {
                let detail = serde_json::to_value(&a.kind).ok();
                let action = match &a.kind {
                    ActionKind::PlaceOrder(_) => "place-order",
                    ActionKind::CancelOrder { .. } => "cancel-order",
                    ActionKind::SetLeverage { .. } => "set-leverage",
                    ActionKind::SetMarginMode { .. } => "set-margin-mode",
                    ActionKind::SetMultiAssetsMode { .. } => "set-multi-assets-mode",
                    ActionKind::AdjustIsolatedMargin { .. } => "adjust-isolated-margin",
                    ActionKind::PlaceProtectiveStop { .. } => "place-protective-stop",
                    ActionKind::CancelProtectiveStop { .. } => "cancel-protective-stop",
                    ActionKind::ResetFigures => "reset-figures",
                    ActionKind::PauseOpens => "pause-opens",
                    ActionKind::StopCopy { .. } => "stop-copy",
                    ActionKind::Notice(_) => "notice",
                };
                s.audit().record(&crate::store::table::audit::NewDecision {
                    ts: audit_at,
                    copy_id: Some(self.copy_id),
                    signal_id,
                    action,
                    reason: &a.reason,
                    detail: detail.as_ref(),
                })?;
            }
            Ok(())
        });
        if let Err(e) = written {
            tracing::error!(copy = %self.name, error = %e, "journal write failed; plan not run");
            self.say(
                NotifyLevel::Error,
                NotifyKind::Error,
                format!("plan not run: the journal could not be written: {e}"),
            );
            self.hold(
                HoldKind::JournalWrite,
                format!("the journal could not be written: {e}"),
            );
            return;
        }
        self.release(HoldKind::JournalWrite);
        if !orders.is_empty() {
            failpoint::hit("after_journal");
        }
        self.ctx.ledger = plan.ledger.clone();
        let mut ledger = plan.ledger.clone();
        // Stops and notices leave positions and balances as they were.
        if plan.actions.iter().any(|a| {
            !matches!(
                a.kind,
                ActionKind::Notice(_)
                    | ActionKind::PlaceProtectiveStop { .. }
                    | ActionKind::CancelProtectiveStop { .. }
                    | ActionKind::PauseOpens
            )
        }) {
            self.cached = None;
        }
        for action in &plan.actions {
            match &action.kind {
                ActionKind::PlaceOrder(o) => {
                    if let Some((price, at)) = leader_ref {
                        self.leader_refs.insert(o.client_id.clone(), (price, at));
                    }
                    let filled = self.send_order(o).await;
                    if filled < o.qty.get() {
                        ledger.apply_order_result(&before, o, filled);
                    }
                }
                other => {
                    let done = self.run_action(other, &action.reason).await;
                    if let ActionKind::PlaceProtectiveStop { client_id, .. } = other {
                        // The ledger must not claim a stop the venue refused: the next
                        // protection pass places it again (and the copy is held meanwhile).
                        // One the venue accepted is marked confirmed.
                        for p in ledger.positions.values_mut() {
                            if p.stop.as_ref().is_some_and(|s| &s.client_id == client_id) {
                                if done {
                                    if let Some(s) = p.stop.as_mut() {
                                        s.confirmed = true;
                                    }
                                } else {
                                    p.stop = None;
                                }
                            }
                        }
                    }
                }
            }
        }
        self.settle(ledger);
    }

    /// Tries the database again while a failed write holds the copy: saving the settled
    /// ledger is a real write of the same path, and its success lifts the hold.
    pub(crate) fn probe_journal(&mut self) {
        let json = serde_json::to_string(&self.ctx.ledger).unwrap_or_default();
        let now = self.clock.now_ms();
        let id = self.copy_id;
        self.journal_write("the copy's ledger", |s| {
            s.copy_ledgers().save(id, &json, None, now)
        });
    }

    /// Stores the ledger as settled (no plan in flight).
    pub(crate) fn settle(&mut self, ledger: Ledger) {
        self.ctx.ledger = ledger;
        let json = serde_json::to_string(&self.ctx.ledger).unwrap_or_default();
        let now = self.clock.now_ms();
        let id = self.copy_id;
        if self
            .journal_write("the copy's ledger", |s| {
                s.copy_ledgers().save(id, &json, None, now)
            })
            .is_none()
        {
            self.say(
                NotifyLevel::Error,
                NotifyKind::Error,
                "the copy's ledger could not be saved; it is kept in memory and saved again when the database accepts writes".into(),
            );
        }
        self.publish_held();
    }

    /// Sends one journaled order and returns the quantity that filled.
    pub(crate) async fn send_order(&mut self, o: &OrderPlan) -> Decimal {
        let Ok(cid) = ClientOrderId::new(&o.client_id) else {
            return Decimal::ZERO;
        };
        let req = OrderRequest {
            client_id: cid,
            symbol: o.symbol.name.clone(),
            side: o.side,
            position_side: o.position_side,
            kind: match o.order_type {
                OrderType::Market => OrderKind::Market,
                OrderType::IocLimit { price } => match crate::domain::Price::new(price) {
                    Ok(price) => OrderKind::Limit {
                        price,
                        time_in_force: TimeInForce::ImmediateOrCancel,
                    },
                    Err(_) => OrderKind::Market,
                },
            },
            quantity: o.qty,
            reduce_only: o.reduce_only,
            margin_mode: crate::domain::MarginMode::Cross,
        };
        // Whatever happens to this order, a snapshot read before it no longer holds.
        self.cached = None;
        let sent_at = self.clock.now_ms();
        self.journal_write("an order's `sent` state", |s| {
            s.journal().mark_sent(&o.client_id, sent_at)
        });
        let placed = self.follower.ex.place_order(&req).await;
        failpoint::hit("after_send");
        let report = match placed {
            Ok(Placement::Acknowledged(r)) => Some(r),
            Ok(Placement::Unconfirmed { reason, .. }) => {
                let now = self.clock.now_ms();
                self.journal_write("an order's `unknown` state", |s| {
                    s.journal().mark_unknown(&o.client_id, now)
                });
                tracing::warn!(reason = %reason, "order unconfirmed; looking it up");
                self.look_up(&o.symbol.name, &o.client_id, sent_at).await
            }
            Err(e) if e.class() == ErrorClass::Transient => {
                let now = self.clock.now_ms();
                self.journal_write("an order's `unknown` state", |s| {
                    s.journal().mark_unknown(&o.client_id, now)
                });
                self.look_up(&o.symbol.name, &o.client_id, sent_at).await
            }
            Err(e) => {
                let now = self.clock.now_ms();
                let msg = e.to_string();
                self.journal_write("an order's `rejected` state", |s| {
                    s.journal().mark_rejected(&o.client_id, &msg, now)
                });
                self.say(
                    NotifyLevel::Warning,
                    NotifyKind::Rejected,
                    format!(
                        "{} {:?} {} refused by the venue: {msg}",
                        o.symbol.name,
                        o.side,
                        o.qty.get()
                    ),
                );
                return Decimal::ZERO;
            }
        };
        let Some(report) = report else {
            return Decimal::ZERO;
        };
        let filled = self.finish(&o.symbol.name, report).await;
        failpoint::hit("after_fill");
        filled
    }

    /// Waits for an acknowledged order to reach a final state, records it, and returns its
    /// filled quantity.
    pub(crate) async fn finish(&mut self, symbol: &str, mut r: OrderReport) -> Decimal {
        for _ in 0..50 {
            if r.status.is_final() {
                break;
            }
            self.clock.sleep(Duration::from_millis(200)).await;
            match self.follower.ex.query_order(symbol, &r.client_id).await {
                Ok(Some(next)) => r = next,
                _ => continue,
            }
        }
        self.record(&r);
        r.filled_quantity.get()
    }

    /// Writes an order report to the journal.
    pub(crate) fn record(&mut self, r: &OrderReport) {
        let now = self.clock.now_ms();
        let id = r.client_id.clone();
        let filled = r.filled_quantity.get();
        self.journal_write("an order's outcome", |s| {
            let j = s.journal();
            // Acked may already be recorded (or passed): only a database failure matters.
            match j.mark_acked(&id, &r.venue_order_id, now) {
                Ok(()) | Err(StoreError::InvalidTransition { .. }) => {}
                Err(e) => return Err(e),
            }
            match r.status {
                OrderStatus::Filled => j.mark_filled(&id, filled, now),
                OrderStatus::PartiallyFilled => j.mark_partially_filled(&id, filled, now),
                OrderStatus::Canceled | OrderStatus::Expired => {
                    if filled > Decimal::ZERO {
                        match j.mark_partially_filled(&id, filled, now) {
                            Ok(()) | Err(StoreError::InvalidTransition { .. }) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    j.mark_canceled(&id, now)
                }
                OrderStatus::Rejected => j.mark_rejected(&id, "rejected by the venue", now),
                OrderStatus::Sent | OrderStatus::New => Ok(()),
            }
        });
    }

    /// Looks an order up by client id until the venue answers: found, or not found once
    /// the receive window since `sent_at` has passed (then it can no longer arrive). A
    /// failed lookup proves nothing, so it is retried rather than read as "not placed".
    pub(crate) async fn look_up(
        &mut self,
        symbol: &str,
        client_id: &str,
        sent_at: i64,
    ) -> Option<OrderReport> {
        let give_up = self.clock.now_ms() + 300_000;
        loop {
            let asked_at = self.clock.now_ms();
            match self.follower.ex.query_order(symbol, client_id).await {
                Ok(Some(r)) => return Some(r),
                Ok(None) if asked_at > sent_at + self.opts.recv_window_ms => return None,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "order lookup failed; asking again"),
            }
            if self.clock.now_ms() > give_up {
                return None;
            }
            self.clock.sleep(Duration::from_millis(250)).await;
        }
    }

    /// Runs one non-order action; false when the venue refused it.
    async fn run_action(&mut self, kind: &ActionKind, reason: &str) -> bool {
        let ex = self.follower.ex.clone();
        let result = match kind {
            ActionKind::PlaceOrder(_) => Ok(()),
            ActionKind::CancelOrder { symbol, client_id } => {
                ex.cancel_order(symbol, client_id).await.map(|_| ())
            }
            ActionKind::SetLeverage { symbol, leverage } => {
                ex.set_leverage(symbol, *leverage).await.map(|_| ())
            }
            ActionKind::SetMarginMode {
                symbol,
                margin_mode,
            } => ex.set_margin_mode(symbol, *margin_mode).await.map(|_| ()),
            ActionKind::SetMultiAssetsMode { enabled } => {
                ex.set_multi_assets_mode(*enabled).await.map(|_| ())
            }
            ActionKind::AdjustIsolatedMargin {
                symbol,
                position_side,
                amount,
            } => {
                let change = if *amount >= Decimal::ZERO {
                    MarginChange::Add
                } else {
                    MarginChange::Reduce
                };
                ex.adjust_isolated_margin(symbol, *position_side, change, amount.abs())
                    .await
            }
            ActionKind::PlaceProtectiveStop {
                client_id,
                symbol,
                side,
                position_side,
                stop_price,
                qty,
            } => {
                self.place_stop(client_id, symbol, *side, *position_side, *stop_price, *qty)
                    .await
            }
            ActionKind::CancelProtectiveStop { client_id, symbol } => {
                ex.cancel_conditional(symbol, client_id).await.map(|_| ())
            }
            ActionKind::ResetFigures => {
                // Venue time now: the start plan's earlier actions (clean-slate closes) have
                // been answered, so their fills are at or before it and stay out of the
                // copy's figures. The follower's offset was synced just before the start.
                let since = self.clock.now_ms() + self.follower.bin.raw().time_offset_ms();
                let id = self.copy_id;
                if let Err(e) = self.with_store(|s| s.figures_base().reset(id, since)) {
                    self.say(
                        NotifyLevel::Error,
                        NotifyKind::Error,
                        format!("{reason}: not stored, the figures were not reset: {e}"),
                    );
                }
                Ok(())
            }
            ActionKind::PauseOpens => {
                self.hold(super::hold::HoldKind::LeaderUnreadable, reason.to_owned());
                Ok(())
            }
            ActionKind::StopCopy { stop_action } => {
                self.stop_requested = Some((*stop_action, reason.to_owned()));
                Ok(())
            }
            ActionKind::Notice(k) => {
                self.tell(
                    NotifyLevel::Warning,
                    NotifyKind::of_notice(*k),
                    Some(*k),
                    reason.to_owned(),
                );
                Ok(())
            }
        };
        match result {
            Ok(()) => {
                tracing::debug!(reason, "action done");
                true
            }
            Err(e) => {
                self.say(
                    NotifyLevel::Warning,
                    NotifyKind::Error,
                    format!("{reason}: the venue refused it: {e}"),
                );
                false
            }
        }
    }

    async fn place_stop(
        &mut self,
        client_id: &str,
        symbol: &str,
        side: Side,
        position_side: crate::domain::PositionSide,
        stop_price: Decimal,
        qty: Quantity,
    ) -> Result<(), crate::exchange::ExchangeError> {
        let Ok(cid) = ClientOrderId::new(client_id) else {
            return Ok(());
        };
        let Ok(trigger) = crate::domain::Price::new(stop_price) else {
            return Ok(());
        };
        let now = self.clock.now_ms();
        let copy_id = self.copy_id;
        self.journal_write("a protective stop's journal row", |s| {
            match s.journal().record_planned(&PlannedOrder {
                client_order_id: client_id,
                copy_id,
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
            }) {
                Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        });
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
        if let Err(e) = self.follower.ex.place_conditional(&req).await {
            // The same stop may already rest there (placed before a crash, the ledger not
            // saved yet): stop ids are derived from the stop, so the venue refuses the copy.
            let rests = matches!(
                self.follower.ex.query_conditional(symbol, client_id).await,
                Ok(Some(r)) if matches!(
                    r.status,
                    ConditionalStatus::Sent | ConditionalStatus::New | ConditionalStatus::Triggering
                )
            );
            if !rests {
                return Err(e);
            }
        }
        self.journal_write("a protective stop's `acked` state", |s| {
            match s.journal().mark_acked(client_id, "conditional", now) {
                Ok(()) | Err(StoreError::InvalidTransition { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        });
        Ok(())
    }
}
