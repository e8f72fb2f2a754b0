//! One leader stream per leader account (issue 11, fan-out): copies of one leader share
//! the leader's user-data stream, in process. The simulator counts the user-data sockets
//! open on each account (`userSockets`), so the test sees one leader socket for two copies
//! — the second one started while the first runs — both copies copying every signal, a
//! dropped leader stream resyncing both, and the socket closing only with the last copy.

use std::time::Duration;

use copydesk::domain::StopAction;
use copydesk::runtime::config::{CopyConfig, EngineConfig, RunConfig};
use copydesk::runtime::notify::{NotifyDetail, StreamRole};
use copydesk::runtime::start::resolve_keys;
use copydesk::runtime::{
    Command, EngineOptions, KeySource, Notification, NotifyKind, RunOptions, RuntimeHandle,
};
use copydesk::store::DataDir;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use tokio::sync::broadcast;

use super::in_process::{account, keys};
use super::support::{amount, eventually, sim, Sim};

fn copy(name: &str, follower: &str) -> CopyConfig {
    CopyConfig {
        name: name.into(),
        leader: "lead".into(),
        follower: follower.into(),
        settings: toml::from_str(
            "mode = \"fixed-ratio\"\nratio = \"0.1\"\n[risk]\nmax_leverage = 5\n",
        )
        .expect("settings"),
        profit_share_ratio: None,
    }
}

/// User-data sockets open on an account, as the simulator counts them.
async fn sockets(sim: &Sim, account: &str) -> u64 {
    sim.admin_account(account).await["userSockets"]
        .as_u64()
        .expect("userSockets in the admin account view")
}

/// Waits for a notification of `kind` for `copy`.
async fn wait_for(
    rx: &mut broadcast::Receiver<Notification>,
    kind: NotifyKind,
    copy: &str,
    what: &str,
) {
    loop {
        let n = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{what}: no such notification within 60 s"))
            .expect("notification");
        if n.kind == kind && n.copy.as_deref() == Some(copy) {
            return;
        }
    }
}

async fn holds(sim: &Sim, follower: &str, want: Decimal) {
    eventually("the follower copies the signal", || async {
        let got = amount(sim, follower, "BTCUSDT").await;
        (got == want).then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_copies_of_one_leader_share_one_leader_stream() {
    let sim = sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    let lead = sim.usdt("1000000").await;
    let one = sim.usdt("100000").await;
    let two = sim.usdt("100000").await;
    let keys = keys(&[("lead", &lead), ("one", &one), ("two", &two)]);
    let config = RunConfig {
        accounts: ["lead", "one", "two"]
            .into_iter()
            .map(|n| account(n, &base))
            .collect(),
        leaders: Vec::new(),
        copies: vec![copy("first", "one"), copy("second", "two")],
        engine: EngineConfig::default(),
    };
    let mut specs = resolve_keys(&config, &KeySource::Given(&keys)).expect("keys");
    let second = specs.pop().expect("second copy");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = DataDir::open(dir.path(), "shared leader test").expect("data dir");
    let opts = RunOptions {
        engine: EngineOptions {
            // Only the reconnect's own pass reconciles inside the test.
            reconcile_every: Duration::from_secs(3600),
            ..EngineOptions::default()
        },
        ..RunOptions::default()
    };
    let engine = RuntimeHandle::new(data, opts);
    let mut rx = engine.subscribe();
    engine.add(specs).await.expect("the first copy starts");
    wait_for(&mut rx, NotifyKind::Watching, "first", "first starts").await;
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens before the second copy");
    holds(&sim, &one.account_id, dec!(0.050)).await;
    lead.market("BTCUSDT", "SELL", "0.5")
        .await
        .ok("leader goes flat");
    holds(&sim, &one.account_id, dec!(0)).await;

    // A copy of the same leader started while the first runs joins its stream.
    engine
        .add(vec![second])
        .await
        .expect("the second copy starts");
    wait_for(&mut rx, NotifyKind::Watching, "second", "second starts").await;
    assert_eq!(
        sockets(&sim, &lead.account_id).await,
        1,
        "two copies of one leader open one leader stream"
    );
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    holds(&sim, &one.account_id, dec!(0.050)).await;
    holds(&sim, &two.account_id, dec!(0.050)).await;

    // The leader's stream drops: both copies see it come back and resync from it.
    sim.admin(
        reqwest::Method::POST,
        "/admin/v1/faults",
        Some(json!({"dropUserStreams": true})),
    )
    .await
    .ok("user streams dropped");
    let mut resynced: Vec<String> = Vec::new();
    while resynced.len() < 2 {
        let n = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .unwrap_or_else(|_| {
                panic!("both copies see the leader stream back within 60 s; {resynced:?} did")
            })
            .expect("notification");
        let leader = matches!(
            n.detail,
            Some(NotifyDetail::Stream {
                stream: StreamRole::Leader
            })
        );
        if n.kind == NotifyKind::Reconnected && leader {
            let copy = n.copy.clone().unwrap_or_default();
            if !resynced.contains(&copy) {
                resynced.push(copy);
            }
        }
    }
    resynced.sort();
    assert_eq!(
        resynced,
        ["first", "second"],
        "each copy resyncs from the shared stream"
    );
    eventually("one leader socket again after the reconnect", || async {
        let n = sockets(&sim, &lead.account_id).await;
        (n == 1).then_some(()).ok_or(format!("{n} sockets"))
    })
    .await;
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader adds after the reconnect");
    holds(&sim, &one.account_id, dec!(0.100)).await;
    holds(&sim, &two.account_id, dec!(0.100)).await;

    // The first copy stops; the second keeps the stream and keeps copying.
    assert!(
        engine
            .command("first", Command::Stop(StopAction::Keep))
            .await
    );
    eventually("the first copy's supervisor ends", || async {
        (!engine.is_running("first"))
            .then_some(())
            .ok_or("still running".to_owned())
    })
    .await;
    lead.market("BTCUSDT", "BUY", "1")
        .await
        .ok("leader opens again");
    holds(&sim, &two.account_id, dec!(0.200)).await;
    assert_eq!(sockets(&sim, &lead.account_id).await, 1);
    assert_eq!(
        amount(&sim, &one.account_id, "BTCUSDT").await,
        dec!(0.100),
        "the stopped copy no longer copies"
    );

    // The last copy stops: the leader's stream closes.
    assert!(
        engine
            .command("second", Command::Stop(StopAction::Keep))
            .await
    );
    eventually("the leader's socket closes with its last copy", || async {
        let n = sockets(&sim, &lead.account_id).await;
        (n == 0).then_some(()).ok_or(format!("{n} sockets"))
    })
    .await;
    engine.shutdown().await;
}
