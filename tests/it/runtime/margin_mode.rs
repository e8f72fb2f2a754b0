//! The follower's first open of a symbol takes the leader's margin mode at that moment
//! (issue 12 item 12): Binance sends no event when a flat account switches a symbol to
//! isolated, so the engine reads the symbol's mode when a leader fill opens it.

use rust_decimal_macros::dec;

use super::support::{eventually, position, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_to_isolated_while_flat_is_followed_at_the_next_open() {
    let p = Pair::new(
        "10000",
        "",
        "[[copies]]\nname = \"mm\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "5").await;
    let mut engine = p.start().await;
    // The flat leader switches BTCUSDT to isolated: the venue sends no event for it.
    p.lead
        .post(
            "/fapi/v1/marginType",
            &[("symbol", "BTCUSDT"), ("marginType", "ISOLATED")],
        )
        .await
        .ok("leader switches to isolated");
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    let (sim, me) = (&p.sim, &p.me);
    eventually("the follower opens 0.010 in isolated margin", || async {
        match position(sim, &me.account_id, "BTCUSDT").await {
            Some(row) => {
                let qty = super::support::dec(&row["positionAmt"]);
                (qty == dec!(0.010) && row["marginType"] == "isolated")
                    .then_some(())
                    .ok_or(format!("holds {row}"))
            }
            None => Err("flat".into()),
        }
    })
    .await;
    engine.interrupt();
}
