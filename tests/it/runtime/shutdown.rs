//! Ctrl-C cancels whatever the engine waits on (issue 11): a start-up held by the weight
//! budget, and an order whose acknowledgement never comes (a stalled socket). The engine
//! exits cleanly at once; the journal keeps the unfinished order, and the next start's
//! recovery finishes it without doubling it.

use std::time::Duration;

use copydesk::sim::{LimitConfig, SimConfig};
use copydesk::store::{db_path, Store};
use reqwest::Method;
use rust_decimal_macros::dec;
use serde_json::json;

use super::in_process;
use super::support::{account_env, account_toml, amount, eventually, write_config, Engine};

fn config(base: &str) -> String {
    format!(
        "{}{}[[copies]]\nname = \"halt\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n",
        account_toml("lead", base),
        account_toml("me", base)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_ends_a_wait_for_the_weight_budget() {
    // A venue that allows 150 weight a minute: the engine's budget (120) is spent by the
    // start-up snapshots, so start-up waits for the next minute.
    let sim = crate::sim::support::start_with(SimConfig {
        limits: LimitConfig {
            weight_per_minute: 150,
            ..LimitConfig::default()
        },
        ..SimConfig::default()
    })
    .await;
    let base = sim.base();
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(dir.path(), &config(&base));
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    let mut engine = Engine::start(
        &dir.path().join("data"),
        &cfg,
        &env,
        &[(
            "RUST_LOG",
            "copydesk::exchange::binance_usdm::limiter=debug",
        )],
    );
    engine
        .wait_line("waiting for the next window", "the limiter waits")
        .await;
    engine.interrupt();
    assert!(
        !engine.output().contains("is watching"),
        "the engine stopped inside the wait, before the copy ran:\n{}",
        engine.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_ends_a_stalled_order_and_recovery_finishes_it() {
    let sim = super::support::sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let cfg = write_config(dir.path(), &config(&base));
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    let mut engine = Engine::start(&data, &cfg, &env, &[]);
    engine.wait_line("is watching", "start").await;
    // Orders are filled at once but their acknowledgements stall for ten minutes.
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"ackDelayMs": 600_000})),
    )
    .await
    .ok("stall acknowledgements");
    let leader = lead.clone();
    // The leader's own acknowledgement stalls as well; its fill is on the stream at once.
    let _stalled = tokio::spawn(async move { leader.market("BTCUSDT", "BUY", "0.5").await });
    let journal = db_path(&data);
    eventually("the copy's order is journaled as sent", || {
        let journal = journal.clone();
        async move {
            let s = Store::open_read_only(&journal).map_err(|e| e.to_string())?;
            let rows = s.journal().for_copy(1).map_err(|e| e.to_string())?;
            rows.iter()
                .any(|e| e.order_type.as_str() == "market")
                .then_some(())
                .ok_or(format!("journal: {rows:?}"))
        }
    })
    .await;
    engine.interrupt();
    {
        let s = Store::open_read_only(&journal).expect("database readable after the stop");
        assert!(
            s.integrity_check().expect("integrity check") == vec!["ok".to_owned()],
            "the database is intact"
        );
        let rows = s.journal().for_copy(1).expect("journal rows");
        let market: Vec<_> = rows
            .iter()
            .filter(|e| e.order_type.as_str() == "market")
            .collect();
        assert_eq!(market.len(), 1, "one copied order: {rows:?}");
        assert!(
            !market[0].state.is_terminal(),
            "the stop abandoned the stalled order instead of waiting for it; the journal \
             keeps it unfinished for recovery: {:?}",
            market[0]
        );
    }
    // The venue answers again: the next start's recovery looks the order up and records it.
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"clear": true})),
    )
    .await
    .ok("clear faults");
    let mut again = Engine::start(&data, &cfg, &env, &[]);
    again.wait_line("is watching", "restart").await;
    eventually("the journal records the order filled", || {
        let journal = journal.clone();
        async move {
            let s = Store::open_read_only(&journal).map_err(|e| e.to_string())?;
            let rows = s.journal().for_copy(1).map_err(|e| e.to_string())?;
            rows.iter()
                .filter(|e| e.order_type.as_str() == "market")
                .all(|e| e.state.is_terminal() && e.filled_qty == dec!(0.05))
                .then_some(())
                .ok_or(format!("journal: {rows:?}"))
        }
    })
    .await;
    assert_eq!(
        amount(&sim, &me.account_id, "BTCUSDT").await,
        dec!(0.050),
        "the follower holds one copy of the open, not two"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    again.interrupt();
}

