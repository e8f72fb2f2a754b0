//! What a reconciliation pass reads, and reading it beside the signal loop (issue 11).
//!
//! A pass reads the follower's account, configuration and positions (20 weight on
//! Binance) and the open orders and algo orders of the **symbols in play** only (1 weight
//! per symbol and read) — [`CopyRunner::orders_scope`] — instead of the two unfiltered
//! 40-weight order reads. The unfiltered reads stay where nothing else can know: whenever
//! the follower's user-data stream is not up since a full read (a stream's connect and
//! every resync read everything), and at the latest every [`FULL_ORDERS_EVERY_MS`].
//!
//! Its reads book their weight at low priority (they stand aside while a copy's request
//! waits) and the periodic pass takes them in a task of their own
//! ([`CopyRunner::prefetch`]): the supervisor keeps copying signals while those reads wait
//! for the weight budget, and runs the pass once they are in.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rust_decimal::Decimal;
use tokio::task::JoinHandle;

use crate::engine::PositionKey;
use crate::exchange::clock::Clock;
use crate::exchange::{AccountSnapshot, ExResult, Exchange};

use super::account_state::SharedAccount;
use super::supervisor::{ms, CopyRunner};

/// The longest a follower account goes without a read of every symbol's orders while
/// its stream stays up (the stream reports every order change in between; this covers an
/// event the stream lost without disconnecting).
pub(crate) const FULL_ORDERS_EVERY_MS: i64 = 10 * 60_000;

/// Periodic passes between two reads of the funding records (every 10 minutes at the
/// default 30 s interval); the stream's funding balance update reads them at once, and
/// every other pass (start-up, reconnect, resume) reads them too.
pub(crate) const FUNDING_EVERY_PASSES: u64 = 20;

/// The reads a periodic pass took in its own task.
#[derive(Debug)]
pub(crate) struct Prefetched {
    /// The venue's clock offset, when read.
    pub offset_ms: Option<i64>,
    /// The leader's positions (a venue leader), as read.
    pub leader: Option<ExResult<BTreeMap<PositionKey, Decimal>>>,
}

impl CopyRunner {
    /// The symbols whose orders a reconciliation read of the follower must see, or `None`
    /// for every symbol's (the stream has not been up since a full read, the last full
    /// read is older than [`FULL_ORDERS_EVERY_MS`], or the journal cannot be read). In
    /// play: what the follower holds or has orders on as its stream keeps it, what every
    /// copy on the account holds, what this copy's leader holds, and the symbol of every
    /// unfinished order of those copies in the journal — pending signals and resting
    /// protective stops (a close-position stop left on a flat symbol is found by its
    /// journal row).
    pub(crate) fn orders_scope(&self) -> Option<Vec<String>> {
        let now = self.clock.now_ms();
        let mut symbols: BTreeSet<String> = {
            let st = self.account.lock();
            if !st.orders_known(now, FULL_ORDERS_EVERY_MS) {
                return None;
            }
            st.symbols_held()
        };
        symbols.extend(
            self.ctx
                .ledger
                .positions
                .values()
                .map(|p| p.symbol.name.clone()),
        );
        let mut copies = BTreeSet::from([self.copy_id]);
        if let Ok(r) = self.registry.lock() {
            if let Some(m) = r.get(&self.follower_account) {
                for (id, held) in m {
                    copies.insert(*id);
                    symbols.extend(held.iter().map(|k| k.symbol.clone()));
                }
            }
        }
        symbols.extend(self.tracker.positions().keys().map(|k| k.symbol.clone()));
        let unfinished = self.with_store(|s| s.journal().unfinished()).ok()?;
        symbols.extend(
            unfinished
                .into_iter()
                .filter(|o| copies.contains(&o.copy_id))
                .map(|o| o.symbol),
        );
        Some(symbols.into_iter().collect())
    }

    /// Starts the reads of a periodic pass in a task of their own: the follower's (into
    /// the account's shared state, unless a copy of the account read it within half an
    /// interval), the venue's clock and the leader's positions.
    pub(crate) fn prefetch(&self) -> Reads {
        let follower = self.follower.ex.clone();
        let account = self.account.clone();
        let clock = self.clock.clone();
        let scope = self.orders_scope();
        let max_age = ms(self.opts.reconcile_every) / 2;
        let leader = self.leader.venue().map(|v| v.ex.clone());
        Reads(tokio::spawn(async move {
            let offset_ms = follower.sync_time().await.ok();
            // A failed read is left to the pass, which reads again and reports it.
            let _ = read_follower(&*follower, &account, &*clock, scope, max_age).await;
            let leader = match leader {
                Some(ex) => Some(super::venue::positions(&*ex).await),
                None => None,
            };
            Prefetched { offset_ms, leader }
        }))
    }
}

/// A periodic pass's reads under way; dropping it (the copy stops) abandons them.
#[derive(Debug)]
pub(crate) struct Reads(JoinHandle<Prefetched>);

impl Reads {
    /// The reads, once in (`None` if their task failed: the pass then reads itself).
    pub(crate) async fn done(&mut self) -> Option<Prefetched> {
        (&mut self.0).await.ok()
    }
}

/// The reads under way, once in; never, while none are.
pub(crate) async fn done(reads: &mut Option<Reads>) -> Option<Prefetched> {
    match reads {
        Some(r) => r.done().await,
        None => std::future::pending().await,
    }
}

impl Drop for Reads {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A reconciliation read of the follower into its shared state, unless the state was
/// read within `max_age_ms` and the stream keeps it (then `Ok(false)`); `orders_of` as in
/// [`Exchange::reconcile_read`]. Copies of one account asking at once wait for one read.
pub(crate) async fn read_follower(
    ex: &dyn Exchange,
    account: &Arc<SharedAccount>,
    clock: &dyn Clock,
    orders_of: Option<Vec<String>>,
    max_age_ms: i64,
) -> ExResult<bool> {
    let _reading = account.reading.lock().await;
    if fresh(account, clock.now_ms(), max_age_ms) {
        return Ok(false);
    }
    let started = clock.now_ms();
    let snap: AccountSnapshot = ex.reconcile_read(orders_of.as_deref()).await?;
    account
        .lock()
        .refreshed_in(snap, started, orders_of.as_deref());
    Ok(true)
}

/// Whether the shared state serves a reconciliation: read within `max_age_ms`, its stream
/// up, and no fill of ours waiting for the stream's report.
pub(crate) fn fresh(account: &SharedAccount, now: i64, max_age_ms: i64) -> bool {
    let st = account.lock();
    max_age_ms > 0
        && st.stream_is_up()
        && now - st.snapshot_at < max_age_ms
        && !st.awaits_own_fills()
}
