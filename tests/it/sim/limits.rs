//! Rate limits (weight, order counts, 429 then 418) and injected REST faults.

use copydesk::sim::{LimitConfig, SimConfig};
use reqwest::Method;
use serde_json::json;

use super::support::{start, start_with};

#[tokio::test]
async fn weight_is_reported_then_429_then_418() {
    let sim = start_with(SimConfig {
        limits: LimitConfig {
            weight_per_minute: 20,
            violations_before_ban: 2,
            ..LimitConfig::default()
        },
        ..SimConfig::default()
    })
    .await;
    let r = sim.public("/fapi/v1/premiumIndex", "").await;
    assert_eq!(r.weight, Some(10), "premiumIndex without symbol weighs 10");
    let r = sim.public("/fapi/v1/premiumIndex", "symbol=BTCUSDT").await;
    assert_eq!(r.weight, Some(11), "with a symbol it weighs 1");
    for _ in 0..9 {
        sim.public("/fapi/v1/time", "").await.ok("up to 20 of 20");
    }
    let r = sim.public("/fapi/v1/time", "").await;
    r.assert_error(-1003, 429, "over the weight limit");
    assert_eq!(r.weight, Some(21), "the header still reports the weight");
    assert!(
        r.retry_after.is_some_and(|s| (1..=60).contains(&s)),
        "429 says when the minute ends: {:?}",
        r.retry_after
    );
    sim.public("/fapi/v1/time", "")
        .await
        .assert_error(-1003, 429, "second violation");
    let r = sim.public("/fapi/v1/time", "").await;
    r.assert_error(-1003, 418, "banned after repeated violations");
    assert_eq!(
        r.retry_after,
        Some(120),
        "418 says the ban lasts two minutes"
    );
    sim.advance(60_000).await;
    sim.public("/fapi/v1/time", "")
        .await
        .assert_error(-1003, 418, "the ban outlasts the minute");
    sim.advance(120_000).await;
    sim.public("/fapi/v1/time", "")
        .await
        .ok("ban lifted after two minutes");
}

#[tokio::test]
async fn order_counts_are_limited_per_account() {
    let sim = start_with(SimConfig {
        limits: LimitConfig {
            orders_per_10s: 3,
            ..LimitConfig::default()
        },
        ..SimConfig::default()
    })
    .await;
    let c = sim.usdt("100000").await;
    for i in 1..=3 {
        let r = c.limit("BTCUSDT", "BUY", "0.010", "45000", "GTC").await;
        assert_eq!(r.status, 200, "order {i} within the limit");
    }
    let r = c.limit("BTCUSDT", "BUY", "0.010", "45000", "GTC").await;
    r.assert_error(-1015, 429, "fourth order in 10 s");
    let other = sim.usdt("100000").await;
    other
        .limit("BTCUSDT", "BUY", "0.010", "45000", "GTC")
        .await
        .ok("another account has its own count");
    sim.advance(10_000).await;
    c.limit("BTCUSDT", "BUY", "0.010", "45000", "GTC")
        .await
        .ok("a new 10 s window");
}

#[tokio::test]
async fn order_count_headers_are_sent() {
    let sim = start().await;
    let c = sim.usdt("100000").await;
    let r = c
        .http
        .post(format!("{}/fapi/v1/order", c.base))
        .header("X-MBX-APIKEY", &c.key)
        .send()
        .await
        .expect("sent");
    assert!(
        r.headers().get("x-mbx-used-weight-1m").is_some(),
        "weight header on a rejection too"
    );
    let ts = super::support::now_ms().to_string();
    let p = super::support::encode(&[
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("quantity", "0.010"),
        ("price", "45000"),
        ("timeInForce", "GTC"),
        ("timestamp", &ts),
    ]);
    let sig = super::support::hmac_hex(&c.secret, &p);
    let r = c
        .http
        .post(format!("{}/fapi/v1/order", c.base))
        .header("X-MBX-APIKEY", &c.key)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("{p}&signature={sig}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        r.headers()
            .get("x-mbx-order-count-10s")
            .and_then(|v| v.to_str().ok()),
        Some("1"),
        "10 s order count"
    );
    assert_eq!(
        r.headers()
            .get("x-mbx-order-count-1m")
            .and_then(|v| v.to_str().ok()),
        Some("1"),
        "1 min order count"
    );
}

#[tokio::test]
async fn injected_rejections_latency_and_clock_shift() {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"rejectNext": {"count": 2, "code": -1008, "status": 503}})),
    )
    .await
    .ok("inject");
    c.get("/fapi/v3/account", &[])
        .await
        .assert_error(-1008, 503, "first injected rejection");
    sim.public("/fapi/v1/time", "")
        .await
        .assert_error(-1008, 503, "second injected rejection");
    c.get("/fapi/v3/account", &[])
        .await
        .ok("third request passes");

    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"clockShiftMs": 10_000})),
    )
    .await
    .ok("shift");
    let t = sim.public("/fapi/v1/time", "").await.ok("time");
    let shift = t["serverTime"].as_i64().expect("serverTime") - super::support::now_ms();
    assert!(
        shift >= 9_000,
        "server time is shifted ahead by about 10 s (got {shift})"
    );
    c.get("/fapi/v3/account", &[]).await.assert_error(
        -1021,
        400,
        "local timestamps now look stale",
    );
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"clear": true})),
    )
    .await
    .ok("clear");
    c.get("/fapi/v3/account", &[]).await.ok("cleared");
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"latencyMs": 50, "ackDelayMs": 50})),
    )
    .await
    .ok("latency");
    c.market("BTCUSDT", "BUY", "0.010")
        .await
        .ok("slow but fine");
    sim.admin(Method::POST, "/admin/v1/faults", Some(json!({"bogus": 1})))
        .await
        .assert_error(-1102, 400, "unknown fault field");
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"latencyMs": 10_000_000})),
    )
    .await
    .assert_error(-1102, 400, "absurd latency");
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"rejectNext": {"count": 1, "status": 200}})),
    )
    .await
    .assert_error(-1102, 400, "a rejection must be an error status");
}
