//! Smart Sync sizes from the leader's equity as it is at the signal (issue 12 item 6): the
//! leader holds another position whose unrealized PnL moved without an `ACCOUNT_UPDATE`
//! (the venue sends none for a mark move), and the copy is sized on the equity at the
//! current marks, not on the stale one; the decision log names the equity used and its
//! source and age.

use copydesk::store::{db_path, Store};
use rust_decimal_macros::dec;

use super::support::{amount, eventually, Pair};

/// A market order of the leader with a wide receive window (the simulator's clock is
/// moved ahead in this test).
async fn leader_market(p: &Pair, symbol: &str, side: &str, qty: &str) {
    p.lead
        .post(
            "/fapi/v1/order",
            &[
                ("symbol", symbol),
                ("side", side),
                ("type", "MARKET"),
                ("quantity", qty),
                ("recvWindow", "60000"),
            ],
        )
        .await
        .ok("leader order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_is_sized_on_the_leader_equity_at_current_marks() {
    let p = Pair::new(
        "10000",
        "",
        "[[copies]]\nname = \"eq\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
    )
    .await;
    p.sim.price("ETHUSDT", "2500").await;
    p.leader_leverage("BTCUSDT", "5").await;
    p.leader_leverage("ETHUSDT", "5").await;
    // Before the copy starts the leader holds 4 ETH (not copied: open before t0).
    leader_market(&p, "ETHUSDT", "BUY", "4").await;
    // Time passes on the venue: the unrealized PnL the leader's last account event carried
    // ages (the engine reads the account afresh when a mark is missing, whatever that age).
    p.sim.advance(10_000).await;
    let mut engine = p.start().await;
    // ETH falls 1,000: the leader's equity drops by about 4,000, and no account event says so.
    p.sim.price("ETHUSDT", "1500").await;
    leader_market(&p, "BTCUSDT", "BUY", "0.1").await;
    // Equity ~5,996: r = 1,000 / 5,996 = 16.7 % → margin 166.8 at 5x → 0.016 BTC.
    // Sized on the stale 10,000 it would be 0.010.
    let (sim, me) = (&p.sim, &p.me);
    eventually("the follower opens on the current equity", || async {
        let got = amount(sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.016))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    engine.interrupt();
    let store = Store::open_read_only(&db_path(&p.data())).expect("database readable");
    let log = store.audit().for_copy(1, 100).expect("decision log");
    let line = log
        .iter()
        .find(|d| d.action == "leader-equity")
        .unwrap_or_else(|| panic!("the decision log names the equity used: {log:?}"));
    assert!(
        line.reason.contains("leader equity 599")
            && (line.reason.contains("marks") || line.reason.contains("read now")),
        "the line gives the equity, its source and age: {}",
        line.reason
    );
}
