//! The slippage guard compares the leader's fill with the price the follower's order would
//! get — the best ask for a buy, the best bid for a sell — not with the mark (issue 12
//! item 7). The simulator's book is widened between the leader's fill and the engine's
//! decision (the leader's stream is stalled meanwhile): the mark stays at the fill, the ask
//! moves past the cap.

use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use reqwest::Method;
use serde_json::json;

use super::support::{amount, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buy_is_checked_against_the_best_ask_not_the_mark() {
    let p = Pair::new(
        "10000",
        "",
        "[[copies]]\nname = \"slip\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "5").await;
    let mut engine = p.start().await;
    let key = p.lead.listen_key().await;
    let fault = |body| p.sim.admin(Method::POST, "/admin/v1/faults", Some(body));
    fault(json!({"stallListenKey": key}))
        .await
        .ok("leader stalled");
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader buys near 50,000");
    // Mark (mid) stays 50,000; the best ask moves to 50,400: 0.8 % above the leader's
    // fill, past BTC's 0.5 % cap, while the mark is within it.
    p.sim
        .admin(
            Method::POST,
            "/admin/v1/prices",
            Some(json!({"symbol": "BTCUSDT", "price": "50000", "halfSpread": "400"})),
        )
        .await
        .ok("spread widened");
    fault(json!({"unstallListenKey": key}))
        .await
        .ok("leader released");
    engine
        .wait_kind(
            NotifyKind::Skip,
            Some(NoticeKind::Slippage),
            Some("slip"),
            "the open is skipped on the ask",
        )
        .await;
    let out = engine.output();
    assert!(
        out.contains("price 50400"),
        "the skip names the ask it compared with:\n{out}"
    );
    assert!(
        amount(&p.sim, &p.me.account_id, "BTCUSDT").await.is_zero(),
        "nothing was bought"
    );
    engine.interrupt();
}
