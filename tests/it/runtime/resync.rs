//! Leader fills during a stream resync are applied once (issue 12, item 5). The socket
//! opens before the resync snapshot is read, so a fill in between is in the snapshot and
//! also arrives on the socket after it; the tracker must not copy it a second time. The
//! simulator's `slowPath` holds the snapshot's position read open while the leader trades,
//! which puts the trade exactly in that window.

use rust_decimal_macros::dec;
use serde_json::{json, Value};

use copydesk::runtime::NotifyKind;

use super::support::{amount, eventually, Engine, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_fill_inside_the_resync_snapshot_is_not_copied_again() {
    // Reconciliation an hour apart: only the reconnect's own pass may repair.
    let p = Pair::new(
        "100000",
        "[engine]\nreconcile_secs = 3600\n\n",
        "[[copies]]\nname = \"once\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n",
    )
    .await;
    p.sim.price("ETHUSDT", "2500").await;
    let mut engine = p.start().await;
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    eventually("the follower copies the open", || async {
        let got = amount(&p.sim, &p.me.account_id, "BTCUSDT").await;
        (got == dec!(0.050))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    let faults = |body: Value| {
        p.sim
            .admin(reqwest::Method::POST, "/admin/v1/faults", Some(body))
    };
    // The resync's position read will wait 3 s after it reached the venue.
    faults(json!({"slowPath": {"path": "/fapi/v3/positionRisk", "ms": 3000}}))
        .await
        .ok("position reads slowed");
    p.sim
        .admin(reqwest::Method::DELETE, "/admin/v1/requests", None)
        .await
        .ok("request counts reset");
    faults(json!({"dropUserStreams": true}))
        .await
        .ok("user streams dropped");
    // The leader's socket is open again once its snapshot reads positions.
    eventually("the leader's resync reads its positions", || async {
        let v = p
            .sim
            .admin(reqwest::Method::GET, "/admin/v1/requests", None)
            .await
            .ok("request counts");
        let reading = v["requests"].as_array().is_some_and(|rows| {
            rows.iter().any(|r| {
                r["path"] == "/fapi/v3/positionRisk" && r["accountId"] == p.lead.account_id
            })
        });
        reading.then_some(()).ok_or(format!("requests: {v}"))
    })
    .await;
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader adds inside the resync window");
    faults(json!({"slowPath": {"path": "/fapi/v3/positionRisk", "ms": 0}}))
        .await
        .ok("position reads at speed again");
    engine
        .wait_line(
            "reconciled after leader reconnect",
            "the leader's stream is back after its snapshot",
        )
        .await;
    // A later signal is the barrier: once it is copied, the add has been handled.
    p.lead
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader opens ETH");
    eventually("the barrier is copied", || async {
        let got = amount(&p.sim, &p.me.account_id, "ETHUSDT").await;
        (got == dec!(0.100))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    assert_eq!(
        amount(&p.sim, &p.me.account_id, "BTCUSDT").await,
        dec!(0.100),
        "the add is copied once (leader 1.0 × 0.1), not again from the socket:\n{}",
        engine.output()
    );
}

/// Waits until the simulator has received a position read from the leader's account.
async fn leader_reads_positions(p: &Pair) {
    eventually("the leader's snapshot reads its positions", || async {
        let v = p
            .sim
            .admin(reqwest::Method::GET, "/admin/v1/requests", None)
            .await
            .ok("request counts");
        let reading = v["requests"].as_array().is_some_and(|rows| {
            rows.iter().any(|r| {
                r["path"] == "/fapi/v3/positionRisk" && r["accountId"] == p.lead.account_id
            })
        });
        reading.then_some(()).ok_or(format!("requests: {v}"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_fill_inside_the_start_up_snapshot_is_not_copied_again_after_a_restart() {
    let p = Pair::new(
        "100000",
        "[engine]\nreconcile_secs = 3600\n\n",
        "[[copies]]\nname = \"once\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n",
    )
    .await;
    p.sim.price("ETHUSDT", "2500").await;
    let mut engine = p.start().await;
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    eventually("the follower copies the open", || async {
        let got = amount(&p.sim, &p.me.account_id, "BTCUSDT").await;
        (got == dec!(0.050))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    engine.interrupt();
    let faults = |body: Value| {
        p.sim
            .admin(reqwest::Method::POST, "/admin/v1/faults", Some(body))
    };
    faults(json!({"slowPath": {"path": "/fapi/v3/positionRisk", "ms": 3000}}))
        .await
        .ok("position reads slowed");
    p.sim
        .admin(reqwest::Method::DELETE, "/admin/v1/requests", None)
        .await
        .ok("request counts reset");
    let mut engine = Engine::start(&p.data(), &p.config, &p.env, &[]);
    // The restarted engine's leader socket is open once its first snapshot reads positions.
    leader_reads_positions(&p).await;
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader adds inside the start-up window");
    faults(json!({"slowPath": {"path": "/fapi/v3/positionRisk", "ms": 0}}))
        .await
        .ok("position reads at speed again");
    engine
        .wait_kind(NotifyKind::Watching, None, None, "the restart watches")
        .await;
    p.lead
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader opens ETH");
    eventually("the barrier is copied", || async {
        let got = amount(&p.sim, &p.me.account_id, "ETHUSDT").await;
        (got == dec!(0.100))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    assert_eq!(
        amount(&p.sim, &p.me.account_id, "BTCUSDT").await,
        dec!(0.100),
        "the add is copied once across the restart:\n{}",
        engine.output()
    );
    engine.interrupt();
}
