//! The user's controls through the real runtime (in process, so the test sends the
//! commands the app sends): pause and resume, stop and panic, and the total take profit.
//! A stop with `close-all` is a *stopping* state that retries refused closes until the
//! follower is flat, keeps each position's protective stop until its close is confirmed,
//! and survives a restart (issue 12, item 2). Assertions read the simulator's account,
//! position and algo-order state.

use std::collections::HashMap;
use std::time::Duration;

use copydesk::domain::StopAction;
use copydesk::engine::NoticeKind;
use copydesk::exchange::Credentials;
use copydesk::runtime::config::{CopyConfig, EngineConfig, RunConfig};
use copydesk::runtime::{
    start_keys, Command, EngineOptions, KeySource, Notification, NotifyKind, RunOptions,
    RuntimeHandle,
};
use copydesk::store::DataDir;
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::in_process::account;
use super::support::{amount, eventually, sim, Client, Sim};

const NAME: &str = "ctl";

/// A leader and a follower on a fresh simulator (BTCUSDT 50,000, ETHUSDT 2,500), one copy
/// `ctl` with `settings` (TOML of the copy's settings), and a data directory.
struct Rig {
    sim: Sim,
    lead: Client,
    me: Client,
    dir: tempfile::TempDir,
    config: RunConfig,
    keys: HashMap<String, Credentials>,
    reconcile: Duration,
}

impl Rig {
    async fn new(usdt: &str, settings: &str, reconcile: Duration) -> Rig {
        let sim = sim().await;
        let base = sim.base();
        let lead = sim.usdt(usdt).await;
        let me = sim.usdt(usdt).await;
        sim.price("BTCUSDT", "50000").await;
        sim.price("ETHUSDT", "2500").await;
        let settings: copydesk::domain::CopySettings =
            toml::from_str(settings).expect("copy settings");
        let config = RunConfig {
            accounts: vec![account("lead", &base), account("me", &base)],
            leaders: Vec::new(),
            copies: vec![CopyConfig {
                name: NAME.into(),
                leader: "lead".into(),
                follower: "me".into(),
                settings,
                profit_share_ratio: None,
            }],
            engine: EngineConfig::default(),
        };
        let keys = HashMap::from([
            (
                "lead".to_owned(),
                Credentials::new(lead.key.clone(), lead.secret.clone()),
            ),
            (
                "me".to_owned(),
                Credentials::new(me.key.clone(), me.secret.clone()),
            ),
        ]);
        Rig {
            sim,
            lead,
            me,
            dir: tempfile::tempdir().expect("tempdir"),
            config,
            keys,
            reconcile,
        }
    }

    /// Starts the engine on the rig's data directory (a second call is a restart) and
    /// waits until the copy watches the leader.
    async fn start(&self) -> (RuntimeHandle, Notes) {
        let data = DataDir::open(self.dir.path(), "controls test").expect("data dir");
        let opts = RunOptions {
            engine: EngineOptions {
                reconcile_every: self.reconcile,
                ..EngineOptions::default()
            },
            ..RunOptions::default()
        };
        let handle = start_keys(&self.config, data, opts, &KeySource::Given(&self.keys))
            .await
            .expect("runtime starts");
        let mut notes = Notes {
            rx: handle.subscribe(),
            seen: Vec::new(),
        };
        notes
            .wait(NotifyKind::Watching, "", "the copy starts")
            .await;
        (handle, notes)
    }

    async fn follower(&self, symbol: &str) -> rust_decimal::Decimal {
        amount(&self.sim, &self.me.account_id, symbol).await
    }

    async fn stops(&self) -> usize {
        self.sim.admin_account(&self.me.account_id).await["openAlgoOrders"]
            .as_array()
            .map_or(0, Vec::len)
    }

    async fn faults(&self, body: Value) {
        self.sim
            .admin(reqwest::Method::POST, "/admin/v1/faults", Some(body))
            .await
            .ok("faults set");
    }

