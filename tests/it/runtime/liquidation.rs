//! A leader liquidation is copied at once: the venue's liquidation of the leader's
//! position (an `ORDER_TRADE_UPDATE` with `x = CALCULATED`) becomes a close signal, so
//! the follower is flat without waiting for a reconciliation.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::support::{amount, eventually, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_liquidated_leader_is_followed_flat_before_any_reconciliation() {
    // Reconciliation an hour apart and no protective stop: only the leader's stream can
    // close the follower within this test.
    let p = Pair::new(
        "10000",
        "[engine]\nreconcile_secs = 3600\n\n",
        "[[copies]]\nname = \"liq\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n\
         offline_protection = false\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "50").await;
    let (sim, lead, me) = (&p.sim, &p.lead, &p.me);
    let mut engine = p.start().await;
    lead.market("BTCUSDT", "BUY", "5")
        .await
        .ok("leader opens 5 BTC at 50x");
    eventually("the follower copies the long", || async {
        let held = amount(sim, &me.account_id, "BTCUSDT").await;
        (held > Decimal::ZERO)
            .then_some(())
            .ok_or(format!("holds {held}"))
    })
    .await;
    // 5 BTC down 3,000 loses 15,000 on a 10,000 wallet: the venue liquidates the leader.
    // The follower's 1/10 share loses about 1,500 of its 10,000 and is not liquidated.
    let before = engine.output().lines().count();
    sim.price("BTCUSDT", "47000").await;
    assert_eq!(
        amount(sim, &lead.account_id, "BTCUSDT").await,
        Decimal::ZERO,
        "the simulator liquidated the leader"
    );
    let orders = lead
        .get("/fapi/v1/allOrders", &[("symbol", "BTCUSDT")])
        .await
        .ok("leader orders");
    assert!(
        orders
            .as_array()
            .is_some_and(|a| a.iter().any(|o| o["type"] == "LIQUIDATION")),
        "the leader's position was closed by a LIQUIDATION order: {orders}"
    );
    eventually("the follower closes with the leader", || async {
        let got = amount(sim, &me.account_id, "BTCUSDT").await;
        got.is_zero().then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
    let mine = me
        .get("/fapi/v1/allOrders", &[("symbol", "BTCUSDT")])
        .await
        .ok("follower orders");
    let kinds: Vec<&str> = mine
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["type"].as_str()).collect())
        .unwrap_or_default();
    // One copy per leader fill (the leader's 5 BTC walked several book levels), then the close.
    assert!(
        kinds.len() >= 2 && kinds.iter().all(|k| *k == "MARKET"),
        "the follower opened and closed with its own orders, it was not liquidated: {kinds:?}"
    );
    let after: Vec<String> = engine
        .output()
        .lines()
        .skip(before)
        .map(str::to_owned)
        .collect();
    assert!(
        !after.iter().any(|l| l.contains("reconcil")),
        "no reconciliation ran after the liquidation; the stream closed the follower:\n{}",
        after.join("\n")
    );
    assert_eq!(
        amount(sim, &lead.account_id, "BTCUSDT").await,
        dec!(0),
        "the leader stays flat"
    );
    engine.interrupt();
}
