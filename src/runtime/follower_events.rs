//! The follower's stream as the supervisor reads it: fills of our orders (stored, and
//! announced with their delay and slippage versus the leader), reconnects (which trigger a
//! reconciliation), and orders that carry CopyDesk's id prefix without being in this
//! engine's journal, which mean another CopyDesk trades the account: copying pauses.
//! Funding balance updates make the copy collect its funding (see `figures`).
//!
//! The stream only shows orders placed while it is open, so the follower's open orders,
//! regular and conditional, are also checked before the start plan runs and at every
//! reconciliation: a resting order with our prefix that is not in our journal pauses the
//! copy the same way, naming the order.

use rust_decimal::Decimal;

use crate::engine::{self, CopyState};
use crate::exchange::events::{BalanceReason, Execution};
use crate::exchange::AccountEvent;

use crate::exchange::AccountSnapshot;
use crate::store::Store;

use super::after_send::OnFailure;
use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::CopyRunner;

/// One open order on the follower that carries CopyDesk's prefix but is not in our journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ForeignOrder {
    pub client_id: String,
    pub symbol: String,
    pub conditional: bool,
}

/// The follower's open orders (regular and conditional) that another CopyDesk placed.
pub(crate) fn foreign_orders(store: &Store, snap: &AccountSnapshot) -> Vec<ForeignOrder> {
    snap.open_orders
        .iter()
        .map(|o| (o.client_id.as_str(), o.symbol.as_str(), false))
        .chain(
            snap.open_conditionals
                .iter()
                .map(|o| (o.client_id.as_str(), o.symbol.as_str(), true)),
        )
        .filter(|(id, _, _)| engine::client_id::is_ours(id))
        // A failed lookup counts as known: a database hiccup must not pause copying.
        .filter(|(id, _, _)| matches!(store.journal().get(id), Ok(None)))
        .map(|(id, symbol, conditional)| ForeignOrder {
            client_id: id.to_owned(),
            symbol: symbol.to_owned(),
            conditional,
        })
        .collect()
}

/// Why the copy pauses, naming the orders.
pub(crate) fn foreign_message(found: &[ForeignOrder]) -> String {
    let list: Vec<String> = found
        .iter()
        .map(|o| {
            format!(
                "{} order {} on {}",
                if o.conditional { "conditional" } else { "open" },
                o.client_id,
                o.symbol
            )
        })
        .collect();
    format!(
        "copying paused: {} on the follower carries CopyDesk's id prefix but is not in this \
         CopyDesk's journal, so another CopyDesk is trading this follower account; stop the \
         other one, then resume this copy",
        list.join(", ")
    )
}

