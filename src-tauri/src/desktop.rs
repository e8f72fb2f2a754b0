//! The desktop side of the shell, as managed state and background loops: desktop
//! notifications fed by the App's events (grouped by `notify_plan`), the sleep inhibitor
//! and wake reconciliation (`sleep`), the tray title, and what closing the window and
//! quitting do (`close`). The decisions live in those pure modules; this one wires them to
//! Tauri (the notification plugin, windows, the `copydesk://shell` event).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use copydesk::api::{ApiError, EventDto, EventKind, UnguardedDto};
use copydesk::exchange::Clock;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, Window, WindowEvent};
use tokio::sync::{broadcast, watch};

use crate::close::{self, CloseOutcome, QuitOutcome};
use crate::engine::Engine;
use crate::notify_plan::{self, Planner};
use crate::prefs::{self, DesktopSettingsChange, DesktopSettingsDto};
use crate::sleep::InhibitState;

/// The Tauri event that tells the web view what the shell did or asks.
pub const SHELL_EVENT: &str = "copydesk://shell";

/// What the shell tells the web view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShellEventKind {
    /// Quit was asked with copies running: open the quit dialog.
    QuitRequested,
    /// Panic from the tray: open the panic confirmation.
    PanicRequested,
    /// The window minimised instead of closing (no tray host); `message` says why.
    Minimised,
    /// The machine woke; every copy is reconciling now.
    Woke,
    /// The sleep inhibitor could not be taken; `message` says why.
    InhibitorProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShellEventDto {
    pub kind: ShellEventKind,
    pub message: Option<String>,
}

/// What the Settings screen shows about the desktop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DesktopStateDto {
    /// A StatusNotifier host shows the tray icon (closing hides into it).
    pub tray_host: bool,
    pub inhibitor: InhibitState,
}

/// What the quit dialog shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuitPreviewDto {
    /// Copies that would stop copying until the next launch.
    pub live_copies: usize,
    /// Positions no confirmed exchange-side stop guards, with why.
    pub unguarded: Vec<UnguardedDto>,
}

/// The shell's managed state.
#[derive(Debug)]
pub struct Desktop {
    pub prefs: Arc<prefs::Store>,
    pub tray_host: bool,
    inhibit: watch::Sender<InhibitState>,
    prefs_changed: watch::Sender<u64>,
    quitting: AtomicBool,
}

impl Desktop {
    pub fn new(prefs: Arc<prefs::Store>, tray_host: bool) -> Desktop {
        Desktop {
            prefs,
            tray_host,
            inhibit: watch::channel(InhibitState::default()).0,
            prefs_changed: watch::channel(0).0,
            quitting: AtomicBool::new(false),
        }
    }

    pub fn settings(&self) -> Result<DesktopSettingsDto, ApiError> {
        Ok(self.prefs.get()?.dto())
    }

    pub fn change_settings(
        &self,
        change: &DesktopSettingsChange,
    ) -> Result<DesktopSettingsDto, ApiError> {
        let next = self.prefs.change(change)?;
        self.prefs_changed.send_modify(|n| *n += 1);
        Ok(next.dto())
    }

    pub fn state(&self) -> DesktopStateDto {
        DesktopStateDto {
            tray_host: self.tray_host,
            inhibitor: self.inhibit.borrow().clone(),
        }
    }
}

/// Shows one desktop notification through the notification plugin (D-Bus
/// `org.freedesktop.Notifications` on Linux). A failure is logged: there may be no daemon.
pub fn show<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str) {
    use tauri_plugin_notification::NotificationExt;
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "desktop notification not shown");
    }
}

/// Tells the web view.
pub fn emit_shell<R: Runtime>(app: &AppHandle<R>, kind: ShellEventKind, message: Option<String>) {
    if let Err(e) = app.emit(SHELL_EVENT, ShellEventDto { kind, message }) {
        tracing::warn!(error = %e, "shell event not sent to the web view");
    }
}

fn live_copies<R: Runtime>(app: &AppHandle<R>) -> usize {
    app.try_state::<Engine>()
        .and_then(|e| e.app().ok().map(|a| a.live_copies()))
        .unwrap_or(0)
}

