//! Orders whose outcome stays unknown (issue 12, item 10): the venue's answer to an order
//! is lost and lookups fail; the order stays in the journal as `unknown`, the status shows
//! it, and every reconciliation looks it up again until it is resolved.

use rust_decimal_macros::dec;
use serde_json::{json, Value};

use super::support::{amount, eventually, Pair};

fn status(p: &Pair) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .arg("--data-dir")
        .arg(p.data())
        .args(["status", "--json"])
        .output()
        .expect("status runs");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_of_unknown_outcome_is_shown_and_looked_up_until_resolved() {
    let p = Pair::new(
        "100000",
        "[engine]\nreconcile_secs = 2\n\n",
        "[[copies]]\nname = \"unsure\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n",
    )
    .await;
    let mut engine = p.start().await;
    // The fault: every follower order request answers 503 "send status unknown" (the
    // order never lands) and every lookup of it fails the same way.
    p.sim
        .admin(
            reqwest::Method::POST,
            "/admin/v1/faults",
            Some(json!({"rejectNext": {"count": 100000, "status": 503, "code": -1007,
                "msg": "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
                "path": "/fapi/v1/order", "apiKey": p.me.key}})),
        )
        .await
        .ok("the follower's order answers are lost");
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    let mut shown = Value::Null;
    eventually("the status shows the order of unknown outcome", || {
        let v = status(&p);
        let list = v["copies"][0]["unknownOrders"].clone();
        let ok = list.as_array().is_some_and(|a| a.len() == 1);
        if ok {
            shown = list.clone();
        }
        async move { ok.then_some(()).ok_or(format!("status: {v}")) }
    })
    .await;
    assert_eq!(
        shown[0]["symbol"], "BTCUSDT",
        "it names the symbol: {shown}"
    );
    assert_eq!(shown[0]["side"], "buy", "and the side: {shown}");
    assert_eq!(shown[0]["qty"], "0.05", "and the quantity: {shown}");
    p.sim
        .admin(
            reqwest::Method::POST,
            "/admin/v1/faults",
            Some(json!({"clear": true})),
        )
        .await
        .ok("faults lifted");
    engine
        .wait_line(
            "whose outcome was unknown: not found on the venue",
            "a reconciliation looks it up and resolves it",
        )
        .await;
    eventually("the status no longer lists it", || {
        let v = status(&p);
        let empty = v["copies"][0]["unknownOrders"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        async move { empty.then_some(()).ok_or(format!("status: {v}")) }
    })
    .await;
    assert_eq!(
        amount(&p.sim, &p.me.account_id, "BTCUSDT").await,
        dec!(0),
        "the order never landed, and reconciliation does not open it late"
    );
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_found_filled_later_counts_in_the_copy_again() {
    let p = Pair::new(
        "100000",
        "[engine]\nreconcile_secs = 2\n\n",
        "[[copies]]\nname = \"late\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n",
    )
    .await;
    let mut engine = p.start().await;
    // The fault: orders take effect at once but their answers come after the engine's
    // 10 s timeout, and the follower's order lookups fail.
    p.sim
        .admin(
            reqwest::Method::POST,
            "/admin/v1/faults",
            Some(json!({"ackDelayMs": 11000,
                "rejectNext": {"count": 100000, "status": 503, "code": -1001,
                "msg": "Internal error; unable to process your request. Please try again.",
                "path": "/fapi/v1/order", "method": "GET", "apiKey": p.me.key}})),
        )
        .await
        .ok("answers lost, lookups failing");
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    engine
        .wait_line(
            "outcome unknown (the venue's answer was lost",
            "the engine counts the open as not filled and says so",
        )
        .await;
    assert_eq!(
        amount(&p.sim, &p.me.account_id, "BTCUSDT").await,
        dec!(0.050),
        "the open did fill on the venue"
    );
    p.sim
        .admin(
            reqwest::Method::POST,
            "/admin/v1/faults",
            Some(json!({"clear": true})),
        )
        .await
        .ok("faults lifted");
    engine
        .wait_line(
            "whose outcome was unknown: found on the venue",
            "a reconciliation finds the order filled",
        )
        .await;
    p.lead
        .market("BTCUSDT", "SELL", "0.5")
        .await
        .ok("leader closes");
    eventually("the follower closes what the late order filled", || async {
        let got = amount(&p.sim, &p.me.account_id, "BTCUSDT").await;
        got.is_zero().then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
    engine.interrupt();
}
