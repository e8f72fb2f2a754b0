//! Books whose close could not be executed (issue 12, item 4). A close that did not fill
//! keeps its position in the ledger (so nothing trades against it) and is retried by a
//! reconciliation scheduled with backoff; when the retry fails too, opens on its symbol
//! pause until the position is gone: the planner sees the copy as paused for that symbol
//! (closes still mirrored). Each step is notified with the venue's reason.
//!
//! This module owns the set of such books of one copy; `exec` reports a failed close, the
//! supervisor asks whether a symbol is paused and when to retry.

use crate::engine::PositionKey;

use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::{ms, CopyRunner};

impl CopyRunner {
    /// A close of `key` did not fill: opens on its symbol pause (announced once) and a
    /// reconciliation retries it.
    pub(crate) fn close_failed(&mut self, key: &PositionKey) {
        // A stopping copy retries its closes itself and opens nothing.
        if self.is_stopping() {
            return;
        }
        let Some(pos) = self.ctx.ledger.positions.get(key) else {
            return;
        };
        let (symbol, direction, qty) = (pos.symbol.name.clone(), pos.direction, pos.qty);
        let why = self
            .refusals
            .last()
            .cloned()
            .unwrap_or_else(|| "the close was not confirmed".to_owned());
        let attempts = {
            let e = self.blocked.entry(key.clone()).or_insert((direction, 0));
            e.0 = direction;
            e.1 += 1;
            e.1
        };
        let now = self.clock.now_ms();
        self.close_retry.failed(now, ms(self.opts.reconcile_every));
        let wait = self.close_retry.wait_ms(now).unwrap_or_default() / 1000;
        match attempts {
            1 => self.say(
                NotifyLevel::Warning,
                NotifyKind::Rejected,
                format!(
                    "the close of this copy's {direction:?} {qty} {symbol} could not be executed ({why}); it is kept in the ledger and tried again in {wait} s"
                ),
            ),
            2 => self.say(
                NotifyLevel::Warning,
                NotifyKind::Held,
                format!(
                    "opens on {symbol} paused: the close of this copy's {direction:?} {qty} {symbol} still cannot be executed ({why}); it is tried again in {wait} s, and opens on {symbol} resume once it is closed"
                ),
            ),
            _ => {}
        }
    }
    /// Whether opens on `symbol` are paused by a close that could not be executed.
    pub(crate) fn symbol_blocked(&self, symbol: &str) -> bool {
        self.blocked
            .iter()
            .any(|(k, (_, attempts))| k.symbol == symbol && *attempts >= 2)
    }

    /// Lifts the pause of every book whose failed position is gone from the ledger.
    pub(crate) fn lift_blocks(&mut self) {
        let ledger = &self.ctx.ledger;
        let done: Vec<(PositionKey, u32)> = self
            .blocked
            .iter()
            .filter(|(k, (d, _))| ledger.positions.get(*k).is_none_or(|p| p.direction != *d))
            .map(|(k, (_, n))| (k.clone(), *n))
            .collect();
        for (k, attempts) in done {
            self.blocked.remove(&k);
            if attempts < 2 {
                continue;
            }
            self.say(
                NotifyLevel::Info,
                NotifyKind::Released,
                format!(
                    "opens on {} resume: the position whose close failed is closed",
                    k.symbol
                ),
            );
        }
        if self.blocked.is_empty() {
            self.close_retry.clear();
        }
    }

    /// A retry of a failed close is due: reconciliation closes what the leader no longer
    /// holds.
    pub(crate) async fn retry_failed_closes(&mut self) {
        if self.blocked.is_empty() || !self.close_retry.due(self.clock.now_ms()) {
            return;
        }
        let now = self.clock.now_ms();
        self.close_retry.failed(now, ms(self.opts.reconcile_every));
        self.reconcile("a close that failed").await;
    }
}
