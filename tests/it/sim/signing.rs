//! Key, signature, timestamp and permission checks over real HTTP.

use reqwest::Method;
use serde_json::json;

use super::support::{encode, hmac_hex, now_ms, start};

#[tokio::test]
async fn signed_requests_verify_in_query_body_and_mixed() {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    c.get("/fapi/v3/account", &[]).await.ok("query-signed GET");
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "5")],
    )
    .await
    .ok("body-signed POST");

    // Mixed: half in the query, half in the body; the signature covers query ++ body.
    let ts = now_ms().to_string();
    let query = "symbol=BTCUSDT";
    let body = format!("leverage=7&timestamp={ts}");
    let sig = hmac_hex(&c.secret, &format!("{query}{body}"));
    let r = c
        .http
        .post(format!("{}/fapi/v1/leverage?{query}", c.base))
        .header("X-MBX-APIKEY", &c.key)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("{body}&signature={sig}"))
        .send()
        .await
        .expect("mixed request sent");
    assert_eq!(r.status(), 200, "mixed query+body signature should verify");
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(
        v["leverage"],
        json!(7),
        "leverage set from the body parameter"
    );
}

#[tokio::test]
async fn percent_encoded_client_ids_verify_over_the_raw_bytes() {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    // `:` and `/` are percent-encoded on the wire; the signature covers the encoded bytes.
    let r = c
        .post(
            "/fapi/v1/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("quantity", "0.010"),
                ("price", "45000"),
                ("timeInForce", "GTC"),
                ("newClientOrderId", "copy:1/a"),
            ],
        )
        .await
        .ok("order with encoded client id");
    assert_eq!(
        r["clientOrderId"],
        json!("copy:1/a"),
        "client id decoded after verification"
    );
}

#[tokio::test]
async fn a_wrong_signature_is_1022() {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    let payload = encode(&[("timestamp", &now_ms().to_string())]);
    let sig = hmac_hex("not-the-secret", &payload);
    c.raw(
        Method::GET,
        "/fapi/v3/account",
        &format!("{payload}&signature={sig}"),
    )
    .await
    .assert_error(-1022, 400, "signature under the wrong secret");
}

#[tokio::test]
async fn a_missing_signature_or_timestamp_is_1102() {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    let r = c
        .raw(
            Method::GET,
            "/fapi/v3/account",
            &format!("timestamp={}", now_ms()),
        )
        .await;
    r.assert_error(-1102, 400, "no signature");
    let sig = hmac_hex(&c.secret, "recvWindow=5000");
    let r = c
        .raw(
            Method::GET,
            "/fapi/v3/account",
            &format!("recvWindow=5000&signature={sig}"),
        )
        .await;
    r.assert_error(-1102, 400, "no timestamp");
}

#[tokio::test]
async fn stale_and_future_timestamps_are_1021() {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    for (ts, what) in [
        (now_ms() - 6000, "6 s old with recvWindow 5000"),
        (now_ms() + 5000, "5 s ahead"),
    ] {
        let payload = encode(&[("timestamp", &ts.to_string())]);
        let sig = hmac_hex(&c.secret, &payload);
        c.raw(
            Method::GET,
            "/fapi/v3/account",
            &format!("{payload}&signature={sig}"),
        )
        .await
        .assert_error(-1021, 400, what);
    }
    // A wider recvWindow admits the old timestamp.
    let payload = encode(&[
        ("recvWindow", "10000"),
        ("timestamp", &(now_ms() - 6000).to_string()),
    ]);
    let sig = hmac_hex(&c.secret, &payload);
    c.raw(
        Method::GET,
        "/fapi/v3/account",
        &format!("{payload}&signature={sig}"),
    )
    .await
    .ok("6 s old within recvWindow 10000");
}

#[tokio::test]
async fn bad_and_unknown_keys_are_401() {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    let url = format!("{}/fapi/v3/account?timestamp=1&signature=00", sim.base());
    let r = sim.http.get(&url).send().await.expect("sent");
    assert_eq!(r.status(), 401, "no API key should be 401");
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["code"], json!(-2014), "missing key is -2014");

    let mut other = c.clone();
    other.key = "A".repeat(64);
    other
        .get("/fapi/v3/account", &[])
        .await
        .assert_error(-2015, 401, "unknown key");
    let r = c
        .http
        .post(format!("{}/fapi/v1/listenKey", c.base))
        .header("X-MBX-APIKEY", "bad key!")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 401, "malformed key on listenKey should be 401");
}

#[tokio::test]
async fn a_key_without_futures_is_refused_but_reads_its_restrictions() {
    let sim = start().await;
    let c = sim
        .account(json!({"balances": {"USDT": "100"}, "permissions": {"futures": false, "withdrawals": true, "ipRestricted": true}}))
        .await;
    c.get("/fapi/v3/account", &[])
        .await
        .assert_error(-2015, 401, "futures disabled");
    let v = c
        .get("/sapi/v1/account/apiRestrictions", &[])
        .await
        .ok("apiRestrictions");
    assert_eq!(v["enableFutures"], json!(false), "reports futures off");
    assert_eq!(
        v["enableWithdrawals"],
        json!(true),
        "reports withdrawals on"
    );
    assert_eq!(v["ipRestrict"], json!(true), "reports the IP restriction");
    super::shape::assert_shape("http_api_restrictions", &v);
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let sim = start().await;
    let c = sim
        .account(json!({"balances": {"USDT": "100"}, "permissions": {"futures": true, "expiresAt": now_ms() + 60_000}}))
        .await;
    c.get("/fapi/v3/account", &[])
        .await
        .ok("valid before expiry");
    sim.advance(120_000).await;
    c.get("/fapi/v3/account", &[])
        .await
        .assert_error(-2015, 401, "trading authority expired");
}