    /// Waits until the follower holds `qty` of `symbol`.
    async fn holds(&self, symbol: &str, qty: rust_decimal::Decimal, what: &str) {
        eventually(what, || async {
            let got = self.follower(symbol).await;
            (got == qty).then_some(()).ok_or(format!("holds {got}"))
        })
        .await;
    }
}

/// The engine's notifications as a test reads them: each one satisfies one wait, in the
/// order they came (one that came before the wait started counts too).
struct Notes {
    rx: broadcast::Receiver<Notification>,
    seen: Vec<(Notification, bool)>,
}

impl Notes {
    /// Waits for a notification of `kind` whose message contains `needle`.
    async fn wait(&mut self, kind: NotifyKind, needle: &str, what: &str) -> Notification {
        self.wait_for(|n| n.kind == kind && n.message.contains(needle), what)
            .await
            .unwrap_or_else(|| {
                panic!(
                    "{what}: `{kind}` with `{needle}` should be notified within 60 s; seen:\n{}",
                    self.log()
                )
            })
    }

    /// Waits for an engine notice of `notice`.
    async fn wait_notice(&mut self, notice: NoticeKind, what: &str) {
        if self
            .wait_for(|n| n.notice == Some(notice), what)
            .await
            .is_none()
        {
            panic!(
                "{what}: notice {notice:?} should come within 60 s; seen:\n{}",
                self.log()
            );
        }
    }

