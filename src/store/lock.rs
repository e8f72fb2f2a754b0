//! One engine per data directory. The lock is an OS advisory lock on `engine.lock` in the
//! data directory, so it dies with its process: a crashed holder never blocks the next
//! start. The file's text says who holds it (pid, program, start time) so a refused
//! second engine can name the holder.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::error::StoreError;

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "engine.lock";

/// Held while an engine (the app or the CLI) uses a data directory; dropping it releases
/// the lock.
#[derive(Debug)]
pub struct DataDirLock {
    // Kept open: closing the handle would release the OS lock.
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// Takes the lock of `dir` for `program` (e.g. `copydesk-app`, `copydesk run`), or
    /// says who holds it. Creates the directory if needed (0700 on Unix) and tightens what
    /// in it other users could read, before taking the lock.
    pub fn acquire(dir: &Path, program: &str) -> Result<Self, StoreError> {
        // Private before anything is written into it (docs/data.md, "Permissions").
        super::private::create_dir(dir)?;
        super::private::secure_data_dir(dir)?;
        let path = dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(|e| StoreError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    dir: dir.to_path_buf(),
                    holder: read_holder(&mut file),
                })
            }
            Err(TryLockError::Error(e)) => return Err(StoreError::io(&path, e)),
        }
        let holder = format!(
            "pid={}\nprogram={}\nstarted={}\n",
            std::process::id(),
            program,
            now_rfc3339()
        );
        write_holder(&mut file, &holder).map_err(|e| StoreError::io(&path, e))?;
        tracing::debug!(lock = %path.display(), "data directory locked");
        Ok(Self { _file: file, path })
    }

    /// Path of the lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn write_holder(file: &mut File, text: &str) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// The holder as a phrase, e.g. `pid 4242 (copydesk run) since 2026-01-01T10:00:00Z`.
fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    // Some platforms forbid reading a region another handle locked; the refusal then
    // cannot name the holder, but it still refuses.
    if file.read_to_string(&mut text).is_err() {
        return "a process that could not be identified".into();
    }
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or("?")
            .to_owned()
    };
    format!(
        "pid {} ({}) since {}",
        field("pid"),
        field("program"),
        field("started")
    )
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "an unknown time".into())
}
