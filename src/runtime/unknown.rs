//! Orders whose outcome is unknown (issue 12, item 10): the venue's answer was lost and the
//! send path's lookup did not settle it within its window. They stay `unknown` in the
//! journal (the status shows them) and every reconciliation looks each one up by its
//! client id until it is resolved: found, its outcome is recorded; not found once its
//! receive window has long passed, it never reached the venue and is closed as such; a
//! lookup that fails changes nothing and is tried again at the next pass.
//!
//! This module only resolves the journal; reconciliation repairs the positions.

use rust_decimal::Decimal;

use crate::store::table::journal::{JournalEntry, OrderState, OrderType};
use crate::store::StoreError;

use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::CopyRunner;

impl CopyRunner {
    /// Looks up every `unknown` order of the copy and records what the venue says.
    pub(crate) async fn resolve_unknown_orders(&mut self) {
        let entries = match self.unknown_orders() {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(copy = %self.name, error = %e, "journal not read; unknown orders are looked up at the next pass");
                return;
            }
        };
        for e in entries {
            self.resolve_one(&e).await;
        }
    }

    /// This copy's orders whose outcome is still unknown.
    pub(crate) fn unknown_orders(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let id = self.copy_id;
        self.with_store(|s| s.journal().for_copy(id)).map(|rows| {
            rows.into_iter()
                .filter(|e| e.state == OrderState::Unknown)
                .collect()
        })
    }

    async fn resolve_one(&mut self, e: &JournalEntry) {
        let what = format!(
            "order {} ({} {:?} {})",
            e.client_order_id,
            e.symbol,
            e.side,
            e.qty.normalize()
        );
        let asked_at = self.clock.now_ms();
        // Past this, an order that was never seen cannot arrive any more.
        let gone = asked_at > e.updated_at + self.opts.recv_window_ms;
        if e.order_type == OrderType::StopMarket || e.order_type == OrderType::TakeProfitMarket {
            match self
                .follower
                .ex
                .query_conditional(&e.symbol, &e.client_order_id)
                .await
            {
                Ok(Some(_)) => {
                    let coid = e.client_order_id.clone();
                    self.journal_write("a protective stop's `acked` state", |s| {
                        match s.journal().mark_acked(&coid, "conditional", asked_at) {
                            Ok(()) | Err(StoreError::InvalidTransition { .. }) => Ok(()),
                            Err(e) => Err(e),
                        }
                    });
                    self.resolved(&what, "found on the venue");
                }
                Ok(None) if gone => self.never_arrived(e, &what),
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(copy = %self.name, order = %e.client_order_id, error = %err, "lookup of an unknown order failed; asking again at the next pass");
                }
            }
            return;
        }
        match self
            .follower
            .ex
            .query_order(&e.symbol, &e.client_order_id)
            .await
        {
            Ok(Some(r)) => {
                let filled = r.filled_quantity.get();
                let status = r.status;
                let price = r.average_price.map(|p| p.get());
                self.record(&r);
                self.commit_after_send();
                self.resolved(
                    &what,
                    &format!(
                        "found on the venue, {status:?}, filled {}",
                        filled.normalize()
                    ),
                );
                if filled > Decimal::ZERO {
                    self.adopt_late_fill(e, filled, price).await;
                }
            }
            Ok(None) if gone => self.never_arrived(e, &what),
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(copy = %self.name, order = %e.client_order_id, error = %err, "lookup of an unknown order failed; asking again at the next pass");
            }
        }
    }

    /// The send path counted this order as not filled; the venue says `filled`: the
    /// ledger takes it back (an opening order's quantity is the copy's again, a closing
    /// order's is gone), so later closes and reconciliation act on what the follower holds.
    async fn adopt_late_fill(&mut self, e: &JournalEntry, filled: Decimal, price: Option<Decimal>) {
        let mut ledger = self.ctx.ledger.clone();
        let Some(key) = ledger
            .positions
            .iter()
            .find(|(_, p)| p.symbol.name == e.symbol && p.follower_side == e.position_side)
            .map(|(k, _)| k.clone())
        else {
            tracing::info!(copy = %self.name, order = %e.client_order_id, "a late fill on a book the ledger no longer holds; left as is");
            return;
        };
        let mut flat_stop = None;
        let mut remove = false;
        if let Some(pos) = ledger.positions.get_mut(&key) {
            if e.side == pos.direction.opening_side() {
                let added_margin = if pos.qty > Decimal::ZERO && pos.margin > Decimal::ZERO {
                    pos.margin * filled / pos.qty
                } else {
                    price.unwrap_or_default() * filled / Decimal::from(pos.leverage.max(1))
                };
                pos.qty += filled;
                pos.declined = (pos.declined - filled).max(Decimal::ZERO);
                pos.margin += added_margin;
            } else {
                let taken = filled.min(pos.qty);
                if pos.qty > Decimal::ZERO {
                    pos.margin -= pos.margin * taken / pos.qty;
                }
                pos.qty -= taken;
                if pos.qty.is_zero() {
                    remove = true;
                    flat_stop = pos
                        .stop
                        .as_ref()
                        .map(|s| (s.client_id.clone(), pos.symbol.name.clone()));
                }
            }
        }
        if remove {
            ledger.positions.remove(&key);
        }
        self.settle(ledger);
        if let Some((client_id, symbol)) = flat_stop {
            let reason = format!("{symbol}: a late-confirmed close left it flat");
            self.stop_job(
                crate::engine::ActionKind::CancelProtectiveStop { client_id, symbol },
                &reason,
            )
            .await;
        }
    }

    fn never_arrived(&mut self, e: &JournalEntry, what: &str) {
        let now = self.clock.now_ms();
        let coid = e.client_order_id.clone();
        self.journal_write("an order's `rejected` state", |s| {
            s.journal().mark_rejected(
                &coid,
                "not found on the venue after its receive window: it never arrived",
                now,
            )
        });
        self.resolved(what, "not found on the venue: it never arrived");
    }

    fn resolved(&self, what: &str, outcome: &str) {
        self.say(
            NotifyLevel::Info,
            NotifyKind::Notice,
            format!("{what}, whose outcome was unknown: {outcome}"),
        );
    }
}
