//! A mark older than a position's latest change must not price it (issue 12, the stale-mark
//! bug): with the market stream stalled, the last mark the engine holds is from before the
//! price moved; a copy that opens at the new price would otherwise read a loss it does not
//! have, and its total stop loss would close it.

use copydesk::runtime::NotifyKind;
use rust_decimal_macros::dec;
use serde_json::json;

use super::support::{amount, eventually, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mark_from_before_our_own_fill_does_not_trip_the_total_stop_loss() {
    // Reconciliation an hour apart and no offline protection: the PnL check after the
    // fill is what would act on the stale mark.
    let p = Pair::new(
        "10000",
        "[engine]\nreconcile_secs = 3600\n\n",
        "[[copies]]\nname = \"marked\"\nleader = \"lead\"\n\
         follower = \"me\"\nmode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\n\
         max_leverage = 5\ntotal_stop_loss = \"20\"\nstop_action = \"close-all\"\n\
         offline_protection = false\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "5").await;
    let (sim, lead, me) = (&p.sim, &p.lead, &p.me);
    let mut engine = p.start().await;
    let stall = |on: bool| {
        sim.admin(
            reqwest::Method::POST,
            "/admin/v1/faults",
            Some(json!({ "stallMarketStreams": on })),
        )
    };
    // The engine's last mark is 50,000 (the simulator sends every mark each second; the
    // end of the test checks the engine did price from the stream); then the market stream
    // goes quiet and the price moves 2,500 up before the leader buys.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    stall(true).await.ok("market streams stalled");
    sim.price("BTCUSDT", "52500").await;
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens at 52,500");
    eventually("the follower opens 0.010 at 52,500", || async {
        let got = amount(sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.010))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    stall(false).await.ok("market streams flow again");
    // A later signal is the barrier: a copy stopped by the stale mark (0.010 × −2,500 =
    // −25, past the stop loss of 20) would have closed and would not copy it.
    lead.market("BTCUSDT", "BUY", "0.1").await.ok("leader adds");
    eventually(
        "the copy still copies: the stale mark stopped nothing",
        || async {
            let got = amount(sim, &me.account_id, "BTCUSDT").await;
            (got == dec!(0.020))
                .then_some(())
                .ok_or(format!("holds {got}"))
        },
    )
    .await;
    let out = engine.output();
    let before_fill = out.split("fill marked").next().unwrap_or_default();
    assert!(
        !before_fill.contains("no current mark price"),
        "precondition: the engine held a streamed mark when the leader opened:\n{out}"
    );
    let stopped = super::support::head(NotifyKind::Stopped, None, Some("marked"));
    assert!(
        !engine.output().contains(&stopped),
        "the copy must not stop on a mark older than its own fill:\n{}",
        engine.output()
    );
    engine.interrupt();
}
