//! Faults a running copy must ride out (issue 12 item 14), one test each, through the real
//! engine and the simulator: a 429 and then a 418 ban hold the copy for the wait the venue
//! gave and release it after; `-2019` skips the open with the numbers and never retries
//! it; `-1021` clock skew and an expired listen key are survived; a key revoked while
//! running stops the copy and names the key.

use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use reqwest::Method;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

use super::support::{amount, eventually, Pair};

const COPY: &str = "[[copies]]\nname = \"vf\"\nleader = \"lead\"\nfollower = \"me\"\n\
                    mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n";

async fn pair() -> Pair {
    pair_every(2).await
}

/// As [`pair`], reconciling every `secs` seconds.
async fn pair_every(secs: u32) -> Pair {
    let p = Pair::new(
        "10000",
        &format!("[engine]\nreconcile_secs = {secs}\n\n"),
        COPY,
    )
    .await;
    p.sim.price("ETHUSDT", "2500").await;
    p.leader_leverage("BTCUSDT", "5").await;
    p.leader_leverage("ETHUSDT", "5").await;
    p
}

async fn fault(p: &Pair, body: Value) {
    p.sim
        .admin(Method::POST, "/admin/v1/faults", Some(body))
        .await
        .ok("fault armed");
}

/// `POST /fapi/v1/order` requests the simulator counted for the follower (refusals made
/// by an injected fault are not counted: they never reached the order book).
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

