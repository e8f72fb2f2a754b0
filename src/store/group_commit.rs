//! Group commit: many commits made durable by one `fsync`, taken outside the database lock.
//!
//! The connection runs in WAL mode with `synchronous = FULL`: every commit appends its pages
//! to the `-wal` file and `fsync`s it before returning, under the one database lock all
//! copies share. [`Store::relaxed`](super::Store::relaxed) commits a write with
//! `synchronous = NORMAL` instead: the pages reach the `-wal` file (visible to every reader,
//! and safe from a process crash, which leaves the operating system's page cache intact)
//! but are not yet on the disk. Each relaxed commit takes a sequence number here.
//!
//! [`Durability::sync_through`] makes every commit up to a sequence number durable with one
//! `fdatasync` of the `-wal` file, and several callers waiting at once share it: whoever
//! syncs first covers everyone who committed before its sync began. Because the WAL is one
//! file written in order, a sync also covers every earlier commit, relaxed or not, and a
//! power loss keeps a prefix of the commits — never a later one without an earlier one.
//!
//! Two users, two lanes:
//! - the journal commit before a send (`runtime::exec`, a protective stop's row in
//!   `runtime::protection`): a relaxed commit, then `sync_through(its number)` before any
//!   order leaves. One leader event reaches every copy of that leader at once: the leader
//!   hub hands it to all of them in one go, each with a [`Ticket`] held until that copy
//!   has committed its row (or found nothing to send). The first copy to need a sync lets
//!   the others commit first ([`Durability::gather`]): it waits while tickets are out and
//!   copies make progress (bounded: [`STALL`] without any, [`MAX_GATHER`] in all), then
//!   yields to the runtime until a round of yields sees no new commit; then one
//!   `fdatasync` covers every copy's row. Syncs of this lane run one at a time among
//!   themselves and never wait for the writer's.
//! - writes after a send (acknowledgement and fill marks, audit rows, the settled ledger,
//!   latency rows): relaxed commits that the engine's writer task (`runtime::writer`)
//!   makes durable in batches through [`Durability::sync_all`]. The writer gives way: it
//!   does not start a sync while a commit before a send waits for one (that sync covers
//!   the writer's commits too, the WAL being in order) nor while commits are still coming,
//!   so its batches do not slot in between the syncs of copies waiting to send. A sync of
//!   the writer already under way when a copy needs one runs beside it; the copy's own
//!   sync does not queue behind it.
//!
//! Counters ([`Durability::counts`]) say how many commits of each kind the connection made
//! and how many syncs ran; tests count them (never time them).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Commits and syncs of one connection, as counted so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitCounts {
    /// Commits made with `synchronous = FULL`: each one an `fsync` under the database lock.
    pub full: u64,
    /// Commits made with `synchronous = NORMAL` (through [`super::Store::relaxed`]).
    pub relaxed: u64,
    /// Group syncs of the `-wal` file (both kinds below).
    pub syncs: u64,
    /// Of those, the syncs run for a commit that must be durable before an order leaves
    /// ([`Durability::sync_through`]); the rest are the writer's batches
    /// ([`Durability::sync_all`]).
    pub before_send: u64,
    /// Relaxed commits made durable so far (the highest sequence number synced).
    pub synced: u64,
    /// Checkpoints of the log run by a [`super::checkpoint::Checkpointer`] (not the ones
    /// SQLite runs by itself on a connection that has none).
    pub checkpoints: u64,
}

impl CommitCounts {
    /// Commits of both kinds.
    pub fn commits(&self) -> u64 {
        self.full + self.relaxed
    }
}

/// What a recorded disk sync was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// A group sync for a commit that must be durable before an order leaves.
    BeforeSend,
    /// The writer's group sync of the writes after the sends.
    Writer,
    /// A checkpoint of the log ([`super::checkpoint::Checkpointer::run`]): its syncs of the
    /// log and of the database file, and the copy between them.
    Checkpoint,
}

/// One disk sync, as recorded while [`Durability::record_syncs`] is on: when it began on
/// the wall clock (µs since the Unix epoch, the clock of the engine's latency rows) and
/// how long the disk took (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncRecord {
    pub kind: SyncKind,
    pub began_us: i64,
    pub took_us: i64,
}

