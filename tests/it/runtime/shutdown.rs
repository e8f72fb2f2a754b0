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