async fn holds(p: &Pair, symbol: &str, qty: rust_decimal::Decimal) {
    let (sim, me) = (&p.sim, &p.me);
    eventually(&format!("the follower holds {qty} {symbol}"), || async {
        let got = amount(sim, &me.account_id, symbol).await;
        (got == qty).then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_and_then_a_ban_hold_the_copy_until_the_venue_s_wait_is_over() {
    // Reconciliation at its default interval: a pass inside the ban would find the leader
    // unreadable and hold the copy for that reason too (rightly), which is not this test.
    let p = pair_every(30).await;
    let mut engine = p.start().await;
    fault(
        &p,
        json!({"rejectNext": {"count": 1, "code": -1003, "status": 429,
            "msg": "Too many requests; current limit is 2400 requests per minute.",
            "path": "/fapi/v1/order", "apiKey": p.me.key, "retryAfterS": 2}}),
    )
    .await;
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens BTC");
    engine
        .wait_kind(NotifyKind::Held, None, Some("vf"), "a 429 holds the copy")
        .await;
    engine
        .wait_kind(
            NotifyKind::Released,
            None,
            Some("vf"),
            "the hold lifts after the wait",
        )
        .await;
    fault(
        &p,
        json!({"rejectNext": {"count": 1, "code": -1003, "status": 418,
            "msg": "Way too many requests; IP banned.", "path": "/fapi/v1/order", "apiKey": p.me.key,
            "retryAfterS": 3}}),
    )
    .await;
    p.lead
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader opens ETH");
    engine
        .wait_kind_count(
            NotifyKind::Held,
            None,
            Some("vf"),
            2,
            "a 418 ban holds the copy",
        )
        .await;
    engine
        .wait_kind_count(NotifyKind::Released, None, Some("vf"), 2, "the ban ends")
        .await;
    let out = engine.output();
    assert!(
        out.contains("rate_limit") && out.contains("429") && out.contains("418"),
        "the holds say the venue's rate limit and its ban:\n{out}"
    );
    // Nothing was placed by the refused requests, and copying goes on after the ban.
    assert_eq!(
        follower_orders(&p).await,
        0,
        "the refused opens placed nothing"
    );
    p.lead
        .market("BTCUSDT", "SELL", "0.1")
        .await
        .ok("leader closes BTC");
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens BTC again");
    holds(&p, "BTCUSDT", dec!(0.010)).await;
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insufficient_margin_skips_the_open_with_the_numbers_and_never_retries_it() {
    let p = pair().await;
    let mut engine = p.start().await;
    fault(
        &p,
        json!({"rejectNext": {"count": 1, "code": -2019, "status": 400,
            "msg": "Margin is insufficient.", "path": "/fapi/v1/order", "apiKey": p.me.key}}),
    )
    .await;
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens BTC");
    engine
        .wait_kind(
            NotifyKind::Skip,
            Some(NoticeKind::InsufficientFunds),
            Some("vf"),
            "-2019 skips the open",
        )
        .await;
    let out = engine.output();
    assert!(
        out.contains("-2019")
            && out.contains("needs about 100 USDT at 5x")
            && out.contains("available"),
        "the skip gives the margin needed and the balance available:\n{out}"
    );
    // A later copied open (and the reconciliations meanwhile, every 2 s) later, the
    // refused one was never sent again.
    p.lead
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader opens ETH");
    holds(&p, "ETHUSDT", dec!(0.1)).await;
    assert_eq!(follower_orders(&p).await, 1, "only the ETH open was placed");
    assert!(amount(&p.sim, &p.me.account_id, "BTCUSDT").await.is_zero());
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_is_resynced_and_the_order_goes_once() {
    let p = pair().await;
    let mut engine = p.start().await;
    // The venue's clock runs 10 s ahead: every signed request is outside the window.
    fault(&p, json!({"clockShiftMs": 10_000})).await;
    // The leader's own order allows for the shift with a wide receive window.
    p.lead
        .post(
            "/fapi/v1/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "0.1"),
                ("recvWindow", "60000"),
            ],
        )
        .await
        .ok("leader opens BTC");
    holds(&p, "BTCUSDT", dec!(0.010)).await;
    assert_eq!(follower_orders(&p).await, 1, "one order, sent once");
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_listen_key_reconnects_resyncs_and_copying_goes_on() {
    let p = pair().await;
    let mut engine = p.start().await;
    // The follower's key is the one the engine streams on (the venue returns the active
    // key); closing it sends `listenKeyExpired` to the engine's socket.
    let key = p.me.listen_key().await;
    let mut url = format!("{}/fapi/v1/listenKey", p.me.base);
    url.push_str(&format!("?listenKey={key}"));
    p.me.http
        .delete(url)
        .header("X-MBX-APIKEY", &p.me.key)
        .send()
        .await
        .expect("listenKey closed");
    engine
        .wait_kind(
            NotifyKind::Disconnected,
            None,
            Some("vf"),
            "the expiry is seen",
        )
        .await;
    engine
        .wait_line("after follower reconnect", "a resync after the reconnect")
        .await;
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens BTC");
    holds(&p, "BTCUSDT", dec!(0.010)).await;
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_while_running_stops_the_copy_and_names_the_key() {
    let p = pair().await;
    let mut engine = p.start().await;
    p.lead
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader opens ETH");
    holds(&p, "ETHUSDT", dec!(0.1)).await;
    fault(&p, json!({"revokeApiKey": p.me.key})).await;
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens BTC");
    engine
        .wait_kind(NotifyKind::Stopped, None, Some("vf"), "the copy stops")
        .await;
    let out = engine.output();
    assert!(
        out.contains("API key of `me`") && out.contains("-2015"),
        "the stop names the refused key and the venue's code:\n{out}"
    );
    // Stopped safely: the position it held is left with the venue (its stop included),
    // and nothing more is copied.
    fault(&p, json!({"clear": true})).await;
    p.lead
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader adds ETH");
    p.lead
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader adds BTC");
    engine.interrupt();
    assert_eq!(amount(&p.sim, &p.me.account_id, "ETHUSDT").await, dec!(0.1));
    assert!(amount(&p.sim, &p.me.account_id, "BTCUSDT").await.is_zero());
    let v = p.sim.admin_account(&p.me.account_id).await;
    assert_eq!(
        v["openAlgoOrders"].as_array().map_or(0, |a| a.len()),
        1,
        "the ETH position keeps its protective stop: {v}"
    );
}
