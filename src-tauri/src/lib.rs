//! CopyDesk desktop shell: builds the Tauri app, wires the tray, the plugins (one instance
//! per data directory, notifications, start at login), the desktop loops (notifications,
//! sleep inhibitor, tray title: `desktop`) and the commands. Logic lives in
//! the `copydesk` core; commands are one-line calls into its `api::App` (see [`commands`]),
//! opened in `setup` on Tauri's async runtime as the managed [`engine::Engine`] (read-only
//! while another engine holds the data directory). The App's events are forwarded to the
//! web view as `copydesk://event`.

mod autostart;
pub mod close;
mod commands;
pub mod desktop;
pub mod engine;
pub mod instance;
pub mod notify_plan;
pub mod prefs;
pub mod sleep;
mod tray;
pub mod tray_host;
pub mod tray_menu;
#[cfg(target_os = "linux")]
pub mod webkit_env;
mod window_state;

use std::sync::Arc;

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
    autostart::register(base.plugin(tauri_plugin_notification::init()))
        .setup(move |app| {
            let tray_host = tauri::async_runtime::block_on(tray_host::detect());
            app.manage(desktop::Desktop::new(
                Arc::new(prefs::Store::open(&opts.data_dir)),
                tray_host,
            ));
            let engine = tauri::async_runtime::block_on(engine::open(opts.clone()));
            match &engine {
                engine::Engine::Owned(core) => forward_events(app.handle(), core),
                engine::Engine::ReadOnly { message, .. } => {
                    tracing::warn!("{message}");
                    if let Some(window) = app.get_webview_window("main") {
                        window.set_title(engine::READ_ONLY_TITLE)?;
                    }
                }
                engine::Engine::Failed { error, .. } => {
                    tracing::error!(error = %error.message, "the engine could not start");
                }
            }
            app.manage(engine);
            if let Ok(core) = app.state::<engine::Engine>().app() {
                desktop::start(app.handle(), core);
            }
            after(app.handle())?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::engine_state,
            commands::accounts_list,
            commands::account_add,
            commands::account_remove,
            commands::key_check,
            commands::account_set_position_mode,
            commands::paper_status,
            commands::paper_start,
            commands::leaders_list,
            commands::leader_detail,
            commands::leader_add,
            commands::portfolio_find,
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
            commands::copy_pnl,
            commands::activity,
            autostart::autostart_enabled,
            autostart::autostart_set,
            commands::desktop_settings,
            commands::desktop_settings_set,
            commands::desktop_state,
            commands::quit_request,
            commands::quit_preview,
            commands::quit_suspend,
            commands::quit_close_all,
            commands::profit_share,
            commands::profit_share_set,
        ])
}

/// Starts the desktop app and blocks until it quits.
pub fn run() {
    // First, while this is the only thread (it sets environment variables).
    #[cfg(target_os = "linux")]
    let rendering = webkit_env::apply();
    let data_dir = copydesk::paths::data_dir(None);
    let _log_guard = copydesk::logging::init(&data_dir)
        .map_err(|e| eprintln!("cannot open the log file in {}: {e}", data_dir.display()))
        .ok();
    #[cfg(target_os = "linux")]
    tracing::info!(
        rendering = ?rendering.rendering,
        set = ?rendering.set,
        "WebKit rendering"
    );
    let minimized = instance::wants_minimized(&std::env::args().collect::<Vec<_>>());
    // The single-instance plugin goes first: a second launch exits before anything else
    // (the engine lock included) is set up.
    let base = tauri::Builder::default().plugin(instance::plugin(&data_dir));
    let tracker = window_state::Tracker::new(data_dir.clone());
    // Changed below by test (debug) builds only.
    #[allow(unused_mut)]
    let mut opts = AppOptions::new(data_dir);
    // Test builds only: the end-to-end test drives the embedded simulator's admin API.
    #[cfg(debug_assertions)]
    {
        opts.paper.admin_token = std::env::var("COPYDESK_TEST_ADMIN_TOKEN").ok();
    }
    let after: AfterSetup<tauri::Wry> = if minimized {
        install_tray
    } else {
        install_tray_and_show
    };
    let result = builder(base, opts, after)
        .on_window_event(move |window, event| {
            tracker.on_event(window, event);
            desktop::on_window_event(window, event);
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "the desktop app stopped with an error");
        eprintln!("CopyDesk could not start: {e}");
        std::process::exit(1);
    }
}

/// `setup`'s last step for a `--minimized` start: the tray and the window's saved place,
/// the window stays hidden until the tray or the next launch shows it.
fn install_tray(app: &tauri::AppHandle) -> tauri::Result<()> {
    tray::install(app)?;
    if let Some(window) = app.get_webview_window("main") {
        window_state::restore(&window, &copydesk::paths::data_dir(None));
    }
    Ok(())
}

/// `setup`'s last step for a plain start: as [`install_tray`], then the window shows.
fn install_tray_and_show(app: &tauri::AppHandle) -> tauri::Result<()> {
    install_tray(app)?;
    instance::show_main_window(app);
    Ok(())
}

/// Forwards the App's events to the web view as [`EVENT`] until the App closes.
fn forward_events<R: tauri::Runtime>(handle: &tauri::AppHandle<R>, core: &App) {
    let mut events = core.events();
    let handle = handle.clone();
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
}