/// A stop placement the venue does not answer outlives the stopping copy's wait for its
/// stop worker (`protection::DRAIN`). Shutdown must still end with the data directory free
/// (the app relaunched at once, or `copydesk run` restarted, takes it): the worker is
/// abandoned like the signal step in progress (the journal keeps its row for recovery),
/// not left running in the background holding the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_frees_the_data_directory_while_a_stop_placement_hangs() {
    use copydesk::runtime::RunOptions;
    use copydesk::store::DataDir;

    let sim = super::support::sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    let keys = in_process::keys(&[("lead", &lead), ("me", &me)]);
    let config = in_process::one_copy(
        &base,
        "halt",
        "mode = \"fixed-ratio\"\nratio = \"0.1\"\n[risk]\nmax_leverage = 5\n",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let start = || {
        in_process::start(
            &config,
            dir.path(),
            "shutdown test",
            RunOptions::default(),
            &keys,
        )
    };
    let handle = start().await;
    in_process::watching(&handle, 1).await;
    // Protective stops reach the venue only after a minute from now.
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"slowPath": {"path": "/fapi/v1/algoOrder", "ms": 60_000}})),
    )
    .await
    .ok("slow stop placements");
    sim.admin(Method::DELETE, "/admin/v1/requests", None)
        .await
        .ok("reset the request count");
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("the leader opens");
    eventually("the copy's protective stop is on its way", || {
        let sim = &sim;
        let me = me.account_id.clone();
        async move {
            let rows = sim
                .admin(Method::GET, "/admin/v1/requests", None)
                .await
                .ok("request counts");
            let placing = rows["requests"].as_array().is_some_and(|rows| {
                rows.iter().any(|r| {
                    r["method"] == "POST"
                        && r["path"] == "/fapi/v1/algoOrder"
                        && r["accountId"] == *me
                })
            });
            placing.then_some(()).ok_or(format!("requests: {rows}"))
        }
    })
    .await;
    handle.shutdown().await;
    let reopened = DataDir::open(dir.path(), "shutdown test, again");
    assert!(
        reopened.is_ok(),
        "the data directory is free once shutdown returns: {:?}",
        reopened.err()
    );
    // The venue answers again: the next start finds the position guarded by exactly one
    // protective stop, the abandoned placement neither lost nor doubled.
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"clear": true})),
    )
    .await
    .ok("clear faults");
    drop(reopened);
    let handle = start().await;
    eventually("one protective stop guards the copied position", || {
        let sim = &sim;
        let me = me.account_id.clone();
        async move {
            let view = sim.admin_account(&me).await;
            let stops = view["openAlgoOrders"].as_array().map_or(0, |a| a.len());
            let held = amount(sim, &me, "BTCUSDT").await;
            (stops == 1 && held == dec!(0.05))
                .then_some(())
                .ok_or(format!("{stops} stops, holding {held}: {view}"))
        }
    })
    .await;
    // Settled: no second stop appears after a while either.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let view = sim.admin_account(&me.account_id).await;
    assert_eq!(
        view["openAlgoOrders"].as_array().map_or(0, |a| a.len()),
        1,
        "one stop, not two: {view}"
    );
    handle.shutdown().await;
}
