//! Keeps the data directory private to its user: on Unix the directory and every
//! directory in it are 0700 and every file 0600 (the database holds a user's trading
//! history, account names and key hints; the paper simulator's state holds paper keys).
//! [`create_dir`] makes a directory that way; [`secure_tree`] runs at every engine start
//! and tightens whatever is looser (a directory made by an older build, a log file a
//! midnight rotation created with the process umask), logging each change. What cannot be
//! tightened (a file of another user) is refused with the path and the command that fixes
//! it. Elsewhere than Unix these are no-ops: the platform's per-user app-data directory
//! already keeps other users out.

use std::path::Path;

use super::error::StoreError;

/// Creates `dir` (and missing parents) as 0700 on Unix.
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

/// Tightens `dir` and everything under it (symbolic links are left alone). Returns the
/// paths that were looser, with their old mode (an empty directory is tightened silently:
/// it exposed nothing).
pub fn secure_tree(dir: &Path) -> Result<Vec<(std::path::PathBuf, u32)>, StoreError> {
    let mut changed = Vec::new();
    #[cfg(unix)]
    walk(dir, &mut changed)?;
    #[cfg(not(unix))]
    let _ = dir;
    for (path, old) in &changed {
        tracing::warn!(
            path = %path.display(),
            old_mode = format!("{old:o}"),
            "data directory entry was readable by other users; tightened"
        );
    }
    Ok(changed)
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
fn walk(path: &Path, changed: &mut Vec<(std::path::PathBuf, u32)>) -> Result<(), StoreError> {
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
