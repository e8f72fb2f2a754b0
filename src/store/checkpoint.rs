//! Checkpoints of the write-ahead log, taken by the engine's writer instead of by whichever
//! commit happens to fill the log.
//!
//! SQLite copies the WAL's pages back into the database file (a checkpoint) when a commit
//! leaves the log over 1,000 pages: inside that commit, under the one database lock the
//! copies share, with an `fsync` of the log and one of the database file. The copy path
//! writes about 50 pages per copied order, so with 50 copies answering one leader event
//! two or three of their commits before the send ran a checkpoint each.
//!
//! [`Store::checkpointer`] turns that off for the engine's connection and hands the work to
//! a [`Checkpointer`] with a connection of its own: the engine's writer
//! (`runtime::writer`) runs it once enough commits piled up and the copies are calm. A
//! `PASSIVE` checkpoint never waits for the engine's connection, and the engine's commits
//! go on while it runs; its `fsync`s are outside the database lock.

use std::sync::atomic::Ordering;

use rusqlite::Connection;

use super::group_commit::{timed, SyncKind, SyncRecord};
use super::{Store, StoreError};

/// Commits after which the writer checkpoints the log, at its next calm moment. Kept
/// small, so the log stays short between checkpoints. In the fan-out bench (50 copies,
/// `docs/benchmarks.md`) 64 gave an engine CPU of 31.7 ms per leader signal against
/// 35.5–37.5 ms at 256 (single runs; a long log probably lands on new blocks of its file
/// instead of over the ones a finished checkpoint freed — not verified).
pub const CHECKPOINT_AFTER: u64 = 64;

/// Runs the checkpoints of one database on a connection of its own.
#[derive(Debug)]
pub struct Checkpointer {
    conn: Connection,
    /// The connection's commit count when the last checkpoint began.
    at_commits: u64,
    durability: std::sync::Arc<super::group_commit::Durability>,
}

/// What one checkpoint did, in WAL frames (pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Frames in the log when it ran.
    pub log: i64,
    /// Of them, frames now in the database file.
    pub copied: i64,
}

impl Store {
    /// Stops this connection's automatic checkpoints and returns what takes them over.
    /// Until the checkpointer runs, the log only grows: take one only where something
    /// runs it (`runtime::writer`).
    pub fn checkpointer(&self) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(self.path())?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn().pragma_update(None, "wal_autocheckpoint", 0)?;
        let durability = self.durability();
        Ok(Checkpointer {
            conn,
            at_commits: durability.counts().commits(),
            durability,
        })
    }
}

impl Checkpointer {
    /// Whether [`CHECKPOINT_AFTER`] commits were made since the last checkpoint.
    pub fn due(&self) -> bool {
        self.durability.counts().commits() >= self.at_commits + CHECKPOINT_AFTER
    }

    /// Copies what the log holds into the database file, as far as no reader still needs
    /// it (`PASSIVE`), and syncs both files. Blocking: run it off the runtime's threads.
    pub fn run(&mut self) -> Result<Checkpoint, StoreError> {
        self.at_commits = self.durability.counts().commits();
        let (done, began_us, took_us) = timed(|| {
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                })
        });
        let (log, copied) = done?;
        self.durability.note_sync(SyncRecord {
            kind: SyncKind::Checkpoint,
            began_us,
            took_us,
        });
        self.durability.checkpoints.fetch_add(1, Ordering::Relaxed);
        Ok(Checkpoint { log, copied })
    }
}