/// The durability state of one database connection: which relaxed commits are on disk.
#[derive(Debug)]
pub struct Durability {
    wal: PathBuf,
    /// Sequence number of the latest relaxed commit.
    committed: AtomicU64,
    /// Every relaxed commit up to this number is durable.
    synced: AtomicU64,
    syncs: AtomicU64,
    before_send_syncs: AtomicU64,
    /// The newest sync's reach (the sequence number it covered) and the length of the WAL
    /// file when it began: what a power cut keeps of it at least (see
    /// [`Durability::power_cut`]).
    synced_len: std::sync::Mutex<(u64, u64)>,
    full_commits: AtomicU64,
    relaxed_commits: AtomicU64,
    /// Counted by [`super::checkpoint::Checkpointer::run`].
    pub(super) checkpoints: AtomicU64,
    /// Set while a relaxed write runs, so the commit hook can tell the two kinds apart.
    relaxed_now: AtomicBool,
    /// One sync before a send at a time; the ones waiting behind it usually find
    /// themselves covered.
    send_lock: tokio::sync::Mutex<()>,
    /// Woken when a sync before a send ends (or its caller gave up): every copy waiting
    /// behind it looks at once whether it was covered, instead of taking the lock one
    /// after the other to find out.
    send_done: Notify,
    /// One sync of the writer at a time.
    writer_lock: tokio::sync::Mutex<()>,
    /// Callers of [`Durability::sync_through`] waiting for their sync or running it.
    waiting: AtomicUsize,
    /// Woken when the last of them is done: the writer may sync again.
    calm: Notify,
    /// [`Ticket`]s out: copies handed a leader event that have not yet committed their
    /// row before the send (nor found nothing to send).
    preparing: AtomicUsize,
    /// Woken when a ticket is given back.
    progress: Notify,
    /// Woken by each relaxed commit: the writer task syncs what piled up.
    dirty: Notify,
    /// [`STALL`] and [`MAX_GATHER`] in µs, unless set otherwise
    /// ([`Durability::set_gather_bounds`]).
    stall_us: AtomicU64,
    max_gather_us: AtomicU64,
    /// Every sync since [`Durability::record_syncs`] turned recording on (a bench's
    /// measure; `None`, nothing kept, otherwise).
    sync_log: std::sync::Mutex<Option<Vec<SyncRecord>>>,
}

impl Durability {
    /// The durability state of the database at `db` (its WAL is `<db>-wal`).
    pub fn new(db: &Path) -> Arc<Self> {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        Arc::new(Self {
            wal: PathBuf::from(wal),
            committed: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            before_send_syncs: AtomicU64::new(0),
            synced_len: std::sync::Mutex::new((0, 0)),
            full_commits: AtomicU64::new(0),
            relaxed_commits: AtomicU64::new(0),
            checkpoints: AtomicU64::new(0),
            relaxed_now: AtomicBool::new(false),
            send_lock: tokio::sync::Mutex::new(()),
            send_done: Notify::new(),
            writer_lock: tokio::sync::Mutex::new(()),
            waiting: AtomicUsize::new(0),
            calm: Notify::new(),
            preparing: AtomicUsize::new(0),
            progress: Notify::new(),
            dirty: Notify::new(),
            stall_us: AtomicU64::new(micros(STALL)),
            max_gather_us: AtomicU64::new(micros(MAX_GATHER)),
            sync_log: std::sync::Mutex::new(None),
        })
    }

    /// Sets how long [`Durability::gather`] waits for a copy holding a ticket (`stall`)
    /// and in all (`max`), instead of [`STALL`] and [`MAX_GATHER`]: for a debug build, or
    /// a test that counts syncs on a loaded machine and must not depend on how fast the
    /// copies plan.
    pub fn set_gather_bounds(&self, stall: std::time::Duration, max: std::time::Duration) {
        self.stall_us.store(micros(stall), Ordering::SeqCst);
        self.max_gather_us.store(micros(max), Ordering::SeqCst);
    }

    /// Starts keeping a [`SyncRecord`] of every sync from now on (`true`), or stops and
    /// forgets them (`false`). Off by default: an engine keeps none.
    pub fn record_syncs(&self, on: bool) {
        if let Ok(mut log) = self.sync_log.lock() {
            *log = on.then(Vec::new);
        }
    }

