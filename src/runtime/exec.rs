//! Executes a plan against the follower: every order is written to the journal (the
//! outbox) together with the new ledger and the plan in flight before anything is sent;
//! then actions run in order, each order's outcome is recorded, a short fill is written
//! back to the ledger, and the plan is marked settled. A crash at any point leaves enough
//! in the database for [`super::recovery`] to finish the plan without doubling an order.

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::engine::{ActionKind, Ledger, NoticeKind, OrderIntent, OrderPlan, OrderType, Plan};
use crate::exchange::{
    ClientOrderId, ErrorClass, MarginChange, OrderKind, OrderReport, OrderRequest, OrderStatus,
    Placement, TimeInForce,
};
use crate::store::table::journal::{
    OrderState as JournalState, OrderType as JournalType, PlannedOrder,
};
use crate::store::{Store, StoreError};

use super::after_send::OnFailure;
use super::failpoint;
use super::hold::HoldKind;
use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::CopyRunner;

/// How long past its receive window the send path keeps looking up an order whose answer
/// was lost, before leaving it `unknown` to reconciliation.
const LOOK_UP_MS: i64 = 10_000;
/// The symbol a set-up action prepares for the orders after it, if it is one.
fn setup_symbol(kind: &ActionKind) -> Option<&str> {
    match kind {
        ActionKind::SetLeverage { symbol, .. } | ActionKind::SetMarginMode { symbol, .. } => {
            Some(symbol)
        }
        _ => None,
    }
}