/// Turns the App's events into desktop notifications until the App closes: each event
/// goes through the planner at once, and the planner's deadlines (burst windows, disconnect
/// grace) are waited for on `clock`. `sink` shows one notification.
pub async fn run_notifier(
    mut events: broadcast::Receiver<EventDto>,
    prefs: Arc<prefs::Store>,
    clock: Arc<dyn Clock>,
    sink: impl Fn(&notify_plan::Desktop),
) {
    let mut planner = Planner::new();
    loop {
        // Made now, not when first polled: the sleep counts from this moment.
        let sleep = planner.next_deadline().map(|d| {
            clock.sleep(Duration::from_millis(
                u64::try_from(d - clock.now_ms()).unwrap_or(0),
            ))
        });
        let deadline = async {
            match sleep {
                Some(s) => s.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = events.recv() => match ev {
                Ok(e) => {
                    for d in planner.on_event(clock.now_ms(), &e, &prefs.effective()) {
                        sink(&d);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "desktop notifications lagged");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            () = deadline => {}
        }
        for d in planner.due(clock.now_ms()) {
            sink(&d);
        }
    }
}

/// The copies as the sleep loop sees them.
pub trait Copies: Send + Sync + 'static {
    /// Copies whose supervisors run.
    fn live(&self) -> usize;
    /// Reconciles every copy now; how many were told.
    fn reconcile_all(&self) -> impl std::future::Future<Output = usize> + Send;
}

/// What the sleep loop tells the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SleepNews {
    /// The inhibitor could not be taken, and why.
    Problem(String),
    /// The machine woke; this many copies are reconciling.
    Woke(usize),
}

/// Keeps the inhibitor in step with the copies and the setting, and reconciles on wake.
/// Re-checks on every App event, on a settings change and every 2 s (a copy's supervisor
/// ends just after its `stopped` event).
#[cfg(target_os = "linux")]
pub async fn run_sleep<C: Copies>(
    copies: C,
    mut inhibitor: crate::sleep::Inhibitor,
    prefs: Arc<prefs::Store>,
    mut prefs_changed: watch::Receiver<u64>,
    mut events: broadcast::Receiver<EventDto>,
    state: watch::Sender<InhibitState>,
    tell: impl Fn(SleepNews),
) {
    use futures_util::StreamExt;
    let mut signals = match inhibitor.connection() {
        Some(c) => match crate::sleep::sleep_signals(c).await {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "not watching logind's sleep signals");
                None
            }
        },
        None => None,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        let enabled = prefs.effective().inhibit_sleep;
        if let Some(problem) = inhibitor.update(copies.live(), enabled).await {
            tell(SleepNews::Problem(problem));
        }
        state.send_replace(inhibitor.state());
        let signal = async {
            match signals.as_mut() {
                Some(s) => s.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tick.tick() => {}
            r = prefs_changed.changed() => if r.is_err() { break },
            ev = events.recv() => if let Err(broadcast::error::RecvError::Closed) = ev { break },
            m = signal => match m {
                Some(m) => {
                    if crate::sleep::going_to_sleep(&m) == Some(false) {
                        let n = copies.reconcile_all().await;
                        tell(SleepNews::Woke(n));
                    }
                }
                None => signals = None,
            },
        }
    }
}

/// The running App as the sleep loop's [`Copies`].
#[derive(Debug, Clone)]
pub struct AppCopies<R: Runtime>(pub AppHandle<R>);

impl<R: Runtime> Copies for AppCopies<R> {
    fn live(&self) -> usize {
        live_copies(&self.0)
    }

    async fn reconcile_all(&self) -> usize {
        match self.0.state::<Engine>().app() {
            Ok(app) => app.reconcile_all(crate::sleep::WAKE_REASON).await.len(),
            Err(_) => 0,
        }
    }
}

/// Starts the desktop loops for a running App: notifications, the tray title, the sleep
/// inhibitor.
pub fn start<R: Runtime>(app: &AppHandle<R>, core: &copydesk::api::App) {
    let desktop = app.state::<Desktop>();
    let prefs = desktop.prefs.clone();
    let handle = app.clone();
    let events = core.events();
    tauri::async_runtime::spawn(run_notifier(
        events,
        prefs.clone(),
        Arc::new(copydesk::exchange::SystemClock),
        move |d| show(&handle, &d.title, &d.body),
    ));
    crate::tray::follow(app, core.events());
    #[cfg(target_os = "linux")]
    {
        let handle = app.clone();
        let events = core.events();
        let state = desktop.inhibit.clone();
        let changed = desktop.prefs_changed.subscribe();
        tauri::async_runtime::spawn(async move {
            let inhibitor = crate::sleep::Inhibitor::system().await;
            let tell_app = handle.clone();
            run_sleep(
                AppCopies(handle),
                inhibitor,
                prefs,
                changed,
                events,
                state,
                move |news| tell_sleep(&tell_app, news),
            )
            .await;
        });
    }
}

