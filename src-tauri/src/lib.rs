//! CopyDesk desktop shell: builds the Tauri app, wires the tray, the notification plugin
//! and the commands. Logic lives in the `copydesk` core; commands are one-line calls into
//! its `api` facade (see [`commands`]).

mod commands;
mod tray;
mod window_state;

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
    base.plugin(tauri_plugin_notification::init())
        .manage(AppState { data_dir })
        .invoke_handler(tauri::generate_handler![commands::app_info])
}

/// Starts the desktop app and blocks until it quits.
pub fn run() {
    let data_dir = copydesk::api::paths::data_dir(None);
    let _log_guard = copydesk::logging::init(&data_dir)
        .map_err(|e| eprintln!("cannot open the log file in {}: {e}", data_dir.display()))
        .ok();
    let window_dir = data_dir.clone();
    let tracker = window_state::Tracker::new(data_dir.clone());
    let result = builder(tauri::Builder::default(), data_dir)
        .on_window_event(move |window, event| tracker.on_event(window, event))
        .setup(move |app| {
            tray::install(app.handle())?;
            if let Some(window) = app.get_webview_window("main") {
                window_state::restore(&window, &window_dir);
                window.show()?;
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
