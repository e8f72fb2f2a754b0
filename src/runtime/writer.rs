//! The engine's writer: what the copies write after a send is committed at once (visible,
//! safe from a process crash) but made durable in batches, one `fsync` for everything that
//! piled up over [`LINGER`] (`store::group_commit`). The journal commit before a
//! send is made durable before the order leaves by a group sync of its own lane, shared by
//! the copies answering one leader event; the writer gives way to it (it starts no sync
//! while one of those waits, nor while commits are still coming).
//!
//! What a power cut can take from an unsynced batch, and how it comes back:
//! - an order's `acked` / `filled` / `unknown` / `rejected` mark: the row stays `sent`;
//!   recovery and reconciliation look it up by its client id and record the outcome;
//! - the settled ledger: the ledger and plan in flight of the journal commit before the
//!   send stay, and recovery finishes the plan from the venue's answers;
//! - audit rows and latency rows: lost (they describe, they do not decide);
//! - a protective stop's `acked` mark: reconciliation finds the stop resting by its id.
//!
//! The WAL is written in order, so a power cut keeps a prefix of the commits: a later
//! durable journal commit makes every earlier batch durable with it.

use std::sync::Arc;

use tokio::sync::watch;

use crate::engine::{Ledger, OrderPlan};
use crate::store::checkpoint::Checkpointer;
use crate::store::group_commit::{Durability, Ticket};
use crate::store::{Store, StoreError};

use super::hold::HoldKind;
use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::CopyRunner;

/// How long the writer lets relaxed commits pile up after the first before it syncs them.
/// With a sync as soon as the writer was free, a copied leader signal cost 3.6 of the
/// writer's syncs on top of the syncs before its sends (`docs/benchmarks.md`), each one
/// the disk's `fdatasync` beside the next copy's. The writes it covers are the ones a
/// power cut may take and recovery restores (above).
pub(crate) const LINGER: std::time::Duration = std::time::Duration::from_millis(100);

/// Makes the relaxed commits durable, [`LINGER`] after the first one waiting, and
/// checkpoints the log once enough commits piled up (`store::checkpoint`: the copies'
/// commits no longer do); a last sync at shutdown. Without a checkpointer (it could not
/// be made) SQLite checkpoints as it did.
pub(crate) async fn run(
    durability: Arc<Durability>,
    mut checkpointer: Option<Checkpointer>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            () = durability.wait_dirty() => {}
        }
        // What one leader event leads to (the answers, the fills, the stops' rows) comes
        // over a few tens of milliseconds: one sync after it all, and a sync before a send
        // meanwhile covers these writes too.
        tokio::select! {
            _ = stop.changed() => {}
            () = tokio::time::sleep(LINGER) => {}
        }
        if let Err(e) = durability.sync_all().await {
            tracing::error!(error = %e, "the database's write-ahead log could not be synced");
        }
        if *stop.borrow() {
            break;
        }
        if checkpointer.as_ref().is_some_and(Checkpointer::due) {
            checkpointer = checkpoint(checkpointer).await;
        }
    }
    if let Err(e) = durability.sync_all().await {
        tracing::error!(error = %e, "the database's write-ahead log could not be synced at shutdown");
    }
}

/// Runs one checkpoint off the runtime's threads; the checkpointer back, or `None` when
/// its task was lost (a panic), after which nothing checkpoints until the engine's
/// connection closes.
async fn checkpoint(checkpointer: Option<Checkpointer>) -> Option<Checkpointer> {
    let mut c = checkpointer?;
    let ran = tokio::task::spawn_blocking(move || {
        let outcome = c.run();
        (c, outcome)
    })
    .await;
    match ran {
        Ok((c, Ok(done))) => {
            tracing::debug!(log = done.log, copied = done.copied, "checkpointed the log");
            Some(c)
        }
        Ok((c, Err(e))) => {
            tracing::warn!(error = %e, "the log could not be checkpointed; trying again later");
            Some(c)
        }
        Err(e) => {
            tracing::error!(error = %e, "the checkpoint task failed; the log grows until restart");
            None
        }
    }
}

