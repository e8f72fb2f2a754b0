//! The sleep inhibitor and wake handling against a stub logind on a private bus: the
//! app's sleep loop (`desktop::run_sleep`) takes `Inhibit("sleep", …, "block")` while
//! copies run, releases it (logind sees the descriptor close) when none runs or the user
//! turns it off, reconciles every copy when logind signals `PrepareForSleep(false)`, and
//! tells the user once when the inhibitor cannot be taken. Also the tray-host detection
//! against a stub StatusNotifier watcher.

mod support;

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use copydesk::api::{EventDto, EventKind, EventLevel};
use copydesk_app_lib::desktop::{self, Copies, SleepNews};
use copydesk_app_lib::sleep::{self, InhibitState, Inhibitor};
use copydesk_app_lib::{prefs, tray_host};
use support::{until, PrivateBus};
use tokio::sync::{broadcast, watch};

/// One `Inhibit` call as the stub saw it, and whether its lock was released since.
#[derive(Debug, Clone)]
struct Lock {
    args: (String, String, String, String),
    released: Arc<std::sync::atomic::AtomicBool>,
}

#[derive(Debug, Clone, Default)]
struct Logind {
    locks: Arc<Mutex<Vec<Lock>>>,
}

#[zbus::interface(name = "org.freedesktop.login1.Manager")]
impl Logind {
    fn inhibit(&self, what: String, who: String, why: String, mode: String) -> zbus::wire::OwnedFd {
        // logind keeps one end and hands out the other: the lock lasts until every copy of
        // the handed-out end is closed, which the kept end sees as end of file.
        let (kept, given) = std::os::unix::net::UnixStream::pair().expect("socket pair");
        let released = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = released.clone();
        std::thread::spawn(move || {
            let mut kept = kept;
            let mut buf = [0u8; 1];
            while matches!(kept.read(&mut buf), Ok(n) if n > 0) {}
            flag.store(true, Ordering::SeqCst);
        });
        self.locks.lock().expect("lock").push(Lock {
            args: (what, who, why, mode),
            released,
        });
        zbus::wire::OwnedFd::from(std::os::fd::OwnedFd::from(given))
    }
}

#[derive(Debug, Clone, Default)]
struct FakeCopies {
    live: Arc<AtomicUsize>,
    reconciled: Arc<AtomicUsize>,
}

impl Copies for FakeCopies {
    fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    async fn reconcile_all(&self) -> usize {
        self.reconciled.fetch_add(1, Ordering::SeqCst);
        self.live()
    }
}

fn nudge(tx: &broadcast::Sender<EventDto>) {
    let _ = tx.send(EventDto {
        ts_ms: 0,
        copy: Some("alpha".into()),
        level: EventLevel::Info,
        kind: EventKind::Watching,
        notice: None,
        message: "state changed".into(),
        detail: None,
    });
}

struct Loop {
    copies: FakeCopies,
    events: broadcast::Sender<EventDto>,
    state: watch::Receiver<InhibitState>,
    news: Arc<Mutex<Vec<SleepNews>>>,
    store: Arc<prefs::Store>,
    changed: watch::Sender<u64>,
    _dir: tempfile::TempDir,
}