fn tell_sleep<R: Runtime>(app: &AppHandle<R>, news: SleepNews) {
    match news {
        SleepNews::Problem(why) => {
            let body = format!(
                "Your computer may sleep while copies run, and copying stops while it \
                 sleeps: {why}. Exchange-side stops still guard the positions."
            );
            show(app, "CopyDesk cannot keep the computer awake", &body);
            emit_shell(app, ShellEventKind::InhibitorProblem, Some(body));
        }
        SleepNews::Woke(n) => {
            let body = format!(
                "Checking {} against the exchange now: anything that happened while the \
                 computer slept is caught up.",
                if n == 1 {
                    "your copy".to_owned()
                } else {
                    format!("your {n} copies")
                }
            );
            show(app, "CopyDesk is back from sleep", &body);
            emit_shell(app, ShellEventKind::Woke, Some(body));
        }
    }
}

/// The main window's close request (see [`close::on_close`]).
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    if window.label() != "main" {
        return;
    }
    let app = window.app_handle();
    let Some(desktop) = app.try_state::<Desktop>() else {
        return;
    };
    if desktop.quitting.load(Ordering::SeqCst) {
        return;
    }
    let live = live_copies(app);
    let note = !desktop.prefs.effective().tray_note_shown;
    match close::on_close(live, desktop.tray_host, note) {
        CloseOutcome::Exit => {}
        CloseOutcome::HideToTray { note } => {
            api.prevent_close();
            if let Err(e) = window.hide() {
                tracing::warn!(error = %e, "could not hide the window");
            }
            if note && desktop.prefs.first_tray_note() {
                let (title, body) = close::tray_note(live);
                show(app, &title, &body);
            }
        }
        CloseOutcome::Minimise { message } => {
            api.prevent_close();
            if let Err(e) = window.minimize() {
                tracing::warn!(error = %e, "could not minimise the window");
            }
            tracing::info!("{message}");
            emit_shell(app, ShellEventKind::Minimised, Some(message));
        }
    }
}

/// Quit from the tray or the window: at once when nothing runs, else the window asks.
pub fn request_quit<R: Runtime>(app: &AppHandle<R>) {
    match close::on_quit(live_copies(app)) {
        QuitOutcome::Exit => exit(app),
        QuitOutcome::Ask => {
            crate::instance::show_main_window(app);
            emit_shell(app, ShellEventKind::QuitRequested, None);
        }
    }
}

/// Quits now. Copies still running stay `running` in the database and resume at the next
/// launch (recovery finishes any order in flight from the journal).
pub fn exit<R: Runtime>(app: &AppHandle<R>) {
    if let Some(d) = app.try_state::<Desktop>() {
        d.quitting.store(true, Ordering::SeqCst);
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Some(engine) = app.try_state::<Engine>() {
            if let Ok(core) = engine.app() {
                if let Err(e) = core.save_paper().await {
                    tracing::error!(error = %e.message, "paper state not saved at quit");
                }
            }
        }
        app.exit(0);
    });
}

/// What the quit dialog shows.
pub async fn quit_preview<R: Runtime>(app: &AppHandle<R>) -> Result<QuitPreviewDto, ApiError> {
    let engine = app.state::<Engine>();
    let core = engine.app()?;
    Ok(QuitPreviewDto {
        live_copies: core.live_copies(),
        unguarded: core.unguarded().await?,
    })
}

/// How long "close everything" waits for the copies to close their positions and stop.
pub const CLOSE_ALL_WITHIN: Duration = Duration::from_secs(60);

/// Stops every copy with close-all, waits until none runs, then quits.
pub async fn quit_close_all<R: Runtime>(app: &AppHandle<R>) -> Result<(), ApiError> {
    {
        let engine = app.state::<Engine>();
        engine.app()?.close_everything(CLOSE_ALL_WITHIN).await?;
    }
    exit(app);
    Ok(())
}

/// Whether an event can change the tray title.
pub fn changes_state(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Started
            | EventKind::Watching
            | EventKind::Paused
            | EventKind::Resumed
            | EventKind::Held
            | EventKind::Released
            | EventKind::Stopping
            | EventKind::Stopped
            | EventKind::Unprotected
            | EventKind::Protected
    )
}