impl CopyRunner {
    /// A plan's journal commit before its sends, through the engine's commit lane
    /// (`runtime::commit_lane`: one commit with the other copies answering the same leader
    /// event; this copy's ticket given back once its write is handed over), or on its own
    /// when the engine has no lane. Returns what `write` returned, the sequence number to
    /// sync through before the send, and the durability state to sync with. The only copy
    /// handed its leader event ([`Ticket::alone`]) commits on its own, as without a lane.
    pub(crate) async fn commit_plan<T: Send + 'static>(
        &mut self,
        write: impl FnOnce(&Store) -> Result<T, StoreError> + Send + Sync + 'static,
    ) -> Result<(T, u64, Arc<Durability>), StoreError> {
        let ticket = self.ticket.take();
        let (write, out) = super::commit_lane::keeping_output(write);
        let handed = match &self.lane {
            // The only copy handed a leader event has no one to share a commit with: it
            // commits on its own and saves the lane's two hand-overs.
            Some(lane) if !ticket.as_ref().is_some_and(Ticket::alone) => {
                lane.submit(write).map(|answer| (answer, lane.durability()))
            }
            _ => Err(write),
        };
        let (seq, durability) = match handed {
            Ok((answered, durability)) => {
                // Handed over: the lane need not wait for this copy any more.
                drop(ticket);
                let seq = answered.await.map_err(|_| StoreError::Invalid {
                    field: "journal commit",
                    message: "the engine's commit lane stopped without an answer; nothing was sent"
                        .into(),
                })??;
                (seq, durability)
            }
            Err(write) => {
                let (mut answers, seq, durability) = self.with_store(|s| {
                    let (answers, seq) = s.relaxed_each([write])?;
                    Ok((answers, seq, s.durability()))
                })?;
                drop(ticket);
                answers.pop().unwrap_or(Ok(()))?;
                (seq, durability)
            }
        };
        let v = out.take().ok_or(StoreError::Invalid {
            field: "journal commit",
            message: "the write did not run; nothing was sent".into(),
        })?;
        Ok((v, seq, durability))
    }

    /// A write that must be durable before an order leaves: committed, then made durable
    /// by a group sync it may share with other copies'. `None` when either failed (the
    /// copy is then held, as for any journal write that failed).
    pub(crate) async fn write_durable<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Option<T> {
        let (v, seq, durability) = self.journal_write(what, |s| {
            s.relaxed(f).map(|(v, seq)| (v, seq, s.durability()))
        })?;
        match durability.sync_through(seq).await {
            Ok(()) => Some(v),
            Err(e) => {
                tracing::error!(copy = %self.name, what, error = %e, "journal sync failed");
                self.hold(
                    HoldKind::JournalWrite,
                    format!("{what} could not be made durable: {e}"),
                );
                None
            }
        }
    }

    /// Stores the ledger as settled after a plan's sends (a write after the send: at a
    /// power cut before the writer's sync, the plan in flight stays and recovery finishes
    /// it).
    pub(crate) fn settle_after_send(&mut self, ledger: Ledger) {
        self.store_settled(ledger, true);
    }

    /// The journal commit before a send was written but could not be made durable: no
    /// order of the plan is sent, each is marked as not sent, the ledger stays as before
    /// the plan, and the copy is held.
    pub(crate) fn not_durable(&mut self, orders: &[OrderPlan], before: Ledger, e: &std::io::Error) {
        tracing::error!(copy = %self.name, error = %e, "journal sync failed; plan not run");
        let now = self.clock.now_ms();
        let msg = format!("not sent: the journal could not be made durable: {e}");
        for o in orders {
            let _ = self.with_store(|s| s.journal().mark_rejected(&o.client_id, &msg, now));
        }
        self.settle(before);
        self.say(
            NotifyLevel::Error,
            NotifyKind::Error,
            format!("plan not run: the journal could not be made durable: {e}"),
        );
        self.hold(
            HoldKind::JournalWrite,
            format!("the journal could not be made durable: {e}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::table::notifications::Level;

    fn write(store: &mut Store, ts: i64) -> u64 {
        store
            .relaxed(|s| {
                s.notifications()
                    .push(ts, None, Level::Info, "fill", "row")
                    .map(|_| ())
            })
            .expect("relaxed write")
            .1
    }

    /// The writes one leader event leads to come over a few tens of milliseconds: the
    /// writer syncs once after [`LINGER`], not once per write as soon as it is free.
    /// Counted on a paused clock.
    #[tokio::test(start_paused = true)]
    async fn the_writer_syncs_once_for_what_piles_up_over_its_linger() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("db.sqlite3")).expect("open");
        let durability = store.durability();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(durability.clone(), None, stopped));
        let before = durability.counts().syncs;

        write(&mut store, 1);
        tokio::time::sleep(LINGER / 2).await;
        let last = write(&mut store, 2);
        tokio::time::sleep(LINGER / 4).await;
        assert_eq!(
            durability.counts().syncs,
            before,
            "no sync before the linger is over"
        );
        assert!(!durability.is_durable(last));

        for _ in 0..1_000 {
            if durability.is_durable(last) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(durability.is_durable(last), "durable after the linger");
        tokio::time::sleep(LINGER * 3).await;
        assert_eq!(
            durability.counts().syncs - before,
            1,
            "one sync for both writes"
        );
        stop.send(true).expect("the writer listens");
        task.await.expect("the writer ends");
    }
}