fn start(inhibitor: Inhibitor) -> Loop {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(prefs::Store::open(dir.path()));
    let copies = FakeCopies::default();
    let (events, rx) = broadcast::channel(16);
    let (state_tx, state) = watch::channel(InhibitState::default());
    let (changed, changed_rx) = watch::channel(0);
    let news = Arc::new(Mutex::new(Vec::new()));
    let told = news.clone();
    tokio::spawn(desktop::run_sleep(
        copies.clone(),
        inhibitor,
        store.clone(),
        changed_rx,
        rx,
        state_tx,
        move |n| told.lock().expect("lock").push(n),
    ));
    Loop {
        copies,
        events,
        state,
        news,
        store,
        changed,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inhibitor_is_held_while_copies_run_released_after_and_a_wake_reconciles() {
    let bus = PrivateBus::start();
    let logind = Logind::default();
    let _server = zbus::connection::Builder::address(bus.address.as_str())
        .serve_at(sleep::LOGIND_PATH, logind.clone())
        .name(sleep::LOGIND)
        .build()
        .await
        .expect("the stub logind is on the bus");
    let l = start(Inhibitor::on(bus.connect().await));
    let locks = || logind.locks.lock().expect("lock").clone();

    // No copy runs: nothing is asked of logind.
    until("the loop reports its first state", || {
        l.state.borrow().enabled
    })
    .await;
    assert!(locks().is_empty(), "no inhibitor without a running copy");

    // Two copies run: one block lock on sleep, named for the user.
    l.copies.live.store(2, Ordering::SeqCst);
    nudge(&l.events);
    until("logind is asked for an inhibitor", || locks().len() == 1).await;
    until("the state says held", || l.state.borrow().held).await;
    let lock = locks()[0].clone();
    assert_eq!(
        lock.args,
        (
            "sleep".to_owned(),
            "CopyDesk".to_owned(),
            "2 copies are running: sleep would stop copying trades".to_owned(),
            "block".to_owned()
        )
    );
    assert!(
        !lock.released.load(Ordering::SeqCst),
        "held while copies run"
    );
    nudge(&l.events);
    tokio::task::yield_now().await;
    assert_eq!(locks().len(), 1, "taken once, not again on each event");

    // Woken from sleep: every copy reconciles at once and the user is told.
    _server
        .emit_signal(
            None::<&str>,
            sleep::LOGIND_PATH,
            sleep::LOGIND_MANAGER,
            "PrepareForSleep",
            &(false,),
        )
        .await
        .expect("signal sent");
    until("the copies reconcile after the wake", || {
        l.copies.reconciled.load(Ordering::SeqCst) >= 1
    })
    .await;
    until("the user is told", || {
        l.news.lock().expect("lock").contains(&SleepNews::Woke(2))
    })
    .await;

    // No copy runs any more: the lock is released.
    l.copies.live.store(0, Ordering::SeqCst);
    nudge(&l.events);
    until("logind sees the lock released", || {
        lock.released.load(Ordering::SeqCst)
    })
    .await;
    until("the state says released", || !l.state.borrow().held).await;

    // Copies again, but the user turned the inhibitor off: none is taken.
    l.store
        .change(&prefs::DesktopSettingsChange {
            notifications: Default::default(),
            inhibit_sleep: Some(false),
        })
        .expect("stored");
    l.changed.send_modify(|n| *n += 1);
    l.copies.live.store(1, Ordering::SeqCst);
    nudge(&l.events);
    until("the state shows the setting off", || {
        !l.state.borrow().enabled
    })
    .await;
    nudge(&l.events);
    tokio::task::yield_now().await;
    assert_eq!(locks().len(), 1, "no inhibitor while the setting is off");
    assert!(!l.state.borrow().held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_logind_the_user_is_told_once_and_settings_show_why() {
    let bus = PrivateBus::start();
    let l = start(Inhibitor::on(bus.connect().await));
    l.copies.live.store(1, Ordering::SeqCst);
    nudge(&l.events);
    until("the problem is in the state", || {
        l.state.borrow().problem.is_some()
    })
    .await;
    let state = l.state.borrow().clone();
    assert!(state.wanted && !state.held, "{state:?}");
    let problem = state.problem.expect("a problem");
    assert!(
        problem.starts_with("logind did not grant the sleep inhibitor"),
        "{problem}"
    );
    // It keeps trying (each event), but tells the user only once.
    for _ in 0..3 {
        nudge(&l.events);
        tokio::task::yield_now().await;
    }
    let news = l.news.lock().expect("lock").clone();
    assert_eq!(news, vec![SleepNews::Problem(problem)], "told once");

    // No system bus at all: also a problem with its reason.
    std::env::set_var(
        "DBUS_SYSTEM_BUS_ADDRESS",
        "unix:path=/nonexistent/copydesk-test",
    );
    let mut none = Inhibitor::system().await;
    let told = none.update(1, true).await.expect("a new problem");
    assert!(told.starts_with("no system bus"), "{told}");
    assert!(
        none.update(1, true).await.is_none(),
        "the same problem is told once"
    );
    assert!(none.update(0, true).await.is_none());
    assert_eq!(
        none.state().problem,
        None,
        "no problem while nothing is wanted"
    );
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug)]
struct Watcher(Arc<std::sync::atomic::AtomicBool>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tray_host_is_found_only_when_a_watcher_says_one_is_registered() {
    let bus = PrivateBus::start();
    let client = bus.connect().await;
    assert!(
        !tray_host::has_host(&client).await,
        "no watcher on the bus (as under Xvfb): no tray host"
    );
    let registered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _watcher = zbus::connection::Builder::address(bus.address.as_str())
        .serve_at("/StatusNotifierWatcher", Watcher(registered.clone()))
        .name(tray_host::WATCHER)
        .build()
        .await
        .expect("a stub watcher");
    assert!(
        !tray_host::has_host(&client).await,
        "a watcher with no host registered: no tray host"
    );
    registered.store(true, Ordering::SeqCst);
    assert!(
        tray_host::has_host(&client).await,
        "a registered host is found"
    );
}

/// The real engine as the sleep loop's copies.
struct Real(Arc<copydesk::api::App>);

impl Copies for Real {
    fn live(&self) -> usize {
        self.0.live_copies()
    }

    async fn reconcile_all(&self) -> usize {
        self.0.reconcile_all(sleep::WAKE_REASON).await.len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_real_paper_copy_the_inhibitor_follows_it_and_a_wake_reconciles_it() {
    use copydesk::api::{settings, App, AppOptions, CopyModeDto, NewCopyRequest, StopActionDto};
    let bus = PrivateBus::start();
    let logind = Logind::default();
    let server = zbus::connection::Builder::address(bus.address.as_str())
        .serve_at(sleep::LOGIND_PATH, logind.clone())
        .name(sleep::LOGIND)
        .build()
        .await
        .expect("the stub logind is on the bus");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = AppOptions::new(dir.path());
    // Paper keys live in memory only: this keychain service is never written.
    opts.keychain = copydesk::secrets::Keychain::with_service(format!(
        "{}.sleep-test.{}",
        copydesk::paths::APP_IDENTIFIER,
        std::process::id()
    ));
    let app = Arc::new(App::open(opts).await.expect("a paper app opens"));
    let mut events = app.events();
    let prefs_dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(prefs::Store::open(prefs_dir.path()));
    let (state_tx, state) = watch::channel(InhibitState::default());
    let (_changed, changed_rx) = watch::channel(0);
    let news = Arc::new(Mutex::new(Vec::new()));
    let told = news.clone();
    tokio::spawn(desktop::run_sleep(
        Real(app.clone()),
        Inhibitor::on(bus.connect().await),
        store,
        changed_rx,
        app.events(),
        state_tx,
        move |n| told.lock().expect("lock").push(n),
    ));
    let locks = || logind.locks.lock().expect("lock").clone();
    until("the loop reports", || state.borrow().enabled).await;
    assert!(locks().is_empty(), "no copy runs yet");

    let mut s = settings::to_dto(&copydesk::domain::CopySettings {
        mode: copydesk::domain::CopyMode::FixedRatio,
        investment: None,
        amount_per_order: None,
        ratio: Some("0.5".parse().expect("ratio")),
        copy_ongoing_positions: false,
        preset: copydesk::domain::Preset::None,
        start: Default::default(),
        risk: Default::default(),
    });
    s.mode = CopyModeDto::FixedRatio;
    app.create_copy(NewCopyRequest {
        name: "sleepy".into(),
        leader: "demo-swing".into(),
        follower: "paper".into(),
        settings: s,
    })
    .await
    .expect("a paper copy starts");
    until("the inhibitor is held while the copy runs", || {
        state.borrow().held && locks().len() == 1
    })
    .await;
    assert_eq!(
        locks()[0].args.2,
        "1 copy is running: sleep would stop copying trades"
    );

    server
        .emit_signal(
            None::<&str>,
            sleep::LOGIND_PATH,
            sleep::LOGIND_MANAGER,
            "PrepareForSleep",
            &(false,),
        )
        .await
        .expect("signal sent");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let e = tokio::time::timeout_at(deadline.into(), events.recv())
            .await
            .expect("the copy reconciles after the wake within 60 s")
            .expect("events flow");
        if e.kind == EventKind::Reconciled && e.message.contains(sleep::WAKE_REASON) {
            break;
        }
    }
    until("the user is told", || {
        news.lock().expect("lock").contains(&SleepNews::Woke(1))
    })
    .await;

    app.stop("sleepy", StopActionDto::Keep)
        .await
        .expect("the stop is accepted");
    let lock = locks()[0].clone();
    until("the inhibitor is released once the copy stopped", || {
        lock.released.load(Ordering::SeqCst) && !state.borrow().held
    })
    .await;
    // The sleep loop may still hold the App; then the process ends with the test.
    if let Ok(app) = Arc::try_unwrap(app) {
        app.shutdown().await;
    }
}
