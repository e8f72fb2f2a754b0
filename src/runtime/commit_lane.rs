//! The engine's commit lane: the journal rows the copies write before their sends, made
//! one commit for every copy answering the same leader event, and the writes they make
//! after their sends, batched the same way.
//!
//! One leader event reaches all of its copies at once (the leader hub hands it to each
//! with a ticket, `store::group_commit::Ticket`). Each copy used to commit its own rows
//! under the one database lock, the next copy's turn coming after that commit, before one
//! group `fdatasync` covered them all. Now a copy plans, hands its rows to this lane
//! ([`CommitLane::submit`], from `CopyRunner::commit_plan`) and gives its ticket back; the lane's task waits while tickets
//! are out (bounded as the group sync is, `Durability::wait_for_tickets`), then writes
//! every row handed to it in one transaction, each copy's in a savepoint of its own
//! (`Store::relaxed_each`): a copy whose write fails gets its own error and the others'
//! rows land. Each copy then makes its row durable with `Durability::sync_through`, one
//! `fdatasync` for all of them, before its order leaves — as before. The only copy handed
//! its leader event (`Ticket::alone`) has nothing to share and commits on its own.
//!
//! The copies' writes after their sends take the same lane
//! (`CopyRunner::flush_after_send`): the outcome, latency, audit, fill and notification
//! rows of many copies in one commit, each copy waiting for its answer. So do their
//! protective stops' rows (`protection::StopWorker`): the row before the stop's send,
//! then made durable by the group sync as a plan's is, and its `acked` or `canceled`
//! mark after.
//!
//! One commit instead of one per copy: the pages the copies' rows share (the journal's
//! last leaf and its indexes, the ledger table) are written to the WAL once, and the
//! copies no longer queue behind each other's commits to reach their order. When the
//! engine stops, what was handed over is still committed and answered; a write handed
//! over after the lane stopped comes back and its copy commits it on its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::store::group_commit::Durability;
use crate::store::{DataDir, Store, StoreError, StoreWrite};

use super::notify::SharedStore;

/// What a copy hands the lane: its write, and where its answer goes (the sequence number
/// to sync through, or the write's error).
struct Job {
    write: StoreWrite<'static>,
    answer: oneshot::Sender<Result<u64, StoreError>>,
    /// Rows before a send (`CommitLane::submit`: a plan's, a protective stop's), or a
    /// copy's writes after its sends (`CommitLane::submit_after_send`).
    before_send: bool,
}

/// Hands writes to the lane's task. Cloned into every copy of the engine.
#[derive(Debug, Clone)]
pub(crate) struct CommitLane {
    jobs: mpsc::UnboundedSender<Job>,
    counts: Arc<Counts>,
    /// The durability state of the store the lane commits to.
    durability: Arc<Durability>,
    /// The copies' orders in flight.
    burst: Arc<super::burst::Burst>,
}

/// What the lane committed so far: commits, and the copies' writes they carried; of
/// them, the commits that carried rows written before a send (a plan's, a protective
/// stop's), and those rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneCounts {
    pub commits: u64,
    pub writes: u64,
    pub plan_commits: u64,
    pub plan_writes: u64,
}

#[derive(Debug, Default)]
struct Counts {
    commits: AtomicU64,
    writes: AtomicU64,
    plan_commits: AtomicU64,
    plan_writes: AtomicU64,
}

impl CommitLane {
    /// Starts the lane's task on `store`, until `stop`.
    pub(crate) fn start(
        store: SharedStore,
        durability: Arc<Durability>,
        stop: watch::Receiver<bool>,
    ) -> (Self, JoinHandle<()>) {
        let (jobs, rx) = mpsc::unbounded_channel();
        let counts = Arc::new(Counts::default());
        // Not the store itself: the engine's data directory (its lock) is released as soon
        // as the engine lets go of it, not when this task gets to see the stop.
        let store = Arc::downgrade(&store);
        let task = tokio::spawn(run(store, durability.clone(), rx, stop, counts.clone()));
        let lane = Self {
            jobs,
            counts,
            durability,
            burst: Arc::default(),
        };
        (lane, task)
    }

    /// The durability state to sync the lane's commits with.
    pub(crate) fn durability(&self) -> Arc<Durability> {
        self.durability.clone()
    }

    /// Marks a copy's orders in flight until the guard is dropped
    /// ([`super::burst::Burst::sending`]).
    pub(crate) fn sending(&self) -> super::burst::Sending {
        self.burst.sending()
    }

    /// Waits for the other copies' orders in flight and tickets out, at most
    /// [`super::burst::CALM_MAX`]: what a copy's work after its send waits for.
    pub(crate) async fn calm(&self) -> bool {
        self.burst
            .calm(&self.durability, super::burst::CALM_MAX)
            .await
    }

    /// Commits and writes so far.
    pub(crate) fn counts(&self) -> LaneCounts {
        LaneCounts {
            commits: self.counts.commits.load(Ordering::Relaxed),
            writes: self.counts.writes.load(Ordering::Relaxed),
            plan_commits: self.counts.plan_commits.load(Ordering::Relaxed),
            plan_writes: self.counts.plan_writes.load(Ordering::Relaxed),
        }
    }

