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
//! Two users:
//! - the journal commit before a send (`runtime::exec`): a relaxed commit, then
//!   `sync_through(its number)` before any order leaves. Copies answering one leader
//!   signal commit their rows while another's sync runs and then share the next one.
//! - writes after a send (acknowledgement and fill marks, audit rows, the settled ledger,
//!   latency rows): relaxed commits that the engine's writer task (`runtime::writer`)
//!   makes durable in batches, one `fdatasync` for all that piled up while it last synced.
//!
//! Counters ([`Durability::counts`]) say how many commits of each kind the connection made
//! and how many syncs ran; tests count them (never time them).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Length of the WAL file when the last group sync began: what a power cut keeps of
    /// it at least (see [`Durability::power_cut`]).
    synced_len: AtomicU64,
    full_commits: AtomicU64,
    relaxed_commits: AtomicU64,
    /// Set while a relaxed write runs, so the commit hook can tell the two kinds apart.
    relaxed_now: AtomicBool,
    /// One sync at a time; the ones waiting behind it usually find themselves covered.
    sync_lock: tokio::sync::Mutex<()>,
    /// Woken by each relaxed commit: the writer task syncs what piled up.
    dirty: Notify,
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
            synced_len: AtomicU64::new(0),
            full_commits: AtomicU64::new(0),
            relaxed_commits: AtomicU64::new(0),
            relaxed_now: AtomicBool::new(false),
            sync_lock: tokio::sync::Mutex::new(()),
            dirty: Notify::new(),
        })
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
        }
    }

    /// Makes every relaxed commit up to `seq` durable: returns at once when a sync already
    /// covered it, else waits for the sync running now and, if that one began before this
    /// commit, runs one more that covers every commit made so far.
    pub async fn sync_through(&self, seq: u64) -> std::io::Result<()> {
        self.sync_upto(seq, true).await
    }

    async fn sync_upto(&self, seq: u64, before_send: bool) -> std::io::Result<()> {
        if self.is_durable(seq) {
            return Ok(());
        }
        let _one = self.sync_lock.lock().await;
        if self.is_durable(seq) {
            return Ok(());
        }
        // Every commit numbered up to here has written its pages to the WAL (the number is
        // taken after the commit returned), so one sync from now covers them all.
        let upto = self.committed();
        let wal = self.wal.clone();
        let synced = tokio::task::spawn_blocking(move || sync_file(&wal))
            .await
            .map_err(std::io::Error::other)?;
        let len = synced?;
        self.synced_len.store(len, Ordering::SeqCst);
        self.syncs.fetch_add(1, Ordering::Relaxed);
        if before_send {
            self.before_send_syncs.fetch_add(1, Ordering::Relaxed);
        }
        self.synced.fetch_max(upto, Ordering::SeqCst);
        Ok(())
    }

    /// Makes every relaxed commit so far durable.
    pub async fn sync_all(&self) -> std::io::Result<()> {
        self.sync_upto(self.committed(), false).await
    }

    /// Test hook for the power-cut test (`COPYDESK_POWER_CUT`, see `runtime::failpoint`):
    /// cuts the WAL back to its length when the last group sync began, dropping what no
    /// group sync covered, as a power loss could. Exact while no checkpoint restarted the
    /// WAL since and no `FULL` commit followed that sync (a `FULL` commit after it is
    /// dropped too, which a power loss would not do); the engine's signal path makes none.
    pub fn power_cut(&self) -> std::io::Result<()> {
        let len = self.synced_len.load(Ordering::SeqCst);
        let f = std::fs::OpenOptions::new().write(true).open(&self.wal)?;
        f.set_len(len)?;
        f.sync_all()
    }

    /// Waits until a relaxed commit is made (or was made since the last wait).
    pub async fn wait_dirty(&self) {
        self.dirty.notified().await
    }
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
