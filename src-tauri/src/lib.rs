//! CopyDesk desktop shell: builds the Tauri app, wires the tray, the plugins (one instance
//! per data directory, notifications, start at login) and the commands. Logic lives in
//! the `copydesk` core; commands are one-line calls into its `api` facade (see
//! [`commands`]).

mod autostart;
mod commands;
pub mod engine;
pub mod instance;
mod tray;

use tauri::Manager;

/// State shared with every command.
#[derive(Debug)]
pub struct AppState {
    pub data_dir: std::path::PathBuf,
}

/// Adds the plugins, state and commands to `base` (the real builder in `run`, the mock
/// builder in tests).
pub fn builder<R: tauri::Runtime>(
    base: tauri::Builder<R>,
    data_dir: std::path::PathBuf,
) -> tauri::Builder<R> {
    autostart::register(base.plugin(tauri_plugin_notification::init()))
        .manage(AppState { data_dir })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            autostart::autostart_enabled,
            autostart::autostart_set
        ])
}

/// Starts the desktop app and blocks until it quits.
pub fn run() {
    let data_dir = copydesk::api::paths::data_dir(None);
    let _log_guard = copydesk::logging::init(&data_dir)
        .map_err(|e| eprintln!("cannot open the log file in {}: {e}", data_dir.display()))
        .ok();
    let minimized = instance::wants_minimized(&std::env::args().collect::<Vec<_>>());
    // The single-instance plugin goes first: a second launch exits before anything else
    // (the engine lock included) is set up.
    let base = tauri::Builder::default().plugin(instance::plugin(&data_dir));
    let engine_dir = data_dir.clone();
    let result = builder(base, data_dir)
        .setup(move |app| {
            let slot = engine::open(&engine_dir)?;
            if let Some(message) = slot.read_only_message() {
                tracing::warn!("{message}");
                if let Some(window) = app.get_webview_window("main") {
                    window.set_title("CopyDesk (read-only: another engine is running)")?;
                }
            }
            app.manage(slot);
            tray::install(app.handle())?;
            if !minimized {
                instance::show_main_window(app.handle());
            }
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "the desktop app stopped with an error");
        eprintln!("CopyDesk could not start: {e}");
        std::process::exit(1);
    }
}
