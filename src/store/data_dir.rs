//! The data directory an engine works in: its lock and its database, opened together so
//! an engine never touches a database another engine holds.

use std::path::{Path, PathBuf};

use super::db::Store;
use super::error::StoreError;
use super::lock::DataDirLock;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "copydesk.sqlite3";

/// The database path inside a data directory.
pub fn db_path(dir: &Path) -> PathBuf {
    dir.join(DB_FILE)
}

/// A locked data directory with its open database. Drop it to release the lock.
#[derive(Debug)]
pub struct DataDir {
    dir: PathBuf,
    // Fields drop in order: the database closes before the lock is released.
    store: Store,
    _lock: DataDirLock,
}

impl DataDir {
    /// Locks `dir` for `program` (refused, naming the holder, if another engine has it),
    /// then opens and upgrades its database.
    pub fn open(dir: &Path, program: &str) -> Result<Self, StoreError> {
        let lock = DataDirLock::acquire(dir, program)?;
        let store = Store::open(&db_path(dir))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            store,
            _lock: lock,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}
