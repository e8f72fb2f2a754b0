//! Whether this window owns the data directory's engine, or only looks at it.
//!
//! One engine per data directory: when `copydesk run` (or any other engine) already holds
//! the directory's lock, the app does not fail; it says who holds it and offers read-only
//! status. [`open`] is the one place that decides.

use std::path::Path;

use copydesk::api::ApiError;
use copydesk::store::{DataDirLock, StoreError};

/// What the app got when it tried to open the data directory.
#[derive(Debug)]
pub enum EngineSlot {
    /// This process holds the lock (released when the slot is dropped).
    Owned(DataDirLock),
    /// Another engine holds it; `message` says which and what the user can do.
    ReadOnly { message: String },
}

impl EngineSlot {
    /// The sentence to show while read-only; `None` when this app owns the engine.
    pub fn read_only_message(&self) -> Option<&str> {
        match self {
            Self::Owned(_) => None,
            Self::ReadOnly { message } => Some(message),
        }
    }
}

/// Program name recorded in the lock file.
pub const PROGRAM: &str = "copydesk-app";

/// Takes the data directory's lock, or reports who holds it. Other failures (a directory
/// that cannot be created, an unreadable lock file) are errors: the app cannot run on them.
pub fn open(data_dir: &Path) -> Result<EngineSlot, ApiError> {
    match DataDirLock::acquire(data_dir, PROGRAM) {
        Ok(lock) => Ok(EngineSlot::Owned(lock)),
        Err(StoreError::Locked { holder, .. }) => Ok(EngineSlot::ReadOnly {
            message: format!(
                "Another CopyDesk engine is using this data directory: {holder}. \
                 Showing its status read-only; stop it (Ctrl-C in its terminal) and start \
                 CopyDesk again to copy from this window."
            ),
        }),
        Err(e) => Err(ApiError::new(
            copydesk::api::ErrorCode::Storage,
            format!("cannot open the data directory {}: {e}", data_dir.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_directory_opens_read_only_and_names_the_holder() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let _cli = DataDirLock::acquire(tmp.path(), "copydesk run").expect("the CLI's lock");
        let slot = open(tmp.path()).expect("a held directory is not an error");
        let message = slot
            .read_only_message()
            .expect("read-only while the CLI holds it");
        assert!(
            message.contains("copydesk run"),
            "names the holder: {message}"
        );
        assert!(
            message.contains(&std::process::id().to_string()),
            "names the holder's pid: {message}"
        );
    }

    #[test]
    fn a_free_directory_is_owned_until_the_slot_is_dropped() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let slot = open(tmp.path()).expect("opens");
        assert!(
            slot.read_only_message().is_none(),
            "the app owns a free directory"
        );
        assert!(
            DataDirLock::acquire(tmp.path(), "copydesk run").is_err(),
            "the CLI is refused while the app owns the directory"
        );
        drop(slot);
        DataDirLock::acquire(tmp.path(), "copydesk run").expect("free again after the app");
    }
}
