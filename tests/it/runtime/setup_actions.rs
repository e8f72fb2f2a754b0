//! An open waits for its set-up actions (leverage, margin mode): when the venue refuses
//! one, the open is skipped with the reason, never sent at the follower's old leverage.

use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use reqwest::Method;
use serde_json::json;

use super::support::{amount, Pair};

/// Count of `POST /fapi/v1/order` requests the follower's key made so far.
async fn follower_orders(p: &Pair) -> u64 {
    let v = p
        .sim
        .admin(Method::GET, "/admin/v1/requests", None)
        .await
        .ok("requests");
    v["requests"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"] == "/fapi/v1/order"
                && r["accountId"] == p.me.account_id.as_str()
        })
        .map(|r| r["count"].as_u64().unwrap_or(0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_leverage_change_skips_the_open_with_the_reason() {
    let p = Pair::new(
        "10000",
        "",
        "[[copies]]\nname = \"setup\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "5").await;
    let mut engine = p.start().await;
    // The follower's next leverage change is refused; nothing else is.
    p.sim
        .admin(
            Method::POST,
            "/admin/v1/faults",
            Some(
                json!({"rejectNext": {"count": 1, "code": -4028, "status": 400,
                "msg": "Leverage 5 is not valid", "path": "/fapi/v1/leverage", "apiKey": p.me.key}}),
            ),
        )
        .await
        .ok("fault armed");
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    engine
        .wait_kind(
            NotifyKind::Skip,
            Some(NoticeKind::SetupFailed),
            Some("setup"),
            "the open is skipped because its leverage could not be set",
        )
        .await;
    let out = engine.output();
    assert!(
        out.contains("-4028") && out.contains("BTCUSDT"),
        "the skip names the symbol and the venue's refusal:\n{out}"
    );
    assert_eq!(
        follower_orders(&p).await,
        0,
        "no open was sent at the follower's old leverage:\n{out}"
    );
    assert!(
        amount(&p.sim, &p.me.account_id, "BTCUSDT").await.is_zero(),
        "the follower stays flat"
    );
    // The leader's next increase of that position is not copied either (the open was
    // skipped for good, as any skipped open).
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader adds");
    engine
        .wait_kind(
            NotifyKind::Skip,
            Some(NoticeKind::NotCopied),
            Some("setup"),
            "the increase of a position not copied is skipped",
        )
        .await;
    assert_eq!(follower_orders(&p).await, 0, "still no order");
    engine.interrupt();
}
