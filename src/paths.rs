//! Where CopyDesk keeps its data. The app and the CLI share one default directory and one
//! keychain service name, so either can pick up what the other set up.

use std::path::PathBuf;

/// Reverse-DNS identifier of the app; also the keychain service name's prefix.
pub const APP_IDENTIFIER: &str = "app.copydesk.desktop";

/// Environment variable that overrides the data directory (as `--data-dir` does).
pub const DATA_DIR_ENV: &str = "COPYDESK_DATA_DIR";

/// The data directory: an explicit choice wins, then `COPYDESK_DATA_DIR`, then the
/// platform's app-data directory (e.g. `~/.local/share/app.copydesk.desktop` on Linux).
pub fn data_dir(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir;
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::BaseDirs::new()
        .map(|b| b.data_dir().join(APP_IDENTIFIER))
        .unwrap_or_else(|| PathBuf::from(".copydesk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_dir_wins() {
        let dir = data_dir(Some(PathBuf::from("/x/y")));
        assert_eq!(dir, PathBuf::from("/x/y"));
    }
}