    async fn wait_for(
        &mut self,
        pred: impl Fn(&Notification) -> bool,
        what: &str,
    ) -> Option<Notification> {
        for (n, used) in self.seen.iter_mut() {
            if !*used && pred(n) {
                *used = true;
                return Some(n.clone());
            }
        }
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match self.rx.recv().await {
                    Ok(n) => {
                        let hit = pred(&n);
                        self.seen.push((n.clone(), hit));
                        if hit {
                            return n;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("{what}: the notification channel closed: {e}"),
                }
            }
        })
        .await
        .ok()
    }

    fn log(&self) -> String {
        self.seen
            .iter()
            .map(|(n, _)| format!("{} {}", n.kind, n.message))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

const RATIO: &str = "mode = \"fixed-ratio\"\nratio = \"0.1\"\n[risk]\nmax_leverage = 5\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_copy_mirrors_closes_skips_opens_and_resume_copies_nothing_from_the_pause() {
    let rig = Rig::new("100000", RATIO, Duration::from_secs(30)).await;
    let (handle, mut notes) = rig.start().await;
    rig.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens BTC");
    rig.holds("BTCUSDT", dec!(0.050), "the open is copied")
        .await;
    assert!(handle.command(NAME, Command::Pause).await, "pause is sent");
    notes
        .wait(NotifyKind::Paused, "", "the pause is announced")
        .await;
    rig.lead
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader opens ETH during the pause");
    notes
        .wait_notice(
            NoticeKind::CopyPaused,
            "an open during the pause is skipped",
        )
        .await;
    rig.lead
        .market("BTCUSDT", "SELL", "0.5")
        .await
        .ok("leader closes BTC during the pause");
    rig.holds("BTCUSDT", dec!(0), "a close is mirrored while paused")
        .await;
    assert!(
        handle.command(NAME, Command::Resume).await,
        "resume is sent"
    );
    notes
        .wait(NotifyKind::Resumed, "", "the resume is announced")
        .await;
    rig.lead
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader adds to the ETH opened during the pause");
    rig.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens BTC again");
    rig.holds(
        "BTCUSDT",
        dec!(0.050),
        "opens are copied again after the resume",
    )
    .await;
    assert_eq!(
        rig.follower("ETHUSDT").await,
        dec!(0),
        "resume copies nothing that was opened during the pause, nor its later increase"
    );
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_closes_every_position_cancels_the_stops_and_stops_the_copy() {
    let rig = Rig::new("100000", RATIO, Duration::from_secs(30)).await;
    let (handle, mut notes) = rig.start().await;
    rig.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens BTC");
    rig.lead
        .market("ETHUSDT", "SELL", "2")
        .await
        .ok("leader opens ETH short");
    rig.holds("BTCUSDT", dec!(0.050), "BTC is copied").await;
    rig.holds("ETHUSDT", dec!(-0.200), "ETH is copied").await;
    eventually("both positions carry their stop", || async {
        let n = rig.stops().await;
        (n == 2).then_some(()).ok_or(format!("{n} stops"))
    })
    .await;
    handle.panic().await;
    notes
        .wait(
            NotifyKind::Stopped,
            "panic",
            "the kill switch stops the copy",
        )
        .await;
    assert_eq!(rig.follower("BTCUSDT").await, dec!(0), "BTC is closed");
    assert_eq!(rig.follower("ETHUSDT").await, dec!(0), "ETH is closed");
    eventually("the engine's stops are cancelled", || async {
        let n = rig.stops().await;
        (n == 0).then_some(()).ok_or(format!("{n} stops left"))
    })
    .await;
    assert_eq!(
        amount(&rig.sim, &rig.lead.account_id, "BTCUSDT").await,
        dec!(0.5),
        "the leader is not touched"
    );
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_total_take_profit_stops_the_copy_and_closes_its_position() {
    let rig = Rig::new(
        "10000",
        "mode = \"smart-sync\"\ninvestment = \"1000\"\n[risk]\nmax_leverage = 5\n\
         take_profit_total = \"20\"\nstop_action = \"close-all\"\noffline_protection = false\n",
        Duration::from_secs(3600),
    )
    .await;
    rig.lead
        .post(
            "/fapi/v1/leverage",
            &[("symbol", "BTCUSDT"), ("leverage", "5")],
        )
        .await
        .ok("leader leverage");
    let (handle, mut notes) = rig.start().await;
    rig.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    rig.holds("BTCUSDT", dec!(0.010), "example A: the follower buys 0.010")
        .await;
    // 0.010 BTC up 2,500 gains 25, past the take profit of 20 (fees are cents).
    rig.sim.price("BTCUSDT", "52500").await;
    notes
        .wait(
            NotifyKind::Stopped,
            "take profit",
            "the take profit stops the copy",
        )
        .await;
    rig.holds("BTCUSDT", dec!(0), "close-all closes the copy's position")
        .await;
    assert_eq!(
        amount(&rig.sim, &rig.lead.account_id, "BTCUSDT").await,
        dec!(0.1),
        "the leader keeps its position"
    );
    handle.shutdown().await;
}

/// Refuses the follower's next `count` orders as the venue refuses a reduce-only order.
fn refuse_orders(count: u32) -> Value {
    json!({"rejectNext": {"count": count, "status": 400, "code": -2022,
        "msg": "ReduceOnly Order is rejected.", "path": "/fapi/v1/order", "method": "POST"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_whose_close_is_refused_keeps_the_stop_and_retries_until_flat() {
    let rig = Rig::new("100000", RATIO, Duration::from_secs(30)).await;
    let (handle, mut notes) = rig.start().await;
    rig.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    rig.holds("BTCUSDT", dec!(0.050), "the open is copied")
        .await;
    eventually("the position carries its stop", || async {
        let n = rig.stops().await;
        (n == 1).then_some(()).ok_or(format!("{n} stops"))
    })
    .await;
    // The fault: the venue refuses the next two closes.
    rig.faults(refuse_orders(2)).await;
    assert!(
        handle
            .command(NAME, Command::Stop(StopAction::CloseAll))
            .await,
        "the stop is sent"
    );
    let left = notes
        .wait(
            NotifyKind::Stopping,
            "still open",
            "the user is told which position remains and why",
        )
        .await;
    assert!(
        left.message.contains("BTCUSDT") && left.message.contains("ReduceOnly"),
        "the message names the position and the venue's reason: {}",
        left.message
    );
    assert_eq!(
        rig.follower("BTCUSDT").await,
        dec!(0.050),
        "the refused close left the position open"
    );
    assert_eq!(
        rig.stops().await,
        1,
        "its protective stop stays until the close is confirmed"
    );
    notes
        .wait(
            NotifyKind::Stopped,
            "",
            "the retries close it and the copy stops",
        )
        .await;
    assert_eq!(rig.follower("BTCUSDT").await, dec!(0), "flat at the stop");
    eventually("the stop is cancelled after the close", || async {
        let n = rig.stops().await;
        (n == 0).then_some(()).ok_or(format!("{n} stops left"))
    })
    .await;
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_survives_a_restart_until_the_follower_is_flat() {
    let rig = Rig::new("100000", RATIO, Duration::from_secs(30)).await;
    let (handle, mut notes) = rig.start().await;
    rig.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    rig.holds("BTCUSDT", dec!(0.050), "the open is copied")
        .await;
    // Every close is refused while this engine runs.
    rig.faults(refuse_orders(1_000)).await;
    handle.panic().await;
    notes
        .wait(
            NotifyKind::Stopping,
            "still open",
            "the refused close is told",
        )
        .await;
    handle.shutdown().await;
    let status = copydesk::api::status_read_only(rig.dir.path()).expect("status reads");
    let copy = &status.copies[0].copy;
    assert_eq!(
        copy.state,
        copydesk::api::CopyStateDto::Stopping,
        "the stored copy shows it is stopping: {copy:?}"
    );
    assert_eq!(
        status.copies[0].positions.len(),
        1,
        "and the position it still has to close"
    );
    rig.faults(json!({"clear": true})).await;
    assert_eq!(
        rig.follower("BTCUSDT").await,
        dec!(0.050),
        "the position is still open across the restart"
    );
    let (handle, mut notes) = rig.start().await;
    notes
        .wait(
            NotifyKind::Stopped,
            "panic",
            "the restart goes on stopping and stops",
        )
        .await;
    assert_eq!(
        rig.follower("BTCUSDT").await,
        dec!(0),
        "the restart closed the position"
    );
    eventually("the stop is cancelled after the close", || async {
        let n = rig.stops().await;
        (n == 0).then_some(()).ok_or(format!("{n} stops left"))
    })
    .await;
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_that_cannot_read_the_follower_says_so_and_closes_once_it_can() {
    let rig = Rig::new("100000", RATIO, Duration::from_secs(30)).await;
    let (handle, mut notes) = rig.start().await;
    rig.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    rig.holds("BTCUSDT", dec!(0.050), "the open is copied")
        .await;
    // The fault: the follower's account cannot be read, and its stream is down.
    rig.faults(
        json!({"rejectNext": {"count": 100000, "status": 503, "code": -1001,
        "msg": "Internal error; unable to process your request. Please try again.",
        "path": "/fapi/v3/account", "method": "GET", "apiKey": rig.me.key}}),
    )
    .await;
    rig.faults(json!({"dropUserStreams": true})).await;
    notes
        .wait(
            NotifyKind::Disconnected,
            "follower stream",
            "the follower's stream is down",
        )
        .await;
    handle.panic().await;
    notes
        .wait(
            NotifyKind::Stopping,
            "could not be read",
            "a panic that cannot read the follower is never silent",
        )
        .await;
    assert_eq!(
        rig.follower("BTCUSDT").await,
        dec!(0.050),
        "nothing was closed blind"
    );
    rig.faults(json!({"clear": true})).await;
    notes
        .wait(NotifyKind::Stopped, "panic", "the retry closes and stops")
        .await;
    assert_eq!(
        rig.follower("BTCUSDT").await,
        dec!(0),
        "flat after the panic"
    );
    handle.shutdown().await;
}

/// Fills of a stopping copy's closes whose stream event is lost still reach its PnL: the
/// follower's stream holds its events while the stop closes the position, then drops
/// them; the stop pass reads the close's fill from the venue's trade history before the
/// copy stops (issue 12, fill catch-up). The check reads the simulator's income records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_copys_close_whose_fill_event_is_lost_counts_in_its_pnl() {
    let rig = Rig::new("100000", RATIO, Duration::from_secs(2)).await;
    let (handle, mut notes) = rig.start().await;
    rig.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    rig.holds("BTCUSDT", dec!(0.050), "the open is copied")
        .await;
    let key = rig.me.listen_key().await;
    rig.faults(json!({"stallListenKey": key})).await;
    rig.sim.price("BTCUSDT", "50100").await;
    assert!(
        handle
            .command(NAME, Command::Stop(StopAction::CloseAll))
            .await,
        "the stop is sent"
    );
    notes
        .wait(NotifyKind::Stopped, "", "the copy closes and stops")
        .await;
    assert_eq!(rig.follower("BTCUSDT").await, dec!(0), "flat at the stop");
    // The held events go with the socket.
    rig.faults(json!({"dropUserStreams": true})).await;
    rig.faults(json!({"unstallListenKey": key})).await;
    let want = super::lost_fills::account_pnl_of(&rig.me).await;
    eventually("the copy's PnL equals the account's income", || async {
        let got = super::lost_fills::copy_pnl_at(rig.dir.path())?;
        (got == want)
            .then_some(())
            .ok_or(format!("copy PnL {got}, account {want}"))
    })
    .await;
    handle.shutdown().await;
}

/// The same when the stop's close is journaled with nothing filled: its answer is lost
/// (the venue answers after the client's timeout) and every lookup fails, so the close's
/// outcome is unknown and the copy stays stopping; its fill event is lost with the stream.
/// The next stop pass looks the close up (reconciliation, which resolves unknown orders
/// for a running copy, does not run while stopping), finds it filled, and reads its fill
/// from the venue's trade history before the copy stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_copys_close_of_unknown_outcome_counts_in_its_pnl() {
    let rig = Rig::new("100000", RATIO, Duration::from_secs(2)).await;
    let (handle, mut notes) = rig.start().await;
    rig.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    rig.holds("BTCUSDT", dec!(0.050), "the open is copied")
        .await;
    eventually("the position carries its stop", || async {
        let n = rig.stops().await;
        (n == 1).then_some(()).ok_or(format!("{n} stops"))
    })
    .await;
    let key = rig.me.listen_key().await;
    rig.faults(json!({"stallListenKey": key})).await;
    // The close fills, but its answer comes after the client's 10 s timeout, and every
    // lookup of it is refused.
    rig.faults(
        json!({"ackDelayMs": 11_000, "rejectNext": {"count": 1_000_000,
        "status": 503, "code": -1008, "msg": "Server is currently overloaded",
        "path": "/fapi/v1/order", "method": "GET", "apiKey": rig.me.key}}),
    )
    .await;
    rig.sim.price("BTCUSDT", "50100").await;
    assert!(
        handle
            .command(NAME, Command::Stop(StopAction::CloseAll))
            .await,
        "the stop is sent"
    );
    notes
        .wait(
            NotifyKind::Stopping,
            "still open",
            "the close's outcome is unknown: the copy stays stopping",
        )
        .await;
    assert_eq!(rig.follower("BTCUSDT").await, dec!(0), "the close filled");
    // The held events go with the socket; the account reads flat again, but the close's
    // lookup is still refused: its fill is not known, so the copy must not stop yet.
    rig.faults(json!({"dropUserStreams": true})).await;
    rig.faults(json!({"ackDelayMs": 0})).await;
    rig.faults(json!({"unstallListenKey": key})).await;
    notes
        .wait(
            NotifyKind::Stopping,
            "not known yet",
            "a flat account with the close's outcome unknown keeps the copy stopping",
        )
        .await;
    // Then the venue answers again.
    rig.faults(json!({"clear": true})).await;
    notes
        .wait(NotifyKind::Stopped, "", "the next pass finds it closed")
        .await;
    let want = super::lost_fills::account_pnl_of(&rig.me).await;
    eventually("the copy's PnL equals the account's income", || async {
        let got = super::lost_fills::copy_pnl_at(rig.dir.path())?;
        (got == want)
            .then_some(())
            .ok_or(format!("copy PnL {got}, account {want}"))
    })
    .await;
    handle.shutdown().await;
}
