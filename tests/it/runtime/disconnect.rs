//! Disconnects and sleep: the leader's stream is dropped while it trades, and the
//! simulator's clock jumps as after a machine's sleep. The follower must converge on its
//! target, and an open that became stale meanwhile must not be executed but reported.

use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use reqwest::Method;
use rust_decimal_macros::dec;
use serde_json::json;

use super::support::{
    account_env, account_toml, amount, eventually, sim, write_config, Client, Engine, Sim,
};

async fn running(sim: &Sim, reconcile_secs: u32) -> (Client, Client, Engine, tempfile::TempDir) {
    let base = sim.base();
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    sim.price("BTCUSDT", "50000").await;
    sim.price("ETHUSDT", "2500").await;
    let text = format!(
        "[engine]\nreconcile_secs = {reconcile_secs}\n\n{}{}[[copies]]\nname = \"steady\"\n\
         leader = \"lead\"\nfollower = \"me\"\nmode = \"fixed-ratio\"\nratio = \"0.1\"\n\
         [copies.risk]\nmax_leverage = 5\n",
        account_toml("lead", &base),
        account_toml("me", &base)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    let mut engine = Engine::start(&dir.path().join("data"), &config, &env, &[]);
    engine
        .wait_kind(NotifyKind::Watching, None, None, "start")
        .await;
    (lead, me, engine, dir)
}

async fn holds(sim: &Sim, me: &Client, symbol: &str, want: rust_decimal::Decimal, what: &str) {
    eventually(what, || async {
        let got = amount(sim, &me.account_id, symbol).await;
        (got == want)
            .then_some(())
            .ok_or(format!("follower holds {got}"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trades_while_the_leader_stream_is_down_are_caught_up() {
    let sim = sim().await;
    let (lead, me, mut engine, _dir) = running(&sim, 30).await;
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    holds(&sim, &me, "BTCUSDT", dec!(0.050), "the open is copied").await;
    let mut leader = dec!(0.5);
    for (side, qty) in [("BUY", "0.2"), ("SELL", "0.1"), ("BUY", "0.3")] {
        sim.admin(
            Method::POST,
            "/admin/v1/faults",
            Some(json!({"dropUserStreams": true})),
        )
        .await
        .ok("drop user streams");
        lead.market("BTCUSDT", side, qty).await.ok("leader trades");
        let q: rust_decimal::Decimal = qty.parse().expect("qty");
        leader += if side == "BUY" { q } else { -q };
    }
    holds(
        &sim,
        &me,
        "BTCUSDT",
        leader * dec!(0.1),
        "the follower converges on leader × 0.1 after the reconnects",
    )
    .await;
    engine
        .wait_kind(
            NotifyKind::Disconnected,
            None,
            None,
            "the disconnect is reported",
        )
        .await;
    engine
        // The first `reconciled` is the start-up's; periodic passes print none.
        .wait_kind_count(
            NotifyKind::Reconciled,
            None,
            None,
            2,
            "the catch-up after the reconnect is reported",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_clock_jump_a_stale_open_is_reported_not_executed() {
    let sim = sim().await;
    let (lead, me, mut engine, _dir) = running(&sim, 1).await;
    // The machine "sleeps": nothing reaches the engine while the leader opens, and the
    // venue's clock (its events and its server time alike) moves on two minutes before
    // the engine hears of it, as it does for a laptop whose lid was closed.
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"stallUserStreams": true})),
    )
    .await
    .ok("stall streams");
    lead.market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader opens ETH");
    sim.advance(120_000).await;
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"clockShiftMs": 120_000})),
    )
    .await
    .ok("server time moves on too");
    engine
        .wait_kind(
            NotifyKind::Skip,
            Some(NoticeKind::LostOpen),
            None,
            "reconciliation reports the open it never saw and never opens it",
        )
        .await;
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"stallUserStreams": false})),
    )
    .await
    .ok("resume streams");
    // A fresh open after the resume is copied; events arrive in order, so by then the
    // stale ETH fill has been handled too.
    // The leader's own client signs on the moved-on venue clock.
    let ts = (crate::sim::support::now_ms() + 120_000).to_string();
    let payload = crate::sim::support::encode(&[
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.5"),
        ("timestamp", &ts),
    ]);
    let sig = crate::sim::support::hmac_hex(&lead.secret, &payload);
    lead.raw(
        Method::POST,
        "/fapi/v1/order",
        &format!("{payload}&signature={sig}"),
    )
    .await
    .ok("leader opens BTC");
    holds(
        &sim,
        &me,
        "BTCUSDT",
        dec!(0.050),
        "a fresh open after the resume is copied",
    )
    .await;
    assert_eq!(
        amount(&sim, &me.account_id, "ETHUSDT").await,
        dec!(0),
        "the stale ETH open must not be executed:\n{}",
        engine.output()
    );
    let out = engine.output();
    assert!(
        out.contains("ETHUSDT") && (out.contains("too-old") || out.contains("not-copied")),
        "the late ETH fill itself is reported (too old, or not copied after the lost open):\n{out}"
    );
}
