//! Everything that can go wrong in the store, each variant saying what happened to which
//! file and what the user can do. No variant carries row contents, so no message can carry
//! a secret (the database holds none anyway).

use std::path::PathBuf;

/// Errors of the local database and data directory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use {path}: {source}; check that the directory exists and is writable, or pass another --data-dir")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} is not a SQLite database, so it is not a CopyDesk database; it was left untouched: move it away or pass another --data-dir")]
    NotSqlite { path: PathBuf },

    #[error("{path} is damaged ({detail}); it was left untouched: restore a copy from the `backups` folder next to it, or move it away to start afresh")]
    Corrupt { path: PathBuf, detail: String },

    #[error("{path} is a SQLite database of another program (it has tables but no CopyDesk schema); it was left untouched: pass another --data-dir")]
    Foreign { path: PathBuf },

    #[error("{path} has schema version {found}, newer than this CopyDesk understands (up to {supported}); it was left untouched: run the newer CopyDesk that wrote it")]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error("there is no CopyDesk database at {path}; check --data-dir (or COPYDESK_DATA_DIR), or start the app or `copydesk run` once to create it")]
    NoDatabase { path: PathBuf },

    #[error("{path} has schema version {found} but this command needs version {expected}; start the app or `copydesk run` once to upgrade it")]
    VersionMismatch {
        path: PathBuf,
        found: u32,
        expected: u32,
    },

    #[error("backing up {path} before upgrading it failed: {detail}; nothing was changed: free some disk space and try again")]
    Backup { path: PathBuf, detail: String },

    #[error("upgrading the database to version {version} ({name}) failed: {source}; it was rolled back and a backup is in {backup}")]
    Migration {
        version: u32,
        name: &'static str,
        backup: String,
        #[source]
        source: rusqlite::Error,
    },

    #[error("another CopyDesk engine is using {dir}: {holder}; stop it first, or pass another --data-dir")]
    Locked { dir: PathBuf, holder: String },

    #[error("{what} `{key}` was not found")]
    NotFound { what: &'static str, key: String },

    #[error("{what} `{key}` already exists")]
    Conflict { what: &'static str, key: String },

    #[error("{what} `{key}` is {from}; it cannot become {to}")]
    InvalidTransition {
        what: &'static str,
        key: String,
        from: String,
        to: &'static str,
    },

    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },

    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
