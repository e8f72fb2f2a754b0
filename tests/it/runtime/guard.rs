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