impl CopyRunner {
    /// A follower event: fills of this copy's orders (another copy's on a shared follower
    /// account are that copy's), and orders that carry our prefix but are not in our journal
    /// (another CopyDesk on the account).
    pub(crate) async fn on_follower(&mut self, ev: AccountEvent) {
        // Fills of orders we did not place, on a book this copy holds, count for it (read
        // before the account state applies the event: the share is of the position
        // before the fill).
        let outside = self.attribute_outside(&ev);
        // The account state every copy of this follower plans from.
        self.account.lock().apply(&ev);
        if outside && self.ctx.state != CopyState::Stopped {
            if let Some(snap) = self.follower_snapshot().await {
                self.check_figures(&snap).await;
            }
        }
        match ev {
            AccountEvent::Order(u) => {
                let id = u.order.client_id.clone();
                if !engine::client_id::is_ours(&id) {
                    return;
                }
                // The journal is the whole engine's: an order another copy of this engine
                // placed on the same follower account is known, but not this copy's.
                let entry = self.with_store(|s| s.journal().get(&id)).ok().flatten();
                let owner = entry.as_ref().map(|entry| entry.copy_id);
                // An order of this copy's that answers no leader signal: a close the user
                // asked for, a repair, a stop-loss or panic close.
                let own_order = entry.as_ref().is_some_and(|e| e.signal_id.is_none());
                let known = owner.is_some();
                if owner.is_some_and(|copy| copy != self.copy_id) {
                    return;
                }
                if !known && u.execution == Execution::New && self.ctx.state == CopyState::Running {
                    self.set_state(CopyState::Paused);
                    self.say(
                        NotifyLevel::Error,
                        NotifyKind::Paused,
                        format!(
                            "copying paused: order {id} on {} carries CopyDesk's id prefix but is not \
                             in this CopyDesk's journal, so another CopyDesk is trading this follower \
                             account; stop the other one, then resume this copy",
                            u.order.symbol
                        ),
                    );
                    return;
                }
                if let Execution::Trade(fill) = &u.execution {
                    if known {
                        self.record_fill(&u, fill);
                        let at = u.times.transaction.unwrap_or(u.times.venue);
                        let order = id.clone();
                        self.after_send("a latency row's fill", OnFailure::Log, move |s| {
                            s.latency().fill(&order, at)
                        });
                    }
                    let (delay, slip) = match self.leader_refs.get(&id) {
                        Some((price, at)) if !price.is_zero() => {
                            let delay = u.times.venue - at;
                            let slip = (fill.price.get() - price) / price * Decimal::ONE_HUNDRED;
                            (format!("{delay} ms"), format!("{:.3}%", slip.round_dp(3)))
                        }
                        _ => ("n/a".into(), "n/a".into()),
                    };
                    self.say_kept(
                        NotifyLevel::Info,
                        NotifyKind::Fill,
                        Some(super::notify::NotifyDetail::Fill {
                            symbol: u.order.symbol.clone(),
                            side: u.order.side,
                            qty: fill.quantity.get(),
                            price: fill.price.get(),
                        }),
                        if own_order {
                            format!(
                                "filled: {:?} {} {} at {} (the copy's own order, not a copy of a leader trade)",
                                u.order.side,
                                fill.quantity.get(),
                                u.order.symbol,
                                fill.price.get()
                            )
                        } else {
                            format!(
                                "copied: {:?} {} {} at {} (delay {delay}, slippage vs leader {slip})",
                                u.order.side,
                                fill.quantity.get(),
                                u.order.symbol,
                                fill.price.get()
                            )
                        },
                    );
                }
            }
            AccountEvent::BalancePosition(u) if u.reason == BalanceReason::FundingFee => {
                self.on_funding().await
            }
            AccountEvent::Disconnected(d) => self.say_detail(
                NotifyLevel::Warning,
                NotifyKind::Disconnected,
                super::notify::NotifyDetail::Stream {
                    stream: super::notify::StreamRole::Follower,
                },
                format!("follower stream disconnected ({}); reconnecting", d.reason),
            ),
            AccountEvent::Resynced(_) => {
                self.say_detail(
                    NotifyLevel::Info,
                    NotifyKind::Reconnected,
                    super::notify::NotifyDetail::Stream {
                        stream: super::notify::StreamRole::Follower,
                    },
                    "follower stream reconnected".into(),
                );
                self.reconcile("follower reconnect").await
            }
            AccountEvent::Failed(f) => {
                let account = self.follower_account.clone();
                if self.key_refused(&account, &f.error) {
                    return;
                }
                self.set_state(CopyState::Paused);
                self.say(
                    NotifyLevel::Error,
                    NotifyKind::Error,
                    format!(
                        "follower stream stopped for good: {}; copying paused",
                        f.error
                    ),
                );
            }
            _ => {}
        }
    }

    /// New funding moves the copy's PnL: record it and apply the stops at once.
    async fn on_funding(&mut self) {
        if !self.collect_funding().await {
            return;
        }
        if let Some(snap) = self.follower_snapshot().await {
            self.check_figures(&snap).await;
        }
    }

    /// Pauses a running copy when the follower has open orders of another CopyDesk.
    pub(crate) fn guard_open_orders(&mut self, snap: &AccountSnapshot) {
        if self.ctx.state != CopyState::Running {
            return;
        }
        let Ok(found) = self.with_store(|s| Ok(foreign_orders(s, snap))) else {
            return;
        };
        if found.is_empty() {
            return;
        }
        self.set_state(CopyState::Paused);
        self.say(
            NotifyLevel::Error,
            NotifyKind::Paused,
            foreign_message(&found),
        );
    }
}