    /// Hands `write` over for the lane's next commit, with the other copies' writes handed
    /// over meanwhile; the answer comes as the sequence number to sync through before the
    /// send, or the write's error. The write back when the lane has stopped (the engine is
    /// stopping): the caller commits it on its own.
    pub(crate) fn submit(
        &self,
        write: StoreWrite<'static>,
    ) -> Result<oneshot::Receiver<Result<u64, StoreError>>, StoreWrite<'static>> {
        self.hand_over(write, true)
    }

    /// As [`CommitLane::submit`], for a copy's writes after its sends
    /// (`CopyRunner::flush_after_send`): relaxed like the rest, made durable by the
    /// writer's next sync.
    pub(crate) fn submit_after_send(
        &self,
        write: StoreWrite<'static>,
    ) -> Result<oneshot::Receiver<Result<u64, StoreError>>, StoreWrite<'static>> {
        self.hand_over(write, false)
    }

    fn hand_over(
        &self,
        write: StoreWrite<'static>,
        before_send: bool,
    ) -> Result<oneshot::Receiver<Result<u64, StoreError>>, StoreWrite<'static>> {
        let (answer, answered) = oneshot::channel();
        match self.jobs.send(Job {
            write,
            answer,
            before_send,
        }) {
            Ok(()) => Ok(answered),
            Err(mpsc::error::SendError(job)) => Err(job.write),
        }
    }
}

/// The answer to a write handed over with [`CommitLane::submit`] or
/// [`CommitLane::submit_after_send`]: the sequence number to sync through, the write's
/// error, or an error saying the lane's task ended without answering.
pub(crate) async fn answer(
    answered: oneshot::Receiver<Result<u64, StoreError>>,
) -> Result<u64, StoreError> {
    answered.await.unwrap_or_else(|_| {
        Err(StoreError::Invalid {
            field: "journal commit",
            message: "the engine's commit lane stopped without an answer".into(),
        })
    })
}

/// Where a write's output waits for the commit's answer.
pub(crate) struct Output<T>(Arc<Mutex<Option<T>>>);

impl<T> Output<T> {
    /// The output, once the write ran (`None` if it did not).
    pub(crate) fn take(&self) -> Option<T> {
        self.0.lock().ok().and_then(|mut o| o.take())
    }
}

/// `write` as a [`StoreWrite`] that keeps what it returned in the [`Output`].
pub(crate) fn keeping_output<T: Send + 'static>(
    write: impl FnOnce(&Store) -> Result<T, StoreError> + Send + Sync + 'static,
) -> (StoreWrite<'static>, Output<T>) {
    let slot = Arc::new(Mutex::new(None));
    let out = slot.clone();
    let write: StoreWrite<'static> = Box::new(move |s| {
        let v = write(s)?;
        if let Ok(mut o) = out.lock() {
            *o = Some(v);
        }
        Ok(())
    });
    (write, Output(slot))
}

async fn run(
    store: Weak<Mutex<DataDir>>,
    durability: Arc<Durability>,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    mut stop: watch::Receiver<bool>,
    counts: Arc<Counts>,
) {
    loop {
        let first = tokio::select! {
            job = jobs.recv() => match job {
                Some(j) => j,
                None => break,
            },
            _ = stop.changed() => break,
        };
        // The other copies of the same leader event hand theirs over in a moment.
        durability.wait_for_tickets().await;
        // Copies whose answers came in with this one's hand theirs over on their turn:
        // one turn of the runtime's other tasks before the batch is closed.
        tokio::task::yield_now().await;
        let mut batch = vec![first];
        while let Ok(j) = jobs.try_recv() {
            batch.push(j);
        }
        commit(&store, batch, &counts);
    }
    // What was handed over before the stop is written and answered all the same.
    jobs.close();
    let mut rest = Vec::new();
    while let Ok(j) = jobs.try_recv() {
        rest.push(j);
    }
    if !rest.is_empty() {
        commit(&store, rest, &counts);
    }
}

/// One relaxed commit of every job's write, each in a savepoint; each job answered.
fn commit(store: &Weak<Mutex<DataDir>>, batch: Vec<Job>, counts: &Counts) {
    let plans = batch.iter().filter(|j| j.before_send).count();
    counts.commits.fetch_add(1, Ordering::Relaxed);
    counts.writes.fetch_add(
        u64::try_from(batch.len()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    if plans > 0 {
        counts.plan_commits.fetch_add(1, Ordering::Relaxed);
        counts
            .plan_writes
            .fetch_add(u64::try_from(plans).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
    let mut answers = Vec::with_capacity(batch.len());
    let mut writes = Vec::with_capacity(batch.len());
    for j in batch {
        answers.push(j.answer);
        writes.push(j.write);
    }
    let done = match store.upgrade() {
        Some(store) => match store.lock() {
            Ok(mut g) => g.store_mut().relaxed_each(writes),
            Err(_) => Err(StoreError::Invalid {
                field: "store",
                message: "the database lock is poisoned".into(),
            }),
        },
        None => Err(StoreError::Invalid {
            field: "store",
            message: "the engine has closed its database; nothing was written".into(),
        }),
    };
    match done {
        Ok((results, seq)) => {
            for (answer, result) in answers.into_iter().zip(results) {
                let _ = answer.send(result.map(|()| seq));
            }
        }
        Err(e) => {
            // The commit itself failed: none of the writes landed.
            let message = e.to_string();
            for answer in answers {
                let _ = answer.send(Err(StoreError::Invalid {
                    field: "journal commit",
                    message: message.clone(),
                }));
            }
        }
    }
}
