//! The tray icon: its menu (open, pause all, resume all, panic, quit) and its title, which
//! carries the copies' state (Linux trays show no tooltips). What each item does and what
//! the title says are decided in `tray_menu`; this module builds the icon and acts.

use copydesk::api::EventDto;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::broadcast;

use crate::desktop::{self, ShellEventKind};
use crate::engine::Engine;
use crate::tray_menu::{self, TrayAction, TrayState};

const ID: &str = "main";

/// Adds the tray icon with its menu. Without a tray host on the desktop the icon is simply
/// not shown; closing the window then minimises it (see `close.rs`).
pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let menu = Menu::new(app)?;
    for (i, (id, label, _)) in tray_menu::MENU.iter().enumerate() {
        // A separator before panic and before quit.
        if i == 3 || i == 4 {
            menu.append(&PredefinedMenuItem::separator(app)?)?;
        }
        menu.append(&MenuItem::with_id(app, *id, *label, true, None::<&str>)?)?;
    }
    let title = tray_menu::title(&state(app));
    let mut builder = TrayIconBuilder::with_id(ID)
        .title(&title)
        .tooltip(&title)
        .menu(&menu)
        .on_menu_event(|app, event| match tray_menu::action_of(event.id.as_ref()) {
            Some(action) => act(app, action),
            None => tracing::warn!(id = %event.id.as_ref(), "unknown tray menu id"),
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

/// Does what a tray menu item stands for.
pub fn act<R: Runtime>(app: &AppHandle<R>, action: TrayAction) {
    match action {
        TrayAction::Open => crate::instance::show_main_window(app),
        TrayAction::PauseAll | TrayAction::ResumeAll => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let engine = app.state::<Engine>();
                let Ok(core) = engine.app() else { return };
                let told = if action == TrayAction::PauseAll {
                    core.pause_all().await
                } else {
                    core.resume_all().await
                };
                tracing::info!(?action, copies = told.len(), "tray action");
            });
        }
        TrayAction::Panic => {
            crate::instance::show_main_window(app);
            desktop::emit_shell(app, ShellEventKind::PanicRequested, None);
        }
        TrayAction::Quit => desktop::request_quit(app),
    }
}

fn state<R: Runtime>(app: &AppHandle<R>) -> TrayState {
    let Some(engine) = app.try_state::<Engine>() else {
        return TrayState::default();
    };
    match engine.app() {
        Ok(core) => {
            // The status read is local (SQLite), never the venue.
            match tauri::async_runtime::block_on(core.status()) {
                Ok(status) => TrayState::of(&status),
                Err(e) => {
                    tracing::warn!(error = %e.message, "tray: status not readable");
                    TrayState {
                        engine_down: true,
                        ..TrayState::default()
                    }
                }
            }
        }
        Err(_) => TrayState {
            engine_down: true,
            ..TrayState::default()
        },
    }
}

/// Keeps the tray title in step with the copies' state changes.
pub fn follow<R: Runtime>(app: &AppHandle<R>, mut events: broadcast::Receiver<EventDto>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(e) if desktop::changes_state(e.kind) => refresh(&app).await,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

async fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let status = {
        let engine = app.state::<Engine>();
        match engine.app() {
            Ok(core) => core.status().await,
            Err(e) => Err(e),
        }
    };
    let s = match status {
        Ok(status) => TrayState::of(&status),
        Err(_) => TrayState {
            engine_down: true,
            ..TrayState::default()
        },
    };
    let title = tray_menu::title(&s);
    if let Some(tray) = app.tray_by_id(ID) {
        if let Err(e) = tray
            .set_title(Some(&title))
            .and_then(|()| tray.set_tooltip(Some(&title)))
        {
            tracing::warn!(error = %e, "tray title not updated");
        }
    }
}
