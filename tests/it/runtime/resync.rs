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

/// A reconciliation pass reads the leader after a fill whose stream event has not come yet
/// (the leader's socket holds it): two reads agree, so the pass matches the copy to the
/// leader's new size. The fill's event, when it comes, is not copied a second time. (Under
/// load a leader reconnect's pass and a follower reconnect's pass once did exactly this,
/// and the copy held 0.15 for the leader's 1.0 × 0.1.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_reconciliation_already_matched_is_not_copied_again_when_its_event_comes() {
    use std::time::Duration;

    use copydesk::engine::NoticeKind;
    use copydesk::runtime::{Command, EngineOptions, RunOptions};

    use super::in_process;

    let sim = super::support::sim().await;
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    sim.price("BTCUSDT", "50000").await;
    let config = in_process::one_copy(
        &sim.base(),
        "late",
        "mode = \"fixed-ratio\"\nratio = \"0.1\"\n[risk]\nmax_leverage = 5\n",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = RunOptions {
        engine: EngineOptions {
            // Only the passes the test asks for.
            reconcile_every: Duration::from_secs(3600),
            ..EngineOptions::default()
        },
        ..RunOptions::default()
    };
    let keys = in_process::keys(&[("lead", &lead), ("me", &me)]);
    let handle = in_process::start(&config, dir.path(), "late event test", opts, &keys).await;
    in_process::watching(&handle, 1).await;
    let holds = |want| {
        let (sim, me) = (&sim, &me);
        async move {
            eventually("the follower holds its share", || async {
                let got = amount(sim, &me.account_id, "BTCUSDT").await;
                (got == want).then_some(()).ok_or(format!("holds {got}"))
            })
            .await
        }
    };
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    holds(dec!(0.050)).await;

    let mut notes = handle.subscribe();
    let faults = |body: Value| sim.admin(reqwest::Method::POST, "/admin/v1/faults", Some(body));
    let key = lead.listen_key().await;
    faults(json!({"stallListenKey": key}))
        .await
        .ok("the leader's socket holds its events");
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader adds; its event waits in the socket");
    // The first pass finds the leader at 1.0 against the stream's 0.5 and looks again; the
    // second finds the same and repairs: the copy now holds 1.0 × 0.1.
    for _ in 0..2 {
        assert!(
            handle
                .command("late", Command::Reconcile("a test's request"))
                .await
        );
    }
    holds(dec!(0.100)).await;
    faults(json!({"unstallListenKey": key}))
        .await
        .ok("the leader's socket delivers the add");
    let told = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match notes.recv().await {
                Ok(n) if n.notice == Some(NoticeKind::AlreadyReconciled) => break n,
                // (The repair's own fill may come first: "filled: …, the copy's own order".)
                Ok(n) if n.kind == NotifyKind::Fill && n.message.starts_with("copied") => {
                    panic!("the late add was copied again: {n:?}")
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("notifications ended: {e}"),
            }
        }
    })
    .await
    .expect("the late add is recognised as already matched");
    assert!(
        told.message.contains("from 0.5 to 1")
            && told.message.contains("reconciliation already matched"),
        "{told:?}"
    );
    // A later signal is the barrier: it is copied once, on top of 0.1, not of 0.15.
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader adds again");
    holds(dec!(0.150)).await;
    handle.shutdown().await;
}
