//! CopyDesk desktop shell: builds the Tauri app, wires the tray, the notification plugin
//! and the commands. Logic lives in the `copydesk` core; commands are one-line calls into
//! its `api::App` (see [`commands`]), which is managed state opened in `setup` on Tauri's
//! async runtime. The App's events are forwarded to the web view as `copydesk://event`.

mod commands;
mod tray;
mod window_state;

use copydesk::api::{App, AppOptions};
use tauri::{Emitter, Manager};

/// The Tauri event that carries each `EventDto`.
pub const EVENT: &str = "copydesk://event";

/// What `setup` does after the App is open (the tray and the window in `run`).
pub type AfterSetup<R> = fn(&tauri::AppHandle<R>) -> tauri::Result<()>;

/// Adds the plugins, the App (opened in `setup`) and the commands to `base` (the real
/// builder in `run`, the mock builder in tests).
pub fn builder<R: tauri::Runtime>(
    base: tauri::Builder<R>,
    opts: AppOptions,
    after: AfterSetup<R>,
) -> tauri::Builder<R> {
    base.plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            let core = tauri::async_runtime::block_on(App::open(opts.clone()))
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)?;
            let mut events = core.events();
            app.manage(core);
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    match events.recv().await {
                        Ok(e) => {
                            if let Err(err) = handle.emit(EVENT, &e) {
                                tracing::warn!(error = %err, "event not forwarded to the web view");
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(skipped = n, "web view events lagged");
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
            after(app.handle())?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::accounts_list,
            commands::account_add,
            commands::account_remove,
            commands::key_check,
            commands::paper_status,
            commands::paper_start,
            commands::leaders_list,
            commands::leader_detail,
            commands::settings_validate,
            commands::sizing_preview,
            commands::copy_create,
            commands::copy_pause,
            commands::copy_resume,
            commands::copy_stop,
            commands::copy_modify,
            commands::panic,
            commands::position_close,
            commands::position_unlink,
            commands::status,
            commands::export,
        ])
}

/// Starts the desktop app and blocks until it quits.
pub fn run() {
    let data_dir = copydesk::paths::data_dir(None);
    let _log_guard = copydesk::logging::init(&data_dir)
        .map_err(|e| eprintln!("cannot open the log file in {}: {e}", data_dir.display()))
        .ok();
    let tracker = window_state::Tracker::new(data_dir.clone());
    let mut opts = AppOptions::new(data_dir);
    // Test builds only: the end-to-end test drives the embedded simulator's admin API.
    if cfg!(debug_assertions) {
        opts.paper.admin_token = std::env::var("COPYDESK_TEST_ADMIN_TOKEN").ok();
    }
    let result = builder(tauri::Builder::default(), opts, |app| {
        tray::install(app)?;
        if let Some(window) = app.get_webview_window("main") {
            window_state::restore(&window, &copydesk::paths::data_dir(None));
            window.show()?;
        }
        Ok(())
    })
    .on_window_event(move |window, event| tracker.on_event(window, event))
    .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "the desktop app stopped with an error");
        eprintln!("CopyDesk could not start: {e}");
        std::process::exit(1);
    }
}
