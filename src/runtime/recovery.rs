//! Restart recovery (copy-rules §6): a plan left in flight by a crash is finished by
//! looking each unfinished order up by its client id. Found: its outcome is recorded.
//! Not found: it is sent again with the same id only once its timestamp plus the receive
//! window has passed, and never when it is older than `max_signal_age_secs` (then
//! reconciliation takes over). Short fills are written back to the ledger.

use std::time::Duration;

use rust_decimal::Decimal;

use crate::engine::client_id::{resend_decision, Resend};
use crate::engine::Ledger;
use crate::store::table::journal::OrderState;

use super::exec::InFlight;
use super::hold::HoldKind;
use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::CopyRunner;

/// Finishes the plan a crash left in flight, if any.
pub async fn recover(r: &mut CopyRunner) {
    let id = r.copy_id;
    let name = r.name.clone();
    // The start read the same row and refused the copy when it could not; a failure here
    // is the database failing between the two reads.
    let stored = r.with_store(|s| Ok(super::ledger::load_stored(s, id, &name)));
    let inflight: InFlight = match stored {
        Ok(Ok(super::ledger::Stored {
            in_flight: Some(f), ..
        })) => f,
        Ok(Ok(_)) => return,
        Ok(Err(e)) => {
            r.say(NotifyLevel::Error, NotifyKind::Error, e.to_string());
            r.hold(HoldKind::UnreadableState, e.to_string());
            return;
        }
        Err(e) => {
            let why = format!("the plan in flight could not be read: {e}");
            r.say(NotifyLevel::Error, NotifyKind::Error, why.clone());
            r.hold(HoldKind::UnreadableState, why);
            return;
        }
    };
    let mut ledger: Ledger = r.ctx.ledger.clone();
    // A request the crashed process had on the wire carries a timestamp from before this
    // start, so once this start plus the receive window has passed it can no longer arrive
    // — whatever pacing delayed it before it left.
    let restarted_at = r.clock.now_ms();
    let mut resent = 0u32;
    for o in &inflight.orders {
        let entry = match r.with_store(|s| s.journal().get(&o.client_id)) {
            Ok(e) => e,
            Err(e) => {
                // Unreadable, not absent: the venue still knows whether it filled.
                let why = format!(
                    "journal row `{}` (table order_journal) cannot be read: {e}",
                    o.client_id
                );
                r.say(NotifyLevel::Error, NotifyKind::Error, why.clone());
                r.hold(HoldKind::UnreadableState, why);
                let filled = match r
                    .follower
                    .ex
                    .query_order(&o.symbol.name, &o.client_id)
                    .await
                {
                    Ok(Some(rep)) => rep.filled_quantity.get(),
                    _ => Decimal::ZERO,
                };
                if filled < o.qty.get() {
                    ledger.apply_order_result(&inflight.before, o, filled);
                }
                continue;
            }
        };
        let filled = match entry {
            Some(e) if e.state.is_terminal() => e.filled_qty,
            Some(e) => {
                let mut filled = None;
                loop {
                    match r
                        .follower
                        .ex
                        .query_order(&o.symbol.name, &o.client_id)
                        .await
                    {
                        Ok(Some(rep)) => {
                            filled = Some(r.finish(&o.symbol.name, rep).await);
                            break;
                        }
                        Ok(None) => {}
                        Err(err) => {
                            tracing::warn!(error = %err, "lookup failed; trying again");
                            r.clock.sleep(Duration::from_millis(500)).await;
                            continue;
                        }
                    }
                    let now = r.clock.now_ms();
                    let sent_by = e.updated_at.max(restarted_at);
                    let age_limit_ms = i64::try_from(r.ctx.settings.risk.max_signal_age_secs)
                        .unwrap_or(i64::MAX / 1000)
                        .saturating_mul(1000);
                    let decision = if now - e.created_at > age_limit_ms {
                        Resend::GiveUp
                    } else {
                        resend_decision(false, sent_by, now, r.opts.recv_window_ms, u64::MAX / 1000)
                    };
                    match decision {
                        Resend::AlreadySent => break,
                        Resend::Wait => {
                            let wait = (sent_by + r.opts.recv_window_ms - now).clamp(50, 1_000);
                            r.clock
                                .sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(1_000)))
                                .await;
                        }
                        Resend::Send => {
                            if e.state == OrderState::Planned || e.state == OrderState::Sent {
                                r.journal_write("an order's `unknown` state", |s| {
                                    s.journal().mark_unknown(&o.client_id, now)
                                });
                            }
                            resent += 1;
                            filled = Some(r.send_order(o).await);
                            break;
                        }
                        Resend::GiveUp => {
                            r.journal_write("an order's `rejected` state", |s| {
                                s.journal().mark_rejected(
                                    &o.client_id,
                                    "not found after a restart and older than max_signal_age_secs; not resent",
                                    now,
                                )
                            });
                            r.say(
                                NotifyLevel::Warning,
                                NotifyKind::Skip,
                                format!(
                                    "{} order from before the restart was never placed and is now too old; not resent",
                                    o.symbol.name
                                ),
                            );
                            break;
                        }
                    }
                }
                filled.unwrap_or(Decimal::ZERO)
            }
            None => Decimal::ZERO,
        };
        if filled < o.qty.get() {
            ledger.apply_order_result(&inflight.before, o, filled);
        }
    }
    tracing::info!(
        orders = inflight.orders.len(),
        resent,
        "recovered the plan in flight"
    );
    // The outcomes `finish` and `send_order` kept, before the settled ledger.
    r.commit_after_send();
    r.settle(ledger);
}