    /// The syncs recorded since recording began, or since the last call.
    pub fn take_syncs(&self) -> Vec<SyncRecord> {
        self.sync_log
            .lock()
            .ok()
            .and_then(|mut log| log.as_mut().map(std::mem::take))
            .unwrap_or_default()
    }

    /// Keeps `record` when recording is on.
    pub(super) fn note_sync(&self, record: SyncRecord) {
        if let Ok(mut log) = self.sync_log.lock() {
            if let Some(log) = log.as_mut() {
                log.push(record);
            }
        }
    }

    /// Called by the connection's commit hook for every commit that wrote.
    pub(super) fn on_commit(&self) {
        if self.relaxed_now.load(Ordering::Relaxed) {
            self.relaxed_commits.fetch_add(1, Ordering::Relaxed);
        } else {
            self.full_commits.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn set_relaxed(&self, on: bool) {
        self.relaxed_now.store(on, Ordering::Relaxed);
    }

    /// Records that a relaxed write finished (its commit, if any, is in the WAL) and wakes
    /// the writer. Returns the sequence number to sync through to make it durable.
    pub(super) fn note_relaxed(&self) -> u64 {
        let seq = self.committed.fetch_add(1, Ordering::SeqCst) + 1;
        self.dirty.notify_one();
        seq
    }

    /// The sequence number of the latest relaxed commit.
    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::SeqCst)
    }

    /// Whether every relaxed commit up to `seq` is durable.
    pub fn is_durable(&self, seq: u64) -> bool {
        self.synced.load(Ordering::SeqCst) >= seq
    }

    /// Whether relaxed commits wait for a sync.
    pub fn pending(&self) -> bool {
        !self.is_durable(self.committed())
    }

    /// Counters so far.
    pub fn counts(&self) -> CommitCounts {
        CommitCounts {
            full: self.full_commits.load(Ordering::Relaxed),
            relaxed: self.relaxed_commits.load(Ordering::Relaxed),
            syncs: self.syncs.load(Ordering::Relaxed),
            before_send: self.before_send_syncs.load(Ordering::Relaxed),
            synced: self.synced.load(Ordering::SeqCst),
            checkpoints: self.checkpoints.load(Ordering::Relaxed),
        }
    }

    /// Makes every relaxed commit up to `seq` durable, for a commit that must be on disk
    /// before an order leaves: returns at once when a sync already covered it, else waits
    /// for the sync of this lane running now and, if that one began before this commit,
    /// lets the other copies answering the same event commit ([`Durability::gather`]) and
    /// runs one sync that covers every commit made so far.
    pub async fn sync_through(&self, seq: u64) -> std::io::Result<()> {
        if self.is_durable(seq) {
            return Ok(());
        }
        let _waiting = Waiting::enter(self);
        loop {
            let done = self.send_done.notified();
            tokio::pin!(done);
            done.as_mut().enable();
            if self.is_durable(seq) {
                return Ok(());
            }
            if let Ok(one) = self.send_lock.try_lock() {
                let _one = SendTurn(Some(one), &self.send_done);
                if self.is_durable(seq) {
                    return Ok(());
                }
                self.gather().await;
                return self.run_sync(true).await;
            }
            done.await;
        }
    }

    /// Makes every relaxed commit so far durable, giving way to syncs before a send: the
    /// writer's batch (and the last one at shutdown). Waits while a commit before a send
    /// waits for its sync (which covers these commits too) and while commits keep coming.
    pub async fn sync_all(&self) -> std::io::Result<()> {
        loop {
            self.wait_calm().await;
            self.gather().await;
            if self.waiting.load(Ordering::SeqCst) > 0 {
                continue;
            }
            let _one = self.writer_lock.lock().await;
            if self.waiting.load(Ordering::SeqCst) > 0 {
                continue;
            }
            if self.is_durable(self.committed()) {
                return Ok(());
            }
            return self.run_sync(false).await;
        }
    }

    /// A ticket for a copy about to plan a leader event that may lead to a commit before
    /// a send: while it is out, a sync before a send waits a little for that commit
    /// ([`Durability::gather`]). Given back when dropped.
    pub fn ticket(self: &Arc<Self>) -> Ticket {
        self.ticket_of(false)
    }

