//! Fills of orders the journal does not know, on a symbol the copy holds (issue 12 item 3):
//! a triggered protective stop counts in the copy's PnL and its total stop loss (the copy
//! stops with its stop action when the loss crosses it), and a hand close is shown as such
//! and counted.

use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::support::{amount, eventually, Pair};

async fn holds_with_stop(p: &Pair) {
    let (sim, me) = (&p.sim, &p.me);
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
}

fn status(p: &Pair) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .arg("--data-dir")
        .arg(p.data())
        .args(["status", "--json"])
        .output()
        .expect("status runs");
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fired_protective_stop_counts_and_its_loss_stops_the_copy() {
    let p = Pair::new(
        "10000",
        "",
        "[[copies]]\nname = \"os\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n\
         total_stop_loss = \"30\"\nstop_action = \"close-all\"\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "5").await;
    let mut engine = p.start().await;
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    holds_with_stop(&p).await;
    // The copy's stop sits where 0.010 BTC loses the whole total stop loss (30): about
    // 47,000. The price gaps through it; the venue's stop closes the position.
    p.sim.price("BTCUSDT", "46500").await;
    engine
        .wait_kind(
            NotifyKind::Notice,
            Some(NoticeKind::ClosedOutside),
            Some("os"),
            "the stop's fill is attributed to the copy",
        )
        .await;
    engine
        .wait_kind(
            NotifyKind::Stopped,
            None,
            Some("os"),
            "the loss stops the copy",
        )
        .await;
    let out = engine.output();
    assert!(
        out.contains("protective stop fired"),
        "the fill is named as the copy's protective stop:\n{out}"
    );
    // Stopped: the leader's next open is not copied.
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader adds");
    engine.interrupt();
    assert!(amount(&p.sim, &p.me.account_id, "BTCUSDT").await.is_zero());
    let v = status(&p);
    assert_eq!(v["copies"][0]["copy"]["state"], "stopped", "{v}");
    let realized: Decimal = v["copies"][0]["figures"]["realizedPnl"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("realized PnL in status: {v}"));
    assert!(
        realized <= dec!(-30),
        "the stop's loss is in the copy's realized PnL: {realized}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_close_is_shown_as_such_and_counted() {
    let p = Pair::new(
        "10000",
        "",
        "[[copies]]\nname = \"hc\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "5").await;
    let mut engine = p.start().await;
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    holds_with_stop(&p).await;
    p.sim.price("BTCUSDT", "51000").await;
    p.me.post(
        "/fapi/v1/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "MARKET"),
            ("quantity", "0.005"),
            ("reduceOnly", "true"),
        ],
    )
    .await
    .ok("the user closes half by hand");
    engine
        .wait_kind(
            NotifyKind::Notice,
            Some(NoticeKind::ClosedOutside),
            Some("hc"),
            "the hand close is shown",
        )
        .await;
    let out = engine.output();
    assert!(
        out.contains("closed by hand") && out.contains("BTCUSDT 0.005"),
        "the notice says the user closed 0.005 by hand:\n{out}"
    );
    engine.interrupt();
    let v = status(&p);
    let realized: Decimal = v["copies"][0]["figures"]["realizedPnl"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("realized PnL in status: {v}"));
    assert!(
        realized > dec!(4),
        "the hand close's profit (about 5) counts for the copy: {realized}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_liquidation_of_the_follower_is_attributed_to_the_copy() {
    let sim = super::support::sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    let lead = sim.usdt("10000").await;
    // A small follower wallet: its 0.010 BTC copy at 5x is liquidated long before the
    // leader's position is.
    let me = sim.usdt("150").await;
    lead.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "5")],
    )
    .await
    .ok("leader leverage");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "{}{}[[copies]]\nname = \"liq\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n[copies.risk]\nmax_leverage = 5\n\
         offline_protection = false\n",
        super::support::account_toml("lead", &base),
        super::support::account_toml("me", &base)
    );
    let config = super::support::write_config(dir.path(), &text);
    let mut env = super::support::account_env("lead", &lead);
    env.extend(super::support::account_env("me", &me));
    let mut engine = super::support::Engine::start(&dir.path().join("data"), &config, &env, &[]);
    engine
        .wait_kind(NotifyKind::Watching, None, None, "start")
        .await;
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    eventually("the follower holds 0.010", || async {
        let got = amount(&sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.010))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    sim.price("BTCUSDT", "35000").await;
    engine
        .wait_kind(
            NotifyKind::Notice,
            Some(NoticeKind::ClosedOutside),
            Some("liq"),
            "the liquidation is attributed",
        )
        .await;
    let out = engine.output();
    assert!(
        out.contains("the venue liquidated it"),
        "the notice says the venue liquidated the copy's position:\n{out}"
    );
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_hand_close_is_announced_once() {
    // Reconciliation every second: it finds the position gone right after the fill.
    let p = Pair::new(
        "10000",
        "[engine]\nreconcile_secs = 1\n\n",
        "[[copies]]\nname = \"once\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "5").await;
    let mut engine = p.start().await;
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    holds_with_stop(&p).await;
    p.me.post(
        "/fapi/v1/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "MARKET"),
            ("quantity", "0.010"),
            ("reduceOnly", "true"),
        ],
    )
    .await
    .ok("the user closes the whole position by hand");
    engine
        .wait_kind(
            NotifyKind::Notice,
            Some(NoticeKind::ClosedOutside),
            Some("once"),
            "the hand close is shown",
        )
        .await;
    // A reconciliation then ends the position in the ledger (status lists none).
    eventually("reconciliation ends the copied position", || async {
        let v = status(&p);
        let n = v["copies"][0]["positions"]
            .as_array()
            .map_or(usize::MAX, Vec::len);
        (n == 0).then_some(()).ok_or(format!("{n} positions: {v}"))
    })
    .await;
    engine.interrupt();
    let out = engine.output();
    let head = super::support::head(
        NotifyKind::Notice,
        Some(NoticeKind::ClosedOutside),
        Some("once"),
    );
    assert_eq!(
        out.matches(&head).count(),
        1,
        "one hand close, one notice (the fill's, naming the hand close):\n{out}"
    );
    assert!(out.contains("closed by hand"), "{out}");
    assert!(
        !out.contains("never opened"),
        "a position the copy opened and the user closed is not a lost open:\n{out}"
    );
}
