//! One app instance per data directory, and how an instance shows itself.
//!
//! A second launch on the same data directory hands its arguments to the running instance
//! and exits; the running one brings its window forward (unless the second launch asked to
//! start minimised, as a login start does). On Linux the instance is found through a D-Bus
//! name derived from the data directory, so two data directories (e.g. a test's and the
//! user's) can each have their own app. On macOS and Windows the single-instance plugin
//! keys on the app identifier alone.

use std::path::Path;

use tauri::{AppHandle, Manager, Runtime};

/// Command-line flag: start with the window hidden (tray only). Written into the login
/// start entry.
pub const MINIMIZED_FLAG: &str = "--minimized";

/// Whether these command-line arguments ask for a minimised start.
pub fn wants_minimized<S: AsRef<str>>(args: &[S]) -> bool {
    args.iter().any(|a| a.as_ref() == MINIMIZED_FLAG)
}

/// The single-instance plugin for `data_dir`. Register it before every other plugin: a
/// second instance must exit before it sets anything else up.
pub fn plugin<R: Runtime>(data_dir: &Path) -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_single_instance::Builder::new()
        .dbus_id(dbus_id(data_dir))
        .callback(|app, args, _cwd| {
            tracing::info!("another launch of CopyDesk was handed over to this instance");
            if !wants_minimized(&args) {
                show_main_window(app);
            }
        })
        .build()
}

/// Shows, unminimises and focuses the main window.
pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let result = window
        .show()
        .and_then(|()| window.unminimize())
        .and_then(|()| window.set_focus());
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not bring the main window forward");
    }
}

/// D-Bus name prefix for `data_dir`: the app identifier and a stable hash of the
/// directory's absolute path (FNV-1a, so the name does not change between builds).
pub fn dbus_id(data_dir: &Path) -> String {
    let absolute = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in absolute.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // A D-Bus name element may not start with a digit, hence the `d`.
    format!("{}.d{hash:016x}", copydesk::api::paths::APP_IDENTIFIER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_data_directory_has_its_own_instance_name() {
        let a = dbus_id(Path::new("/home/u/.local/share/app.copydesk.desktop"));
        let b = dbus_id(Path::new("/tmp/copydesk-test/data"));
        assert_ne!(a, b, "two data directories must not share one instance");
        assert_eq!(
            a,
            dbus_id(Path::new("/home/u/.local/share/app.copydesk.desktop")),
            "the same directory always maps to the same name"
        );
        assert!(
            a.starts_with("app.copydesk.desktop.d")
                && a.len() == "app.copydesk.desktop.d".len() + 16,
            "a valid D-Bus name: identifier, then `d` and 16 hex digits: {a}"
        );
    }

    #[test]
    fn the_minimised_flag_is_recognised_only_as_a_whole_argument() {
        assert!(wants_minimized(&["copydesk-app", "--minimized"]));
        assert!(!wants_minimized(&["copydesk-app"]));
        assert!(!wants_minimized(&["copydesk-app", "--minimized-not"]));
    }
}