    /// As [`Durability::ticket`], saying whether its copy is the only one handed the
    /// event ([`Ticket::alone`]).
    pub fn ticket_of(self: &Arc<Self>, alone: bool) -> Ticket {
        self.preparing.fetch_add(1, Ordering::SeqCst);
        Ticket(self.clone(), alone)
    }

    /// Resolves when a ticket comes back (enable it, then check [`Durability::preparing`]).
    pub fn progressed(&self) -> tokio::sync::futures::Notified<'_> {
        self.progress.notified()
    }

    /// Tickets out now.
    pub fn preparing(&self) -> usize {
        self.preparing.load(Ordering::SeqCst)
    }

    /// Lets the commits about to be made go first, so that one sync covers them: waits
    /// while [`Ticket`]s are out and their copies make progress (each wait ends when a
    /// ticket comes back, or after [`STALL`] without one, or [`MAX_GATHER`] in all (or the
    /// bounds [`Durability::set_gather_bounds`] set) — a
    /// copy busy elsewhere with its event still queued does not hold the sync up for
    /// long); then yields to the runtime until a round of yields sees no new commit (at
    /// most [`GATHER_ROUNDS`] rounds). A yield returns once this worker thread has nothing
    /// else ready to run; with nothing else ready it costs one pass of the scheduler.
    async fn gather(&self) {
        self.wait_for_tickets().await;
        let mut seen = self.committed();
        for _ in 0..GATHER_ROUNDS {
            tokio::task::yield_now().await;
            let now = self.committed();
            if now == seen {
                break;
            }
            seen = now;
        }
    }

    /// Waits while [`Ticket`]s are out and their copies make progress (each wait ends when
    /// a ticket comes back, or after [`STALL`] without one, or [`MAX_GATHER`] in all, or
    /// the bounds [`Durability::set_gather_bounds`] set): the first half of
    /// [`Durability::gather`], and what the engine's commit lane (`runtime::commit_lane`)
    /// waits for before it commits the rows the copies handed it.
    pub async fn wait_for_tickets(&self) {
        let began = std::time::Instant::now();
        let stall = std::time::Duration::from_micros(self.stall_us.load(Ordering::SeqCst));
        let max = std::time::Duration::from_micros(self.max_gather_us.load(Ordering::SeqCst));
        loop {
            let progress = self.progress.notified();
            tokio::pin!(progress);
            progress.as_mut().enable();
            if self.preparing() == 0 {
                break;
            }
            let left = max.saturating_sub(began.elapsed());
            if left.is_zero() {
                break;
            }
            if tokio::time::timeout(stall.min(left), progress)
                .await
                .is_err()
            {
                break;
            }
        }
    }

    /// Waits until no caller of [`Durability::sync_through`] is waiting.
    async fn wait_calm(&self) {
        loop {
            let calm = self.calm.notified();
            tokio::pin!(calm);
            calm.as_mut().enable();
            if self.waiting.load(Ordering::SeqCst) == 0 {
                return;
            }
            calm.await;
        }
    }

    /// One `fdatasync` of the WAL, covering every commit numbered so far.
    async fn run_sync(&self, before_send: bool) -> std::io::Result<()> {
        // Every commit numbered up to here has written its pages to the WAL (the number is
        // taken after the commit returned), so one sync from now covers them all.
        let upto = self.committed();
        let (synced, began_us, took_us) = if on_worker_thread() {
            // The sync runs on this thread, so the copy goes on to its send without
            // waiting for another thread to wake twice (to sync, then to hand back); the
            // worker's other tasks move to a thread of their own meanwhile, so none
            // waits for the disk.
            tokio::task::block_in_place(|| timed(|| sync_file(&self.wal)))
        } else {
            let wal = self.wal.clone();
            tokio::task::spawn_blocking(move || timed(|| sync_file(&wal)))
                .await
                .map_err(std::io::Error::other)?
        };
        let len = synced?;
        self.note_sync(SyncRecord {
            kind: if before_send {
                SyncKind::BeforeSend
            } else {
                SyncKind::Writer
            },
            began_us,
            took_us,
        });
        if let Ok(mut mark) = self.synced_len.lock() {
            // The two lanes may sync at once: the newer reach wins.
            if upto >= mark.0 {
                *mark = (upto, len);
            }
        }
        self.syncs.fetch_add(1, Ordering::Relaxed);
        if before_send {
            self.before_send_syncs.fetch_add(1, Ordering::Relaxed);
        }
        self.synced.fetch_max(upto, Ordering::SeqCst);
        Ok(())
    }

    /// Test hook for the power-cut test (`COPYDESK_POWER_CUT`, see `runtime::failpoint`):
    /// cuts the WAL back to its length when the last group sync began, dropping what no
    /// group sync covered, as a power loss could. Exact while no checkpoint restarted the
    /// WAL since and no `FULL` commit followed that sync (a `FULL` commit after it is
    /// dropped too, which a power loss would not do); the engine's signal path makes none.
    pub fn power_cut(&self) -> std::io::Result<()> {
        let len = self
            .synced_len
            .lock()
            .map_err(|_| std::io::Error::other("the sync mark's lock is poisoned"))?
            .1;
        let f = std::fs::OpenOptions::new().write(true).open(&self.wal)?;
        f.set_len(len)?;
        f.sync_all()
    }

    /// Waits until a relaxed commit is made (or was made since the last wait).
    pub async fn wait_dirty(&self) {
        self.dirty.notified().await
    }
}

