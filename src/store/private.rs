//! Keeps the data directory private to its user: on Unix the directory and CopyDesk's
//! folders in it are 0700 and its files 0600 (the database holds a user's trading
//! history, account names and key hints; the paper simulator's state holds paper keys).
//! [`create_dir`] makes a directory that way; [`secure_data_dir`] runs at every engine
//! start and tightens whatever of CopyDesk's is looser (a directory made by an older
//! build, a log file a midnight rotation created with the process umask), logging each
//! change. It touches only CopyDesk's own entries ([`OWN_ENTRIES`]): a data directory that
//! also holds other files (`--data-dir /tmp`, a home directory) is never changed; if other
//! users can read it, the start is refused. What cannot be tightened (an entry of another
//! user) is refused too, with the path and the command that fixes it. Elsewhere than Unix
//! these are no-ops: the platform's per-user app-data directory keeps other users out.

use std::path::{Path, PathBuf};

use super::error::StoreError;

/// What CopyDesk keeps in a data directory (docs/data.md); everything inside these
/// folders is CopyDesk's as well.
pub const OWN_ENTRIES: &[&str] = &[
    "copydesk.sqlite3",
    "copydesk.sqlite3-wal",
    "copydesk.sqlite3-shm",
    "copydesk.sqlite3-journal",
    "engine.lock",
    "backups",
    "logs",
    "exports",
    "paper",
];

/// Creates what is missing of `dir` (and its parents) as 0700 on Unix; an existing
/// directory keeps its mode.
pub fn create_dir(dir: &Path) -> Result<(), StoreError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| StoreError::io(dir, e))
}

/// Tightens the data directory `dir` and CopyDesk's entries in it (symbolic links are left
/// alone). Returns what was looser, with its old mode. A directory that holds anything
/// else and that other users can read is refused, not changed.
pub fn secure_data_dir(dir: &Path) -> Result<Vec<(PathBuf, u32)>, StoreError> {
    let mut changed = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(dir).map_err(|e| StoreError::io(dir, e))?;
        let mode = meta.permissions().mode() & 0o7777;
        let mut foreign = None;
        let mut own = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
            let entry = entry.map_err(|e| StoreError::io(dir, e))?;
            let name = entry.file_name();
            if OWN_ENTRIES.iter().any(|o| name == *o) {
                own.push(entry.path());
            } else if foreign.is_none() {
                foreign = Some(entry.path());
            }
        }
        if mode & 0o077 != 0 {
            if let Some(other) = foreign {
                return Err(StoreError::SharedDataDir {
                    dir: dir.to_path_buf(),
                    mode: format!("{mode:o}"),
                    other,
                });
            }
            tighten(dir, 0o700, mode)?;
            if !own.is_empty() {
                changed.push((dir.to_path_buf(), mode));
            }
        }
        for p in own {
            walk(&p, &mut changed)?;
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    report(&changed);
    Ok(changed)
}

/// Tightens a folder of CopyDesk's own (e.g. `logs/`) and everything in it.
pub fn secure_tree(dir: &Path) -> Result<Vec<(PathBuf, u32)>, StoreError> {
    let mut changed = Vec::new();
    #[cfg(unix)]
    walk(dir, &mut changed)?;
    #[cfg(not(unix))]
    let _ = dir;
    report(&changed);
    Ok(changed)
}

fn report(changed: &[(PathBuf, u32)]) {
    for (path, old) in changed {
        tracing::warn!(
            path = %path.display(),
            old_mode = format!("{old:o}"),
            "data directory entry was readable by other users; tightened"
        );
    }
}

/// Makes one file 0600 on Unix (if it exists).
pub fn secure_file(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_file() && m.permissions().mode() & 0o077 != 0 => {
                tighten(path, 0o600, m.permissions().mode())?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(path, e)),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(unix)]
fn walk(path: &Path, changed: &mut Vec<(PathBuf, u32)>) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path).map_err(|e| StoreError::io(path, e))?;
    let mode = meta.permissions().mode() & 0o7777;
    if meta.is_dir() {
        if mode & 0o077 != 0 {
            tighten(path, 0o700, mode)?;
            // An empty directory (one a caller just made with the umask) exposed nothing.
            let empty = std::fs::read_dir(path)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty {
                changed.push((path.to_path_buf(), mode));
            }
        }
        let entries = std::fs::read_dir(path).map_err(|e| StoreError::io(path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(path, e))?;
            walk(&entry.path(), changed)?;
        }
    } else if meta.is_file() && mode & 0o077 != 0 {
        tighten(path, 0o600, mode)?;
        changed.push((path.to_path_buf(), mode));
    }
    Ok(())
}

#[cfg(unix)]
fn tighten(path: &Path, to: u32, from: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(to)).map_err(|e| {
        StoreError::NotPrivate {
            path: path.to_path_buf(),
            mode: format!("{:o}", from & 0o7777),
            want: format!("{to:o}"),
            detail: e.to_string(),
        }
    })
}
