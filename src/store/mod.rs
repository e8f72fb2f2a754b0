//! The local SQLite database: migrations and one module per table.
//!
//! - [`Store`] opens a database safely (inspect read-only first, refuse what is not ours or
//!   is newer, back up, migrate) in WAL mode; tables are reached through typed handles.
//! - [`DataDir`] is what an engine opens: the data directory's lock plus its database.
//! - [`export()`] writes copies, fills and figures as JSON and CSV.
//! - [`group_commit`] makes many relaxed commits durable with one `fsync` outside the
//!   database lock ([`Store::relaxed`]).
//! - [`checkpoint`] copies the WAL back into the database file off the copy path.
//! - [`private`] keeps the data directory 0700 and its files 0600 on Unix.
//!
//! Decimals are stored as TEXT and read back exactly; times are UTC milliseconds. Nothing
//! here stores or logs a secret: the accounts table keeps only a masked key hint.

mod backup;
pub mod checkpoint;
mod data_dir;
mod db;
mod error;
mod export;
pub mod group_commit;
mod lock;
pub mod migrate;
pub mod private;
pub mod table;
pub mod value;

pub use backup::BACKUP_DIR;
pub use data_dir::{db_path, DataDir, DB_FILE};
pub use db::{Store, StoreWrite};
pub use error::StoreError;
pub use export::{export, export_data_dir, ExportReport};
pub use lock::{DataDirLock, LOCK_FILE};
pub use migrate::{Migration, MIGRATIONS};
pub use value::{now_ms, DecText, TimestampMs};