/// Most rounds of yields [`Durability::gather`] waits for commits to stop coming: a bound
/// for a stream of commits that never pauses, far above the rounds one leader event's
/// copies take.
const GATHER_ROUNDS: usize = 8;

/// How long [`Durability::gather`] waits for a copy holding a [`Ticket`] to make progress
/// (commit its row, or find nothing to send) before syncing without it. One copy plans
/// and commits in well under a millisecond in a release build.
pub const STALL: std::time::Duration = std::time::Duration::from_millis(2);

/// The longest [`Durability::gather`] waits for tickets in all: above the time a release
/// build takes to plan and commit one leader event for 50 copies on two cores.
pub const MAX_GATHER: std::time::Duration = std::time::Duration::from_millis(20);

/// A copy's part in one leader event, while it has not yet committed its row before the
/// send: see [`Durability::ticket`].
#[derive(Debug)]
pub struct Ticket(Arc<Durability>, bool);

impl Ticket {
    /// Whether its copy was the only one handed the event: no other copy's commit to
    /// share.
    pub fn alone(&self) -> bool {
        self.1
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.preparing.fetch_sub(1, Ordering::SeqCst);
        self.0.progress.notify_waiters();
    }
}

/// The turn of one caller of [`Durability::sync_through`] to sync: when it ends (its sync
/// done or failed, or its future dropped), the callers waiting behind it are woken.
struct SendTurn<'a>(Option<tokio::sync::MutexGuard<'a, ()>>, &'a Notify);

impl Drop for SendTurn<'_> {
    fn drop(&mut self) {
        // The lock first: a caller woken must find it free.
        drop(self.0.take());
        self.1.notify_waiters();
    }
}

/// A caller of [`Durability::sync_through`], counted while it waits or syncs (also when
/// its future is dropped half-way, as a stopping copy's is).
struct Waiting<'a>(&'a Durability);

impl<'a> Waiting<'a> {
    fn enter(d: &'a Durability) -> Self {
        d.waiting.fetch_add(1, Ordering::SeqCst);
        Waiting(d)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.0.waiting.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.calm.notify_waiters();
        }
    }
}

/// Whether this thread is a worker of a multi-threaded runtime, where
/// `tokio::task::block_in_place` hands the worker's tasks to another thread while this one
/// blocks. Elsewhere (a current-thread runtime, as in most tests) a blocking call must go
/// to the blocking pool instead.
fn on_worker_thread() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

/// Runs `f`; its answer, when it began (wall clock, µs since the Unix epoch) and how many
/// µs it took.
pub(super) fn timed<T>(f: impl FnOnce() -> T) -> (T, i64, i64) {
    let began_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let t = std::time::Instant::now();
    let out = f();
    let took_us = i64::try_from(t.elapsed().as_micros()).unwrap_or(i64::MAX);
    (out, began_us, took_us)
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// `fdatasync` of the WAL; its length when the sync began. No WAL file means the last
/// connection checkpointed it into the database file (which a checkpoint syncs) and removed
/// it: nothing is left to sync.
fn sync_file(path: &Path) -> std::io::Result<u64> {
    match std::fs::File::open(path) {
        Ok(f) => {
            let len = f.metadata()?.len();
            f.sync_data()?;
            Ok(len)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}
