//! Desktop notifications end to end below the window: engine events go through the app's
//! notifier loop (`desktop::run_notifier`: grouping, wording, settings) and the
//! notification plugin to a stub `org.freedesktop.Notifications` on a private session bus,
//! which records each `Notify` call. The test asserts the title and body of a fill, of a
//! burst of fills, and of a stop, as the desktop received them. Own test binary: it points
//! `DBUS_SESSION_BUS_ADDRESS` at the private bus before the plugin connects.

mod support;

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use copydesk::api::{EventDto, EventKind, EventLevel};
use copydesk::domain::Side;
use copydesk::runtime::notify::{NotifyDetail, StopCause};
use copydesk_app_lib::{desktop, notify_plan::Category, prefs};
use rust_decimal::Decimal;
use support::{until, ManualClock, PrivateBus};
use tokio::sync::broadcast;

/// The stub notification daemon: records (summary, body) of each Notify.
#[derive(Debug, Clone, Default)]
struct Daemon {
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Daemon {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: std::collections::HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut seen = self.seen.lock().expect("lock");
        seen.push((summary, body));
        u32::try_from(seen.len()).unwrap_or(u32::MAX)
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "stub".into(),
            "copydesk-tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

fn event(kind: EventKind, detail: NotifyDetail, message: &str) -> EventDto {
    EventDto {
        ts_ms: 0,
        copy: Some("alpha".into()),
        level: EventLevel::Info,
        kind,
        notice: None,
        message: message.into(),
        detail: Some(detail),
    }
}

fn fill(symbol: &str, side: Side, qty: &str, price: &str) -> EventDto {
    event(
        EventKind::Fill,
        NotifyDetail::Fill {
            symbol: symbol.into(),
            side,
            qty: Decimal::from_str(qty).expect("qty"),
            price: Decimal::from_str(price).expect("price"),
        },
        "copied: …",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_a_burst_of_fills_and_a_stop_reach_the_desktop_with_their_title_and_body() {
    let bus = PrivateBus::start();
    // Before the plugin opens its connection (on the first notification).
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    let daemon = Daemon::default();
    let _server = zbus::connection::Builder::address(bus.address.as_str())
        .serve_at("/org/freedesktop/Notifications", daemon.clone())
        .name("org.freedesktop.Notifications")
        .build()
        .await
        .expect("the stub daemon is on the bus");

    let app = tauri::test::mock_builder()
        .plugin(tauri_plugin_notification::init())
        .build(tauri::test::mock_context(tauri::test::noop_assets()))
        .expect("a mock app with the notification plugin");
    let handle = app.handle().clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(prefs::Store::open(dir.path()));
    // Skipped signals off: they must not reach the desktop; stops cannot be turned off.
    store
        .change(&prefs::DesktopSettingsChange {
            notifications: [(Category::Skips, false)].into_iter().collect(),
            inhibit_sleep: None,
        })
        .expect("skips may be turned off");
    let clock = ManualClock::new(1_000_000);
    let (tx, rx) = broadcast::channel(64);
    let notifier = tokio::spawn(desktop::run_notifier(
        rx,
        store,
        Arc::new(clock.clone()),
        move |d| desktop::show(&handle, &d.title, &d.body),
    ));
    let seen = || daemon.seen.lock().expect("lock").clone();

    // One fill: shown once its 10 s window ends.
    tx.send(fill("BTCUSDT", Side::Buy, "0.50", "50000.0"))
        .expect("sent");
    until("the fill is read", || tx.is_empty()).await;
    // Time moves a second at a time until the window ends (when exactly is the planner's
    // unit test; here the desktop's words are checked).
    until("the fill's notification", || {
        clock.advance(1_000);
        seen().len() == 1
    })
    .await;
    assert_eq!(
        seen()[0],
        (
            "alpha: fill".to_owned(),
            "Bought 0.5 BTCUSDT at 50000".to_owned()
        ),
        "a single fill says what was bought, how much and at what price"
    );

    // A burst: 12 fills and a skipped signal (off) within the window → one notification.
    for i in 0..12 {
        let side = if i < 8 { Side::Buy } else { Side::Sell };
        tx.send(fill("BTCUSDT", side, "0.25", "50010"))
            .expect("sent");
    }
    tx.send(fill("ETHUSDT", Side::Sell, "1.5", "3000"))
        .expect("sent");
    tx.send(event(
        EventKind::Skip,
        NotifyDetail::KeyProblem,
        "skipped: below the minimum",
    ))
    .expect("sent");
    until("the burst is read", || tx.is_empty()).await;
    until("the burst's notification", || {
        clock.advance(1_000);
        seen().len() >= 2
    })
    .await;
    assert_eq!(
        seen()[1],
        (
            "alpha: 13 fills in 10 s".to_owned(),
            // 8 buys and 4 sells of 0.25 BTC, one sell of 1.5 ETH.
            "Net change: BTCUSDT +1, ETHUSDT −1.5".to_owned()
        ),
        "thirteen fills are one notification with the count and the net change"
    );

    // A stop goes out at once, without waiting for a window.
    tx.send(event(
        EventKind::Stopped,
        NotifyDetail::Stop {
            cause: StopCause::StopLoss,
        },
        "copy stopped: total stop loss: copy PnL -201 reached -200 (total_stop_loss 20%)",
    ))
    .expect("sent");
    until("the stop's notification", || seen().len() == 3).await;
    assert_eq!(
        seen()[2],
        (
            "alpha stopped: stop loss reached".to_owned(),
            "copy stopped: total stop loss: copy PnL -201 reached -200 (total_stop_loss 20%)"
                .to_owned()
        )
    );
    for _ in 0..30 {
        clock.advance(1_000);
        tokio::task::yield_now().await;
    }
    assert_eq!(
        seen().len(),
        3,
        "the skipped signal (turned off) never showed: {:?}",
        seen()
    );
    drop(tx);
    notifier
        .await
        .expect("the notifier ends with its event stream");
}