/// A send's answer that marks the journal row before its outcome is known.
enum Mark {
    /// The answer was lost: looked up by its client id.
    Unknown,
    /// Refused before the venue acted, with the reason.
    Rejected(String),
}

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
        self.planned_us = crate::exchange::clock::wall_us();
        self.execute_signal(plan, leader_ref, None).await;
    }

    /// Writes a plan's orders, its ledger and the leader signal it answers in one durable
    /// commit, with the first order already marked as sent (recovery treats a sent order
    /// it cannot find like a planned one), then runs it. The decisions' audit rows and the
    /// settled ledger wait until after the sends.
    pub(crate) async fn execute_signal(
        &mut self,
        plan: Plan,
        leader_ref: Option<(Decimal, i64)>,
        signal: Option<&crate::domain::LeaderSignal>,
    ) {
        let before = self.ctx.ledger.clone();
        self.refusals.clear();
        let orders: Vec<OrderPlan> = plan.orders().cloned().collect();
        let now = self.clock.now_ms();
        let inflight = InFlight {
            before: before.clone(),
            orders: orders.clone(),
        };
        let copy_id = self.copy_id;
        let first_sent = orders.first().map(|o| o.client_id.clone());
        // Committed without an `fsync` under the database lock, together with the other
        // copies answering the same leader event (`runtime::commit_lane`), then made
        // durable by a group sync before any order leaves (`runtime::writer`).
        let ledger_json = serde_json::to_string(&plan.ledger).unwrap_or_default();
        let inflight = serde_json::to_string(&inflight).unwrap_or_default();
        let signal = signal.cloned();
        let (leader_id, signal_row, received) =
            (self.leader_id, self.signal_row, self.clock.now_ms());
        let rows = orders.clone();
        // From the commit to the last answer: the other copies' work after their sends
        // waits for these orders (`runtime::burst`).
        let sending = self
            .lane
            .as_ref()
            .filter(|_| !orders.is_empty())
            .map(super::commit_lane::CommitLane::sending);
        let written = self
            .commit_plan(move |s| {
                let conn = s.conn();
                let signal_id = match &signal {
                    Some(sig) => super::supervisor::store_signal(conn, leader_id, received, sig)?,
                    None => signal_row,
                };
                let j = crate::store::table::journal::Journal::on(conn);
                for (leg, o) in rows.iter().enumerate() {
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
                    let written = if leg == 0 {
                        j.record_sent(&row)
                    } else {
                        j.record_planned(&row)
                    };
                    match written {
                        Ok(_) | Err(StoreError::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                crate::store::table::copy_ledger::CopyLedgers::on(conn).save(
                    copy_id,
                    &ledger_json,
                    (!rows.is_empty()).then_some(inflight.as_str()),
                    now,
                )?;
                Ok(signal_id)
            })
            .await;
        let signal_id = match written {
            Ok((id, seq, durability)) => {
                if let Err(e) = durability.sync_through(seq).await {
                    self.not_durable(&orders, before, &e);
                    return;
                }
                id
            }
            Err(e) => {
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
        };
        self.release(HoldKind::JournalWrite);
        self.committed_us = crate::exchange::clock::wall_us();
        self.signal_row = signal_id;
        self.sent_in_plan = first_sent;
        if !orders.is_empty() {
            failpoint::hit("after_journal");
        }
        self.ctx.ledger = plan.ledger.clone();
        let mut ledger = plan.ledger.clone();
        // Books whose close in this plan did not fill: what the close left, by book.
        let mut failed_closes: std::collections::BTreeMap<crate::engine::PositionKey, Decimal> =
            Default::default();
        // Symbols whose set-up (leverage, margin mode) the venue refused in this plan:
        // their opens and increases are not sent (issue 12 item 8).
        let mut unset: BTreeMap<String, String> = BTreeMap::new();
        for action in &plan.actions {
            match &action.kind {
                ActionKind::PlaceOrder(o) if !o.intent.is_closing() => {
                    if let Some(why) = unset.get(&o.symbol.name).cloned() {
                        self.skip_unset(o, &why, &mut ledger);
                        continue;
                    }
                    if let Some(left) = failed_closes.get(&o.leader_key) {
                        // An open after a close that failed would trade against what the
                        // close left: not sent, and the book keeps the old entry.
                        self.skip_after_failed_close(o, *left, &before, &mut ledger);
                        continue;
                    }
                    if let Some((price, at)) = leader_ref {
                        self.leader_refs.insert(o.client_id.clone(), (price, at));
                    }
                    let filled = self.send_order(o).await;
                    if filled < o.qty.get() {
                        ledger.apply_order_result(&before, o, filled);
                    }
                }
                ActionKind::PlaceOrder(o) => {
                    if let Some((price, at)) = leader_ref {
                        self.leader_refs.insert(o.client_id.clone(), (price, at));
                    }
                    let filled = self.send_order(o).await;
                    if filled < o.qty.get() {
                        if o.intent == crate::engine::OrderIntent::Close {
                            failed_closes.insert(o.leader_key.clone(), o.qty.get() - filled);
                        }
                        ledger.apply_order_result(&before, o, filled);
                    }
                }
                ActionKind::CancelProtectiveStop { client_id, .. }
                    if failed_closes.keys().any(|k| {
                        before
                            .positions
                            .get(k)
                            .and_then(|p| p.stop.as_ref())
                            .is_some_and(|s| &s.client_id == client_id)
                    }) =>
                {
                    // The close of its position did not fill: the position keeps its stop
                    // until a close is confirmed.
                    tracing::info!(copy = %self.name, stop = %client_id, "protective stop kept: its position's close did not fill");
                }
                other => {
                    // A protective stop goes to the stop worker; one the venue refuses comes
                    // back to the supervisor at once (`take_stop_faults`), which takes it out of the
                    // ledger and holds the copy until the next protection pass places it; one it accepted comes back as
                    // placed and is marked confirmed in the ledger.
                    if let Err(e) = self.run_action(other, &action.reason).await {
                        if let Some(symbol) = setup_symbol(other) {
                            unset.insert(symbol.to_owned(), format!("{}: {e}", action.reason));
                        }
                    }
                }
            }
        }
        self.sent_in_plan = None;
        drop(sending);
        self.audit(&plan, signal_id, now);
        self.settle_after_send(ledger);
        self.flush_after_send().await;
        for key in failed_closes.keys() {
            self.close_failed(key);
        }
        self.lift_blocks();
    }

    /// An opening order planned after a close of the same book that did not fill: marked
    /// in the journal as not sent, and the ledger keeps the entry the close left.
    fn skip_after_failed_close(
        &mut self,
        o: &OrderPlan,
        left: Decimal,
        before: &Ledger,
        ledger: &mut Ledger,
    ) {
        let now = self.clock.now_ms();
        let msg = "not sent: the close before it on the same book did not fill";
        self.journal_write("an order's `rejected` state", |s| {
            s.journal().mark_rejected(&o.client_id, msg, now)
        });
        ledger.positions.remove(&o.leader_key);
        if let Some(prev) = before.positions.get(&o.leader_key) {
            let mut back = prev.clone();
            if prev.qty > Decimal::ZERO {
                back.margin = prev.margin * (left / prev.qty).min(Decimal::ONE);
            }
            back.qty = left.min(prev.qty);
            ledger.positions.insert(o.leader_key.clone(), back);
        }
        self.say(
            NotifyLevel::Warning,
            NotifyKind::Skip,
            format!(
                "{} {:?} {} not copied: the close of the position before it did not fill",
                o.symbol.name,
                o.side,
                o.qty.get()
            ),
        );
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

    /// The plan's decisions, for the audit trail: written after the sends.
    fn audit(&mut self, plan: &Plan, signal_id: Option<i64>, at: i64) {
        if plan.actions.is_empty() {
            return;
        }
        let rows: Vec<(&'static str, String, Option<serde_json::Value>)> = plan
            .actions
            .iter()
            .map(|a| {
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
                (action, a.reason.clone(), serde_json::to_value(&a.kind).ok())
            })
            .collect();
        let copy_id = self.copy_id;
        // Its own savepoint in the commit after the send: all of the plan's rows or none.
        self.after_send("the plan's audit rows", OnFailure::Log, move |s| {
            let audit = s.audit();
            for (action, reason, detail) in &rows {
                audit.record(&crate::store::table::audit::NewDecision {
                    ts: at,
                    copy_id: Some(copy_id),
                    signal_id,
                    action,
                    reason,
                    detail: detail.as_ref(),
                })?;
            }
            Ok(())
        });
    }

    /// Stores the ledger as settled (no plan in flight).
    pub(crate) fn settle(&mut self, ledger: Ledger) {
        self.store_settled(ledger, false);
    }

    /// Stores the ledger as settled, durable at once or (after a plan's sends) with the
    /// writer's next sync; a failed write is said and the ledger kept in memory.
    pub(crate) fn store_settled(&mut self, ledger: Ledger, after_send: bool) {
        self.ctx.ledger = ledger;
        let json = serde_json::to_string(&self.ctx.ledger).unwrap_or_default();
        let now = self.clock.now_ms();
        let id = self.copy_id;
        if after_send {
            self.after_send("the copy's ledger", OnFailure::HoldLedger, move |s| {
                s.copy_ledgers().save(id, &json, None, now)
            });
        } else if self
            .journal_write("the copy's ledger", |s| {
                s.copy_ledgers().save(id, &json, None, now)
            })
            .is_none()
        {
            self.say(
                NotifyLevel::Error,
                NotifyKind::Error,
                super::after_send::LEDGER_KEPT.into(),
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
        let sent_at = self.clock.now_ms();
        let committed_us = if self.sent_in_plan.as_deref() == Some(o.client_id.as_str()) {
            self.sent_in_plan = None;
            self.committed_us
        } else {
            self.write_durable("an order's `sent` state", |s| {
                s.journal().mark_sent(&o.client_id, sent_at)
            })
            .await;
            crate::exchange::clock::wall_us()
        };
        let written_us = crate::exchange::clock::wall_us();
        let placed = self.follower.ex.place_order(&req).await;
        let acked_us = crate::exchange::clock::wall_us();
        failpoint::hit("after_send");
        self.record_latency(&o.client_id, committed_us, written_us, acked_us);
        let report = match placed {
            Ok(Placement::Acknowledged(r)) => Some(r),
            Ok(Placement::Unconfirmed { reason, .. }) => {
                self.mark_after_send(&o.client_id, Mark::Unknown);
                tracing::warn!(reason = %reason, "order unconfirmed; looking it up");
                self.look_up(&o.symbol.name, &o.client_id, sent_at).await
            }
            // A 429 or 418 is a refusal before the venue acted: nothing was placed. The
            // copy is held until the venue's wait is over.
            Err(e) if super::venue_faults::is_rate_limit(&e) => {
                self.mark_after_send(&o.client_id, Mark::Rejected(format!("not placed: {e}")));
                self.check_rate_limit();
                self.say(
                    NotifyLevel::Warning,
                    NotifyKind::Rejected,
                    format!(
                        "{} {:?} {} not placed: {e}",
                        o.symbol.name,
                        o.side,
                        o.qty.get()
                    ),
                );
                return Decimal::ZERO;
            }
            Err(e) if e.class() == ErrorClass::Transient => {
                self.mark_after_send(&o.client_id, Mark::Unknown);
                self.look_up(&o.symbol.name, &o.client_id, sent_at).await
            }
            Err(e) => {
                let msg = e.to_string();
                self.mark_after_send(&o.client_id, Mark::Rejected(msg.clone()));
                let account = self.follower_account.clone();
                if self.key_refused(&account, &e) {
                    return Decimal::ZERO;
                }
                if e.venue_code() == Some(super::venue_faults::INSUFFICIENT_MARGIN)
                    && !o.intent.is_closing()
                {
                    self.insufficient_margin(o, &e);
                    return Decimal::ZERO;
                }
                self.refusals
                    .push(format!("{} refused by the venue: {msg}", o.symbol.name));
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
            self.refusals.push(format!(
                "{}: the order's outcome is unknown and a lookup by its id does not find it",
                o.symbol.name
            ));
            // The `unknown` mark above is among the kept writes: committed before reading.
            self.commit_after_send();
            let unknown = self
                .with_store(|s| s.journal().get(&o.client_id))
                .ok()
                .flatten()
                .is_some_and(|e| e.state == JournalState::Unknown);
            if unknown {
                self.say(
                    NotifyLevel::Warning,
                    NotifyKind::Rejected,
                    format!(
                        "order {} ({} {:?} {}): outcome unknown (the venue's answer was lost and it cannot be looked up now); counted as not filled, kept in the journal and looked up at every reconciliation",
                        o.client_id,
                        o.symbol.name,
                        o.side,
                        o.qty.get()
                    ),
                );
            }
            return Decimal::ZERO;
        };
        self.last_report = None;
        let filled = self.finish(&o.symbol.name, report).await;
        // The fill counts in the account state at once, before the stream reports it.
        if let Some(r) = self.last_report.take() {
            self.account.lock().own_fill(&r, self.clock.now_ms());
        }
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
        let filled = r.filled_quantity.get();
        self.last_report = Some(r);
        filled
    }

    /// Stores where the time went for one order sent in answer to a leader event.
    fn record_latency(
        &mut self,
        client_id: &str,
        committed_us: i64,
        written_us: i64,
        acked_us: i64,
    ) {
        let Some(recv) = self.leader_recv_us else {
            return;
        };
        let row = crate::store::table::latency::LatencyRow {
            client_order_id: client_id.to_owned(),
            copy_id: self.copy_id,
            leader_event_ms: self.leader_refs.get(client_id).map(|(_, at)| *at),
            leader_recv_us: Some(recv),
            planned_us: self.planned_us,
            committed_us,
            written_us,
            acked_us: Some(acked_us),
            follower_fill_ms: None,
            ts: self.clock.now_ms(),
        };
        self.after_send("a latency row", OnFailure::Log, move |s| {
            s.latency().record(&row)
        });
    }

    /// Writes an order report to the journal.
    pub(crate) fn record(&mut self, r: &OrderReport) {
        let now = self.clock.now_ms();
        self.last_answer_ms = self.last_answer_ms.max(r.updated_at);
        let id = r.client_id.clone();
        let filled = r.filled_quantity.get();
        let venue_order_id = r.venue_order_id.clone();
        let status = r.status;
        self.after_send("an order's outcome", OnFailure::Hold, move |s| {
            let (to, error) = match status {
                OrderStatus::Filled => (JournalState::Filled, None),
                OrderStatus::PartiallyFilled => (JournalState::PartiallyFilled, None),
                OrderStatus::Canceled | OrderStatus::Expired => (JournalState::Canceled, None),
                OrderStatus::Rejected => (JournalState::Rejected, Some("rejected by the venue")),
                OrderStatus::Sent | OrderStatus::New => (JournalState::Acked, None),
            };
            match s
                .journal()
                .mark_answered(&id, &venue_order_id, to, filled, error, now)
            {
                // Acked may already be recorded (or passed): only a database failure matters.
                Err(StoreError::InvalidTransition { .. }) if to == JournalState::Acked => Ok(()),
                answered => answered,
            }
        });
    }

    /// Keeps an order's `unknown` or `rejected` mark for the commit after the send.
    fn mark_after_send(&mut self, client_id: &str, mark: Mark) {
        let now = self.clock.now_ms();
        let id = client_id.to_owned();
        match mark {
            Mark::Unknown => {
                self.after_send("an order's `unknown` state", OnFailure::Hold, move |s| {
                    s.journal().mark_unknown(&id, now)
                })
            }
            Mark::Rejected(msg) => {
                self.after_send("an order's `rejected` state", OnFailure::Hold, move |s| {
                    s.journal().mark_rejected(&id, &msg, now)
                })
            }
        }
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
        // Reconciliation goes on looking it up (`unknown`): the signal path does not wait
        // for a venue that cannot answer.
        let give_up = sent_at + self.opts.recv_window_ms + LOOK_UP_MS;
        loop {
            let asked_at = self.clock.now_ms();
            match self.follower.ex.query_order(symbol, client_id).await {
                Ok(Some(r)) => return Some(r),
                Ok(None) if asked_at > sent_at + self.opts.recv_window_ms => return None,
                Ok(None) => {}
                Err(e) => {
                    if super::venue_faults::is_rate_limit(&e) {
                        self.check_rate_limit();
                    }
                    tracing::warn!(error = %e, "order lookup failed; asking again")
                }
            }
            if self.clock.now_ms() > give_up {
                return None;
            }
            self.clock.sleep(Duration::from_millis(250)).await;
        }
    }

    /// An open or increase whose symbol could not be set up: it is not sent, its journal
    /// row says why, an open leaves the ledger (the leader's book counts as not copied,
    /// like any skipped open), and the user is told.
    fn skip_unset(&mut self, o: &OrderPlan, why: &str, ledger: &mut Ledger) {
        let now = self.clock.now_ms();
        let msg = format!("not sent: {why}");
        self.journal_write("an order's `rejected` state", |s| {
            s.journal().mark_rejected(&o.client_id, &msg, now)
        });
        if o.intent == OrderIntent::Open {
            ledger.positions.remove(&o.leader_key);
            ledger.not_copied.insert(o.leader_key.clone());
        } else if let Some(p) = ledger.positions.get_mut(&o.leader_key) {
            let unfilled = o.qty.get().min(p.qty);
            if p.qty > Decimal::ZERO {
                p.margin -= p.margin * (unfilled / p.qty);
            }
            p.qty -= unfilled;
            p.declined += unfilled;
        }
        self.tell(
            NotifyLevel::Warning,
            NotifyKind::Skip,
            Some(NoticeKind::SetupFailed),
            format!(
                "skipped {} {:?} {}: its set-up failed, so the order was not sent at the follower's old settings ({why})",
                o.symbol.name,
                o.side,
                o.qty.get()
            ),
        );
    }

    /// Runs one non-order action; the venue's refusal when it refused it.
    async fn run_action(&mut self, kind: &ActionKind, reason: &str) -> Result<(), String> {
        let ex = self.follower.ex.clone();
        let result = match kind {
            ActionKind::PlaceOrder(_) => Ok(()),
            ActionKind::CancelOrder { symbol, client_id } => {
                ex.cancel_order(symbol, client_id).await.map(|_| ())
            }
            ActionKind::SetLeverage { symbol, leverage } => {
                ex.set_leverage(symbol, *leverage).await.map(|now| {
                    self.account.lock().set_leverage(symbol, now);
                })
            }
            ActionKind::SetMarginMode {
                symbol,
                margin_mode,
            } => ex.set_margin_mode(symbol, *margin_mode).await.map(|_| {
                self.account.lock().set_margin_mode(symbol, *margin_mode);
            }),
            ActionKind::SetMultiAssetsMode { enabled } => {
                ex.set_multi_assets_mode(*enabled).await.map(|_| {
                    self.account.lock().set_multi_assets(*enabled);
                })
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
            ActionKind::PlaceProtectiveStop { .. } | ActionKind::CancelProtectiveStop { .. } => {
                // Stops go through the copy's stop worker, in order, so placing or
                // cancelling one never holds up the next signal's order.
                self.stop_job(kind.clone(), reason).await;
                Ok(())
            }
            ActionKind::ResetFigures => {
                // Venue time now: the start plan's earlier actions (clean-slate closes) have
                // been answered, so their fills are at or before it and stay out of the
                // copy's figures. The follower's offset was synced just before the start,
                // but its estimate can be off by half a round trip: never before the venue
                // time of the last answer (a clean slate's close filled at or before it).
                let since = (self.clock.now_ms() + self.follower.ex.server_offset_ms())
                    .max(self.last_answer_ms);
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
                // The cause (a stop rule's notice, seen just before) stays in
                // `stop_cause_seen` for the stop's announcement.
                self.stop_requested = Some((*stop_action, reason.to_owned()));
                Ok(())
            }
            ActionKind::Notice(k) => {
                if let Some(cause) = super::notify::StopCause::of_notice(*k) {
                    self.stop_cause_seen = Some(cause);
                }
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
                Ok(())
            }
            Err(e) => {
                let account = self.follower_account.clone();
                if !self.key_refused(&account, &e) {
                    self.say(
                        NotifyLevel::Warning,
                        NotifyKind::Error,
                        format!("{reason}: the venue refused it: {e}"),
                    );
                }
                Err(e.to_string())
            }
        }
    }
}
