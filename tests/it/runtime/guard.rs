//! Another CopyDesk on the same follower account: an order carrying CopyDesk's id prefix
//! that is not in this engine's journal pauses the copy and says why; a paused copy then
//! opens nothing.

use rust_decimal_macros::dec;

use super::support::{account_env, account_toml, amount, sim, write_config, Engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_copydesk_order_pauses_the_copy() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    sim.price("BTCUSDT", "50000").await;
    let text = format!(
        "{}{}[[copies]]\nname = \"mine\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n",
        account_toml("lead", &base),
        account_toml("me", &base)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    let mut engine = Engine::start(&dir.path().join("data"), &config, &env, &[]);
    engine.wait_line("is watching", "start").await;

    // What another CopyDesk would send: our prefix, an id this engine never journaled.
    me.post(
        "/fapi/v1/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "0.002"),
            ("newClientOrderId", "cd0123456789abcdefghijklmnopqrst"),
        ],
    )
    .await
    .ok("a foreign CopyDesk order");
    engine
        .wait_line(
            "another CopyDesk is trading this follower",
            "the pause says why",
        )
        .await;
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    engine
        .wait_line("copy-paused", "the paused copy reports the open it skips")
        .await;
    assert_eq!(
        amount(&sim, &me.account_id, "BTCUSDT").await,
        dec!(0.002),
        "a paused copy opens nothing (only the foreign 0.002 is held)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_copydesk_order_resting_before_start_starts_the_copy_paused() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    sim.price("BTCUSDT", "50000").await;
    // Another CopyDesk's resting order, placed before this engine starts: its stream will
    // never show the order being placed.
    let foreign = "cd9876543210zyxwvutsrqponmlkjihg";
    me.post(
        "/fapi/v1/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.003"),
            ("price", "40000"),
            ("newClientOrderId", foreign),
        ],
    )
    .await
    .ok("a foreign CopyDesk's resting order");
    let text = format!(
        "{}{}[[copies]]\nname = \"mine\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n",
        account_toml("lead", &base),
        account_toml("me", &base)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    let data = dir.path().join("data");
    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine.wait_line("is watching", "start").await;
    let out = engine.output();
    let line = out
        .lines()
        .find(|l| l.contains("another CopyDesk is trading this follower"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        line.contains(foreign) && line.contains("open order"),
        "by the time it watches, the copy has said it is paused, naming order {foreign}:\n{out}"
    );
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .arg("--data-dir")
        .arg(&data)
        .args(["status", "--json"])
        .output()
        .expect("status runs");
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    assert_eq!(
        v["copies"][0]["copy"]["state"], "paused",
        "the copy starts paused: {v}"
    );
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    engine
        .wait_line("copy-paused", "the paused copy reports the open it skips")
        .await;
    assert_eq!(
        amount(&sim, &me.account_id, "BTCUSDT").await,
        dec!(0),
        "a paused copy opens nothing"
    );
}
