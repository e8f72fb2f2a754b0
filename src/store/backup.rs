//! Online backups with SQLite's backup API: a consistent copy taken while the database is
//! open, written before every migration so an upgrade can always be undone by hand.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::Backup;
use rusqlite::Connection;

use super::error::StoreError;
use super::value::now_ms;

/// Folder, next to the database file, that holds the backups.
pub const BACKUP_DIR: &str = "backups";

/// Copies the open database `conn` (whose file is `db_path`) to
/// `backups/<file stem>-v<version>-<ms>.sqlite3` next to it and returns that path.
pub(crate) fn before_migration(
    conn: &Connection,
    db_path: &Path,
    version: u32,
) -> Result<PathBuf, StoreError> {
    let dir = db_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(BACKUP_DIR);
    super::private::create_dir(&dir).map_err(|e| StoreError::Backup {
        path: db_path.to_path_buf(),
        detail: format!("cannot create {}: {e}", dir.display()),
    })?;
    let stem = db_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("copydesk");
    let dest = dir.join(format!("{stem}-v{version}-{}.sqlite3", now_ms()));
    copy_to(conn, &dest).map_err(|e| StoreError::Backup {
        path: db_path.to_path_buf(),
        detail: e.to_string(),
    })?;
    super::private::secure_file(&dest)?;
    tracing::info!(backup = %dest.display(), version, "database backed up before upgrade");
    Ok(dest)
}

/// Writes a consistent copy of `conn` to `dest` (created or replaced).
pub(crate) fn copy_to(conn: &Connection, dest: &Path) -> rusqlite::Result<()> {
    let mut out = Connection::open(dest)?;
    let backup = Backup::new(conn, &mut out)?;
    backup.run_to_completion(1024, Duration::ZERO, None)
}
