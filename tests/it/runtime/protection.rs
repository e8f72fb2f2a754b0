//! Offline protection: every copied position carries an exchange-side stop, so with the
//! engine stopped a price move to the stop closes the follower's position on the venue.

use rust_decimal_macros::dec;

use super::support::{amount, eventually, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_engine_stopped_the_stop_closes_the_position() {
    let p = Pair::new(
        "10000",
        "",
        "[[copies]]\nname = \"guarded\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "5").await;
    let (sim, lead, me) = (&p.sim, &p.lead, &p.me);
    let mut engine = p.start().await;
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    // Margin 100 at 5x (example A); no stop loss set, so the stop sits where the
    // position loses 80 % of its margin: 80 / 0.010 = 8,000 below the entry.
    eventually(
        "the follower holds 0.010 with a protective stop",
        || async {
            let got = amount(sim, &me.account_id, "BTCUSDT").await;
            let v = sim.admin_account(&me.account_id).await;
            let stops = v["openAlgoOrders"].as_array().map_or(0, |a| a.len());
            (got == dec!(0.010) && stops == 1)
                .then_some(())
                .ok_or(format!("holds {got} with {stops} algo orders"))
        },
    )
    .await;
    engine.interrupt();

    sim.price("BTCUSDT", "45000").await;
    assert_eq!(
        amount(sim, &me.account_id, "BTCUSDT").await,
        dec!(0.010),
        "above the stop the position stays open"
    );
    sim.price("BTCUSDT", "41900").await;
    eventually(
        "the stop closes the follower while the engine is off",
        || async {
            let got = amount(sim, &me.account_id, "BTCUSDT").await;
            got.is_zero().then_some(()).ok_or(format!("holds {got}"))
        },
    )
    .await;
    assert_eq!(
        amount(sim, &lead.account_id, "BTCUSDT").await,
        dec!(0.1),
        "the leader's own position is not touched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_total_stop_loss_stops_the_copy_and_closes_its_position() {
    // Offline protection off, so the engine's own PnL check is what acts.
    let p = Pair::new(
        "10000",
        "[engine]\nreconcile_secs = 1\n\n",
        "[[copies]]\nname = \"capped\"\nleader = \"lead\"\n\
         follower = \"me\"\nmode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\n\
         max_leverage = 5\ntotal_stop_loss = \"20\"\nstop_action = \"close-all\"\n\
         offline_protection = false\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "5").await;
    let (sim, lead, me) = (&p.sim, &p.lead, &p.me);
    let data = p.data();
    let mut engine = p.start().await;
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    eventually("the follower holds 0.010", || async {
        let got = amount(sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.010))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    // 0.010 BTC down 2,500 loses 25, past the copy's total stop loss of 20.
    sim.price("BTCUSDT", "47500").await;
    engine
        .wait_line("copy stopped", "the stop is announced")
        .await;
    eventually("the copy's position is closed", || async {
        let got = amount(sim, &me.account_id, "BTCUSDT").await;
        got.is_zero().then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
    assert_eq!(
        amount(sim, &lead.account_id, "BTCUSDT").await,
        dec!(0.1),
        "the leader keeps its position"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .arg("--data-dir")
        .arg(&data)
        .args(["status", "--json"])
        .output()
        .expect("status runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(
        v["copies"][0]["copy"]["state"], "stopped",
        "status shows the stop: {v}"
    );
    assert!(
        v["copies"][0]["figures"]["realizedPnl"].is_string(),
        "status shows figures: {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mark_price_move_alone_trips_the_total_stop_loss() {
    // Reconciliation an hour apart and no offline protection: only the mark check can act.
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
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    eventually("the follower holds 0.010", || async {
        let got = amount(sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.010))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    // No leader trade from here on: 0.010 BTC down 2,500 from the entry loses 25 at mark.
    sim.price("BTCUSDT", "47500").await;
    engine
        .wait_line(
            "copy stopped: total stop loss",
            "the mark move stops the copy",
        )
        .await;
    let out = engine.output();
    let line = out
        .lines()
        .find(|l| l.contains("copy stopped: total stop loss"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        line.contains("copy PnL -25") && line.contains("reached -20"),
        "the stop names the PnL at mark (-25 and the fee) and the limit (-20): {line}"
    );
    eventually("the copy's position is closed (close-all)", || async {
        let got = amount(sim, &me.account_id, "BTCUSDT").await;
        got.is_zero().then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
    assert_eq!(
        amount(sim, &lead.account_id, "BTCUSDT").await,
        dec!(0.1),
        "the leader keeps its position"
    );
}
